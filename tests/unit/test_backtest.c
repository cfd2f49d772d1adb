#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/backtest.h"
#include "core/compare_fc.h"
#include "core/engine.h"
#include "core/pp.h"
#include "core/score.h"
#include "testworld.h"

static void print_diag(pds_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s\n", d->msgs[i]);
}

/* Three units, two forecast years; every value below is worked by hand. */
static void scores_by_hand(void **state)
{
    (void)state;
    const double h[] = {0.2, 0.5,  /* adopts in year 1 */
                        0.1, 0.1,  /* not adopted by the last year (censored) */
                        0.3, 0.9}; /* adopts in year 0 */
    const int outcome[] = {1, -1, 0};
    pds_scores s;
    double ub[3], ul[3], ur[3];
    assert_int_equal(pds_score_compute(h, outcome, 3, 2, &s, ub, ul, ur), PDS_OK);
    assert_int_equal(s.n_units, 3);
    assert_int_equal(s.n_unit_years, 5); /* unit 2 is not at risk after adopting */
    assert_int_equal(s.n_events, 2);
    /* (0.2^2 + 0.5^2 + 0.1^2 + 0.1^2 + 0.7^2) / 5 */
    assert_float_equal(s.brier, 0.80 / 5, 1e-12);
    /* -(log 0.8 + log 0.5 + 2 log 0.9 + log 0.3) / 5 */
    assert_float_equal(s.log_score, -(log(0.8) + log(0.5) + 2 * log(0.9) + log(0.3)) / 5, 1e-12);
    /* CDFs: (0.2, 0.6) vs (0, 1); (0.1, 0.19) vs (0, 0); (0.3, 0.93) vs (1, 1) */
    assert_float_equal(ur[0], 0.04 + 0.16, 1e-12);
    assert_float_equal(ur[1], 0.01 + 0.0361, 1e-12);
    assert_float_equal(ur[2], 0.49 + 0.0049, 1e-12);
    assert_float_equal(s.rps, (0.2 + 0.0461 + 0.4949) / 3, 1e-12);
    assert_float_equal(ub[0], 0.04 + 0.25, 1e-12);
    assert_float_equal(ul[1], -2 * log(0.9), 1e-12);
    /* bins: 0.1 twice in [0.1, 0.2), 0.2 in [0.2, 0.3), 0.3 in [0.3, 0.4), 0.5 in [0.5, 0.7) */
    assert_int_equal(s.bins[3].n, 2);
    assert_int_equal(s.bins[3].events, 0);
    assert_float_equal(s.bins[3].mean_pred, 0.1, 1e-12);
    assert_float_equal(s.bins[3].se, sqrt(2 * 0.09) / 2, 1e-12);
    assert_int_equal(s.bins[4].n, 1);
    assert_int_equal(s.bins[5].events, 1);
    assert_float_equal(s.bins[7].obs_freq, 1.0, 1e-12);
    assert_int_equal(s.bins[0].n, 0);
    assert_true(isnan(s.bins[0].mean_pred));

    const int bad_outcome[] = {2, -1, 0};
    assert_int_equal(pds_score_compute(h, bad_outcome, 3, 2, &s, NULL, NULL, NULL), PDS_ERR_INPUT);
    const double bad_h[] = {0.2, 1.5};
    assert_int_equal(pds_score_compute(bad_h, outcome, 1, 2, &s, NULL, NULL, NULL), PDS_ERR_INPUT);
    /* a certain forecast that fails gets a large but finite log score */
    const double sure[] = {0.0};
    const int adopted[] = {0};
    assert_int_equal(pds_score_compute(sure, adopted, 1, 1, &s, NULL, NULL, NULL), PDS_OK);
    assert_float_equal(s.log_score, -log(PDS_SCORE_EPS), 1e-9);
}

static void mc_hazard_and_counts(void **state)
{
    (void)state;
    const uint64_t by_year[] = {10, 30, 30};
    double h[3];
    pds_score_mc_hazard(by_year, 100, 3, h);
    assert_float_equal(h[0], 10.5 / 101, 1e-15);
    assert_float_equal(h[1], 20.5 / 91, 1e-15);
    assert_float_equal(h[2], 0.5 / 71, 1e-15);

    /* two units with hazard 1/2, one adopted before: 1, 2, 3 with 1/4, 1/2, 1/4 */
    const double hz[] = {0.5, 0.0, 0.5, 0.0};
    const double probs[] = {0.1, 0.25, 0.5, 0.8, 0.9};
    int q[10];
    double mean[2], work[3];
    pds_score_count_quantiles(hz, 2, 2, 1, probs, 5, q, mean, work);
    const int want[] = {1, 1, 2, 3, 3};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(q[i], want[i]);
        assert_int_equal(q[5 + i], want[i]); /* nothing changes in the second year */
    }
    assert_float_equal(mean[0], 2.0, 1e-12);
    assert_float_equal(mean[1], 2.0, 1e-12);
}

