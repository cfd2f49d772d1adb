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
#define HORIZON 2025

static pds_sim *make_sim(const pds_world *w, const pds_model *um, const pds_model *sm,
                         const pds_sim_options *opt_in)
{
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON};
    if (opt_in)
        opt = *opt_in;
    pds_diag d;
    pds_diag_init(&d);
    pds_sim *s = NULL;
    pds_status st = pds_sim_create(w, um, sm, &opt, &d, &s);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_int_equal(st, PDS_OK);
    pds_diag_free(&d);
    return s;
}

static const pds_term_kind all_unit_kinds[] = {PDS_TERM_DOCUMENTS, PDS_TERM_NEIGHBOURS_PCT,
                                               PDS_TERM_SUBUNITS_PCT, PDS_TERM_PANEL};
static const double ones[] = {1, 1, 1, 1};
static const pds_term_kind sub_kinds[] = {PDS_TERM_DOCUMENTS, PDS_TERM_PARENT_ADOPTED,
                                          PDS_TERM_SIBLINGS_PCT};

/* Zero hazard: nobody adopts, whatever the dynamic terms say. */
static void zero_hazard_nobody_adopts(void **state)
{
    (void)state;
    pds_world *w = tw_chain(5, 3, 2010, BASE);
    w->units[0].adoption_year = 2014;
    w->subunits[0].adoption_year = 2013;
    pds_model *um = tw_model(PDS_LINK_LOGIT, -1e6, 4, all_unit_kinds, ones);
    pds_model *sm = tw_model(PDS_LINK_LOGIT, -1e6, 3, sub_kinds, ones);
    pds_sim *s = make_sim(w, um, sm, NULL);
    void *scr = pds_sim_scratch_create(s);
    int16_t uy[5], sy[15];
    for (uint64_t r = 0; r < 200; r++) {
        pds_sim_run_one(s, 99, r, scr, uy, sy, NULL);
        assert_int_equal(uy[0], 2014);
        for (int u = 1; u < 5; u++)
            assert_int_equal(uy[u], 0);
        assert_int_equal(sy[0], 2013);
        for (int i = 1; i < 15; i++)
            assert_int_equal(sy[i], 0);
    }
    free(scr);
    pds_sim_free(s);
    pds_model_free(um);
    pds_model_free(sm);
    pds_world_free(w);
}

/* Hazard one: every agent adopts in the first simulated year. */
static void hazard_one_everyone_first_year(void **state)
{
    (void)state;
    pds_world *w = tw_chain(5, 3, 2010, BASE);
    w->units[2].adoption_year = 2012;
    static const double neg[] = {-1, -1, -1, -1};
    pds_model *um = tw_model(PDS_LINK_LOGIT, 1e6, 4, all_unit_kinds, neg);
    pds_model *sm = tw_model(PDS_LINK_CLOGLOG, 1e6, 3, sub_kinds, neg);
    pds_sim *s = make_sim(w, um, sm, NULL);
    void *scr = pds_sim_scratch_create(s);
    int16_t uy[5], sy[15];
    for (uint64_t r = 0; r < 200; r++) {
        pds_sim_run_one(s, 5, r, scr, uy, sy, NULL);
        for (int u = 0; u < 5; u++)
            assert_int_equal(uy[u], u == 2 ? 2012 : BASE + 1);
        for (int i = 0; i < 15; i++)
            assert_int_equal(sy[i], BASE + 1);
    }
    free(scr);
    pds_sim_free(s);
    pds_model_free(um);
    pds_model_free(sm);
    pds_world_free(w);
}

static double inv_link(pds_link link, double eta)
{
    return link == PDS_LINK_LOGIT ? 1.0 / (1.0 + exp(-eta)) : 1.0 - exp(-exp(eta));
}

/* Without dynamic terms, P(adopted by year) is 1 - prod(1 - h): the Monte
 * Carlo estimate must lie within 4 standard errors of it everywhere. */
