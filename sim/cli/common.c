#include <stdio.h>

#include "cli.h"

void pds_cli_print_diag(const pds_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "pdsim: error: %s\n", d->msgs[i]);
    if (d->dropped)
        fprintf(stderr, "pdsim: error: ... and %zu more\n", d->dropped);
}

int pds_cli_exit(pds_status st)
{
    return st == PDS_OK ? 0 : st == PDS_ERR_INPUT ? 2 : 1;
}
