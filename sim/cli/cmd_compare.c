#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/h5out.h"
#include "../io/csvtab.h"
#include "../io/h5util.h"
#include "../io/inputs.h"
#include "cli.h"

/* Paired comparison of a baseline and a scenario run with the same seed:
 * run r of both used the same random numbers, so per-run differences are
 * due to the scenario alone. Everything is accumulated in one pass over the
 * runs, read in blocks of rows, so memory does not grow with the number of
 * runs. See docs/compare.md. */

#define ROWS 4096
/* cap on one block of rows per file, so that a file with very many units
 * cannot make the block buffers huge */
#define BLOCK_BYTES ((size_t)32 << 20)
#define Z95 1.959963984540054

/* The same path string, or two spellings of a path to the same file or
 * folder on this machine (a config's paths are joined to its folder, so
 * configs in different folders spell the same dataset differently). */
static int same_path(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

/* Pairing is broken: name the attribute and both values. Always 2. */
static int refuse(const pds_h5result *b, const pds_h5result *s, const char *what, const char *bv,
                  const char *sv)
{
    fprintf(stderr,
            "pdsim: error: %s: %s differs from the baseline %s (baseline %s, scenario %s); "
            "expected runs of the same setup with the same seed, so that run r of both can be "
            "paired\n",
            s->path, what, b->path, bv, sv);
    return 2;
}

static int refuse_num(const pds_h5result *b, const pds_h5result *s, const char *what, long long bv,
                      long long sv)
{
    char x[32], y[32];
    snprintf(x, sizeof x, "%lld", bv);
    snprintf(y, sizeof y, "%lld", sv);
    return refuse(b, s, what, x, y);
}

static int check_pairing(const pds_h5result *b, const pds_h5result *s, int allow_model)
{
    if (b->seed != s->seed) {
        char x[32], y[32];
        snprintf(x, sizeof x, "%llu", (unsigned long long)b->seed);
        snprintf(y, sizeof y, "%llu", (unsigned long long)s->seed);
        return refuse(b, s, "seed", x, y);
    }
    if (b->n_runs != s->n_runs)
        return refuse_num(b, s, "n_runs", (long long)b->n_runs, (long long)s->n_runs);
    if (b->first_year != s->first_year)
        return refuse_num(b, s, "first_year", b->first_year, s->first_year);
    if (b->last_year != s->last_year)
        return refuse_num(b, s, "last_year", b->last_year, s->last_year);
    if (b->base_year != s->base_year)
        return refuse_num(b, s, "base_year", b->base_year, s->base_year);
    /* the same dataset is the same contents, wherever it lies and however
     * its path is spelt; older files without the hash are compared by path */
    if (b->dataset_hash[0] && s->dataset_hash[0]) {
        if (strcmp(b->dataset_hash, s->dataset_hash) != 0) {
            char x[4200], y[4200];
            snprintf(x, sizeof x, "%s, contents %s", b->dataset, b->dataset_hash);
            snprintf(y, sizeof y, "%s, contents %s", s->dataset, s->dataset_hash);
            return refuse(b, s, "dataset", x, y);
        }
    } else if (!same_path(b->dataset, s->dataset)) {
        return refuse(b, s, "dataset", b->dataset, s->dataset);
    }
    if (strcmp(b->uncertainty, s->uncertainty) != 0)
        return refuse(b, s, "uncertainty", b->uncertainty, s->uncertainty);
    if (!allow_model && !same_path(b->model, s->model)) {
        refuse(b, s, "model", b->model, s->model);
        fprintf(stderr, "pdsim: note: pass --allow-model-change when the scenario changes the "
                        "model on purpose\n");
        return 2;
    }
    if (b->n_units != s->n_units)
        return refuse_num(b, s, "the number of units in /provinces/code", (long long)b->n_units,
                          (long long)s->n_units);
    for (size_t i = 0; i < b->n_units; i++)
        if (strcmp(b->codes[i], s->codes[i]) != 0) {
            char what[64];
            snprintf(what, sizeof what, "/provinces/code[%zu]", i);
            return refuse(b, s, what, b->codes[i], s->codes[i]);
        }
    return 0;
}

/* Sums of x and x^2. The values are small integers (counts, 0/1 flags,
 * year differences), so the sums are exact in a double up to 2^53; a
 * difference that is 0 in every run therefore gives exactly 0 for its mean,
 * variance and interval. */
typedef struct acc {
    double s, ss;
} acc;

static void add(acc *a, double x)
{
    a->s += x;
    a->ss += x * x;
}

static double mean(const acc *a, double n)
{
    return a->s / n;
}

static double var(const acc *a, double n)
{
    if (n < 2)
        return 0.0;
    double v = (a->ss - a->s * a->s / n) / (n - 1);
    return v > 0 ? v : 0.0;
}

/* mean and 95% interval: mean ± 1.96 sd / sqrt(R) */
static void interval(const acc *a, double n, double out[3])
{
    double m = mean(a, n), h = Z95 * sqrt(var(a, n) / n);
    out[0] = m;
    out[1] = m - h;
    out[2] = m + h;
}

typedef struct stats {
    size_t U, Y;
    size_t k;          /* index of the comparison year of the unit table */
    int year_given;    /* k set by --year */
    char **names;      /* [U] unit names of the baseline file, or NULL */
    double R;
    int first, last, base;
    acc *nb, *ns, *nd; /* [Y] national count in base, scenario, difference */
    acc *pd;           /* [U x Y] 0/1 difference of adopted by the year */
    double *pb, *ps;   /* [U x Y] runs adopted by the year */
    acc *yd;           /* [U] scenario year - baseline year, censored */
    double *yb, *ys;   /* [U] sums of the censored years */
    acc gained;        /* per run, sum over units of baseline year - scenario year */
} stats;

static int stats_alloc(stats *st, size_t U, size_t Y)
{
    memset(st, 0, sizeof *st);
    st->U = U;
    st->Y = Y;
    st->nb = calloc(Y, sizeof *st->nb);
    st->ns = calloc(Y, sizeof *st->ns);
    st->nd = calloc(Y, sizeof *st->nd);
    st->pd = calloc(U * Y, sizeof *st->pd);
    st->pb = calloc(U * Y, sizeof *st->pb);
    st->ps = calloc(U * Y, sizeof *st->ps);
    st->yd = calloc(U, sizeof *st->yd);
    st->yb = calloc(U, sizeof *st->yb);
    st->ys = calloc(U, sizeof *st->ys);
    return st->nb && st->ns && st->nd && st->pd && st->pb && st->ps && st->yd && st->yb && st->ys
               ? 0
               : -1;
}

static void stats_free(stats *st)
{
    free(st->nb);
    free(st->ns);
    free(st->nd);
    free(st->pd);
    free(st->pb);
    free(st->ps);
    free(st->yd);
    free(st->yb);
    free(st->ys);
}

/* The year used for year arithmetic: not adopted by last_year counts as
 * last_year + 1 (censored); a negative code (adopted by the base year, year
 * unknown) as the base year. */
static int eff_year(const stats *st, int v)
{
    return v == 0 ? st->last + 1 : v < 0 ? st->base : v;
}

static int adopted_by(int v, int year)
{
    return v != 0 && v <= year; /* negative codes are before any simulated year */
}

static void add_run(stats *st, const int16_t *x, const int16_t *z)
{
    size_t U = st->U, Y = st->Y;
    double g = 0;
    for (size_t u = 0; u < U; u++) {
        int yb = eff_year(st, x[u]), ys = eff_year(st, z[u]);
        g += yb - ys;
        st->yb[u] += yb;
        st->ys[u] += ys;
        add(&st->yd[u], (double)(ys - yb));
    }
    add(&st->gained, g);
    for (size_t k = 0; k < Y; k++) {
        int year = st->first + (int)k, cb = 0, cs = 0;
        for (size_t u = 0; u < U; u++) {
            int ab = adopted_by(x[u], year), as = adopted_by(z[u], year);
            cb += ab;
            cs += as;
            st->pb[u * Y + k] += ab;
            st->ps[u * Y + k] += as;
            add(&st->pd[u * Y + k], (double)(as - ab));
        }
        add(&st->nb[k], cb);
        add(&st->ns[k], cs);
        add(&st->nd[k], cs - cb);
    }
}

static int accumulate(const pds_h5result *b, const pds_h5result *s, stats *st)
{
    size_t U = st->U;
    size_t rows = BLOCK_BYTES / (U * sizeof(int16_t));
    if (rows > ROWS)
        rows = ROWS;
    if (rows < 1)
        rows = 1;
    int16_t *bb = malloc(rows * U * sizeof *bb), *sb = malloc(rows * U * sizeof *sb);
    int rc = bb && sb ? 0 : 1;
    if (rc)
        fprintf(stderr, "pdsim: error: out of memory\n");
    for (uint64_t r0 = 0; rc == 0 && r0 < b->n_runs; r0 += rows) {
        size_t n = (size_t)(b->n_runs - r0 < rows ? b->n_runs - r0 : rows);
        const pds_h5result *h[2] = {b, s};
        int16_t *buf[2] = {bb, sb};
        for (int i = 0; rc == 0 && i < 2; i++) {
            pds_diag d;
            pds_diag_init(&d);
            rc = pds_h5result_read_years(h[i], r0, n, buf[i], &d);
            pds_cli_print_diag(&d);
            pds_diag_free(&d);
        }
        for (size_t r = 0; rc == 0 && r < n; r++)
            add_run(st, bb + r * U, sb + r * U);
    }
    free(bb);
    free(sb);
    return rc;
}

/* var(nb) + var(ns) over var(nb - ns): how much more variance the
 * difference would have with independent seeds. inf when the paired
 * difference never varies, NaN when nothing varies at all. */
static double var_ratio(const stats *st, size_t k)
{
    double vi = var(&st->nb[k], st->R) + var(&st->ns[k], st->R), vp = var(&st->nd[k], st->R);
    return vp > 0 ? vi / vp : vi > 0 ? INFINITY : NAN;
}

static int any_difference(const stats *st)
{
    /* a unit's adoption by some year differs only if its year differs */
    for (size_t u = 0; u < st->U; u++)
        if (st->yd[u].ss > 0)
            return 1;
    return 0;
}

static void fmt_ratio(char *out, size_t size, double r)
{
    if (isnan(r))
        snprintf(out, size, "-");
    else if (isinf(r))
        snprintf(out, size, "inf");
    else
        snprintf(out, size, "%.1f", r);
}

/* Width of a UTF-8 string in terminal columns: CJK characters take two. */
static int text_width(const char *t)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w += *p >= 0xE0 ? 2 : 1;
    return w;
}