static void check_exact_survival(pds_link link)
{
    const size_t U = 4;
    pds_world *w = tw_chain(U, 0, 2008, BASE);
    static const pds_term_kind k[] = {PDS_TERM_PANEL};
    static const double c[] = {0.4};
    pds_model *um = tw_model(link, -2.5, 1, k, c);
    /* x grows by 0.1 a year up to the base year, then a clamped trend */
    pds_projection proj = {.variable = "x", .rule = PDS_PROJ_TREND, .years = 3, .min = NAN, .max = 2.9};
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON, .proj = &proj, .n_proj = 1,
                           .default_proj = {.rule = PDS_PROJ_HOLD}};
    pds_sim *s = make_sim(w, um, NULL, &opt);
    const uint64_t N = 40000;
    pds_summary *sum = pds_summary_create(U, pds_sim_n_years(s), pds_sim_first_year(s));
    pds_run_options ro = {.seed = 2024, .n_runs = N, .chunk_runs = 1000, .threads = 2};
    assert_int_equal(pds_engine_run(s, &ro, sum), PDS_OK);
    assert_int_equal(sum->n_runs, N);
    size_t Y = pds_sim_n_years(s);
    for (size_t u = 0; u < U; u++) {
        double surv = 1.0;
        for (size_t j = 0; j < Y; j++) {
            int xyear = BASE + 1 + (int)j - 1;
            /* observed up to the base year, then +0.1 a year, clamped at 2.9 */
            double x = (double)u + 0.1 * (double)(xyear - 2008);
            if (x > 2.9 && xyear > BASE)
                x = 2.9;
            double eta = -2.5 + 0.4 * x;
            assert_true(fabs(pds_sim_static_eta(s, u, j) - eta) < 1e-9);
            surv *= 1.0 - inv_link(link, eta);
            double p = 1.0 - surv;
            double se = sqrt(p * (1 - p) / (double)N);
            double est = pds_summary_p_adopted(sum, u, j);
            if (fabs(est - p) > 4 * se)
                fail_msg("unit %zu year %zu: P = %.5f, exact %.5f, 4 SE = %.5f", u, j, est, p, 4 * se);
        }
    }
    pds_summary_free(sum);
    pds_sim_free(s);
    pds_model_free(um);
    pds_world_free(w);
}

static void exact_survival_logit(void **state)
{
    (void)state;
    check_exact_survival(PDS_LINK_LOGIT);
}

static void exact_survival_cloglog(void **state)
{
    (void)state;
    check_exact_survival(PDS_LINK_CLOGLOG);
}

typedef struct digest {
    uint64_t h;      /* FNV-1a over everything the sink received */
    uint64_t next;   /* the run expected next: chunks arrive in order */
    int out_of_order;
} digest;

static int digest_sink(void *ctx, uint64_t first, size_t n, const int16_t *u, const int16_t *s,
                       const double *coefs)
{
    (void)coefs;
    digest *d = ctx;
    if (first != d->next)
        d->out_of_order = 1;
    d->next = first + n;
    /* run by run, so that the digest does not depend on the chunking */
    for (size_t r = 0; r < n; r++) {
        const unsigned char *p = (const unsigned char *)(u + r * 5);
        for (size_t i = 0; i < 5 * sizeof(int16_t); i++)
            d->h = (d->h ^ p[i]) * 1099511628211ULL;
        if (!s)
            continue;
        p = (const unsigned char *)(s + r * 15);
        for (size_t i = 0; i < 15 * sizeof(int16_t); i++)
            d->h = (d->h ^ p[i]) * 1099511628211ULL;
    }
    return 0;
}

static uint64_t run_digest(const pds_sim *s, uint64_t seed, int threads, size_t chunk)
{
    digest d = {.h = 1469598103934665603ULL};
    pds_summary *sum = pds_summary_create(5, pds_sim_n_years(s), pds_sim_first_year(s));
    pds_run_options ro = {.seed = seed, .n_runs = 3000, .chunk_runs = chunk, .threads = threads,
                          .keep_subunits = 1, .sink = digest_sink, .sink_ctx = &d};
    assert_int_equal(pds_engine_run(s, &ro, sum), PDS_OK);
    assert_false(d.out_of_order);
    assert_int_equal(d.next, 3000);
    pds_summary_free(sum);
    return d.h;
}

