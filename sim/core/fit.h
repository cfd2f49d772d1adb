/* Discrete-time event-history estimation: a binary regression (logit or
 * complementary log-log) of adoption on a person-period table, by
 * Newton-Raphson with LAPACKE. Knows nothing about where the rows came from. */
#ifndef PDS_FIT_H
#define PDS_FIT_H

#include <stddef.h>

#include "diag.h"
#include "model.h"

typedef struct pds_fit_data {
    size_t n;              /* rows (unit-years at risk) */
    size_t p;              /* columns, the intercept (a column of ones) included */
    const double *X;       /* row-major [n x p] */
    const double *y;       /* [n] outcome, 0 or 1 */
    const size_t *cluster; /* [n] cluster (unit) of each row, 0..n_clusters-1; NULL if none */
    size_t n_clusters;
    size_t intercept_col;  /* index of the column of ones, or (size_t)-1 when none */
    const char *const *names; /* [p] column names for messages; NULL: 0-based indices */
} pds_fit_data;

typedef struct pds_fit_options {
    pds_link link;
    int firth;      /* Firth's penalized likelihood (Jeffreys prior) */
    int robust;     /* cluster-robust (sandwich) covariance by cluster */
    int max_iter;   /* 0 = 100 */
    double tol;     /* convergence on the step's max |change|; 0 = 1e-10 */
} pds_fit_options;

typedef struct pds_fit_result {
    size_t n, p;
    size_t n_events;        /* rows with y = 1 */
    double *beta;           /* [p] estimates */
    double *se;             /* [p] standard errors (robust when asked) */
    double *z;              /* [p] beta / se */
    double *pvalue;         /* [p] two-sided normal p-values */
    double *cov;            /* [p x p] covariance used for se */
    double *vif;            /* [p] variance inflation factors; NaN for the intercept */
    double loglik;          /* log-likelihood at beta (unpenalized) */
    double loglik_penalized;/* with Firth: loglik + 0.5 log det I(beta); else = loglik */
    double loglik_null;     /* intercept-only model */
    double deviance;        /* -2 loglik */
    double aic, bic;        /* -2LL + 2p, -2LL + p log n */
    double r2_mcfadden;     /* 1 - LL/LL0 */
    double r2_coxsnell;     /* 1 - exp(2 (LL0 - LL) / n) */
    double r2_nagelkerke;   /* Cox-Snell / (1 - exp(2 LL0 / n)) */
    int iterations;
    int converged;
    int separation;         /* 1 when (quasi-)complete separation was detected */
    int *separated;         /* [p] 1 for columns implicated in the separation */
} pds_fit_result;

/* Fit. A fit that stops without converging and without separation returns
 * PDS_OK with converged = 0. After separation se, z, p-values and cov are NaN.
 * VIF is NaN for constant columns and +inf for collinear ones. Robust standard
 * errors need at least 2 non-empty clusters. With Firth and cloglog the
 * covariance is the inverse of the expected information.
 * PDS_ERR_INPUT (with a message) for unusable data: no rows, no events,
 * all events, a singular design, separation without Firth (the result is still
 * returned with separation set and beta from the last iteration). */
pds_status pds_fit(const pds_fit_data *d, const pds_fit_options *opt, pds_diag *diag,
                   pds_fit_result **out);
void pds_fit_result_free(pds_fit_result *r);

/* Variance inflation factors of the columns of d->X (p values): NaN for the
 * intercept column and constant columns, +inf when the others are collinear.
 * 0, or -1 when out of memory. */
int pds_fit_vif(const pds_fit_data *d, double *vif);

#endif
