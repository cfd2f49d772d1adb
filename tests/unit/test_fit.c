#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fit.h"
#include "core/pcg.h"

/* |a - b| <= rel |b|, with a message naming the quantity on failure. */
static void check_rel(const char *what, size_t j, double a, double b, double rel)
{
    if (!(fabs(a - b) <= rel * fabs(b))) {
        fprintf(stderr, "%s[%zu]: got %.17g, expected %.17g\n", what, j, a, b);
        fail();
    }
}

static void print_diag(const pds_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s\n", d->msgs[i]);
}

static pds_status fit(const pds_fit_data *d, pds_link link, int firth, int robust,
                      pds_fit_result **res, pds_diag *diag)
{
    pds_fit_options opt = {.link = link, .firth = firth, .robust = robust};
    pds_diag_init(diag);
    return pds_fit(d, &opt, diag, res);
}

static pds_fit_result *fit_ok(const pds_fit_data *d, pds_link link, int firth, int robust)
{
    pds_diag diag;
    pds_fit_result *res = NULL;
    pds_status st = fit(d, link, firth, robust, &res, &diag);
    print_diag(&diag);
    pds_diag_free(&diag);
    assert_int_equal(st, PDS_OK);
    assert_non_null(res);
    assert_true(res->converged);
    return res;
}

/* ---- a large simulated sample ------------------------------------------ */

typedef struct sample {
    size_t n, p;
    double *X, *y;
    size_t *cluster;
} sample;

static void sample_free(sample *s)
{
    free(s->X);
    free(s->y);
    free(s->cluster);
}

/* Intercept + 3 covariates (normal-ish, binary, correlated) with outcome drawn
 * from link^-1(X beta). */
static sample simulate(pds_link link, const double *beta, size_t n, uint64_t seed)
{
    sample s = {.n = n, .p = 4};
    s.X = malloc(n * 4 * sizeof *s.X);
    s.y = malloc(n * sizeof *s.y);
    assert_non_null(s.X);
    assert_non_null(s.y);
    pds_pcg32 g;
    pds_pcg32_seed(&g, seed, 1);
    for (size_t i = 0; i < n; i++) {
        double *x = s.X + i * 4;
        double z = 0.0;
        for (int k = 0; k < 6; k++)
            z += pds_pcg32_uniform(&g);
        x[0] = 1.0;
        x[1] = (z - 3.0) * 1.4;
        x[2] = pds_pcg32_uniform(&g) < 0.3;
        x[3] = 0.5 * x[1] + pds_pcg32_uniform(&g) * 2.0;
        double eta = 0.0;
        for (int j = 0; j < 4; j++)
            eta += beta[j] * x[j];
        s.y[i] = pds_pcg32_uniform(&g) < pds_link_inverse(link, eta);
    }
    return s;
}

static void within_3se(const pds_fit_result *r, const double *truth)
{
    for (size_t j = 0; j < r->p; j++) {
        if (!(fabs(r->beta[j] - truth[j]) < 3.0 * r->se[j])) {
            fprintf(stderr, "beta[%zu] = %g (se %g), truth %g\n", j, r->beta[j], r->se[j],
                    truth[j]);
            fail();
        }
    }
}

static void logit_large_sample(void **state)
{
    (void)state;
    const double truth[] = {-1.2, 0.7, -0.5, 0.3};
    sample s = simulate(PDS_LINK_LOGIT, truth, 20000, 2024);
    pds_fit_data d = {.n = s.n, .p = s.p, .X = s.X, .y = s.y, .intercept_col = 0};
    pds_fit_result *r = fit_ok(&d, PDS_LINK_LOGIT, 0, 0);
    within_3se(r, truth);
    assert_int_equal(r->n, 20000);
    assert_false(r->separation);

    /* first-order conditions: X'(y - mu) = 0, hence sum of fitted = events */
    double score[4] = {0}, fitted = 0.0;
    for (size_t i = 0; i < s.n; i++) {
        const double *x = s.X + i * 4;
        double eta = 0.0;
        for (int j = 0; j < 4; j++)
            eta += r->beta[j] * x[j];
        double mu = pds_link_inverse(PDS_LINK_LOGIT, eta);
        fitted += mu;
        for (int j = 0; j < 4; j++)
            score[j] += (s.y[i] - mu) * x[j];
    }
    for (int j = 0; j < 4; j++)
        assert_true(fabs(score[j]) / (double)s.n < 1e-8);
    assert_true(fabs(fitted - (double)r->n_events) / (double)s.n < 1e-8);

    /* derived quantities are consistent with each other */
    assert_true(fabs(r->deviance + 2.0 * r->loglik) < 1e-9);
    assert_true(r->loglik > r->loglik_null);
    assert_true(r->loglik_penalized == r->loglik);
    for (size_t j = 0; j < 4; j++) {
        assert_true(fabs(r->se[j] - sqrt(r->cov[j * 4 + j])) < 1e-15);
        assert_true(fabs(r->z[j] - r->beta[j] / r->se[j]) < 1e-12);
        assert_true(r->pvalue[j] >= 0.0 && r->pvalue[j] <= 1.0);
    }
    assert_true(isnan(r->vif[0]));
    pds_fit_result_free(r);
    sample_free(&s);
}

