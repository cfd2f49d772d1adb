/* The in-sample check of a forecast's unit model(s): over the observed
 * unit-years at risk, the observed adoptions against the sum of the fitted
 * hazards (expected), per period and in total, with the sd the count would
 * have if the model were right (sqrt of the sum of p (1 - p)). A forecast
 * whose model does not reproduce its own past is flagged: |z| > 2 in any
 * period. With several models (structural uncertainty) the hazard of a row
 * is their weighted mean, the forecast's own hazard for that row. */
#ifndef PDS_INSAMPLE_H
#define PDS_INSAMPLE_H

#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "world.h"

#define PDS_INSAMPLE_PERIODS 3 /* consecutive periods of near-equal length */

typedef struct pds_insample_period {
    int first, last;  /* outcome years */
    size_t at_risk;   /* unit-years */
    double observed;  /* adoptions */
    double expected;  /* sum of fitted hazards */
    double sd;        /* sqrt(sum p (1 - p)) */
    double z;         /* (observed - expected) / sd; NaN when sd = 0 */
} pds_insample_period;

typedef struct pds_insample {
    size_t n_periods;                                    /* <= PDS_INSAMPLE_PERIODS */
    pds_insample_period period[PDS_INSAMPLE_PERIODS + 1]; /* then the total */
    int worst_abs_z_over_2;                              /* any period with |z| > 2 */
} pds_insample;

/* Split first..last into n consecutive periods of near-equal length, the
 * earlier ones one year longer when it does not divide evenly (2014-2023:
 * 2014-17, 2018-20, 2021-23). Returns the number of periods (<= n). */
size_t pds_insample_periods(int first, int last, size_t n, int (*out)[2]);

/* The check over the outcome years from the latest default first year of
 * the models (pds_pp_default_first_year) to last_year, for K models with
 * weights (summing to 1). Problems go to diag. */
pds_status pds_insample_check(const pds_world *w, const pds_model *const *models,
                              const double *weights, size_t K, int last_year, pds_insample *out,
                              pds_diag *diag);

#endif
