#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/h5out.h"
#include "../io/csvtab.h"
#include "../io/compare_h5.h"
#include "../io/h5util.h"
#include "../io/inputs.h"
#include "../io/settings_diff.h"
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

typedef struct stats {
    pds_compare *c;    /* the paired sums of the units */
    size_t k;          /* index of the comparison year of the unit table */
    int year_given;    /* k set by --year */
    char **names;      /* [U] unit names of the baseline file, or NULL */
    pds_compare *sc;   /* the paired sums of the sub-units, or NULL when not compared */
    pds_h5subunits sb, ss; /* the sub-units of the baseline and of the scenario */
} stats;

/* Whether the sub-units of both files can be paired: both store their
 * years, for the same sub-units in the same order. 1 yes; 0 no, with a note
 * (or, when required, the message and *rc = 2); *rc = 2 for a file whose
 * sub-unit data are damaged. */
static int subunits_pair(const pds_h5result *b, const pds_h5result *s, stats *st, int require,
                         int *rc)
{
    int pb = 0, ps = 0;
    pds_diag d;
    pds_diag_init(&d);
    if (pds_h5result_subunits_open(b, &st->sb, &pb, &d) != 0 ||
        pds_h5result_subunits_open(s, &st->ss, &ps, &d) != 0)
        *rc = 2;
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    if (*rc)
        return 0;
    const char *kind = require ? "error" : "note";
    char why[512] = "";
    if (!pb && !ps) {
        if (!require)
            return 0; /* nothing to compare, nothing to say */
        snprintf(why, sizeof why,
                 "neither file stores sub-unit years "
                 "(/runs/subunit_adoption_year)");
    } else if (!pb || !ps) {
        snprintf(why, sizeof why,
                 "%s stores no sub-unit years (/runs/subunit_adoption_year; run with "
                 "store_subunit_years: true)",
                 pb ? s->path : b->path);
    } else if (st->sb.n != st->ss.n) {
        snprintf(why, sizeof why,
                 "%s: the number of sub-units in /subunits/code differs from the baseline %s "
                 "(baseline %zu, scenario %zu)",
                 s->path, b->path, st->sb.n, st->ss.n);
    } else {
        for (size_t i = 0; i < st->sb.n && !why[0]; i++)
            if (strcmp(st->sb.codes[i], st->ss.codes[i]) != 0)
                snprintf(why, sizeof why,
                         "%s: /subunits/code[%zu] differs from the baseline %s (baseline "
                         "%.100s, scenario %.100s)",
                         s->path, i, b->path, st->sb.codes[i], st->ss.codes[i]);
    }
    if (!why[0])
        return 1;
    fprintf(stderr, "pdsim: %s: sub-units not compared: %s%s\n", kind, why,
            require ? " (--subunits asks for them)" : "; the units are compared as usual");
    if (require)
        *rc = 2;
    return 0;
}

/* Both files' units (and sub-units, when compared) block by block, run r
 * of the baseline paired with run r of the scenario. */
