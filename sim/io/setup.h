/* Everything a run needs, loaded from one run config: the config, the
 * dataset, the models and the prepared simulation. */
#ifndef PDS_SETUP_H
#define PDS_SETUP_H

#include "../core/diag.h"
#include "../core/engine.h"
#include "../core/model.h"
#include "../core/world.h"
#include "config.h"

typedef struct pds_setup {
    pds_run_config *cfg;
    pds_world *world;
    pds_model *unit_model;
    pds_model *sub_model; /* NULL when the config names none */
    pds_sim *sim;
    double intercept_shift; /* added to the unit model's intercept (intercept_recalibration) */
    /* every unit model of the config: one, or those of `models:`; models[0]
     * is unit_model and sims[0] is sim (owned through those two) */
    size_t n_models;
    pds_model **models;       /* owned array; entries from 1 on owned */
    pds_sim **sims;           /* owned array; entries from 1 on owned */
    double *intercept_shifts; /* [n_models] */
} pds_setup;

/* Load and validate everything; every problem found goes to diag.
 * On error all fields are NULL. Returns PDS_ERR_INPUT for bad input. */
pds_status pds_setup_load(const char *config_path, pds_setup *out, pds_diag *diag);
void pds_setup_free(pds_setup *s);

/* Shift the unit model's intercept so that the expected adoptions over the
 * observed history match the observed ones; adds the shift to the intercept
 * and stores it in intercept_shift (intercept_recalibration). */
pds_status pds_setup_recalibrate(pds_setup *s, pds_diag *diag);

/* (Re)build s->sim from the loaded config, world and models, after changes
 * to them (a sweep's design point). Problems go to diag. */
pds_status pds_setup_build_sim(pds_setup *s, pds_diag *diag);

#endif
