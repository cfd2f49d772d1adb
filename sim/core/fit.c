/* Binary regression (logit or cloglog) by maximum likelihood.
 *
 * Newton-Raphson on the observed information with step-halving; Firth's
 * penalized likelihood by the modified score; cluster-robust sandwich
 * covariance; detection of (quasi-)complete separation.
 *
 * Standard errors come from the observed information -H(beta). For the logit
 * link (canonical) it equals the expected information. For cloglog the two
 * differ; the observed one is what statsmodels reports with
 *     sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.cloglog()))
 *       .fit(method='newton')
 * (its GLM.fit with the default method='irls' reports the expected
 * information instead, and cov_type='eim' asks for it explicitly).
 *
 * Firth's penalty uses the Fisher (expected) information, the Jeffreys prior
 * |I(beta)|^1/2: for logit that is the same matrix. With Firth the covariance
 * is the inverse of that information at the penalized estimate, as in logistf. */
#include "fit.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h> /* snprintf only: core does no I/O */
#include <stdlib.h>
#include <string.h>

/* Fitted probabilities closer than this to 0 or 1 are taken as "perfectly
 * predicted" when the iterations fail to settle. */
#define SEP_PROB 1e-8
/* Pivot threshold of the pivoted Cholesky of the scaled cross-product matrix:
 * 1 - R^2 of a column on the preceding ones (uncentred) below this is
 * collinearity. */
#define COLLINEAR_TOL 1e-10
#define MAX_HALVINGS 50

/* Per-row quantities of the log-likelihood as a function of eta. */
typedef struct row_terms {
    double mu;     /* fitted probability */
    double ll;     /* log-likelihood contribution */
    double score;  /* d ll / d eta */
    double w_obs;  /* -d2 ll / d eta2 (observed information weight) */
    double w_fish; /* (d mu / d eta)^2 / (mu (1 - mu)) (Fisher weight) */
    double dlogw;  /* d log(w_fish) / d eta, for Firth's modified score */
} row_terms;

/* log(1 + exp(x)) without overflow. */
static double softplus(double x)
{
    if (x > 0.0)
        return x + log1p(exp(-x));
    return log1p(exp(x));
}

static void terms_logit(double eta, int y, row_terms *t)
{
    double mu = pds_link_inverse(PDS_LINK_LOGIT, eta);
    double omu = pds_link_inverse(PDS_LINK_LOGIT, -eta); /* 1 - mu without cancellation */
    t->mu = mu;
    t->ll = y ? -softplus(-eta) : -softplus(eta);
    t->score = y ? omu : -mu;
    t->w_obs = mu * omu;
    t->w_fish = t->w_obs;
    t->dlogw = omu - mu;
}

/* cloglog: mu = 1 - exp(-e), e = exp(eta). The ratio r = e / mu tends to 1 as
 * eta -> -inf and r - 1 would cancel there, so both use the series of
 * x / (1 - exp(-x)) = 1 + x/2 + x^2/12 - x^4/720 + x^6/30240 for small e. */
static void terms_cloglog(double eta, int y, row_terms *t)
{
    double e = exp(eta < 700.0 ? eta : 700.0);
    double mu = -expm1(-e);
    double omu = exp(-e);
    double r, rm1;
    if (e < 1e-2) {
        double e2 = e * e;
        rm1 = e / 2.0 + e2 / 12.0 - e2 * e2 / 720.0 + e2 * e2 * e2 / 30240.0;
        r = 1.0 + rm1;
    } else {
        r = e / mu;
        rm1 = r - 1.0;
    }
    t->mu = mu;
    if (y) {
        t->ll = e < 1e-10 ? eta - e / 2.0 : log(mu);
        t->score = omu * r;
        t->w_obs = omu * r * rm1;
    } else {
        t->ll = -e;
        t->score = -e;
        t->w_obs = e;
    }
    t->w_fish = e * omu * r;
    t->dlogw = 2.0 * (1.0 - e) - (1.0 - 2.0 * mu) * r;
}

static void row_eval(pds_link link, double eta, int y, row_terms *t)
{
    if (link == PDS_LINK_CLOGLOG)
        terms_cloglog(eta, y, t);
    else
        terms_logit(eta, y, t);
}

/* Working state of one fit. */
typedef struct fit_ctx {
    const pds_fit_data *d;
    pds_link link;
    int firth;
    int fisher;   /* expected information (Firth, or asked for) */
    size_t n, p;
    double *eta;  /* [n] */
    double *grad; /* [p] score (modified score with Firth) */
    double *info; /* [p x p] information, then its Cholesky factor (upper) */
    double *raw;  /* [p x p] the information before factoring (upper triangle) */
    double *inv;  /* [p x p] scratch for the inverse information */
    double *scratch; /* [p] */
    double ll;    /* log-likelihood */
    double obj;   /* objective: ll, or ll + 0.5 log det I with Firth, or ll + log prior */
    const double *prior_mean, *prior_prec; /* Gaussian prior, or NULL */
} fit_ctx;

/* -0.5 (b - m)' P (b - m); with grad/info, also subtract P (b - m) from the
 * gradient and add P to the information's upper triangle. */
static double add_prior(const fit_ctx *c, const double *beta, double *grad, double *info)
{
    size_t p = c->p;
    double lp = 0.0;
    for (size_t j = 0; j < p; j++) {
        double g = 0.0;
        for (size_t k = 0; k < p; k++)
            g += c->prior_prec[j * p + k] * (beta[k] - c->prior_mean[k]);
        lp -= 0.5 * (beta[j] - c->prior_mean[j]) * g;
        if (grad)
            grad[j] -= g;
        if (info)
            for (size_t k = j; k < p; k++)
                info[j * p + k] += c->prior_prec[j * p + k];
    }
    return lp;
}

static void compute_eta(const fit_ctx *c, const double *beta)
{
    for (size_t i = 0; i < c->n; i++) {
        const double *x = c->d->X + i * c->p;
        double s = c->d->offset ? c->d->offset[i] : 0.0;
        for (size_t j = 0; j < c->p; j++)
            s += x[j] * beta[j];
        c->eta[i] = s;
    }
}

/* Accumulate w x x' into the upper triangle of the row-major matrix a. */
static void add_outer(double *a, size_t p, const double *x, double w)
{
    if (w == 0.0)
        return;
    for (size_t j = 0; j < p; j++) {
        double wx = w * x[j];
        if (wx == 0.0)
            continue;
        for (size_t k = j; k < p; k++)
            a[j * p + k] += wx * x[k];
    }
}

