/* The tidy CSV files of a finished run file (pdsim summary --csv, and the
 * csv folder of pdsim report). See docs/report.md. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/resultread.h"
#include "cli.h"

/* The shortest decimal text that reads back as exactly x, so that the CSV
 * round-trips to the HDF5 values without showing 0.10000000000000001. */
static void put_num(FILE *out, double x)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    fputs(buf, out);
}

/* A year, or an empty cell (NA in R and Stata) for 0: not adopted. */
static void put_year(FILE *out, int y)
{
    if (y)
        fprintf(out, "%d", y);
}

typedef struct csvout {
    const char *dir;
    int bom;
    const pds_inset *in; /* the result file: never overwritten */
    pds_outfile o;
    FILE *f;
    pds_outfile set[8]; /* written and closed, still under temporary names */
    size_t n_set;
} csvout;

/* Each file is written under a temporary name (sim/io/outfile.h) and kept
 * there until the whole set is written: then all are renamed into place
 * (install_set), so that a failure half-way leaves the folder's earlier
 * set as it was, not a mixture of the two. */
static int csv_begin(csvout *c, const char *name, const char *header)
{
    int rc = pds_cli_csv_begin(&c->o, c->dir, name, c->bom, header, c->in);
    c->f = c->o.f;
    return rc;
}

static int csv_end(csvout *c)
{
    c->f = NULL;
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_close(&c->o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (st == PDS_OK)
        c->set[c->n_set++] = c->o;
    memset(&c->o, 0, sizeof c->o);
    return pds_cli_exit(st);
}

/* Rename every file of the set into place (ok), or remove them all. */
static int install_set(csvout *c, int ok)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_commit_set(c->set, c->n_set, ok, &d);
    c->n_set = 0;
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(st);
}

static int write_provinces(csvout *c, const pds_runtables *f)
{
    int brc = csv_begin(c, "provinces.csv", "code,name,name_en,region,observed_adoption_year");
    if (brc)
        return brc;
    for (size_t u = 0; u < f->U; u++) {
        pds_cli_csv_field(c->f, f->h.codes[u]);
        fputc(',', c->f);
        pds_cli_csv_field(c->f, f->name[u]);
        fputc(',', c->f);
        pds_cli_csv_field(c->f, f->name_en[u]);
        fputc(',', c->f);
        pds_cli_csv_field(c->f, f->region[u]);
        fputc(',', c->f);
        put_year(c->f, f->observed[u]);
        fputc('\n', c->f);
    }
    return csv_end(c);
}

/* The forecast per unit, one row each: the median adoption year, the 10-90%
 * interval and P(adopted by each report year). */
static int write_forecast(csvout *c, const pds_runtables *f)
{
    char header[1024] = "code,name,name_en,region,status,observed_adoption_year,median_year,"
                        "q10_year,q90_year";
    for (size_t i = 0; i < f->n_report_years; i++) {
        char col[40];
        snprintf(col, sizeof col, ",p_adopted_by_%ld", f->report_years[i]);
        strncat(header, col, sizeof header - strlen(header) - 1);
    }
    int brc = csv_begin(c, "forecast.csv", header);
    if (brc)
        return brc;
    int base = (int)f->h.base_year;
    for (size_t u = 0; u < f->U; u++) {
        int oy = f->observed[u], obs = oy != 0 && oy <= base;
        const char *cells[4] = {f->h.codes[u], f->name[u], f->name_en[u], f->region[u]};
        for (int i = 0; i < 4; i++) {
            pds_cli_csv_field(c->f, cells[i]);
            fputc(',', c->f);
        }
        fputs(obs ? "observed," : "forecast,", c->f);
        put_year(c->f, obs ? oy : 0);
        const double q[3] = {0.5, 0.1, 0.9};
        for (int i = 0; i < 3; i++) {
            fputc(',', c->f);
            put_year(c->f, obs ? oy : pds_summary_unit_year_quantile(f->sum, u, q[i]));
        }
        for (size_t i = 0; i < f->n_report_years; i++) {
            fputc(',', c->f);
            put_num(c->f, f->p[u * f->Y + (size_t)(f->report_years[i] - f->h.first_year)]);
        }
        fputc('\n', c->f);
    }
    return csv_end(c);
}

static int write_province_year(csvout *c, const pds_runtables *f)
{
    int brc = csv_begin(c, "province_year.csv", "code,name,year,p_adopted");
    if (brc)
        return brc;
    for (size_t u = 0; u < f->U; u++)
        for (size_t k = 0; k < f->Y; k++) {
            pds_cli_csv_field(c->f, f->h.codes[u]);
            fputc(',', c->f);
            pds_cli_csv_field(c->f, f->name[u]);
            fprintf(c->f, ",%d,", f->years[k]);
            put_num(c->f, f->p[u * f->Y + k]);
            fputc('\n', c->f);
        }
    return csv_end(c);
}

