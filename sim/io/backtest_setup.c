#define _XOPEN_SOURCE 700
#include "backtest_setup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pp.h"
#include "dataset.h"
#include "model_io.h"

size_t pds_backtest_load_models(const pds_run_config *cfg, pds_model **specs, pds_diag *diag)
{
    size_t K = cfg->n_models > 1 ? cfg->n_models : 1;
    int bad = 0;
    for (size_t k = 0; k < K; k++) {
        specs[k] = pds_model_load(K > 1 ? cfg->models_path[k] : cfg->model_path, diag);
        bad |= !specs[k];
    }
    if (!bad)
        return K;
    for (size_t k = 0; k < K; k++) {
        pds_model_free(specs[k]);
        specs[k] = NULL;
    }
    return 0;
}

int pds_backtest_data_first_year(const pds_world *w)
{
    pds_model none = {.lag = 1}; /* no terms: the first adoption */
    int y = pds_pp_default_first_year(w, &none);
    if (w->panel && (!y || w->panel_first_year < y))
        y = w->panel_first_year;
    return y;
}

pds_status pds_backtest_origin(const pds_backtest_setup *b, int cutoff, pds_diag *diag,
                               pds_backtest_result **out, pds_model **fitted, double *shift)
{
    const pds_run_config *cfg = b->cfg;
    size_t K = b->n_specs;
    for (size_t k = 0; k < K; k++) {
        fitted[k] = NULL;
        shift[k] = NAN;
    }
    *out = NULL;
    pds_dataset_options dopt = {.sea_links = cfg->sea_links,
                                .neighbour_weights = cfg->neighbour_weights_path};
    pds_world *w = pds_dataset_load(cfg->dataset_path, &dopt, diag);
    char *panel = malloc(strlen(cfg->dataset_path) + sizeof "/panel.csv");
    const pds_model **m = calloc(K, sizeof *m);
    if (!w || !panel || !m) {
        pds_world_free(w);
        free(panel);
        free(m);
        return w ? PDS_ERR_RUNTIME : PDS_ERR_INPUT;
    }
    strcat(strcpy(panel, cfg->dataset_path), "/panel.csv");
    pds_backtest_truncate(w, cutoff);
    pds_status st = PDS_OK;
    for (size_t k = 0; k < K && st == PDS_OK; k++) {
        const pds_model *spec = b->specs[k];
        m[k] = spec;
        int first = pds_pp_default_first_year(w, spec);
        st = pds_backtest_check_window(w, first, cutoff, diag);
        if (st == PDS_OK && b->refit) {
            pds_fit_options fo = {.link = spec->link, .firth = b->firth};
            st = pds_backtest_refit(w, spec, first, cutoff, &fo, diag, &fitted[k]);
            if (st != PDS_OK)
                pds_diag_add(diag, spec->path, 0, 0,
                             "model '%s' could not be refitted on %d..%d (above)", spec->name,
                             first, cutoff);
            m[k] = fitted[k];
        } else if (st == PDS_OK && cfg->intercept_recalibration) {
            /* recalibrated on the history known at the cutoff, not on the years forecast */
            st = pds_backtest_recalibrate(w, spec, first, cutoff, diag, &fitted[k], &shift[k]);
            if (st != PDS_OK)
                pds_diag_add(diag, cfg->path, 0, 0,
                             "intercept_recalibration: in-sample failed on %d..%d (above)", first,
                             cutoff);
            m[k] = fitted[k];
        }
    }
    double cum[PDS_MAX_MODELS];
    double acc = 0;
    for (size_t k = 0; k < K; k++) {
        acc += K > 1 ? cfg->model_weights[k] : 1.0;
        cum[k] = k + 1 == K ? 1.0 : acc;
    }
    if (st == PDS_OK) {
        pds_backtest_options bo = {
            .cutoff = cutoff,
            .last_year = (int)cfg->base_year,
            .sim = {.default_proj = cfg->default_proj,
                    .proj = cfg->proj,
                    .n_proj = cfg->n_proj,
                    .panel_file = panel,
                    /* a refit has no posterior sample: its coefficients are drawn from
                     * its normal approximation instead */
                    .draw_coefficients = cfg->uncertainty == 1 ||
                                         (cfg->uncertainty == 2 && b->refit),
                    .posterior_draws = cfg->uncertainty == 2 && !b->refit,
                    .draw_subunit_coefficients = cfg->uncertainty != 0},
            .run = {.seed = b->seed,
                    .n_runs = b->runs,
                    .chunk_runs = (size_t)cfg->chunk_runs,
                    .threads = b->threads,
                    .stop = b->stop},
            .models = K > 1 ? m : NULL,
            .cum_weights = K > 1 ? cum : NULL,
            .n_models = K,
        };
        st = pds_backtest_run(w, b->observed, m[0], b->sub, &bo, diag, out);
    }
    free(m);
    free(panel);
    pds_world_free(w);
    return st;
}