/* Copy the upper triangle to the lower one. */
static void symmetrize(double *a, size_t p)
{
    for (size_t j = 0; j < p; j++)
        for (size_t k = 0; k < j; k++)
            a[j * p + k] = a[k * p + j];
}

/* Cholesky of the upper triangle of a in place; 0 on success. */
static int cholesky(size_t p, double *a)
{
    return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, a, (lapack_int)p) == 0 ? 0 : -1;
}

/* Inverse of the matrix whose Cholesky factor is chol, into out (full). */
static int chol_inverse(size_t p, const double *chol, double *out)
{
    memcpy(out, chol, p * p * sizeof *out);
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, out, (lapack_int)p) != 0)
        return -1;
    symmetrize(out, p);
    return 0;
}

static double chol_logdet(const double *chol, size_t p)
{
    double s = 0.0;
    for (size_t j = 0; j < p; j++)
        s += log(chol[j * p + j]);
    return 2.0 * s;
}

/* Evaluate at beta: ll, the objective and, when full, the (modified) score and
 * the Cholesky factor of the information used for the Newton step. Without
 * Firth the objective needs no matrix at all, hence the cheap path. Returns 0,
 * or -1 when the information is not positive definite. */
static int evaluate(fit_ctx *c, const double *beta, int full)
{
    size_t n = c->n, p = c->p;
    compute_eta(c, beta);
    double ll = 0.0;
    row_terms t;
    if (!full && !c->firth) {
        for (size_t i = 0; i < n; i++) {
            row_eval(c->link, c->eta[i], c->d->y[i] != 0.0, &t);
            ll += t.ll;
        }
        c->ll = c->obj = ll;
        if (c->prior_prec)
            c->obj = ll + add_prior(c, beta, NULL, NULL);
        return 0;
    }
    memset(c->info, 0, p * p * sizeof *c->info);
    memset(c->grad, 0, p * sizeof *c->grad);
    for (size_t i = 0; i < n; i++) {
        const double *x = c->d->X + i * p;
        row_eval(c->link, c->eta[i], c->d->y[i] != 0.0, &t);
        ll += t.ll;
        add_outer(c->info, p, x, c->fisher ? t.w_fish : t.w_obs);
        for (size_t j = 0; j < p; j++)
            c->grad[j] += t.score * x[j];
    }
    c->ll = c->obj = ll;
    if (c->prior_prec)
        c->obj = ll + add_prior(c, beta, c->grad, c->info);
    memcpy(c->raw, c->info, p * p * sizeof *c->raw);
    if (cholesky(p, c->info) != 0)
        return -1;
    if (!c->firth)
        return 0;
    c->obj = ll + 0.5 * chol_logdet(c->info, p);
    if (!full)
        return 0;
    /* Firth's modified score adds sum_i x_i h_i (d log w_i / d eta_i) / 2, with
     * h_i = w_i x_i' I^-1 x_i the hat values: the gradient of 0.5 log det I.
     * For logit the extra term is h_i (1/2 - mu_i). */
    if (chol_inverse(p, c->info, c->inv) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const double *x = c->d->X + i * p;
        row_eval(c->link, c->eta[i], c->d->y[i] != 0.0, &t);
        double q = 0.0;
        for (size_t j = 0; j < p; j++) {
            double s = 0.0;
            for (size_t k = 0; k < p; k++)
                s += c->inv[j * p + k] * x[k];
            q += x[j] * s;
        }
        double a = 0.5 * t.w_fish * q * t.dlogw;
        for (size_t j = 0; j < p; j++)
            c->grad[j] += a * x[j];
    }
    return 0;
}

double pds_fit_loglik(const pds_fit_data *d, pds_link link, const double *beta, double *grad,
                      double *eta)
{
    size_t n = d->n, p = d->p;
    double ll = 0.0;
    row_terms t;
    if (grad)
        memset(grad, 0, p * sizeof *grad);
    for (size_t i = 0; i < n; i++) {
        const double *x = d->X + i * p;
        double s = d->offset ? d->offset[i] : 0.0;
        for (size_t j = 0; j < p; j++)
            s += x[j] * beta[j];
        eta[i] = s;
        row_eval(link, s, d->y[i] != 0.0, &t);
        ll += t.ll;
        if (grad)
            for (size_t j = 0; j < p; j++)
                grad[j] += t.score * x[j];
    }
    return ll;
}

/* Rank check of the design before any iteration: the pivoted Cholesky of the
 * cross-product matrix scaled to a unit diagonal. Returns (size_t)-1 when of
 * full rank, else a column that is collinear with the others. */
static size_t collinear_column(const pds_fit_data *d, int *oom)
{
    size_t p = d->p;
    double *a = calloc(p * p, sizeof *a);
    lapack_int *piv = malloc(p * sizeof *piv);
    size_t bad = (size_t)-1;
    if (!a || !piv) {
        *oom = 1;
        goto done;
    }
    for (size_t i = 0; i < d->n; i++)
        add_outer(a, p, d->X + i * p, 1.0);
    for (size_t j = 0; j < p; j++)
        if (a[j * p + j] == 0.0) {
            bad = j; /* a column of zeros */
            goto done;
        }
    for (size_t j = 0; j < p; j++)
        for (size_t k = j + 1; k < p; k++)
            a[j * p + k] /= sqrt(a[j * p + j] * a[k * p + k]);
    for (size_t j = 0; j < p; j++)
        a[j * p + j] = 1.0;
    lapack_int rank = 0;
    lapack_int info = LAPACKE_dpstrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, a, (lapack_int)p, piv,
                                     &rank, COLLINEAR_TOL);
    if (info < 0) {
        *oom = 1;
        goto done;
    }
    if ((size_t)rank < p)
        bad = (size_t)piv[rank] - 1; /* first column left out of the full-rank part */
done:
    free(a);
    free(piv);
    return bad;
}

/* VIF of each non-intercept column: the diagonal of the inverse of the
 * correlation matrix of the non-intercept, non-constant columns. NaN for the
 * intercept and constant columns, +inf when that matrix is singular. */
