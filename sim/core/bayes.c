/* Bayesian estimation: priors from a published model, HMC, convergence
 * diagnostics. See bayes.h and docs/fit.md ("Bayesian estimation"). */
#include "bayes.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h> /* snprintf only: core does no I/O */
#include <stdlib.h>
#include <string.h>

#include "pcg.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- the prior ---------------------------------------------------------- */

void pds_prior_free(pds_prior *pr)
{
    if (!pr)
        return;
    free(pr->mean);
    free(pr->cov);
    free(pr->prec);
    free(pr->source);
    free(pr->prior_term);
    free(pr);
}

static int same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether term a of model ma and term b of model mb are the same quantity:
 * the same kind, variable or unit attribute, transform, level, lag (for the
 * lagged kinds), power and form parameters, and for interactions the same
 * factors in any order. */
static int same_quantity(const pds_model *ma, const pds_term *a, const pds_model *mb,
                         const pds_term *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == PDS_TERM_INTERACTION) {
        if (a->n_factors != b->n_factors || a->n_factors > 8)
            return 0;
        int used[8] = {0};
        for (size_t i = 0; i < a->n_factors; i++) {
            size_t k = 0;
            while (k < b->n_factors && (used[k] || !same_quantity(ma, &a->factors[i], mb,
                                                                  &b->factors[k])))
                k++;
            if (k == b->n_factors)
                return 0;
            used[k] = 1;
        }
        return 1;
    }
    /* the parameters of a document or duration form belong to the quantity */
    if (a->half_life != b->half_life || a->window != b->window ||
        a->has_interval != b->has_interval || a->n_knots != b->n_knots || a->basis != b->basis)
        return 0;
    if (a->has_interval && (a->lo != b->lo || a->hi != b->hi))
        return 0;
    for (int k = 0; k < a->n_knots && k < PDS_SPLINE_MAX_KNOTS; k++)
        if (a->knots[k] != b->knots[k])
            return 0;
    if ((a->power > 1 ? a->power : 1) != (b->power > 1 ? b->power : 1))
        return 0;
    if (!same_text(a->level, b->level) || a->transform != b->transform)
        return 0;
    if ((a->kind == PDS_TERM_PANEL || pds_term_kind_is_documentary(a->kind)) &&
        PDS_TERM_LAG(ma, a) != PDS_TERM_LAG(mb, b))
        return 0;
    if (a->kind == PDS_TERM_PANEL)
        return a->variable && b->variable && strcmp(a->variable, b->variable) == 0;
    if (a->kind == PDS_TERM_UNIT_ATTR)
        return a->unit_attr && b->unit_attr && strcmp(a->unit_attr, b->unit_attr) == 0;
    return 1;
}

static void describe_term(const pds_model *m, const pds_term *t, char *buf, size_t size)
{
    const char *tr = t->transform == PDS_TRANSFORM_LOG     ? " (log)"
                     : t->transform == PDS_TRANSFORM_LOG1P ? " (log1p)"
                                                           : "";
    char lag[32] = "";
    if (t->kind == PDS_TERM_PANEL || pds_term_kind_is_documentary(t->kind))
        snprintf(lag, sizeof lag, " at lag %d", PDS_TERM_LAG(m, t));
    if (t->kind == PDS_TERM_PANEL)
        snprintf(buf, size, "variable %s%s%s%s%s", t->variable ? t->variable : "?", tr,
                 t->level ? " = " : "", t->level ? t->level : "", lag);
    else if (t->kind == PDS_TERM_UNIT_ATTR)
        snprintf(buf, size, "unit attribute %s%s%s%s", t->unit_attr ? t->unit_attr : "?", tr,
                 t->level ? " = " : "", t->level ? t->level : "");
    else if (t->kind == PDS_TERM_INTERACTION)
        snprintf(buf, size, "an interaction of %zu factors (or other factors)", t->n_factors);
    else
        snprintf(buf, size, "dynamic %s%s (or other parameters)", pds_term_kind_name(t->kind),
                 lag);
}

/* The prior model's term for spec term t: by name, else the one term of
 * the same quantity; -1 when none, -2 after an error (in diag). */
