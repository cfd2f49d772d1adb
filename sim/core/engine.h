/* The simulation engine: binds a world to a unit model and an optional
 * sub-unit model, then runs Monte Carlo runs.
 *
 * Each simulated year t = base_year+1 .. horizon, every agent that has not
 * adopted adopts with its hazard, computed from the state at the end of
 * year t-1 (synchronous update). A run's random numbers depend only on
 * (seed, run index): one uniform per unit and one per sub-unit per year, in
 * index order, each at a fixed position of the run's stream whether or not
 * the agent has adopted (the loop jumps over the positions of adopted
 * agents), so that two configurations with the same seed share their random
 * numbers (common random numbers). See docs/engine.md. */
#ifndef PDS_ENGINE_H
#define PDS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "summary.h"
#include "world.h"

typedef enum pds_proj_rule { PDS_PROJ_HOLD = 0, PDS_PROJ_TREND = 1 } pds_proj_rule;

/* How a panel variable continues past its last observed year. */
typedef struct pds_projection {
    const char *variable; /* panel variable; NULL for the default rule */
    pds_proj_rule rule;
    int years;            /* trend: fit over the last `years` observed years (>= 2) */
    double min, max;      /* trend: clamp; NaN = the range observed in the panel */
} pds_projection;

/* A unit made to adopt in a given year (scenario), whatever its hazard. */
typedef struct pds_forced {
    size_t unit;
    int year;
} pds_forced;

/* A change to a panel covariate (scenario): in covariate years from..to, for
 * one unit or all, the value is set or shifted, after projection. */
typedef struct pds_shock {
    long unit;            /* unit index, -1 = every unit */
    const char *variable; /* panel variable (borrowed) */
    int from, to;         /* covariate years, inclusive */
    int add;              /* 1: value += amount; 0: value = amount */
    double amount;
} pds_shock;

typedef struct pds_sim_options {
    int base_year;                /* last year of observed history */
    int horizon;                  /* last simulated year */
    pds_projection default_proj;  /* rule for variables without their own */
    const pds_projection *proj;   /* per-variable rules (borrowed) */
    size_t n_proj;
    const char *panel_file;       /* for error messages only; may be NULL */
    const pds_forced *forced;     /* forced adoptions (borrowed) */
    size_t n_forced;
    const pds_shock *shocks;      /* covariate paths and shocks (borrowed) */
    size_t n_shocks;
    unsigned channels_off;        /* bit (1 << pds_term_kind) set: terms of that kind count 0 */
    int draw_coefficients;        /* each run draws the unit model's coefficients from
                                   * N(estimate, covariance), or independent normals from
                                   * the standard errors when there is no covariance */
    int posterior_draws;          /* instead: each run takes one of the unit model's posterior
                                   * draws (unit_model->post_draws), the row
                                   * pds_posterior_draw_of_run(seed, run, n) */
    int draw_subunit_coefficients; /* each run also draws the sub-unit model's coefficients,
                                   * from its own stream, in the same way */
    int reference_draws;          /* 1: the plain loop that draws for every agent in turn,
                                   * adopted or not (for tests: results are identical) */
} pds_sim_options;

/* Sub-units adopted by the base year whose adoption year is not known carry
 * this year in the output. */
#define PDS_YEAR_UNKNOWN ((int16_t)-1)

typedef struct pds_sim pds_sim;

/* Prepare a simulation. The world and models are borrowed and must outlive
 * it. Every problem found is added to diag; returns PDS_ERR_INPUT then. */
pds_status pds_sim_create(const pds_world *w, const pds_model *unit_model,
                          const pds_model *sub_model, const pds_sim_options *opt,
                          pds_diag *diag, pds_sim **out);
void pds_sim_free(pds_sim *s);

int pds_sim_first_year(const pds_sim *s); /* base_year + 1 */
size_t pds_sim_n_years(const pds_sim *s);
const pds_world *pds_sim_world(const pds_sim *s);

/* Linear predictor of unit u in simulated year index k without the
 * neighbour and sub-unit terms (for tests and reports). */
double pds_sim_static_eta(const pds_sim *s, size_t unit, size_t k);

/* Coefficients per run (intercept first) when they are drawn, else 0. */
size_t pds_sim_n_coefficients(const pds_sim *s);

