#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pds_version.h"

int main(int argc, char **argv)
{
    /* HDF5 1.10 crashes in its exit handler on a file whose close failed
     * (disk full); every command closes its files itself */
    H5dont_atexit();
    if (argc < 2) {
        pds_cmd_help(0, NULL);
        return 2;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "--version") == 0 || strcmp(verb, "version") == 0) {
        printf("pdsim %s (%s, %s)\n", PDS_VERSION, PDS_GIT_REVISION, PDS_COMPILER);
        return 0;
    }
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0)
        return pds_cmd_help(argc - 2, argv + 2);
    if (strcmp(verb, "run") == 0)
        return pds_cmd_run(argc - 1, argv + 1);
    if (strcmp(verb, "compare") == 0)
        return pds_cmd_compare(argc - 1, argv + 1);
    if (strcmp(verb, "fit") == 0)
        return pds_cmd_fit(argc - 1, argv + 1);
    if (strcmp(verb, "describe") == 0)
        return pds_cmd_describe(argc - 1, argv + 1);
    if (strcmp(verb, "backtest") == 0)
        return pds_cmd_backtest(argc - 1, argv + 1);
    if (strcmp(verb, "validate") == 0)
        return pds_cmd_validate(argc - 1, argv + 1);
    if (strcmp(verb, "summary") == 0)
        return pds_cmd_summary(argc - 1, argv + 1);
    if (strcmp(verb, "report") == 0)
        return pds_cmd_report(argc - 1, argv + 1);
    if (strcmp(verb, "sweep") == 0)
        return pds_cmd_sweep(argc - 1, argv + 1);
    if (strcmp(verb, "merge") == 0)
        return pds_cmd_merge(argc - 1, argv + 1);
    fprintf(stderr, "pdsim: unknown command '%s'; try 'pdsim help'\n", verb);
    return 2;
}
