/* Person-period (unit-year) tables for discrete-time event-history fitting.
 * A unit is at risk from first_year until it adopts; the years after its
 * adoption are dropped, and units that adopted before first_year are not at
 * risk at all. Regressors are those of a model spec: panel variables at
 * t - lag (optionally logged) and dynamic variables from the observed history
 * at the end of t - 1, computed with the definitions the engine uses. */
#ifndef PDS_PP_H
#define PDS_PP_H

#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "world.h"

typedef struct pds_pp_table {
    size_t n;     /* rows */
    size_t p;     /* columns: the intercept first, then the spec's terms */
    double *X;    /* [n x p] row-major */
    double *y;    /* [n] 1 when the unit adopted in that year */
    size_t *unit; /* [n] unit index (also the cluster id) */
    int *year;    /* [n] outcome year */
    size_t n_units_at_risk;
    size_t n_left_censored; /* units adopted before first_year, not at risk */
    int first_year, last_year;
    /* [p] the spec's fixed terms (held by the fit at their coef: an offset
     * is one held at 1); NULL when the spec has none */
    unsigned char *held;
    double *held_value;
    size_t n_held;
} pds_pp_table;

/* Default first year: the panel's first year + lag when the spec has panel
 * terms, else the earliest year with any data (documents, adoptions). */
int pds_pp_default_first_year(const pds_world *w, const pds_model *spec);

pds_status pds_pp_build(const pds_world *w, const pds_model *spec, int first_year, int last_year,
                        pds_diag *diag, pds_pp_table **out);
void pds_pp_free(pds_pp_table *t);

/* Fitted hazard of every row (p[n]) under model m, the spec the table was
 * built from, with its intercept shifted by delta. */
void pds_pp_hazards(const pds_pp_table *t, const pds_model *m, double delta, double *p);

/* The intercept shift delta that makes the sum of fitted hazards over the
 * table's rows equal its number of events (in-sample calibration in the
 * mean). PDS_ERR_INPUT when the table has no rows, no events or only
 * events; PDS_ERR_RUNTIME when out of memory. */
pds_status pds_pp_intercept_shift(const pds_pp_table *t, const pds_model *m, double *delta,
                                  pds_diag *diag);

/* Share (0-100) of unit u's sub-units adopted by the end of year y in the
 * observed history: dated sub-units, or a known count when larger. */
double pds_pp_subunits_pct(const pds_world *w, size_t u, int y);

/* Default last year when none is given (no run config, no --last-year): the
 * panel's last year when the dataset has a panel, else the latest observed
 * adoption year (with the default first year, the window in which adoptions
 * are observed). 0 when the data have no adoption at all. */
int pds_pp_default_last_year(const pds_world *w, const pds_model *spec);

/* Replace every factor term (factor: true) by one level term per level of
 * its panel variable or unit attribute but the reference, named
 * NAME[LEVEL], in sorted level order (text, or numbers by value).
 * PDS_ERR_INPUT with a message when the column is absent, a unit's cell is
 * blank, the reference level does not occur or there is only one level. */
pds_status pds_model_expand_factors(pds_model *m, const pds_world *w, pds_diag *diag);

#endif
