#include <stdio.h>

#include "cli.h"

int pds_cmd_compare(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "pdsim: compare is not available yet\n");
    return 1;
}
