#include "../io/h5util.h"
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pds_version.h"

/* Levenshtein distance, for "did you mean" (short words only). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[32];
    if (la > 30 || lb > 30)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        d[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = d[0];
        d[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t t = d[j], sub = prev + (a[i - 1] != b[j - 1]);
            size_t best = d[j] + 1 < d[j - 1] + 1 ? d[j] + 1 : d[j - 1] + 1;
            d[j] = sub < best ? sub : best;
            prev = t;
        }
    }
    return d[lb];
}

int main(int argc, char **argv)
{
    /* HDF5 1.10 crashes in its exit handler on a file whose close failed
     * (disk full); every command closes its files itself */
    pds_h5_init();
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
    if (strcmp(verb, "calibrate") == 0)
        return pds_cmd_calibrate(argc - 1, argv + 1);
    if (strcmp(verb, "study") == 0)
        return pds_cmd_study(argc - 1, argv + 1);
    if (strcmp(verb, "merge") == 0)
        return pds_cmd_merge(argc - 1, argv + 1);
    static const char *const verbs[] = {"run",     "validate", "fit",   "compare", "describe",
                                        "summary", "report",   "backtest", "sweep", "merge",
                                        "study",   "calibrate", "help"};
    const char *near = NULL;
    size_t best = 3;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        size_t dist = edit_distance(verb, verbs[i]);
        if (dist < best && dist <= (strlen(verbs[i]) > 4 ? 2u : 1u)) {
            best = dist;
            near = verbs[i];
        }
    }
    if (near)
        fprintf(stderr, "pdsim: unknown command '%s'; did you mean '%s'? (pdsim help lists them)\n",
                verb, near);
    else
        fprintf(stderr, "pdsim: unknown command '%s'; try 'pdsim help'\n", verb);
    return 2;
}