static const pds_term_kind kinds4[] = {PDS_TERM_PANEL, PDS_TERM_NEIGHBOURS_PCT, PDS_TERM_DOCUMENTS,
                                       PDS_TERM_SUBUNITS_PCT};

/* A world with something of every kind before and after 2010. */
static pds_world *history_world(int change_future)
{
    pds_world *w = tw_chain(6, 2, 2000, 2020);
    static const int years[] = {2004, 2009, 0, 2014, 2017, 0};
    for (size_t u = 0; u < 6; u++)
        w->units[u].adoption_year = years[u];
    w->subunits[0].adoption_year = 2006;
    w->subunits[3].adoption_year = change_future ? 2011 : 2015;
    w->n_documents = 3;
    w->documents = calloc(3, sizeof *w->documents);
    w->documents[0] = (pds_document){2005, 1.0};
    w->documents[1] = (pds_document){2012, change_future ? 5.0 : 1.0};
    w->documents[2] = (pds_document){change_future ? 2011 : 2016, 1.0};
    w->n_subunit_counts = 2;
    w->subunit_counts = calloc(2, sizeof *w->subunit_counts);
    w->subunit_counts[0] = (pds_subunit_count){.unit = 4, .year = 2008, .adopted = 1};
    w->subunit_counts[1] =
        (pds_subunit_count){.unit = 4, .year = 2013, .adopted = change_future ? 2 : 1};
    if (change_future)
        for (size_t u = 0; u < 6; u++)
            for (int y = 2011; y <= 2020; y++)
                w->panel[u * 21 + (size_t)(y - 2000)] = 50.0 + (double)y;
    return w;
}

static pds_backtest_result *backtest(pds_world *w, const pds_model *m, int cutoff, int last,
                                     uint64_t runs, pds_diag *d, pds_status *st)
{
    int observed[64];
    for (size_t u = 0; u < w->n_units; u++)
        observed[u] = w->units[u].adoption_year;
    pds_backtest_truncate(w, cutoff);
    pds_backtest_options o = {
        .cutoff = cutoff,
        .last_year = last,
        .sim = {.default_proj = {.rule = PDS_PROJ_TREND, .years = 3, .min = NAN, .max = NAN}},
        .run = {.seed = 7, .n_runs = runs, .chunk_runs = 256, .threads = 1}};
    pds_backtest_result *r = NULL;
    *st = pds_backtest_run(w, observed, m, NULL, &o, d, &r);
    return r;
}

/* Nothing observed after the cutoff reaches the forecast: changing every kind
 * of later data (panel, documents, sub-unit years and counts) changes no
 * hazard; the later unit adoptions are the outcome only. */
static void later_data_is_not_used(void **state)
{
    (void)state;
    static const double coefs[] = {0.3, 0.02, 0.4, 0.01};
    pds_model *m = tw_model(PDS_LINK_LOGIT, -3.0, 4, kinds4, coefs);
    pds_world *a = history_world(0), *b = history_world(1);
    pds_diag d;
    pds_diag_init(&d);
    pds_status sa, sb;
    pds_backtest_result *ra = backtest(a, m, 2010, 2020, 500, &d, &sa);
    pds_backtest_result *rb = backtest(b, m, 2010, 2020, 500, &d, &sb);
    print_diag(&d);
    assert_int_equal(sa, PDS_OK);
    assert_int_equal(sb, PDS_OK);
    /* the truncated worlds themselves */
    assert_true(isnan(pds_world_panel(b, 0, 2011, 0)));
    assert_false(isnan(pds_world_panel(b, 0, 2010, 0)));
    assert_int_equal(b->n_documents, 1);
    assert_int_equal(b->n_subunit_counts, 1);
    assert_int_equal(b->subunits[3].adoption_year, 0);
    assert_int_equal(b->units[3].adoption_year, 0);
    assert_int_equal(ra->n_risk, 4);
    assert_int_equal(ra->n_before, 2);
    const int want_outcome[] = {-1, 3, 6, -1};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ra->outcome[i], want_outcome[i]);
    for (int f = 0; f < PDS_BT_N; f++)
        for (size_t i = 0; i < ra->n_risk * ra->n_years; i++)
            assert_true(ra->f[f].hazard[i] == rb->f[f].hazard[i]);
    /* the later panel values do not count: the forecast uses the projection */
    assert_true(ra->f[PDS_BT_MODEL].scores.brier == rb->f[PDS_BT_MODEL].scores.brier);
    pds_backtest_free(ra);
    pds_backtest_free(rb);
    pds_world_free(a);
    pds_world_free(b);
    pds_model_free(m);
    pds_diag_free(&d);
}