static void cloglog_large_sample(void **state)
{
    (void)state;
    const double truth[] = {-1.5, 0.6, 0.4, -0.3};
    sample s = simulate(PDS_LINK_CLOGLOG, truth, 20000, 7);
    pds_fit_data d = {.n = s.n, .p = s.p, .X = s.X, .y = s.y, .intercept_col = 0};
    pds_fit_result *r = fit_ok(&d, PDS_LINK_CLOGLOG, 0, 0);
    within_3se(r, truth);

    /* the score of the cloglog likelihood vanishes too */
    double score[4] = {0};
    for (size_t i = 0; i < s.n; i++) {
        const double *x = s.X + i * 4;
        double eta = 0.0;
        for (int j = 0; j < 4; j++)
            eta += r->beta[j] * x[j];
        double mu = pds_link_inverse(PDS_LINK_CLOGLOG, eta);
        double dmu = exp(eta) * (1.0 - mu);
        double u = s.y[i] ? dmu / mu : -dmu / (1.0 - mu);
        for (int j = 0; j < 4; j++)
            score[j] += u * x[j];
    }
    for (int j = 0; j < 4; j++)
        assert_true(fabs(score[j]) / (double)s.n < 1e-8);
    pds_fit_result_free(r);
    sample_free(&s);
}

/* ---- a small fixed dataset, re-created exactly in Python ---------------- */

/* Numerical Recipes' 32-bit LCG; its uniforms s / 2^32 are exact doubles, so
 * the Python script below produces bit-identical covariates. */
static double lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s / 4294967296.0;
}

/* n = 200, columns 1, x1, x2, x3; clusters of 10 consecutive rows. In Python:
 *
 *   def lcg_seq(seed, m):
 *       s = seed; out = []
 *       for _ in range(m):
 *           s = (s * 1664525 + 1013904223) % 2**32
 *           out.append(s / 4294967296.0)
 *       return out
 *   u = lcg_seq(12345, 800)
 *   for i in range(200):
 *       x1 = 4.0 * u[4*i] - 2.0
 *       x2 = 1.0 if u[4*i+1] < 0.4 else 0.0
 *       x3 = 0.5 * x1 + 2.0 * u[4*i+2] - 1.0
 *       eta = -0.5 + 0.8 * x1 - 0.6 * x2 + 0.4 * x3
 *       pr = 1.0 / (1.0 + np.exp(-eta))
 *       X[i] = [1.0, x1, x2, x3]
 *       y[i] = 1.0 if u[4*i+3] < pr else 0.0
 *       g[i] = i // 10
 */
#define FIXED_N 200
static sample fixed_data(void)
{
    sample s = {.n = FIXED_N, .p = 4};
    s.X = malloc(FIXED_N * 4 * sizeof *s.X);
    s.y = malloc(FIXED_N * sizeof *s.y);
    s.cluster = malloc(FIXED_N * sizeof *s.cluster);
    assert_non_null(s.X);
    assert_non_null(s.y);
    assert_non_null(s.cluster);
    uint32_t st = 12345u;
    for (size_t i = 0; i < FIXED_N; i++) {
        double u0 = lcg(&st), u1 = lcg(&st), u2 = lcg(&st), u3 = lcg(&st);
        double x1 = 4.0 * u0 - 2.0;
        double x2 = u1 < 0.4 ? 1.0 : 0.0;
        double x3 = 0.5 * x1 + 2.0 * u2 - 1.0;
        double eta = -0.5 + 0.8 * x1 - 0.6 * x2 + 0.4 * x3;
        double pr = 1.0 / (1.0 + exp(-eta));
        double *x = s.X + i * 4;
        x[0] = 1.0;
        x[1] = x1;
        x[2] = x2;
        x[3] = x3;
        s.y[i] = u3 < pr ? 1.0 : 0.0;
        s.cluster[i] = i / 10;
    }
    return s;
}

