/* Backtesting: forecast the observed past from a cutoff and score the
 * forecast against what happened, next to simple baselines scored the same
 * way. Pure: the caller loads the data and prints the result. */
#ifndef PDS_BACKTEST_H
#define PDS_BACKTEST_H

#include <stddef.h>

#include "diag.h"
#include "engine.h"
#include "fit.h"
#include "model.h"
#include "score.h"
#include "world.h"

/* Forget everything observed after the cutoff, in place: unit and sub-unit
 * adoption years, sub-unit counts, central documents and panel values of
 * later years. The engine and the unit-year tables then see only the history
 * known at the end of the cutoff year. */
void pds_backtest_truncate(pds_world *w, int cutoff);

/* Refit spec on the unit-years first_year..last_year of w with the fit of
 * `pdsim fit` (pp.h, fit.h); *out is a new model (owned) carrying the
 * estimates, standard errors and covariance. */
pds_status pds_backtest_refit(const pds_world *w, const pds_model *spec, int first_year,
                              int last_year, const pds_fit_options *fopt, pds_diag *diag,
                              pds_model **out);

/* A copy of m (owned) with its intercept shifted so that its expected number
 * of adoptions over first_year..last_year of w equals the observed number
 * (the config's intercept_recalibration: in-sample, at the cutoff); the
 * shift goes to *shift. */
pds_status pds_backtest_recalibrate(const pds_world *w, const pds_model *m, int first_year,
                                    int last_year, pds_diag *diag, pds_model **out, double *shift);

/* PDS_ERR_INPUT, with a message, unless some unit of the (truncated) world
 * adopted in first_year..cutoff: the fits need at least one adoption. */
pds_status pds_backtest_check_window(const pds_world *w, int first_year, int cutoff,
                                     pds_diag *diag);

enum {
    PDS_BT_MODEL = 0,   /* the model as given (or refitted) */
    PDS_BT_NO_CHANNELS, /* the same model with its dynamic channels switched off */
    PDS_BT_CONSTANT,    /* one hazard for every unit-year: the historical rate */
    PDS_BT_LOGISTIC,    /* a logistic growth curve of the cumulative share adopted */
    PDS_BT_N
};

extern const char *const pds_backtest_names[PDS_BT_N];

typedef struct pds_backtest_options {
    int cutoff;          /* last year of history the forecast may use */
    int last_year;       /* last observed year: the forecast runs cutoff+1 .. last_year */
    int first_year;      /* first outcome year of the baselines' fit window; 0 = as pdsim fit */
    pds_sim_options sim; /* projection rules etc.; base_year, horizon, forced, shocks and
                          * channels_off are set by the backtest */
    pds_run_options run; /* seed, runs, threads; sink and summary are the backtest's */
    /* structural uncertainty: NULL, or n_models unit models (the unit model
     * passed to pds_backtest_run first) of which run r uses the one chosen by
     * pds_model_of_run with these cumulative weights, as `pdsim run` does */
    const pds_model *const *models;
    const double *cum_weights;
    size_t n_models;
} pds_backtest_options;

typedef struct pds_backtest_forecast {
    double *hazard; /* [n_risk x n_years] */
    pds_scores scores;
    double *unit_brier; /* [n_risk] per-unit sums, for paired comparisons */
    double *unit_log;
    double *unit_rps;
    int *count_q; /* [n_years x 3]: 10%, 50%, 90% of the number adopted by the end of the year */
    double *count_mean; /* [n_years] */
} pds_backtest_forecast;

typedef struct pds_backtest_result {
    int cutoff, last_year, first_year; /* first_year: start of the baselines' fit window */
    size_t n_years;                    /* last_year - cutoff */
    size_t n_units;                    /* all units */
    size_t n_risk;                     /* units not adopted by the cutoff */
    size_t *risk_unit;                 /* [n_risk] their indices */
    int *outcome;        /* [n_risk] index of the observed adoption year, -1 = none by last_year */
    int *observed_count; /* [n_years] units adopted by the end of each year (observed) */
    size_t n_before;     /* units adopted by the cutoff */
    size_t fit_events;   /* adoptions in the baselines' fit window */
    size_t fit_unit_years;         /* unit-years at risk in it */
    double constant_rate;          /* the constant-hazard baseline */
    double logistic_a, logistic_b; /* cumulative share = logit^-1(a + b (t - cutoff)) */
    pds_backtest_forecast f[PDS_BT_N];
} pds_backtest_result;

/* Run the backtest. w must already be truncated at opt->cutoff; observed[u]
 * is unit u's adoption year in the full data (0 = not adopted). The models
 * are borrowed. PDS_ERR_INPUT (with a message) when the cutoff leaves no
 * forecast year or no adoption to fit the baselines on. */
pds_status pds_backtest_run(const pds_world *w, const int *observed, const pds_model *unit_model,
                            const pds_model *sub_model, const pds_backtest_options *opt,
                            pds_diag *diag, pds_backtest_result **out);
void pds_backtest_free(pds_backtest_result *r);

#endif