/* The year index at which the scenario moves the units most: the largest
 * sum over units of |P(adopted by the year) scenario - baseline|; when it
 * moves nothing, the year in which the baseline's adoption is most uncertain
 * (the largest sum of p (1 - p)). */
static size_t comparison_year(const stats *st)
{
    size_t best = st->Y - 1, spread = st->Y - 1;
    double most = 0, most_spread = -1;
    for (size_t k = 0; k < st->Y; k++) {
        double shift = 0, v = 0;
        for (size_t u = 0; u < st->U; u++) {
            double p = st->pb[u * st->Y + k] / st->R;
            shift += fabs(st->ps[u * st->Y + k] - st->pb[u * st->Y + k]) / st->R;
            v += p * (1 - p);
        }
        if (shift > most + 1e-12) {
            most = shift;
            best = k;
        }
        if (v > most_spread + 1e-12) {
            most_spread = v;
            spread = k;
        }
    }
    return most > 0 ? best : spread;
}

/* "key.sub: value" for each line of a resolved config (nested mappings by
 * indentation, two spaces a level). */
typedef struct setting {
    char key[256];
    const char *value;
} setting;

static size_t flatten(char *text, setting *out, size_t max)
{
    char path[8][128];
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        size_t ind = strspn(line, " ") / 2;
        char *colon = strstr(line, ":");
        if (!colon || ind >= 8 || line[0] == '#')
            continue;
        *colon = '\0';
        snprintf(path[ind], sizeof path[ind], "%s", line + 2 * ind);
        const char *v = colon[1] == ' ' ? colon + 2 : colon + 1;
        if (!*v)
            continue; /* a mapping: its keys follow */
        setting *st = &out[n++];
        st->key[0] = '\0';
        for (size_t i = 0; i <= ind; i++) {
            strncat(st->key, path[i], sizeof st->key - strlen(st->key) - 1);
            if (i < ind)
                strncat(st->key, ".", sizeof st->key - strlen(st->key) - 1);
        }
        st->value = v;
    }
    return n;
}