static pds_fit_data fixed_fit_data(const sample *s)
{
    pds_fit_data d = {.n = s->n,
                      .p = s->p,
                      .X = s->X,
                      .y = s->y,
                      .cluster = s->cluster,
                      .n_clusters = 20,
                      .intercept_col = 0};
    return d;
}

/* Reference values, statsmodels 0.13.5 (numpy 1.24.2) on the data above:
 *
 *   lo = sm.Logit(y, X).fit(disp=0, method='newton', tol=1e-14, maxiter=100)
 *     -> lo.params, lo.bse, lo.llf, lo.llnull, lo.aic, lo.bic, lo.prsquared
 *   lc = sm.Logit(y, X).fit(disp=0, method='newton', tol=1e-14, maxiter=100,
 *                           cov_type='cluster', cov_kwds={'groups': g})
 *     -> lc.bse
 *   fam = sm.families.Binomial(link=sm.families.links.cloglog())
 *   c0 = sm.GLM(y, X, family=fam).fit(tol=1e-14, maxiter=200)       # IRLS
 *   cl = sm.GLM(y, X, family=fam).fit(method='newton', start_params=c0.params,
 *                                     tol=1e-14, maxiter=100)
 *     -> cl.params, cl.bse (observed information; c0.bse would be the
 *        expected information, which differs in the 4th digit), cl.llf
 *   cc = the same fit as cl with cov_type='cluster', cov_kwds={'groups': g}
 *     -> cc.bse
 *   variance_inflation_factor(X, j) for j = 1, 2, 3
 *     (statsmodels.stats.outliers_influence; X includes the constant) */
static const double ref_logit_beta[] = {-0.4913180532966117, 0.46992155492366694,
                                        -0.4215376577582988, 0.5252944254807249};
static const double ref_logit_se[] = {0.20472231009246006, 0.18869106664496307, 0.323249255606932,
                                      0.2976275940308173};
static const double ref_logit_cluster_se[] = {0.1962090451122434, 0.2136125578669263,
                                              0.29032360797801793, 0.2899989755574749};
static const double ref_llf = -120.49553812989151, ref_llnull = -133.29178011643268,
                    ref_aic = 248.99107625978303, ref_bic = 262.18434572597516,
                    ref_prsquared = 0.09600173375555054;
static const double ref_cloglog_beta[] = {-0.7936167024244473, 0.3921512733434685,
                                          -0.2975538845271392, 0.40428898741915403};
static const double ref_cloglog_se[] = {0.16152496262337013, 0.1478453576825722, 0.2419360318524701,
                                        0.22145439754813295};
static const double ref_cloglog_cluster_se[] = {0.15694013095081688, 0.16472347492796177,
                                                0.21505642469694278, 0.21030707227468792};
static const double ref_cloglog_llf = -119.88560964051078;
static const double ref_vif[] = {1.741706099300802, 1.0325600667808843, 1.7573723234850562};

static void fixed_data_is_the_python_data(void **state)
{
    (void)state;
    sample s = fixed_data();
    double k = 0.0, sx[4] = {0};
    for (size_t i = 0; i < s.n; i++) {
        k += s.y[i];
        for (int j = 0; j < 4; j++)
            sx[j] += s.X[i * 4 + j];
    }
    /* y.sum(), X.sum(axis=0) printed by the same script */
    assert_true(k == 77.0);
    check_rel("sum x1", 1, sx[1], 24.854944303631783, 1e-13);
    assert_true(sx[2] == 84.0);
    check_rel("sum x3", 3, sx[3], 27.9328675493598, 1e-13);
    sample_free(&s);
}

static void agrees_with_statsmodels(void **state)
{
    (void)state;
    sample s = fixed_data();
    pds_fit_data d = fixed_fit_data(&s);

    pds_fit_result *r = fit_ok(&d, PDS_LINK_LOGIT, 0, 0);
    for (size_t j = 0; j < 4; j++) {
        check_rel("logit beta", j, r->beta[j], ref_logit_beta[j], 1e-6);
        check_rel("logit se", j, r->se[j], ref_logit_se[j], 1e-6);
    }
    check_rel("logit llf", 0, r->loglik, ref_llf, 1e-9);
    pds_fit_result_free(r);

    r = fit_ok(&d, PDS_LINK_CLOGLOG, 0, 0);
    for (size_t j = 0; j < 4; j++) {
        check_rel("cloglog beta", j, r->beta[j], ref_cloglog_beta[j], 1e-6);
        check_rel("cloglog se", j, r->se[j], ref_cloglog_se[j], 1e-6);
    }
    check_rel("cloglog llf", 0, r->loglik, ref_cloglog_llf, 1e-9);
    /* same events, same null model whatever the link */
    check_rel("cloglog llnull", 0, r->loglik_null, ref_llnull, 1e-9);
    pds_fit_result_free(r);
    sample_free(&s);
}

