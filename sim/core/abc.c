#include "abc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "pcg.h"

#define LOG_2PI 1.8378770664093453

double pds_abc_prior_logpdf(const pds_abc_prior *prior, size_t P, const double *theta)
{
    double lp = 0.0;
    for (size_t p = 0; p < P; p++) {
        const pds_abc_prior *q = &prior[p];
        double x = theta[p];
        if (!isfinite(x))
            return -INFINITY;
        if (q->kind == PDS_PRIOR_UNIFORM) {
            if (x < q->a || x > q->b)
                return -INFINITY;
            lp -= log(q->b - q->a);
        } else {
            double z = (x - q->a) / q->b;
            lp += -0.5 * z * z - log(q->b) - 0.5 * LOG_2PI;
        }
    }
    return lp;
}

void pds_abc_weighted_moments(size_t n, size_t P, const double *theta, const double *w,
                              double *mean, double *cov)
{
    double sw = 0.0;
    for (size_t i = 0; i < n; i++)
        sw += w[i];
    for (size_t p = 0; p < P; p++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += w[i] * theta[i * P + p];
        mean[p] = s / sw;
    }
    for (size_t a = 0; a < P; a++)
        for (size_t b = 0; b <= a; b++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++)
                s += w[i] * (theta[i * P + a] - mean[a]) * (theta[i * P + b] - mean[b]);
            cov[a * P + b] = cov[b * P + a] = s / sw;
        }
}

int pds_abc_cholesky(size_t P, const double *a, double *l)
{
    memset(l, 0, P * P * sizeof *l);
    for (size_t j = 0; j < P; j++) {
        double d = a[j * P + j];
        for (size_t k = 0; k < j; k++)
            d -= l[j * P + k] * l[j * P + k];
        if (!(d > 0.0) || !isfinite(d))
            return -1;
        l[j * P + j] = sqrt(d);
        for (size_t i = j + 1; i < P; i++) {
            double s = a[i * P + j];
            for (size_t k = 0; k < j; k++)
                s -= l[i * P + k] * l[j * P + k];
            l[i * P + j] = s / l[j * P + j];
        }
    }
    return 0;
}

typedef struct keyed {
    double x, w;
    size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

double pds_abc_weighted_quantile(size_t n, const double *x, const double *w, double q)
{
    keyed *k = malloc((n ? n : 1) * sizeof *k);
    if (!k || n == 0) {
        free(k);
        return NAN;
    }
    double sw = 0.0;
    for (size_t i = 0; i < n; i++) {
        k[i] = (keyed){x[i], w[i], i};
        sw += w[i];
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    double c = 0.0, out = k[n - 1].x;
    for (size_t i = 0; i < n; i++) {
        c += k[i].w / sw;
        /* a relative slack keeps q = 1 from missing the last by rounding */
        if (c >= q * (1.0 - 1e-12)) {
            out = k[i].x;
            break;
        }
    }
    free(k);
    return out;
}

double pds_abc_ess(size_t n, const double *w)
{
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += w[i];
        s2 += w[i] * w[i];
    }
    return s2 > 0.0 ? s * s / s2 : 0.0;
}

void pds_abc_population_free(pds_abc_population *pop)
{
    if (!pop)
        return;
    free(pop->cum);
    free(pop->w);
    free(pop->chol);
    free(pop->kcov);
    memset(pop, 0, sizeof *pop);
}

pds_status pds_abc_population_init(pds_abc_population *pop, size_t n, size_t P,
                                   const double *theta, const double *w)
{
    memset(pop, 0, sizeof *pop);
    pop->n = n;
    pop->P = P;
    pop->theta = theta;
    pop->cum = malloc(n * sizeof *pop->cum);
    pop->w = malloc(n * sizeof *pop->w);
    pop->chol = malloc(P * P * sizeof *pop->chol);
    pop->kcov = malloc(P * P * sizeof *pop->kcov);
    double *mean = malloc(P * sizeof *mean);
    if (!pop->cum || !pop->w || !pop->chol || !pop->kcov || !mean) {
        free(mean);
        pds_abc_population_free(pop);
        return PDS_ERR_RUNTIME;
    }
    double sw = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++)
        sw += w[i];
    for (size_t i = 0; i < n; i++) {
        pop->w[i] = w[i] / sw;
        c += pop->w[i];
        pop->cum[i] = c;
    }
    pop->cum[n - 1] = 1.0;
    pds_abc_weighted_moments(n, P, theta, pop->w, mean, pop->kcov);
    for (size_t p = 0; p < P * P; p++)
        pop->kcov[p] *= 2.0;
    for (size_t p = 0; p < P; p++)
        if (!(pop->kcov[p * P + p] > 0.0))
            pop->kcov[p * P + p] = 1e-12 * (1.0 + mean[p] * mean[p]);
    free(mean);
    if (pds_abc_cholesky(P, pop->kcov, pop->chol) != 0) {
        pds_abc_population_free(pop);
        return PDS_ERR_INPUT;
    }
    double logdet = 0.0;
    for (size_t p = 0; p < P; p++)
        logdet += 2.0 * log(pop->chol[p * P + p]);
    pop->log_norm = -0.5 * ((double)P * LOG_2PI + logdet);
    return PDS_OK;
}