static void bad_cutoffs(void **state)
{
    (void)state;
    static const double coefs[] = {0.3, 0.02, 0.4, 0.01};
    pds_model *m = tw_model(PDS_LINK_LOGIT, -3.0, 4, kinds4, coefs);
    pds_diag d;
    pds_diag_init(&d);
    pds_status st;
    pds_world *w = history_world(0);
    assert_null(backtest(w, m, 2020, 2020, 10, &d, &st));
    assert_int_equal(st, PDS_ERR_INPUT);
    assert_non_null(strstr(d.msgs[d.n - 1], "no year to forecast"));
    pds_world_free(w);
    w = history_world(0);
    assert_null(backtest(w, m, 2003, 2020, 10, &d, &st)); /* first adoption 2004 */
    assert_int_equal(st, PDS_ERR_INPUT);
    assert_non_null(strstr(d.msgs[d.n - 1], "no adoption to fit on"));
    pds_world_free(w);
    pds_model_free(m);
    pds_diag_free(&d);
}

/* The refit on a world cut at the cutoff gives the estimates of the full
 * world's unit-years up to the cutoff, with a covariance. */
static void refit_uses_history_only(void **state)
{
    (void)state;
    static const pds_term_kind k[] = {PDS_TERM_YEAR, PDS_TERM_NEIGHBOURS_PCT};
    static const double c[] = {0.0, 0.0};
    pds_model *spec = tw_model(PDS_LINK_LOGIT, 0.0, 2, k, c);
    pds_world *full = history_world(0), *cut = history_world(1);
    pds_backtest_truncate(cut, 2014);
    pds_diag d;
    pds_diag_init(&d);
    pds_model *a = NULL, *b = NULL;
    pds_fit_options fo = {.link = PDS_LINK_LOGIT, .firth = 1};
    assert_int_equal(pds_backtest_refit(full, spec, 2001, 2014, &fo, &d, &a), PDS_OK);
    assert_int_equal(pds_backtest_refit(cut, spec, 2001, 2014, &fo, &d, &b), PDS_OK);
    print_diag(&d);
    assert_non_null(b->cov);
    assert_true(b->terms[0].se > 0);
    assert_int_equal(b->terms[1].kind, PDS_TERM_NEIGHBOURS_PCT);
    assert_true(a->intercept == b->intercept);
    for (size_t j = 0; j < 2; j++)
        assert_true(a->terms[j].coef == b->terms[j].coef && a->terms[j].se == b->terms[j].se);
    /* recalibration in the mean at the cutoff: the same on both, and a
     * no-op for the maximum-likelihood fit, which already matches in the mean */
    pds_model *ra = NULL, *rb = NULL;
    double sa = NAN, sb = NAN;
    assert_int_equal(pds_backtest_recalibrate(full, spec, 2001, 2014, &d, &ra, &sa), PDS_OK);
    assert_int_equal(pds_backtest_recalibrate(cut, spec, 2001, 2014, &d, &rb, &sb), PDS_OK);
    assert_true(sa == sb);
    assert_float_equal(ra->intercept, spec->intercept + sa, 1e-12);
    pds_model_free(ra);
    pds_model_free(rb);
    pds_fit_options ml = {.link = PDS_LINK_LOGIT};
    pds_model *fitted = NULL;
    assert_int_equal(pds_backtest_refit(cut, spec, 2001, 2014, &ml, &d, &fitted), PDS_OK);
    assert_int_equal(pds_backtest_recalibrate(cut, fitted, 2001, 2014, &d, &ra, &sa), PDS_OK);
    assert_float_equal(sa, 0.0, 1e-6);
    pds_model_free(ra);
    pds_model_free(fitted);
    pds_model_free(a);
    pds_model_free(b);
    pds_model_free(spec);
    pds_world_free(full);
    pds_world_free(cut);
    pds_diag_free(&d);
}

