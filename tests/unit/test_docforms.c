#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/dynamic.h"
#include "core/engine.h"
#include "core/pp.h"
#include "io/model_io.h"
#include "testworld.h"

/* The document forms on a small world built by hand: documents of weight 2
 * in 2002, 1 in 2004 and 3 in 2005, lag 1. The values below are worked out
 * by hand for covariate years c = t - 1 = 2001 .. 2010 (outcome years
 * 2002 .. 2011), and each must come out the same from the definition in
 * dynamic.h, from the person-period table used by fit, and from the
 * engine's linear predictor used by run, backtest and sweep. */

#define C0 2001
#define NC 10

static pds_world *doc_world(void)
{
    pds_world *w = tw_chain(2, 2, 2000, 2011);
    w->n_documents = 3;
    w->documents = calloc(3, sizeof *w->documents);
    w->documents[0] = (pds_document){.year = 2005, .weight = 3};
    w->documents[1] = (pds_document){.year = 2002, .weight = 2};
    w->documents[2] = (pds_document){.year = 2004, .weight = 1};
    return w;
}

typedef struct form_case {
    const char *label;
    pds_term term;
    double v[NC]; /* c = 2001 .. 2010 */
} form_case;

#define R M_SQRT1_2 /* 0.5^(1/2) */

static const form_case cases[] = {
    {"central_documents", {.kind = PDS_TERM_DOCUMENTS}, {0, 2, 2, 3, 6, 6, 6, 6, 6, 6}},
    /* 2 * 0.5^((c-2002)/2) + 1 * 0.5^((c-2004)/2) + 3 * 0.5^((c-2005)/2) */
    {"document_stock h=2",
     {.kind = PDS_TERM_DOCUMENT_STOCK, .half_life = 2},
     {0, 2, 2 * R, 2 * 0.5 + 1, 2 * 0.5 * R + R + 3, 2 * 0.25 + 0.5 + 3 * R,
      2 * 0.25 * R + 0.5 * R + 3 * 0.5, 2 * 0.125 + 0.25 + 3 * 0.5 * R,
      2 * 0.125 * R + 0.25 * R + 3 * 0.25, 2 * 0.0625 + 0.125 + 3 * 0.25 * R}},
    /* half-life 1: the weight halves each year */
    {"document_stock h=1",
     {.kind = PDS_TERM_DOCUMENT_STOCK, .half_life = 1},
     {0, 2, 1, 1.5, 3.75, 1.875, 0.9375, 0.46875, 0.234375, 0.1171875}},
    /* issued in (c - 2, c] */
    {"recent_documents w=2",
     {.kind = PDS_TERM_RECENT_DOCUMENTS, .window = 2},
     {0, 2, 2, 1, 4, 3, 0, 0, 0, 0}},
    {"recent_documents w=1",
     {.kind = PDS_TERM_RECENT_DOCUMENTS, .window = 1},
     {0, 2, 0, 1, 3, 0, 0, 0, 0, 0}},
    {"recent_documents w=4",
     {.kind = PDS_TERM_RECENT_DOCUMENTS, .window = 4},
     {0, 2, 2, 3, 6, 4, 4, 3, 0, 0}},
    {"log1p(central_documents)",
     {.kind = PDS_TERM_DOCUMENTS, .transform = PDS_TRANSFORM_LOG1P},
     {0, 1.0986122886681098, 1.0986122886681098,
      1.3862943611198906, 1.9459101490553132, 1.9459101490553132, 1.9459101490553132,
      1.9459101490553132, 1.9459101490553132, 1.9459101490553132}},
    {"log1p(recent_documents w=2)",
     {.kind = PDS_TERM_RECENT_DOCUMENTS, .window = 2, .transform = PDS_TRANSFORM_LOG1P},
     {0, 1.0986122886681098, 1.0986122886681098, M_LN2, 1.6094379124341003, 1.3862943611198906,
      0, 0, 0, 0}},
    /* the first document is of 2002 */
    {"years_since_first_document",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST},
     {0, 0, 1, 2, 3, 4, 5, 6, 7, 8}},
    {"years_since_first_document in [1, 2]",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST, .has_interval = 1, .lo = 1, .hi = 2},
     {0, 0, 1, 1, 0, 0, 0, 0, 0, 0}},
    /* 0 before the first document, even though the duration is 0 there */
    {"years_since_first_document in [0, 0]",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST, .has_interval = 1, .lo = 0, .hi = 0},
     {0, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
    {"years_since_first_document in [6, 100]",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST, .has_interval = 1, .lo = 6, .hi = 100},
     {0, 0, 0, 0, 0, 0, 0, 1, 1, 1}},
    {"spline knots 1,3,6 basis 1",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST, .n_knots = 3, .knots = {1, 3, 6}, .basis = 1},
     {0, 0, 1, 2, 3, 4, 5, 6, 7, 8}},
    /* [(x-1)+^3 - (x-3)+^3 5/3 + (x-6)+^3 2/3] / 25 at x = 0 .. 8 */
    {"spline knots 1,3,6 basis 2",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST, .n_knots = 3, .knots = {1, 3, 6}, .basis = 2},
     {0, 0, 0, 1.0 / 25, 8.0 / 25, 76.0 / 75, 152.0 / 75, 80.0 / 25, 110.0 / 25, 140.0 / 25}},
    /* four knots 0,2,4,8, column 3: [(x-2)+^3 - (x-4)+^3 6/4 + (x-8)+^3 2/4] / 64 */
    {"spline knots 0,2,4,8 basis 3",
     {.kind = PDS_TERM_YEARS_SINCE_FIRST, .n_knots = 4, .knots = {0, 2, 4, 8}, .basis = 3},
     {0, 0, 0, 0, 1.0 / 64, 8.0 / 64, (27 - 1.5) / 64, (64 - 12) / 64.0, (125 - 40.5) / 64,
      (216 - 96) / 64.0}},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static void near(const char *label, int c, double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * (1 + fabs(want)))) {
        print_error("%s, covariate year %d: got %.17g, expected %.17g\n", label, c, got, want);
        fail();
    }
}