static int accumulate(const pds_h5result *b, const pds_h5result *s, stats *st)
{
    size_t U = st->c->U, S = st->sc ? st->sc->U : 0;
    size_t rows = BLOCK_BYTES / ((U + S) * sizeof(int16_t));
    if (rows > ROWS)
        rows = ROWS;
    if (rows < 1)
        rows = 1;
    int16_t *bb = malloc(rows * U * sizeof *bb), *sb = malloc(rows * U * sizeof *sb);
    int16_t *bs = malloc(rows * (S ? S : 1) * sizeof *bs),
            *ss = malloc(rows * (S ? S : 1) * sizeof *ss);
    int rc = bb && sb && bs && ss ? 0 : 1;
    if (rc)
        fprintf(stderr, "pdsim: error: out of memory\n");
    for (uint64_t r0 = 0; rc == 0 && r0 < b->n_runs; r0 += rows) {
        size_t n = (size_t)(b->n_runs - r0 < rows ? b->n_runs - r0 : rows);
        const pds_h5result *h[2] = {b, s};
        const pds_h5subunits *sub[2] = {&st->sb, &st->ss};
        int16_t *buf[2] = {bb, sb}, *sbuf[2] = {bs, ss};
        for (int i = 0; rc == 0 && i < 2; i++) {
            pds_diag d;
            pds_diag_init(&d);
            rc = pds_h5result_read_years(h[i], r0, n, buf[i], &d);
            if (rc == 0 && S)
                rc = pds_h5subunits_read_years(h[i], sub[i], r0, n, sbuf[i], &d);
            pds_cli_print_diag(&d);
            pds_diag_free(&d);
        }
        if (rc == 0) {
            pds_compare_add_runs(st->c, n, bb, sb);
            if (S)
                pds_compare_add_runs(st->sc, n, bs, ss);
        }
    }
    free(bb);
    free(sb);
    free(bs);
    free(ss);
    return rc;
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

/* the longest value printed whole in the settings that differ */
#define SETTING_VALUE_MAX 60

/* The stored config of h flattened into *out: 0; 1 when h has none (a file
 * written before configs were stored); -1 when it cannot be parsed. */
static int stored_settings(const pds_h5result *h, pds_settings *out)
{
    out->v = NULL;
    out->n = 0;
    char *text = pds_h5result_config(h);
    if (!text)
        return 1;
    pds_diag d;
    pds_diag_init(&d);
    int rc = pds_settings_flatten(h->path, text, out, &d);
    pds_diag_free(&d);
    free(text);
    return rc;
}

/* Every setting in which the two files' stored configs differ, after
 * extends, with canonical paths; runs and seed were checked already. */
static void print_config_diff(const pds_h5result *b, const pds_h5result *s)
{
    pds_settings fb, fs;
    pds_settings_diff d = {NULL, 0};
    int rb = stored_settings(b, &fb), rs = stored_settings(s, &fs);
    if (rb < 0 || rs < 0)
        printf("\nsettings: not compared (the stored config of %s cannot be read)\n",
               rb < 0 ? b->path : s->path);
    else if (rb || rs)
        printf("\nsettings: not compared (a file predates the stored resolved config)\n");
    else if (pds_settings_compare(&fb, &fs, &d) != 0)
        printf("\nsettings: not compared (out of memory)\n");
    else if (d.n == 0)
        printf("\nsettings: none differ\n");
    else {
        printf("\nsettings that differ (baseline -> scenario):\n");
        char line[3 * SETTING_VALUE_MAX + 1024];
        for (size_t i = 0; i < d.n; i++) {
            pds_setting_diff_line(&d.v[i], SETTING_VALUE_MAX, line, sizeof line);
            printf("  %s\n", line);
        }
    }
    pds_settings_diff_free(&d);
    pds_settings_free(&fb);
    pds_settings_free(&fs);
}

#define TOP_SUBUNITS 10

/* The sub-units at the year of the unit table: the share adopted in each
 * file with its paired difference, then those whose mean adoption year
 * moved most. */
static void print_subunits(const stats *st)
{
    const pds_compare *c = st->sc;
    if (!c)
        return;
    size_t K = st->k, Y = c->Y;
    int year = c->first + (int)K;
    double R = c->R;
    pds_compare_share sh;
    pds_compare_share_at(c, K, &sh);
    printf(
        "\nSub-units: share adopted by %d base %.4f, scenario %.4f, difference %+.4f (SE %.4f)\n",
        year, sh.base, sh.scenario, sh.diff[0], sh.se);
    size_t top[TOP_SUBUNITS];
    size_t n = pds_compare_top_shifts(c, K, top, TOP_SUBUNITS);
    if (n == 0) {
        printf("no difference in any run: every one of the %zu sub-units adopts in the same year "
               "in the scenario as in the baseline\n",
               c->U);
        return;
    }
    printf("%zu of %zu sub-units with the largest shifts of the mean adoption year (scenario - "
           "baseline; SE in parentheses)\n",
           n, c->U);
    int name_w = 4, unit_w = 4;
    for (size_t i = 0; i < n; i++) {
        const char *un = st->names ? st->names[st->sb.parent[top[i]]] : st->sb.unit_codes[top[i]];
        if (text_width(st->sb.names[top[i]]) > name_w)
            name_w = text_width(st->sb.names[top[i]]);
        if (text_width(un) > unit_w)
            unit_w = text_width(un);
    }
    printf("%-10s %-*s %-*s %7s %7s %8s %8s %9s %8s\n", "sub-unit", name_w, "name", unit_w, "unit",
           "P base", "P scen", "P diff", "(SE)", "year diff", "(SE)");
    for (size_t i = 0; i < n; i++) {
        size_t u = top[i];
        const char *un = st->names ? st->names[st->sb.parent[u]] : st->sb.unit_codes[u];
        const pds_acc *a = &c->pd[u * Y + K];
        printf("%-10s ", st->sb.codes[u]);
        fputs(st->sb.names[u], stdout);
        for (int w = text_width(st->sb.names[u]); w <= name_w; w++)
            putchar(' ');
        fputs(un, stdout);
        for (int w = text_width(un); w <= unit_w; w++)
            putchar(' ');
        printf("%7.3f %7.3f %+8.4f (%6.4f) %+9.3f (%6.3f)\n", c->pb[u * Y + K] / R,
               c->ps[u * Y + K] / R, pds_acc_mean(a, R), pds_acc_se(a, R),
               pds_acc_mean(&c->yd[u], R), pds_acc_se(&c->yd[u], R));
    }
    printf("(P at %d; year diff: not adopted by %d counts as %d; negative = earlier in the "
           "scenario)\n",
           year, c->last, c->last + 1);
}

static void print_table(const stats *st, const pds_h5result *b, const pds_h5result *s)
{
    size_t U = st->c->U, Y = st->c->Y;
    double R = st->c->R, v[3];
    printf("paired comparison: scenario %s minus baseline %s\n", s->path, b->path);
    printf("%llu paired runs, seed %llu; intervals are 95%%: mean +- 1.96 sd / sqrt(runs)\n",
           (unsigned long long)b->n_runs, (unsigned long long)b->seed);
    printf("\nunits adopted by the end of each year (mean over runs)\n");
    printf("%-6s %9s %9s %9s %20s %10s\n", "year", "baseline", "scenario", "diff", "95% interval",
           "var. ratio");
    char ratio[32];
    int odd = 0;
    for (size_t k = 0; k < Y; k++) {
        pds_acc_interval(&st->c->nd[k], R, v);
        fmt_ratio(ratio, sizeof ratio, pds_compare_var_ratio(st->c, k));
        odd |= !isfinite(pds_compare_var_ratio(st->c, k));
        printf("%-6d %9.3f %9.3f %+9.3f [%+8.3f, %+8.3f] %10s\n", st->c->first + (int)k,
               pds_acc_mean(&st->c->nb[k], R), pds_acc_mean(&st->c->ns[k], R), v[0], v[1], v[2], ratio);
    }
    if (odd)
        printf("(var. ratio inf: the difference is identical in every run; -: the count is the "
               "same in every run of both files)\n");
    double r = pds_compare_var_ratio(st->c, Y - 1);
    fmt_ratio(ratio, sizeof ratio, r);
    if (isinf(r))
        printf("variance reduction at %d: inf: the difference is identical in every run\n",
               st->c->last);
    else if (isnan(r))
        printf("variance reduction at %d: undefined: the count is the same in every run of "
               "both files\n",
               st->c->last);
    else
        printf("variance reduction at %d: %s (variance of the difference with independent "
               "seeds over that with paired runs)\n",
               st->c->last, ratio);
    if (!pds_compare_any_difference(st->c)) {
        printf("\nno difference in any run: every unit adopts in the same year in the scenario "
               "as in the baseline\n");
        print_subunits(st);
        print_config_diff(b, s);
        return;
    }
    size_t K = st->k;
    int year = st->c->first + (int)K;
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
        const pds_acc *a = &st->c->pd[u * Y + K];
        if (a->ss == 0 && st->c->yd[u].ss == 0)
            continue;
        double y[3];
        pds_acc_interval(a, R, v);
        pds_acc_interval(&st->c->yd[u], R, y);
        printf("%-10s ", b->codes[u]);
        if (st->names) {
            fputs(st->names[u], stdout);
            for (int w = text_width(st->names[u]); w <= name_w; w++)
                putchar(' ');
        }
        printf("%7.3f %7.3f %+8.3f [%+8.3f, %+8.3f] %+9.3f [%+8.3f, %+8.3f]\n",
               st->c->pb[u * Y + K] / R, st->c->ps[u * Y + K] / R, v[0], v[1], v[2], y[0], y[1], y[2]);
    }
    printf("(year diff: not adopted by %d counts as %d; negative = earlier in the scenario)\n",
           st->c->last, st->c->last + 1);
    pds_acc_interval(&st->c->gained, R, v);
    printf("\nunit-years gained per run (baseline year - scenario year, summed over units): "
           "%.3f [%.3f, %.3f]\n",
           v[0], v[1], v[2]);
    print_subunits(st);
    print_config_diff(b, s);
}

