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
    const double *offset;  /* [n] added to every row's linear predictor; NULL: none */
    /* [p] 1: the coefficient of this column is held at held_value[j], not
     * estimated (a fixed term; an offset is a column held at 1). NULL: none.
     * The result keeps all p columns: a held one has its value as estimate,
     * se 0, NaN for z, p and the intervals, zero rows and columns in cov;
     * the statistics (df, AIC, LL0) count the free columns only. */
    const unsigned char *held;
    const double *held_value;
} pds_fit_data;

/* Information matrix for the Newton steps and the model-based covariance:
 * observed (-Hessian) or expected (Fisher). The same for logit; they differ
 * for cloglog. Firth's penalty and covariance always use the expected one. */
typedef enum pds_fit_info { PDS_INFO_OBSERVED = 0, PDS_INFO_EXPECTED = 1 } pds_fit_info;

/* Covariance of the estimates: model-based (the inverse information), the
 * cluster sandwich, or the per-row sandwich HC0 (no correction) / HC1
 * (times n/(n-p)). */
typedef enum pds_fit_vcov {
    PDS_VCOV_MODEL = 0,
    PDS_VCOV_CLUSTER = 1,
    PDS_VCOV_HC0 = 2,
    PDS_VCOV_HC1 = 3
} pds_fit_vcov;

typedef struct pds_fit_options {
    pds_link link;
    int firth;      /* Firth's penalized likelihood (Jeffreys prior) */
    int robust;     /* cluster-robust covariance by cluster (= vcov PDS_VCOV_CLUSTER) */
    pds_fit_vcov vcov;
    pds_fit_info information;
    int max_iter;   /* 0 = PDS_FIT_DEFAULT_MAX_ITER */
    /* convergence: the Newton step in standard errors, sqrt(g' I^-1 g) (the
     * square root of twice the gain in the objective a full step predicts;
     * invariant to the units of the regressors), at most tol;
     * 0 = PDS_FIT_DEFAULT_TOL */
    double tol;
    double level;   /* confidence level of the intervals; 0 = 0.95 */
    int profile;    /* also profile-likelihood intervals (penalized with Firth; not
                       for Firth with cloglog, where they stay NaN) */
    /* Gaussian prior N(prior_mean, prior_prec^-1) on the coefficients: the
     * fit maximizes the log posterior ll - 0.5 (b - m)' P (b - m) (penalised
     * Newton, the same steps and convergence rule), cov is the Laplace
     * covariance (I(b) + P)^-1 at the mode and separation is not checked (a
     * proper prior keeps the mode finite). NULL: no prior. Not with Firth,
     * profile intervals or sandwich covariances. Borrowed: [p], [p x p]. */
    const double *prior_mean;
    const double *prior_prec;
} pds_fit_options;

#define PDS_FIT_DEFAULT_MAX_ITER 100
#define PDS_FIT_DEFAULT_TOL 1e-10

typedef struct pds_fit_result {
    size_t n, p;
    size_t n_events;        /* rows with y = 1 */
    double *beta;           /* [p] estimates */
    double *se;             /* [p] standard errors (robust when asked) */
    double *z;              /* [p] beta / se */
    double *pvalue;         /* [p] two-sided normal p-values */
    double *cov;            /* [p x p] covariance used for se */
    double *vif;            /* [p] variance inflation factors; NaN for the intercept */
    double *conf_low, *conf_high; /* [p] Wald intervals beta -/+ z se at level */
    double *prof_low, *prof_high; /* [p] profile-likelihood intervals; NaN unless asked,
                                     -/+inf when the profile never drops far enough */
    double level;           /* confidence level of both intervals */
    pds_fit_info information; /* used for the steps and the model-based covariance */
    pds_fit_vcov vcov;      /* covariance behind se */
    size_t n_clusters;      /* non-empty clusters under PDS_VCOV_CLUSTER, else 0 */
    double loglik;          /* log-likelihood at beta (unpenalized) */
    double loglik_penalized;/* with Firth: loglik + 0.5 log det I(beta); with a prior:
                               loglik + the log prior density up to its constant
                               (-0.5 (b - m)' P (b - m)); else = loglik */
    double loglik_null;     /* intercept-only model */
    double lr_chi2;         /* 2 (loglik - loglik_null) */
    int lr_df;              /* p - 1 */
    double lr_pvalue;       /* chi-square upper tail of lr_chi2 on lr_df */
    double deviance;        /* -2 loglik */
    double aic, bic;        /* -2LL + 2p, -2LL + p log n */
    double r2_mcfadden;     /* 1 - LL/LL0 */
    double r2_coxsnell;     /* 1 - exp(2 (LL0 - LL) / n) */
    double r2_nagelkerke;   /* Cox-Snell / (1 - exp(2 LL0 / n)) */
    int iterations;
    int converged;          /* the step criterion was met within max_iter */
    double step_se;         /* sqrt(g' I^-1 g) at the estimate: the next Newton step in SEs */
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

/* Log-likelihood of the data at beta (unpenalized); with grad non-NULL
 * also its gradient [p]. eta: scratch [n]. Thread-safe for distinct eta/grad. */
double pds_fit_loglik(const pds_fit_data *d, pds_link link, const double *beta, double *grad,
                      double *eta);

/* Upper tail P(X > x) of a chi-square with df degrees of freedom (df >= 1). */
double pds_chi2_sf(double x, int df);
/* Standard normal quantile, 0 < p < 1. */
double pds_normal_quantile(double p);

/* Variance inflation factors of the columns of d->X (p values): NaN for the
 * intercept column and constant columns, +inf when the others are collinear.
 * 0, or -1 when out of memory. */
int pds_fit_vif(const pds_fit_data *d, double *vif);

#endif
