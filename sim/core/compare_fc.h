/* Comparing forecasters over the origins of a backtest: paired score
 * differences with standard errors clustered by unit, and stacking weights.
 *
 * A pool collects, origin by origin, the same units scored by several
 * forecasters (the models of several configs and the baselines). Rows are
 * unit-origins: one unit at risk at one cutoff. Pure: no I/O. */
#ifndef PDS_COMPARE_FC_H
#define PDS_COMPARE_FC_H

#include <stddef.h>
#include <stdint.h>

#include "backtest.h"
#include "diag.h"

enum { PDS_SC_BRIER = 0, PDS_SC_LOG, PDS_SC_RPS, PDS_SC_N };

typedef struct pds_fc_pool {
    size_t n_fc;      /* forecasters */
    size_t n_units;   /* units of the dataset: the clusters */
    size_t n_origins; /* origins added */
    size_t n_rows, cap_rows;
    size_t *row_unit;  /* [n_rows] unit index */
    size_t *row_years; /* [n_rows] unit-years at risk (scored by Brier and log score) */
    double *row_score; /* [n_rows x n_fc x PDS_SC_N] the unit's Brier and log-score sums and RPS */
    size_t n_uy, cap_uy;
    double *uy_prob; /* [n_uy x n_fc] probability each forecaster gave to what happened in a
                      * unit-year at risk: h or 1 - h, h clamped as for the log score */
} pds_fc_pool;

pds_fc_pool *pds_fc_pool_create(size_t n_fc, size_t n_units);
void pds_fc_pool_free(pds_fc_pool *p);

/* Add one origin: forecaster k is r[k]->f[which[k]]. Every r[k] must come
 * from the same cutoff and have the same units at risk and outcomes (same
 * dataset); PDS_ERR_INPUT with a message otherwise. */
pds_status pds_fc_pool_add(pds_fc_pool *p, const pds_backtest_result *const *r, const int *which,
                           pds_diag *diag);

typedef struct pds_fc_diff {
    double mean_a, mean_b; /* pooled scores: per unit-year (Brier, log), per unit-origin (RPS) */
    double diff;           /* mean_a - mean_b */
    double se;             /* clustered by unit; NaN with fewer than 2 units */
    size_t n_obs;          /* unit-years (Brier, log) or unit-origins (RPS) */
    size_t n_clusters;     /* units with at least one row */
} pds_fc_diff;

/* The pooled score difference a - b of one score (PDS_SC_*). With d the
 * difference of the unit's score at an origin (for Brier and log score the
 * sum over its years at risk), D_u the sum of d over unit u's origins, n_u
 * its observations (unit-years, or origins for RPS), N = sum n_u and G the
 * units: diff = sum D_u / N and
 *     se^2 = G / (G - 1) * sum_u (D_u - diff * n_u)^2 / N^2,
 * the cluster-robust standard error of the mean of the per-observation
 * differences (a regression on a constant, clustered by unit). */
void pds_fc_pool_diff(const pds_fc_pool *p, size_t a, size_t b, int score, pds_fc_diff *out);

/* "better" / "worse" when |diff| > 2 se (a lower score is better), else
 * "no clear difference"; with se NaN, "no clear difference". */
const char *pds_fc_verdict(const pds_fc_diff *d);

/* Stacking weights (Yao, Vehtari, Simpson & Gelman 2018, with the
 * leave-future-out predictive probabilities of the pool's unit-years): w on
 * the simplex maximizing sum_n log(sum_k w_k q_nk). The objective is
 * concave; an active-set Newton method on the simplex finds its maximum
 * (KKT: g_k = sum_n q_nk / m_n equals n for every k with w_k > 0 and is at
 * most n for the others, m_n = sum_k w_k q_nk). w[n_fc]; *objective gets the
 * maximum, *iterations the Newton steps. */
pds_status pds_fc_stack(const double *q, size_t n, size_t k, double *w, double *objective,
                        int *iterations);

/* The reliability summary of a rolling-origin backtest: pooled scores of
 * the config's forecast (forecaster 0) and of the baselines (constant
 * hazard, logistic curve, channels off), and the paired differences of the
 * forecast minus each baseline with standard errors clustered by unit. */
#define PDS_REL_FC 4 /* forecast, channels off, constant hazard, logistic curve */
typedef struct pds_backtest_reliability {
    int first_cutoff, last_cutoff; /* origins; 0 when no backtest was done */
    uint64_t runs;
    int refit;
    size_t unit_years, unit_origins, units;
    double score[PDS_REL_FC][PDS_SC_N];    /* pooled means */
    double diff[PDS_REL_FC][PDS_SC_N];     /* forecast minus forecaster k (row 0 unused) */
    double diff_se[PDS_REL_FC][PDS_SC_N];
    double stacking[PDS_REL_FC];           /* stacking weights of the four */
} pds_backtest_reliability;

extern const char *const pds_backtest_reliability_names[PDS_REL_FC];

#endif
