#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/backtest.h"
#include "../core/compare_fc.h"
#include "../core/pp.h"
#include "../io/csvtab.h"
#include "../io/dataset.h"
#include "../io/backtest_setup.h"
#include "../io/model_io.h"
#include "../io/inputs.h"
#include "cli.h"

#define MAX_ORIGINS 200
#define MAX_CONFIGS 16

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct bt_args {
    const char *configs[MAX_CONFIGS];
    size_t n_configs;
    long cutoff_from, cutoff_to;
    int refit, firth;
    long runs, threads;
    const char *seed_s;
    const char *csv;
    const char *hazards_csv;
} bt_args;

static const char *const score_names[3] = {"Brier", "log score", "RPS"};

static double score_of(const pds_scores *s, int i)
{
    return i == 0 ? s->brier : i == 1 ? s->log_score : s->rps;
}

static const double *unit_score(const pds_backtest_forecast *f, int i)
{
    return i == 0 ? f->unit_brier : i == 1 ? f->unit_log : f->unit_rps;
}

/* "2019" or "2017..2021" */
static int parse_cutoff(const char *s, long *from, long *to)
{
    const char *dots = strstr(s, "..");
    if (!dots)
        return pds_parse_long(s, from) != 0 ? -1 : (*to = *from, 0);
    char buf[32];
    size_t n = (size_t)(dots - s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (pds_parse_long(buf, from) != 0 || pds_parse_long(dots + 2, to) != 0 || *to < *from)
        return -1;
    return 0;
}

static void print_origin(const pds_backtest_result *r, const pds_model *m, int refitted,
                         double shift)
{
    size_t Y = r->n_years;
    printf("\n== cutoff %d: history to %d, forecast %d..%d (%zu years) ==\n", r->cutoff, r->cutoff,
           r->cutoff + 1, r->last_year, Y);
    printf("units at risk at the cutoff: %zu of %zu (%zu adopted by %d); adoptions in the window: "
           "%zu\n",
           r->n_risk, r->n_units, r->n_before, r->cutoff, r->f[0].scores.n_events);
    printf("baselines fitted on %d..%d: %zu adoptions in %zu unit-years at risk; constant hazard "
           "%.4f; logistic curve: share = 1/(1+exp(-(%.3f %+.3f (t - %d))))\n",
           r->first_year, r->cutoff, r->fit_events, r->fit_unit_years, r->constant_rate,
           r->logistic_a, r->logistic_b, r->cutoff);
    if (!isnan(shift))
        printf("model intercept recalibrated in the mean on %d..%d: shift %+.4f, intercept %.4f\n",
               r->first_year, r->cutoff, shift, m->intercept);
    if (refitted) {
        printf("model refitted on %d..%d:", r->first_year, r->cutoff);
        printf(" (constant) %.4f (%.4f)", m->intercept, m->intercept_se);
        for (size_t j = 0; j < m->n_terms; j++)
            printf(", %s %.4f (%.4f)", m->terms[j].name, m->terms[j].coef, m->terms[j].se);
        putchar('\n');
    }
    printf("\n%-22s %10s %10s %10s\n", "forecaster", "Brier", "log score", "RPS");
    for (int i = 0; i < PDS_BT_N; i++) {
        const pds_scores *s = &r->f[i].scores;
        printf("%-22s %10.5f %10.5f %10.5f\n", pds_backtest_names[i], s->brier, s->log_score,
               s->rps);
    }
    printf("(%zu unit-years at risk, %zu units; lower is better)\n", r->f[0].scores.n_unit_years,
           r->n_risk);

    printf("\nmodel minus baseline, per unit (mean and standard error over the %zu units; "
           "negative: the model is better)\n",
           r->n_risk);
    printf("%-22s %22s %22s %22s\n", "baseline", "Brier (sum)", "log score (sum)", "RPS");
    pds_fc_diff pd[PDS_BT_N][3];
    for (int b = PDS_BT_NO_CHANNELS; b < PDS_BT_N; b++) {
        printf("%-22s", pds_backtest_names[b]);
        for (int sc = 0; sc < 3; sc++) {
            const double *a = unit_score(&r->f[PDS_BT_MODEL], sc), *c = unit_score(&r->f[b], sc);
            double sum = 0, ss = 0, n = (double)r->n_risk;
            for (size_t i = 0; i < r->n_risk; i++)
                sum += a[i] - c[i];
            double mean = sum / n;
            for (size_t i = 0; i < r->n_risk; i++)
                ss += (a[i] - c[i] - mean) * (a[i] - c[i] - mean);
            double se = r->n_risk > 1 ? sqrt(ss / (n - 1) / n) : NAN;
            pd[b][sc] = (pds_fc_diff){.diff = mean, .se = se};
            char cell[40];
            snprintf(cell, sizeof cell, "%+.4f (%.4f)", mean, se);
            printf(" %22s", cell);
        }
        putchar('\n');
    }
    printf("\ncalibration of the model (unit-years at risk by predicted hazard)\n");
    printf("%-12s %8s %8s %12s %10s %10s\n", "hazard", "n", "events", "mean pred.", "observed",
           "2 SE");
    for (int b = 0; b < PDS_SCORE_BINS; b++) {
        const pds_calibration_bin *c = &r->f[PDS_BT_MODEL].scores.bins[b];
        if (!c->n)
            continue;
        char range[32];
        snprintf(range, sizeof range, "%.2f-%.2f", c->lo, c->hi);
        printf("%-12s %8zu %8zu %12.4f %10.4f %10.4f\n", range, c->n, c->events, c->mean_pred,
               c->obs_freq, 2 * c->se);
    }

    printf("\ncalibration of the baselines (n: mean predicted / observed)\n%-12s", "hazard");
    for (int i = PDS_BT_NO_CHANNELS; i < PDS_BT_N; i++)
        printf(" %24s", pds_backtest_names[i]);
    putchar('\n');
    for (int b = 0; b < PDS_SCORE_BINS; b++) {
        int any = 0;
        for (int i = PDS_BT_NO_CHANNELS; i < PDS_BT_N; i++)
            any |= r->f[i].scores.bins[b].n > 0;
        if (!any)
            continue;
        const pds_calibration_bin *c0 = &r->f[PDS_BT_MODEL].scores.bins[b];
        char range[32];
        snprintf(range, sizeof range, "%.2f-%.2f", c0->lo, c0->hi);
        printf("%-12s", range);
        for (int i = PDS_BT_NO_CHANNELS; i < PDS_BT_N; i++) {
            const pds_calibration_bin *c = &r->f[i].scores.bins[b];
            char cell[48] = "";
            if (c->n)
                snprintf(cell, sizeof cell, "%zu: %.4f / %.4f", c->n, c->mean_pred, c->obs_freq);
            printf(" %24s", cell);
        }
        putchar('\n');
    }

    printf("\nunits adopted by the end of each year: observed; median [10%%, 90%%] of each "
           "forecaster (* = observed outside)\n");
    printf("%-6s %8s", "year", "observed");
    for (int i = 0; i < PDS_BT_N; i++)
        printf(" %20s", pds_backtest_names[i]);
    putchar('\n');
    int inside[PDS_BT_N] = {0};
    for (size_t k = 0; k < Y; k++) {
        printf("%-6d %8d", r->cutoff + 1 + (int)k, r->observed_count[k]);
        for (int i = 0; i < PDS_BT_N; i++) {
            const int *q = r->f[i].count_q + k * 3;
            int in = r->observed_count[k] >= q[0] && r->observed_count[k] <= q[2];
            inside[i] += in;
            char cell[40];
            snprintf(cell, sizeof cell, "%d [%d, %d]%s", q[1], q[0], q[2], in ? " " : "*");
            printf(" %20s", cell);
        }
        putchar('\n');
    }
    printf("%-15s", "years inside");
    for (int i = 0; i < PDS_BT_N; i++) {
        char cell[24];
        snprintf(cell, sizeof cell, "%d of %zu ", inside[i], Y);
        printf(" %20s", cell);
    }
    putchar('\n');

    printf("\nverdict (from the paired differences above: better or worse only when the "
           "difference exceeds 2 standard errors):\n");
    for (int b = PDS_BT_NO_CHANNELS; b < PDS_BT_N; b++) {
        printf("  against %-20s the model is:", pds_backtest_names[b]);
        for (int sc = 0; sc < 3; sc++)
            printf("%s %s on %s", sc ? "," : "", pds_fc_verdict(&pd[b][sc]), score_names[sc]);
        putchar('\n');
    }
}

static void csv_rows(FILE *o, const char *config, const pds_backtest_result *r)
{
    for (int i = 0; i < PDS_BT_N; i++) {
        const pds_scores *s = &r->f[i].scores;
        pds_cli_csv_field(o, config);
        fprintf(o, ",%d,%d,\"%s\",%zu,%zu,%zu,%.17g,%.17g,%.17g\n", r->cutoff, r->last_year,
                pds_backtest_names[i], s->n_units, s->n_unit_years, s->n_events, s->brier,
                s->log_score, s->rps);
    }
}

/* Every forecast hazard scored: one row per forecaster and unit-year of the
 * window, for every unit at risk at the cutoff. */
static void hazard_rows(FILE *o, const char *config, const pds_world *w,
                        const pds_backtest_result *r)
{
    size_t Y = r->n_years;
    for (int i = 0; i < PDS_BT_N; i++)
        for (size_t u = 0; u < r->n_risk; u++) {
            int oc = r->outcome[u];
            for (size_t k = 0; k < Y; k++) {
                pds_cli_csv_field(o, config);
                fprintf(o, ",%d,\"%s\",", r->cutoff, pds_backtest_names[i]);
                pds_cli_csv_field(o, w->units[r->risk_unit[u]].code);
                fprintf(o, ",%d,%d,%d,%.17g\n", r->cutoff + 1 + (int)k,
                        oc < 0 || (int)k <= oc, (int)k == oc, r->f[i].hazard[u * Y + k]);
            }
        }
}

static int parse_args(int argc, char **argv, bt_args *a)
{
    static const struct option longopts[] = {
        {"cutoff", required_argument, NULL, 'c'},
        {"refit", no_argument, NULL, 'R'},
        {"firth", no_argument, NULL, 'f'},
        {"runs", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'j'},
        {"csv", required_argument, NULL, 'C'},
        {"hazards-csv", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->runs = a->threads = -1;
    int have_cutoff = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:s:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (parse_cutoff(optarg, &a->cutoff_from, &a->cutoff_to) != 0) {
                fprintf(stderr, "pdsim: error: --cutoff: expected a year or FROM..TO, got \"%s\"\n",
                        optarg);
                return 2;
            }
            have_cutoff = 1;
            break;
        case 'R':
            a->refit = 1;
            break;
        case 'f':
            a->firth = 1;
            break;
        case 'n':
        case 'j':
            if (pds_parse_long(optarg, c == 'n' ? &a->runs : &a->threads) != 0 ||
                (c == 'n' ? a->runs < 1 || a->runs > 1000000000
                          : a->threads < 0 || a->threads > 1024)) {
                fprintf(stderr, "pdsim: error: %s: expected %s, got \"%s\"\n",
                        c == 'n' ? "--runs" : "--threads",
                        c == 'n' ? "an integer in 1..1000000000" : "an integer in 0..1024", optarg);
                return 2;
            }
            break;
        case 's':
            a->seed_s = optarg;
            break;
        case 'C':
            a->csv = optarg;
            break;
        case 'H':
            a->hazards_csv = optarg;
            break;
        default:
            return pds_cli_getopt_other(c, "backtest", argv);
        }
    }
    if (optind >= argc || !have_cutoff) {
        fprintf(stderr, "pdsim: error: usage: pdsim backtest CONFIG.yaml [CONFIG2.yaml ...] "
                        "--cutoff YEAR|FROM..TO [--refit] [-n RUNS] [-s SEED] [-j THREADS] "
                        "[--csv OUT.csv] [--hazards-csv HAZARDS.csv]\n");
        return 2;
    }
    if (argc - optind > MAX_CONFIGS) {
        fprintf(stderr, "pdsim: error: at most %d configs at once, got %d\n", MAX_CONFIGS,
                argc - optind);
        return 2;
    }
    if (a->csv && a->hazards_csv && strcmp(a->csv, a->hazards_csv) == 0) {
        fprintf(stderr, "pdsim: error: --csv and --hazards-csv name the same file %s\n", a->csv);
        return 2;
    }
    if (a->firth && !a->refit) {
        fprintf(stderr, "pdsim: error: --firth applies to the refit: give --refit too\n");
        return 2;
    }
    if (a->cutoff_to - a->cutoff_from >= MAX_ORIGINS) {
        fprintf(stderr, "pdsim: error: --cutoff: at most %d origins\n", MAX_ORIGINS);
        return 2;
    }
    for (int i = optind; i < argc; i++)
        a->configs[a->n_configs++] = argv[i];
    return -1;
}

/* A new file under a temporary name beside path (sim/io/outfile.h). */
static FILE *open_tmp(const char *path, pds_outfile *o, pds_diag *diag)
{
    return pds_outfile_begin(o, path, NULL, 0, diag) == PDS_OK ? o->f : NULL;
}

/* Rename o onto its path when all is well, else remove it. */
static int finish_tmp(FILE **f, pds_outfile *o, int ok)
{
    if (!*f)
        return 0;
    *f = NULL;
    if (!ok) {
        pds_outfile_abort(o);
        return 0;
    }
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_commit(o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return st == PDS_OK ? 0 : -1;
}

typedef struct bt_config {
    const char *path;
    pds_run_config *cfg;
    pds_model *spec, *sub; /* spec: specs[0] */
    pds_model *specs[PDS_MAX_MODELS];
    size_t n_specs;
    double mean[PDS_BT_N][3];
    int wins[PDS_BT_N][3];
} bt_config;

/* The pooled comparison of every forecaster over the origins. */
static void print_comparison(const bt_args *a, const bt_config *c, const pds_fc_pool *pool)
{
    size_t K = a->n_configs, F = pool->n_fc;
    pds_fc_diff cl;
    pds_fc_pool_diff(pool, 0, 0, PDS_SC_RPS, &cl);
    printf("\n== comparison of the forecasters over %zu origin%s (%ld..%ld): %zu unit-origins of "
           "%zu units, %zu unit-years ==\n",
           pool->n_origins, pool->n_origins == 1 ? "" : "s", a->cutoff_from, a->cutoff_to,
           pool->n_rows, cl.n_clusters, pool->n_uy);
    char label[MAX_CONFIGS + 3][24];
    for (size_t k = 0; k < F; k++)
        snprintf(label[k], sizeof label[k], "[%zu]", k + 1);
    for (size_t k = 0; k < K; k++)
        printf("  %-5s %s of %s (%s%s)\n", label[k], c[k].n_specs > 1 ? "mixture" : "model",
               c[k].path, c[k].spec->name, c[k].n_specs > 1 ? ", ..." : "");
    for (int b = PDS_BT_NO_CHANNELS; b < PDS_BT_N; b++)
        printf("  %-5s %s%s%s%s\n", label[K + (size_t)b - 1], pds_backtest_names[b],
               K > 1 ? " (as fitted for " : "", K > 1 ? c[0].path : "", K > 1 ? ")" : "");
    printf("\npooled scores (Brier and log score per unit-year, RPS per unit-origin; lower is "
           "better)\n%-6s %10s %10s %10s\n",
           "", score_names[0], score_names[1], score_names[2]);
    for (size_t k = 0; k < F; k++) {
        printf("%-6s", label[k]);
        for (int sc = 0; sc < 3; sc++) {
            pds_fc_diff d;
            pds_fc_pool_diff(pool, k, k, sc, &d);
            printf(" %10.5f", d.mean_a);
        }
        putchar('\n');
    }
    printf("\npaired differences A minus B (negative: A is better), standard errors clustered by "
           "unit over all origins;\n\"better\" or \"worse\" only when |difference| > 2 SE, else "
           "\"no clear difference\"\n");
    printf("%-4s %-4s %22s %22s %22s   verdict for A (Brier, log score, RPS)\n", "A", "B",
           "Brier", "log score", "RPS");
    for (size_t x = 0; x < K; x++)
        for (size_t y = 0; y < F; y++) {
            if (y == x || (y < K && !(x > 0 && y == 0)))
                continue; /* each config against the first and against each baseline */
            printf("%-4s %-4s", label[x], label[y]);
            const char *v[3];
            for (int sc = 0; sc < 3; sc++) {
                pds_fc_diff d;
                pds_fc_pool_diff(pool, x, y, sc, &d);
                char cell[48];
                snprintf(cell, sizeof cell, "%+.5f (%.5f)", d.diff, d.se);
                printf(" %22s", cell);
                v[sc] = pds_fc_verdict(&d);
            }
            printf("   %s, %s, %s\n", v[0], v[1], v[2]);
        }
    double *w = malloc(F * sizeof *w), obj = NAN;
    int iters = 0;
    if (!w || pds_fc_stack(pool->uy_prob, pool->n_uy, F, w, &obj, &iters) != PDS_OK) {
        printf("\nstacking weights: could not be computed\n");
        free(w);
        return;
    }
    printf("\nstacking weights (Yao et al. 2018): the mixture sum_k w_k h_k of the hazards that "
           "maximizes the log score over the %zu held-out unit-years\n",
           pool->n_uy);
    for (size_t k = 0; k < F; k++)
        printf("%-6s %9.6f\n", label[k], w[k]);
    size_t best = 0;
    double best_log = INFINITY;
    for (size_t k = 0; k < F; k++) {
        pds_fc_diff d;
        pds_fc_pool_diff(pool, k, k, PDS_SC_LOG, &d);
        if (d.mean_a < best_log) {
            best_log = d.mean_a;
            best = k;
        }
    }
    printf("log score of the stacked forecast per unit-year: %.7f (best single forecaster: %s, "
           "%.5f); in-sample for the weights, so optimistic\n",
           -obj / (double)pool->n_uy, label[best], best_log);

    if (K > 1) {
        /* the weights of a `models:` list: the configs' models alone */
        double *q = malloc((pool->n_uy * K + 1) * sizeof *q);
        double obj2 = NAN;
        if (q) {
            for (size_t n = 0; n < pool->n_uy; n++)
                for (size_t k = 0; k < K; k++)
                    q[n * K + k] = pool->uy_prob[n * F + k];
        }
        if (q && pds_fc_stack(q, pool->n_uy, K, w, &obj2, &iters) == PDS_OK) {
            printf("\nstacking weights over the configs' models alone (weights for a models: list "
                   "of them)\n");
            for (size_t k = 0; k < K; k++)
                printf("%-6s %9.6f (models only)\n", label[k], w[k]);
            printf("log score of that stacked forecast per unit-year: %.7f (models only)\n",
                   -obj2 / (double)pool->n_uy);
        }
        free(q);
    }
    free(w);
}

int pds_cmd_backtest(int argc, char **argv)
{
    bt_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    pds_diag diag;
    pds_diag_init(&diag);
    size_t K = a.n_configs;
    bt_config c[MAX_CONFIGS];
    memset(c, 0, sizeof c);
    pds_world *full = NULL;
    int *observed = NULL;
    FILE *csv = NULL, *hcsv = NULL;
    pds_outfile csv_o = {0}, hcsv_o = {0};
    pds_fc_pool *pool = NULL;
    pds_status st = PDS_OK;
    int loaded = 1;
    for (size_t k = 0; k < K; k++) {
        c[k].path = a.configs[k];
        c[k].cfg = pds_run_config_load(a.configs[k], &diag);
        if (c[k].cfg) {
            c[k].n_specs = pds_backtest_load_models(c[k].cfg, c[k].specs, &diag);
            c[k].spec = c[k].specs[0];
            if (c[k].cfg->subunit_model_path)
                c[k].sub = pds_model_load(c[k].cfg->subunit_model_path, &diag);
        }
        loaded &= c[k].cfg && c[k].spec && (!c[k].cfg->subunit_model_path || c[k].sub);
    }
    const pds_run_config *cfg = c[0].cfg;
    if (loaded) {
        pds_dataset_options dopt = {.sea_links = cfg->sea_links,
                                    .neighbour_weights = cfg->neighbour_weights_path};
        full = pds_dataset_load(cfg->dataset_path, &dopt, &diag);
    }
    if (!loaded || !full) {
        st = PDS_ERR_INPUT;
        goto done;
    }
    for (size_t k = 1; k < K; k++) {
        const pds_run_config *ck = c[k].cfg;
        char *r0 = realpath(cfg->dataset_path, NULL), *rk = realpath(ck->dataset_path, NULL);
        int same = r0 && rk && strcmp(r0, rk) == 0;
        free(r0);
        free(rk);
        if (!same || ck->base_year != cfg->base_year) {
            pds_diag_add(&diag, a.configs[k], 0, 0,
                         "configs compared in one backtest must share the dataset and base_year: "
                         "%s has %s, %ld, %s has %s, %ld",
                         a.configs[0], cfg->dataset_path, cfg->base_year, a.configs[k],
                         ck->dataset_path, ck->base_year);
            st = PDS_ERR_INPUT;
        }
    }
    /* no output replaces a config or anything a config reads */
    pds_inset in;
    pds_inset_init(&in);
    for (size_t k = 0; k < K; k++)
        if (pds_inset_add(&in, a.configs[k]) != 0 || pds_run_inputs_add(&in, c[k].cfg) != 0)
            st = PDS_ERR_RUNTIME;
    for (int o = 0; o < 2 && st == PDS_OK; o++) {
        const char *out = o ? a.hazards_csv : a.csv;
        if (out && pds_inset_check(&in, out, &diag) != PDS_OK)
            st = PDS_ERR_INPUT;
    }
    pds_inset_free(&in);
    if (st != PDS_OK)
        goto done;
    unsigned long long seed = cfg->seed;
    if (a.seed_s && pds_parse_u64(a.seed_s, &seed) != 0) {
        pds_diag_add(&diag, NULL, 0, 0, "--seed: expected a non-negative integer, got \"%s\"",
                     a.seed_s);
        st = PDS_ERR_INPUT;
        goto done;
    }
    uint64_t runs = a.runs > 0 ? (uint64_t)a.runs : cfg->runs;
    int first = pds_backtest_data_first_year(full), last = (int)cfg->base_year;
    if (a.cutoff_from < first || a.cutoff_to >= last) {
        char given[64];
        if (a.cutoff_to != a.cutoff_from)
            snprintf(given, sizeof given, "%ld..%ld", a.cutoff_from, a.cutoff_to);
        else
            snprintf(given, sizeof given, "%ld", a.cutoff_from);
        pds_diag_add(&diag, a.configs[0], 0, 0,
                     "--cutoff %s is outside the data: the observed history of %s covers %d..%d "
                     "(to the config's base_year), so a cutoff must lie in %d..%d",
                     given, cfg->dataset_path, first, last, first, last - 1);
        st = PDS_ERR_INPUT;
        goto done;
    }
    for (size_t k = 0; k < K; k++) {
        if (c[k].cfg->scenario.name)
            fprintf(stderr,
                    "pdsim: note: %s: the scenario '%s' is ignored: a backtest forecasts "
                    "from the observed history\n",
                    a.configs[k], c[k].cfg->scenario.name);
        if (k > 0 && !a.seed_s && c[k].cfg->seed != cfg->seed)
            fprintf(stderr,
                    "pdsim: note: %s: its seed %llu is not used: every config runs with the "
                    "seed %llu of %s (common random numbers)\n",
                    a.configs[k], (unsigned long long)c[k].cfg->seed, seed, a.configs[0]);
        if (k > 0 && a.runs <= 0 && c[k].cfg->runs != cfg->runs)
            fprintf(stderr,
                    "pdsim: note: %s: its runs %llu are not used: every config runs %llu runs, "
                    "as %s\n",
                    a.configs[k], (unsigned long long)c[k].cfg->runs, (unsigned long long)runs,
                    a.configs[0]);
    }
    observed = calloc(full->n_units + 1, sizeof(int));
    pool = pds_fc_pool_create(K + PDS_BT_N - 1, full->n_units);
    if (!observed || !pool) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    for (size_t u = 0; u < full->n_units; u++)
        observed[u] = full->units[u].adoption_year;
    if (a.csv) {
        csv = open_tmp(a.csv, &csv_o, &diag);
        if (!csv) {
            st = PDS_ERR_RUNTIME;
            goto done;
        }
        fputs("config,cutoff,last_year,forecaster,units_at_risk,unit_years,events,brier,log_score,"
              "rps\n",
              csv);
    }
    if (a.hazards_csv) {
        hcsv = open_tmp(a.hazards_csv, &hcsv_o, &diag);
        if (!hcsv) {
            st = PDS_ERR_RUNTIME;
            goto done;
        }
        fputs("config,cutoff,forecaster,unit,year,at_risk,adopted,hazard\n", hcsv);
    }
    for (size_t k = 0; k < K; k++)
        printf("Backtest of %s (model %s) on %s; observed history to %d; %llu runs, seed %llu%s\n",
               a.configs[k], c[k].spec->name, c[k].cfg->dataset_path, last,
               (unsigned long long)runs, (unsigned long long)seed,
               a.refit                              ? "; model refitted at each cutoff"
               : c[k].cfg->intercept_recalibration ? "; intercept recalibrated at each cutoff"
                                                    : "");
    size_t n_orig = (size_t)(a.cutoff_to - a.cutoff_from + 1);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    size_t done = 0;
    for (size_t o = 0; o < n_orig && st == PDS_OK; o++) {
        pds_backtest_result *r[MAX_CONFIGS] = {NULL};
        int cutoff = (int)a.cutoff_from + (int)o;
        for (size_t k = 0; k < K && st == PDS_OK; k++) {
            pds_model *fitted[PDS_MAX_MODELS] = {NULL};
            double shift[PDS_MAX_MODELS];
            pds_backtest_setup bs = {.cfg = c[k].cfg,
                                     .n_specs = c[k].n_specs,
                                     .specs = (const pds_model *const *)c[k].specs,
                                     .sub = c[k].sub,
                                     .observed = observed,
                                     .seed = seed,
                                     .runs = runs,
                                     .refit = a.refit,
                                     .firth = a.firth,
                                     .threads = a.threads >= 0 ? (int)a.threads
                                                               : (int)c[k].cfg->threads,
                                     .stop = (volatile int *)&interrupted};
            st = pds_backtest_origin(&bs, cutoff, &diag, &r[k], fitted, shift);
            if (st == PDS_OK) {
                if (K > 1)
                    printf("\n-- config %zu of %zu: %s --", k + 1, K, a.configs[k]);
                print_origin(r[k], fitted[0] ? fitted[0] : c[k].spec, a.refit, shift[0]);
                if (c[k].n_specs > 1)
                    printf("(the forecast mixes %zu models: each run draws one with the "
                           "config's weights; the first is shown)\n",
                           c[k].n_specs);
                if (csv)
                    csv_rows(csv, a.configs[k], r[k]);
                if (hcsv)
                    hazard_rows(hcsv, a.configs[k], full, r[k]);
                for (int i = 0; i < PDS_BT_N; i++)
                    for (int sc = 0; sc < 3; sc++) {
                        double v = score_of(&r[k]->f[i].scores, sc);
                        c[k].mean[i][sc] += v / (double)n_orig;
                        c[k].wins[i][sc] += score_of(&r[k]->f[PDS_BT_MODEL].scores, sc) < v;
                    }
            } else if ((n_orig > 1 || K > 1) && !interrupted) {
                pds_diag_add(&diag, a.configs[k], 0, 0, "backtest with cutoff %d failed (above)",
                             cutoff);
            }
            for (size_t j = 0; j < c[k].n_specs; j++)
                pds_model_free(fitted[j]);
        }
        if (st == PDS_OK) {
            const pds_backtest_result *rr[MAX_CONFIGS + PDS_BT_N];
            int which[MAX_CONFIGS + PDS_BT_N];
            for (size_t k = 0; k < K; k++) {
                rr[k] = r[k];
                which[k] = PDS_BT_MODEL;
            }
            for (int b = PDS_BT_NO_CHANNELS; b < PDS_BT_N; b++) {
                rr[K + (size_t)b - 1] = r[0];
                which[K + (size_t)b - 1] = b;
            }
            st = pds_fc_pool_add(pool, rr, which, &diag);
        }
        if (st == PDS_OK)
            done++;
        for (size_t k = 0; k < K; k++)
            pds_backtest_free(r[k]);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (interrupted) {
        fprintf(stderr, "pdsim: interrupted after %zu of %zu origins%s\n", done, n_orig,
                a.csv || a.hazards_csv ? "; no CSV written" : "");
        st = PDS_ERR_RUNTIME;
    }
    if (st == PDS_OK && n_orig > 1)
        for (size_t k = 0; k < K; k++) {
            printf("\n== rolling origin: %ld..%ld (%zu origins)%s%s ==\n", a.cutoff_from,
                   a.cutoff_to, n_orig, K > 1 ? ", " : "", K > 1 ? a.configs[k] : "");
            printf("%-22s %10s %10s %10s   origins where the model scores better (Brier, log, "
                   "RPS)\n",
                   "mean over origins", score_names[0], score_names[1], score_names[2]);
            for (int i = 0; i < PDS_BT_N; i++) {
                printf("%-22s %10.5f %10.5f %10.5f", pds_backtest_names[i], c[k].mean[i][0],
                       c[k].mean[i][1], c[k].mean[i][2]);
                if (i != PDS_BT_MODEL)
                    printf("   %d, %d, %d of %zu", c[k].wins[i][0], c[k].wins[i][1],
                           c[k].wins[i][2], n_orig);
                putchar('\n');
            }
        }
    if (st == PDS_OK)
        print_comparison(&a, c, pool);
    if (finish_tmp(&csv, &csv_o, st == PDS_OK) != 0)
        st = PDS_ERR_RUNTIME;
    if (finish_tmp(&hcsv, &hcsv_o, st == PDS_OK) != 0)
        st = PDS_ERR_RUNTIME;
done:
    fflush(stdout);
    finish_tmp(&csv, &csv_o, 0);
    finish_tmp(&hcsv, &hcsv_o, 0);
    pds_cli_print_diag(&diag);
    free(observed);
    pds_fc_pool_free(pool);
    for (size_t k = 0; k < K; k++) {
        pds_model_free(c[k].sub);
        for (size_t j = 0; j < c[k].n_specs; j++)
            pds_model_free(c[k].specs[j]);
        pds_run_config_free(c[k].cfg);
    }
    pds_world_free(full);
    pds_diag_free(&diag);
    return pds_cli_exit(st);
}
