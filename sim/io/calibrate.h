/* pdsim calibrate: ABC-SMC calibration of model coefficients (and the other
 * sweep parameters) against summary statistics of simulated histories. A
 * calibration file names a run config (the hindcast: dataset, models,
 * years, scenario), the parameters with their priors, the targets
 * (statistic, observed value, scale) and the sampler's settings. Each
 * generation is saved in the output folder (gen-TTTT.csv, written to a
 * temporary name and renamed), so that a rerun continues after the last
 * finished generation with the same result. Layout and method in
 * docs/calibrate.md. */
#ifndef PDS_CALIBRATE_H
#define PDS_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/abc.h"
#include "../core/diag.h"
#include "sweep.h"
#include "yamldoc.h"

extern const pds_key pds_calib_keys[];
extern const size_t pds_n_calib_keys;
extern const char *const pds_calib_stat_names[];

typedef enum pds_calib_stat {
    PDS_STAT_UNITS_ADOPTED = 0,   /* units adopted by the end of year */
    PDS_STAT_SUBUNITS_ADOPTED,    /* sub-units adopted by the end of year */
    PDS_STAT_SHARE_MEAN,          /* mean % of a unit's sub-units adopted by t-1 over the
                                   * unit-years (u, t), t in from..to, u at risk in t */
    PDS_STAT_SHARE_SD,            /* their standard deviation (divisor n - 1) */
    PDS_STAT_SHARE_RATIO          /* share of sub-units adopted by year under adopted units
                                   * / that under the other units */
} pds_calib_stat;

typedef struct pds_calib_target {
    int stat;         /* pds_calib_stat */
    long year;        /* adopted counts, ratio */
    long from, to;    /* share mean, sd */
    double observed;  /* the data's value */
    double scale;     /* distance unit: deviations are divided by it (> 0) */
    long line;        /* in the calibration file */
    char label[64];   /* e.g. "subunits_adopted_2023" */
} pds_calib_target;

typedef struct pds_calib {
    char *path, *text, *name;
    char *config;       /* run config as written */
    char *output;       /* folder as written; NULL = default */
    char *out_dir;      /* resolved: default output/<name>.calibrate */
    uint64_t particles; /* population size N */
    uint64_t generations;
    uint64_t seed;
    uint64_t max_proposals; /* per generation */
    double quantile;        /* tolerance = this weighted quantile of the last distances */
    double min_acceptance;  /* stop after a generation accepting fewer */
    long threads;
    size_t n_params;
    pds_abc_prior *prior; /* [n_params] */
    size_t n_targets;
    pds_calib_target *targets;
    pds_sweep *sw;      /* the run setup and the parameters (names, targets in the setup) */
    char hash[17];      /* what determines the result */
} pds_calib;

/* Load and validate (every problem to diag, file:line:col). NULL on error. */
pds_calib *pds_calib_load(const char *path, pds_diag *diag);
void pds_calib_free(pds_calib *c);

/* One finished generation. */
typedef struct pds_calib_gen {
    size_t n;            /* particles */
    double *theta;       /* [n x P] */
    double *weight;      /* [n] normalised */
    double *dist;        /* [n] */
    double *stats;       /* [n x n_targets] the statistics of the accepted history */
    double tolerance;    /* INFINITY in generation 0 */
    uint64_t proposals;  /* proposed, including those outside the prior */
    uint64_t simulated;  /* proposals simulated */
    double ess;          /* effective sample size of the weights */
} pds_calib_gen;

void pds_calib_gen_free(pds_calib_gen *g);

/* The statistics of one simulated history into out[n_targets]. */
void pds_calib_statistics(const pds_calib *c, const int16_t *unit_year, const int16_t *sub_year,
                          double *out);
/* Distance of statistics s[n_targets] from the observed values:
 * sqrt(sum ((s - observed) / scale)^2); INFINITY when one is undefined. */