#define MAX_SETTINGS 512

/* Every setting in which the two files' stored configs differ, after
 * extends, with canonical paths; runs and seed were checked already. */
static void print_config_diff(const pds_h5result *b, const pds_h5result *s)
{
    char *tb = malloc(1 << 16), *ts = malloc(1 << 16);
    setting *fb = calloc(MAX_SETTINGS, sizeof *fb), *fs = calloc(MAX_SETTINGS, sizeof *fs);
    if (!tb || !ts || !fb || !fs ||
        pds_h5_attr_read_str(b->file, "config_resolved", tb, 1 << 16) != 0 ||
        pds_h5_attr_read_str(s->file, "config_resolved", ts, 1 << 16) != 0) {
        printf("\nsettings: not compared (a file predates the stored resolved config)\n");
        goto out;
    }
    size_t nb = flatten(tb, fb, MAX_SETTINGS), ns = flatten(ts, fs, MAX_SETTINGS), shown = 0;
    for (int pass = 0; pass < 2; pass++) {
        const setting *x = pass ? fs : fb, *y = pass ? fb : fs;
        size_t nx = pass ? ns : nb, ny = pass ? nb : ns;
        for (size_t i = 0; i < nx; i++) {
            const char *other = NULL;
            for (size_t j = 0; j < ny && !other; j++)
                if (strcmp(x[i].key, y[j].key) == 0)
                    other = y[j].value;
            if (pass && other)
                continue; /* printed in the first pass */
            if (other && strcmp(other, x[i].value) == 0)
                continue;
            if (!shown++)
                printf("\nsettings that differ (baseline -> scenario):\n");
            printf("  %-32s %s -> %s\n", x[i].key, pass ? "(none)" : x[i].value,
                   pass ? x[i].value : other ? other : "(none)");
        }
    }
    if (!shown)
        printf("\nsettings: none differ\n");
out:
    free(tb);
    free(ts);
    free(fb);
    free(fs);
}

