#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/h5util.h"
#include "cli.h"

/* The summaries of a finished run file, read whole (they are small: units x
 * years), and tidy CSV files made from them. See docs/report.md. */

typedef struct sumfile {
    pds_h5result h;
    size_t U, Y, Q;
    char **name, **region, **name_en; /* [U]; name_en "" when the file has none */
    long report_years[16];            /* the years of P(adopted by) in the tables */
    size_t n_report_years;
    pds_summary *sum;                 /* the counts, rebuilt from the summaries */
    int16_t *observed;     /* [U] observed adoption year, 0 = none */
    int16_t *years;        /* [Y] */
    double *p;             /* [U x Y] P(adopted by the end of the year) */
    double *levels;        /* [Q] quantile levels */
    double *quant;         /* [Q x Y] quantiles of the national count */
    double *mean;          /* [Y] mean national count */
    uint64_t *count;       /* [Y x (U+1)] runs with exactly c units adopted */
} sumfile;

static void sumfile_close(sumfile *f)
{
    pds_h5_strings_free(f->name, f->U);
    pds_h5_strings_free(f->region, f->U);
    pds_h5_strings_free(f->name_en, f->U);
    pds_summary_free(f->sum);
    free(f->observed);
    free(f->years);
    free(f->p);
    free(f->levels);
    free(f->quant);
    free(f->mean);
    free(f->count);
    pds_h5result_close(&f->h);
}

static int missing(const char *path, const char *what)
{
    fprintf(stderr,
            "pdsim: error: %s: cannot read %s (expected the summaries of a finished pdsim run, "
            "see docs/output-format.md)\n",
            path, what);
    return 2;
}

/* 0, 1 (out of memory) or 2 (not a readable finished run file, with a
 * message). The caller silences HDF5's own error printing. */