double pds_calib_distance(const pds_calib *c, const double *s);

/* Simulate one history at each of n parameter vectors theta[n x P], the
 * history of proposal first + i using pds_abc_sim_seed(seed, generation,
 * first + i); statistics into stats[n x n_targets]. Results do not depend
 * on threads. */
pds_status pds_calib_simulate(pds_calib *c, uint64_t generation, uint64_t first, size_t n,
                              const double *theta, int threads, double *stats, pds_diag *diag);

typedef void (*pds_calib_progress)(void *ctx, size_t generation, const pds_calib_gen *g,
                                   int resumed);

/* Run (or continue) the calibration: generations already in the output
 * folder are read back, the next ones computed and saved. *gens receives
 * every generation (owned; free each with pds_calib_gen_free and the
 * array with free). stop: checked between batches. */
pds_status pds_calib_run(pds_calib *c, int threads, volatile int *stop,
                         pds_calib_progress progress, void *ctx, pds_calib_gen **gens,
                         size_t *n_gens, pds_diag *diag);

/* The split of a calibration into tasks (docs/calibrate.md, "Tasks"):
 * proposal k of a generation belongs to task k mod tasks, and its random
 * numbers are those of proposal k in one process. A plan file
 * (DIR/gen-TTTT.plan) says how far the tasks go: every proposal below its
 * target; each task saves its accepted proposals in its part file
 * (DIR/gen-TTTT.part-IIII-of-NNNN.csv), checkpointed after each batch. A
 * step combines the parts: when the proposals below the least covered
 * index hold N accepted ones, the first N are the generation of a run in
 * one process, which it saves (and plans the next generation); otherwise it
 * plans a further round with a higher target. */
typedef struct pds_calib_split {
    int finished;       /* the calibration is finished: no generation left */
    size_t generation;  /* the generation in progress (or the number finished) */
    size_t round;       /* its round: 0 the first plan */
    uint64_t target;    /* the tasks make their proposals below this index */
    uint64_t covered;   /* task: its proposals below this are made; step: the least of the tasks' */
    size_t accepted;    /* task: accepted in its part; step: accepted below covered (at most N) */
    size_t missing;     /* step: tasks without a part file */
    uint64_t resumed;   /* task: its part's covered index when it started (0: a new part) */
} pds_calib_split;

/* Make task's share (0 <= task < tasks) of the current generation's plan
 * (the first round's target when there is no plan yet), resuming its part
 * file. stop: checked between batches (then PDS_ERR_RUNTIME, the part
 * kept). */
pds_status pds_calib_task(pds_calib *c, size_t task, size_t tasks, int threads,
                          volatile int *stop, pds_calib_split *out, pds_diag *diag);

/* Combine the parts of the current generation: finish it when they hold
 * enough, else plan a further round. *gens receives the finished
 * generations as in pds_calib_run; out->finished when none is left. */
pds_status pds_calib_step(pds_calib *c, size_t tasks, pds_calib_progress progress, void *ctx,
                          pds_calib_gen **gens, size_t *n_gens, pds_calib_split *out,
                          pds_diag *diag);

/* Write the posterior (the last generation) as CSV: particle, the
 * parameters, weight. And generations.csv: one row per generation. */
pds_status pds_calib_write_posterior(const pds_calib *c, const pds_calib_gen *g, const char *path,
                                     pds_diag *diag);
pds_status pds_calib_write_generations(const pds_calib *c, const pds_calib_gen *gens,
                                       size_t n_gens, const char *path, pds_diag *diag);

/* Write a model file: the calibrated model (every parameter must be a
 * coefficient of the same model, unit or sub-unit) with the posterior mean
 * as coef, the weighted sd as se and, when every coefficient of the model
 * is calibrated, the weighted covariance. */
pds_status pds_calib_write_model(const pds_calib *c, const pds_calib_gen *g, const char *path,
                                 pds_diag *diag);

#endif
