#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "core/compare.h"

#define Z95 1.959963984540054

/* Three paired runs of two units over 2026..2028 (base year 2025), the
 * sums worked out by hand: not adopted counts as 2029, a negative code
 * (adopted by the base year) as 2025. */
static void paired_sums_by_hand(void **state)
{
    (void)state;
    pds_compare *c = pds_compare_create(2, 3, 2026, 2028, 2025);
    assert_non_null(c);
    const int16_t x[3][2] = {{2027, 0}, {0, -1}, {2026, 2028}};
    const int16_t z[3][2] = {{2026, 0}, {2028, -1}, {2026, 2027}};
    for (int r = 0; r < 3; r++)
        pds_compare_add_run(c, x[r], z[r]);
    assert_true(c->R == 3);
    double v[3];
    /* every run gains one unit-year: no spread */
    pds_acc_interval(&c->gained, c->R, v);
    assert_true(v[0] == 1 && v[1] == 1 && v[2] == 1);
    /* unit 0: year differences -1, -1, 0: mean -2/3, variance 1/3 */
    pds_acc_interval(&c->yd[0], c->R, v);
    assert_true(fabs(v[0] + 2.0 / 3) < 1e-15);
    assert_true(fabs(v[2] - v[0] - Z95 / 3) < 1e-12);
    assert_true(fabs(pds_acc_var(&c->yd[0], c->R) - 1.0 / 3) < 1e-15);
    /* sums of censored years of unit 1: 2029 + 2025 + 2028, 2029 + 2025 + 2027 */
    assert_true(c->yb[1] == 2029 + 2025 + 2028 && c->ys[1] == 2029 + 2025 + 2027);
    /* national counts: 2026 base 0,1,1 scenario 1,1,1; 2028 base 1,1,2 scenario 1,2,2 */
    assert_true(c->nb[0].s == 2 && c->ns[0].s == 3 && c->nd[0].s == 1 && c->nd[0].ss == 1);
    assert_true(c->nb[2].s == 4 && c->ns[2].s == 5 && c->nd[2].s == 1);
    /* variance ratios (1/3 + 0) / (1/3) at 2026, (1/3 + 1/3) / (1/3) at 2028 */
    assert_true(fabs(pds_compare_var_ratio(c, 0) - 1) < 1e-12);
    assert_true(fabs(pds_compare_var_ratio(c, 2) - 2) < 1e-12);
    /* P(adopted by 2026): unit 0 in 1 of 3 base runs, 2 of 3 scenario runs */
    assert_true(c->pb[0 * 3 + 0] == 1 && c->ps[0 * 3 + 0] == 2);
    assert_true(pds_compare_any_difference(c));
    pds_compare_free(c);
}

/* A scenario identical to its baseline: every difference is exactly 0, the
 * variance ratio is undefined where nothing varies, and the comparison year
 * is the one where the baseline is most uncertain. */
static void identical_runs(void **state)
{
    (void)state;
    pds_compare *c = pds_compare_create(2, 3, 2026, 2028, 2025);
    assert_non_null(c);
    const int16_t x[4][2] = {{2026, 2027}, {2026, 0}, {2026, 2027}, {2026, 0}};
    for (int r = 0; r < 4; r++)
        pds_compare_add_run(c, x[r], x[r]);
    assert_false(pds_compare_any_difference(c));
    double v[3];
    pds_acc_interval(&c->yd[1], c->R, v);
    assert_true(v[0] == 0 && v[1] == 0 && v[2] == 0);
    /* 2026: one unit adopted in every run of both: nothing varies */
    assert_true(isnan(pds_compare_var_ratio(c, 0)));
    /* 2027: unit 1 adopted in half the runs: p (1 - p) largest */
    assert_int_equal(pds_compare_year(c), 1);
    pds_compare_free(c);
}

/* A scenario that adopts one more unit in every run: the paired difference
 * never varies (ratio inf), and the comparison year is where it moves P. */
static void constant_shift(void **state)
{
    (void)state;
    pds_compare *c = pds_compare_create(2, 3, 2026, 2028, 2025);
    assert_non_null(c);
    const int16_t x[2][2] = {{2026, 0}, {0, 0}};
    const int16_t z[2][2] = {{2026, 2028}, {0, 2028}};
    for (int r = 0; r < 2; r++)
        pds_compare_add_run(c, x[r], z[r]);
    assert_true(isinf(pds_compare_var_ratio(c, 2)));
    assert_int_equal(pds_compare_year(c), 2);
    pds_compare_free(NULL);
    pds_compare_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paired_sums_by_hand),
        cmocka_unit_test(identical_runs),
        cmocka_unit_test(constant_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
