/* Independence of the Monte Carlo runs' random streams.
 *
 * Runs are only as good as their streams: every standard error, every
 * "within k SE" test and every paired interval assumes that run r and run
 * r' draw independent numbers. These tests look at the streams the engine
 * actually uses, at a number of runs where a correlated scheme (PCG32
 * streams sharing a state and differing only by consecutive increments)
 * fails by a wide margin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/engine.h"
#include "core/pcg.h"
#include "testworld.h"

#define BASE 2015

/* Constant hazard h for every unit, one simulated year. */
static pds_sim *constant_hazard_sim(pds_world **w, pds_model **m, size_t U, double h)
{
    *w = tw_chain(U, 0, 2008, BASE);
    *m = tw_model(PDS_LINK_LOGIT, log(h / (1.0 - h)), 0, NULL, NULL);
    pds_sim_options opt = {.base_year = BASE, .horizon = BASE + 1};
    pds_diag d;
    pds_diag_init(&d);
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(*w, *m, NULL, &opt, &d, &s), PDS_OK);
    pds_diag_free(&d);
    return s;
}

/* Every unit's adoption probability is exactly h (up to the 2^-32
 * resolution of the threshold), so each unit's estimate over R runs is
 * within 4.5 binomial SE of h. With 40 units and 3 seeds, a correct
 * generator fails this with probability 8e-4. */
static void constant_hazard_every_unit(void **state)
{
    (void)state;
    const size_t U = 40;
    const double h = 0.1;
    const uint64_t R = 200000;
    const uint64_t seeds[] = {20231231u, 1u, 777u};
    pds_world *w;
    pds_model *m;
    pds_sim *s = constant_hazard_sim(&w, &m, U, h);
    void *scr = pds_sim_scratch_create(s);
    int16_t uy[40], sy[1];
    double worst = 0;
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        uint64_t cnt[40] = {0};
        for (uint64_t r = 0; r < R; r++) {
            pds_sim_run_one(s, seeds[k], r, scr, uy, sy, NULL);
            for (size_t u = 0; u < U; u++)
                cnt[u] += uy[u] != 0;
        }
        double se = sqrt(h * (1.0 - h) / (double)R);
        for (size_t u = 0; u < U; u++) {
            double z = ((double)cnt[u] / (double)R - h) / se;
            if (fabs(z) > fabs(worst))
                worst = z;
            if (fabs(z) >= 4.5)
                fprintf(stderr, "seed %llu unit %zu: P = %.5f, z = %.2f\n",
                        (unsigned long long)seeds[k], u, (double)cnt[u] / (double)R, z);
            assert_true(fabs(z) < 4.5);
        }
    }
    fprintf(stderr, "constant hazard: largest |z| over %zu units x 3 seeds: %.2f\n", U, fabs(worst));
    free(scr);
    pds_sim_free(s);
    pds_model_free(m);
    pds_world_free(w);
}

/* Pearson correlation of x[r][j] and x[r + lag][j] over r, scaled by
 * sqrt(number of pairs): standard normal under independence. Returns the
 * largest |z| over positions j < J and lags 1..8. */
static double max_lag_z(const double *x, size_t R, size_t J, size_t *at_j, size_t *at_lag)
{
    double worst = 0;
    for (size_t lag = 1; lag <= 8; lag++) {
        size_t n = R - lag;
        for (size_t j = 0; j < J; j++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (size_t r = 0; r < n; r++) {
                double a = x[r * J + j], b = x[(r + lag) * J + j];
                sa += a;
                sb += b;
                saa += a * a;
                sbb += b * b;
                sab += a * b;
            }
            double cov = sab - sa * sb / (double)n;
            double va = saa - sa * sa / (double)n, vb = sbb - sb * sb / (double)n;
            double z = cov / sqrt(va * vb) * sqrt((double)n);
            if (fabs(z) > worst) {
                worst = fabs(z);
                *at_j = j;
                *at_lag = lag;
            }
        }
    }
    return worst;
}

/* The limit for m = J x 8 comparisons at family-wise level 0.001
 * (Bonferroni): z = Phi^-1(1 - 0.001 / (2 m)). */
#define Z_LIMIT_512 4.7582  /* m = 512 */
#define Z_LIMIT_1024 4.8963 /* m = 1024 */