int pds_fit_vif(const pds_fit_data *d, double *vif)
{
    size_t n = d->n, p = d->p;
    size_t *idx = malloc(p * sizeof *idx);
    double *mean = calloc(p, sizeof *mean);
    double *r = NULL;
    int rc = -1;
    if (!idx || !mean)
        goto done;
    for (size_t j = 0; j < p; j++)
        vif[j] = NAN;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            mean[j] += d->X[i * p + j];
    for (size_t j = 0; j < p; j++)
        mean[j] /= (double)n;
    size_t m = 0;
    for (size_t j = 0; j < p; j++) {
        if (j == d->intercept_col)
            continue;
        int constant = 1;
        for (size_t i = 1; i < n && constant; i++)
            constant = d->X[i * p + j] == d->X[j];
        if (!constant)
            idx[m++] = j;
    }
    rc = 0;
    if (m == 0)
        goto done;
    r = calloc(m * m, sizeof *r);
    if (!r) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < m; a++) {
            double xa = d->X[i * p + idx[a]] - mean[idx[a]];
            for (size_t b = a; b < m; b++)
                r[a * m + b] += xa * (d->X[i * p + idx[b]] - mean[idx[b]]);
        }
    for (size_t a = 0; a < m; a++)
        for (size_t b = a + 1; b < m; b++)
            r[a * m + b] /= sqrt(r[a * m + a] * r[b * m + b]);
    for (size_t a = 0; a < m; a++)
        r[a * m + a] = 1.0;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, r, (lapack_int)m) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, r, (lapack_int)m) != 0) {
        for (size_t a = 0; a < m; a++)
            vif[idx[a]] = INFINITY;
        goto done;
    }
    for (size_t a = 0; a < m; a++)
        vif[idx[a]] = r[a * m + a];
done:
    free(idx);
    free(mean);
    free(r);
    return rc;
}

static pds_fit_result *result_alloc(size_t n, size_t p)
{
    pds_fit_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n = n;
    r->p = p;
    r->beta = calloc(p, sizeof *r->beta);
    r->se = calloc(p, sizeof *r->se);
    r->z = calloc(p, sizeof *r->z);
    r->pvalue = calloc(p, sizeof *r->pvalue);
    r->cov = calloc(p * p, sizeof *r->cov);
    r->vif = calloc(p, sizeof *r->vif);
    r->conf_low = calloc(p, sizeof *r->conf_low);
    r->conf_high = calloc(p, sizeof *r->conf_high);
    r->prof_low = calloc(p, sizeof *r->prof_low);
    r->prof_high = calloc(p, sizeof *r->prof_high);
    r->separated = calloc(p, sizeof *r->separated);
    if (!r->beta || !r->se || !r->z || !r->pvalue || !r->cov || !r->vif || !r->separated ||
        !r->conf_low || !r->conf_high || !r->prof_low || !r->prof_high) {
        pds_fit_result_free(r);
        return NULL;
    }
    return r;
}

void pds_fit_result_free(pds_fit_result *r)
{
    if (!r)
        return;
    free(r->beta);
    free(r->se);
    free(r->z);
    free(r->pvalue);
    free(r->cov);
    free(r->vif);
    free(r->conf_low);
    free(r->conf_high);
    free(r->prof_low);
    free(r->prof_high);
    free(r->separated);
    free(r);
}

/* Everything that makes the data unusable before fitting; 0 when fine. */
static int check_input(const pds_fit_data *d, const pds_fit_options *opt, pds_diag *diag,
                       size_t *n_events)
{
    if (d->n == 0) {
        pds_diag_add(diag, NULL, 0, 0, "fit: no observations");
        return -1;
    }
    if (d->p == 0) {
        pds_diag_add(diag, NULL, 0, 0, "fit: no columns in the design");
        return -1;
    }
    if (d->p > d->n) {
        pds_diag_add(diag, NULL, 0, 0, "fit: more parameters (%zu) than observations (%zu)", d->p,
                     d->n);
        return -1;
    }
    if (!d->X || !d->y) {
        pds_diag_add(diag, NULL, 0, 0, "fit: missing data");
        return -1;
    }
    if (d->intercept_col != (size_t)-1 && d->intercept_col >= d->p) {
        pds_diag_add(diag, NULL, 0, 0, "fit: intercept column %zu out of range (%zu columns)",
                     d->intercept_col, d->p);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->p; j++) {
            double x = d->X[i * d->p + j];
            if (!isfinite(x)) {
                pds_diag_add(diag, NULL, 0, 0, "fit: non-finite value in row %zu, column %zu", i,
                             j);
                return -1;
            }
            if (j == d->intercept_col && x != 1.0) {
                pds_diag_add(diag, NULL, 0, 0, "fit: intercept column %zu is not 1 in row %zu", j,
                             i);
                return -1;
            }
        }
        if (d->y[i] != 0.0 && d->y[i] != 1.0) {
            pds_diag_add(diag, NULL, 0, 0, "fit: outcome in row %zu is %g, not 0 or 1", i, d->y[i]);
            return -1;
        }
        k += d->y[i] == 1.0;
    }
    if (k == 0) {
        pds_diag_add(diag, NULL, 0, 0, "fit: no events (the outcome is 0 in all %zu rows)", d->n);
        return -1;
    }
    if (k == d->n) {
        pds_diag_add(diag, NULL, 0, 0, "fit: all %zu rows are events (the outcome is always 1)",
                     d->n);
        return -1;
    }
    if (opt->robust) {
        if (!d->cluster) {
            pds_diag_add(diag, NULL, 0, 0, "fit: robust standard errors need clusters");
            return -1;
        }
        for (size_t i = 0; i < d->n; i++)
            if (d->cluster[i] >= d->n_clusters) {
                pds_diag_add(diag, NULL, 0, 0,
                             "fit: cluster %zu of row %zu out of range (%zu clusters)",
                             d->cluster[i], i, d->n_clusters);
                return -1;
            }
    }
    *n_events = k;
    return 0;
}

/* Separation: the iterations did not settle, some rows are predicted
 * perfectly (fitted probability within SEP_PROB of their outcome), and the
 * remaining rows R leave a direction free: X_R d = 0 for some d != 0. Along
 * such a d the likelihood keeps rising as the perfectly predicted rows move
 * further out, so the coefficients diverge; if X_R has full rank the extreme
 * probabilities are finite estimates and there is no separation. The
 * implicated columns are those that move most, on the scale of eta, along
 * the projection of the last iterations' change onto the null space of X_R.
 * Returns 1 and fills sep[] when found, 0 when not, -1 when out of memory. */
