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

/* The year by whose end the unit has adopted with probability at least q:
 * the q-quantile of its adoption year; 0 when that is after last_year. */
static int year_quantile(const pds_runtables *f, size_t u, double q)
{
    for (size_t k = 0; k < f->Y; k++)
        if (f->p[u * f->Y + k] >= q)
            return f->years[k];
    return 0;
}

static void print_table(const pds_runtables *f)
{
    int last = (int)f->h.last_year, base = (int)f->h.base_year;
    size_t n_obs = 0;
    for (size_t u = 0; u < f->U; u++)
        n_obs += f->observed[u] != 0 && f->observed[u] <= base;
    printf("%s: %llu runs, seed %llu, simulating %lld..%d\n", f->h.path,
           (unsigned long long)f->h.n_runs, (unsigned long long)f->h.seed,
           (long long)f->h.first_year, last);
    printf("%zu of %zu units adopted by %d (observed)\n\n", n_obs, f->U, base);
    pds_cli_print_padded("code", 9);
    pds_cli_print_padded("median", 8);
    pds_cli_print_padded("10\u201390%", 14);
    printf("%8s\n", "P(last)");
    for (size_t u = 0; u < f->U; u++) {
        if (f->observed[u] != 0 && f->observed[u] <= base)
            continue;
        char m[16], iv[40];
        pds_cli_year_text(m, sizeof m, year_quantile(f, u, 0.5), last);
        pds_cli_year_range(iv, sizeof iv, year_quantile(f, u, 0.1), year_quantile(f, u, 0.9), last);
        pds_cli_print_padded(f->h.codes[u], 9);
        pds_cli_print_padded(m, 8);
        pds_cli_print_padded(iv, 14);
        printf("%8.3f  %s\n", f->p[u * f->Y + f->Y - 1], f->name[u]);
    }
    printf("\nNational curve (units adopted by the end of each year):\n");
    printf("%-6s %8s", "year", "mean");
    for (size_t i = 0; i < f->Q; i++)
        printf(" %6g%%", 100.0 * f->levels[i]);
    putchar('\n');
    for (size_t k = 0; k < f->Y; k++) {
        printf("%-6d %8.2f", f->years[k], f->mean[k]);
        for (size_t i = 0; i < f->Q; i++)
            printf(" %7g", f->quant[i * f->Y + k]);
        putchar('\n');
    }
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
        if (rc == 0 && !quiet) {
            print_table(&f);
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
