#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/h5out.h"
#include "cli.h"

/* East Asian wide and full-width code points (Unicode UAX #11, the blocks
 * that occur in names), which take two terminal columns. */
static int wide(unsigned long c)
{
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
}

int pds_cli_display_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned long c = *p;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (extra)
            c &= 0x3Fu >> extra;
        p++;
        for (; extra > 0 && (*p & 0xC0) == 0x80; extra--, p++)
            c = (c << 6) | (*p & 0x3Fu);
        w += wide(c) ? 2 : 1;
    }
    return w;
}

void pds_cli_print_padded(const char *s, int width)
{
    int w = pds_cli_display_width(s);
    fputs(s, stdout);
    for (; w < width; w++)
        putchar(' ');
}

void pds_cli_year_text(char *buf, size_t n, int y, int last)
{
    if (y == 0)
        snprintf(buf, n, ">%d", last);
    else
        snprintf(buf, n, "%d", y);
}

void pds_cli_year_range(char *buf, size_t n, int lo, int hi, int last)
{
    char a[16], b[16];
    pds_cli_year_text(a, sizeof a, lo, last);
    pds_cli_year_text(b, sizeof b, hi, last);
    if (lo == 0 || lo == hi)
        snprintf(buf, n, "%s", a); /* one year, or not by the horizon at all */
    else
        snprintf(buf, n, "%s\u2013%s", a, b);
}

void pds_cli_print_summary(const pds_setup *s, const pds_summary *sum)
{
    const pds_world *w = s->world;
    const pds_run_config *c = s->cfg;
    int last = (int)c->horizon;
    if (s->n_models > 1) {
        printf("pdsim forecast: %zu models (each run draws one:", s->n_models);
        for (size_t k = 0; k < s->n_models; k++)
            printf("%s %s %.3f", k ? "," : "", s->models[k]->name, c->model_weights[k]);
        printf("), %llu runs, seed %llu, simulating %d..%d\n", (unsigned long long)sum->n_runs,
               (unsigned long long)c->seed, sum->first_year, last);
    } else {
        printf("pdsim forecast: model %s, %llu runs, seed %llu, simulating %d..%d\n",
               s->unit_model->name, (unsigned long long)sum->n_runs, (unsigned long long)c->seed,
               sum->first_year, last);
    }
    if (c->intercept_recalibration)
        printf("intercept recalibrated in-sample: %+.4f added to the model's intercept\n",
               s->intercept_shift);
    const char **codes = malloc((w->n_units + 1) * sizeof *codes);
    const char **names = malloc((w->n_units + 1) * sizeof *names);
    int *observed = malloc((w->n_units + 1) * sizeof *observed);
    if (!codes || !names || !observed) {
        free(codes);
        free(names);
        free(observed);
        return;
    }
    for (size_t u = 0; u < w->n_units; u++) {
        codes[u] = w->units[u].code;
        names[u] = w->units[u].name;
        observed[u] = w->units[u].adoption_year;
    }
    pds_cli_forecast_view v = {.n_units = w->n_units,
                               .codes = codes,
                               .names = names,
                               .observed = observed,
                               .base_year = c->base_year,
                               .last_year = last,
                               .report_years = c->report_years,
                               .n_report_years = c->n_report_years};
    pds_cli_print_forecast(&v, sum);
    free(codes);
    free(names);
    free(observed);
}

void pds_cli_print_forecast(const pds_cli_forecast_view *v, const pds_summary *sum)
{
    int last = v->last_year;
    size_t Y = sum->n_years;
    size_t n_obs = 0;
    for (size_t u = 0; u < v->n_units; u++)
        n_obs += v->observed[u] != 0 && v->observed[u] <= v->base_year;
    printf("%zu of %zu units adopted by %ld (observed)\n\n", n_obs, v->n_units, v->base_year);

    int name_w = 4;
    for (size_t u = 0; u < v->n_units; u++) {
        int dw = pds_cli_display_width(v->names[u]);
        if (dw > name_w)
            name_w = dw;
    }
    printf("Units not adopted by %ld:\n", v->base_year);
    pds_cli_print_padded("code", 8);
    pds_cli_print_padded("name", name_w + 2);
    pds_cli_print_padded("median", 8);
    pds_cli_print_padded("10\u201390%", 14);
    for (size_t i = 0; i < v->n_report_years; i++)
        printf("  P(%ld)", v->report_years[i]);
    putchar('\n');
    for (size_t u = 0; u < v->n_units; u++) {
        int oy = v->observed[u];
        if (oy != 0 && oy <= v->base_year)
            continue;
        char med[16], iv[40];
        pds_cli_year_text(med, sizeof med, pds_summary_unit_year_quantile(sum, u, 0.5), last);
        pds_cli_year_range(iv, sizeof iv, pds_summary_unit_year_quantile(sum, u, 0.1),
                           pds_summary_unit_year_quantile(sum, u, 0.9), last);
        pds_cli_print_padded(v->codes[u], 8);
        pds_cli_print_padded(v->names[u], name_w + 2);
        pds_cli_print_padded(med, 8);
        pds_cli_print_padded(iv, 14);
        for (size_t i = 0; i < v->n_report_years; i++) {
            size_t k = (size_t)(v->report_years[i] - sum->first_year);
            printf("  %*.3f", (int)strlen("P(2025)"), pds_summary_p_adopted(sum, u, k));
        }
        putchar('\n');
    }
    printf("\nNational curve (units adopted by the end of each year):\n");
    printf("%-6s %8s %6s %9s %9s\n", "year", "mean", "median", "25-75%", "5-95%");
    for (size_t k = 0; k < Y; k++) {
        char a[24], b[24];
        snprintf(a, sizeof a, "%d-%d", pds_summary_national_quantile(sum, k, 0.25),
                 pds_summary_national_quantile(sum, k, 0.75));
        snprintf(b, sizeof b, "%d-%d", pds_summary_national_quantile(sum, k, 0.05),
                 pds_summary_national_quantile(sum, k, 0.95));
        printf("%-6d %8.2f %6d %9s %9s\n", sum->first_year + (int)k, pds_summary_national_mean(sum, k),
               pds_summary_national_quantile(sum, k, 0.5), a, b);
    }
}