static int detect_separation(const fit_ctx *c, const double *beta, const double *beta_old, int *sep)
{
    const pds_fit_data *d = c->d;
    size_t n = c->n, p = c->p;
    double *a = calloc(p * p, sizeof *a);
    double *norm = calloc(p, sizeof *norm);
    double *ev = malloc(p * sizeof *ev);
    double *u = malloc(p * sizeof *u);
    double *v = malloc(p * sizeof *v);
    int rc = -1;
    if (!a || !norm || !ev || !u || !v)
        goto done;
    rc = 0;
    size_t perfect = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = d->X + i * p;
        for (size_t j = 0; j < p; j++)
            norm[j] += x[j] * x[j];
        double mu = pds_link_inverse(c->link, c->eta[i]);
        if ((d->y[i] != 0.0 && mu > 1.0 - SEP_PROB) || (d->y[i] == 0.0 && mu < SEP_PROB))
            perfect++;
        else
            add_outer(a, p, x, 1.0);
    }
    if (perfect == 0)
        goto done;
    /* X_R'X_R scaled by the columns' norms over all rows (never 0: the rank
     * check passed), so that eigenvalues compare across columns */
    for (size_t j = 0; j < p; j++)
        norm[j] = sqrt(norm[j]);
    for (size_t j = 0; j < p; j++)
        for (size_t k = j; k < p; k++)
            a[j * p + k] /= norm[j] * norm[k];
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)p, a, (lapack_int)p, ev) != 0)
        goto done;
    double emax = ev[p - 1]; /* ascending order */
    size_t nnull = 0;
    while (nnull < p && ev[nnull] <= COLLINEAR_TOL * emax)
        nnull++;
    if (nnull == 0)
        goto done;
    /* project the recent change (or, if there was none, beta itself) in the
     * scaled coordinates onto the null space: eigenvectors are a's columns */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < p; j++)
            u[j] = (pass == 0 ? beta[j] - beta_old[j] : beta[j]) * norm[j];
        for (size_t j = 0; j < p; j++)
            v[j] = 0.0;
        for (size_t k = 0; k < nnull; k++) {
            double dot = 0.0;
            for (size_t j = 0; j < p; j++)
                dot += a[j * p + k] * u[j];
            for (size_t j = 0; j < p; j++)
                v[j] += a[j * p + k] * dot;
        }
        double vmax = 0.0, umax = 0.0;
        for (size_t j = 0; j < p; j++) {
            if (fabs(v[j]) > vmax)
                vmax = fabs(v[j]);
            if (fabs(u[j]) > umax)
                umax = fabs(u[j]);
        }
        if (!(vmax > 1e-9 * umax) || vmax == 0.0)
            continue;
        for (size_t j = 0; j < p; j++)
            sep[j] = fabs(v[j]) >= 0.1 * vmax;
        rc = 1;
        break;
    }
done:
    free(a);
    free(norm);
    free(ev);
    free(u);
    free(v);
    return rc;
}

/* Sandwich H^-1 (sum_g s_g s_g') H^-1, s_g the score summed over a group:
 * a cluster, with the small-sample factor G/(G-1) (n-1)/(n-p) as statsmodels'
 * cov_type='cluster' (use_correction); or a row, with factor 1 (HC0) or
 * n/(n-p) (HC1) as its cov_type='HC0' and 'HC1'. hinv is the model-based
 * covariance; out receives the robust one and *groups the number of
 * non-empty groups. */
static int sandwich_cov(const fit_ctx *c, const double *hinv, pds_fit_vcov vcov, double *out,
                        size_t *groups)
{
    const pds_fit_data *d = c->d;
    int by_cluster = vcov == PDS_VCOV_CLUSTER;
    size_t n = c->n, p = c->p, G = by_cluster ? d->n_clusters : n;
    double *sg = calloc(G * p, sizeof *sg);
    double *meat = calloc(p * p, sizeof *meat);
    double *tmp = calloc(p * p, sizeof *tmp);
    unsigned char *used = calloc(G ? G : 1, 1);
    int rc = -1;
    if (!sg || !meat || !tmp || !used)
        goto done;
    /* hat values for the Firth term of each row's contribution (so that the
     * contributions sum to zero at the penalized estimate) */
    row_terms t;
    for (size_t i = 0; i < n; i++) {
        const double *x = d->X + i * p;
        row_eval(c->link, c->eta[i], d->y[i] != 0.0, &t);
        double s = t.score;
        if (c->firth) {
            double q = 0.0;
            for (size_t j = 0; j < p; j++) {
                double a = 0.0;
                for (size_t k = 0; k < p; k++)
                    a += hinv[j * p + k] * x[k];
                q += x[j] * a;
            }
            s += 0.5 * t.w_fish * q * t.dlogw;
        }
        size_t g = by_cluster ? d->cluster[i] : i;
        used[g] = 1;
        for (size_t j = 0; j < p; j++)
            sg[g * p + j] += s * x[j];
    }
    size_t ng = 0;
    for (size_t g = 0; g < G; g++) {
        if (!used[g])
            continue;
        ng++;
        add_outer(meat, p, sg + g * p, 1.0);
    }
    symmetrize(meat, p);
    *groups = ng;
    if (ng < 2 || n <= p) {
        rc = 1;
        goto done;
    }
    for (size_t j = 0; j < p; j++)
        for (size_t k = 0; k < p; k++) {
            double s = 0.0;
            for (size_t l = 0; l < p; l++)
                s += hinv[j * p + l] * meat[l * p + k];
            tmp[j * p + k] = s;
        }
    double f = by_cluster ? (double)ng / (double)(ng - 1) * (double)(n - 1) / (double)(n - p)
               : vcov == PDS_VCOV_HC1 ? (double)n / (double)(n - p)
                                      : 1.0;
    for (size_t j = 0; j < p; j++)
        for (size_t k = 0; k < p; k++) {
            double s = 0.0;
            for (size_t l = 0; l < p; l++)
                s += tmp[j * p + l] * hinv[l * p + k];
            out[j * p + k] = f * s;
        }
    rc = 0;
done:
    free(sg);
    free(meat);
    free(tmp);
    free(used);
    return rc;
}