static void cluster_robust_se(void **state)
{
    (void)state;
    sample s = fixed_data();
    pds_fit_data d = fixed_fit_data(&s);

    pds_fit_result *r = fit_ok(&d, PDS_LINK_LOGIT, 0, 1);
    for (size_t j = 0; j < 4; j++) {
        check_rel("logit beta (robust)", j, r->beta[j], ref_logit_beta[j], 1e-6);
        check_rel("logit cluster se", j, r->se[j], ref_logit_cluster_se[j], 1e-6);
        check_rel("z", j, r->z[j], r->beta[j] / ref_logit_cluster_se[j], 1e-6);
    }
    pds_fit_result_free(r);

    r = fit_ok(&d, PDS_LINK_CLOGLOG, 0, 1);
    for (size_t j = 0; j < 4; j++)
        check_rel("cloglog cluster se", j, r->se[j], ref_cloglog_cluster_se[j], 1e-6);
    pds_fit_result_free(r);

    /* robust without clusters is refused */
    d.cluster = NULL;
    pds_diag diag;
    r = NULL;
    assert_int_equal(fit(&d, PDS_LINK_LOGIT, 0, 1, &r, &diag), PDS_ERR_INPUT);
    assert_null(r);
    assert_true(diag.n >= 1);
    pds_diag_free(&diag);
    sample_free(&s);
}

static void summary_statistics(void **state)
{
    (void)state;
    sample s = fixed_data();
    pds_fit_data d = fixed_fit_data(&s);
    pds_fit_result *r = fit_ok(&d, PDS_LINK_LOGIT, 0, 0);
    assert_int_equal(r->n_events, 77);
    check_rel("llf", 0, r->loglik, ref_llf, 1e-9);
    /* statsmodels' llnull comes from an iterative intercept-only fit; the
     * closed form k log(k/n) + (n-k) log(1-k/n) is exact */
    check_rel("llnull", 0, r->loglik_null, ref_llnull, 1e-9);
    check_rel("llnull closed form", 0, r->loglik_null,
              77.0 * log(77.0 / FIXED_N) + 123.0 * log(123.0 / FIXED_N), 1e-15);
    check_rel("deviance", 0, r->deviance, -2.0 * ref_llf, 1e-9);
    check_rel("aic", 0, r->aic, ref_aic, 1e-9);
    check_rel("bic", 0, r->bic, ref_bic, 1e-9);
    check_rel("mcfadden", 0, r->r2_mcfadden, ref_prsquared, 1e-8);
    /* Cox-Snell and Nagelkerke from their definitions and the reference LLs */
    double cs = 1.0 - exp(2.0 * (ref_llnull - ref_llf) / FIXED_N);
    check_rel("coxsnell", 0, r->r2_coxsnell, cs, 1e-8);
    check_rel("nagelkerke", 0, r->r2_nagelkerke, cs / (1.0 - exp(2.0 * ref_llnull / FIXED_N)),
              1e-8);
    assert_true(isnan(r->vif[0]));
    for (size_t j = 1; j < 4; j++)
        check_rel("vif", j, r->vif[j], ref_vif[j - 1], 1e-9);
    pds_fit_result_free(r);
    sample_free(&s);
}

/* ---- separation and Firth ------------------------------------------------ */

/* n = 20: x = (i - 9.5) / 4, y = 1 exactly when x > 0, and a noise column
 * z = 2 u - 1 from the same LCG (seed 777). */
#define SEP_N 20
static sample separated_data(void)
{
    sample s = {.n = SEP_N, .p = 3};
    s.X = malloc(SEP_N * 3 * sizeof *s.X);
    s.y = malloc(SEP_N * sizeof *s.y);
    assert_non_null(s.X);
    assert_non_null(s.y);
    uint32_t st = 777u;
    for (size_t i = 0; i < SEP_N; i++) {
        double x = ((double)i - 9.5) / 4.0;
        s.X[i * 3] = 1.0;
        s.X[i * 3 + 1] = x;
        s.X[i * 3 + 2] = 2.0 * lcg(&st) - 1.0;
        s.y[i] = x > 0.0;
    }
    return s;
}

