/* One backtest origin from a run config: the dataset loaded afresh and cut
 * at the cutoff, the config's unit model(s) refitted or recalibrated on the
 * history known then, the backtest run. Shared by `pdsim backtest` and by the
 * reliability note that `pdsim run` writes beside a forecast. */
#ifndef PDS_BACKTEST_SETUP_H
#define PDS_BACKTEST_SETUP_H

#include <stdint.h>

#include "../core/backtest.h"
#include "../core/compare_fc.h"
#include "config.h"

typedef struct pds_backtest_setup {
    const pds_run_config *cfg;
    size_t n_specs;                   /* the config's unit models: 1, or those of `models:` */
    const pds_model *const *specs;    /* [n_specs], as loaded (not recalibrated) */
    const pds_model *sub;             /* sub-unit model or NULL */
    const int *observed;              /* [units] adoption years in the full data */
    uint64_t seed, runs;
    int refit, firth;
    int threads;                      /* 0 = all cores */
    volatile int *stop;               /* may be NULL */
} pds_backtest_setup;

/* The config's unit models loaded from their files, unchanged: specs[k]
 * owned by the caller (free each with pds_model_free). Returns the number
 * loaded (cfg->n_models, or 1), 0 on error with the problems in diag. */
size_t pds_backtest_load_models(const pds_run_config *cfg, pds_model **specs, pds_diag *diag);

/* The backtest at one cutoff. fitted[k] receives the refitted or
 * recalibrated model k (owned; NULL when the spec was used as it is) and
 * shift[k] the recalibration shift (NaN when none); both arrays have
 * n_specs entries. */
pds_status pds_backtest_origin(const pds_backtest_setup *b, int cutoff, pds_diag *diag,
                               pds_backtest_result **out, pds_model **fitted, double *shift);

/* The first year with data of the full world: the first adoption or the
 * panel's first year, the earliest possible cutoff. */
int pds_backtest_data_first_year(const pds_world *w);





/* The backtest a run config asks for beside its forecast (`reliability:`):
 * its origins end two years before base_year (each forecast then has at
 * least two observed years), the first no earlier than the data allow; the
 * config's own seed, projection, models and uncertainty. PDS_ERR_INPUT with
 * a message when the config asks for none (backtest_origins: 0) or the data
 * leave no origin. */
pds_status pds_backtest_config_reliability(const pds_run_config *cfg, const pds_model *sub,
                                           int threads, volatile int *stop,
                                           pds_backtest_reliability *out, pds_diag *diag);

#endif