static int write_national_year(csvout *c, const pds_runtables *f)
{
    /* quantile columns are named by their level: q05 .. q95 */
    char header[2048] = "year,mean";
    for (size_t i = 0; i < f->Q; i++) {
        char col[32];
        double pct = 100.0 * f->levels[i];
        if (pct == floor(pct))
            snprintf(col, sizeof col, ",q%02d", (int)pct);
        else
            snprintf(col, sizeof col, ",q%g", pct);
        strncat(header, col, sizeof header - strlen(header) - 1);
    }
    int brc = csv_begin(c, "national_year.csv", header);
    if (brc)
        return brc;
    for (size_t k = 0; k < f->Y; k++) {
        fprintf(c->f, "%d,", f->years[k]);
        put_num(c->f, f->mean[k]);
        for (size_t i = 0; i < f->Q; i++) {
            fputc(',', c->f);
            put_num(c->f, f->quant[i * f->Y + k]);
        }
        fputc('\n', c->f);
    }
    return csv_end(c);
}

static int write_national_count(csvout *c, const pds_runtables *f)
{
    int brc = csv_begin(c, "national_count.csv", "year,adopted,runs");
    if (brc)
        return brc;
    for (size_t k = 0; k < f->Y; k++)
        for (size_t n = 0; n <= f->U; n++)
            fprintf(c->f, "%d,%zu,%llu\n", f->years[k], n,
                    (unsigned long long)f->count[k * (f->U + 1) + n]);
    return csv_end(c);
}

static int write_runs(csvout *c, const pds_runtables *f)
{
    size_t U = f->U, rows = ((size_t)8 << 20) / (U * sizeof(int16_t) + 1) + 1;
    if (rows > 4096)
        rows = 4096;
    int16_t *buf = malloc(rows * U * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    int rc = csv_begin(c, "runs.csv", "run,code,adoption_year");
    for (uint64_t r0 = 0; rc == 0 && r0 < f->h.n_runs; r0 += rows) {
        size_t n = (size_t)(f->h.n_runs - r0 < rows ? f->h.n_runs - r0 : rows);
        pds_diag d;
        pds_diag_init(&d);
        if (pds_h5result_read_years(&f->h, r0, n, buf, &d) != 0)
            rc = 2;
        pds_cli_print_diag(&d);
        pds_diag_free(&d);
        for (size_t r = 0; rc == 0 && r < n; r++)
            for (size_t u = 0; u < U; u++) {
                fprintf(c->f, "%llu,", (unsigned long long)(r0 + r));
                pds_cli_csv_field(c->f, f->h.codes[u]);
                fputc(',', c->f);
                put_year(c->f, buf[r * U + u]);
                fputc('\n', c->f);
            }
    }
    free(buf);
    if (c->f) {
        if (rc) {
            pds_outfile_abort(&c->o);
            c->f = NULL;
        } else {
            rc = csv_end(c);
        }
    }
    return rc;
}

static const char *const csv_names[] = {"forecast.csv",       "provinces.csv",
                                        "province_year.csv",  "national_year.csv",
                                        "national_count.csv", "runs.csv"};

static int write_csvs_to(const pds_runtables *f, const char *dir, int bom, int runs, int replace,
                         const pds_inset *in);

int pds_cli_write_run_csvs(const pds_runtables *f, const char *dir, int bom, int runs, int replace)
{
    pds_inset in;
    pds_inset_init(&in);
    if (pds_inset_add(&in, f->h.path) != 0) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    int rc = write_csvs_to(f, dir, bom, runs, replace, &in);
    pds_inset_free(&in);
    return rc;
}

static int write_csvs_to(const pds_runtables *f, const char *dir, int bom, int runs, int replace,
                         const pds_inset *in)
{
    /* any file of an earlier set counts: runs.csv too when this set has
     * none, for it would be left beside files it does not belong to */
    for (size_t i = 0; !replace && i < sizeof csv_names / sizeof csv_names[0]; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, csv_names[i]);
        if (access(p, F_OK) == 0) {
            fprintf(stderr,
                    "pdsim: error: %s: exists; nothing was written. Add --replace to replace "
                    "the CSV files in %s, or choose another folder\n",
                    p, dir);
            return 2;
        }
    }
    if (pds_cli_make_dir(dir) != 0)
        return 1;
    csvout c = {.dir = dir, .bom = bom, .in = in};
    int rc = write_forecast(&c, f);
    if (!rc)
        rc = write_provinces(&c, f);
    if (!rc)
        rc = write_province_year(&c, f);
    if (!rc)
        rc = write_national_year(&c, f);
    if (!rc)
        rc = write_national_count(&c, f);
    if (!rc && runs)
        rc = write_runs(&c, f);
    if (!rc && !runs) {
        /* the earlier set's runs.csv (a regular file, never a link's
         * target) goes before the new set is renamed in: a failure in
         * between leaves the earlier set without it, never a mixture */
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s/runs.csv", dir);
        if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(p) != 0) {
            fprintf(stderr, "pdsim: error: %s: cannot remove the earlier set's file (%s)\n", p,
                    strerror(errno));
            rc = 1;
        }
    }
    int irc = install_set(&c, rc == 0);
    return rc ? rc : irc;
}

int pds_cli_summary_csv(const char *path, const char *dir, int bom, int runs, int replace)
{
    pds_runtables f;
    int rc;
    pds_h5_quiet hq;
    pds_h5_quiet_begin(&hq);
    {
        pds_diag d;
        pds_diag_init(&d);
        rc = pds_cli_exit(pds_runtables_open(path, &f, &d));
        pds_cli_print_diag(&d);
        pds_diag_free(&d);
        if (rc == 0)
            rc = pds_cli_write_run_csvs(&f, dir, bom, runs, replace);
        pds_runtables_close(&f);
    }
    pds_h5_quiet_end(&hq);
    return rc;
}