void pds_cli_print_reliability(const pds_insample *q, const pds_backtest_reliability *bt,
                               const char *provenance, const char *uncertainty, size_t n_models)
{
    printf("\nReliability of this forecast:\n");
    if (q && q->n_periods > 0) {
        printf("  in-sample check (observed adoptions against the sum of the model's fitted "
               "hazards over the unit-years at risk):\n");
        printf("  %-11s %8s %9s %9s %7s %7s\n", "years", "at risk", "observed", "expected", "sd",
               "z");
        for (size_t i = 0; i <= q->n_periods; i++) {
            const pds_insample_period *p = &q->period[i];
            char yrs[32];
            snprintf(yrs, sizeof yrs, "%d\u2013%d", p->first, p->last);
            printf("  ");
            pds_cli_print_padded(i == q->n_periods ? "all" : yrs, 11);
            printf(" %8zu %9.0f %9.2f %7.2f %+7.2f%s\n", p->at_risk, p->observed, p->expected,
                   p->sd, p->z, i < q->n_periods && !(fabs(p->z) <= 2) ? "  <- |z| > 2" : "");
        }
    } else {
        printf("  in-sample check: not available\n");
    }
    int bt_worse = 0;
    if (bt && bt->first_cutoff) {
        printf("  backtest (forecasts made at the end of %d..%d, scored on the observed years to "
               "the base year; %zu unit-years of %zu units; %llu runs per origin%s; lower is "
               "better):\n",
               bt->first_cutoff, bt->last_cutoff, bt->unit_years, bt->units,
               (unsigned long long)bt->runs, bt->refit ? "; refitted at each origin" : "");
        printf("  %-20s %9s %9s %9s   %-30s %s\n", "", "Brier", "log score", "RPS",
               "this minus row, log score", "stacking weight");
        for (size_t k = 0; k < PDS_REL_FC; k++) {
            printf("  %-20s %9.4f %9.4f %9.4f", pds_backtest_reliability_names[k],
                   bt->score[k][PDS_SC_BRIER], bt->score[k][PDS_SC_LOG], bt->score[k][PDS_SC_RPS]);
            char cell[64] = "";
            if (k > 0) {
                pds_fc_diff d = {.diff = bt->diff[k][PDS_SC_LOG], .se = bt->diff_se[k][PDS_SC_LOG]};
                const char *v = pds_fc_verdict(&d);
                snprintf(cell, sizeof cell, "%+.4f (%.4f) %s", d.diff, d.se,
                         strcmp(v, "better") == 0   ? "this better"
                         : strcmp(v, "worse") == 0 ? "THIS WORSE"
                                                   : "no clear diff.");
                bt_worse |= k > 1 && strcmp(v, "worse") == 0;
            }
            printf("   %-30s %.3f\n", cell, bt->stacking[k]);
        }
        printf("  (paired difference of the log scores, its SE clustered by unit in brackets; "
               "better or worse only beyond 2 SE)\n");
    } else {
        printf("  backtest: not done (run --no-backtest, reliability.backtest_origins: 0, or too "
               "little history)\n");
    }
    if (provenance && *provenance) {
        printf("  data provenance:\n");
        const char *l = provenance;
        while (*l) {
            const char *e = strchr(l, '\n');
            int n = e ? (int)(e - l) : (int)strlen(l);
            printf("    %.*s\n", n, l);
            l += n + (e ? 1 : 0);
        }
    }
    printf("  uncertainty: %s%s\n", uncertainty && *uncertainty ? uncertainty : "none",
           n_models > 1 ? ", structural (several models)" : "");
    if (q && q->worst_abs_z_over_2)
        printf("pdsim: warning: the model does not reproduce the observed past (|z| > 2 in a "
               "period of the in-sample check): read the forecast with care\n");
    if (bt_worse)
        printf("pdsim: warning: in the backtest this forecast scores worse than a simple "
               "baseline (constant hazard or logistic curve) beyond noise\n");
    if (!uncertainty || !*uncertainty || strcmp(uncertainty, "none") == 0)
        printf("pdsim: warning: no parameter uncertainty: the intervals are Monte Carlo "
               "variation of a model taken as exact, and are too narrow\n");
}
