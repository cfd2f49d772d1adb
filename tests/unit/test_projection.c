/* Projection of panel covariates past the last observed year. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/engine.h"
#include "testworld.h"

/* One unit, x = 0, 10, 2 in 2020-2022 (not a line), a model whose linear
 * predictor is x itself at lag 1: the static eta of year t is x(t - 1). */
static pds_sim *sim_for(pds_world **w, pds_model **m, const pds_projection *p, int horizon)
{
    *w = tw_chain(1, 0, 2020, 2022);
    (*w)->panel[0] = 0.0;
    (*w)->panel[1] = 10.0;
    (*w)->panel[2] = 2.0;
    static const pds_term_kind k[] = {PDS_TERM_PANEL};
    static const double c[] = {1.0};
    *m = tw_model(PDS_LINK_LOGIT, 0.0, 1, k, c);
    pds_sim_options opt = {.base_year = 2022, .horizon = horizon, .proj = p, .n_proj = 1,
                           .default_proj = {.rule = PDS_PROJ_HOLD}};
    pds_diag d;
    pds_diag_init(&d);
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(*w, *m, NULL, &opt, &d, &s), PDS_OK);
    pds_diag_free(&d);
    return s;
}

/* Least squares through (2020, 0), (2021, 10), (2022, 2), by hand:
 * mean year 2021, mean x 4, slope = sum (t - 2021)(x - 4) / sum (t - 2021)^2
 * = ((-1)(-4) + (1)(-2)) / 2 = 1, so the line is 4 + (t - 2021): 6 in 2023,
 * 7 in 2024, ..., clamped to the panel's range [0, 10] from 2027 on.
 * Continuing the last value with the slope would give 3, 4, ... instead. */
static void trend_is_the_fitted_line(void **state)
{
    (void)state;
    pds_projection p = {.variable = "x", .rule = PDS_PROJ_TREND, .years = 3, .min = NAN, .max = NAN};
    pds_world *w;
    pds_model *m;
    pds_sim *s = sim_for(&w, &m, &p, 2031);
    /* simulated years 2023..2031 use x of 2022..2030 */
    static const double expect[] = {2, 6, 7, 8, 9, 10, 10, 10, 10};
    assert_int_equal(pds_sim_n_years(s), 9);
    for (size_t k = 0; k < 9; k++)
        assert_float_equal(pds_sim_static_eta(s, 0, k), expect[k], 1e-12);
    pds_sim_free(s);
    pds_model_free(m);
    pds_world_free(w);
}

/* Over the last 2 years only, (2021, 10) and (2022, 2): slope -8, the line
 * passes through both points, so 2023 gives -6, clamped to the lower bound
 * min = -3 given in the rule. */
static void trend_window_and_clamp(void **state)
{
    (void)state;
    pds_projection p = {.variable = "x", .rule = PDS_PROJ_TREND, .years = 2, .min = -3, .max = NAN};
    pds_world *w;
    pds_model *m;
    pds_sim *s = sim_for(&w, &m, &p, 2025);
    static const double expect[] = {2, -3, -3};
    for (size_t k = 0; k < 3; k++)
        assert_float_equal(pds_sim_static_eta(s, 0, k), expect[k], 1e-12);
    pds_sim_free(s);
    pds_model_free(m);
    pds_world_free(w);
}

/* hold keeps the last observed value. */
static void hold_keeps_last_value(void **state)
{
    (void)state;
    pds_projection p = {.variable = "x", .rule = PDS_PROJ_HOLD, .years = 3, .min = NAN, .max = NAN};
    pds_world *w;
    pds_model *m;
    pds_sim *s = sim_for(&w, &m, &p, 2025);
    for (size_t k = 0; k < 3; k++)
        assert_float_equal(pds_sim_static_eta(s, 0, k), 2.0, 1e-12);
    pds_sim_free(s);
    pds_model_free(m);
    pds_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trend_is_the_fitted_line),
        cmocka_unit_test(trend_window_and_clamp),
        cmocka_unit_test(hold_keeps_last_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
