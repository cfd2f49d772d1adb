#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "core/pcg.h"

/* Known answers of the reference implementation (pcg32-demo): seed 42,
 * stream 54. */
static void known_answers(void **state)
{
    (void)state;
    static const uint32_t expect[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                      0x83d2f293, 0xbfa4784b, 0xcbed606e};
    pds_pcg32 g;
    pds_pcg32_seed(&g, 42u, 54u);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        assert_int_equal(pds_pcg32_next(&g), expect[i]);
}

/* Advancing by d equals d single steps, for the O(log d) method and the
 * jump tables alike. */
static void advance_equals_steps(void **state)
{
    (void)state;
    pds_pcg32 g;
    pds_pcg32_seed(&g, 20231231u, 7u);
    enum { N = 3000 };
    static uint64_t states[N + 1], mult[N + 1], gsum[N + 1];
    pds_pcg32 h = g;
    for (int i = 0; i <= N; i++) {
        states[i] = h.state;
        (void)pds_pcg32_next(&h);
    }
    pds_pcg32_jump_table(mult, gsum, N + 1);
    for (uint64_t d = 0; d <= N; d++) {
        assert_true(pds_pcg32_advance_state(g.state, g.inc, d) == states[d]);
        assert_true(mult[d] * g.state + gsum[d] * g.inc == states[d]);
    }
    /* the output of a state is the draw a step from it returns */
    uint64_t st = g.state;
    uint32_t o = pds_pcg32_output(st);
    assert_int_equal(pds_pcg32_step(&st, g.inc), o);
    /* a long stride, then back to the start: the period is 2^64 */
    uint64_t far = pds_pcg32_advance_state(g.state, g.inc, 10000019u);
    h = g;
    for (int i = 0; i < 10000019; i++)
        (void)pds_pcg32_next(&h);
    assert_true(far == h.state);
    uint64_t back = pds_pcg32_advance_state(far, g.inc, (uint64_t)0 - 10000019u);
    assert_true(back == g.state);
}

static void streams_differ(void **state)
{
    (void)state;
    pds_pcg32 a, b;
    pds_pcg32_seed(&a, 7, 0);
    pds_pcg32_seed(&b, 7, 1);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += pds_pcg32_next(&a) == pds_pcg32_next(&b);
    assert_true(same < 3);
}

static void bounded_in_range_and_uniform(void **state)
{
    (void)state;
    pds_pcg32 g;
    pds_pcg32_seed(&g, 1, 2);
    int counts[7] = {0};
    const int n = 70000;
    for (int i = 0; i < n; i++) {
        uint32_t r = pds_pcg32_bounded(&g, 7);
        assert_true(r < 7);
        counts[r]++;
    }
    /* chi-square with 6 degrees of freedom; 22.46 is the 0.999 quantile */
    double chi = 0;
    for (int k = 0; k < 7; k++)
        chi += (counts[k] - n / 7.0) * (counts[k] - n / 7.0) / (n / 7.0);
    assert_true(chi < 22.46);
}

static void uniform_in_unit_interval(void **state)
{
    (void)state;
    pds_pcg32 g;
    pds_pcg32_seed(&g, 3, 4);
    double sum = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double u = pds_pcg32_uniform(&g);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    /* mean 1/2, sd of the mean sqrt(1/12/n): 5 sd */
    assert_true(fabs(sum / n - 0.5) < 5 * 0.000913);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(advance_equals_steps),
        cmocka_unit_test(streams_differ),
        cmocka_unit_test(bounded_in_range_and_uniform),
        cmocka_unit_test(uniform_in_unit_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
