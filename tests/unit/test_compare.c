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
    pds_compare_add_runs(c, 3, x[0], z[0]);
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
    pds_compare_add_runs(c, 4, x[0], x[0]);
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
    pds_compare_add_runs(c, 2, x[0], z[0]);
    assert_true(isinf(pds_compare_var_ratio(c, 2)));
    assert_int_equal(pds_compare_year(c), 2);
    pds_compare_free(NULL);
    pds_compare_free(c);
}

/* The same code over another axis: four sub-units (two with the code -1,
 * adopted by the base year with the year unknown) in four paired runs over
 * 2024..2025 (base year 2023), added in two blocks of [runs x 4]. Worked
 * out by hand: not adopted counts as 2026, -1 as 2023. */
static void subunit_axis_by_hand(void **state)
{
    (void)state;
    pds_compare *c = pds_compare_create(4, 2, 2024, 2025, 2023);
    assert_non_null(c);
    const int16_t x[4][4] = {
        {0, -1, 2024, 0}, {2025, -1, 0, 0}, {0, -1, 2025, 2024}, {0, -1, 0, 0}};
    const int16_t z[4][4] = {
        {2025, -1, 2024, 0}, {2024, -1, 0, 0}, {2024, -1, 2025, 2024}, {0, -1, 2025, 0}};
    pds_compare_add_runs(c, 1, x[0], z[0]);
    pds_compare_add_runs(c, 3, x[1], z[1]);
    assert_true(c->R == 4);
    /* sub-unit 0, baseline years 2026 2025 2026 2026, scenario 2025 2024
     * 2024 2026: differences -1 -1 -2 0, mean -1, variance 2/3 */
    assert_true(c->yb[0] == 2026 * 3 + 2025 && c->ys[0] == 2025 + 2024 * 2 + 2026);
    assert_true(c->yd[0].s == -4 && c->yd[0].ss == 6);
    assert_true(fabs(pds_acc_var(&c->yd[0], 4) - 2.0 / 3) < 1e-15);
    assert_true(fabs(pds_acc_se(&c->yd[0], 4) - sqrt(2.0 / 3 / 4)) < 1e-15);
    /* sub-unit 1: -1 in every run of both counts as 2023, adopted in every year */
    assert_true(c->yb[1] == 4 * 2023 && c->yd[1].ss == 0);
    assert_true(c->pb[1 * 2 + 0] == 4 && c->ps[1 * 2 + 1] == 4);
    /* sub-unit 2: only run 3 differs, 2026 -> 2025 */
    assert_true(c->yd[2].s == -1 && c->yd[2].ss == 1);
    /* P(adopted by 2024) of sub-unit 0: base 0 of 4, scenario 2 of 4; the
     * 0/1 differences 0 1 1 0: mean 1/2, variance 1/3 */
    assert_true(c->pb[0] == 0 && c->ps[0] == 2 && c->pd[0].s == 2 && c->pd[0].ss == 2);
    double v[3];
    pds_acc_interval(&c->pd[0], c->R, v);
    assert_true(fabs(v[0] - 0.5) < 1e-15 && fabs(v[2] - 0.5 - Z95 * sqrt(1.0 / 3 / 4)) < 1e-12);
    /* adopted by 2024 per run: base 2 1 2 1, scenario 2 2 3 1 (of 4); by
     * 2025: base 2 2 3 1, scenario 3 2 4 2 */
    assert_true(c->nb[0].s == 6 && c->ns[0].s == 8 && c->nd[0].s == 2 && c->nd[0].ss == 2);
    assert_true(c->nb[1].s == 8 && c->ns[1].s == 11 && c->nd[1].s == 3 && c->nd[1].ss == 3);
    /* the share adopted by 2024: base 6/16, scenario 8/16, paired
     * differences 0 1/4 1/4 0: mean 1/8, SE sqrt((1/3) / 4) / 4 */
    pds_compare_share sh;
    pds_compare_share_at(c, 0, &sh);
    assert_true(fabs(sh.base - 0.375) < 1e-15 && fabs(sh.scenario - 0.5) < 1e-15);
    assert_true(fabs(sh.diff[0] - 0.125) < 1e-15);
    assert_true(fabs(sh.se - sqrt(1.0 / 3 / 4) / 4) < 1e-15);
    assert_true(fabs(sh.diff[1] - (0.125 - Z95 * sh.se)) < 1e-12 &&
                fabs(sh.diff[2] - (0.125 + Z95 * sh.se)) < 1e-12);
    /* unit-years gained per run: 1, 1, 2, 1 */
    assert_true(c->gained.s == 5 && c->gained.ss == 7);
    /* largest shifts: sub-unit 0 (mean -1), then 2 (-1/4); sub-units 1 and 3
     * never differ */
    size_t top[4];
    assert_int_equal(pds_compare_top_shifts(c, 0, top, 4), 2);
    assert_true(top[0] == 0 && top[1] == 2);
    assert_int_equal(pds_compare_top_shifts(c, 0, top, 1), 1);
    assert_true(top[0] == 0);
    assert_int_equal(pds_compare_top_shifts(c, 0, top, 0), 0);
    pds_compare_free(c);
}

