/* The HDF5 result file (see docs/output-format.md). Written as OUT.partial,
 * streamed in chunks of runs, marked complete and renamed to OUT only when
 * everything is written. An interrupted run keeps OUT.partial, which a later
 * run of the same inputs resumes. */
#ifndef PDS_H5OUT_H
#define PDS_H5OUT_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/compare_fc.h"
#include "../core/engine.h"
#include "../core/insample.h"
#include "../core/summary.h"
#include "../core/world.h"

#define PDS_FORMAT_VERSION 1

typedef struct pds_h5meta {
    const char *config_path;
    const char *config_text;
    const char *config_resolved; /* every setting after extends (pds_run_config_dump) */
    const char *dataset_hash;    /* content hash of the dataset folder (pds_dataset_hash) */
    const char *dataset_path;
    const char *model_path;
    const char *model_name;
    const char *subunit_model_path; /* NULL when none */
    const char *subunit_model_name;
    uint64_t seed;
    uint64_t n_runs;
    int base_year;
    int first_year; /* first simulated year */
    int last_year;  /* horizon */
    size_t chunk_runs;
    int store_subunits;                   /* write /runs/city_adoption_year */
    size_t n_coefficients;                /* drawn per run (intercept first); 0 = none */
    const char *const *coefficient_names; /* [n_coefficients] */
    const char *uncertainty;              /* "none", "coefficients", "posterior", ... */
    /* uncertainty: posterior: run r used posterior draw
     * pds_posterior_draw_of_run(seed, r, n_posterior_draws): /runs/posterior_draw */
    size_t n_posterior_draws;             /* 0 = not posterior */
    const char *posterior_draws_path;     /* the draws file */
    /* with several models (n_models > 1): the draws of each, and run r used
     * draw pds_posterior_draw_of_run(seed, r, n_posterior_draws_of[k]) of
     * its model k */
    const size_t *n_posterior_draws_of;   /* [n_models] */
    const char *const *posterior_draws_paths; /* [n_models] */
    const char *uncertainty_warning;      /* NULL or why the draws are approximate */
    const char *scenario_name;            /* "" when no scenario */
    const char *input_hash;               /* fingerprint of the inputs (resume check) */
    /* structural uncertainty: n_models > 1 unit models, run r used model
     * pds_model_of_run(seed, r, model_cum_weights, n_models): /runs/model */
    size_t n_models;
    const char *const *model_names;       /* [n_models] */
    const double *model_weights;          /* [n_models], sum 1 */
    const double *model_cum_weights;      /* [n_models], cumulative */
    /* reliability of the forecast, written to /reliability (either NULL) */
    const pds_insample *insample;         /* the in-sample check of the unit model(s) */
    const char *provenance;               /* pds_provenance_summary of the dataset */
    /* sub-unit model coefficients drawn per run (a function of (seed, run),
     * written whole at creation): NULL when none are drawn */
    const pds_sim *subunit_sim;
    const char *const *subunit_coefficient_names; /* [pds_sim_n_subunit_coefficients] */
    const pds_world *w;
} pds_h5meta;

typedef struct pds_h5out pds_h5out;

/* Create (or replace) path's temporary sibling path.partial and write the
 * metadata. The caller holds path's lock (pds_lock_take); a partial file
 * left there is removed, a link or other non-file at the name refused, and
 * the new one created exclusively. NULL on failure (message in diag). */
pds_h5out *pds_h5out_create(const char *path, const pds_h5meta *meta, pds_diag *diag);

/* Write the rolling-origin backtest into /reliability (before finishing;
 * it replaces one written before). 0 or -1. */
int pds_h5out_write_backtest(pds_h5out *h, const pds_backtest_reliability *bt);

/* The name of path's partial file: owned by the caller. */
char *pds_h5out_partial_name(const char *path);

/* Reopen path.partial (a regular file, not a link; under path's lock) left
 * by an interrupted run of the same inputs and add
 * the runs it holds to summary. NULL with *status = PDS_OK when there is no
 * partial file; NULL with PDS_ERR_INPUT (message in diag) when it belongs to
 * other inputs (seed, runs, config, dataset or models) or is damaged.
 * (*h)->written tells where to go on. */
pds_h5out *pds_h5out_resume(const char *path, const pds_h5meta *meta, pds_summary *summary,
                            pds_diag *diag, pds_status *status);
/* Runs [0, written) are in the file. */
uint64_t pds_h5out_written(const pds_h5out *h);
/* Record how many runs are written, flush and close, keeping path.partial
 * for a later resume. 0, or -1 (then the partial file is removed unless it
 * was resumed, as pds_h5out_fail). */
int pds_h5out_suspend(pds_h5out *h, pds_diag *diag);
/* Write rows [first_run, first_run + n) and commit them: flush, then set
 * runs_done to first_run + n and flush again. sub_years may be NULL when
 * not stored. */
int pds_h5out_write_runs(pds_h5out *h, uint64_t first_run, size_t n, const int16_t *unit_years,
                         const int16_t *sub_years, const double *coefs);
/* Write the summaries, mark complete, close and rename to the final path.
 * On failure -1: the temporary file is removed, or kept when it was
 * resumed (as pds_h5out_fail). */
int pds_h5out_finish(pds_h5out *h, const pds_summary *s, pds_diag *diag);
/* Close and remove the temporary file. NULL is a no-op. */
void pds_h5out_abort(pds_h5out *h);
/* After a failed write: close the file; one reopened by pds_h5out_resume is
 * kept with the runs committed in it (a note in diag says so; returns 1),
 * a new one is removed (returns 0). NULL is a no-op. */
int pds_h5out_fail(pds_h5out *h, pds_diag *diag);
/* Remove path.partial when it is empty (left by a create that failed on a
 * full disk): 1 when removed. Under path's lock. */
int pds_h5out_remove_empty_partial(const char *path);

/* Quantile levels of /summary/national_adopted. */
extern const double pds_national_quantiles[];
extern const size_t pds_n_national_quantiles;

#endif