static pds_world *dynamic_world(void)
{
    pds_world *w = tw_chain(5, 3, 2010, BASE);
    w->units[0].adoption_year = 2014;
    w->n_documents = 1;
    w->documents = calloc(1, sizeof *w->documents);
    w->documents[0] = (pds_document){.year = 2012, .weight = 3};
    return w;
}

/* Results depend on (seed, run) only: not on threads or chunking. */
static void threads_and_seeds(void **state)
{
    (void)state;
    pds_world *w = dynamic_world();
    static const double c[] = {0.2, 0.02, 0.01, 0.1};
    static const double cs[] = {0.1, 1.0, 0.02};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -3, 4, all_unit_kinds, c);
    pds_model *sm = tw_model(PDS_LINK_LOGIT, -3, 3, sub_kinds, cs);
    pds_sim *s = make_sim(w, um, sm, NULL);
    uint64_t a = run_digest(s, 11, 1, 256);
    assert_int_equal(a, run_digest(s, 11, 2, 256));
    assert_int_equal(a, run_digest(s, 11, 2, 1000));
    assert_int_equal(a, run_digest(s, 11, 1, 256));
    assert_true(a != run_digest(s, 12, 1, 256));
    pds_sim_free(s);
    pds_model_free(um);
    pds_model_free(sm);
    pds_world_free(w);
}

/* Common random numbers: a document issued after the horizon changes
 * nothing, so the runs are identical. */
static void document_after_horizon_changes_nothing(void **state)
{
    (void)state;
    pds_world *w = dynamic_world();
    static const double c[] = {0.2, 0.02, 0.01, 0.1};
    static const double cs[] = {0.1, 1.0, 0.02};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -3, 4, all_unit_kinds, c);
    pds_model *sm = tw_model(PDS_LINK_LOGIT, -3, 3, sub_kinds, cs);
    pds_sim *s = make_sim(w, um, sm, NULL);
    uint64_t a = run_digest(s, 3, 2, 512);
    pds_sim_free(s);
    w->documents = realloc(w->documents, 2 * sizeof *w->documents);
    w->documents[1] = (pds_document){.year = HORIZON, .weight = 5};
    w->n_documents = 2;
    s = make_sim(w, um, sm, NULL);
    assert_int_equal(a, run_digest(s, 3, 2, 512));
    pds_sim_free(s);
    pds_model_free(um);
    pds_model_free(sm);
    pds_world_free(w);
}

/* Known counts of adopted sub-units without their identities: each run
 * draws exactly that many, reproducibly, and different runs differ. */
static void initial_counts_drawn_per_run(void **state)
{
    (void)state;
    pds_world *w = tw_chain(3, 4, 2010, BASE);
    w->subunits[4].adoption_year = 2011; /* unit 1 has one dated adopter */
    w->n_subunit_counts = 1;
    w->subunit_counts = calloc(1, sizeof *w->subunit_counts);
    w->subunit_counts[0] = (pds_subunit_count){.unit = 1, .year = 2014, .adopted = 3};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -1e6, 0, NULL, NULL);
    pds_sim *s = make_sim(w, um, NULL, NULL);
    void *scr = pds_sim_scratch_create(s);
    int16_t uy[3], sy[12], sy2[12];
    int seen[12] = {0};
    for (uint64_t r = 0; r < 400; r++) {
        pds_sim_run_one(s, 8, r, scr, uy, sy, NULL);
        int unknown = 0;
        for (int i = 0; i < 12; i++) {
            if (sy[i] == PDS_YEAR_UNKNOWN) {
                assert_int_equal(w->subunits[i].parent, 1);
                unknown++;
                seen[i]++;
            }
        }
        assert_int_equal(sy[4], 2011);
        assert_int_equal(unknown, 2);
        pds_sim_run_one(s, 8, r, scr, uy, sy2, NULL);
        assert_memory_equal(sy, sy2, sizeof sy);
    }
    /* 3 candidates, 2 drawn per run: each about 2/3 of 400 runs */
    for (int i = 5; i < 8; i++)
        assert_true(seen[i] > 220 && seen[i] < 310);
    free(scr);
    pds_sim_free(s);
    pds_model_free(um);
    pds_world_free(w);
}


