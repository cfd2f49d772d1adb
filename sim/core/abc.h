/* Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC, the
 * population Monte Carlo sampler of Beaumont, Cornuet, Marin & Robert 2009,
 * with the tolerance of each generation a quantile of the previous
 * generation's distances as in Del Moral, Doucet & Jasra 2012): the pieces
 * that do not touch a simulator. Priors are independent per parameter.
 *
 * Generation 0 draws from the prior and accepts everything. Generation t
 * proposes theta* = theta_j + L z (j drawn by the weights of generation
 * t-1, L L' = 2 x their weighted covariance, z standard normal), keeps it
 * when its simulated distance is at most the tolerance, and weighs it by
 *     w = prior(theta*) / sum_j W_j N(theta*; theta_j, 2 Cov).
 * Every draw of proposal k of generation t comes from its own PCG32 stream
 * keyed by (seed, t, k), so a generation is the same for any number of
 * threads. See docs/calibrate.md. */
#ifndef PDS_ABC_H
#define PDS_ABC_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

typedef enum pds_abc_prior_kind { PDS_PRIOR_UNIFORM = 0, PDS_PRIOR_NORMAL = 1 } pds_abc_prior_kind;

typedef struct pds_abc_prior {
    pds_abc_prior_kind kind;
    double a, b; /* uniform: lower, upper; normal: mean, sd */
} pds_abc_prior;

/* Purpose of the proposal streams (pds_pcg32_stream). */
#define PDS_RNG_ABC_PROPOSAL 0xabc0000000000001ull

/* Log prior density of theta[P]; -INFINITY outside the support. */
double pds_abc_prior_logpdf(const pds_abc_prior *prior, size_t P, const double *theta);

/* Weighted mean[P] and covariance cov[P x P] (divisor: the sum of the
 * weights, which need not be normalised). */
void pds_abc_weighted_moments(size_t n, size_t P, const double *theta, const double *w,
                              double *mean, double *cov);

/* Lower Cholesky factor l[P x P] of a[P x P]; 0, or -1 when a is not
 * positive definite. */
int pds_abc_cholesky(size_t P, const double *a, double *l);

/* The q-quantile (0 < q <= 1) of x[n] under weights w[n]: the smallest x_i
 * whose cumulative normalised weight, in increasing order of x, reaches q. */
double pds_abc_weighted_quantile(size_t n, const double *x, const double *w, double q);

/* Effective sample size (sum w)^2 / sum w^2. */
double pds_abc_ess(size_t n, const double *w);

/* The previous generation, prepared for proposing and weighing. */
typedef struct pds_abc_population {
    size_t n, P;
    const double *theta; /* [n x P] (borrowed) */
    double *cum;         /* [n] cumulative normalised weights, the last 1 */
    double *w;           /* [n] normalised weights */
    double *chol;        /* [P x P] lower factor of the kernel covariance */
    double *kcov;        /* [P x P] kernel covariance: 2 x the weighted covariance */
    double log_norm;     /* log of the kernel's normalising constant */
} pds_abc_population;

/* Prepare from theta[n x P] and weights w[n] (any positive scale). The
 * kernel covariance is 2 x the weighted covariance; a parameter whose
 * weighted variance is 0 gets a tiny jitter (1e-12 x (1 + mean^2)).
 * PDS_ERR_INPUT when the covariance is still not positive definite,
 * PDS_ERR_RUNTIME when out of memory. */
pds_status pds_abc_population_init(pds_abc_population *pop, size_t n, size_t P,
                                   const double *theta, const double *w);
void pds_abc_population_free(pds_abc_population *pop);

/* Proposal k of generation `generation`: from the prior when pop is NULL
 * (generation 0), else by the kernel around a particle drawn by weight.
 * out[P]; it may lie outside the prior's support (then it is rejected
 * without a simulation). */
void pds_abc_propose(const pds_abc_prior *prior, size_t P, const pds_abc_population *pop,
                     uint64_t seed, uint64_t generation, uint64_t k, double *out);

/* Most parameters of a calibration. */
#define PDS_ABC_MAX_PARAMS 32

/* Log importance weight of an accepted proposal: log prior(theta) - log
 * sum_j W_j N(theta; theta_j, kernel covariance); 0 in generation 0 (pop
 * NULL), where proposals come from the prior. */
double pds_abc_log_weight(const pds_abc_prior *prior, const pds_abc_population *pop,
                          const double *theta);

/* The seed of the simulation of proposal k of a generation: a bijective mix
 * of (seed, generation, k), so that no two proposals share random numbers. */
uint64_t pds_abc_sim_seed(uint64_t seed, uint64_t generation, uint64_t k);

#endif