/* A number, or an empty cell for an undefined one. */
static void csv_num(FILE *f, double x)
{
    fputc(',', f);
    if (!isnan(x))
        fprintf(f, "%.10g", x);
}

/* One axis of a CSV file: the units (cells code, name) or the sub-units
 * (cells code, name, unit code, unit name). */
typedef struct csv_axis {
    const pds_compare *c;
    char **codes, **names;     /* [c->U]; names may be NULL */
    const pds_h5subunits *sub; /* the sub-units' parents, or NULL for the units */
    char **unit_names;         /* [units] names of the parents, or NULL */
} csv_axis;

/* The key cells of item u, or empty cells for u = -1. */
static void key_cells(FILE *f, const csv_axis *a, long u)
{
    fputc(',', f);
    if (u >= 0)
        pds_cli_csv_field(f, a->codes[u]);
    fputc(',', f);
    if (u >= 0 && a->names)
        pds_cli_csv_field(f, a->names[u]);
    if (!a->sub)
        return;
    fputc(',', f);
    if (u >= 0)
        pds_cli_csv_field(f, a->sub->unit_codes[u]);
    fputc(',', f);
    if (u >= 0 && a->unit_names)
        pds_cli_csv_field(f, a->unit_names[a->sub->parent[u]]);
}

/* The rows of every item: p_adopted_by_year by item and year, then
 * mean_adoption_year by item; the same for units and sub-units. */
