#include "setup.h"

#include <stdlib.h>
#include <string.h>

#include "../core/pp.h"
#include "dataset.h"
#include "model_io.h"

void pds_setup_free(pds_setup *s)
{
    if (!s)
        return;
    for (size_t k = 1; k < s->n_models; k++) {
        if (s->sims)
            pds_sim_free(s->sims[k]);
        if (s->models)
            pds_model_free(s->models[k]);
    }
    free(s->sims);
    free(s->models);
    free(s->intercept_shifts);
    pds_sim_free(s->sim);
    pds_model_free(s->sub_model);
    pds_model_free(s->unit_model);
    pds_world_free(s->world);
    pds_run_config_free(s->cfg);
    memset(s, 0, sizeof *s);
}

/* Shift the unit model's intercept so that the expected number of adoptions
 * over the observed history (the default first year at risk to base_year)
 * equals the observed number: calibration in the mean, for a published model
 * applied to data it was not estimated on. */
static pds_status recalibrate_one(pds_setup *s, pds_model *m, double *shift, pds_diag *diag)
{
    const pds_world *w = s->world;
    pds_pp_table *t = NULL;
    int first = pds_pp_default_first_year(w, m);
    pds_status st = pds_pp_build(w, m, first, (int)s->cfg->base_year, diag, &t);
    if (st == PDS_OK)
        st = pds_pp_intercept_shift(t, m, shift, diag);
    if (st == PDS_OK)
        m->intercept += *shift;
    else
        pds_diag_add(diag, s->cfg->path, 0, 0, "intercept_recalibration: in-sample failed (above)");
    pds_pp_free(t);
    return st;
}

pds_status pds_setup_recalibrate(pds_setup *s, pds_diag *diag)
{
    pds_status st = recalibrate_one(s, s->unit_model, &s->intercept_shift, diag);
    if (s->intercept_shifts)
        s->intercept_shifts[0] = s->intercept_shift;
    for (size_t k = 1; st == PDS_OK && k < s->n_models; k++)
        st = recalibrate_one(s, s->models[k], &s->intercept_shifts[k], diag);
    return st;
}

pds_status pds_setup_load(const char *config_path, pds_setup *out, pds_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->cfg = pds_run_config_load(config_path, diag);
    if (!out->cfg)
        return PDS_ERR_INPUT;
    const pds_run_config *c = out->cfg;
    pds_dataset_options dopt = {.sea_links = c->sea_links,
                                .neighbour_weights = c->neighbour_weights_path};
    /* load all three before giving up, so that one pass reports every error */
    out->world = pds_dataset_load(c->dataset_path, &dopt, diag);
    out->unit_model = pds_model_load(c->model_path, diag);
    out->n_models = c->n_models ? c->n_models : 1;
    out->models = calloc(out->n_models, sizeof *out->models);
    out->sims = calloc(out->n_models, sizeof *out->sims);
    out->intercept_shifts = calloc(out->n_models, sizeof *out->intercept_shifts);
    if (!out->models || !out->sims || !out->intercept_shifts) {
        pds_setup_free(out);
        return PDS_ERR_RUNTIME;
    }
    out->models[0] = out->unit_model;
    int bad_model = !out->unit_model;
    for (size_t k = 1; k < out->n_models; k++)
        bad_model |= !(out->models[k] = pds_model_load(c->models_path[k], diag));
    if (c->subunit_model_path)
        out->sub_model = pds_model_load(c->subunit_model_path, diag);
    if (!out->world || bad_model || (c->subunit_model_path && !out->sub_model)) {
        pds_setup_free(out);
        return PDS_ERR_INPUT;
    }
    if (out->sub_model && out->world->n_subunits == 0) {
        pds_diag_add(diag, c->path, 0, 0,
                     "subunit_model is set but the dataset %s has no subunits.csv", c->dataset_path);
        pds_setup_free(out);
        return PDS_ERR_INPUT;
    }
    if (c->intercept_recalibration && pds_setup_recalibrate(out, diag) != PDS_OK) {
        pds_setup_free(out);
        return PDS_ERR_INPUT;
    }
    int bad_proj = 0;
    for (size_t i = 0; i < c->n_proj; i++) {
        if (pds_world_var_index(out->world, c->proj[i].variable) < 0) {
            pds_diag_add(diag, c->path, 0, 0,
                         "projection.variables.%s: the dataset's panel.csv has no column '%s'",
                         c->proj[i].variable, c->proj[i].variable);
            bad_proj = 1;
        }
    }
    if (bad_proj) {
        pds_setup_free(out);
        return PDS_ERR_INPUT;
    }
    /* the scenario: extra documents join the timeline; forced adoptions and
     * switched-off channels go to the engine */
    const pds_run_scenario *sc = &c->scenario;
    if (sc->n_documents > 0) {
        pds_world *w = out->world;
        pds_document *d = realloc(w->documents, (w->n_documents + sc->n_documents) * sizeof *d);
        if (!d) {
            pds_setup_free(out);
            return PDS_ERR_RUNTIME;
        }
        memcpy(d + w->n_documents, sc->documents, sc->n_documents * sizeof *d);
        w->documents = d;
        w->n_documents += sc->n_documents;
    }
    pds_status st = pds_setup_build_sim(out, diag);
    if (st != PDS_OK)
        pds_setup_free(out);
    return st;
}

