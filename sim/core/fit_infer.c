/* Inference around a fit: distribution functions for tests and intervals,
 * average marginal effects, likelihood-ratio tests between nested fits and
 * fitted hazards. */
#include "fit_infer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* For integer df the chi-square upper tail has a closed form (Abramowitz and
 * Stegun 26.4.4 and 26.4.5): with y = x/2,
 *   even df = 2m:   Q = sum_{i<m} e^-y y^i / i!
 *   odd df = 2m+1:  Q = erfc(sqrt y) + sum_{i=1..m} e^-y y^(i-1/2) / Gamma(i+1/2)
 * summed in logs so that neither e^-y nor the powers overflow. */
double pds_chi2_sf(double x, int df)
{
    if (df < 1 || isnan(x))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    double y = x / 2.0, q = 0.0;
    if (df % 2 == 0) {
        for (int i = 0; i < df / 2; i++)
            q += exp(-y + i * log(y) - lgamma(i + 1.0));
    } else {
        q = erfc(sqrt(y));
        for (int i = 1; i <= df / 2; i++)
            q += exp(-y + (i - 0.5) * log(y) - lgamma(i + 0.5));
    }
    return q < 1.0 ? q : 1.0;
}

/* Acklam's rational approximation (relative error 1.15e-9), refined by one
 * Halley step on Phi(x) - p computed with erfc, which brings it to full
 * double precision. */
double pds_normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (!(p > 0.0 && p < 1.0))
        return p == 0.0 ? -INFINITY : p == 1.0 ? INFINITY : NAN;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2.0 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else if (p > 1.0 - 0.02425) {
        double q = sqrt(-2.0 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    }
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
    return x - u / (1.0 + x * u / 2.0);
}

/* dmu/deta and d2mu/deta2 at eta. */
static void link_derivs(pds_link link, double eta, double *d1, double *d2)
{
    if (link == PDS_LINK_CLOGLOG) {
        double e = exp(eta < 700.0 ? eta : 700.0);
        double g = e * exp(-e);
        *d1 = g;
        *d2 = g * (1.0 - e);
    } else {
        double mu = pds_link_inverse(PDS_LINK_LOGIT, eta);
        double omu = pds_link_inverse(PDS_LINK_LOGIT, -eta);
        *d1 = mu * omu;
        *d2 = mu * omu * (omu - mu);
    }
}

static double dot_row(const double *x, const double *b, size_t p)
{
    double s = 0.0;
    for (size_t j = 0; j < p; j++)
        s += x[j] * b[j];
    return s;
}

int pds_fit_ame(const pds_fit_data *d, const pds_fit_result *r, pds_link link, double *ame,
                double *ame_se)
{
    size_t n = d->n, p = d->p;
    double *m2 = calloc(p, sizeof *m2); /* mean of mu''(eta_i) x_i */
    double *g = malloc(p * sizeof *g);
    if (!m2 || !g) {
        free(m2);
        free(g);
        return -1;
    }
    double m1 = 0.0; /* mean of mu'(eta_i) */
    for (size_t i = 0; i < n; i++) {
        const double *x = d->X + i * p;
        double d1, d2;
        link_derivs(link, dot_row(x, r->beta, p), &d1, &d2);
        m1 += d1;
        for (size_t k = 0; k < p; k++)
            m2[k] += d2 * x[k];
    }
    m1 /= (double)n;
    for (size_t k = 0; k < p; k++)
        m2[k] /= (double)n;
    for (size_t j = 0; j < p; j++) {
        if (j == d->intercept_col) {
            ame[j] = ame_se[j] = NAN;
            continue;
        }
        ame[j] = m1 * r->beta[j];
        /* gradient of AME_j in beta: beta_j m2 + m1 e_j */
        for (size_t k = 0; k < p; k++)
            g[k] = r->beta[j] * m2[k] + (k == j ? m1 : 0.0);
        double v = 0.0;
        for (size_t a = 0; a < p; a++)
            v += g[a] * dot_row(r->cov + a * p, g, p);
        ame_se[j] = v >= 0.0 ? sqrt(v) : NAN;
    }
    free(m2);
    free(g);
    return 0;
}

void pds_fit_predict(const pds_fit_data *d, const pds_fit_result *r, pds_link link, double *eta,
                     double *eta_se, double *hazard)
{
    size_t p = d->p;
    for (size_t i = 0; i < d->n; i++) {
        const double *x = d->X + i * p;
        double e = dot_row(x, r->beta, p);
        if (eta)
            eta[i] = e;
        if (hazard)
            hazard[i] = pds_link_inverse(link, e);
        if (eta_se) {
            double v = 0.0;
            for (size_t a = 0; a < p; a++)
                v += x[a] * dot_row(r->cov + a * p, x, p);
            eta_se[i] = v >= 0.0 ? sqrt(v) : NAN;
        }
    }
}

int pds_fit_nested(const pds_fit_data *small, const pds_fit_data *big)
{
    if (small->n != big->n || small->p >= big->p)
        return 0;
    size_t n = small->n;
    for (size_t i = 0; i < n; i++)
        if (small->y[i] != big->y[i])
            return 0;
    for (size_t a = 0; a < small->p; a++) {
        int found = 0;
        for (size_t b = 0; b < big->p && !found; b++) {
            size_t i = 0;
            while (i < n && small->X[i * small->p + a] == big->X[i * big->p + b])
                i++;
            found = i == n;
        }
        if (!found)
            return 0;
    }
    return 1;
}