static void definition_matches_hand_values(void **state)
{
    (void)state;
    pds_world *w = doc_world();
    for (size_t i = 0; i < N_CASES; i++)
        for (int k = 0; k < NC; k++)
            near(cases[i].label, C0 + k,
                 pds_dynamic_common(w, &cases[i].term, C0 + k + 1, 1), cases[i].v[k]);
    /* a lag of 2 moves every form one year later */
    for (size_t i = 0; i < N_CASES; i++)
        for (int k = 0; k < NC; k++)
            near(cases[i].label, C0 + k,
                 pds_dynamic_common(w, &cases[i].term, C0 + k + 2, 2), cases[i].v[k]);
    pds_world_free(w);
}

static pds_model *one_term_model(const pds_term *t)
{
    static const pds_term_kind k[] = {PDS_TERM_DOCUMENTS};
    static const double one[] = {1.0};
    pds_model *m = tw_model(PDS_LINK_LOGIT, 0.0, 1, k, one);
    char *name = m->terms[0].name;
    m->terms[0] = *t;
    m->terms[0].name = name;
    m->terms[0].coef = 1.0;
    return m;
}

/* fit's table and the engine: the same values, and the documents channel
 * switch turns every form off */
static void table_and_engine_match(void **state)
{
    (void)state;
    pds_world *w = doc_world();
    for (size_t i = 0; i < N_CASES; i++) {
        pds_model *m = one_term_model(&cases[i].term);
        pds_diag d;
        pds_diag_init(&d);
        pds_pp_table *t = NULL;
        assert_int_equal(pds_pp_build(w, m, C0 + 1, C0 + NC, &d, &t), PDS_OK);
        assert_int_equal(t->n, 2 * NC);
        for (size_t r = 0; r < t->n; r++)
            near(cases[i].label, t->year[r] - 1, t->X[r * t->p + 1],
                 cases[i].v[t->year[r] - 1 - C0]);
        pds_pp_free(t);
        for (int off = 0; off < 2; off++) {
            pds_sim_options opt = {.base_year = C0, .horizon = C0 + NC,
                                   .channels_off = off ? 1u << PDS_TERM_DOCUMENTS : 0};
            for (int drawn = 0; drawn < 2; drawn++) {
                opt.draw_coefficients = drawn;
                pds_sim *s = NULL;
                assert_int_equal(pds_sim_create(w, m, NULL, &opt, &d, &s), PDS_OK);
                for (size_t u = 0; u < 2; u++)
                    for (int k = 0; k < NC; k++)
                        near(cases[i].label, C0 + k, pds_sim_static_eta(s, u, (size_t)k),
                             off ? 0.0 : cases[i].v[k]);
                pds_sim_free(s);
            }
        }
        assert_int_equal(pds_term_channel_bit(cases[i].term.kind), 1u << PDS_TERM_DOCUMENTS);
        pds_model_free(m);
        pds_diag_free(&d);
    }
    pds_world_free(w);
}

/* A sub-unit model takes every document form: with a certain hazard from
 * the forms, every sub-unit adopts in the first year; with the documents
 * channel off, none does. */