/* Firth logit reference, computed in numpy by iterating the modified score
 * from beta = 0 until the step is below 1e-15:
 *   mu = 1/(1+exp(-X b)); w = mu (1-mu); I = X' diag(w) X
 *   h = w * diag(X I^-1 X');  U = X'(y - mu + h (1/2 - mu));  b += I^-1 U
 * se = sqrt(diag(I^-1)) at the estimate; penalized LL = LL + 0.5 log det I.
 * Cross-checked by maximizing LL + 0.5 log det I directly with
 * scipy.optimize.minimize(method='Nelder-Mead'): agreement to 1e-8. */
static const double ref_firth_beta[] = {0.00604678835316237, 2.788721623164901,
                                        0.43991791269962166};
static const double ref_firth_se[] = {0.8463589988446991, 1.3203620785138228, 1.8894674328459247};
static const double ref_firth_ll = -2.265862459345129, ref_firth_pen = -3.0098566453947755;

/* Firth cloglog reference: the penalty is 0.5 log det of the Fisher
 * information X' diag(w) X, w = (d mu/d eta)^2 / (mu (1 - mu)). Maximized
 * directly (no modified score) in numpy/scipy:
 *   eta = X b; e = exp(eta); mu = -expm1(-e)
 *   ll = sum(where(y == 1, log(mu), -e)); w = e*e*exp(-e)/mu
 *   minimize(-(ll + 0.5 slogdet(X' diag(w) X)), zeros(3), method='Nelder-Mead',
 *            options={'xatol': 1e-13, 'fatol': 1e-16, 'maxiter': 40000, 'maxfev': 80000})
 *   then method='BFGS' (gtol 1e-12) from there, which kept the point;
 * se = sqrt(diag(inv(X' diag(w) X))). The optimizer is good to about 1e-8. */
static const double ref_firth_cll_beta[] = {-0.38777956287952176, 1.923032046225684,
                                            0.5208892753751825};
static const double ref_firth_cll_se[] = {0.5735406223430066, 0.8649867594697895,
                                          1.2831828241244625};
static const double ref_firth_cll_pen = -1.755080012560525;

static void separation_detected(void **state)
{
    (void)state;
    sample s = separated_data();
    pds_fit_data d = {.n = s.n, .p = s.p, .X = s.X, .y = s.y, .intercept_col = 0};
    for (int link = 0; link < 2; link++) {
        pds_diag diag;
        pds_fit_result *r = NULL;
        assert_int_equal(fit(&d, (pds_link)link, 0, 0, &r, &diag), PDS_ERR_INPUT);
        assert_non_null(r);
        assert_true(r->separation);
        assert_true(r->separated[1]);
        assert_false(r->separated[2]);
        assert_false(r->converged);
        assert_int_equal(diag.n, 1);
        assert_non_null(strstr(diag.msgs[0], "separation"));
        assert_non_null(strstr(diag.msgs[0], "column 1 "));
        pds_diag_free(&diag);
        pds_fit_result_free(r);
    }
    sample_free(&s);

    /* quasi-complete: every row with the dummy x2 = 1 (or = 0 outcome) is an
     * event (a non-event); the other rows leave the rest of the model finite */
    for (int event = 0; event < 2; event++)
        for (int link = 0; link < 2; link++) {
            s = fixed_data();
            for (size_t i = 0; i < s.n; i++)
                if (s.X[i * 4 + 2] == 1.0)
                    s.y[i] = event;
            pds_fit_data q = fixed_fit_data(&s);
            pds_diag diag;
            pds_fit_result *r = NULL;
            assert_int_equal(fit(&q, (pds_link)link, 0, 0, &r, &diag), PDS_ERR_INPUT);
            assert_non_null(r);
            assert_true(r->separation);
            assert_int_equal(r->separated[0] + r->separated[1] + r->separated[3], 0);
            assert_true(r->separated[2]);
            assert_true(event ? r->beta[2] > 5.0 : r->beta[2] < -5.0);
            assert_non_null(strstr(diag.msgs[0], "column 2 "));
            pds_diag_free(&diag);
            pds_fit_result_free(r);

            /* Firth: finite, and the same sign */
            r = fit_ok(&q, (pds_link)link, 1, 0);
            assert_true(isfinite(r->beta[2]) && isfinite(r->se[2]));
            assert_true(event ? r->beta[2] > 0.0 : r->beta[2] < 0.0);
            pds_fit_result_free(r);
            sample_free(&s);
        }
}