static long match_term(const pds_model *spec, const pds_term *t, const pds_model *prior,
                       pds_diag *diag)
{
    for (size_t k = 0; k < prior->n_terms; k++) {
        const pds_term *q = &prior->terms[k];
        if (strcmp(q->name, t->name) != 0)
            continue;
        if (!same_quantity(prior, q, spec, t)) {
            char a[160], b[160];
            describe_term(prior, q, a, sizeof a);
            describe_term(spec, t, b, sizeof b);
            pds_diag_add(diag, prior->path, q->line, 0,
                         "prior: term '%s' is %s here but %s in %s; a prior must be on the same "
                         "quantity",
                         q->name, a, b, spec->path ? spec->path : spec->name);
            return -2;
        }
        return (long)k;
    }
    long found = -1;
    for (size_t k = 0; k < prior->n_terms; k++) {
        if (!same_quantity(prior, &prior->terms[k], spec, t))
            continue;
        if (found >= 0) {
            pds_diag_add(diag, prior->path, prior->terms[k].line, 0,
                         "prior: term '%s' of %s matches both '%s' and '%s' here (the same "
                         "quantity); name the prior term '%s'",
                         t->name, spec->path ? spec->path : spec->name,
                         prior->terms[found].name, prior->terms[k].name, t->name);
            return -2;
        }
        found = (long)k;
    }
    return found;
}

pds_status pds_prior_build(const pds_model *spec, const pds_model *prior, double scale,
                           double default_sd, pds_diag *diag, pds_prior **out)
{
    *out = NULL;
    size_t p = spec->n_terms + 1;
    pds_prior *pr = calloc(1, sizeof *pr);
    if (!pr)
        return PDS_ERR_RUNTIME;
    pr->p = p;
    pr->scale = scale;
    pr->default_sd = default_sd;
    pr->source = malloc(p * sizeof *pr->source);
    pr->prior_term = malloc(p * sizeof *pr->prior_term);
    if (!pr->source || !pr->prior_term) {
        pds_prior_free(pr);
        return PDS_ERR_RUNTIME;
    }
    if (!prior) {
        pr->flat = 1;
        for (size_t j = 0; j < p; j++) {
            pr->source[j] = PDS_PRIOR_FLAT;
            pr->prior_term[j] = -1;
        }
        *out = pr;
        return PDS_OK;
    }
    const char *ppath = prior->path ? prior->path : prior->name;
    if (!(scale > 0.0) || !isfinite(scale) || !(default_sd > 0.0) || !isfinite(default_sd)) {
        pds_diag_add(diag, NULL, 0, 0, "prior: the scale and the default sd must be positive");
        pds_prior_free(pr);
        return PDS_ERR_INPUT;
    }
    pr->mean = calloc(p, sizeof *pr->mean);
    pr->cov = calloc(p * p, sizeof *pr->cov);
    pr->prec = calloc(p * p, sizeof *pr->prec);
    /* index into the prior model's (intercept, terms): -1 = default */
    long *idx = malloc(p * sizeof *idx);
    if (!pr->mean || !pr->cov || !pr->prec || !idx) {
        free(idx);
        pds_prior_free(pr);
        return PDS_ERR_RUNTIME;
    }
    int bad = 0;
    idx[0] = 0;
    for (size_t j = 1; j < p; j++) {
        long k = match_term(spec, &spec->terms[j - 1], prior, diag);
        if (k == -2)
            bad = 1;
        idx[j] = k >= 0 ? k + 1 : -1;
        for (size_t i = 1; k >= 0 && i < j; i++)
            if (idx[i] == k + 1) {
                pds_diag_add(diag, ppath, prior->terms[k].line, 0,
                             "prior: term '%s' would be the prior of both '%s' and '%s'",
                             prior->terms[k].name, spec->terms[i - 1].name,
                             spec->terms[j - 1].name);
                bad = 1;
            }
    }
    pr->from_cov = prior->cov != NULL;
    size_t P = prior->n_terms + 1;
    for (size_t j = 0; j < p && !bad; j++) {
        pr->prior_term[j] = idx[j] > 0 ? idx[j] - 1 : -1;
        if (idx[j] < 0) {
            pr->source[j] = PDS_PRIOR_DEFAULT;
            pr->mean[j] = 0.0;
            pr->cov[j * p + j] = default_sd * default_sd;
            continue;
        }
        pr->source[j] = PDS_PRIOR_FROM_MODEL;
        size_t a = (size_t)idx[j];
        pr->mean[j] = a == 0 ? prior->intercept : prior->terms[a - 1].coef;
        double se = a == 0 ? prior->intercept_se : prior->terms[a - 1].se;
        if (prior->cov)
            se = sqrt(fmax(prior->cov[a * P + a], 0.0));
        if (!(se > 0.0) || !isfinite(se)) {
            pds_diag_add(diag, ppath, a == 0 ? 0 : prior->terms[a - 1].line, 0,
                         "prior: %s '%s' has standard error %g; a prior needs a positive "
                         "standard error (an assumed value with se 0 cannot be a prior)",
                         a == 0 ? "the intercept" : "term", a == 0 ? "intercept" : prior->terms[a - 1].name, se);
            bad = 1;
            continue;
        }
        for (size_t i = 0; i <= j; i++) {
            if (idx[i] < 0)
                continue;
            double v;
            if (prior->cov)
                v = prior->cov[a * P + (size_t)idx[i]];
            else if (i == j)
                v = se * se;
            else
                continue;
            pr->cov[j * p + i] = pr->cov[i * p + j] = v * scale * scale;
        }
    }
    free(idx);
    if (!bad) {
        memcpy(pr->prec, pr->cov, p * p * sizeof *pr->prec);
        if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, pr->prec, (lapack_int)p) != 0 ||
            LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, pr->prec, (lapack_int)p) != 0) {
            pds_diag_add(diag, ppath, 0, 0,
                         "prior: the covariance of the prior (from the covariance matrix of "
                         "this model) is not positive definite");
            bad = 1;
        } else {
            for (size_t j = 0; j < p; j++)
                for (size_t k = 0; k < j; k++)
                    pr->prec[j * p + k] = pr->prec[k * p + j];
        }
    }
    if (bad) {
        pds_prior_free(pr);
        return PDS_ERR_INPUT;
    }
    *out = pr;
    return PDS_OK;
}