/* "1, 2, 5" into buf. */
static void column_list(const pds_fit_data *d, const int *flag, size_t p, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < p && len + 1 < size; j++) {
        if (!flag[j])
            continue;
        int w = d->names ? snprintf(buf + len, size - len, "%s'%s'", len ? ", " : "", d->names[j])
                         : snprintf(buf + len, size - len, "%s%zu", len ? ", " : "", j);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

/* Score sum_i d ll_i / d eta_i of the intercept-only model with d's offset,
 * at intercept a; with ll non-NULL also the log-likelihood. */
static double null_score(const pds_fit_data *d, pds_link link, double a, double *ll)
{
    double g = 0.0, l = 0.0;
    row_terms t;
    for (size_t i = 0; i < d->n; i++) {
        row_eval(link, a + d->offset[i], d->y[i] != 0.0, &t);
        g += t.score;
        l += t.ll;
    }
    if (ll)
        *ll = l;
    return g;
}

/* Log-likelihood of the intercept-only model with d's offset, and its
 * intercept. The log-likelihood is concave in the intercept under both
 * links, so its score falls: bracket the root from the link of the event
 * share minus the mean offset, then bisect it to the last bit. */
static double null_loglik_offset(const pds_fit_data *d, pds_link link, double pbar,
                                 double *intercept)
{
    double mean_off = 0.0;
    for (size_t i = 0; i < d->n; i++)
        mean_off += d->offset[i] / (double)d->n;
    double a = (link == PDS_LINK_LOGIT ? log(pbar / (1.0 - pbar)) : log(-log1p(-pbar))) - mean_off;
    double lo = a, hi = a;
    for (double w = 1.0; null_score(d, link, lo, NULL) < 0.0 && w < 1e300; w *= 2.0)
        lo = a - w;
    for (double w = 1.0; null_score(d, link, hi, NULL) > 0.0 && w < 1e300; w *= 2.0)
        hi = a + w;
    for (int it = 0; it < 2200 && lo < hi; it++) {
        double mid = lo + (hi - lo) / 2.0;
        if (mid <= lo || mid >= hi)
            break;
        if (null_score(d, link, mid, NULL) > 0.0)
            lo = mid;
        else
            hi = mid;
    }
    double ll;
    a = lo + (hi - lo) / 2.0;
    null_score(d, link, a, &ll);
    if (intercept)
        *intercept = a;
    return ll;
}

static void fill_statistics(pds_fit_result *r, const fit_ctx *c, int has_intercept)
{
    size_t n = r->n, p = r->p;
    double k = (double)r->n_events, nn = (double)n;
    r->loglik = c->ll;
    r->loglik_penalized = c->obj;
    /* intercept-only model: the constant probability k/n for either link;
     * with an offset, the intercept fitted with the offset in place */
    r->loglik_null = c->d->offset && has_intercept
                         ? null_loglik_offset(c->d, c->link, k / nn, NULL)
                         : k * log(k / nn) + (nn - k) * log1p(-k / nn);
    r->deviance = -2.0 * r->loglik;
    r->aic = r->deviance + 2.0 * (double)p;
    r->bic = r->deviance + (double)p * log(nn);
    r->r2_mcfadden = 1.0 - r->loglik / r->loglik_null;
    r->r2_coxsnell = -expm1(2.0 * (r->loglik_null - r->loglik) / nn);
    r->r2_nagelkerke = r->r2_coxsnell / -expm1(2.0 * r->loglik_null / nn);
    /* the likelihood-ratio test against the intercept-only model, which is
     * nested only when there is an intercept */
    r->lr_df = has_intercept ? (int)p - 1 : 0;
    r->lr_chi2 = has_intercept ? 2.0 * (r->loglik - r->loglik_null) : NAN;
    r->lr_pvalue = r->lr_df > 0 ? pds_chi2_sf(r->lr_chi2 > 0.0 ? r->lr_chi2 : 0.0, r->lr_df) : NAN;
}

static void fill_inference(pds_fit_result *r)
{
    size_t p = r->p;
    double zq = pds_normal_quantile(0.5 + r->level / 2.0);
    for (size_t j = 0; j < p; j++) {
        double v = r->cov[j * p + j];
        r->se[j] = v >= 0.0 ? sqrt(v) : NAN;
        r->z[j] = r->beta[j] / r->se[j];
        r->pvalue[j] = erfc(fabs(r->z[j]) / sqrt(2.0));
        r->conf_low[j] = r->beta[j] - zq * r->se[j];
        r->conf_high[j] = r->beta[j] + zq * r->se[j];
    }
}

static void set_nan(double *a, size_t m)
{
    for (size_t j = 0; j < m; j++)
        a[j] = NAN;
}

/* The Newton (or, with the expected information, Fisher-scoring) direction
 * I^-1 g at the point c was last fully evaluated at: over all coordinates
 * (c->info holds the Cholesky factor), or with coordinate fixed held, from
 * the information with that row and column removed. 0, or -1 when singular. */
static int newton_direction(fit_ctx *c, size_t fixed, double *delta)
{
    size_t p = c->p;
    if (fixed == (size_t)-1) {
        memcpy(delta, c->grad, p * sizeof *delta);
        return LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, 1, c->info, (lapack_int)p,
                              delta, 1) != 0
                   ? -1
                   : 0;
    }
    size_t m = p - 1;
    double *sub = c->inv, *rhs = c->scratch;
    for (size_t a = 0, ia = 0; a < p; a++) {
        if (a == fixed)
            continue;
        rhs[ia] = c->grad[a];
        for (size_t b = 0, ib = 0; b < p; b++) {
            if (b == fixed)
                continue;
            sub[ia * m + ib] = a <= b ? c->raw[a * p + b] : c->raw[b * p + a];
            ib++;
        }
        ia++;
    }
    if (m > 0 && (cholesky(m, sub) != 0 ||
                  LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', (lapack_int)m, 1, sub, (lapack_int)m, rhs,
                                 1) != 0))
        return -1;
    for (size_t a = 0, ia = 0; a < p; a++)
        delta[a] = a == fixed ? 0.0 : rhs[ia++];
    return 0;
}

typedef struct newton_out {
    int iterations;
    int converged;
    int singular;
    double step_se; /* sqrt(g' I^-1 g) at the final point */
} newton_out;

/* Maximize the objective from beta in place (coordinate fixed held, or
 * (size_t)-1) by Newton steps with step-halving. Stops when the full Newton
 * step, measured in the metric of the information, sqrt(g' I^-1 g) (in
 * standard errors, and the square root of twice the gain in the objective
 * the step predicts), is at most tol, after taking that last step: a
 * criterion that does not depend on the units of the regressors. On return
 * c is fully evaluated at beta. snap/snap2 (NULL to skip) record beta every
 * 8 steps. */
