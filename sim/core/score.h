/* Scores of a forecast of adoption years against what happened.
 *
 * A forecast made at a cutoff gives, for every unit that had not adopted by
 * the cutoff, its hazard in each forecast year: the probability of adopting
 * that year given that it has not adopted before (h[k], k = 0 is the year
 * after the cutoff). Its adoption-year distribution follows:
 * P(adopted by year k) = 1 - prod_{j<=k} (1 - h[j]).
 *
 * The outcome of a unit is the index of its observed adoption year, or -1
 * when it had not adopted by the last observed year (right-censored). Every
 * score uses only what is known for every unit, censored or not: the
 * unit-years the unit was at risk, and whether it had adopted by the end of
 * each year of the window. Lower is better for every score. */
#ifndef PDS_SCORE_H
#define PDS_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define PDS_SCORE_BINS 9

/* Upper edges of the calibration bins (the first bin starts at 0). */
extern const double pds_score_bin_edges[PDS_SCORE_BINS];

typedef struct pds_calibration_bin {
    double lo, hi;    /* predicted-probability range [lo, hi) ([lo, 1] for the last) */
    size_t n;         /* unit-years whose predicted hazard falls in the bin */
    size_t events;    /* of which adoptions */
    double mean_pred; /* mean predicted hazard; NaN when n = 0 */
    double obs_freq;  /* events / n; NaN when n = 0 */
    double se;        /* binomial standard error of obs_freq if the forecast is right:
                       * sqrt(sum p (1 - p)) / n */
} pds_calibration_bin;

typedef struct pds_scores {
    size_t n_units;      /* units at risk at the cutoff */
    size_t n_unit_years; /* unit-years at risk in the observed history */
    size_t n_events;     /* adoptions observed in the window */
    double brier;        /* mean over unit-years of (h - y)^2 */
    double log_score;    /* mean over unit-years of -log P(observed outcome), natural log */
    double rps;          /* mean over units of the ranked probability score of the adoption year */
    pds_calibration_bin bins[PDS_SCORE_BINS];
} pds_scores;

/* Score hazards [n_units x n_years] against outcomes [n_units] (index of the
 * adoption year, -1 = not adopted by the last year). Hazards are clamped to
 * [PDS_SCORE_EPS, 1 - PDS_SCORE_EPS] for the log score. The per-unit arrays
 * (sums over the unit's years at risk for Brier and log score) may be NULL.
 * PDS_ERR_INPUT when an outcome index is out of range or a hazard is not a
 * probability. */
#define PDS_SCORE_EPS 1e-9
pds_status pds_score_compute(const double *hazard, const int *outcome, size_t n_units,
                             size_t n_years, pds_scores *out, double *unit_brier, double *unit_log,
                             double *unit_rps);

/* Hazards from Monte Carlo counts: by_year[k] runs (of n_runs) with the unit
 * adopted by the end of year k, for a unit not adopted at the start. The
 * estimate (a + 1/2) / (n + 1), with a adoptions among n runs still at risk,
 * is never 0 or 1, so a finite number of runs cannot give an infinite log
 * score. */
void pds_score_mc_hazard(const uint64_t *by_year, uint64_t n_runs, size_t n_years, double *hazard);

/* Distribution of the number of units adopted by the end of each year when
 * the units at risk adopt independently with the given hazards (Poisson
 * binomial), plus n_before already adopted: for each year k and each p in
 * probs, the smallest count c with P(count <= c) >= p goes to
 * q[k * n_probs + i], and the mean to mean[k]. work needs n_units + 1 doubles. */
void pds_score_count_quantiles(const double *hazard, size_t n_units, size_t n_years,
                               size_t n_before, const double *probs, size_t n_probs, int *q,
                               double *mean, double *work);

#endif