static int sumfile_open(const char *path, sumfile *f)
{
    memset(f, 0, sizeof *f);
    pds_diag d;
    pds_diag_init(&d);
    int rc = pds_h5result_open(path, &f->h, &d) != 0 ? 2 : 0;
    const char *other = rc ? pds_cli_other_kind(path) : NULL;
    if (other) {
        fprintf(stderr,
                "pdsim: error: %s: %s, not a result file of pdsim run (pdsim report draws it)\n",
                path, other);
        pds_diag_free(&d);
        return rc;
    }
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (rc)
        return rc;
    hid_t file = f->h.file;
    size_t U = f->U = f->h.n_units, Y = f->Y = (size_t)(f->h.last_year - f->h.first_year + 1);
    hsize_t dq[1] = {0};
    /* fails (< 0) when the dataset or its group is missing */
    hid_t ds = H5Dopen2(file, "/summary/national_adopted_quantiles", H5P_DEFAULT);
    if (ds >= 0) {
        hid_t sp = H5Dget_space(ds);
        if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1)
            H5Sget_simple_extent_dims(sp, dq, NULL);
        if (sp >= 0)
            H5Sclose(sp);
        H5Dclose(ds);
    }
    size_t Q = f->Q = (size_t)dq[0];
    if (Q < 1 || Q > 100)
        return missing(path, "/summary/national_adopted_quantiles");
    f->observed = malloc(U * sizeof *f->observed);
    f->years = malloc(Y * sizeof *f->years);
    f->p = malloc(U * Y * sizeof *f->p);
    f->levels = malloc(Q * sizeof *f->levels);
    f->quant = malloc(Q * Y * sizeof *f->quant);
    f->mean = malloc(Y * sizeof *f->mean);
    f->count = malloc(Y * (U + 1) * sizeof *f->count);
    if (!f->observed || !f->years || !f->p || !f->levels || !f->quant || !f->mean || !f->count) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    size_t n = U;
    if (pds_h5_read_strings(file, "/provinces/name", &n, &f->name) != 0)
        return missing(path, "/provinces/name");
    n = U;
    if (pds_h5_read_strings(file, "/provinces/region", &n, &f->region) != 0)
        return missing(path, "/provinces/region");
    hsize_t du[1] = {U}, dy[1] = {Y}, duy[2] = {U, Y}, dl[1] = {Q}, dqy[2] = {Q, Y};
    hsize_t dc[2] = {Y, U + 1};
    const struct {
        const char *name;
        hid_t type;
        int rank;
        const hsize_t *dims;
        void *out;
    } sets[] = {
        {"/provinces/observed_adoption_year", H5T_NATIVE_INT16, 1, du, f->observed},
        {"/years", H5T_NATIVE_INT16, 1, dy, f->years},
        {"/summary/p_adopted_by_year", H5T_NATIVE_DOUBLE, 2, duy, f->p},
        {"/summary/national_adopted_quantiles", H5T_NATIVE_DOUBLE, 1, dl, f->levels},
        {"/summary/national_adopted", H5T_NATIVE_DOUBLE, 2, dqy, f->quant},
        {"/summary/national_adopted_mean", H5T_NATIVE_DOUBLE, 1, dy, f->mean},
        {"/summary/national_adopted_count", H5T_NATIVE_UINT64, 2, dc, f->count},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (pds_h5_read_dataset(file, sets[i].name, sets[i].type, sets[i].rank, sets[i].dims,
                                sets[i].out) != 0) {
            char what[160];
            if (sets[i].rank > 1)
                snprintf(what, sizeof what, "%s of shape [%llu x %llu]", sets[i].name,
                         (unsigned long long)sets[i].dims[0], (unsigned long long)sets[i].dims[1]);
            else
                snprintf(what, sizeof what, "%s of shape [%llu]", sets[i].name,
                         (unsigned long long)sets[i].dims[0]);
            return missing(path, what);
        }
    for (size_t k = 0; k < Y; k++)
        if (f->years[k] != f->h.first_year + (int64_t)k)
            return missing(path, "/years (expected first_year .. last_year)");
    /* files written before names in English were stored have none */
    n = U;
    if (pds_h5_read_strings(file, "/provinces/name_en", &n, &f->name_en) != 0) {
        f->name_en = calloc(U + 1, sizeof *f->name_en);
        for (size_t u = 0; f->name_en && u < U; u++)
            f->name_en[u] = strdup("");
    }
    /* the run's report years, from the settings it stored */
    char *cfg = malloc(1 << 16);
    if (cfg && pds_h5_attr_read_str(file, "config_resolved", cfg, 1 << 16) == 0) {
        const char *ry = strstr(cfg, "\nreport_years: [");
        for (const char *q = ry ? ry + 15 : NULL; q && *q && *q != ']' && f->n_report_years < 16;) {
            char *end;
            long v = strtol(q + 1, &end, 10);
            if (end == q + 1)
                break;
            if (v >= f->h.first_year && v <= f->h.last_year)
                f->report_years[f->n_report_years++] = v;
            q = end;
        }
    }
    free(cfg);
    if (f->n_report_years == 0) {
        /* as a config without report_years: three spread to the horizon */
        long span = (long)Y, step = span >= 3 ? span / 3 : 1;
        for (long yv = (long)f->h.last_year; yv >= f->h.first_year && f->n_report_years < 3;
             yv -= step)
            f->report_years[f->n_report_years++] = yv;
        for (size_t i = 0; i < f->n_report_years / 2; i++) {
            long t = f->report_years[i];
            f->report_years[i] = f->report_years[f->n_report_years - 1 - i];
            f->report_years[f->n_report_years - 1 - i] = t;
        }
    }
    /* the run counts behind the probabilities: p = runs / n_runs exactly */
    f->sum = pds_summary_create(U, Y, (int)f->h.first_year);
    if (!f->name_en || !f->sum) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    f->sum->n_runs = f->h.n_runs;
    for (size_t i = 0; i < U * Y; i++)
        f->sum->adopted_by_year[i] = (uint64_t)llround(f->p[i] * (double)f->h.n_runs);
    memcpy(f->sum->national_hist, f->count, Y * (U + 1) * sizeof *f->count);
    return 0;
}

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
} csvout;