/* ---- diagnostics --------------------------------------------------------- */

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* z[k] = Phi^-1((rank - 3/8) / (S + 1/4)) of x[k], k < S, average ranks for ties. */
static int rank_normalise(const double *x, size_t S, double *z)
{
    ranked *r = malloc(S * sizeof *r);
    if (!r)
        return -1;
    for (size_t k = 0; k < S; k++)
        r[k] = (ranked){x[k], k};
    qsort(r, S, sizeof *r, cmp_ranked);
    for (size_t a = 0; a < S;) {
        size_t b = a;
        while (b + 1 < S && r[b + 1].v == r[a].v)
            b++;
        double rank = 0.5 * (double)(a + b) + 1.0; /* 1-based average rank */
        double q = pds_normal_quantile((rank - 0.375) / ((double)S + 0.25));
        for (size_t k = a; k <= b; k++)
            z[r[k].i] = q;
        a = b + 1;
    }
    free(r);
    return 0;
}

/* The split chains: 2m chains of h = floor(n/2) draws, the first and the
 * last h of each chain (the middle draw of an odd n is left out). */
static void split_chains(const double *x, size_t m, size_t n, double *out)
{
    size_t h = n / 2;
    for (size_t c = 0; c < m; c++) {
        memcpy(out + (2 * c) * h, x + c * n, h * sizeof *out);
        memcpy(out + (2 * c + 1) * h, x + c * n + (n - h), h * sizeof *out);
    }
}

/* Classic R-hat of m chains of n draws. */
static double rhat_plain(const double *x, size_t m, size_t n)
{
    double gm = 0.0, w = 0.0, b = 0.0;
    double *mean = malloc(m * sizeof *mean);
    if (!mean)
        return NAN;
    for (size_t c = 0; c < m; c++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += x[c * n + i];
        mean[c] = s / (double)n;
        gm += mean[c];
        double v = 0.0;
        for (size_t i = 0; i < n; i++)
            v += (x[c * n + i] - mean[c]) * (x[c * n + i] - mean[c]);
        w += v / (double)(n - 1);
    }
    gm /= (double)m;
    w /= (double)m;
    for (size_t c = 0; c < m; c++)
        b += (mean[c] - gm) * (mean[c] - gm);
    b = (double)n * b / (double)(m - 1);
    free(mean);
    if (!(w > 0.0))
        return b > 0.0 ? INFINITY : 1.0;
    return sqrt((b / w + (double)n - 1.0) / (double)n);
}