/* The year trend: outcome year - 2000 in the engine and in the unit-year table. */
static void year_term(void **state)
{
    (void)state;
    static const pds_term_kind k[] = {PDS_TERM_YEAR};
    static const double c[] = {0.25};
    pds_model *m = tw_model(PDS_LINK_LOGIT, -1.0, 1, k, c);
    pds_world *w = tw_chain(3, 0, 2000, 2020);
    pds_diag d;
    pds_diag_init(&d);
    pds_sim_options so = {
        .base_year = 2010, .horizon = 2015, .channels_off = ~0u & ~(1u << PDS_TERM_YEAR)};
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(w, m, NULL, &so, &d, &s), PDS_OK);
    for (size_t y = 0; y < 5; y++)
        assert_float_equal(pds_sim_static_eta(s, 1, y), -1.0 + 0.25 * (double)(11 + y), 1e-12);
    pds_sim_free(s);
    w->units[0].adoption_year = 2005;
    pds_pp_table *t = NULL;
    assert_int_equal(pds_pp_build(w, m, 2003, 2006, &d, &t), PDS_OK);
    assert_int_equal(t->n, 3 + 4 + 4);
    for (size_t r = 0; r < t->n; r++)
        assert_float_equal(t->X[r * 2 + 1], (double)(t->year[r] - 2000), 0);
    pds_pp_free(t);
    pds_world_free(w);
    pds_model_free(m);
    pds_diag_free(&d);
}

/* Simulated data from a known model: many histories are drawn from the model;
 * each is backtested with the true model and with the baselines. The true
 * model's expected Brier score (the mean over histories) is better than the
 * constant hazard's by more than 4 standard errors, and its pooled
 * calibration table lies within 4 binomial standard errors of the diagonal
 * in every bin with enough unit-years. */
#define NU 60
#define HIST 120
static void known_model(void **state)
{
    (void)state;
    static const pds_term_kind k[] = {PDS_TERM_PANEL, PDS_TERM_NEIGHBOURS_PCT};
    static const double c[] = {1.0, 0.015};
    pds_model *m = tw_model(PDS_LINK_LOGIT, -3.2, 2, k, c);
    pds_diag d;
    pds_diag_init(&d);
    /* the true histories, 2001..2020 from nobody adopted in 2000 */
    pds_world *w0 = tw_chain(NU, 0, 2000, 2020);
    for (size_t u = 0; u < NU; u++)
        for (size_t y = 0; y <= 20; y++)
            w0->panel[u * 21 + y] = (double)(u % 7) * 0.5 - 1.5;
    pds_sim_options so = {.base_year = 2000, .horizon = 2020};
    pds_sim *truth = NULL;
    assert_int_equal(pds_sim_create(w0, m, NULL, &so, &d, &truth), PDS_OK);
    void *scr = pds_sim_scratch_create(truth);
    double diff_sum = 0, diff_ss = 0;
    double n[PDS_SCORE_BINS] = {0}, ev[PDS_SCORE_BINS] = {0}, sp[PDS_SCORE_BINS] = {0},
           var[PDS_SCORE_BINS] = {0};
    for (uint64_t h = 0; h < HIST; h++) {
        int16_t uy[NU], sy[1];
        pds_sim_run_one(truth, 4242, h, scr, uy, sy, NULL);
        pds_world *w = tw_chain(NU, 0, 2000, 2020);
        for (size_t u = 0; u < NU; u++) {
            w->units[u].adoption_year = uy[u];
            for (size_t y = 0; y <= 20; y++)
                w->panel[u * 21 + y] = w0->panel[u * 21 + y];
        }
        pds_status st;
        pds_backtest_result *r = backtest(w, m, 2008, 2020, 4000, &d, &st);
        print_diag(&d);
        assert_int_equal(st, PDS_OK);
        double dd = r->f[PDS_BT_MODEL].scores.brier - r->f[PDS_BT_CONSTANT].scores.brier;
        diff_sum += dd;
        diff_ss += dd * dd;
        for (int b = 0; b < PDS_SCORE_BINS; b++) {
            const pds_calibration_bin *cb = &r->f[PDS_BT_MODEL].scores.bins[b];
            if (!cb->n)
                continue;
            n[b] += (double)cb->n;
            ev[b] += (double)cb->events;
            sp[b] += cb->mean_pred * (double)cb->n;
            var[b] += (cb->se * (double)cb->n) * (cb->se * (double)cb->n);
        }
        pds_backtest_free(r);
        pds_world_free(w);
    }
    double mean = diff_sum / HIST;
    double se = sqrt((diff_ss / HIST - mean * mean) / (HIST - 1));
    fprintf(stderr, "E[Brier(model) - Brier(constant)] = %.5f (se %.5f)\n", mean, se);
    assert_true(mean < -4 * se);
    int checked = 0;
    for (int b = 0; b < PDS_SCORE_BINS; b++) {
        if (n[b] < 200)
            continue;
        double obs = ev[b] / n[b], pred = sp[b] / n[b], tol = 4 * sqrt(var[b]) / n[b];
        fprintf(stderr, "bin %d: n %.0f predicted %.4f observed %.4f tolerance %.4f\n", b, n[b],
                pred, obs, tol);
        assert_true(fabs(obs - pred) <= tol);
        checked++;
    }
    assert_true(checked >= 4);
    free(scr);
    pds_sim_free(truth);
    pds_world_free(w0);
    pds_model_free(m);
    pds_diag_free(&d);
}

