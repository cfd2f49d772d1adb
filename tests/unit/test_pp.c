#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/engine.h"
#include "core/fit.h"
#include "core/pp.h"
#include "testworld.h"

/* A simulated history becomes the observed history of a world: the
 * person-period table rebuilt from it must carry exactly the regressors the
 * engine used, and fitting it must recover the coefficients that generated it. */

#define Y0 2000
#define BASE 2004
#define HORIZON 2024

static const pds_term_kind kinds[] = {PDS_TERM_DOCUMENTS, PDS_TERM_NEIGHBOURS_PCT,
                                      PDS_TERM_SUBUNITS_PCT, PDS_TERM_PANEL};
static const double truth[] = {0.15, 0.012, 0.015, 0.25};
static const double intercept = -4.5;

static pds_world *simulated_world(size_t n_units, uint64_t seed)
{
    pds_world *w = tw_chain(n_units, 4, Y0, HORIZON);
    /* x varies by unit: u mod 7, plus a slow drift */
    size_t ny = (size_t)(HORIZON - Y0 + 1);
    for (size_t u = 0; u < n_units; u++)
        for (size_t k = 0; k < ny; k++)
            w->panel[u * ny + k] = (double)(u % 7) + 0.05 * (double)k;
    w->n_documents = 3;
    w->documents = calloc(3, sizeof *w->documents);
    w->documents[0] = (pds_document){.year = 2001, .weight = 2};
    w->documents[1] = (pds_document){.year = 2008, .weight = 3};
    w->documents[2] = (pds_document){.year = 2015, .weight = 4};
    pds_model *um = tw_model(PDS_LINK_LOGIT, intercept, 4, kinds, truth);
    static const pds_term_kind sk[] = {PDS_TERM_DOCUMENTS, PDS_TERM_PARENT_ADOPTED,
                                       PDS_TERM_SIBLINGS_PCT};
    static const double sc[] = {0.1, 1.0, 0.01};
    pds_model *sm = tw_model(PDS_LINK_LOGIT, -3.5, 3, sk, sc);
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON};
    pds_diag d;
    pds_diag_init(&d);
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(w, um, sm, &opt, &d, &s), PDS_OK);
    void *scr = pds_sim_scratch_create(s);
    int16_t *uy = calloc(n_units, sizeof(int16_t));
    int16_t *sy = calloc(w->n_subunits, sizeof(int16_t));
    pds_sim_run_one(s, seed, 0, scr, uy, sy, NULL);
    for (size_t u = 0; u < n_units; u++)
        w->units[u].adoption_year = uy[u];
    for (size_t i = 0; i < w->n_subunits; i++)
        w->subunits[i].adoption_year = sy[i];
    free(uy);
    free(sy);
    free(scr);
    pds_sim_free(s);
    pds_model_free(um);
    pds_model_free(sm);
    pds_diag_free(&d);
    return w;
}

static void table_matches_engine(void **state)
{
    (void)state;
    pds_world *w = simulated_world(60, 4);
    pds_model *spec = tw_model(PDS_LINK_LOGIT, intercept, 4, kinds, truth);
    pds_diag d;
    pds_diag_init(&d);
    pds_pp_table *t = NULL;
    assert_int_equal(pds_pp_build(w, spec, BASE + 1, HORIZON, &d, &t), PDS_OK);
    /* the engine's static part (documents + panel) for the same unit-years */
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON};
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(w, spec, NULL, &opt, &d, &s), PDS_OK);
    size_t events = 0;
    for (size_t r = 0; r < t->n; r++) {
        const double *x = t->X + r * t->p;
        size_t u = t->unit[r];
        int y = t->year[r];
        double static_part = intercept + truth[0] * x[1] + truth[3] * x[4];
        assert_true(fabs(static_part - pds_sim_static_eta(s, u, (size_t)(y - BASE - 1))) < 1e-9);
        /* dynamic parts recounted here from the history */
        int na = 0, nn = 0, sa = 0, sn = 0;
        for (size_t i = w->nbr_start[u]; i < w->nbr_start[u + 1]; i++, nn++)
            na += w->units[w->nbr[i]].adoption_year != 0 && w->units[w->nbr[i]].adoption_year < y;
        for (size_t i = w->sub_start[u]; i < w->sub_start[u + 1]; i++, sn++)
            sa += w->subunits[w->sub_of[i]].adoption_year != 0 &&
                  w->subunits[w->sub_of[i]].adoption_year < y;
        assert_true(fabs(x[2] - 100.0 * na / nn) < 1e-12);
        assert_true(fabs(x[3] - 100.0 * sa / sn) < 1e-12);
        /* at risk: not adopted before y */
        int a = w->units[u].adoption_year;
        assert_true(a == 0 || a >= y);
        events += t->y[r] == 1.0;
        assert_true((t->y[r] == 1.0) == (a == y));
    }
    size_t adopted = 0;
    for (size_t u = 0; u < w->n_units; u++)
        adopted += w->units[u].adoption_year > BASE;
    assert_int_equal(events, adopted);
    pds_sim_free(s);
    pds_pp_free(t);
    pds_model_free(spec);
    pds_world_free(w);
    pds_diag_free(&d);
}