static int constant(const double *x, size_t S)
{
    for (size_t k = 1; k < S; k++)
        if (x[k] != x[0])
            return 0;
    return 1;
}

double pds_rhat_rank(const double *x, size_t m, size_t n)
{
    size_t h = n / 2, S = 2 * m * h;
    if (m < 1 || h < 2)
        return NAN;
    if (constant(x, m * n))
        return 1.0;
    double *sp = malloc(S * sizeof *sp), *z = malloc(S * sizeof *z), *tmp = malloc(S * sizeof *tmp);
    double r = NAN;
    if (!sp || !z || !tmp)
        goto done;
    split_chains(x, m, n, sp);
    if (rank_normalise(sp, S, z) != 0)
        goto done;
    double bulk = rhat_plain(z, 2 * m, h);
    /* folded: |x - median| of the split draws */
    memcpy(tmp, sp, S * sizeof *tmp);
    qsort(tmp, S, sizeof *tmp, cmp_double);
    double med = S % 2 ? tmp[S / 2] : 0.5 * (tmp[S / 2 - 1] + tmp[S / 2]);
    for (size_t k = 0; k < S; k++)
        tmp[k] = fabs(sp[k] - med);
    if (rank_normalise(tmp, S, z) != 0)
        goto done;
    double tail = rhat_plain(z, 2 * m, h);
    r = bulk > tail ? bulk : tail;
done:
    free(sp);
    free(z);
    free(tmp);
    return r;
}

/* ESS of m chains of n draws (ArviZ's _ess, relative = False): Geyer's
 * initial positive then monotone sequence on the autocorrelations combined
 * over chains as in Stan, rho_t = 1 - (W - mean_c acov_c(t)) / var+. The
 * autocovariances (biased, / n) are computed lag by lag as needed. */