/* A standard normal by Box-Muller from two uniforms in (0, 1). */
static double normal(pds_pcg32 *rng)
{
    double u1 = ((double)pds_pcg32_next(rng) + 0.5) / 4294967296.0;
    double u2 = ((double)pds_pcg32_next(rng) + 0.5) / 4294967296.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void pds_abc_propose(const pds_abc_prior *prior, size_t P, const pds_abc_population *pop,
                     uint64_t seed, uint64_t generation, uint64_t k, double *out)
{
    pds_pcg32 rng;
    pds_pcg32_stream(&rng, pds_design_point_seed(seed, generation), k, PDS_RNG_ABC_PROPOSAL);
    if (!pop) {
        for (size_t p = 0; p < P; p++) {
            const pds_abc_prior *q = &prior[p];
            out[p] = q->kind == PDS_PRIOR_UNIFORM ? q->a + (q->b - q->a) * pds_pcg32_uniform(&rng)
                                                  : q->a + q->b * normal(&rng);
        }
        return;
    }
    size_t n = pop->n;
    double u = pds_pcg32_uniform(&rng);
    size_t lo = 0, hi = n - 1;
    while (lo < hi) { /* the first j with u < cum[j] */
        size_t mid = lo + (hi - lo) / 2;
        if (u < pop->cum[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    double z[64];
    for (size_t p = 0; p < P; p++)
        z[p] = normal(&rng);
    for (size_t a = 0; a < P; a++) {
        double s = pop->theta[lo * P + a];
        for (size_t b = 0; b <= a; b++)
            s += pop->chol[a * P + b] * z[b];
        out[a] = s;
    }
}

double pds_abc_log_weight(const pds_abc_prior *prior, const pds_abc_population *pop,
                          const double *theta)
{
    if (!pop)
        return 0.0;
    size_t P = pop->P;
    double lp = pds_abc_prior_logpdf(prior, P, theta);
    if (!isfinite(lp))
        return -INFINITY;
    /* log sum_j W_j N(theta; theta_j, K), by log-sum-exp */
    double y[64], r[64], mx = -INFINITY;
    double *lq = malloc(pop->n * sizeof *lq);
    if (!lq)
        return NAN;
    for (size_t j = 0; j < pop->n; j++) {
        for (size_t p = 0; p < P; p++)
            y[p] = theta[p] - pop->theta[j * P + p];
        /* solve L r = y: the Mahalanobis distance is |r|^2 */
        double m = 0.0;
        for (size_t a = 0; a < P; a++) {
            double s = y[a];
            for (size_t b = 0; b < a; b++)
                s -= pop->chol[a * P + b] * r[b];
            r[a] = s / pop->chol[a * P + a];
            m += r[a] * r[a];
        }
        lq[j] = pop->w[j] > 0.0 ? log(pop->w[j]) - 0.5 * m : -INFINITY;
        if (lq[j] > mx)
            mx = lq[j];
    }
    double s = 0.0;
    for (size_t j = 0; j < pop->n; j++)
        s += exp(lq[j] - mx);
    free(lq);
    return lp - (mx + log(s) + pop->log_norm);
}

uint64_t pds_abc_sim_seed(uint64_t seed, uint64_t generation, uint64_t k)
{
    return pds_design_point_seed(pds_design_point_seed(seed ^ 0xabcull, generation), k);
}