/* Adding a document never delays any unit or sub-unit in any run, when
 * every coefficient of the dynamic terms is non-negative. */
static void extra_document_never_delays(void **state)
{
    (void)state;
    pds_world *w = dynamic_world();
    static const double c[] = {0.3, 0.02, 0.01, 0.1};
    static const double cs[] = {0.2, 1.0, 0.02};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -4, 4, all_unit_kinds, c);
    pds_model *sm = tw_model(PDS_LINK_CLOGLOG, -4, 3, sub_kinds, cs);
    pds_sim *base = make_sim(w, um, sm, NULL);
    pds_world *w2 = dynamic_world();
    w2->documents = realloc(w2->documents, 2 * sizeof *w2->documents);
    w2->documents[1] = (pds_document){.year = 2018, .weight = 2};
    w2->n_documents = 2;
    pds_sim *scen = make_sim(w2, um, sm, NULL);
    void *sa = pds_sim_scratch_create(base), *sb = pds_sim_scratch_create(scen);
    int16_t u1[5], s1[15], u2[5], s2[15];
    int earlier = 0;
    for (uint64_t r = 0; r < 3000; r++) {
        pds_sim_run_one(base, 21, r, sa, u1, s1, NULL);
        pds_sim_run_one(scen, 21, r, sb, u2, s2, NULL);
        for (int u = 0; u < 5; u++) {
            int a = u1[u] ? u1[u] : 9999, b = u2[u] ? u2[u] : 9999;
            if (b > a)
                fail_msg("run %llu unit %d: %d with the document, %d without", (unsigned long long)r,
                         u, b, a);
            earlier += b < a;
        }
        for (int i = 0; i < 15; i++) {
            int a = s1[i] ? s1[i] : 9999, b = s2[i] ? s2[i] : 9999;
            if (b > a)
                fail_msg("run %llu sub-unit %d delayed", (unsigned long long)r, i);
        }
    }
    assert_true(earlier > 0); /* the document did something */
    free(sa);
    free(sb);
    pds_sim_free(base);
    pds_sim_free(scen);
    pds_model_free(um);
    pds_model_free(sm);
    pds_world_free(w);
    pds_world_free(w2);
}

/* A forced adoption happens in its year unless the unit adopted earlier;
 * a switched-off channel equals a zero coefficient, run for run. */
static void forced_adoption_and_channels(void **state)
{
    (void)state;
    pds_world *w = dynamic_world();
    static const double c[] = {0.2, 0.02, 0.01, 0.1};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -6, 4, all_unit_kinds, c);
    pds_forced f = {.unit = 3, .year = 2018};
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON, .forced = &f, .n_forced = 1};
    pds_sim *s = make_sim(w, um, NULL, &opt);
    void *scr = pds_sim_scratch_create(s);
    int16_t uy[5], sy[15];
    for (uint64_t r = 0; r < 500; r++) {
        pds_sim_run_one(s, 2, r, scr, uy, sy, NULL);
        assert_true(uy[3] != 0 && uy[3] <= 2018);
    }
    free(scr);
    pds_sim_free(s);
    opt = (pds_sim_options){.base_year = BASE, .horizon = HORIZON,
                            .channels_off = 1u << PDS_TERM_NEIGHBOURS_PCT};
    s = make_sim(w, um, NULL, &opt);
    uint64_t off = run_digest(s, 9, 2, 256);
    pds_sim_free(s);
    static const double c0[] = {0.2, 0.0, 0.01, 0.1};
    pds_model *um0 = tw_model(PDS_LINK_LOGIT, -6, 4, all_unit_kinds, c0);
    s = make_sim(w, um0, NULL, NULL);
    assert_int_equal(off, run_digest(s, 9, 2, 256));
    pds_sim_free(s);
    pds_model_free(um);
    pds_model_free(um0);
    pds_world_free(w);
}

typedef struct moments {
    size_t p;
    uint64_t n;
    double sum[5], sum2[5][5];
} moments;