static double ess_plain(const double *x, size_t m, size_t n)
{
    double *mean = malloc(m * sizeof *mean), *rho = calloc(n + 1, sizeof *rho);
    if (!mean || !rho) {
        free(mean);
        free(rho);
        return NAN;
    }
    double gm = 0.0;
    for (size_t c = 0; c < m; c++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += x[c * n + i];
        mean[c] = s / (double)n;
        gm += mean[c];
    }
    gm /= (double)m;
#define ACOV_MEAN(t, out)                                                                          \
    do {                                                                                           \
        double acc_ = 0.0;                                                                         \
        for (size_t c_ = 0; c_ < m; c_++) {                                                        \
            const double *y_ = x + c_ * n;                                                         \
            double s_ = 0.0;                                                                       \
            for (size_t i_ = 0; i_ + (t) < n; i_++)                                                \
                s_ += (y_[i_] - mean[c_]) * (y_[i_ + (t)] - mean[c_]);                             \
            acc_ += s_ / (double)n;                                                                \
        }                                                                                          \
        (out) = acc_ / (double)m;                                                                  \
    } while (0)
    double acov0, acov1;
    ACOV_MEAN(0, acov0);
    ACOV_MEAN(1, acov1);
    double mean_var = acov0 * (double)n / ((double)n - 1.0);
    double var_plus = mean_var * ((double)n - 1.0) / (double)n;
    if (m > 1) {
        double b = 0.0;
        for (size_t c = 0; c < m; c++)
            b += (mean[c] - gm) * (mean[c] - gm);
        var_plus += b / (double)(m - 1);
    }
    double rho_even = 1.0, rho_odd = 1.0 - (mean_var - acov1) / var_plus;
    rho[0] = rho_even;
    rho[1] = rho_odd;
    size_t t = 1;
    while (t + 3 < n && rho_even + rho_odd > 0.0) {
        double a1, a2;
        ACOV_MEAN(t + 1, a1);
        ACOV_MEAN(t + 2, a2);
        rho_even = 1.0 - (mean_var - a1) / var_plus;
        rho_odd = 1.0 - (mean_var - a2) / var_plus;
        if (rho_even + rho_odd >= 0.0) {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
#undef ACOV_MEAN
    long lmax = (long)t - 2; /* t is odd: lmax >= -1 */
    if (rho_even > 0.0)
        rho[lmax + 1] = rho_even;
    for (long u = 1; u <= lmax - 2; u += 2)
        if (rho[u + 1] + rho[u + 2] > rho[u - 1] + rho[u]) {
            rho[u + 1] = 0.5 * (rho[u - 1] + rho[u]);
            rho[u + 2] = rho[u + 1];
        }
    double S = (double)(m * n);
    double sum = 0.0;
    for (long u = 0; u <= lmax; u++)
        sum += rho[u];
    double tau = -1.0 + 2.0 * sum + rho[lmax + 1];
    double floor_tau = 1.0 / log10(S);
    if (tau < floor_tau)
        tau = floor_tau;
    int nan = 0;
    for (size_t k = 0; k <= n; k++)
        nan |= isnan(rho[k]);
    free(mean);
    free(rho);
    return nan ? NAN : S / tau;
}

double pds_ess_bulk(const double *x, size_t m, size_t n)
{
    size_t h = n / 2, S = 2 * m * h;
    if (m < 1 || h < 4)
        return NAN;
    if (constant(x, m * n))
        return (double)(m * n);
    double *sp = malloc(S * sizeof *sp), *z = malloc(S * sizeof *z);
    double r = NAN;
    if (sp && z) {
        split_chains(x, m, n, sp);
        if (rank_normalise(sp, S, z) == 0)
            r = ess_plain(z, 2 * m, h);
    }
    free(sp);
    free(z);
    return r;
}

/* ---- HMC ----------------------------------------------------------------- */

void pds_mcmc_result_free(pds_mcmc_result *r)
{
    if (!r)
        return;
    free(r->draws);
    free(r->mean);
    free(r->sd);
    free(r->q05);
    free(r->q50);
    free(r->q95);
    free(r->rhat);
    free(r->ess);
    free(r->accept);
    free(r->step);
    free(r);
}

typedef struct hmc_ctx {
    const pds_fit_data *d;
    pds_link link;
    const pds_prior *prior;
    const double *mode;
    const double *L; /* [p x p] lower Cholesky factor of the Laplace covariance */
    size_t p;
} hmc_ctx;

/* Per chain: the working vectors and the generator with its spare normal. */
typedef struct chain_ws {
    double *beta, *gb, *eta, *z, *zn, *mom, *g, *gn;
    pds_pcg32 rng;
    int have_spare;
    double spare;
} chain_ws;

/* Standard normal by Box-Muller, uniforms (u + 0.5) / 2^32, in pairs. */
static double normal(chain_ws *w)
{
    if (w->have_spare) {
        w->have_spare = 0;
        return w->spare;
    }
    double u1 = ((double)pds_pcg32_next(&w->rng) + 0.5) / 4294967296.0;
    double u2 = ((double)pds_pcg32_next(&w->rng) + 0.5) / 4294967296.0;
    double r = sqrt(-2.0 * log(u1));
    w->spare = r * sin(2.0 * M_PI * u2);
    w->have_spare = 1;
    return r * cos(2.0 * M_PI * u2);
}

/* Log posterior at mode + L z (up to a constant) and its gradient in z. */
static double logpost(const hmc_ctx *h, chain_ws *w, const double *z, double *gz)
{
    size_t p = h->p;
    for (size_t j = 0; j < p; j++) {
        double v = h->mode[j];
        for (size_t k = 0; k <= j; k++)
            v += h->L[j * p + k] * z[k];
        w->beta[j] = v;
    }
    double lp = pds_fit_loglik(h->d, h->link, w->beta, w->gb, w->eta);
    if (!h->prior->flat) {
        const double *m = h->prior->mean, *P = h->prior->prec;
        for (size_t j = 0; j < p; j++) {
            double g = 0.0;
            for (size_t k = 0; k < p; k++)
                g += P[j * p + k] * (w->beta[k] - m[k]);
            lp -= 0.5 * (w->beta[j] - m[j]) * g;
            w->gb[j] -= g;
        }
    }
    /* dz = L' dbeta */
    for (size_t k = 0; k < p; k++) {
        double s = 0.0;
        for (size_t j = k; j < p; j++)
            s += h->L[j * p + k] * w->gb[j];
        gz[k] = s;
    }
    return lp;
}

/* One chain: warmup iterations adapt the step size by dual averaging
 * (Hoffman and Gelman 2014, gamma 0.05, t0 10, kappa 0.75), then the kept
 * iterations use the averaged step. */
static void run_chain(const hmc_ctx *h, const pds_mcmc_options *o, size_t c, chain_ws *w,
                      double *out, double *accept_mean, double *step_out, size_t *divergent)
{
    size_t p = h->p;
    double delta = o->target_accept > 0.0 ? o->target_accept : 0.8;
    pds_pcg32_stream(&w->rng, o->seed, c, PDS_RNG_MCMC);
    w->have_spare = 0;
    for (size_t j = 0; j < p; j++)
        w->z[j] = 2.0 * normal(w);
    double lp = logpost(h, w, w->z, w->g);
    double eps = 0.5, mu = log(10.0 * eps), hbar = 0.0, log_eps_bar = 0.0;
    double acc_sum = 0.0;
    size_t div = 0;
    size_t total = o->warmup + o->draws;
    for (size_t it = 0; it < total; it++) {
        int warm = it < o->warmup;
        /* the integration time, then the momentum, then the acceptance uniform */
        double T = (0.5 + pds_pcg32_uniform(&w->rng)) * (M_PI / 2.0);
        size_t nsteps = (size_t)ceil(T / eps);
        if (nsteps < 1)
            nsteps = 1;
        if (nsteps > 1000)
            nsteps = 1000;
        double kin0 = 0.0;
        for (size_t j = 0; j < p; j++) {
            w->mom[j] = normal(w);
            kin0 += 0.5 * w->mom[j] * w->mom[j];
        }
        double h0 = -lp + kin0;
        memcpy(w->zn, w->z, p * sizeof *w->zn);
        memcpy(w->gn, w->g, p * sizeof *w->gn);
        double lpn = lp;
        for (size_t j = 0; j < p; j++)
            w->mom[j] += 0.5 * eps * w->gn[j];
        for (size_t s = 0; s < nsteps; s++) {
            for (size_t j = 0; j < p; j++)
                w->zn[j] += eps * w->mom[j];
            lpn = logpost(h, w, w->zn, w->gn);
            if (!isfinite(lpn))
                break;
            double f = s + 1 < nsteps ? 1.0 : 0.5;
            for (size_t j = 0; j < p; j++)
                w->mom[j] += f * eps * w->gn[j];
        }
        double kin1 = 0.0;
        for (size_t j = 0; j < p; j++)
            kin1 += 0.5 * w->mom[j] * w->mom[j];
        double h1 = -lpn + kin1;
        double a = isfinite(h1) ? exp(fmin(0.0, h0 - h1)) : 0.0;
        if (!(a >= 0.0))
            a = 0.0;
        double u = pds_pcg32_uniform(&w->rng);
        if (!warm && !(h1 - h0 < 1000.0))
            div++;
        if (u < a) {
            memcpy(w->z, w->zn, p * sizeof *w->z);
            memcpy(w->g, w->gn, p * sizeof *w->g);
            lp = lpn;
        }
        if (warm) {
            double m = (double)(it + 1);
            hbar = (1.0 - 1.0 / (m + 10.0)) * hbar + (delta - a) / (m + 10.0);
            double log_eps = mu - sqrt(m) / 0.05 * hbar;
            double k = pow(m, -0.75);
            log_eps_bar = k * log_eps + (1.0 - k) * log_eps_bar;
            eps = exp(log_eps);
            if (it + 1 == o->warmup)
                eps = exp(log_eps_bar);
        } else {
            acc_sum += a;
            /* the draw: beta = mode + L z */
            double *row = out + (it - o->warmup) * p;
            for (size_t j = 0; j < p; j++) {
                double v = h->mode[j];
                for (size_t k = 0; k <= j; k++)
                    v += h->L[j * p + k] * w->z[k];
                row[j] = v;
            }
        }
    }
    *accept_mean = o->draws ? acc_sum / (double)o->draws : NAN;
    *step_out = eps;
    *divergent = div;
}

/* numpy's default quantile: linear between order statistics, h = (S - 1) q. */
static double quantile_sorted(const double *s, size_t S, double q)
{
    double hh = (double)(S - 1) * q;
    size_t lo = (size_t)floor(hh);
    if (lo + 1 >= S)
        return s[S - 1];
    return s[lo] + (hh - (double)lo) * (s[lo + 1] - s[lo]);
}

pds_status pds_mcmc_run(const pds_fit_data *d, pds_link link, const pds_prior *prior,
                        const double *mode, const double *cov, const pds_mcmc_options *opt,
                        pds_diag *diag, pds_mcmc_result **out)
{
    *out = NULL;
    size_t p = d->p, M = opt->chains, N = opt->draws;
    if (M < 2 || N < 8 || prior->p != p) {
        pds_diag_add(diag, NULL, 0, 0, "mcmc: need at least 2 chains of 8 draws");
        return PDS_ERR_INPUT;
    }
    double *L = malloc(p * p * sizeof *L);
    pds_mcmc_result *r = calloc(1, sizeof *r);
    if (!L || !r) {
        free(L);
        free(r);
        return PDS_ERR_RUNTIME;
    }
    r->p = p;
    r->chains = M;
    r->n_draws = N;
    double *draws = malloc(M * N * p * sizeof *draws);
    r->mean = calloc(p, sizeof(double));
    r->sd = calloc(p, sizeof(double));
    r->q05 = calloc(p, sizeof(double));
    r->q50 = calloc(p, sizeof(double));
    r->q95 = calloc(p, sizeof(double));
    r->rhat = calloc(p, sizeof(double));
    r->ess = calloc(p, sizeof(double));
    r->accept = calloc(M, sizeof(double));
    r->step = calloc(M, sizeof(double));
    size_t *div = calloc(M, sizeof *div);
    double *col = malloc(M * N * sizeof *col);
    pds_status st = PDS_OK;
    if (!draws || !r->mean || !r->sd || !r->q05 || !r->q50 || !r->q95 || !r->rhat || !r->ess ||
        !r->accept || !r->step || !div || !col) {
        st = PDS_ERR_RUNTIME;
        free(draws);
        goto done;
    }
    r->draws = draws;
    /* lower Cholesky factor of the Laplace covariance */
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++)
            L[i * p + j] = j <= i ? cov[i * p + j] : 0.0;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)p, L, (lapack_int)p) != 0) {
        pds_diag_add(diag, NULL, 0, 0, "mcmc: the Laplace covariance is not positive definite");
        st = PDS_ERR_INPUT;
        goto done;
    }
    hmc_ctx h = {.d = d, .link = link, .prior = prior, .mode = mode, .L = L, .p = p};
    int oom = 0;