static void print_table(const stats *st, const pds_h5result *b, const pds_h5result *s)
{
    size_t U = st->U, Y = st->Y;
    double R = st->R, v[3];
    printf("paired comparison: scenario %s minus baseline %s\n", s->path, b->path);
    printf("%llu paired runs, seed %llu; intervals are 95%%: mean +- 1.96 sd / sqrt(runs)\n",
           (unsigned long long)b->n_runs, (unsigned long long)b->seed);
    printf("\nunits adopted by the end of each year (mean over runs)\n");
    printf("%-6s %9s %9s %9s %20s %10s\n", "year", "baseline", "scenario", "diff", "95% interval",
           "var. ratio");
    char ratio[32];
    int odd = 0;
    for (size_t k = 0; k < Y; k++) {
        interval(&st->nd[k], R, v);
        fmt_ratio(ratio, sizeof ratio, var_ratio(st, k));
        odd |= !isfinite(var_ratio(st, k));
        printf("%-6d %9.3f %9.3f %+9.3f [%+8.3f, %+8.3f] %10s\n", st->first + (int)k,
               mean(&st->nb[k], R), mean(&st->ns[k], R), v[0], v[1], v[2], ratio);
    }
    if (odd)
        printf("(var. ratio inf: the difference is identical in every run; -: the count is the "
               "same in every run of both files)\n");
    double r = var_ratio(st, Y - 1);
    fmt_ratio(ratio, sizeof ratio, r);
    if (isinf(r))
        printf("variance reduction at %d: inf: the difference is identical in every run\n",
               st->last);
    else if (isnan(r))
        printf("variance reduction at %d: undefined: the count is the same in every run of "
               "both files\n",
               st->last);
    else
        printf("variance reduction at %d: %s (variance of the difference with independent "
               "seeds over that with paired runs)\n",
               st->last, ratio);
    if (!any_difference(st)) {
        printf("\nno difference in any run: every unit adopts in the same year in the scenario "
               "as in the baseline\n");
        print_config_diff(b, s);
        return;
    }
    size_t K = st->k;
    int year = st->first + (int)K;
    printf("\nunits whose P(adopted by %d) or mean adoption year changed (scenario - baseline;\n"
           "%d: %s; --year chooses another)\n",
           year, year, st->year_given ? "the year asked for" : "the year in which the scenario moves P(adopted) most");
    int name_w = 4;
    for (size_t u = 0; st->names && u < U; u++)
        if (text_width(st->names[u]) > name_w)
            name_w = text_width(st->names[u]);
    printf("%-10s ", "unit");
    if (st->names)
        printf("%-*s ", name_w, "name");
    printf("%7s %7s %8s %20s %9s %20s\n", "P base", "P scen", "P diff", "95% interval",
           "year diff", "95% interval");
    for (size_t u = 0; u < U; u++) {
        const acc *a = &st->pd[u * Y + K];
        if (a->ss == 0 && st->yd[u].ss == 0)
            continue;
        double y[3];
        interval(a, R, v);
        interval(&st->yd[u], R, y);
        printf("%-10s ", b->codes[u]);
        if (st->names) {
            fputs(st->names[u], stdout);
            for (int w = text_width(st->names[u]); w <= name_w; w++)
                putchar(' ');
        }
        printf("%7.3f %7.3f %+8.3f [%+8.3f, %+8.3f] %+9.3f [%+8.3f, %+8.3f]\n",
               st->pb[u * Y + K] / R, st->ps[u * Y + K] / R, v[0], v[1], v[2], y[0], y[1], y[2]);
    }
    printf("(year diff: not adopted by %d counts as %d; negative = earlier in the scenario)\n",
           st->last, st->last + 1);
    interval(&st->gained, R, v);
    printf("\nunit-years gained per run (baseline year - scenario year, summed over units): "
           "%.3f [%.3f, %.3f]\n",
           v[0], v[1], v[2]);
    print_config_diff(b, s);
}

