/* Structural uncertainty: each run draws one of several models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/engine.h"
#include "core/summary.h"
#include "testworld.h"

#define BASE 2015
#define U 20
#define R 60000

static pds_sim *constant(const pds_world *w, pds_model **m, double h)
{
    *m = tw_model(PDS_LINK_LOGIT, log(h / (1.0 - h)), 0, NULL, NULL);
    pds_sim_options opt = {.base_year = BASE, .horizon = BASE + 1};
    pds_diag d;
    pds_diag_init(&d);
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(w, *m, NULL, &opt, &d, &s), PDS_OK);
    pds_diag_free(&d);
    return s;
}

typedef struct seen {
    uint64_t seed;
    const double *cum;
    uint64_t adopted[2], draws[2], runs[2];
} seen;

static int count(void *ctx, uint64_t first, size_t n, const int16_t *uy, const int16_t *sy,
                 const double *coefs)
{
    (void)sy;
    (void)coefs;
    seen *c = ctx;
    for (size_t i = 0; i < n; i++) {
        size_t k = pds_model_of_run(c->seed, first + i, c->cum, 2);
        c->runs[k]++;
        for (size_t u = 0; u < U; u++) {
            c->adopted[k] += uy[i * U + u] != 0;
            c->draws[k]++;
        }
    }
    return 0;
}

/* Models with hazards 0.1 and 0.6, weights 0.3 and 0.7: the share of runs
 * of each model, the hazard within each model's runs and the mixture's
 * adoption probability 0.3 * 0.1 + 0.7 * 0.6 = 0.45 are each within 4.5
 * SE of exact; the per-run model is the same for 1 and 2 threads. */
static void mixture_is_exact(void **state)
{
    (void)state;
    pds_world *w = tw_chain(U, 0, 2008, BASE);
    pds_model *m0, *m1;
    pds_sim *s0 = constant(w, &m0, 0.1), *s1 = constant(w, &m1, 0.6);
    const pds_sim *alt[2] = {s0, s1};
    static const double cum[2] = {0.3, 1.0};
    for (int threads = 1; threads <= 2; threads++) {
        seen c = {.seed = 11, .cum = cum};
        pds_summary *sum = pds_summary_create(U, 1, BASE + 1);
        pds_run_options ro = {.seed = 11, .n_runs = R, .chunk_runs = 1000, .threads = threads,
                              .sink = count, .sink_ctx = &c, .alternatives = alt,
                              .cum_weights = cum, .n_alternatives = 2};
        assert_int_equal(pds_engine_run(s0, &ro, sum), PDS_OK);
        double share = (double)c.runs[0] / R, se = sqrt(0.3 * 0.7 / R);
        fprintf(stderr, "threads %d: share of model 0 %.4f (z %.2f)\n", threads, share,
                (share - 0.3) / se);
        assert_true(fabs(share - 0.3) < 4.5 * se);
        static const double h[2] = {0.1, 0.6};
        for (int k = 0; k < 2; k++) {
            double p = (double)c.adopted[k] / (double)c.draws[k];
            double sk = sqrt(h[k] * (1 - h[k]) / (double)c.draws[k]);
            fprintf(stderr, "  model %d: hazard %.4f (z %.2f)\n", k, p, (p - h[k]) / sk);
            assert_true(fabs(p - h[k]) < 4.5 * sk);
        }
        /* the mixture, per unit, from the summary: SE of a mixture of
         * independent Bernoulli draws with p = 0.45 */
        double sm = sqrt(0.45 * 0.55 / R);
        for (size_t u = 0; u < U; u++)
            assert_true(fabs(pds_summary_p_adopted(sum, u, 0) - 0.45) < 4.5 * sm);
        pds_summary_free(sum);
    }
    pds_sim_free(s0);
    pds_sim_free(s1);
    pds_model_free(m0);
    pds_model_free(m1);
    pds_world_free(w);
}

/* The model of a run depends on (seed, run) only, and one model means 0. */
static void model_of_run_is_keyed(void **state)
{
    (void)state;
    static const double cum[3] = {0.2, 0.5, 1.0};
    size_t n[3] = {0};
    for (uint64_t r = 0; r < 30000; r++) {
        size_t k = pds_model_of_run(3, r, cum, 3);
        assert_true(k < 3);
        assert_int_equal(k, pds_model_of_run(3, r, cum, 3));
        n[k]++;
        assert_int_equal(pds_model_of_run(3, r, cum, 1), 0);
    }
    static const double p[3] = {0.2, 0.3, 0.5};
    for (int k = 0; k < 3; k++)
        assert_true(fabs(n[k] / 30000.0 - p[k]) < 4.5 * sqrt(p[k] * (1 - p[k]) / 30000.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_of_run_is_keyed),
        cmocka_unit_test(mixture_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
