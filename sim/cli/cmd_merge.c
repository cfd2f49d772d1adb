#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../io/sweep_h5.h"
#include "cli.h"

void pds_cli_print_sobol(const char *merged)
{
    pds_sweep_indices ix;
    if (pds_sweep_indices_read(merged, &ix) != 0)
        return;
    for (size_t o = 0; o < ix.n_outputs; o++) {
        printf("Sobol indices of %s (95%% bootstrap intervals, %lld resamples drawn):\n",
               ix.outputs[o], (long long)ix.bootstrap);
        printf("  %-40s %-26s %-26s%s\n", "parameter", "first order", "total",
               ix.used ? " resamples used (first, total)" : "");
        for (size_t p = 0; p < ix.n_params; p++) {
            const double *f = ix.first + (o * ix.n_params + p) * 3;
            const double *t = ix.total + (o * ix.n_params + p) * 3;
            printf("  %-40s %6.3f [%6.3f, %6.3f]   %6.3f [%6.3f, %6.3f]", ix.params[p], f[0],
                   f[1], f[2], t[0], t[1], t[2]);
            if (ix.used)
                printf("   %llu, %llu",
                       (unsigned long long)ix.used[(o * ix.n_params + p) * 2],
                       (unsigned long long)ix.used[(o * ix.n_params + p) * 2 + 1]);
            putchar('\n');
        }
    }
    pds_sweep_indices_free(&ix);
}

int pds_cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "merge", argv);
        }
    }
    if (optind >= argc || !out) {
        fprintf(stderr, "pdsim: error: usage: pdsim merge DIR|PART.h5... -o OUT.h5\n");
        return 2;
    }
    pds_diag diag;
    pds_diag_init(&diag);
    pds_status st =
        pds_sweep_merge((const char *const *)(argv + optind), (size_t)(argc - optind), out, &diag);
    pds_cli_print_diag(&diag);
    pds_diag_free(&diag);
    if (st == PDS_OK && !quiet) {
        pds_cli_print_sobol(out);
        printf("merged into %s\n", out);
    }
    return pds_cli_exit(st);
}