/* Stacking weights of two forecasters: the interior optimum is the root of
 * sum_n (q1 - q2) / (w q1 + (1 - w) q2), found here by bisection; a
 * forecaster that is better on every unit-year takes all the weight; two
 * identical forecasters split it with the objective unchanged. */
static double stack_root(const double *q, size_t n)
{
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 200; it++) {
        double w = 0.5 * (lo + hi), g = 0.0;
        for (size_t i = 0; i < n; i++)
            g += (q[2 * i] - q[2 * i + 1]) / (w * q[2 * i] + (1 - w) * q[2 * i + 1]);
        if (g > 0)
            lo = w;
        else
            hi = w;
    }
    return 0.5 * (lo + hi);
}

static void stacking(void **state)
{
    (void)state;
    const double q[] = {0.9, 0.5, 0.2, 0.6, 0.7, 0.4, 0.05, 0.3, 0.95, 0.8};
    double w[3], obj;
    int it;
    assert_int_equal(pds_fc_stack(q, 5, 2, w, &obj, &it), PDS_OK);
    double r = stack_root(q, 5);
    assert_true(r > 0.01 && r < 0.99);
    assert_float_equal(w[0], r, 1e-9);
    assert_float_equal(w[0] + w[1], 1.0, 1e-15);
    double L = 0.0;
    for (size_t i = 0; i < 5; i++)
        L += log(r * q[2 * i] + (1 - r) * q[2 * i + 1]);
    assert_float_equal(obj, L, 1e-12);
    /* dominated: the second forecaster is worse everywhere */
    const double d[] = {0.9, 0.5, 0.8, 0.6, 0.7, 0.4};
    assert_int_equal(pds_fc_stack(d, 3, 2, w, &obj, &it), PDS_OK);
    assert_float_equal(w[0], 1.0, 1e-12);
    assert_float_equal(w[1], 0.0, 1e-12);
    /* a third column equal to the first: the weights of the two add up to r */
    double q3[15];
    for (size_t i = 0; i < 5; i++) {
        q3[3 * i] = q3[3 * i + 2] = q[2 * i];
        q3[3 * i + 1] = q[2 * i + 1];
    }
    assert_int_equal(pds_fc_stack(q3, 5, 3, w, &obj, &it), PDS_OK);
    assert_float_equal(w[0] + w[2], r, 1e-8);
    assert_float_equal(obj, L, 1e-10);
    const double bad[] = {0.5, 0.0};
    assert_int_equal(pds_fc_stack(bad, 1, 2, w, &obj, &it), PDS_ERR_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scores_by_hand),
        cmocka_unit_test(mc_hazard_and_counts),
        cmocka_unit_test(later_data_is_not_used),
        cmocka_unit_test(bad_cutoffs),
        cmocka_unit_test(refit_uses_history_only),
        cmocka_unit_test(year_term),
        cmocka_unit_test(known_model),
        cmocka_unit_test(stacking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
