#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/resultread.h"
#include "cli.h"

/* The summaries of a finished run file, read whole (they are small: units x
 * years), and tidy CSV files made from them. See docs/report.md. */

/* The summaries of path, the messages printed: 0, or the exit status. */
static int open_tables(const char *path, pds_runtables *f)
{
    pds_diag d;
    pds_diag_init(&d);
    int rc = pds_cli_exit(pds_runtables_open(path, f, &d));
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return rc;
}

/* The tables of pdsim run, from the summaries the run stored. */
static int print_table(const pds_runtables *f)
{
    printf("%s: %llu runs, seed %llu, simulating %lld..%lld\n", f->h.path,
           (unsigned long long)f->h.n_runs, (unsigned long long)f->h.seed,
           (long long)f->h.first_year, (long long)f->h.last_year);
    int *observed = malloc((f->U + 1) * sizeof *observed);
    if (!observed) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    for (size_t u = 0; u < f->U; u++)
        observed[u] = f->observed[u];
    pds_cli_forecast_view v = {.n_units = f->U,
                               .codes = (const char *const *)f->h.codes,
                               .names = (const char *const *)f->name,
                               .observed = observed,
                               .base_year = (long)f->h.base_year,
                               .last_year = (int)f->h.last_year,
                               .report_years = f->report_years,
                               .n_report_years = f->n_report_years};
    pds_cli_print_forecast(&v, f->sum);
    free(observed);
    return 0;
}

int pds_cmd_summary(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"bom", no_argument, NULL, 'b'},
        {"runs", no_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"replace", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int bom = 0, runs = 0, quiet = 0, replace = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 'b':
            bom = 1;
            break;
        case 'r':
            runs = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'F':
            replace = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "summary", argv);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "pdsim: error: expected one result file; usage: pdsim summary OUT.h5 "
                        "[--csv DIR] [--bom] [--runs] [--replace] [-q]\n");
        return 2;
    }
    if ((bom || runs || replace) && !dir) {
        fprintf(
            stderr,
            "pdsim: error: --bom, --runs and --replace apply to the CSV files: add --csv DIR\n");
        return 2;
    }
    if (pds_cli_is_sweep(argv[optind])) {
        if (runs) {
            fprintf(stderr,
                    "pdsim: error: %s: --runs applies to run files; a sweep keeps no "
                    "runs\n",
                    argv[optind]);
            return 2;
        }
        return pds_cli_sweep_summary(argv[optind], dir, bom, quiet);
    }
    pds_runtables f;
    int rc;
    pds_h5_quiet hq;
    pds_h5_quiet_begin(&hq);
    {
        rc = open_tables(argv[optind], &f);
        if (rc == 0 && !quiet)
            rc = print_table(&f);
        if (rc == 0 && !quiet) {
            pds_insample q;
            char prov[4096];
            pds_h5result_reliability(&f.h, &q, prov, sizeof prov);
            int n_models = pds_h5result_has(&f.h, "/runs/model") ? 2 : 1;
            pds_backtest_reliability bt;
            pds_h5result_backtest(&f.h, &bt);
            pds_cli_print_reliability(&q, &bt, prov, f.h.uncertainty, (size_t)n_models);
        }
        if (rc == 0 && dir)
            rc = pds_cli_write_run_csvs(&f, dir, bom, runs, replace);
        pds_runtables_close(&f);
    }
    pds_h5_quiet_end(&hq);
    return rc;
}
