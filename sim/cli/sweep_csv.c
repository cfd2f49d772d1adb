/* pdsim summary of a merged sweep file: a short table on stdout, and with
 * --csv DIR tidy CSV files: points.csv (one row per design point: its
 * parameter values and outputs), point_year.csv (one row per point and
 * year: mean and quantiles of the national count) and, for Sobol designs,
 * sobol_indices.csv (one row per output and parameter). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/summary.h"
#include "../io/h5out.h"
#include "../io/resultread.h"
#include "../io/sweep_h5.h"
#include "cli.h"

/* The shortest decimal text that reads back as exactly x (NaN as empty). */
static void put_num(FILE *out, double x)
{
    if (x != x)
        return;
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    fputs(buf, out);
}


/* The files written so far, closed under their temporary names: renamed
 * into place together once all are written (install_set), so that a
 * failure half-way leaves the folder's earlier set as it was. */
typedef struct csvset {
    pds_outfile v[4];
    size_t n;
} csvset;

static int install_set(csvset *set, int ok)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_commit_set(set->v, set->n, ok, &d);
    set->n = 0;
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(st);
}

typedef struct csvfile {
    pds_outfile o;
    FILE *f;
    csvset *set; /* where it goes when closed */
} csvfile;

/* Written under a temporary name (sim/io/outfile.h), kept for install_set. */
static int csv_open(csvfile *c, const char *dir, const char *name, int bom, const pds_inset *in)
{
    int rc = pds_cli_csv_begin(&c->o, dir, name, bom, NULL, in);
    c->f = c->o.f;
    return rc;
}