static int moment_sink(void *ctx, uint64_t first, size_t n, const int16_t *u, const int16_t *s,
                       const double *coefs)
{
    (void)first;
    (void)u;
    (void)s;
    moments *m = ctx;
    assert_non_null(coefs);
    for (size_t r = 0; r < n; r++) {
        const double *b = coefs + r * m->p;
        for (size_t i = 0; i < m->p; i++) {
            m->sum[i] += b[i];
            for (size_t j = 0; j < m->p; j++)
                m->sum2[i][j] += b[i] * b[j];
        }
    }
    m->n += n;
    return 0;
}

/* Drawn coefficients: sample mean and covariance match the model's within
 * Monte Carlo error; draws do not depend on threads. */
static void coefficient_draws_match_model(void **state)
{
    (void)state;
    pds_world *w = dynamic_world();
    static const double c[] = {0.2, 0.02, 0.01, 0.1};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -3, 4, all_unit_kinds, c);
    const size_t P = 5;
    /* a covariance with correlations: A A' for a fixed lower-triangular A */
    static const double A[5][5] = {{0.5, 0, 0, 0, 0},
                                   {0.1, 0.2, 0, 0, 0},
                                   {-0.05, 0.01, 0.03, 0, 0},
                                   {0.0, 0.02, -0.01, 0.05, 0},
                                   {0.2, 0, 0.05, 0.02, 0.3}};
    um->cov = calloc(P * P, sizeof(double));
    for (size_t i = 0; i < P; i++)
        for (size_t j = 0; j < P; j++)
            for (size_t k = 0; k < P; k++)
                um->cov[i * P + j] += A[i][k] * A[j][k];
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON, .draw_coefficients = 1};
    pds_sim *s = make_sim(w, um, NULL, &opt);
    assert_int_equal(pds_sim_n_coefficients(s), P);
    moments m = {.p = P};
    const uint64_t N = 40000;
    pds_summary *sum = pds_summary_create(5, pds_sim_n_years(s), pds_sim_first_year(s));
    pds_run_options ro = {.seed = 77, .n_runs = N, .chunk_runs = 4096, .threads = 2,
                          .sink = moment_sink, .sink_ctx = &m};
    assert_int_equal(pds_engine_run(s, &ro, sum), PDS_OK);
    const double mean[5] = {-3, 0.2, 0.02, 0.01, 0.1};
    for (size_t i = 0; i < P; i++) {
        double mu = m.sum[i] / (double)N;
        double se = sqrt(um->cov[i * P + i] / (double)N);
        if (fabs(mu - mean[i]) > 4 * se)
            fail_msg("mean %zu: %.5f, model %.5f, 4 SE %.5f", i, mu, mean[i], 4 * se);
        for (size_t j = 0; j < P; j++) {
            double cov = m.sum2[i][j] / (double)N - mu * (m.sum[j] / (double)N);
            double sij = um->cov[i * P + j], sii = um->cov[i * P + i], sjj = um->cov[j * P + j];
            double se_cov = sqrt((sii * sjj + sij * sij) / (double)N);
            if (fabs(cov - sij) > 4 * se_cov)
                fail_msg("cov %zu,%zu: %.6f, model %.6f, 4 SE %.6f", i, j, cov, sij, 4 * se_cov);
        }
    }
    /* the same draws with one thread */
    moments m1 = {.p = P};
    ro.threads = 1;
    ro.sink_ctx = &m1;
    pds_summary *sum1 = pds_summary_create(5, pds_sim_n_years(s), pds_sim_first_year(s));
    assert_int_equal(pds_engine_run(s, &ro, sum1), PDS_OK);
    assert_memory_equal(m.sum, m1.sum, sizeof m.sum);
    pds_summary_free(sum);
    pds_summary_free(sum1);
    pds_sim_free(s);
    pds_model_free(um);
    pds_world_free(w);
}