static void newton(fit_ctx *c, double *beta, size_t fixed, int max_iter, double tol, double *trial,
                   double *delta, double *snap, double *snap2, newton_out *o)
{
    size_t p = c->p;
    o->iterations = 0;
    o->converged = 0;
    o->step_se = NAN;
    o->singular = evaluate(c, beta, 1) != 0;
    int it = 0;
    while (!o->singular && it < max_iter) {
        it++;
        if (newton_direction(c, fixed, delta) != 0) {
            o->singular = 1;
            break;
        }
        double lam = 0.0;
        for (size_t j = 0; j < p; j++)
            lam += c->grad[j] * delta[j];
        double obj = c->obj;
        int small = lam <= tol * tol;
        double t = 1.0;
        int accepted = 0;
        for (int h = 0; h < MAX_HALVINGS; h++, t *= 0.5) {
            for (size_t j = 0; j < p; j++)
                trial[j] = beta[j] + t * delta[j];
            /* equality within rounding is accepted: at the optimum the
             * objective cannot rise any more */
            if (evaluate(c, trial, 0) == 0 && isfinite(c->obj) &&
                c->obj >= obj - 1e-13 * (1.0 + fabs(obj))) {
                accepted = 1;
                break;
            }
        }
        if (!accepted) {
            /* no increase along the Newton direction at all: at the optimum
             * if the predicted gain is negligible, or below what rounding
             * lets the objective show */
            o->converged = small || lam / 2.0 <= 1e-12 * (1.0 + fabs(obj));
            o->singular = evaluate(c, beta, 1) != 0;
            break;
        }
        memcpy(beta, trial, p * sizeof *beta);
        if (snap && it % 8 == 0) {
            memcpy(snap2, snap, p * sizeof *snap2);
            memcpy(snap, beta, p * sizeof *snap);
        }
        if (evaluate(c, beta, 1) != 0) {
            o->singular = 1;
            break;
        }
        if (small) {
            o->converged = 1;
            break;
        }
    }
    o->iterations = it;
    if (!o->singular && newton_direction(c, fixed, delta) == 0) {
        double lam = 0.0;
        for (size_t j = 0; j < p; j++)
            lam += c->grad[j] * delta[j];
        o->step_se = sqrt(lam > 0.0 ? lam : 0.0);
    }
}

/* Profile of the objective in coordinate j: the signed root
 * r(b) = sign(b - bhat_j) sqrt(2 (obj_hat - max_{beta_j = b} obj)), from a
 * start (work: the maximizer at the previous point, overwritten). 0, or -1 when the inner
 * maximization fails. */
static int profile_root(fit_ctx *c, const pds_fit_result *r, size_t j, double b, double *work,
                        int max_iter, double tol, double *trial, double *delta, double *root)
{
    work[j] = b;
    newton_out o;
    newton(c, work, j, max_iter, tol, trial, delta, NULL, NULL, &o);
    if (o.singular || !o.converged)
        return -1;
    double dev = 2.0 * (r->loglik_penalized - c->obj);
    *root = (b >= r->beta[j] ? 1.0 : -1.0) * sqrt(dev > 0.0 ? dev : 0.0);
    return 0;
}

/* One end (side -1 or +1) of the profile-likelihood interval of coordinate
 * j: the b where r(b) = side z. Brackets the root by stepping out from the
 * Wald bound, then regula falsi (Illinois) on r, which is close to linear.
 * +/-inf when r never reaches side z within 1000 Wald half-widths (a flat
 * profile); NaN when an inner fit fails. */
static double profile_bound(fit_ctx *c, const pds_fit_result *r, size_t j, double se, int side,
                            double z, double *work, int max_iter, double tol, double *trial,
                            double *delta)
{
    size_t p = r->p;
    double bhat = r->beta[j];
    if (!(se > 0.0) || !isfinite(se))
        return NAN;
    memcpy(work, r->beta, p * sizeof *work);
    double a = bhat, fa = -side * z; /* r(bhat) = 0 */
    double b = bhat + side * z * se, fb, rb;
    double step = z * se;
    for (;;) {
        if (profile_root(c, r, j, b, work, max_iter, tol, trial, delta, &rb) != 0)
            return NAN;
        fb = rb - side * z;
        if (side * fb >= 0.0)
            break; /* bracketed between a and b */
        a = b;
        fa = fb;
        step *= 2.0;
        b += side * step;
        if (fabs(b - bhat) > 1000.0 * z * se)
            return side * INFINITY;
    }
    /* Illinois: fa and fb have opposite signs */
    int last = 0;
    for (int k = 0; k < 100 && fabs(b - a) > 1e-10 * se; k++) {
        double m = b - fb * (b - a) / (fb - fa);
        if (!(m > fmin(a, b) && m < fmax(a, b)))
            m = 0.5 * (a + b);
        double rm, fm;
        if (profile_root(c, r, j, m, work, max_iter, tol, trial, delta, &rm) != 0)
            return NAN;
        fm = rm - side * z;
        if (fabs(fm) < 1e-10)
            return m;
        if ((fm < 0.0) == (fb < 0.0)) {
            b = m;
            fb = fm;
            if (last == -1)
                fa *= 0.5;
            last = -1;
        } else {
            a = b;
            fa = fb;
            b = m;
            fb = fm;
            last = 1;
        }
    }
    return b;
}