/* A number, or an empty cell for an undefined one. */
static void csv_num(FILE *f, double x)
{
    fputc(',', f);
    if (!isnan(x))
        fprintf(f, "%.10g", x);
}

/* The code and name cells of unit u, or two empty cells for u = -1. */
static void unit_cells(FILE *f, const stats *st, const pds_h5result *b, long u)
{
    fputc(',', f);
    if (u >= 0)
        pds_cli_csv_field(f, b->codes[u]);
    fputc(',', f);
    if (u >= 0 && st->names)
        pds_cli_csv_field(f, st->names[u]);
}

/* Written under a temporary name and renamed when complete (sim/io/outfile.h). */
static int write_csv(const char *path, const stats *st, const pds_h5result *b)
{
    pds_outfile o;
    pds_diag d;
    pds_diag_init(&d);
    pds_status ost = pds_outfile_begin(&o, path, NULL, 0, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (ost != PDS_OK)
        return pds_cli_exit(ost);
    FILE *f = o.f;
    size_t U = st->U, Y = st->Y;
    double R = st->R, v[3];
    fputs("quantity,unit,name,year,base,scenario,difference,ci_low,ci_high,variance_ratio\n", f);
    for (size_t k = 0; k < Y; k++) {
        interval(&st->nd[k], R, v);
        fputs("national_adopted", f);
        unit_cells(f, st, b, -1);
        fprintf(f, ",%d", st->first + (int)k);
        csv_num(f, mean(&st->nb[k], R));
        csv_num(f, mean(&st->ns[k], R));
        for (int i = 0; i < 3; i++)
            csv_num(f, v[i]);
        csv_num(f, var_ratio(st, k));
        fputc('\n', f);
    }
    for (size_t k = 0; k < Y; k++) {
        /* base: the variance of the difference with independent seeds,
         * scenario: with paired runs */
        fputs("variance_of_difference", f);
        unit_cells(f, st, b, -1);
        fprintf(f, ",%d", st->first + (int)k);
        csv_num(f, var(&st->nb[k], R) + var(&st->ns[k], R));
        csv_num(f, var(&st->nd[k], R));
        fputs(",,,", f);
        csv_num(f, var_ratio(st, k));
        fputc('\n', f);
    }
    for (size_t u = 0; u < U; u++) {
        for (size_t k = 0; k < Y; k++) {
            interval(&st->pd[u * Y + k], R, v);
            fputs("p_adopted_by_year", f);
            unit_cells(f, st, b, (long)u);
            fprintf(f, ",%d", st->first + (int)k);
            csv_num(f, st->pb[u * Y + k] / R);
            csv_num(f, st->ps[u * Y + k] / R);
            for (int i = 0; i < 3; i++)
                csv_num(f, v[i]);
            fputs(",\n", f);
        }
    }
    for (size_t u = 0; u < U; u++) {
        interval(&st->yd[u], R, v);
        fputs("mean_adoption_year", f);
        unit_cells(f, st, b, (long)u);
        fputc(',', f);
        csv_num(f, st->yb[u] / R);
        csv_num(f, st->ys[u] / R);
        for (int i = 0; i < 3; i++)
            csv_num(f, v[i]);
        fputs(",\n", f);
    }
    interval(&st->gained, R, v);
    fputs("unit_years_gained,,,,,", f);
    for (int i = 0; i < 3; i++)
        csv_num(f, v[i]);
    fputs(",\n", f);
    pds_diag_init(&d);
    ost = pds_outfile_commit(&o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(ost);
}

static int write_h5_contents(hid_t f, const stats *st, const pds_h5result *b, const pds_h5result *s)
{
    size_t U = st->U, Y = st->Y;
    double R = st->R, v[3];
    double *nat = malloc(3 * Y * sizeof(double)), *pp = malloc(3 * U * Y * sizeof(double));
    double *vr = malloc(Y * sizeof(double)), *yd = malloc(3 * U * sizeof(double)), pg[3];
    int16_t *years = malloc(Y * sizeof(int16_t));
    hid_t g = H5Gcreate2(f, "compare", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int e = !nat || !pp || !vr || !yd || !years || g < 0;
    for (size_t k = 0; !e && k < Y; k++) {
        years[k] = (int16_t)(st->first + (int)k);
        interval(&st->nd[k], R, v);
        for (int i = 0; i < 3; i++)
            nat[i * Y + k] = v[i];
        vr[k] = var_ratio(st, k);
        for (size_t u = 0; u < U; u++) {
            interval(&st->pd[u * Y + k], R, v);
            for (int i = 0; i < 3; i++)
                pp[i * U * Y + u * Y + k] = v[i];
        }
    }
    for (size_t u = 0; !e && u < U; u++) {
        interval(&st->yd[u], R, v);
        for (int i = 0; i < 3; i++)
            yd[i * U + u] = v[i];
    }
    interval(&st->gained, R, pg);
    hsize_t d2[2] = {3, Y}, d3[3] = {3, U, Y}, d1[1] = {3}, dy[1] = {Y};
    hsize_t dyu[2] = {3, U};
    if (!e) {
        e |= pds_h5_write_dataset(
            g, "national_adopted_diff", H5T_NATIVE_DOUBLE, 2, d2, nat,
            "[mean, 95% low, 95% high] x year: paired difference (scenario - baseline) "
            "in the number of units adopted by the end of the year");
        e |= pds_h5_write_dataset(
            g, "p_adopted_by_year_diff", H5T_NATIVE_DOUBLE, 3, d3, pp,
            "[mean, 95% low, 95% high] x unit x year: paired difference (scenario - "
            "baseline) in P(adopted by the end of the year)");
        e |= pds_h5_write_dataset(
            g, "mean_adoption_year_diff", H5T_NATIVE_DOUBLE, 2, dyu, yd,
            "[mean, 95% low, 95% high] x unit: paired difference (scenario - baseline) "
            "in the adoption year, not adopted counting as last_year + 1");
        e |= pds_h5_write_dataset(
            g, "province_years_gained", H5T_NATIVE_DOUBLE, 1, d1, pg,
            "[mean, 95% low, 95% high]: per run, sum over units of baseline year - "
            "scenario year, not adopted counting as last_year + 1");
        e |= pds_h5_write_dataset(
            g, "variance_reduction", H5T_NATIVE_DOUBLE, 1, dy, vr,
            "per year: (var baseline + var scenario) / var of the paired difference of "
            "the national count; inf = identical difference in every run, NaN = no "
            "variation at all");
        e |= pds_h5_write_dataset(g, "years", H5T_NATIVE_INT16, 1, dy, years,
                                  "the years of the year axis");
        e |= pds_h5_write_strings(g, "province_code", (const char *const *)b->codes, U,
                                  "unit codes of the unit axis");
        if (st->names)
            e |= pds_h5_write_strings(g, "unit_name", (const char *const *)st->names, U,
                                      "unit names of the unit axis");
    }
    if (g >= 0)
        H5Gclose(g);
    unsigned char one = 1;
    uint64_t runs = b->n_runs;
    if (!e) {
        e |= pds_h5_attr_write_str(f, "base_file", b->path) |
             pds_h5_attr_write_str(f, "scenario_file", s->path);
        e |= pds_h5_attr_write_num(f, "seed", H5T_NATIVE_UINT64, &b->seed);
        e |= pds_h5_attr_write_num(f, "n_runs", H5T_NATIVE_UINT64, &runs);
        int64_t cy = st->first + (int64_t)st->k;
        e |= pds_h5_attr_write_num(f, "year", H5T_NATIVE_INT64, &cy);
        /* last, so that a file with complete = 1 has everything */
        e |= pds_h5_attr_write_num(f, "complete", H5T_NATIVE_UCHAR, &one);
    }
    free(nat);
    free(pp);
    free(vr);
    free(yd);
    free(years);
    return e ? -1 : 0;
}

/* Written under a temporary name and renamed when done, so that OUT.h5 is
 * never a half-written file and an earlier one survives a failure. */
static int write_h5(const char *path, const stats *st, const pds_h5result *b, const pds_h5result *s)
{
    char *tmp = NULL;
    pds_fileid id = {0};
    hid_t f = pds_h5_create_tmp(path, &tmp, &id);
    int rc = 0;
    if (f < 0) {
        fprintf(stderr,
                "pdsim: error: %s: cannot create the output file (is the folder there "
                "and writable?)\n",
                path);
        rc = 1;
    } else {
        int e = write_h5_contents(f, st, b, s);
        e |= H5Fclose(f) < 0;
        pds_diag d;
        pds_diag_init(&d);
        if (e)
            fprintf(stderr, "pdsim: error: %s: writing the comparison failed (disk full?)\n", path);
        else if (pds_out_install(tmp, &id, path, &d) != 0)
            e = 1;
        pds_cli_print_diag(&d);
        pds_diag_free(&d);
        if (e) {
            pds_out_discard(tmp, &id);
            rc = 1;
        }
    }
    free(tmp);
    return rc;
}

/* An output that is one of the inputs would destroy the runs it reports on:
 * 0, or the exit status with the message printed. */
static int is_input(const char *out, const char *base, const char *scen)
{
    if (!out)
        return 0;
    pds_inset in;
    pds_inset_init(&in);
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_inset_add(&in, base) || pds_inset_add(&in, scen)
                        ? PDS_ERR_RUNTIME
                        : pds_inset_check(&in, out, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    pds_inset_free(&in);
    return pds_cli_exit(st);
}

static int compare(const char *base, const char *scen, const char *csv, const char *out, int quiet,
                   int allow_model, int replace, long year)
{
    const char *outs[2] = {csv, out};
    for (int i = 0; i < 2; i++) {
        int e = is_input(outs[i], base, scen);
        if (e)
            return e;
    }
    if (csv && out) {
        char *a = pds_canonical_path(csv), *o = pds_canonical_path(out);
        int same = a && o && strcmp(a, o) == 0;
        free(a);
        free(o);
        if (same) {
            fprintf(stderr, "pdsim: error: --csv and -o name the same file %s\n", out);
            return 2;
        }
    }
    for (int i = 0; i < 2; i++)
        if (outs[i] && pds_cli_make_parent(outs[i]) != 0)
            return 1;
    /* each output's lock before anything is checked or replaced */
    pds_lock *locks[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        if (!outs[i])
            continue;
        pds_diag ld;
        pds_diag_init(&ld);
        pds_status lst = pds_lock_take(outs[i], &locks[i], &ld);
        pds_cli_print_diag(&ld);
        pds_diag_free(&ld);
        if (lst != PDS_OK) {
            pds_lock_release(locks[0]);
            return pds_cli_exit(lst);
        }
    }
    for (int i = 0; i < 2; i++)
        if (outs[i] && !replace && access(outs[i], F_OK) == 0) {
            fprintf(stderr,
                    "pdsim: error: %s: the output exists; nothing was compared. Add --replace "
                    "to replace it, or choose another name\n",
                    outs[i]);
            pds_lock_release(locks[0]);
            pds_lock_release(locks[1]);
            return 2;
        }
    pds_h5result b = {.file = -1, .runs = -1}, s = {.file = -1, .runs = -1};
    int rc = 0;
    pds_diag d;
    pds_diag_init(&d);
    if (pds_h5result_open(base, &b, &d) != 0 || pds_h5result_open(scen, &s, &d) != 0)
        rc = 2;
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (rc == 0)
        rc = check_pairing(&b, &s, allow_model);
    stats st;
    memset(&st, 0, sizeof st);
    if (rc == 0) {
        if (stats_alloc(&st, b.n_units, (size_t)(b.last_year - b.first_year + 1)) != 0) {
            fprintf(stderr, "pdsim: error: out of memory\n");
            rc = 1;
        }
        st.R = (double)b.n_runs;
        st.first = (int)b.first_year;
        st.last = (int)b.last_year;
        st.base = (int)b.base_year;
    }
    if (rc == 0)
        rc = accumulate(&b, &s, &st);
    if (rc == 0 && year && (year < st.first || year > st.last)) {
        fprintf(stderr, "pdsim: error: --year %ld: expected a simulated year in %d..%d\n", year,
                st.first, st.last);
        rc = 2;
    }
    if (rc == 0) {
        st.k = year ? (size_t)(year - st.first) : comparison_year(&st);
        st.year_given = year != 0;
        size_t nn = st.U;
        if (pds_h5_read_strings(b.file, "/provinces/name", &nn, &st.names) != 0)
            st.names = NULL;
    }
    if (rc == 0 && !quiet)
        print_table(&st, &b, &s);
    if (rc == 0 && csv)
        rc = write_csv(csv, &st, &b);
    if (rc == 0 && out)
        rc = write_h5(out, &st, &b, &s);
    pds_lock_release(locks[0]);
    pds_lock_release(locks[1]);
    if (st.names)
        pds_h5_strings_free(st.names, st.U);
    stats_free(&st);
    pds_h5result_close(&b);
    pds_h5result_close(&s);
    return rc;
}

int pds_cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'}, {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},     {"allow-model-change", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},      {"replace", no_argument, NULL, 'F'},
        {"year", required_argument, NULL, 'y'}, {NULL, 0, NULL, 0},
    };
    long year = 0;
    const char *csv = NULL, *out = NULL;
    int quiet = 0, allow_model = 0, replace = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            csv = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'm':
            allow_model = 1;
            break;
        case 'F':
            replace = 1;
            break;
        case 'y':
            if (pds_parse_long(optarg, &year) != 0 || year < 1000 || year > 3000) {
                fprintf(stderr, "pdsim: error: --year: expected a year in 1000..3000, got \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        default:
            return pds_cli_getopt_other(c, "compare", argv);
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "pdsim: error: expected two result files; usage: pdsim compare BASE.h5 "
                        "SCENARIO.h5 [--csv OUT.csv] [-o OUT.h5] [-q] [--allow-model-change] "
                        "[--replace] [--year Y]\n");
        return 2;
    }
    int rc;
    /* every failure gets one message of ours; the library's error stack
     * would only repeat it at length */
    H5E_BEGIN_TRY
    {
        rc = compare(argv[optind], argv[optind + 1], csv, out, quiet, allow_model, replace, year);
    }
    H5E_END_TRY;
    return rc;
}