static int csv_close(csvfile *c)
{
    c->f = NULL;
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_close(&c->o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (st == PDS_OK)
        c->set->v[c->set->n++] = c->o;
    memset(&c->o, 0, sizeof c->o);
    return pds_cli_exit(st);
}

static int write_points(const pds_sweepfile *s, const char *dir, int bom, const pds_inset *in,
                        csvset *set)
{
    csvfile c = {.set = set};
    int brc = csv_open(&c, dir, "points.csv", bom, in);
    if (brc)
        return brc;
    FILE *f = c.f;
    fputs("point,seed", f);
    for (size_t p = 0; p < s->P; p++) {
        fputc(',', f);
        pds_cli_csv_field(f, s->names[p]);
    }
    fputs(",p_all_adopted", f);
    for (size_t k = 0; k < s->Y; k++)
        fprintf(f, ",national_adopted_%lld", (long long)(s->first_year + (int64_t)k));
    for (size_t u = 0; u < s->U; u++) {
        char col[300];
        snprintf(col, sizeof col, "median_year_%s", s->codes[u]);
        fputc(',', f);
        pds_cli_csv_field(f, col);
    }
    fputc('\n', f);
    for (size_t i = 0; i < s->n_points; i++) {
        fprintf(f, "%zu,%llu", i, (unsigned long long)s->seed[i]);
        for (size_t p = 0; p < s->P; p++) {
            fputc(',', f);
            put_num(f, s->points[i * s->P + p]);
        }
        fputc(',', f);
        put_num(f, s->p_all[i]);
        for (size_t k = 0; k < s->Y; k++) {
            fputc(',', f);
            put_num(f, s->mean[i * s->Y + k]);
        }
        for (size_t u = 0; u < s->U; u++) {
            fputc(',', f);
            put_num(f, s->median[i * s->U + u]);
        }
        fputc('\n', f);
    }
    return csv_close(&c);
}

static int write_point_year(const pds_sweepfile *s, const char *dir, int bom, const pds_inset *in,
                            csvset *set)
{
    csvfile c = {.set = set};
    int brc = csv_open(&c, dir, "point_year.csv", bom, in);
    if (brc)
        return brc;
    FILE *f = c.f;
    fputs("point,year,national_adopted_mean", f);
    for (size_t q = 0; q < s->Q; q++)
        fprintf(f, ",q%02.0f", s->levels[q] * 100.0);
    fputc('\n', f);
    for (size_t i = 0; i < s->n_points; i++)
        for (size_t k = 0; k < s->Y; k++) {
            fprintf(f, "%zu,%lld,", i, (long long)(s->first_year + (int64_t)k));
            put_num(f, s->mean[i * s->Y + k]);
            for (size_t q = 0; q < s->Q; q++) {
                fputc(',', f);
                put_num(f, s->quant[(i * s->Q + q) * s->Y + k]);
            }
            fputc('\n', f);
        }
    return csv_close(&c);
}

static int write_indices(const char *path, const char *dir, int bom, const pds_inset *in,
                         csvset *set)
{
    pds_sweep_indices ix;
    if (pds_sweep_indices_read(path, &ix) != 0) {
        fprintf(stderr, "pdsim: error: %s: a Sobol sweep whose indices cannot be read\n", path);
        return 2;
    }
    csvfile c = {.set = set};
    int rc = csv_open(&c, dir, "sobol_indices.csv", bom, in);
    if (rc == 0) {
        fputs("output,parameter,first_order,first_order_low,first_order_high,total,total_low,"
              "total_high\n",
              c.f);
        for (size_t o = 0; o < ix.n_outputs; o++)
            for (size_t p = 0; p < ix.n_params; p++) {
                pds_cli_csv_field(c.f, ix.outputs[o]);
                fputc(',', c.f);
                pds_cli_csv_field(c.f, ix.params[p]);
                const double *v[2] = {ix.first + (o * ix.n_params + p) * 3,
                                      ix.total + (o * ix.n_params + p) * 3};
                for (int t = 0; t < 2; t++)
                    for (int j = 0; j < 3; j++) {
                        fputc(',', c.f);
                        put_num(c.f, v[t][j]);
                    }
                fputc('\n', c.f);
            }
        rc = csv_close(&c);
    }
    pds_sweep_indices_free(&ix);
    return rc;
}

int pds_cli_is_sweep(const char *path)
{
    pds_file_kind k = pds_h5_file_kind(path);
    return k == PDS_FILE_SWEEP || k == PDS_FILE_PART;
}

int pds_cli_sweep_summary(const char *path, const char *dir, int bom, int quiet)
{
    pds_sweepfile s;
    int rc;
    pds_diag d;
    pds_diag_init(&d);
    pds_h5_quiet hq;
    pds_h5_quiet_begin(&hq);
    rc = pds_cli_exit(pds_sweepfile_read(path, &s, &d));
    pds_h5_quiet_end(&hq);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (rc)
        return rc;
    int sobol = strcmp(s.design, "sobol") == 0;
    if (!quiet) {
        printf("sweep %s: design %s, %llu points x %llu runs, years %lld-%lld\n", path, s.design,
               (unsigned long long)s.n_points, (unsigned long long)s.runs, (long long)s.first_year,
               (long long)s.last_year);
        printf("  %-40s %12s %12s %14s\n", "parameter", "min", "max", "distinct values");
        for (size_t p = 0; p < s.P; p++) {
            double lo = s.points[p], hi = lo, vals[51];
            size_t distinct = 0;
            for (size_t i = 0; i < s.n_points; i++) {
                double v = s.points[i * s.P + p];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
                int seen = 0;
                for (size_t j = 0; j < distinct && !seen; j++)
                    seen = vals[j] == v;
                if (!seen && distinct <= 50)
                    vals[distinct++] = v;
            }
            char dv[16];
            snprintf(dv, sizeof dv, distinct > 50 ? "> 50" : "%zu", distinct);
            printf("  %-40s %12.6g %12.6g %14s\n", s.names[p], lo, hi, dv);
        }
        double mlo = s.mean[s.Y - 1], mhi = mlo;
        for (size_t i = 0; i < s.n_points; i++) {
            double v = s.mean[i * s.Y + s.Y - 1];
            mlo = v < mlo ? v : mlo;
            mhi = v > mhi ? v : mhi;
        }
        printf("mean units adopted by %lld over the points: %.3f to %.3f\n", (long long)s.last_year,
               mlo, mhi);
        if (sobol)
            pds_cli_print_sobol(path);
    }
    if (dir) {
        pds_inset in;
        pds_inset_init(&in);
        csvset set = {.n = 0};
        rc = pds_inset_add(&in, path) != 0;
        if (rc == 0)
            rc = pds_cli_make_dir(dir);
        if (rc == 0)
            rc = write_points(&s, dir, bom, &in, &set);
        if (rc == 0)
            rc = write_point_year(&s, dir, bom, &in, &set);
        if (rc == 0 && sobol) {
            pds_h5_quiet_begin(&hq);
            rc = write_indices(path, dir, bom, &in, &set);
            pds_h5_quiet_end(&hq);
        }
        if (rc == 0 && !sobol) {
            /* the indices of an earlier Sobol sweep do not belong to this set */
            char p[4200];
            struct stat st;
            snprintf(p, sizeof p, "%s/sobol_indices.csv", dir);
            if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(p) != 0) {
                fprintf(stderr, "pdsim: error: %s: cannot remove the earlier set's file (%s)\n",
                        p, strerror(errno));
                rc = 1;
            }
        }
        int irc = install_set(&set, rc == 0);
        rc = rc ? rc : irc;
        pds_inset_free(&in);
        if (rc == 0 && !quiet)
            printf("CSV files in %s: points.csv, point_year.csv%s\n", dir,
                   sobol ? ", sobol_indices.csv" : "");
    }
    pds_sweepfile_free(&s);
    return rc;
}