pds_status pds_setup_build_sim(pds_setup *out, pds_diag *diag)
{
    const pds_run_config *c = out->cfg;
    const pds_run_scenario *sc = &c->scenario;
    int bad = 0;
    pds_forced *forced = calloc(sc->n_forced + 1, sizeof *forced);
    if (!forced)
        return PDS_ERR_RUNTIME;
    for (size_t i = 0; i < sc->n_forced; i++) {
        long u = pds_world_unit_index(out->world, sc->forced[i].unit);
        if (u < 0) {
            pds_diag_add(diag, sc->forced[i].file ? sc->forced[i].file : c->path, sc->forced[i].line, 0,
                         "scenario.forced_adoption: unknown unit code \"%s\"", sc->forced[i].unit);
            bad = 1;
        } else {
            forced[i].unit = (size_t)u;
            forced[i].year = sc->forced[i].year;
        }
    }
    pds_shock *shocks = calloc(sc->n_shocks + 1, sizeof *shocks);
    if (!shocks) {
        free(forced);
        return PDS_ERR_RUNTIME;
    }
    for (size_t i = 0; i < sc->n_shocks; i++) {
        const pds_scenario_shock *q = &sc->shocks[i];
        long u = strcmp(q->unit, "*") == 0 ? -1 : pds_world_unit_index(out->world, q->unit);
        if (u < 0 && strcmp(q->unit, "*") != 0) {
            pds_diag_add(diag, q->file ? q->file : c->path, q->line, 0, "scenario.covariates: unknown unit code \"%s\"",
                         q->unit);
            bad = 1;
        }
        if (pds_world_var_index(out->world, q->variable) < 0) {
            pds_diag_add(diag, q->file ? q->file : c->path, q->line, 0,
                         "scenario.covariates: the dataset's panel.csv has no column '%s'",
                         q->variable);
            bad = 1;
        }
        shocks[i] = (pds_shock){.unit = u, .variable = q->variable, .from = q->from, .to = q->to,
                                .add = q->add, .amount = q->amount};
    }
    if (bad) {
        free(shocks);
        free(forced);
        return PDS_ERR_INPUT;
    }
    unsigned off = 0;
    if (!sc->documents_channel)
        off |= 1u << PDS_TERM_DOCUMENTS;
    if (!sc->neighbours_channel)
        off |= 1u << PDS_TERM_NEIGHBOURS_PCT;
    if (!sc->subunits_channel)
        off |= 1u << PDS_TERM_SUBUNITS_PCT | 1u << PDS_TERM_PARENT_ADOPTED |
               1u << PDS_TERM_SIBLINGS_PCT;
    char *panel = pds_dataset_file(c->dataset_path, PDS_DATASET_PANEL, diag);
    pds_sim_options so = {
        .base_year = (int)c->base_year,
        .horizon = (int)c->horizon,
        .default_proj = c->default_proj,
        .proj = c->proj,
        .n_proj = c->n_proj,
        .panel_file = panel,
        .forced = forced,
        .shocks = shocks,
        .n_shocks = sc->n_shocks,
        .n_forced = sc->n_forced,
        .channels_off = off,
        .draw_coefficients = c->uncertainty == 1,
        .posterior_draws = c->uncertainty == 2,
        .draw_subunit_coefficients = c->uncertainty != 0,
        /* for tests: the plain adoption loop, which must give identical results */
        .reference_draws = getenv("PDSIM_REFERENCE_DRAWS") != NULL &&
                           strcmp(getenv("PDSIM_REFERENCE_DRAWS"), "1") == 0,
    };
    pds_sim_free(out->sim);
    out->sim = NULL;
    pds_status st =
        pds_sim_create(out->world, out->unit_model, out->sub_model, &so, diag, &out->sim);
    if (out->sims)
        out->sims[0] = out->sim;
    for (size_t k = 1; st == PDS_OK && k < out->n_models; k++) {
        pds_sim_free(out->sims[k]);
        out->sims[k] = NULL;
        st = pds_sim_create(out->world, out->models[k], out->sub_model, &so, diag, &out->sims[k]);
    }
    free(panel);
    free(forced);
    free(shocks);
    return st;
}