static void firth_finite_estimates(void **state)
{
    (void)state;
    sample s = separated_data();
    pds_fit_data d = {.n = s.n, .p = s.p, .X = s.X, .y = s.y, .intercept_col = 0};
    pds_fit_result *r = fit_ok(&d, PDS_LINK_LOGIT, 1, 0);
    assert_false(r->separation);
    for (size_t j = 0; j < 3; j++) {
        /* the intercept is near 0: compare it on an absolute scale */
        if (j == 0)
            assert_true(fabs(r->beta[0] - ref_firth_beta[0]) < 1e-8);
        else
            check_rel("firth beta", j, r->beta[j], ref_firth_beta[j], 1e-6);
        check_rel("firth se", j, r->se[j], ref_firth_se[j], 1e-6);
    }
    check_rel("firth ll", 0, r->loglik, ref_firth_ll, 1e-8);
    check_rel("firth penalized ll", 0, r->loglik_penalized, ref_firth_pen, 1e-8);
    pds_fit_result_free(r);

    r = fit_ok(&d, PDS_LINK_CLOGLOG, 1, 0);
    for (size_t j = 0; j < 3; j++) {
        check_rel("firth cloglog beta", j, r->beta[j], ref_firth_cll_beta[j], 1e-6);
        check_rel("firth cloglog se", j, r->se[j], ref_firth_cll_se[j], 1e-6);
    }
    check_rel("firth cloglog penalized ll", 0, r->loglik_penalized, ref_firth_cll_pen, 1e-10);
    pds_fit_result_free(r);
    sample_free(&s);
}

/* ---- unusable data ---------------------------------------------------------- */

static void expect_input_error(const pds_fit_data *d, const char *needle)
{
    pds_diag diag;
    pds_fit_result *r = NULL;
    assert_int_equal(fit(d, PDS_LINK_LOGIT, 0, 0, &r, &diag), PDS_ERR_INPUT);
    assert_null(r);
    assert_int_equal(diag.n, 1);
    if (!strstr(diag.msgs[0], needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", diag.msgs[0], needle);
        fail();
    }
    pds_diag_free(&diag);
}

static void input_errors(void **state)
{
    (void)state;
    sample s = fixed_data();
    pds_fit_data d = fixed_fit_data(&s);

    double *y0 = calloc(s.n, sizeof *y0);
    assert_non_null(y0);
    d.y = y0;
    expect_input_error(&d, "no events");
    for (size_t i = 0; i < s.n; i++)
        y0[i] = 1.0;
    expect_input_error(&d, "all");
    y0[3] = 0.5;
    expect_input_error(&d, "not 0 or 1");
    d.y = s.y;

    /* x3 replaced by a copy of x1 */
    double *X2 = malloc(s.n * 4 * sizeof *X2);
    assert_non_null(X2);
    memcpy(X2, s.X, s.n * 4 * sizeof *X2);
    for (size_t i = 0; i < s.n; i++)
        X2[i * 4 + 3] = X2[i * 4 + 1];
    d.X = X2;
    expect_input_error(&d, "singular design");
    /* a linear combination, not a plain copy */
    for (size_t i = 0; i < s.n; i++)
        X2[i * 4 + 3] = 2.0 * X2[i * 4 + 1] - 3.0 * X2[i * 4 + 2] + 1.0;
    expect_input_error(&d, "collinear");
    memcpy(X2, s.X, s.n * 4 * sizeof *X2);
    X2[17 * 4 + 2] = NAN;
    expect_input_error(&d, "non-finite");
    d.X = s.X;

    d.n = 0;
    expect_input_error(&d, "no observations");
    d.n = 3;
    expect_input_error(&d, "more parameters");
    d.n = s.n;
    d.p = 0;
    expect_input_error(&d, "no columns");

    free(X2);
    free(y0);
    sample_free(&s);
}

static void free_null_is_noop(void **state)
{
    (void)state;
    pds_fit_result_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logit_large_sample),
        cmocka_unit_test(cloglog_large_sample),
        cmocka_unit_test(fixed_data_is_the_python_data),
        cmocka_unit_test(agrees_with_statsmodels),
        cmocka_unit_test(cluster_robust_se),
        cmocka_unit_test(summary_statistics),
        cmocka_unit_test(separation_detected),
        cmocka_unit_test(firth_finite_estimates),
        cmocka_unit_test(input_errors),
        cmocka_unit_test(free_null_is_noop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