/* Covariate paths and shocks change the covariate in their years only. */
static void covariate_shocks(void **state)
{
    (void)state;
    pds_world *w = tw_chain(3, 0, 2008, BASE);
    static const pds_term_kind k[] = {PDS_TERM_PANEL};
    static const double c[] = {0.4};
    pds_model *um = tw_model(PDS_LINK_LOGIT, -2.5, 1, k, c);
    pds_shock sh[2] = {{.unit = 1, .variable = "x", .from = 2016, .to = 2018, .add = 0, .amount = 5},
                       {.unit = -1, .variable = "x", .from = 2020, .to = 3000, .add = 1, .amount = 1}};
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON, .shocks = sh, .n_shocks = 2};
    pds_sim *s = make_sim(w, um, NULL, &opt);
    pds_sim_options plain = {.base_year = BASE, .horizon = HORIZON};
    pds_sim *b = make_sim(w, um, NULL, &plain);
    for (size_t u = 0; u < 3; u++) {
        for (size_t j = 0; j < pds_sim_n_years(s); j++) {
            int cy = BASE + (int)j; /* covariate year of outcome year BASE + 1 + j */
            double base_eta = pds_sim_static_eta(b, u, j);
            double want = base_eta;
            if (u == 1 && cy >= 2016 && cy <= 2018)
                want = -2.5 + 0.4 * 5;
            if (cy >= 2020)
                want = base_eta + 0.4;
            assert_true(fabs(pds_sim_static_eta(s, u, j) - want) < 1e-12);
        }
    }
    pds_sim_free(s);
    pds_sim_free(b);
    pds_model_free(um);
    pds_world_free(w);
}

static void summary_quantiles(void **state)
{
    (void)state;
    /* 2 units, 3 years from 2020; 4 runs */
    pds_summary *s = pds_summary_create(2, 3, 2020);
    const int16_t rows[] = {2019, 2020, 2019, 2022, 2019, 0, 2019, 2021};
    pds_summary_add_runs(s, rows, 4);
    assert_int_equal(s->n_runs, 4);
    assert_true(pds_summary_p_adopted(s, 0, 0) == 1.0);
    assert_true(pds_summary_p_adopted(s, 1, 0) == 0.25);
    assert_true(pds_summary_p_adopted(s, 1, 1) == 0.5);
    assert_true(pds_summary_p_adopted(s, 1, 2) == 0.75);
    assert_int_equal(pds_summary_unit_year_quantile(s, 1, 0.5), 2021);
    assert_int_equal(pds_summary_unit_year_quantile(s, 1, 0.9), 0);
    /* national counts at 2021: runs have 2, 1, 1, 2 adopted */
    assert_int_equal(pds_summary_national_quantile(s, 1, 0.5), 1);
    assert_int_equal(pds_summary_national_quantile(s, 1, 0.75), 2);
    assert_true(fabs(pds_summary_national_mean(s, 1) - 1.5) < 1e-12);
    pds_summary *t = pds_summary_create(2, 3, 2020);
    pds_summary_add_runs(t, rows, 4);
    assert_int_equal(pds_summary_merge(t, s), PDS_OK);
    assert_int_equal(t->n_runs, 8);
    assert_true(pds_summary_p_adopted(t, 1, 1) == 0.5);
    pds_summary_free(s);
    pds_summary_free(t);
}

static void link_inverse_is_safe(void **state)
{
    (void)state;
    const double etas[] = {-INFINITY, -1e308, -800, -40, 0, 40, 800, 1e308, INFINITY, NAN};
    for (size_t i = 0; i < sizeof etas / sizeof etas[0]; i++) {
        for (int l = 0; l < 2; l++) {
            double h = pds_link_inverse((pds_link)l, etas[i]);
            assert_false(isnan(h));
            assert_true(h >= 0.0 && h <= 1.0);
        }
    }
    assert_true(fabs(pds_link_inverse(PDS_LINK_LOGIT, 0.3) - 1 / (1 + exp(-0.3))) < 1e-15);
    assert_true(fabs(pds_link_inverse(PDS_LINK_CLOGLOG, 0.3) - (1 - exp(-exp(0.3)))) < 1e-15);
}

/* Coefficients and covariates near the largest doubles overflow the linear
 * predictor to +inf, -inf or (their sum) NaN: the hazard must stay in
 * [0, 1], +inf adopting at once, -inf and NaN never. */