static pds_status rolling(const pds_backtest_setup *b, size_t U, int first, int last,
                          pds_backtest_reliability *out, pds_diag *diag)
{
    memset(out, 0, sizeof *out);
    pds_fc_pool *pool = pds_fc_pool_create(PDS_REL_FC, U);
    pds_model **fitted = calloc(b->n_specs, sizeof *fitted);
    double *shift = calloc(b->n_specs, sizeof *shift);
    pds_status st = pool && fitted && shift ? PDS_OK : PDS_ERR_RUNTIME;
    for (int c = first; c <= last && st == PDS_OK; c++) {
        pds_backtest_result *r = NULL;
        st = pds_backtest_origin(b, c, diag, &r, fitted, shift);
        for (size_t k = 0; k < b->n_specs; k++) {
            pds_model_free(fitted[k]);
            fitted[k] = NULL;
        }
        if (st == PDS_OK) {
            const pds_backtest_result *rr[PDS_REL_FC] = {r, r, r, r};
            static const int which[PDS_REL_FC] = {PDS_BT_MODEL, PDS_BT_NO_CHANNELS,
                                                  PDS_BT_CONSTANT, PDS_BT_LOGISTIC};
            st = pds_fc_pool_add(pool, rr, which, diag);
        }
        pds_backtest_free(r);
    }
    if (st == PDS_OK) {
        out->first_cutoff = first;
        out->last_cutoff = last;
        out->runs = b->runs;
        out->refit = b->refit;
        out->unit_years = pool->n_uy;
        out->unit_origins = pool->n_rows;
        for (size_t k = 0; k < PDS_REL_FC; k++)
            for (int sc = 0; sc < PDS_SC_N; sc++) {
                pds_fc_diff d;
                out->diff[k][sc] = out->diff_se[k][sc] = 0.0;
                pds_fc_pool_diff(pool, k, k, sc, &d);
                out->score[k][sc] = d.mean_a;
                out->units = d.n_clusters;
                pds_fc_pool_diff(pool, 0, k, sc, &d);
                out->diff[k][sc] = k ? d.diff : 0.0;
                out->diff_se[k][sc] = k ? d.se : 0.0;
            }
        double obj;
        int it;
        if (pds_fc_stack(pool->uy_prob, pool->n_uy, PDS_REL_FC, out->stacking, &obj, &it) !=
            PDS_OK)
            for (size_t k = 0; k < PDS_REL_FC; k++)
                out->stacking[k] = NAN;
    }
    free(fitted);
    free(shift);
    pds_fc_pool_free(pool);
    return st;
}

pds_status pds_backtest_config_reliability(const pds_run_config *cfg, const pds_model *sub,
                                           int threads, volatile int *stop,
                                           pds_backtest_reliability *out, pds_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (cfg->reliability.origins <= 0) {
        pds_diag_add(diag, cfg->path, 0, 0, "reliability.backtest_origins is 0: no backtest");
        return PDS_ERR_INPUT;
    }
    pds_dataset_options dopt = {.sea_links = cfg->sea_links,
                                .neighbour_weights = cfg->neighbour_weights_path};
    pds_world *w = pds_dataset_load(cfg->dataset_path, &dopt, diag);
    if (!w)
        return PDS_ERR_INPUT;
    int *observed = calloc(w->n_units + 1, sizeof(int));
    pds_model *specs[PDS_MAX_MODELS] = {NULL};
    size_t K = observed ? pds_backtest_load_models(cfg, specs, diag) : 0;
    pds_status st = !observed ? PDS_ERR_RUNTIME : K ? PDS_OK : PDS_ERR_INPUT;
    int last = (int)cfg->base_year - 2;
    int first = last - (int)cfg->reliability.origins + 1;
    int data_first = pds_backtest_data_first_year(w);
    /* the fit window up to the first origin needs an adoption */
    int first_adoption = 0;
    for (size_t u = 0; u < w->n_units; u++) {
        int a = w->units[u].adoption_year;
        if (a && (!first_adoption || a < first_adoption))
            first_adoption = a;
    }
    if (first < data_first)
        first = data_first;
    if (first_adoption && first < first_adoption)
        first = first_adoption;
    if (st == PDS_OK && (first > last || !first_adoption)) {
        pds_diag_add(diag, cfg->path, 0, 0,
                     "no backtest origin: the data's history %d..%ld leaves no cutoff with an "
                     "adoption before it and two observed years after it",
                     data_first, cfg->base_year);
        st = PDS_ERR_INPUT;
    }
    if (st == PDS_OK) {
        for (size_t u = 0; u < w->n_units; u++)
            observed[u] = w->units[u].adoption_year;
        pds_backtest_setup b = {.cfg = cfg,
                                .n_specs = K,
                                .specs = (const pds_model *const *)specs,
                                .sub = sub,
                                .observed = observed,
                                .seed = cfg->seed,
                                .runs = cfg->reliability.runs,
                                .refit = cfg->reliability.refit,
                                .firth = cfg->reliability.refit, /* stable on the short early windows */
                                .threads = threads,
                                .stop = stop};
        st = rolling(&b, w->n_units, first, last, out, diag);
    }
    for (size_t k = 0; k < K; k++)
        pds_model_free(specs[k]);
    free(observed);
    pds_world_free(w);
    return st;
}