/* Written under a temporary name and renamed when complete, so a file with
 * the final name is never half-written (sim/io/outfile.h). */
static int csv_begin(csvout *c, const char *name, const char *header)
{
    int rc = pds_cli_csv_begin(&c->o, c->dir, name, c->bom, header, c->in);
    c->f = c->o.f;
    return rc;
}

static int csv_end(csvout *c)
{
    c->f = NULL;
    return pds_cli_csv_end(&c->o);
}

static int write_provinces(csvout *c, const sumfile *f)
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
static int write_forecast(csvout *c, const sumfile *f)
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

static int write_province_year(csvout *c, const sumfile *f)
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

static int write_national_year(csvout *c, const sumfile *f)
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

static int write_national_count(csvout *c, const sumfile *f)
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

static int write_runs(csvout *c, const sumfile *f)
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

static const char *const csv_names[] = {"forecast.csv", "provinces.csv", "province_year.csv",
                                        "national_year.csv", "national_count.csv", "runs.csv"};

static int write_csvs_to(const sumfile *f, const char *dir, int bom, int runs, int replace,
                         const pds_inset *in);

static int write_csvs(const sumfile *f, const char *dir, int bom, int runs, int replace)
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

static int write_csvs_to(const sumfile *f, const char *dir, int bom, int runs, int replace,
                         const pds_inset *in)
{
    for (size_t i = 0; !replace && i < sizeof csv_names / sizeof csv_names[0]; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, csv_names[i]);
        if ((runs || strcmp(csv_names[i], "runs.csv") != 0) && access(p, F_OK) == 0) {
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
    return rc;
}

/* The year by whose end the unit has adopted with probability at least q:
 * the q-quantile of its adoption year; 0 when that is after last_year. */
static int year_quantile(const sumfile *f, size_t u, double q)
{
    for (size_t k = 0; k < f->Y; k++)
        if (f->p[u * f->Y + k] >= q)
            return f->years[k];
    return 0;
}

static void print_table(const sumfile *f)
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

int pds_cli_summary_csv(const char *path, const char *dir, int bom, int runs, int replace)
{
    sumfile f;
    int rc;
    H5E_BEGIN_TRY
    {
        rc = sumfile_open(path, &f);
        if (rc == 0)
            rc = write_csvs(&f, dir, bom, runs, replace);
        sumfile_close(&f);
    }
    H5E_END_TRY;
    return rc;
}

int pds_cmd_summary(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'}, {"bom", no_argument, NULL, 'b'},
        {"runs", no_argument, NULL, 'r'},      {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},      {"replace", no_argument, NULL, 'F'},
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
        fprintf(stderr,
                "pdsim: error: --bom, --runs and --replace apply to the CSV files: add --csv DIR\n");
        return 2;
    }
    if (pds_cli_is_sweep(argv[optind])) {
        if (runs) {
            fprintf(stderr, "pdsim: error: %s: --runs applies to run files; a sweep keeps no "
                            "runs\n",
                    argv[optind]);
            return 2;
        }
        return pds_cli_sweep_summary(argv[optind], dir, bom, quiet);
    }
    sumfile f;
    int rc;
    H5E_BEGIN_TRY
    {
        rc = sumfile_open(argv[optind], &f);
        if (rc == 0 && !quiet) {
            print_table(&f);
            pds_insample q;
            char prov[4096];
            pds_h5result_reliability(&f.h, &q, prov, sizeof prov);
            int n_models = H5Lexists(f.h.file, "/runs/model", H5P_DEFAULT) > 0 ? 2 : 1;
            pds_backtest_reliability bt;
            pds_h5result_backtest(&f.h, &bt);
            pds_cli_print_reliability(&q, &bt, prov, f.h.uncertainty, (size_t)n_models);
        }
        if (rc == 0 && dir)
            rc = write_csvs(&f, dir, bom, runs, replace);
        sumfile_close(&f);
    }
    H5E_END_TRY;
    return rc;
}
