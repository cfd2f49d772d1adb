/* The HDF5 result file (see docs/output-format.md). Written under a
 * temporary name, streamed in chunks of runs, marked complete and renamed
 * only when everything is written. */
#ifndef PDS_H5OUT_H
#define PDS_H5OUT_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/summary.h"
#include "../core/world.h"

#define PDS_FORMAT_VERSION 1

typedef struct pds_h5meta {
    const char *config_path;
    const char *config_text;
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
    const char *uncertainty;              /* "none" or "coefficients" */
    const char *uncertainty_warning;      /* NULL or why the draws are approximate */
    const char *scenario_name;            /* "" when no scenario */
    const pds_world *w;
} pds_h5meta;

typedef struct pds_h5out pds_h5out;

/* Create path's temporary sibling and write the metadata. NULL on failure
 * (message in diag). */
pds_h5out *pds_h5out_create(const char *path, const pds_h5meta *meta, pds_diag *diag);
/* Write rows [first_run, first_run + n). sub_years may be NULL when not stored. */
int pds_h5out_write_runs(pds_h5out *h, uint64_t first_run, size_t n, const int16_t *unit_years,
                         const int16_t *sub_years, const double *coefs);
/* Write the summaries, mark complete, close and rename to the final path.
 * On failure the temporary file is removed and -1 returned. */
int pds_h5out_finish(pds_h5out *h, const pds_summary *s, pds_diag *diag);
/* Close and remove the temporary file. NULL is a no-op. */
void pds_h5out_abort(pds_h5out *h);

/* Quantile levels of /summary/national_adopted. */
extern const double pds_national_quantiles[];
extern const size_t pds_n_national_quantiles;

#endif