static pds_status fit_free_columns(const pds_fit_data *d, const pds_fit_options *opt,
                                   pds_diag *diag, pds_fit_result **out)
{
    *out = NULL;
    size_t n_events = 0;
    if (check_input(d, opt, diag, &n_events) != 0)
        return PDS_ERR_INPUT;
    if (opt->link != PDS_LINK_LOGIT && opt->link != PDS_LINK_CLOGLOG) {
        pds_diag_add(diag, NULL, 0, 0, "fit: unknown link function");
        return PDS_ERR_INPUT;
    }
    pds_fit_vcov vcov = opt->vcov != PDS_VCOV_MODEL ? opt->vcov
                        : opt->robust               ? PDS_VCOV_CLUSTER
                                                    : PDS_VCOV_MODEL;
    if (vcov < PDS_VCOV_MODEL || vcov > PDS_VCOV_HC1 ||
        (opt->information != PDS_INFO_OBSERVED && opt->information != PDS_INFO_EXPECTED)) {
        pds_diag_add(diag, NULL, 0, 0, "fit: unknown covariance or information type");
        return PDS_ERR_INPUT;
    }
    if ((opt->prior_prec != NULL) != (opt->prior_mean != NULL) ||
        (opt->prior_prec && (opt->firth || opt->profile || vcov != PDS_VCOV_MODEL))) {
        pds_diag_add(diag, NULL, 0, 0,
                     "fit: a prior goes with neither Firth's penalty, profile intervals nor "
                     "sandwich covariances");
        return PDS_ERR_INPUT;
    }
    double level = opt->level != 0.0 ? opt->level : 0.95;
    if (!(level > 0.0 && level < 1.0)) {
        pds_diag_add(diag, NULL, 0, 0, "fit: confidence level %g is not between 0 and 1", level);
        return PDS_ERR_INPUT;
    }
    size_t n = d->n, p = d->p;
    int oom = 0;
    size_t bad = collinear_column(d, &oom);
    if (oom) {
        pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
        return PDS_ERR_RUNTIME;
    }
    if (bad != (size_t)-1) {
        if (d->names)
            pds_diag_add(diag, NULL, 0, 0,
                         "fit: singular design: '%s' is collinear with the other columns (constant, "
                         "or a combination of others)",
                         d->names[bad]);
        else
            pds_diag_add(diag, NULL, 0, 0,
                         "fit: singular design: column %zu is collinear with the others", bad);
        return PDS_ERR_INPUT;
    }

    int max_iter = opt->max_iter > 0 ? opt->max_iter : PDS_FIT_DEFAULT_MAX_ITER;
    double tol = opt->tol > 0.0 ? opt->tol : PDS_FIT_DEFAULT_TOL;
    fit_ctx c = {.d = d,
                 .link = opt->link,
                 .firth = opt->firth != 0,
                 .fisher = opt->firth != 0 || opt->information == PDS_INFO_EXPECTED,
                 .n = n,
                 .p = p,
                 .prior_mean = opt->prior_mean,
                 .prior_prec = opt->prior_prec};
    c.eta = malloc(n * sizeof *c.eta);
    c.grad = malloc(p * sizeof *c.grad);
    c.info = malloc(p * p * sizeof *c.info);
    c.raw = malloc(p * p * sizeof *c.raw);
    c.inv = malloc(p * p * sizeof *c.inv);
    c.scratch = malloc(p * sizeof *c.scratch);
    double *trial = malloc(p * sizeof *trial);
    double *delta = malloc(p * sizeof *delta);
    double *work = malloc(p * sizeof *work);
    /* beta at the last multiple of 8 iterations and at the one before: snap2
     * lags 8 to 16 iterations, the window in which separation shows */
    double *snap = malloc(p * sizeof *snap);
    double *snap2 = malloc(p * sizeof *snap2);
    pds_fit_result *r = result_alloc(n, p);
    pds_status st = PDS_OK;
    if (!c.eta || !c.grad || !c.info || !c.raw || !c.inv || !c.scratch || !trial || !delta ||
        !work || !snap || !snap2 || !r) {
        pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
        st = PDS_ERR_RUNTIME;
        goto fail;
    }
    r->n_events = n_events;
    r->level = level;
    r->information = c.fisher ? PDS_INFO_EXPECTED : PDS_INFO_OBSERVED;
    r->vcov = vcov;
    set_nan(r->prof_low, p);
    set_nan(r->prof_high, p);

    /* start: the intercept-only fit where there is an intercept */
    double *beta = r->beta;
    double pbar = (double)n_events / (double)n;
    if (d->intercept_col != (size_t)-1 && d->offset)
        (void)null_loglik_offset(d, opt->link, pbar, &beta[d->intercept_col]);
    else if (d->intercept_col != (size_t)-1)
        beta[d->intercept_col] =
            opt->link == PDS_LINK_LOGIT ? log(pbar / (1.0 - pbar)) : log(-log1p(-pbar));
    memcpy(snap, beta, p * sizeof *snap);
    memcpy(snap2, beta, p * sizeof *snap2);

    newton_out no;
    newton(&c, beta, (size_t)-1, max_iter, tol, trial, delta, snap, snap2, &no);
    int singular = no.singular, converged = no.converged;
    r->iterations = no.iterations;
    r->converged = converged;
    r->step_se = no.step_se;
    fill_statistics(r, &c, d->intercept_col != (size_t)-1);
    if (pds_fit_vif(d, r->vif) != 0) {
        pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
        st = PDS_ERR_RUNTIME;
        goto fail;
    }

    /* separation also when the decrement criterion was met: along a
     * separating direction the likelihood flattens out geometrically */
    if (!c.firth && !c.prior_prec) {
        compute_eta(&c, beta);
        int sep = detect_separation(&c, beta, snap2, r->separated);
        if (sep < 0) {
            pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
            st = PDS_ERR_RUNTIME;
            goto fail;
        }
        if (sep) {
            r->separation = 1;
            r->converged = 0;
            char cols[256];
            column_list(d, r->separated, p, cols, sizeof cols);
            set_nan(r->se, p);
            set_nan(r->z, p);
            set_nan(r->pvalue, p);
            set_nan(r->cov, p * p);
            set_nan(r->conf_low, p);
            set_nan(r->conf_high, p);
            pds_diag_add(diag, NULL, 0, 0,
                         "fit: separation: the outcome is perfectly predicted by column%s %s "
                         "(coefficients diverge); use --firth",
                         strchr(cols, ',') ? "s" : "", cols);
            st = PDS_ERR_INPUT;
            *out = r;
            r = NULL;
            goto fail;
        }
    }
    if (singular) {
        pds_diag_add(diag, NULL, 0, 0,
                     "fit: singular design: the information matrix is not positive definite "
                     "(near-collinear columns or fitted probabilities of 0 or 1)");
        st = PDS_ERR_INPUT;
        goto fail;
    }

    /* model-based covariance: the inverse of the information in c.info (the
     * observed one, or the Fisher one with Firth or when asked) at beta */
    if (chol_inverse(p, c.info, r->cov) != 0) {
        pds_diag_add(diag, NULL, 0, 0, "fit: cannot invert the information matrix");
        st = PDS_ERR_INPUT;
        goto fail;
    }
    if (vcov != PDS_VCOV_MODEL) {
        memcpy(c.inv, r->cov, p * p * sizeof *c.inv);
        int rc = sandwich_cov(&c, c.inv, vcov, r->cov, &r->n_clusters);
        if (vcov != PDS_VCOV_CLUSTER)
            r->n_clusters = 0;
        if (rc < 0) {
            pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
            st = PDS_ERR_RUNTIME;
            goto fail;
        }
        if (rc > 0) {
            pds_diag_add(diag, NULL, 0, 0,
                         "fit: robust standard errors need at least 2 clusters with rows "
                         "and more rows than columns");
            st = PDS_ERR_INPUT;
            goto fail;
        }
    }
    fill_inference(r);

    /* profile-likelihood intervals: likelihood-based whatever the covariance;
     * with Firth the penalized likelihood is profiled, as logistf does */
    /* not for Firth with cloglog: there the modified-score steps of the
     * inner fits crawl away from the estimate and do not converge reliably */
    if (opt->profile && converged && !(c.firth && opt->link == PDS_LINK_CLOGLOG)) {
        double z = pds_normal_quantile(0.5 + level / 2.0);
        /* the first trial points step by the model-based standard errors
         * (c.inv holds that covariance after a sandwich) */
        double *se_model = snap;
        /* the inner fits: Firth's modified-score steps converge linearly,
         * so they get more iterations; a step of 1e-8 standard errors moves
         * the objective by about 1e-16 */
        int inner_iter = 10 * max_iter;
        double inner_tol = tol > 1e-8 ? tol : 1e-8;
        for (size_t j = 0; j < p; j++)
            se_model[j] = vcov == PDS_VCOV_MODEL ? r->se[j] : sqrt(c.inv[j * p + j]);
        for (size_t j = 0; j < p; j++) {
            r->prof_low[j] = profile_bound(&c, r, j, se_model[j], -1, z, work, inner_iter,
                                           inner_tol, trial, delta);
            r->prof_high[j] = profile_bound(&c, r, j, se_model[j], +1, z, work, inner_iter,
                                            inner_tol, trial, delta);
        }
        /* leave c at the estimate */
        evaluate(&c, beta, 1);
    }
    *out = r;
    r = NULL;

fail:
    pds_fit_result_free(r);
    free(c.eta);
    free(c.grad);
    free(c.info);
    free(c.raw);
    free(c.inv);
    free(c.scratch);
    free(trial);
    free(delta);
    free(work);
    free(snap);
    free(snap2);
    return st;
}