/* Adoption indicators of the engine (hazard 1/2, where an indicator carries
 * the most information) at lags 1..8 for every unit. */
static void run_to_run_correlation_engine(void **state)
{
    (void)state;
    const size_t U = 64, R = 100000;
    pds_world *w;
    pds_model *m;
    pds_sim *s = constant_hazard_sim(&w, &m, U, 0.5);
    void *scr = pds_sim_scratch_create(s);
    double *x = malloc(R * U * sizeof *x);
    assert_non_null(x);
    int16_t uy[64], sy[1];
    for (size_t r = 0; r < R; r++) {
        pds_sim_run_one(s, 20231231u, r, scr, uy, sy, NULL);
        for (size_t u = 0; u < U; u++)
            x[r * U + u] = uy[u] != 0;
    }
    size_t j = 0, lag = 0;
    double z = max_lag_z(x, R, U, &j, &lag);
    fprintf(stderr, "engine indicators: largest |rho| sqrt(R) = %.2f (unit %zu, lag %zu), limit %.2f\n",
            z, j, lag, Z_LIMIT_512);
    assert_true(z < Z_LIMIT_512);
    free(x);
    free(scr);
    pds_sim_free(s);
    pds_model_free(m);
    pds_world_free(w);
}

/* The raw uniforms of each purpose's stream at draw positions 0..127. */
static void run_to_run_correlation_streams(void **state)
{
    (void)state;
    const size_t J = 128, R = 60000;
    double *x = malloc(R * J * sizeof *x);
    assert_non_null(x);
    const uint64_t purposes[] = {PDS_RNG_ADOPTION, PDS_RNG_INITIAL, PDS_RNG_COEFFICIENTS};
    for (size_t q = 0; q < 3; q++) {
        for (size_t r = 0; r < R; r++) {
            pds_pcg32 g;
            pds_pcg32_stream(&g, 1u, r, purposes[q]);
            for (size_t j = 0; j < J; j++)
                x[r * J + j] = pds_pcg32_uniform(&g);
        }
        size_t j = 0, lag = 0;
        double z = max_lag_z(x, R, J, &j, &lag);
        fprintf(stderr, "purpose %zu uniforms: largest |rho| sqrt(R) = %.2f (position %zu, lag %zu), limit %.2f\n",
                q, z, j, lag, Z_LIMIT_1024);
        assert_true(z < Z_LIMIT_1024);
    }
    free(x);
}

/* Streams of different purposes of one run, and of one purpose at
 * neighbouring seeds, share no state. */
static void streams_do_not_share_states(void **state)
{
    (void)state;
    pds_pcg32 a, b, c;
    pds_pcg32_stream(&a, 7, 3, PDS_RNG_ADOPTION);
    pds_pcg32_stream(&b, 7, 3, PDS_RNG_INITIAL);
    pds_pcg32_stream(&c, 8, 3, PDS_RNG_ADOPTION);
    assert_true(a.state != b.state && a.state != c.state && b.state != c.state);
    assert_true(a.inc != b.inc && a.inc != c.inc && b.inc != c.inc);
    assert_true((a.inc & 1u) && (b.inc & 1u) && (c.inc & 1u));
    /* the scheme as documented, computed step by step */
    uint64_t k = pds_mix64(pds_mix64(pds_mix64(7) ^ 3) ^ PDS_RNG_ADOPTION);
    pds_pcg32 d;
    pds_pcg32_seed(&d, k, pds_mix64(k ^ PDS_RNG_INC_KEY));
    assert_true(d.state == a.state && d.inc == a.inc);
}

/* SplitMix64's published first outputs for seed 1234567 (the state advances
 * by the golden gamma, and pds_mix64 adds it before mixing). */
static void mix64_known_answers(void **state)
{
    (void)state;
    static const uint64_t expect[] = {6457827717110365317ULL, 3203168211198807973ULL,
                                      9817491932198370423ULL};
    uint64_t s = 1234567ULL;
    for (size_t i = 0; i < 3; i++) {
        assert_true(pds_mix64(s) == expect[i]);
        s += 0x9e3779b97f4a7c15ULL;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mix64_known_answers),
        cmocka_unit_test(streams_do_not_share_states),
        cmocka_unit_test(constant_hazard_every_unit),
        cmocka_unit_test(run_to_run_correlation_engine),
        cmocka_unit_test(run_to_run_correlation_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