#pragma omp parallel for schedule(static, 1) reduction(| : oom)
    for (size_t c = 0; c < M; c++) {
        chain_ws w;
        memset(&w, 0, sizeof w);
        double *blk = malloc((7 * p + d->n + 1) * sizeof(double));
        if (!blk) {
            oom = 1;
            continue;
        }
        w.beta = blk;
        w.gb = blk + p;
        w.z = blk + 2 * p;
        w.zn = blk + 3 * p;
        w.mom = blk + 4 * p;
        w.g = blk + 5 * p;
        w.gn = blk + 6 * p;
        w.eta = blk + 7 * p;
        run_chain(&h, opt, c, &w, draws + c * N * p, &r->accept[c], &r->step[c], &div[c]);
        free(blk);
    }
    if (oom) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    r->max_rhat = 0.0;
    r->min_ess = INFINITY;
    for (size_t c = 0; c < M; c++)
        r->divergent += div[c];
    for (size_t j = 0; j < p; j++) {
        double s = 0.0;
        for (size_t k = 0; k < M * N; k++) {
            col[k] = draws[k * p + j];
            s += col[k];
        }
        double mean = s / (double)(M * N), v = 0.0;
        for (size_t k = 0; k < M * N; k++)
            v += (col[k] - mean) * (col[k] - mean);
        r->mean[j] = mean;
        r->sd[j] = sqrt(v / (double)(M * N - 1));
        r->rhat[j] = pds_rhat_rank(col, M, N);
        r->ess[j] = pds_ess_bulk(col, M, N);
        qsort(col, M * N, sizeof *col, cmp_double);
        r->q05[j] = quantile_sorted(col, M * N, 0.05);
        r->q50[j] = quantile_sorted(col, M * N, 0.50);
        r->q95[j] = quantile_sorted(col, M * N, 0.95);
        if (!(r->rhat[j] <= r->max_rhat))
            r->max_rhat = r->rhat[j];
        if (!(r->ess[j] >= r->min_ess))
            r->min_ess = r->ess[j];
    }
done:
    free(L);
    free(div);
    free(col);
    if (st != PDS_OK) {
        pds_mcmc_result_free(r);
        if (st == PDS_ERR_RUNTIME)
            pds_diag_add(diag, NULL, 0, 0, "mcmc: out of memory");
        return st;
    }
    *out = r;
    return PDS_OK;
}