/* The order of the largest shifts: equal year shifts are ordered by the
 * shift of P(adopted by the year), then by index. */
static void top_shifts_ties(void **state)
{
    (void)state;
    pds_compare *c = pds_compare_create(4, 2, 2024, 2025, 2023);
    assert_non_null(c);
    /* 0: 2025 -> 2024, 1: never -> 2025, 2: none, 3: never -> 2025 */
    const int16_t x[4] = {2025, 0, 0, 0}, z[4] = {2024, 2025, 0, 2025};
    pds_compare_add_runs(c, 1, x, z);
    size_t top[4];
    /* by 2025 only 1 and 3 move P */
    assert_int_equal(pds_compare_top_shifts(c, 1, top, 4), 3);
    assert_true(top[0] == 1 && top[1] == 3 && top[2] == 0);
    /* by 2024 only 0 moves P */
    assert_int_equal(pds_compare_top_shifts(c, 0, top, 4), 3);
    assert_true(top[0] == 0 && top[1] == 1 && top[2] == 3);
    /* one place: the first of them */
    assert_int_equal(pds_compare_top_shifts(c, 1, top, 1), 1);
    assert_true(top[0] == 1);
    pds_compare_free(c);
}

/* Runs added in blocks give exactly the sums of runs added one at a time. */
static void blocks_equal_single_runs(void **state)
{
    (void)state;
    enum { R = 7, N = 3 };
    int16_t x[R][N], z[R][N];
    for (int r = 0; r < R; r++)
        for (int u = 0; u < N; u++) {
            x[r][u] = (int16_t)((r * 7 + u * 3) % 5 == 0 ? 0 : 2020 + (r + u) % 4);
            z[r][u] = (int16_t)((r + u) % 3 == 0 ? x[r][u] : 2020 + (r * u) % 4);
        }
    pds_compare *a = pds_compare_create(N, 4, 2020, 2023, 2019),
                *b = pds_compare_create(N, 4, 2020, 2023, 2019);
    assert_non_null(a);
    assert_non_null(b);
    pds_compare_add_runs(a, R, x[0], z[0]);
    for (int r = 0; r < R; r++)
        pds_compare_add_runs(b, 1, x[r], z[r]);
    for (size_t i = 0; i < N * 4; i++)
        assert_true(a->pd[i].s == b->pd[i].s && a->pd[i].ss == b->pd[i].ss &&
                    a->pb[i] == b->pb[i] && a->ps[i] == b->ps[i]);
    for (size_t u = 0; u < N; u++)
        assert_true(a->yd[u].s == b->yd[u].s && a->yd[u].ss == b->yd[u].ss);
    assert_true(a->gained.s == b->gained.s && a->gained.ss == b->gained.ss && a->R == b->R);
    pds_compare_free(a);
    pds_compare_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paired_sums_by_hand),      cmocka_unit_test(subunit_axis_by_hand),
        cmocka_unit_test(blocks_equal_single_runs), cmocka_unit_test(top_shifts_ties),
        cmocka_unit_test(identical_runs),           cmocka_unit_test(constant_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