static void overflowing_predictor_is_safe(void **state)
{
    (void)state;
    static const pds_term_kind two_panel[] = {PDS_TERM_PANEL, PDS_TERM_PANEL};
    static const struct {
        double c0, c1;
        int adopts;
    } cases[] = {{1e300, 0, 1}, {-1e300, 0, 0}, {1e300, -1e300, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int l = 0; l < 2; l++) {
            pds_world *w = tw_chain(4, 2, 2010, BASE);
            for (size_t i = 0; i < 4 * (size_t)(BASE - 2010 + 1); i++)
                w->panel[i] = 1e300;
            const double coefs[] = {cases[c].c0, cases[c].c1};
            pds_model *um = tw_model((pds_link)l, 0.0, 2, two_panel, coefs);
            pds_sim *s = make_sim(w, um, NULL, NULL);
            double eta = pds_sim_static_eta(s, 1, 0);
            assert_true(cases[c].c1 != 0 ? isnan(eta) : isinf(eta));
            void *scr = pds_sim_scratch_create(s);
            int16_t uy[4], sy[8];
            pds_summary *sum = pds_summary_create(4, pds_sim_n_years(s), BASE + 1);
            for (uint64_t r = 0; r < 50; r++) {
                pds_sim_run_one(s, 3, r, scr, uy, sy, NULL);
                for (int u = 0; u < 4; u++)
                    assert_int_equal(uy[u], cases[c].adopts ? BASE + 1 : 0);
                pds_summary_add_runs(sum, uy, 1);
            }
            for (size_t k = 0; k < pds_sim_n_years(s); k++) {
                double p = pds_summary_p_adopted(sum, 2, k);
                assert_true(p == (cases[c].adopts ? 1.0 : 0.0));
            }
            pds_summary_free(sum);
            free(scr);
            pds_sim_free(s);
            pds_model_free(um);
            pds_world_free(w);
        }
    }
}

/* A unit model may not use sub-unit variables; missing panel columns are named. */
static void binding_errors_are_reported(void **state)
{
    (void)state;
    pds_world *w = tw_chain(2, 1, 2010, BASE);
    static const pds_term_kind k[] = {PDS_TERM_PARENT_ADOPTED, PDS_TERM_PANEL};
    static const double c[] = {1, 1};
    pds_model *um = tw_model(PDS_LINK_LOGIT, 0, 2, k, c);
    free(um->terms[1].variable);
    um->terms[1].variable = tw_strdup("nope");
    pds_sim_options opt = {.base_year = BASE, .horizon = HORIZON, .panel_file = "panel.csv"};
    pds_diag d;
    pds_diag_init(&d);
    pds_sim *s = NULL;
    assert_int_equal(pds_sim_create(w, um, NULL, &opt, &d, &s), PDS_ERR_INPUT);
    assert_null(s);
    assert_int_equal(d.n, 2);
    assert_non_null(strstr(d.msgs[0], "parent_adopted"));
    assert_non_null(strstr(d.msgs[1], "panel.csv"));
    assert_non_null(strstr(d.msgs[1], "'nope'"));
    pds_diag_free(&d);
    pds_model_free(um);
    pds_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_hazard_nobody_adopts),
        cmocka_unit_test(hazard_one_everyone_first_year),
        cmocka_unit_test(exact_survival_logit),
        cmocka_unit_test(exact_survival_cloglog),
        cmocka_unit_test(threads_and_seeds),
        cmocka_unit_test(document_after_horizon_changes_nothing),
        cmocka_unit_test(initial_counts_drawn_per_run),
        cmocka_unit_test(extra_document_never_delays),
        cmocka_unit_test(forced_adoption_and_channels),
        cmocka_unit_test(coefficient_draws_match_model),
        cmocka_unit_test(covariate_shocks),
        cmocka_unit_test(summary_quantiles),
        cmocka_unit_test(link_inverse_is_safe),
        cmocka_unit_test(overflowing_predictor_is_safe),
        cmocka_unit_test(binding_errors_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
