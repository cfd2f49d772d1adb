#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/backtest.h"
#include "../core/pp.h"
#include "../io/csvtab.h"
#include "../io/dataset.h"
#include "../io/model_io.h"
#include "cli.h"

#define MAX_ORIGINS 200

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct bt_args {
    const char *config;
    long cutoff_from, cutoff_to;
    int refit, firth;
    long runs, threads;
    const char *seed_s;
    const char *csv;
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

/* The first year with data: the first adoption or the panel's first year. */
static int data_first_year(const pds_world *w)
{
    pds_model none = {.lag = 1}; /* no terms: the first adoption */
    int y = pds_pp_default_first_year(w, &none);
    if (w->panel && (!y || w->panel_first_year < y))
        y = w->panel_first_year;
    return y;
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

    printf("\nverdict:\n");
    for (int b = PDS_BT_NO_CHANNELS; b < PDS_BT_N; b++) {
        int wins = 0;
        for (int sc = 0; sc < 3; sc++)
            wins += score_of(&r->f[PDS_BT_MODEL].scores, sc) < score_of(&r->f[b].scores, sc);
        printf("  against %-20s the model is better on %d of 3 scores: %s\n", pds_backtest_names[b],
               wins,
               wins == 3   ? "it beats the baseline"
               : wins == 0 ? "the baseline beats it"
                           : "mixed");
    }
}

static void csv_rows(FILE *o, const pds_backtest_result *r)
{
    for (int i = 0; i < PDS_BT_N; i++) {
        const pds_scores *s = &r->f[i].scores;
        fprintf(o, "%d,%d,\"%s\",%zu,%zu,%zu,%.10g,%.10g,%.10g\n", r->cutoff, r->last_year,
                pds_backtest_names[i], s->n_units, s->n_unit_years, s->n_events, s->brier,
                s->log_score, s->rps);
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
        default:
            return pds_cli_getopt_other(c, "backtest", argv);
        }
    }
    if (optind != argc - 1 || !have_cutoff) {
        fprintf(stderr, "pdsim: error: usage: pdsim backtest CONFIG.yaml --cutoff YEAR|FROM..TO "
                        "[--refit] [-n RUNS] [-s SEED] [-j THREADS] [--csv OUT.csv]\n");
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
    a->config = argv[optind];
    return -1;
}

/* One origin: a fresh world cut at the cutoff, the model (refitted when
 * asked), the backtest. */
static pds_status one_origin(const bt_args *a, const pds_run_config *cfg, const int *observed,
                             const pds_model *spec, const pds_model *sub, int cutoff, uint64_t seed,
                             pds_diag *diag, pds_backtest_result **out, pds_model **fitted,
                             double *shift)
{
    pds_dataset_options dopt = {.sea_links = cfg->sea_links,
                                .neighbour_weights = cfg->neighbour_weights_path};
    pds_world *w = pds_dataset_load(cfg->dataset_path, &dopt, diag);
    char *panel = malloc(strlen(cfg->dataset_path) + sizeof "/panel.csv");
    if (!w || !panel) {
        pds_world_free(w);
        free(panel);
        return w ? PDS_ERR_RUNTIME : PDS_ERR_INPUT;
    }
    strcat(strcpy(panel, cfg->dataset_path), "/panel.csv");
    pds_backtest_truncate(w, cutoff);
    const pds_model *m = spec;
    pds_status st;
    *fitted = NULL;
    int first = pds_pp_default_first_year(w, spec);
    st = pds_backtest_check_window(w, first, cutoff, diag);
    if (st == PDS_OK && a->refit) {
        pds_fit_options fo = {.link = spec->link, .firth = a->firth};
        st = pds_backtest_refit(w, spec, first, cutoff, &fo, diag, fitted);
        if (st != PDS_OK)
            pds_diag_add(diag, spec->path, 0, 0,
                         "model '%s' could not be refitted on %d..%d (above)", spec->name, first,
                         cutoff);
        m = *fitted;
    } else if (st == PDS_OK && cfg->intercept_recalibration) {
        /* recalibrated on the history known at the cutoff, not on the years forecast */
        st = pds_backtest_recalibrate(w, spec, first, cutoff, diag, fitted, shift);
        if (st != PDS_OK)
            pds_diag_add(diag, cfg->path, 0, 0,
                         "intercept_recalibration: in-sample failed on %d..%d (above)", first,
                         cutoff);
        m = *fitted;
    }
    if (st == PDS_OK) {
        pds_backtest_options bo = {
            .cutoff = cutoff,
            .last_year = (int)cfg->base_year,
            .sim = {.default_proj = cfg->default_proj,
                    .proj = cfg->proj,
                    .n_proj = cfg->n_proj,
                    .panel_file = panel,
                    .draw_coefficients = cfg->uncertainty == 1},
            .run = {.seed = seed,
                    .n_runs = a->runs > 0 ? (uint64_t)a->runs : cfg->runs,
                    .chunk_runs = (size_t)cfg->chunk_runs,
                    .threads = a->threads >= 0 ? (int)a->threads : (int)cfg->threads,
                    .stop = (volatile int *)&interrupted},
        };
        st = pds_backtest_run(w, observed, m, sub, &bo, diag, out);
    }
    free(panel);
    pds_world_free(w);
    return st;
}

int pds_cmd_backtest(int argc, char **argv)
{
    bt_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    pds_diag diag;
    pds_diag_init(&diag);
    pds_run_config *cfg = pds_run_config_load(a.config, &diag);
    pds_world *full = NULL;
    pds_model *spec = NULL, *sub = NULL;
    int *observed = NULL;
    FILE *csv = NULL;
    char *csv_tmp = NULL;
    pds_status st = PDS_OK;
    if (cfg) {
        pds_dataset_options dopt = {.sea_links = cfg->sea_links,
                                    .neighbour_weights = cfg->neighbour_weights_path};
        full = pds_dataset_load(cfg->dataset_path, &dopt, &diag);
        spec = pds_model_load(cfg->model_path, &diag);
        if (cfg->subunit_model_path)
            sub = pds_model_load(cfg->subunit_model_path, &diag);
    }
    if (!cfg || !full || !spec || (cfg->subunit_model_path && !sub)) {
        st = PDS_ERR_INPUT;
        goto done;
    }
    unsigned long long seed = cfg->seed;
    if (a.seed_s && pds_parse_u64(a.seed_s, &seed) != 0) {
        pds_diag_add(&diag, NULL, 0, 0, "--seed: expected a non-negative integer, got \"%s\"",
                     a.seed_s);
        st = PDS_ERR_INPUT;
        goto done;
    }
    int first = data_first_year(full), last = (int)cfg->base_year;
    if (a.cutoff_from < first || a.cutoff_to >= last) {
        char given[64];
        if (a.cutoff_to != a.cutoff_from)
            snprintf(given, sizeof given, "%ld..%ld", a.cutoff_from, a.cutoff_to);
        else
            snprintf(given, sizeof given, "%ld", a.cutoff_from);
        pds_diag_add(&diag, a.config, 0, 0,
                     "--cutoff %s is outside the data: the observed history of %s covers %d..%d "
                     "(to the config's base_year), so a cutoff must lie in %d..%d",
                     given, cfg->dataset_path, first, last, first, last - 1);
        st = PDS_ERR_INPUT;
        goto done;
    }
    if (cfg->scenario.name)
        fprintf(stderr,
                "pdsim: note: the config's scenario '%s' is ignored: a backtest forecasts "
                "from the observed history\n",
                cfg->scenario.name);
    observed = calloc(full->n_units + 1, sizeof(int));
    if (!observed) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    for (size_t u = 0; u < full->n_units; u++)
        observed[u] = full->units[u].adoption_year;
    if (a.csv) {
        csv_tmp = malloc(strlen(a.csv) + 32);
        if (csv_tmp) {
            sprintf(csv_tmp, "%s.tmp.%ld", a.csv, (long)getpid());
            csv = fopen(csv_tmp, "w");
        }
        if (!csv) {
            fprintf(stderr, "pdsim: error: %s: cannot write\n", a.csv);
            st = PDS_ERR_RUNTIME;
            goto done;
        }
        fputs("cutoff,last_year,forecaster,units_at_risk,unit_years,events,brier,log_score,rps\n",
              csv);
    }
    printf("Backtest of %s (model %s) on %s; observed history to %d; %llu runs, seed %llu%s\n",
           a.config, spec->name, cfg->dataset_path, last,
           (unsigned long long)(a.runs > 0 ? (uint64_t)a.runs : cfg->runs),
           (unsigned long long)seed,
           a.refit                        ? "; model refitted at each cutoff"
           : cfg->intercept_recalibration ? "; intercept recalibrated at each cutoff"
                                          : "");
    size_t n_orig = (size_t)(a.cutoff_to - a.cutoff_from + 1);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    double mean[PDS_BT_N][3] = {{0}};
    int wins[PDS_BT_N][3] = {{0}};
    size_t done = 0;
    for (size_t o = 0; o < n_orig && st == PDS_OK; o++) {
        pds_backtest_result *r = NULL;
        pds_model *fitted = NULL;
        double shift = NAN;
        int cutoff = (int)a.cutoff_from + (int)o;
        st = one_origin(&a, cfg, observed, spec, sub, cutoff, seed, &diag, &r, &fitted, &shift);
        if (st == PDS_OK) {
            done++;
            print_origin(r, fitted ? fitted : spec, a.refit, shift);
            if (csv)
                csv_rows(csv, r);
            for (int i = 0; i < PDS_BT_N; i++)
                for (int sc = 0; sc < 3; sc++) {
                    double v = score_of(&r->f[i].scores, sc);
                    mean[i][sc] += v / (double)n_orig;
                    wins[i][sc] += score_of(&r->f[PDS_BT_MODEL].scores, sc) < v;
                }
        } else if (n_orig > 1 && !interrupted) {
            pds_diag_add(&diag, NULL, 0, 0, "backtest with cutoff %d failed (above)", cutoff);
        }
        pds_backtest_free(r);
        pds_model_free(fitted);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (interrupted) {
        fprintf(stderr, "pdsim: interrupted after %zu of %zu origins%s\n", done, n_orig,
                a.csv ? "; no CSV written" : "");
        st = PDS_ERR_RUNTIME;
    }
    if (st == PDS_OK && n_orig > 1) {
        printf("\n== rolling origin: %ld..%ld (%zu origins) ==\n", a.cutoff_from, a.cutoff_to,
               n_orig);
        printf("%-22s %10s %10s %10s   origins where the model scores better (Brier, log, RPS)\n",
               "mean over origins", score_names[0], score_names[1], score_names[2]);
        for (int i = 0; i < PDS_BT_N; i++) {
            printf("%-22s %10.5f %10.5f %10.5f", pds_backtest_names[i], mean[i][0], mean[i][1],
                   mean[i][2]);
            if (i != PDS_BT_MODEL)
                printf("   %d, %d, %d of %zu", wins[i][0], wins[i][1], wins[i][2], n_orig);
            putchar('\n');
        }
    }
    if (csv) {
        int bad = ferror(csv) != 0;
        bad |= fclose(csv) != 0;
        csv = NULL;
        if (st == PDS_OK && !bad && rename(csv_tmp, a.csv) != 0)
            bad = 1;
        if (st != PDS_OK || bad)
            unlink(csv_tmp);
        if (bad && st == PDS_OK) {
            fprintf(stderr, "pdsim: error: %s: cannot write\n", a.csv);
            st = PDS_ERR_RUNTIME;
        }
    }
done:
    fflush(stdout);
    if (csv) {
        fclose(csv);
        unlink(csv_tmp);
    }
    pds_cli_print_diag(&diag);
    free(csv_tmp);
    free(observed);
    pds_model_free(sub);
    pds_model_free(spec);
    pds_world_free(full);
    pds_run_config_free(cfg);
    pds_diag_free(&diag);
    return pds_cli_exit(st);
}
