#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "core/bayes.h"

/* Four chains of 501 draws of an AR(1) (coefficient 0.95, Weyl-sequence
 * innovations) plus a small oscillation, whose autocorrelations are bumpy
 * enough for Geyer's monotone step to matter (without it the ESS is 451.7).
 * shift: added to chain c times c. */
static void ar_chains(double *x, double shift)
{
    const double phi = 0.6180339887498949;
    for (size_t c = 0; c < 4; c++) {
        double v = 0.0;
        for (size_t t = 0; t < 501; t++) {
            double e = fmod((double)(t + 1000 * c) * phi, 1.0) - 0.5;
            v = 0.95 * v + e;
            x[c * 501 + t] = v + 0.2 * sin(2.8 * (double)t + (double)c) + shift * (double)c;
        }
    }
}

/* Reference values by numpy and scipy (tests/reference/bayes_check.py's
 * rhat/ess/z_scale/split on the same series; autocovariances by FFT). */
static void rhat_ess_against_numpy(void **state)
{
    (void)state;
    static double x[4 * 501];
    ar_chains(x, 0.0);
    assert_float_equal(pds_rhat_rank(x, 4, 501), 1.0021180229008375, 1e-6);
    assert_float_equal(pds_ess_bulk(x, 4, 501), 525.5835877193006, 1e-6 * 525.6);
    /* chains that sit apart */
    ar_chains(x, 3.0);
    assert_float_equal(pds_rhat_rank(x, 4, 501), 2.850660138973059, 1e-6 * 2.85);
    assert_float_equal(pds_ess_bulk(x, 4, 501), 4.69956725904724, 1e-6 * 4.7);
}

static void constant_draws(void **state)
{
    (void)state;
    double x[40];
    for (size_t i = 0; i < 40; i++)
        x[i] = 2.5;
    assert_float_equal(pds_rhat_rank(x, 2, 20), 1.0, 0.0);
    assert_float_equal(pds_ess_bulk(x, 2, 20), 40.0, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rhat_ess_against_numpy),
        cmocka_unit_test(constant_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
