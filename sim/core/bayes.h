/* Bayesian estimation of a hazard model: a Gaussian prior built from a
 * published model (its estimates and standard errors, or its covariance),
 * the posterior mode and Laplace covariance (by pds_fit with the prior), and
 * the full posterior by Hamiltonian Monte Carlo with several chains, with
 * rank-normalised split R-hat and bulk effective sample sizes. No I/O. */
#ifndef PDS_BAYES_H
#define PDS_BAYES_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "fit.h"
#include "model.h"

/* Where the prior of a coefficient came from. */
typedef enum pds_prior_source {
    PDS_PRIOR_FROM_MODEL = 0, /* the prior model's estimate and SE (or covariance) */
    PDS_PRIOR_DEFAULT = 1,    /* not in the prior model: N(0, default_sd^2) */
    PDS_PRIOR_FLAT = 2        /* improper flat prior (the posterior mode is the MLE) */
} pds_prior_source;

#define PDS_PRIOR_DEFAULT_SD 10.0

typedef struct pds_prior {
    size_t p;             /* coefficients: the intercept, then the terms of the model fitted */
    int flat;             /* 1: improper flat prior; mean/cov/prec are NULL */
    double *mean;         /* [p] owned */
    double *cov;          /* [p x p] owned: prior covariance (scale^2 x the published one) */
    double *prec;         /* [p x p] owned: its inverse */
    pds_prior_source *source; /* [p] owned */
    long *prior_term;     /* [p] owned: the prior model's term index (-1 the intercept or none) */
    int from_cov;         /* 1: the matched coefficients took the prior model's covariance */
    double scale;         /* K: prior sd = published SE x K */
    double default_sd;
} pds_prior;

/* Prior on (intercept, spec's terms) from the prior model: every term of
 * spec is matched to a term of prior by name, else (when the name is not
 * there) to the one term with the same dynamic variable or the same panel
 * variable and transform. Matched: N(prior coef, (SE x scale)^2), with the
 * prior model's covariance (x scale^2) among the matched coefficients when it
 * has one; unmatched: N(0, default_sd^2), independent. A matched prior SE of
 * 0 and a name matched to a different quantity are input errors. prior NULL:
 * the flat prior. */
pds_status pds_prior_build(const pds_model *spec, const pds_model *prior, double scale,
                           double default_sd, pds_diag *diag, pds_prior **out);
void pds_prior_free(pds_prior *pr);

typedef struct pds_mcmc_options {
    size_t chains;  /* >= 2 */
    size_t warmup;  /* per chain, adaptation of the step size; discarded */
    size_t draws;   /* per chain, kept (>= 4) */
    uint64_t seed;  /* chain c uses stream (seed, c, PDS_RNG_MCMC) */
    double target_accept; /* dual-averaging target; 0 = 0.8 */
} pds_mcmc_options;

typedef struct pds_mcmc_result {
    size_t p, chains, n_draws; /* n_draws per chain */
    double *draws;        /* [chains x n_draws x p], chain-major, intercept first */
    double *mean, *sd;    /* [p] over all kept draws (sd with n - 1) */
    double *q05, *q50, *q95; /* [p] quantiles (linear interpolation, numpy's default) */
    double *rhat;         /* [p] rank-normalised split R-hat, max of bulk and folded (tail) */
    double *ess;          /* [p] bulk ESS: rank-normalised split chains, Geyer's monotone sequence */
    double *accept;       /* [chains] mean acceptance probability of the kept iterations */
    double *step;         /* [chains] adapted leapfrog step size (whitened scale) */
    size_t divergent;     /* kept iterations whose energy error exceeded 1000 */
    double max_rhat, min_ess;
} pds_mcmc_result;

/* Sample the posterior of d under prior (flat when prior->flat) by HMC in the
 * coordinates whitened by the Laplace covariance cov at the mode (beta =
 * mode + L z, L L' = cov, unit mass), step size by dual averaging during
 * warmup, integration time uniform in (0.5, 1.5) x pi/2 (a quarter period of
 * a standard normal), chains started at mode + 2 L z0, z0 standard normal.
 * Identical results for any number of threads. */
pds_status pds_mcmc_run(const pds_fit_data *d, pds_link link, const pds_prior *prior,
                        const double *mode, const double *cov, const pds_mcmc_options *opt,
                        pds_diag *diag, pds_mcmc_result **out);
void pds_mcmc_result_free(pds_mcmc_result *r);

/* Diagnostics of one quantity, x[c * n + i] the i-th draw of chain c (m
 * chains, n draws each, n >= 4), after Vehtari, Gelman, Simpson, Carpenter
 * and Buerkner (2021): draws are rank-normalised over all chains
 * (z = Phi^-1((r - 3/8) / (S + 1/4)), average ranks for ties) after splitting
 * each chain into its first and last floor(n/2) draws. R-hat is the larger
 * of the split R-hat of the normalised draws (bulk) and of the normalised
 * |x - median| (tail); ESS the bulk ESS with Geyer's initial monotone
 * sequence on the combined autocorrelations (as ArviZ's ess_bulk). NaN when
 * out of memory; a constant quantity has R-hat 1 and ESS m n. */
double pds_rhat_rank(const double *x, size_t m, size_t n);
double pds_ess_bulk(const double *x, size_t m, size_t n);

#endif