static void item_rows(FILE *f, const csv_axis *a)
{
    const pds_compare *c = a->c;
    size_t U = c->U, Y = c->Y;
    double R = c->R, v[3];
    for (size_t u = 0; u < U; u++) {
        for (size_t k = 0; k < Y; k++) {
            pds_acc_interval(&c->pd[u * Y + k], R, v);
            fputs("p_adopted_by_year", f);
            key_cells(f, a, (long)u);
            fprintf(f, ",%d", c->first + (int)k);
            csv_num(f, c->pb[u * Y + k] / R);
            csv_num(f, c->ps[u * Y + k] / R);
            for (int i = 0; i < 3; i++)
                csv_num(f, v[i]);
            fputs(",\n", f);
        }
    }
    for (size_t u = 0; u < U; u++) {
        pds_acc_interval(&c->yd[u], R, v);
        fputs("mean_adoption_year", f);
        key_cells(f, a, (long)u);
        fputc(',', f);
        csv_num(f, c->yb[u] / R);
        csv_num(f, c->ys[u] / R);
        for (int i = 0; i < 3; i++)
            csv_num(f, v[i]);
        fputs(",\n", f);
    }
}

/* The per-run item-years gained, named quantity. */
static void gained_row(FILE *f, const csv_axis *a, const char *quantity)
{
    double v[3];
    pds_acc_interval(&a->c->gained, a->c->R, v);
    fputs(quantity, f);
    key_cells(f, a, -1);
    fputs(",,,", f);
    for (int i = 0; i < 3; i++)
        csv_num(f, v[i]);
    fputs(",\n", f);
}

static int csv_begin(pds_outfile *o, const char *path)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status ost = pds_outfile_begin(o, path, NULL, 0, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(ost);
}

static int csv_commit(pds_outfile *o)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status ost = pds_outfile_commit(o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return pds_cli_exit(ost);
}

/* Written under a temporary name and renamed when complete (sim/io/outfile.h). */
static int write_csv(const char *path, const stats *st, const pds_h5result *b)
{
    pds_outfile o;
    int rc = csv_begin(&o, path);
    if (rc)
        return rc;
    FILE *f = o.f;
    const csv_axis a = {st->c, b->codes, st->names, NULL, NULL};
    size_t Y = st->c->Y;
    double R = st->c->R, v[3];
    fputs("quantity,unit,name,year,base,scenario,difference,ci_low,ci_high,variance_ratio\n", f);
    for (size_t k = 0; k < Y; k++) {
        pds_acc_interval(&st->c->nd[k], R, v);
        fputs("national_adopted", f);
        key_cells(f, &a, -1);
        fprintf(f, ",%d", st->c->first + (int)k);
        csv_num(f, pds_acc_mean(&st->c->nb[k], R));
        csv_num(f, pds_acc_mean(&st->c->ns[k], R));
        for (int i = 0; i < 3; i++)
            csv_num(f, v[i]);
        csv_num(f, pds_compare_var_ratio(st->c, k));
        fputc('\n', f);
    }
    for (size_t k = 0; k < Y; k++) {
        /* base: the variance of the difference with independent seeds,
         * scenario: with paired runs */
        fputs("variance_of_difference", f);
        key_cells(f, &a, -1);
        fprintf(f, ",%d", st->c->first + (int)k);
        csv_num(f, pds_acc_var(&st->c->nb[k], R) + pds_acc_var(&st->c->ns[k], R));
        csv_num(f, pds_acc_var(&st->c->nd[k], R));
        fputs(",,,", f);
        csv_num(f, pds_compare_var_ratio(st->c, k));
        fputc('\n', f);
    }
    item_rows(f, &a);
    gained_row(f, &a, "unit_years_gained");
    return csv_commit(&o);
}

