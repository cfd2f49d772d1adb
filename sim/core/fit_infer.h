/* Inference around a fit (sim/core/fit.h): average marginal effects, fitted
 * hazards, likelihood-ratio tests between nested fits. No I/O. */
#ifndef PDS_FIT_INFER_H
#define PDS_FIT_INFER_H

#include <stddef.h>

#include "fit.h"

/* Average marginal effect of each column on the hazard,
 *   AME_j = mean_i dmu/deta(eta_i) beta_j,
 * the derivative-based effect for every column (a 0/1 column's effect is the
 * derivative too, not a discrete change), with delta-method standard errors
 * from r->cov. NaN for the intercept column. 0, or -1 when out of memory. */
int pds_fit_ame(const pds_fit_data *d, const pds_fit_result *r, pds_link link, double *ame,
                double *ame_se);

/* Per row: the linear predictor eta = x'beta, its standard error
 * sqrt(x' cov x) and the fitted hazard mu(eta). Any output may be NULL. */
void pds_fit_predict(const pds_fit_data *d, const pds_fit_result *r, pds_link link, double *eta,
                     double *eta_se, double *hazard);

/* 1 when the fit of small is nested in that of big: the same rows and
 * outcome, and every column of small equal (row by row) to a column of big,
 * with more columns in big. 0 otherwise. */
int pds_fit_nested(const pds_fit_data *small, const pds_fit_data *big);

#endif
