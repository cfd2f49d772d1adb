/* Parameter sweeps: a sweep file names a run config, the parameters that
 * vary (model and sub-unit model coefficients, projection settings,
 * scenario document counts and weights) with their ranges or levels, a
 * design (full grid, Latin hypercube, or Sobol/Saltelli) and the runs per
 * point. The design is generated deterministically from the file. Each
 * point's parameter values are applied to an in-memory copy of the loaded
 * run setup, and its runs depend only on (seed, point, run). */
#ifndef PDS_SWEEP_H
#define PDS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/engine.h"
#include "setup.h"
#include "yamldoc.h"

typedef enum pds_design_kind {
    PDS_DESIGN_GRID = 0,
    PDS_DESIGN_LHS = 1,
    PDS_DESIGN_SOBOL = 2
} pds_design_kind;

extern const char *const pds_design_names[];
extern const pds_key pds_sweep_keys[];
extern const size_t pds_n_sweep_keys;

/* Where a swept value goes in the setup. */
typedef enum pds_sweep_target {
    PDS_SWEEP_MODEL = 0,  /* unit model coefficient; index = term, or -1 for the intercept */
    PDS_SWEEP_SUBMODEL,   /* sub-unit model coefficient, same indexing */
    PDS_SWEEP_PROJECTION, /* projection setting; index = rule, -1 = the default rule */
    PDS_SWEEP_DOCUMENT    /* scenario document entry; index = entry */
} pds_sweep_target;

typedef struct pds_sweep_param {
    char *name;          /* owned: e.g. "model.central_documents" */
    long line, col;      /* of its entry in the sweep file */
    double lower, upper; /* range (grid: lowest and highest level) */
    double *levels;      /* owned: the values a parameter takes (levels, range with steps,
                          * the integers of an integer range); NULL for a continuous range */
    size_t n_levels;
    int integer;   /* values are rounded to integers (projection years) */
    int int_range; /* levels are the integers of its range */
    pds_sweep_target target;
    long index;
    int field; /* projection: 0 years, 1 min, 2 max; document: 0 count, 1 weight */
} pds_sweep_param;


typedef struct pds_sweep {
    char *path;        /* the sweep file, as given */
    char *text;        /* its text, stored in the output */
    char *name;        /* file name without folder and .yaml */
    char *config;      /* run config as written */
    char *output;      /* parts folder as written; NULL = default */
    char *merged;      /* merged file as written; NULL = default */
    char *parts_dir;   /* resolved: default output/<name>.parts */
    char *merged_path; /* resolved: default output/<name>.h5 */
    int design;        /* pds_design_kind */
    uint64_t points;   /* lhs: points; sobol: base samples N */
    uint64_t runs_per_point;
    uint64_t seed;
    int common_numbers; /* 1: every point uses seed (common random numbers);
                         * 0: point p uses pds_design_point_seed(seed, p) */
    long threads;       /* 0 = all cores */
    long chunk_runs;
    long bootstrap; /* sobol: bootstrap resamples */
    int unscrambled; /* sobol: 0 = Owen-scrambled points (default), 1 = the plain sequence */
    uint64_t skip;   /* sobol, unscrambled: points skipped; 0 = smallest power of 2 >= N */
    long tasks;     /* the split into part files; 0 = not fixed by the file */
    size_t n_params;
    pds_sweep_param *params; /* owned */
    size_t n_outputs;        /* sobol: outputs analysed */
    char **outputs;          /* owned names */
    long *output_lines;      /* owned: line of each in the sweep file */
    size_t n_points;
    double *values;          /* owned: [n_points x n_params] parameter values */
    double *unit_points;     /* owned: [n_points x n_params] on [0, 1) (lhs, sobol) */
    char hash[17];           /* hex: design + run config + model files */
    pds_setup setup;         /* the loaded run setup, changed point by point */
    size_t n_base_documents; /* world documents before the scenario's */
    double base_intercept;   /* the unit model's intercept before recalibration */
} pds_sweep;

/* Load, validate (every problem to diag, with file:line:col) and generate
 * the design. NULL on error. */
pds_sweep *pds_sweep_load(const char *path, pds_diag *diag);
void pds_sweep_free(pds_sweep *sw);

/* Resolve parameter q's name (the syntax of `parameters`) against the loaded
 * sw->setup: its target, index and field. 0, or -1 with a message at
 * sw->path and q's line. For callers that fill a pds_sweep themselves (a
 * calibration: sw->path, setup, params, n_base_documents, base_intercept),
 * then set values and n_points and use pds_sweep_prepare_point. */
int pds_sweep_resolve_param(pds_sweep *sw, pds_sweep_param *q, pds_diag *diag);

/* The seed of a point's runs. */
uint64_t pds_sweep_point_seed(const pds_sweep *sw, size_t point);

/* Per-point summaries, for n points. */
typedef struct pds_sweep_stats {
    size_t n, n_years, n_units;
    double *mean;   /* [n x Y] mean national adopters by the end of each year */
    double *quant;  /* [n x Q x Y] their quantiles at pds_national_quantiles */
    double *p_all;  /* [n] P(every unit adopted by the last year) */
    double *median; /* [n x U] median adoption year; last year + 1 when later */
} pds_sweep_stats;

int pds_sweep_stats_init(pds_sweep_stats *st, size_t n, size_t n_years, size_t n_units);
void pds_sweep_stats_free(pds_sweep_stats *st);

/* Apply point `point`'s values to the setup, run its runs and put its
 * summaries in row `row` of st. stop as in pds_run_options. */
pds_status pds_sweep_run_point(pds_sweep *sw, size_t point, int threads, volatile int *stop,
                               pds_sweep_stats *st, size_t row, pds_diag *diag);

/* The same in two steps: apply the point's values and build its
 * simulation(s) — one per unit model of the config — into *out (owned by
 * the caller, freed with pds_sweep_sims_free; it does not change with later
 * points), then run it. Points prepared one at a time can run at the same
 * time. */
typedef struct pds_sweep_sims pds_sweep_sims;
void pds_sweep_sims_free(pds_sweep_sims *p);
/* The simulation of the first (or only) unit model. */
const pds_sim *pds_sweep_sims_first(const pds_sweep_sims *p);
pds_status pds_sweep_prepare_point(pds_sweep *sw, size_t point, pds_sweep_sims **out,
                                   pds_diag *diag);
pds_status pds_sweep_run_prepared(const pds_sweep *sw, const pds_sweep_sims *p, size_t point,
                                  int threads, volatile int *stop, pds_sweep_stats *st,
                                  size_t row);

/* An output for Sobol analysis: national_adopted_YEAR (mean national
 * adopters by the end of YEAR), p_all_adopted, or median_year_CODE (unit
 * CODE's median adoption year). Its value at point `point` of st into *out.
 * 0, or -1 when the name is none of these. */
int pds_sweep_output_value(const char *name, int first_year, char *const *codes,
                           const pds_sweep_stats *st, size_t point, double *out);

/* Points [*first, *end) of task `task` of `tasks`: contiguous blocks. */
void pds_sweep_task_points(size_t n_points, size_t task, size_t tasks, size_t *first, size_t *end);

/* The hashes a sweep and a calibration fingerprint their inputs with
 * (pds_design_hash): a string with its terminating NUL ("" for NULL), and a
 * YAML file's text (a model or config; loading keeps the text). */
uint64_t pds_hash_text(uint64_t h, const char *s);
uint64_t pds_hash_yaml_file(uint64_t h, const char *path);

#endif