/* The sub-unit CSV: the same columns with the parent unit after the
 * sub-unit, share_adopted by year in place of the national rows. */
static int write_subunit_csv(const char *path, const stats *st)
{
    pds_outfile o;
    int rc = csv_begin(&o, path);
    if (rc)
        return rc;
    FILE *f = o.f;
    const csv_axis a = {st->sc, st->sb.codes, st->sb.names, &st->sb, st->names};
    fputs("quantity,subunit,name,unit,unit_name,year,base,scenario,difference,ci_low,ci_high,"
          "variance_ratio\n",
          f);
    for (size_t k = 0; k < st->sc->Y; k++) {
        pds_compare_share sh;
        pds_compare_share_at(st->sc, k, &sh);
        fputs("share_adopted", f);
        key_cells(f, &a, -1);
        fprintf(f, ",%d", st->sc->first + (int)k);
        csv_num(f, sh.base);
        csv_num(f, sh.scenario);
        for (int i = 0; i < 3; i++)
            csv_num(f, sh.diff[i]);
        csv_num(f, pds_compare_var_ratio(st->sc, k));
        fputc('\n', f);
    }
    item_rows(f, &a);
    gained_row(f, &a, "subunit_years_gained");
    return csv_commit(&o);
}

/* The sub-unit CSV beside the unit CSV: OUT.csv gives OUT-subunits.csv; a
 * name not ending in .csv gets -subunits.csv appended. Owned; NULL when out
 * of memory. */