/* Sub-unit model coefficients per run (intercept first) when they are
 * drawn, else 0. */
size_t pds_sim_n_subunit_coefficients(const pds_sim *s);

/* The sub-unit model's coefficients of run r (a function of (seed, run)
 * alone, from the stream PDS_RNG_SUBUNIT_COEFFICIENTS): out[n_subunit
 * coefficients]. Switched-off channels are not zeroed here. */
void pds_sim_subunit_coefficients(const pds_sim *s, uint64_t seed, uint64_t run, double *out);

/* Per-run working memory: owned, free with free(). NULL when out of memory. */
void *pds_sim_scratch_create(const pds_sim *s);

/* One run. unit_year[n_units] and sub_year[n_subunits] receive adoption
 * years: the observed year for agents adopted by the base year (or
 * PDS_YEAR_UNKNOWN), the simulated year, or 0 when not adopted by the horizon. */
void pds_sim_run_one(const pds_sim *s, uint64_t seed, uint64_t run, void *scratch,
                     int16_t *unit_year, int16_t *sub_year, double *coefs);

/* Called after each chunk of runs, in run order, from one thread at a time.
 * Return nonzero to stop. sub_years is NULL unless keep_subunits; coefs
 * ([n_runs x pds_sim_n_coefficients]) is NULL unless coefficients are drawn. */
typedef int (*pds_chunk_sink)(void *ctx, uint64_t first_run, size_t n_runs,
                              const int16_t *unit_years, const int16_t *sub_years,
                              const double *coefs);
typedef void (*pds_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct pds_run_options {
    uint64_t seed;
    uint64_t n_runs;
    uint64_t first_run;        /* resuming: runs [first_run, n_runs) only */
    size_t chunk_runs;         /* runs per chunk (memory is O(chunk_runs)); 0 = by bytes
                                * (pds_sim_chunk_runs) */
    int threads;               /* 0 = OpenMP default */
    int keep_subunits;         /* pass sub-unit years to the sink */
    pds_chunk_sink sink;       /* may be NULL */
    void *sink_ctx;
    pds_progress_fn progress;  /* may be NULL */
    void *progress_ctx;
    volatile int *stop;        /* checked between chunks; may be NULL */
    /* structural uncertainty: NULL, or n_alternatives prepared sims of the
     * same world and years (the sim passed to pds_engine_run among them);
     * run r uses alternatives[pds_model_of_run(seed, r, cum_weights, n)] */
    const pds_sim *const *alternatives;
    const double *cum_weights; /* [n_alternatives] cumulative, the last 1 */
    size_t n_alternatives;
} pds_run_options;

/* The model run r uses, from the run's own stream (PDS_RNG_MODEL): the first
 * k with u < cum_weights[k], u its first uniform; 0 when n <= 1. A function
 * of (seed, run) alone, so a scenario run with the same seed uses the same
 * model in every run. */
size_t pds_model_of_run(uint64_t seed, uint64_t run, const double *cum_weights, size_t n);

/* The posterior draw run r uses under posterior_draws: floor(u n_draws), u
 * the first uniform (u32 / 2^32) of the run's coefficient stream
 * (PDS_RNG_COEFFICIENTS). A function of (seed, run) alone: a scenario run
 * with the same seed uses the same draw in every run. */
size_t pds_posterior_draw_of_run(uint64_t seed, uint64_t run, size_t n_draws);

/* Runs per chunk: `requested` when nonzero, else as many as fill
 * PDS_CHUNK_BYTES of stored results (unit years, sub-unit years when kept,
 * coefficients), between 1 and PDS_CHUNK_MAX_RUNS. Memory is then bounded by
 * the bytes, whatever the number of units and sub-units. */
#define PDS_CHUNK_BYTES ((size_t)4 << 20)
#define PDS_CHUNK_MAX_RUNS 4096
size_t pds_sim_chunk_runs(const pds_sim *s, size_t requested, int keep_subunits);

/* Run all runs in chunks, OpenMP over the runs of a chunk; results do not
 * depend on the number of threads. Accumulates into summary (created by the
 * caller with pds_summary_create for this sim). */
pds_status pds_engine_run(const pds_sim *s, const pds_run_options *opt, pds_summary *summary);

#endif