static void subunit_model_takes_the_forms(void **state)
{
    (void)state;
    pds_world *w = doc_world();
    static const pds_term_kind zk[] = {PDS_TERM_PANEL};
    static const double zc[] = {0.0};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -1000.0, 1, zk, zc);
    for (size_t i = 0; i < N_CASES; i++) {
        /* eta = -500 + 1000 x: adoption certain where the form is positive */
        pds_model *sm = one_term_model(&cases[i].term);
        sm->intercept = -500.0;
        sm->terms[0].coef = 1000.0;
        int first = -1;
        for (int k = 0; k < NC && first < 0; k++)
            if (cases[i].v[k] > 0.5)
                first = C0 + k + 1;
        /* drawn: each run draws the sub-unit coefficients (from a near-zero
         * spread), the path that evaluates the forms per run */
        for (int off = 0; off < 4; off++) {
            int drawn = off >= 2;
            sm->intercept_se = sm->terms[0].se = drawn ? 1e-9 : 0.0;
            pds_sim_options opt = {.base_year = C0, .horizon = C0 + NC,
                                   .channels_off = off % 2 ? 1u << PDS_TERM_DOCUMENTS : 0,
                                   .draw_subunit_coefficients = drawn};
            pds_diag d;
            pds_diag_init(&d);
            pds_sim *s = NULL;
            assert_int_equal(pds_sim_create(w, um, sm, &opt, &d, &s), PDS_OK);
            assert_int_equal(pds_sim_n_subunit_coefficients(s), drawn ? 2 : 0);
            void *scr = pds_sim_scratch_create(s);
            int16_t uy[2], sy[4];
            pds_sim_run_one(s, 7, 0, scr, uy, sy, NULL);
            for (int j = 0; j < 4; j++)
                if (sy[j] != (off % 2 || first < 0 ? 0 : first)) {
                    print_error("%s, channel %s%s: sub-unit %d adopted in %d, expected %d\n",
                                cases[i].label, off % 2 ? "off" : "on", drawn ? ", drawn" : "", j,
                                sy[j], off % 2 || first < 0 ? 0 : first);
                    fail();
                }
            free(scr);
            pds_sim_free(s);
            pds_diag_free(&d);
        }
        pds_model_free(sm);
    }
    pds_model_free(um);
    pds_world_free(w);
}

/* The first document under scenarios: later documents leave it, removing
 * the first year's documents moves it. */
static void first_document_under_scenarios(void **state)
{
    (void)state;
    pds_world *w = doc_world();
    assert_int_equal(pds_dynamic_first_document_year(w), 2002);
    pds_document *d = realloc(w->documents, 5 * sizeof *d);
    w->documents = d;
    d[3] = (pds_document){.year = 2026, .weight = 1};
    w->n_documents = 4;
    assert_int_equal(pds_dynamic_first_document_year(w), 2002);
    d[4] = (pds_document){.year = 2002, .weight = -2};
    w->n_documents = 5;
    assert_int_equal(pds_dynamic_first_document_year(w), 2004);
    w->n_documents = 0;
    assert_int_equal(pds_dynamic_first_document_year(w), 0);
    pds_term t = {.kind = PDS_TERM_YEARS_SINCE_FIRST, .has_interval = 1, .lo = 0, .hi = 5};
    assert_true(pds_dynamic_common(w, &t, 2010, 1) == 0.0);
    pds_world_free(w);
}

/* The model file keys reach the terms. */
static void model_file_parameters(void **state)
{
    (void)state;
    char path[] = "/tmp/pdsim-docforms-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("name: forms\nintercept: {coef: -3}\nterms:\n"
          "  - {name: s, dynamic: document_stock, half_life: 2.5, transform: log1p, coef: 1}\n"
          "  - {name: r, dynamic: recent_documents, window: 3, coef: 1}\n"
          "  - {name: p, dynamic: years_since_first_document, interval: [4, 7], coef: 1}\n"
          "  - {name: q, dynamic: years_since_first_document, spline: {knots: [2, 5, 9], basis: 2}, "
          "coef: 1}\n"
          "  - {name: x, variable: x, transform: log1p, coef: 1}\n",
          f);
    fclose(f);
    pds_diag d;
    pds_diag_init(&d);
    pds_model *m = pds_model_load(path, &d);
    remove(path);
    assert_non_null(m);
    assert_int_equal(m->terms[0].kind, PDS_TERM_DOCUMENT_STOCK);
    assert_true(m->terms[0].half_life == 2.5 && m->terms[0].transform == PDS_TRANSFORM_LOG1P);
    assert_int_equal(m->terms[1].kind, PDS_TERM_RECENT_DOCUMENTS);
    assert_int_equal(m->terms[1].window, 3);
    assert_int_equal(m->terms[2].kind, PDS_TERM_YEARS_SINCE_FIRST);
    assert_true(m->terms[2].has_interval && m->terms[2].lo == 4 && m->terms[2].hi == 7);
    assert_int_equal(m->terms[3].n_knots, 3);
    assert_true(m->terms[3].knots[2] == 9 && m->terms[3].basis == 2 && !m->terms[3].has_interval);
    assert_int_equal(m->terms[4].transform, PDS_TRANSFORM_LOG1P);
    pds_model_free(m);
    pds_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(definition_matches_hand_values),
        cmocka_unit_test(table_and_engine_match),
        cmocka_unit_test(subunit_model_takes_the_forms),
        cmocka_unit_test(first_document_under_scenarios),
        cmocka_unit_test(model_file_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