static char *subunit_csv_path(const char *csv)
{
    size_t n = strlen(csv);
    if (n > 4 && strcmp(csv + n - 4, ".csv") == 0)
        n -= 4;
    char *p = malloc(n + sizeof "-subunits.csv");
    if (p) {
        memcpy(p, csv, n);
        memcpy(p + n, "-subunits.csv", sizeof "-subunits.csv");
    }
    return p;
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

/* An output that exists, without --replace: 2 with the message, else 0. */
static int exists(const char *out, int replace)
{
    if (!out || replace || access(out, F_OK) != 0)
        return 0;
    fprintf(stderr,
            "pdsim: error: %s: the output exists; nothing was compared. Add --replace to replace "
            "it, or choose another name\n",
            out);
    return 2;
}

#define N_OUTS 3

static int compare(const char *base, const char *scen, const char *csv, const char *out, int quiet,
                   int allow_model, int replace, long year, int require_sub)
{
    char *sub_csv = csv ? subunit_csv_path(csv) : NULL;
    if (csv && !sub_csv) {
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 1;
    }
    /* the sub-unit CSV is known only once the files are open, but it is
     * treated as an output from the start: it may not be an input, nor one
     * of the other outputs, and it is locked with them */
    const char *outs[N_OUTS] = {csv, out, sub_csv};
    static const char *const opt[N_OUTS] = {"--csv", "-o", "the sub-unit CSV of --csv"};
    int rc = 0;
    for (int i = 0; rc == 0 && i < N_OUTS; i++)
        rc = is_input(outs[i], base, scen);
    for (int i = 0; rc == 0 && i < N_OUTS; i++)
        for (int j = i + 1; rc == 0 && j < N_OUTS; j++) {
            if (!outs[i] || !outs[j])
                continue;
            char *a = pds_canonical_path(outs[i]), *o = pds_canonical_path(outs[j]);
            if (a && o && strcmp(a, o) == 0) {
                fprintf(stderr, "pdsim: error: %s and %s name the same file %s\n", opt[i], opt[j],
                        outs[j]);
                rc = 2;
            }
            free(a);
            free(o);
        }
    for (int i = 0; rc == 0 && i < N_OUTS; i++)
        if (outs[i] && pds_cli_make_parent(outs[i]) != 0)
            rc = 1;
    /* each output's lock before anything is checked or replaced */
    pds_lock *locks[N_OUTS] = {NULL, NULL, NULL};
    for (int i = 0; rc == 0 && i < N_OUTS; i++) {
        if (!outs[i])
            continue;
        pds_diag ld;
        pds_diag_init(&ld);
        rc = pds_cli_exit(pds_lock_take(outs[i], &locks[i], &ld));
        pds_cli_print_diag(&ld);
        pds_diag_free(&ld);
    }
    for (int i = 0; rc == 0 && i < 2; i++)
        rc = exists(outs[i], replace);
    pds_h5result b = {.file = -1, .runs = -1}, s = {.file = -1, .runs = -1};
    stats st;
    memset(&st, 0, sizeof st);
    st.sb.runs = st.ss.runs = -1;
    if (rc == 0) {
        pds_diag d;
        pds_diag_init(&d);
        if (pds_h5result_open(base, &b, &d) != 0 || pds_h5result_open(scen, &s, &d) != 0)
            rc = 2;
        pds_cli_print_diag(&d);
        pds_diag_free(&d);
    }
    if (rc == 0)
        rc = check_pairing(&b, &s, allow_model);
    size_t Y = (size_t)(b.last_year - b.first_year + 1);
    if (rc == 0) {
        st.c =
            pds_compare_create(b.n_units, Y, (int)b.first_year, (int)b.last_year, (int)b.base_year);
        if (!st.c) {
            fprintf(stderr, "pdsim: error: out of memory\n");
            rc = 1;
        }
    }
    if (rc == 0 && subunits_pair(&b, &s, &st, require_sub, &rc)) {
        st.sc =
            pds_compare_create(st.sb.n, Y, (int)b.first_year, (int)b.last_year, (int)b.base_year);
        if (!st.sc) {
            fprintf(stderr, "pdsim: error: out of memory\n");
            rc = 1;
        }
    }
    if (rc == 0 && st.sc)
        rc = exists(sub_csv, replace);
    if (rc == 0)
        rc = accumulate(&b, &s, &st);
    if (rc == 0 && year && (year < st.c->first || year > st.c->last)) {
        fprintf(stderr, "pdsim: error: --year %ld: expected a simulated year in %d..%d\n", year,
                st.c->first, st.c->last);
        rc = 2;
    }
    if (rc == 0) {
        st.k = year ? (size_t)(year - st.c->first) : pds_compare_year(st.c);
        st.year_given = year != 0;
        if (pds_h5result_unit_strings(&b, "name", &st.names) != 0)
            st.names = NULL;
    }
    if (rc == 0 && !quiet)
        print_table(&st, &b, &s);
    if (rc == 0 && csv)
        rc = write_csv(csv, &st, &b);
    if (rc == 0 && csv && st.sc)
        rc = write_subunit_csv(sub_csv, &st);
    if (rc == 0 && out) {
        pds_diag d2;
        pds_diag_init(&d2);
        const pds_compare_h5_subunits sub = {st.sc, &st.sb};
        rc = pds_cli_exit(
            pds_compare_h5_write(out, st.c, st.k, st.names, &b, &s, st.sc ? &sub : NULL, &d2));
        pds_cli_print_diag(&d2);
        pds_diag_free(&d2);
    }
    for (int i = 0; i < N_OUTS; i++)
        pds_lock_release(locks[i]);
    if (st.names)
        pds_h5_strings_free(st.names, st.c->U);
    pds_compare_free(st.c);
    pds_compare_free(st.sc);
    pds_h5subunits_close(&st.sb);
    pds_h5subunits_close(&st.ss);
    pds_h5result_close(&b);
    pds_h5result_close(&s);
    free(sub_csv);
    return rc;
}

int pds_cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"allow-model-change", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"replace", no_argument, NULL, 'F'},
        {"year", required_argument, NULL, 'y'},
        {"subunits", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    long year = 0;
    const char *csv = NULL, *out = NULL;
    int quiet = 0, allow_model = 0, replace = 0, require_sub = 0, c;
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
        case 'S':
            require_sub = 1;
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
                        "[--replace] [--year Y] [--subunits]\n");
        return 2;
    }
    int rc;
    /* every failure gets one message of ours; the library's error stack
     * would only repeat it at length */
    pds_h5_quiet q;
    pds_h5_quiet_begin(&q);
    {
        rc = compare(argv[optind], argv[optind + 1], csv, out, quiet, allow_model, replace, year,
                     require_sub);
    }
    pds_h5_quiet_end(&q);
    return rc;
}