static void fit_recovers_simulated_coefficients(void **state)
{
    (void)state;
    pds_world *w = simulated_world(3000, 17);
    pds_model *spec = tw_model(PDS_LINK_LOGIT, 0, 4, kinds, truth);
    pds_diag d;
    pds_diag_init(&d);
    pds_pp_table *t = NULL;
    assert_int_equal(pds_pp_build(w, spec, BASE + 1, HORIZON, &d, &t), PDS_OK);
    pds_fit_data fd = {.n = t->n, .p = t->p, .X = t->X, .y = t->y, .intercept_col = 0};
    pds_fit_options fo = {.link = PDS_LINK_LOGIT};
    pds_fit_result *r = NULL;
    pds_status st = pds_fit(&fd, &fo, &d, &r);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_int_equal(st, PDS_OK);
    const double want[] = {intercept, truth[0], truth[1], truth[2], truth[3]};
    for (size_t j = 0; j < 5; j++) {
        if (fabs(r->beta[j] - want[j]) > 3 * r->se[j])
            fail_msg("parameter %zu: %.4f (se %.4f), truth %.4f", j, r->beta[j], r->se[j], want[j]);
    }
    pds_fit_result_free(r);
    pds_pp_free(t);
    pds_model_free(spec);
    pds_world_free(w);
    pds_diag_free(&d);
}

/* The intercept shift makes the fitted hazards sum to the events, for both
 * links; a logit table with one binary regressor has a closed form to check. */
static void intercept_shift_matches_events(void **state)
{
    (void)state;
    /* 40 rows: x = 1 on 10 of them; 6 events */
    pds_pp_table t = {.n = 40, .p = 2, .first_year = 2000, .last_year = 2000};
    double X[80], y[40];
    for (size_t r = 0; r < 40; r++) {
        X[2 * r] = 1.0;
        X[2 * r + 1] = r < 10 ? 1.0 : 0.0;
        y[r] = r % 7 == 0 ? 1.0 : 0.0;
    }
    t.X = X;
    t.y = y;
    static const pds_term_kind k[] = {PDS_TERM_DOCUMENTS};
    static const double coef[] = {1.2};
    for (int link = 0; link < 2; link++) {
        pds_model *m = tw_model((pds_link)link, -3.0, 1, k, coef);
        pds_diag d;
        pds_diag_init(&d);
        double delta = 0.0, p[40], sum = 0.0;
        assert_int_equal(pds_pp_intercept_shift(&t, m, &delta, &d), PDS_OK);
        pds_pp_hazards(&t, m, delta, p);
        for (size_t r = 0; r < 40; r++)
            sum += p[r];
        assert_true(fabs(sum - 6.0) < 1e-9);
        if (link == PDS_LINK_LOGIT) {
            /* 10 p1 + 30 p0 = 6 with p1 = L(a + 1.2), p0 = L(a), a = -3 + delta */
            double a = -3.0 + delta;
            double p1 = 1 / (1 + exp(-(a + 1.2))), p0 = 1 / (1 + exp(-a));
            assert_true(fabs(10 * p1 + 30 * p0 - 6.0) < 1e-9);
        }
        /* no events: refused with a message */
        double y0[40] = {0};
        pds_pp_table t0 = t;
        t0.y = y0;
        assert_int_equal(pds_pp_intercept_shift(&t0, m, &delta, &d), PDS_ERR_INPUT);
        assert_true(d.n > 0);
        pds_diag_free(&d);
        pds_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_engine),
        cmocka_unit_test(fit_recovers_simulated_coefficients),
        cmocka_unit_test(intercept_shift_matches_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