/* A design with held columns: fit the free columns with the held ones moved
 * into the offset, then give the result all p columns back. */
static pds_status fit_held(const pds_fit_data *d, const pds_fit_options *opt, pds_diag *diag,
                           pds_fit_result **out)
{
    size_t n = d->n, p = d->p, q = 0;
    for (size_t j = 0; j < p; j++) {
        if (d->held[j] && !isfinite(d->held_value[j])) {
            pds_diag_add(diag, NULL, 0, 0, "fit: the held value of column %zu is not finite", j);
            return PDS_ERR_INPUT;
        }
        q += !d->held[j];
    }
    if (q == 0) {
        pds_diag_add(diag, NULL, 0, 0, "fit: every coefficient is held: nothing to estimate");
        return PDS_ERR_INPUT;
    }
    if (opt->prior_mean) {
        pds_diag_add(diag, NULL, 0, 0, "fit: a prior goes with no held (fixed) coefficient");
        return PDS_ERR_INPUT;
    }
    size_t *col = malloc(q * sizeof *col);
    double *X = malloc(n * q * sizeof *X);
    double *off = malloc(n * sizeof *off);
    const char **names = d->names ? malloc(q * sizeof *names) : NULL;
    if (!col || !X || !off || (d->names && !names)) {
        free(col);
        free(X);
        free(off);
        free(names);
        pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
        return PDS_ERR_RUNTIME;
    }
    size_t intercept = (size_t)-1;
    for (size_t j = 0, k = 0; j < p; j++)
        if (!d->held[j]) {
            if (j == d->intercept_col)
                intercept = k;
            if (names)
                names[k] = d->names[j];
            col[k++] = j;
        }
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        const double *x = d->X + i * p;
        double o = d->offset ? d->offset[i] : 0.0;
        for (size_t j = 0; j < p; j++)
            if (d->held[j])
                o += d->held_value[j] * x[j];
        for (size_t k = 0; k < q; k++)
            X[i * q + k] = x[col[k]];
        off[i] = o;
        finite &= isfinite(o);
    }
    pds_fit_data r = {.n = n, .p = q, .X = X, .y = d->y, .cluster = d->cluster,
                      .n_clusters = d->n_clusters, .intercept_col = intercept,
                      .names = names, .offset = off};
    pds_fit_result *f = NULL;
    pds_status st = PDS_ERR_INPUT;
    if (!finite)
        pds_diag_add(diag, NULL, 0, 0, "fit: a held column is not finite in some row");
    else
        st = fit_free_columns(&r, opt, diag, &f);
    pds_fit_result *full = f ? result_alloc(n, p) : NULL;
    if (f && !full) {
        pds_diag_add(diag, NULL, 0, 0, "fit: out of memory");
        st = PDS_ERR_RUNTIME;
    }
    if (full) {
        /* the scalars, then the columns scattered back */
        double *keep[] = {full->beta, full->se, full->z, full->pvalue, full->cov, full->vif,
                          full->conf_low, full->conf_high, full->prof_low, full->prof_high};
        int *keep_sep = full->separated;
        *full = *f;
        full->p = p;
        full->beta = keep[0], full->se = keep[1], full->z = keep[2], full->pvalue = keep[3];
        full->cov = keep[4], full->vif = keep[5], full->conf_low = keep[6];
        full->conf_high = keep[7], full->prof_low = keep[8], full->prof_high = keep[9];
        full->separated = keep_sep;
        memset(full->cov, 0, p * p * sizeof *full->cov);
        for (size_t j = 0; j < p; j++) {
            full->beta[j] = d->held[j] ? d->held_value[j] : 0.0;
            full->se[j] = 0.0;
            full->z[j] = full->pvalue[j] = full->vif[j] = NAN;
            full->conf_low[j] = full->conf_high[j] = NAN;
            full->prof_low[j] = full->prof_high[j] = NAN;
            full->separated[j] = 0;
        }
        for (size_t k = 0; k < q; k++) {
            size_t j = col[k];
            full->beta[j] = f->beta[k];
            full->se[j] = f->se[k];
            full->z[j] = f->z[k];
            full->pvalue[j] = f->pvalue[k];
            full->vif[j] = f->vif[k];
            full->conf_low[j] = f->conf_low[k];
            full->conf_high[j] = f->conf_high[k];
            full->prof_low[j] = f->prof_low[k];
            full->prof_high[j] = f->prof_high[k];
            full->separated[j] = f->separated[k];
            for (size_t l = 0; l < q; l++)
                full->cov[j * p + col[l]] = f->cov[k * q + l];
        }
        *out = full;
    }
    /* free f's arrays, not its scalars copied above */
    pds_fit_result_free(f);
    free(col);
    free(X);
    free(off);
    free(names);
    return st;
}

pds_status pds_fit(const pds_fit_data *d, const pds_fit_options *opt, pds_diag *diag,
                   pds_fit_result **out)
{
    *out = NULL;
    int any = 0;
    for (size_t j = 0; d->held && j < d->p; j++)
        any |= d->held[j] != 0;
    if (any && !d->held_value) {
        pds_diag_add(diag, NULL, 0, 0, "fit: held columns without their values");
        return PDS_ERR_INPUT;
    }
    return any ? fit_held(d, opt, diag, out) : fit_free_columns(d, opt, diag, out);
}
