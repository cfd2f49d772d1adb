#define _POSIX_C_SOURCE 200809L
#include "calibrate.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../core/design.h"
#include "../core/model.h"
#include "config.h"
#include "outfile.h"

const char *const pds_calib_stat_names[] = {"units_adopted",       "subunits_adopted",
                                            "subunit_share_mean",  "subunit_share_sd",
                                            "subunit_share_ratio", NULL};

/* ---- the calibration file ---------------------------------------------- */

static int parse_params(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_calib *c = target;
    if (n->type != YAML_MAPPING_NODE || n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "parameters: expected a mapping of NAME: {uniform: [lower, upper]} or "
                     "{normal: [mean, sd]}, at least one");
        return -1;
    }
    size_t k = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (k > PDS_ABC_MAX_PARAMS) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "parameters: at most %d, got %zu", PDS_ABC_MAX_PARAMS, k);
        return -1;
    }
    c->prior = calloc(k, sizeof *c->prior);
    c->sw->params = calloc(k, sizeof *c->sw->params);
    if (!c->prior || !c->sw->params)
        return -1;
    int bad = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = pds_yaml_node(y, p->key), *vn = pds_yaml_node(y, p->value);
        const char *name = pds_yaml_scalar(kn);
        if (!name || !*name) {
            pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                         "parameters: expected a parameter name");
            bad = 1;
            continue;
        }
        for (size_t i = 0; i < c->n_params; i++)
            if (strcmp(c->sw->params[i].name, name) == 0) {
                pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                             "parameters: '%s' appears twice", name);
                bad = 1;
            }
        int ok = vn->type == YAML_MAPPING_NODE &&
                 vn->data.mapping.pairs.top - vn->data.mapping.pairs.start == 1;
        const char *kind = NULL;
        yaml_node_t *ln = NULL;
        if (ok) {
            kind = pds_yaml_scalar(pds_yaml_node(y, vn->data.mapping.pairs.start->key));
            ln = pds_yaml_node(y, vn->data.mapping.pairs.start->value);
            ok = kind && (strcmp(kind, "uniform") == 0 || strcmp(kind, "normal") == 0) &&
                 ln->type == YAML_SEQUENCE_NODE &&
                 ln->data.sequence.items.top - ln->data.sequence.items.start == 2;
        }
        double v[2] = {0, 0};
        char what[300];
        snprintf(what, sizeof what, "parameters.%s", name);
        if (ok)
            for (int i = 0; i < 2; i++)
                ok &= pds_yaml_double(y, pds_yaml_node(y, ln->data.sequence.items.start[i]), what,
                                      &v[i], diag) == 0;
        if (!ok) {
            pds_diag_add(diag, y->path, pds_yaml_line(vn), pds_yaml_col(vn),
                         "%s: expected {uniform: [lower, upper]} or {normal: [mean, sd]}", what);
            bad = 1;
            continue;
        }
        pds_abc_prior pr = {strcmp(kind, "uniform") == 0 ? PDS_PRIOR_UNIFORM : PDS_PRIOR_NORMAL,
                            v[0], v[1]};
        if (pr.kind == PDS_PRIOR_UNIFORM && !(v[0] < v[1])) {
            pds_diag_add(diag, y->path, pds_yaml_line(ln), pds_yaml_col(ln),
                         "%s.uniform: [%g, %g] is empty: expected lower < upper", what, v[0],
                         v[1]);
            bad = 1;
            continue;
        }
        if (pr.kind == PDS_PRIOR_NORMAL && !(v[1] > 0)) {
            pds_diag_add(diag, y->path, pds_yaml_line(ln), pds_yaml_col(ln),
                         "%s.normal: sd %g: expected a positive number", what, v[1]);
            bad = 1;
            continue;
        }
        pds_sweep_param *q = &c->sw->params[c->n_params];
        q->name = strdup(name);
        if (!q->name)
            return -1;
        q->line = pds_yaml_line(kn);
        q->col = pds_yaml_col(kn);
        q->lower = pr.kind == PDS_PRIOR_UNIFORM ? v[0] : v[0] - 4 * v[1];
        q->upper = pr.kind == PDS_PRIOR_UNIFORM ? v[1] : v[0] + 4 * v[1];
        c->prior[c->n_params++] = pr;
        c->sw->n_params = c->n_params;
    }
    return bad ? -1 : 0;
}

typedef struct target_doc {
    int stat;
    long year, from, to;
    double observed, scale;
} target_doc;

static const pds_key target_keys[] = {
    {"statistic", PDS_KEY_ENUM, 1, 0, 0, NULL, pds_calib_stat_names, offsetof(target_doc, stat),
     NULL, "the statistic", NULL},
    {"year", PDS_KEY_INT, 0, -32000, 32000, "0", NULL, offsetof(target_doc, year), NULL,
     "units_adopted, subunits_adopted, subunit_share_ratio: by the end of this year", NULL},
    {"from", PDS_KEY_INT, 0, -32000, 32000, "0", NULL, offsetof(target_doc, from), NULL,
     "subunit_share_mean, _sd: first outcome year", NULL},
    {"to", PDS_KEY_INT, 0, -32000, 32000, "0", NULL, offsetof(target_doc, to), NULL,
     "subunit_share_mean, _sd: last outcome year", NULL},
    {"observed", PDS_KEY_DOUBLE, 1, -1e300, 1e300, NULL, NULL, offsetof(target_doc, observed),
     NULL, "the observed value", NULL},
    {"scale", PDS_KEY_DOUBLE, 1, 1e-300, 1e300, NULL, NULL, offsetof(target_doc, scale), NULL,
     "deviations are divided by it in the distance (> 0)", NULL},
};

static int parse_targets(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_calib *c = target;
    if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "targets: expected a list of {statistic, observed, scale, ...}, at least one");
        return -1;
    }
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    c->targets = calloc(k, sizeof *c->targets);
    if (!c->targets)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < k; i++) {
        yaml_node_t *it = pds_yaml_node(y, n->data.sequence.items.start[i]);
        target_doc d = {0};
        char where[64];
        snprintf(where, sizeof where, "targets[%zu]", i);
        if (pds_yaml_parse_map(y, it, target_keys, sizeof target_keys / sizeof target_keys[0], &d,
                               where, diag) != 0) {
            bad = 1;
            continue;
        }
        pds_calib_target *t = &c->targets[c->n_targets++];
        *t = (pds_calib_target){.stat = d.stat, .year = d.year, .from = d.from, .to = d.to,
                                .observed = d.observed, .scale = d.scale,
                                .line = pds_yaml_line(it)};
        if (d.stat == PDS_STAT_SHARE_MEAN || d.stat == PDS_STAT_SHARE_SD)
            snprintf(t->label, sizeof t->label, "%s_%ld_%ld", pds_calib_stat_names[d.stat],
                     d.from, d.to);
        else
            snprintf(t->label, sizeof t->label, "%s_%ld", pds_calib_stat_names[d.stat], d.year);
    }
    return bad ? -1 : 0;
}

#define OFF(f) offsetof(pds_calib, f)
const pds_key pds_calib_keys[] = {
    {"config", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, OFF(config), NULL,
     "run config of the hindcast: dataset, models, years, scenario (relative to this file)",
     NULL},
    {"parameters", PDS_KEY_CUSTOM, 1, 0, 0, NULL, NULL, 0, parse_params,
     "NAME: {uniform: [lower, upper]} or {normal: [mean, sd]}; NAME as in a sweep "
     "(model.TERM, subunit_model.TERM, projection.VARIABLE.min or .max, "
     "scenario.central_documents[I].count or .weight)",
     "mapping"},
    {"targets", PDS_KEY_CUSTOM, 1, 0, 0, NULL, NULL, 0, parse_targets,
     "list of {statistic, year (or from and to), observed, scale}; statistics: units_adopted, "
     "subunits_adopted, subunit_share_mean, subunit_share_sd, subunit_share_ratio",
     "list"},
    {"particles", PDS_KEY_U64, 0, 10, 1e7, "1000", NULL, OFF(particles), NULL,
     "population size: accepted particles per generation", NULL},
    {"generations", PDS_KEY_U64, 0, 1, 1000, "10", NULL, OFF(generations), NULL,
     "most generations, generation 0 (the prior) included", NULL},
    {"quantile", PDS_KEY_DOUBLE, 0, 0.01, 0.99, "0.5", NULL, OFF(quantile), NULL,
     "tolerance of generation t: this weighted quantile of generation t-1's distances", NULL},
    {"min_acceptance", PDS_KEY_DOUBLE, 0, 0, 1, "0.02", NULL, OFF(min_acceptance), NULL,
     "stop after a generation that accepts fewer of its proposals", NULL},
    {"max_proposals", PDS_KEY_U64, 0, 1, 1e12, "10000000", NULL, OFF(max_proposals), NULL,
     "most proposals in one generation (then the calibration stops with an error)", NULL},
    {"seed", PDS_KEY_U64, 0, 0, 1.9e19, "1", NULL, OFF(seed), NULL,
     "seed of the proposals and of the simulated histories", NULL},
    {"threads", PDS_KEY_INT, 0, 0, 1024, "0", NULL, OFF(threads), NULL,
     "OpenMP threads; 0 = OMP_NUM_THREADS or all cores", NULL},
    {"output", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(output), NULL,
     "folder of the generation files; default output/<file name>.calibrate", NULL},
};
const size_t pds_n_calib_keys = sizeof pds_calib_keys / sizeof pds_calib_keys[0];

void pds_calib_free(pds_calib *c)
{
    if (!c)
        return;
    pds_yaml_free_fields(pds_calib_keys, pds_n_calib_keys, c);
    free(c->path);
    free(c->text);
    free(c->name);
    free(c->out_dir);
    free(c->prior);
    free(c->targets);
    pds_sweep_free(c->sw);
    free(c);
}


/* Years, models and parameters that a calibration can use; 0 or -1. */
static int check_setup(pds_calib *c, pds_diag *diag)
{
    const pds_setup *s = &c->sw->setup;
    const pds_run_config *cfg = s->cfg;
    long base = cfg->base_year, last = cfg->horizon;
    int bad = 0;
    if (cfg->uncertainty) {
        pds_diag_add(diag, c->path, 0, 0,
                     "config: the run config %s draws coefficients per run (uncertainty:); a "
                     "calibration's hindcast takes its coefficients from the parameters: remove "
                     "uncertainty there",
                     c->config);
        bad = 1;
    }
    for (size_t p = 0; p < c->n_params; p++)
        if (c->sw->params[p].integer) {
            pds_diag_add(diag, c->path, c->sw->params[p].line, c->sw->params[p].col,
                         "parameters.%s: an integer setting cannot be calibrated (the proposals "
                         "are continuous)",
                         c->sw->params[p].name);
            bad = 1;
        }
    for (size_t i = 0; i < c->n_targets; i++) {
        pds_calib_target *t = &c->targets[i];
        int sub = t->stat != PDS_STAT_UNITS_ADOPTED;
        if (sub && s->world->n_subunits == 0) {
            pds_diag_add(diag, c->path, t->line, 0,
                         "targets: %s needs sub-units: the dataset has none",
                         pds_calib_stat_names[t->stat]);
            bad = 1;
        }
        if (t->stat == PDS_STAT_SHARE_MEAN || t->stat == PDS_STAT_SHARE_SD) {
            if (t->from < base + 1 || t->to > last || t->from > t->to) {
                pds_diag_add(diag, c->path, t->line, 0,
                             "targets: %s: from %ld, to %ld: expected base_year + 1 <= from <= to "
                             "<= horizon (%ld..%ld)",
                             pds_calib_stat_names[t->stat], t->from, t->to, base + 1, last);
                bad = 1;
            }
            if (t->stat == PDS_STAT_SHARE_SD && t->from == t->to && s->world->n_units < 2) {
                pds_diag_add(diag, c->path, t->line, 0,
                             "targets: subunit_share_sd needs at least two unit-years");
                bad = 1;
            }
        } else if (t->year < base || t->year > last) {
            pds_diag_add(diag, c->path, t->line, 0,
                         "targets: %s: year %ld: expected a year in %ld..%ld (base_year..horizon)",
                         pds_calib_stat_names[t->stat], t->year, base, last);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

pds_calib *pds_calib_load(const char *path, pds_diag *diag)
{
    pds_yaml *y = pds_yaml_load(path, diag);
    if (!y)
        return NULL;
    pds_calib *c = calloc(1, sizeof *c);
    if (!c || !(c->sw = calloc(1, sizeof *c->sw))) {
        free(c);
        pds_yaml_free(y);
        return NULL;
    }
    yaml_node_t *root = pds_yaml_root(y);
    int bad = pds_yaml_parse_map(y, root, pds_calib_keys, pds_n_calib_keys, c, NULL, diag) != 0;
    long config_line = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         root->type == YAML_MAPPING_NODE && p < root->data.mapping.pairs.top; p++) {
        const char *k = pds_yaml_scalar(pds_yaml_node(y, p->key));
        if (k && strcmp(k, "config") == 0)
            config_line = pds_yaml_line(pds_yaml_node(y, p->value));
    }
    c->path = strdup(path);
    c->sw->path = strdup(path);
    char *stem = pds_default_output(path, "");
    c->name = stem ? strdup(stem + 7) : NULL;
    free(stem);
    c->text = y->text;
    y->text = NULL;
    pds_yaml_free(y);
    if (bad || !c->path || !c->sw->path || !c->name) {
        pds_calib_free(c);
        return NULL;
    }
    char *cfg = pds_path_relative_to(path, c->config);
    pds_status st = cfg ? pds_setup_load(cfg, &c->sw->setup, diag) : PDS_ERR_RUNTIME;
    if (st != PDS_OK) {
        pds_diag_add(diag, path, config_line, 0, "config: the run config %s cannot be used (%s)",
                     cfg ? cfg : c->config, diag->n ? "see above" : "out of memory");
        free(cfg);
        pds_calib_free(c);
        return NULL;
    }
    free(cfg);
    pds_setup *s = &c->sw->setup;
    if (s->n_models > 1) {
        pds_diag_add(diag, path, config_line, 0,
                     "config: the run config %s names several models (models:); a calibration "
                     "needs one: give it a config with model: FILE",
                     c->config);
        pds_calib_free(c);
        return NULL;
    }
    c->sw->n_base_documents = s->world->n_documents - s->cfg->scenario.n_documents;
    c->sw->base_intercept = s->unit_model->intercept - s->intercept_shift;
    for (size_t p = 0; p < c->n_params; p++)
        bad |= pds_sweep_resolve_param(c->sw, &c->sw->params[p], diag) != 0;
    bad |= check_setup(c, diag) != 0;
    c->out_dir = c->output ? pds_path_relative_to(path, c->output)
                           : pds_default_output(path, ".calibrate");
    if (bad || !c->out_dir) {
        pds_calib_free(c);
        return NULL;
    }
    /* the identity of the calibration: what determines its generations (not
     * the stopping rules, threads or folder, so that a longer run resumes) */
    uint64_t h = pds_hash_text(PDS_HASH_INIT, "pdsim calibrate 1");
    for (size_t p = 0; p < c->n_params; p++) {
        h = pds_hash_text(h, c->sw->params[p].name);
        double pr[3] = {(double)c->prior[p].kind, c->prior[p].a, c->prior[p].b};
        h = pds_design_hash(h, pr, sizeof pr);
    }
    for (size_t i = 0; i < c->n_targets; i++) {
        const pds_calib_target *t = &c->targets[i];
        double v[6] = {(double)t->stat, (double)t->year, (double)t->from, (double)t->to,
                       t->observed, t->scale};
        h = pds_design_hash(h, v, sizeof v);
    }
    uint64_t nums[3] = {c->particles, c->seed, c->max_proposals};
    h = pds_design_hash(h, nums, sizeof nums);
    h = pds_design_hash(h, &c->quantile, sizeof c->quantile);
    h = pds_hash_text(h, s->cfg->resolved ? s->cfg->resolved : s->cfg->text);
    h = pds_hash_yaml_file(h, s->cfg->model_path);
    h = pds_hash_yaml_file(h, s->cfg->subunit_model_path);
    snprintf(c->hash, sizeof c->hash, "%016llx", (unsigned long long)h);
    return c;
}

/* ---- statistics ---------------------------------------------------------- */

static int adopted_by(int16_t y, long year)
{
    return y != 0 && y <= year; /* PDS_YEAR_UNKNOWN (-1): adopted before the base year */
}

void pds_calib_statistics(const pds_calib *c, const int16_t *unit_year, const int16_t *sub_year,
                          double *out)
{
    const pds_world *w = c->sw->setup.world;
    for (size_t i = 0; i < c->n_targets; i++) {
        const pds_calib_target *t = &c->targets[i];
        double v = NAN;
        switch (t->stat) {
        case PDS_STAT_UNITS_ADOPTED: {
            size_t k = 0;
            for (size_t u = 0; u < w->n_units; u++)
                k += (size_t)adopted_by(unit_year[u], t->year);
            v = (double)k;
            break;
        }
        case PDS_STAT_SUBUNITS_ADOPTED: {
            size_t k = 0;
            for (size_t j = 0; j < w->n_subunits; j++)
                k += (size_t)adopted_by(sub_year[j], t->year);
            v = (double)k;
            break;
        }
        case PDS_STAT_SHARE_MEAN:
        case PDS_STAT_SHARE_SD: {
            /* Welford over the unit-years at risk */
            double n = 0, mean = 0, m2 = 0;
            for (long yr = t->from; yr <= t->to; yr++)
                for (size_t u = 0; u < w->n_units; u++) {
                    int16_t uy = unit_year[u];
                    if (uy != 0 && uy < yr)
                        continue; /* adopted before yr (or before the base year) */
                    size_t a = w->sub_start[u], b = w->sub_start[u + 1], k = 0;
                    for (size_t s = a; s < b; s++)
                        k += (size_t)adopted_by(sub_year[w->sub_of[s]], yr - 1);
                    double x = b > a ? 100.0 * (double)k / (double)(b - a) : 0.0;
                    n += 1;
                    double d = x - mean;
                    mean += d / n;
                    m2 += d * (x - mean);
                }
            if (t->stat == PDS_STAT_SHARE_MEAN)
                v = n > 0 ? mean : NAN;
            else
                v = n > 1 ? sqrt(m2 / (n - 1)) : NAN;
            break;
        }
        case PDS_STAT_SHARE_RATIO: {
            double na = 0, ka = 0, no = 0, ko = 0;
            for (size_t j = 0; j < w->n_subunits; j++) {
                int in = adopted_by(unit_year[w->subunits[j].parent], t->year);
                int ad = adopted_by(sub_year[j], t->year);
                if (in) {
                    na += 1;
                    ka += ad;
                } else {
                    no += 1;
                    ko += ad;
                }
            }
            v = na > 0 && no > 0 && ko > 0 ? (ka / na) / (ko / no) : NAN;
            break;
        }
        }
        out[i] = v;
    }
}

double pds_calib_distance(const pds_calib *c, const double *s)
{
    double d = 0.0;
    for (size_t i = 0; i < c->n_targets; i++) {
        if (!isfinite(s[i]))
            return INFINITY;
        double z = (s[i] - c->targets[i].observed) / c->targets[i].scale;
        d += z * z;
    }
    return sqrt(d);
}

/* ---- simulation ---------------------------------------------------------- */

#define SIM_BATCH 1024 /* simulations prepared at once (memory), then run in one parallel region */

/* The history of the i-th vector is that of proposal keys[i], or first + i
 * when keys is NULL. */
static pds_status simulate_keys(pds_calib *c, uint64_t generation, uint64_t first,
                                const uint64_t *keys, size_t n, const double *theta, int threads,
                                double *stats, pds_diag *diag)
{
    pds_sweep *sw = c->sw;
    const pds_world *w = sw->setup.world;
    size_t P = c->n_params, T = c->n_targets;
    pds_sweep_sims **sims = malloc(SIM_BATCH * sizeof *sims);
    if (!sims)
        return PDS_ERR_RUNTIME;
    pds_status rc = PDS_OK;
    for (size_t b0 = 0; b0 < n && rc == PDS_OK; b0 += SIM_BATCH) {
        size_t nb = n - b0 < SIM_BATCH ? n - b0 : SIM_BATCH, built = 0;
        /* the setup is changed point by point: prepare one at a time */
        sw->values = (double *)(uintptr_t)(theta + b0 * P);
        sw->n_points = nb;
        for (; built < nb && rc == PDS_OK; built++)
            rc = pds_sweep_prepare_point(sw, built, &sims[built], diag);
        sw->values = NULL;
        sw->n_points = 0;
        if (rc != PDS_OK) {
            built--;
            for (size_t i = 0; i < built; i++)
                pds_sweep_sims_free(sims[i]);
            break;
        }
        int failed = 0;
#pragma omp parallel for schedule(dynamic) num_threads(threads > 0 ? threads : omp_get_max_threads()) reduction(| : failed)
        for (size_t i = 0; i < nb; i++) {
            const pds_sim *sim = pds_sweep_sims_first(sims[i]);
            void *scratch = pds_sim_scratch_create(sim);
            size_t nc = pds_sim_n_coefficients(sim) + pds_sim_n_subunit_coefficients(sim) + 1;
            int16_t *uy = malloc((w->n_units + 1) * sizeof *uy);
            int16_t *sy = malloc((w->n_subunits + 1) * sizeof *sy);
            double *coefs = malloc(nc * sizeof *coefs);
            if (!scratch || !uy || !sy || !coefs)
                failed = 1;
            else {
                uint64_t k = keys ? keys[b0 + i] : first + b0 + i;
                pds_sim_run_one(sim, pds_abc_sim_seed(c->seed, generation, k), 0, scratch, uy,
                                sy, coefs);
                pds_calib_statistics(c, uy, sy, stats + (b0 + i) * T);
            }
            free(scratch);
            free(uy);
            free(sy);
            free(coefs);
        }
        for (size_t i = 0; i < nb; i++)
            pds_sweep_sims_free(sims[i]);
        if (failed) {
            pds_diag_add(diag, c->path, 0, 0, "out of memory");
            rc = PDS_ERR_RUNTIME;
        }
    }
    free(sims);
    return rc;
}

pds_status pds_calib_simulate(pds_calib *c, uint64_t generation, uint64_t first, size_t n,
                              const double *theta, int threads, double *stats, pds_diag *diag)
{
    return simulate_keys(c, generation, first, NULL, n, theta, threads, stats, diag);
}

/* ---- generation files ---------------------------------------------------- */

void pds_calib_gen_free(pds_calib_gen *g)
{
    if (!g)
        return;
    free(g->theta);
    free(g->weight);
    free(g->dist);
    free(g->stats);
    memset(g, 0, sizeof *g);
}

static int gen_alloc(pds_calib_gen *g, size_t n, size_t P, size_t T)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->theta = malloc((n * P + 1) * sizeof *g->theta);
    g->weight = malloc((n + 1) * sizeof *g->weight);
    g->dist = malloc((n + 1) * sizeof *g->dist);
    g->stats = malloc((n * T + 1) * sizeof *g->stats);
    if (!g->theta || !g->weight || !g->dist || !g->stats) {
        pds_calib_gen_free(g);
        return -1;
    }
    return 0;
}

static char *gen_path(const pds_calib *c, size_t t)
{
    return pds_strfmt("%s/gen-%04zu.csv", c->out_dir, t);
}

/* The header's names after its leading columns: parameters, then targets. */
static void put_names(FILE *f, const pds_calib *c)
{
    for (size_t q = 0; q < c->n_params; q++)
        fprintf(f, ",%s", c->sw->params[q].name);
    for (size_t i = 0; i < c->n_targets; i++)
        fprintf(f, ",%s", c->targets[i].label);
    fputc('\n', f);
}

/* A row's parameter values and statistics after its leading columns. */
static void put_values(FILE *f, const double *theta, size_t P, const double *stats, size_t T)
{
    for (size_t q = 0; q < P; q++)
        fprintf(f, ",%.17g", theta[q]);
    for (size_t k = 0; k < T; k++)
        fprintf(f, ",%.17g", stats[k]);
    fputc('\n', f);
}

/* n numbers, each after a comma from *e on, into out; *e moves past them.
 * 1 when all n are numbers ending the row or followed by a comma. */
static int get_values(char **e, size_t n, double *out)
{
    for (size_t q = 0; q < n; q++) {
        char *s;
        out[q] = strtod(*e + 1, &s);
        if (s == *e + 1 || (*s != ',' && *s != '\n' && *s != '\0'))
            return 0;
        *e = s;
    }
    return 1;
}

static pds_status write_gen(const pds_calib *c, size_t t, const pds_calib_gen *g, pds_diag *diag)
{
    char *path = gen_path(c, t);
    if (!path)
        return PDS_ERR_RUNTIME;
    pds_outfile o;
    pds_status rc = pds_outfile_open(&o, path, NULL, 0, diag);
    free(path);
    if (rc != PDS_OK)
        return rc;
    size_t P = c->n_params, T = c->n_targets;
    FILE *f = o.f;
    fprintf(f,
            "# pdsim-calibrate generation=%zu hash=%s particles=%zu tolerance=%.17g "
            "proposals=%llu simulated=%llu\n",
            t, c->hash, g->n, g->tolerance, (unsigned long long)g->proposals,
            (unsigned long long)g->simulated);
    fprintf(f, "particle,weight,distance");
    put_names(f, c);
    for (size_t i = 0; i < g->n; i++) {
        fprintf(f, "%zu,%.17g,%.17g", i, g->weight[i], g->dist[i]);
        put_values(f, g->theta + i * P, P, g->stats + i * T, T);
    }
    return pds_outfile_commit(&o, diag);
}

/* Read generation t back: 1 when read, 0 when absent, -1 with a message
 * when it is not of this calibration or damaged. */
static int read_gen(const pds_calib *c, size_t t, pds_calib_gen *g, pds_diag *diag)
{
    char *path = gen_path(c, t);
    if (!path)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        free(path);
        return 0;
    }
    size_t P = c->n_params, T = c->n_targets, gt = 0, n = 0;
    char hash[32] = "";
    double tol = 0;
    unsigned long long props = 0, sims = 0;
    char *line = NULL;
    size_t cap = 0;
    int ok = getline(&line, &cap, f) > 0 &&
             sscanf(line,
                    "# pdsim-calibrate generation=%zu hash=%31s particles=%zu tolerance=%lg "
                    "proposals=%llu simulated=%llu",
                    &gt, hash, &n, &tol, &props, &sims) == 6;
    if (ok && (strcmp(hash, c->hash) != 0 || gt != t)) {
        pds_diag_add(diag, path, 1, 0,
                     "belongs to another calibration (hash %s, generation %zu; this one is %s, "
                     "generation %zu): move it away or use another output folder",
                     hash, gt, c->hash, t);
        free(line);
        fclose(f);
        free(path);
        return -1;
    }
    ok = ok && n == c->particles && gen_alloc(g, n, P, T) == 0;
    ok = ok && getline(&line, &cap, f) > 0; /* header */
    for (size_t i = 0; ok && i < n; i++) {
        ok = getline(&line, &cap, f) > 0;
        char *s = line, *e;
        ok = ok && strtoull(s, &e, 10) == i && *e == ',';
        ok = ok && get_values(&e, 1, &g->weight[i]) && *e == ',' &&
             get_values(&e, 1, &g->dist[i]) && *e == ',' &&
             get_values(&e, P, g->theta + i * P) && get_values(&e, T, g->stats + i * T);
    }
    free(line);
    fclose(f);
    if (!ok) {
        pds_diag_add(diag, path, 0, 0,
                     "damaged generation file of this calibration: expected %llu particles of "
                     "%zu parameters and %zu statistics; remove it to recompute it",
                     (unsigned long long)c->particles, P, T);
        free(path);
        pds_calib_gen_free(g);
        return -1;
    }
    free(path);
    g->tolerance = tol;
    g->proposals = props;
    g->simulated = sims;
    g->ess = pds_abc_ess(n, g->weight);
    return 1;
}

/* ---- the sampler --------------------------------------------------------- */

/* Read the finished generations (at most G) into gens[]; *n receives their
 * number. PDS_ERR_INPUT when one is of another calibration or damaged. */
static pds_status read_finished(const pds_calib *c, pds_calib_gen *gens, size_t *n,
                                pds_calib_progress progress, void *ctx, pds_diag *diag)
{
    size_t G = (size_t)c->generations;
    *n = 0;
    if (pds_mkdirs(c->out_dir, NULL, 0) != 0) {
        pds_diag_add(diag, c->out_dir, 0, 0, "cannot create the output folder");
        return PDS_ERR_RUNTIME;
    }
    /* a longer calibration of the same file may have been here: its first
     * G generations are this one's */
    while (*n < G) {
        int r = read_gen(c, *n, &gens[*n], diag);
        if (r < 0)
            return PDS_ERR_INPUT;
        if (r == 0)
            break;
        if (progress)
            progress(ctx, *n, &gens[*n], 1);
        (*n)++;
    }
    return PDS_OK;
}

/* Before generation n (gens[0..n-1] finished): *more = 0 when the
 * calibration is finished (G generations, or the last one's acceptance
 * below min_acceptance); else *more = 1, the tolerance in *eps and, from
 * generation 1 on, the previous population in *pop (*have_pop = 1). */
static pds_status gen_start(const pds_calib *c, const pds_calib_gen *gens, size_t n, int *more,
                            pds_abc_population *pop, int *have_pop, double *eps, pds_diag *diag)
{
    const pds_calib_gen *prev = n ? &gens[n - 1] : NULL;
    *more = 0;
    *have_pop = 0;
    *eps = INFINITY;
    if (n >= (size_t)c->generations)
        return PDS_OK;
    if (prev && prev->n > 0 && (double)prev->n / (double)prev->proposals < c->min_acceptance)
        return PDS_OK;
    if (prev) {
        pds_status rc = pds_abc_population_init(pop, prev->n, c->n_params, prev->theta,
                                                prev->weight);
        if (rc != PDS_OK) {
            if (rc == PDS_ERR_INPUT)
                pds_diag_add(diag, c->path, 0, 0,
                             "generation %zu: the particles' covariance is singular: the "
                             "posterior has collapsed onto a point",
                             n - 1);
            return rc;
        }
        *have_pop = 1;
        *eps = pds_abc_weighted_quantile(prev->n, prev->dist, prev->weight, c->quantile);
    }
    *more = 1;
    return PDS_OK;
}

/* Generation n's particles are in g (theta, dist, stats; tolerance,
 * proposals, simulated set), their log weights in lw[]: normalise, save,
 * and read back, so that the next generation starts from exactly what a
 * resumed run reads. */
static pds_status finish_gen(const pds_calib *c, size_t n, pds_calib_gen *g, const double *lw,
                             pds_diag *diag)
{
    size_t N = g->n;
    double mx = -INFINITY, sw = 0.0;
    for (size_t i = 0; i < N; i++)
        mx = lw[i] > mx ? lw[i] : mx;
    for (size_t i = 0; i < N; i++)
        sw += g->weight[i] = exp(lw[i] - mx);
    for (size_t i = 0; i < N; i++)
        g->weight[i] /= sw;
    g->ess = pds_abc_ess(N, g->weight);
    pds_status rc = write_gen(c, n, g, diag);
    if (rc != PDS_OK)
        return rc;
    pds_calib_gen back;
    if (read_gen(c, n, &back, diag) != 1)
        return PDS_ERR_RUNTIME;
    pds_calib_gen_free(g);
    *g = back;
    return PDS_OK;
}

pds_status pds_calib_run(pds_calib *c, int threads, volatile int *stop,
                         pds_calib_progress progress, void *ctx, pds_calib_gen **gens_out,
                         size_t *n_gens, pds_diag *diag)
{
    size_t P = c->n_params, T = c->n_targets, N = (size_t)c->particles;
    size_t G = (size_t)c->generations, n = 0;
    pds_calib_gen *gens = calloc(G + 1, sizeof *gens);
    *gens_out = gens;
    *n_gens = 0;
    if (!gens)
        return PDS_ERR_RUNTIME;
    pds_status rc = read_finished(c, gens, &n, progress, ctx, diag);
    *n_gens = n;
    if (rc != PDS_OK)
        return rc;
    double *prop = malloc(4096 * P * sizeof *prop), *st = malloc(4096 * T * sizeof *st);
    double *lw = malloc(N * sizeof *lw);
    unsigned char *inside = malloc(4096);
    double *sim_theta = malloc(4096 * P * sizeof *sim_theta);
    size_t *sim_k = malloc(4096 * sizeof *sim_k);
    if (!prop || !st || !lw || !inside || !sim_theta || !sim_k)
        rc = PDS_ERR_RUNTIME;
    for (; rc == PDS_OK && n < G; n++) {
        const pds_calib_gen *prev = n ? &gens[n - 1] : NULL;
        pds_abc_population pop, *pp = NULL;
        int more, have_pop;
        double eps;
        rc = gen_start(c, gens, n, &more, &pop, &have_pop, &eps, diag);
        if (rc != PDS_OK || !more)
            break;
        if (have_pop)
            pp = &pop;
        pds_calib_gen *g = &gens[n];
        if (gen_alloc(g, N, P, T) != 0) {
            rc = PDS_ERR_RUNTIME;
            if (pp)
                pds_abc_population_free(pp);
            break;
        }
        g->tolerance = eps;
        size_t acc = 0;
        uint64_t k = 0, simulated = 0;
        double rate = prev ? (double)prev->n / (double)prev->proposals : 1.0;
        while (acc < N && rc == PDS_OK) {
            if (k >= c->max_proposals) {
                pds_diag_add(diag, c->path, 0, 0,
                             "generation %zu: max_proposals (%llu) reached with %zu of %zu "
                             "particles accepted (tolerance %g); the finished generations are "
                             "kept",
                             n, (unsigned long long)c->max_proposals, acc, N, eps);
                rc = PDS_ERR_RUNTIME;
                break;
            }
            /* the batch size changes only the work wasted after the last
             * acceptance, never which proposals are accepted */
            double want = (double)(N - acc) / (rate > 1e-3 ? rate : 1e-3) * 1.2 + 16;
            size_t B = want > 4096 ? 4096 : (size_t)want;
            if (B > c->max_proposals - k)
                B = (size_t)(c->max_proposals - k);
            size_t ns = 0;
            for (size_t i = 0; i < B; i++) {
                double *th = prop + i * P;
                pds_abc_propose(c->prior, P, pp, c->seed, n, k + i, th);
                inside[i] = isfinite(pds_abc_prior_logpdf(c->prior, P, th));
                if (inside[i]) {
                    memcpy(sim_theta + ns * P, th, P * sizeof *th);
                    sim_k[ns++] = i;
                }
            }
            /* simulate the proposals inside the prior; proposal k's history
             * uses the seed of k whichever batch it falls in */
            size_t s0 = 0;
            while (s0 < ns && rc == PDS_OK) {
                /* consecutive runs of proposal indices share one call */
                size_t s1 = s0 + 1;
                while (s1 < ns && sim_k[s1] == sim_k[s1 - 1] + 1)
                    s1++;
                rc = pds_calib_simulate(c, n, k + sim_k[s0], s1 - s0, sim_theta + s0 * P,
                                        threads, st + s0 * T, diag);
                s0 = s1;
            }
            if (rc != PDS_OK)
                break;
            size_t j = 0;
            for (size_t i = 0; i < B && acc < N; i++) {
                if (!inside[i])
                    continue;
                const double *s = st + j * T;
                double d = pds_calib_distance(c, s);
                j++;
                simulated++;
                if (!(d <= eps) || !isfinite(d))
                    continue;
                memcpy(g->theta + acc * P, prop + i * P, P * sizeof *prop);
                memcpy(g->stats + acc * T, s, T * sizeof *s);
                g->dist[acc] = d;
                lw[acc] = pds_abc_log_weight(c->prior, pp, prop + i * P);
                acc++;
                if (acc == N)
                    g->proposals = k + i + 1;
            }
            k += B;
            if (acc > 0 && acc < N)
                rate = (double)acc / (double)k;
            if (stop && *stop && acc < N) {
                pds_diag_add(diag, c->path, 0, 0,
                             "interrupted in generation %zu; the finished generations are kept",
                             n);
                rc = PDS_ERR_RUNTIME;
            }
        }
        if (pp)
            pds_abc_population_free(pp);
        if (rc != PDS_OK) {
            pds_calib_gen_free(g);
            break;
        }
        g->simulated = simulated;
        rc = finish_gen(c, n, g, lw, diag);
        if (rc != PDS_OK) {
            pds_calib_gen_free(g);
            break;
        }
        *n_gens = n + 1;
        if (progress)
            progress(ctx, n, g, 0);
    }
    free(prop);
    free(st);
    free(lw);
    free(inside);
    free(sim_theta);
    free(sim_k);
    return rc;
}

/* ---- the split into tasks ------------------------------------------------ */

/* The accepted proposals of one task's share of a generation: proposal k
 * belongs to task k mod tasks; every proposal of the task below `covered`
 * has been made (simulated when inside the prior). */
typedef struct part {
    uint64_t covered;
    size_t n, cap;
    uint64_t *k;    /* [n] proposal index, increasing */
    double *dist;   /* [n] */
    double *theta;  /* [n x P] */
    double *stats;  /* [n x n_targets] */
} part;

static void part_free(part *p)
{
    free(p->k);
    free(p->dist);
    free(p->theta);
    free(p->stats);
    memset(p, 0, sizeof *p);
}

static int part_push(part *p, size_t P, size_t T, uint64_t k, double d, const double *theta,
                     const double *stats)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        uint64_t *nk = realloc(p->k, cap * sizeof *nk);
        if (nk)
            p->k = nk;
        double *nd = realloc(p->dist, cap * sizeof *nd);
        if (nd)
            p->dist = nd;
        double *nt = realloc(p->theta, (cap * P + 1) * sizeof *nt);
        if (nt)
            p->theta = nt;
        double *ns = realloc(p->stats, (cap * T + 1) * sizeof *ns);
        if (ns)
            p->stats = ns;
        if (!nk || !nd || !nt || !ns)
            return -1;
        p->cap = cap;
    }
    p->k[p->n] = k;
    p->dist[p->n] = d;
    memcpy(p->theta + p->n * P, theta, P * sizeof *theta);
    memcpy(p->stats + p->n * T, stats, T * sizeof *stats);
    p->n++;
    return 0;
}

static char *part_path(const pds_calib *c, size_t t, size_t task, size_t tasks)
{
    return pds_strfmt("%s/gen-%04zu.part-%04zu-of-%04zu.csv", c->out_dir, t, task, tasks);
}

static char *plan_path(const pds_calib *c, size_t t)
{
    return pds_strfmt("%s/gen-%04zu.plan", c->out_dir, t);
}

static pds_status write_part(const pds_calib *c, size_t t, size_t task, size_t tasks, double eps,
                             const part *p, pds_diag *diag)
{
    char *path = part_path(c, t, task, tasks);
    if (!path)
        return PDS_ERR_RUNTIME;
    pds_outfile o;
    pds_status rc = pds_outfile_open(&o, path, NULL, 0, diag);
    free(path);
    if (rc != PDS_OK)
        return rc;
    size_t P = c->n_params, T = c->n_targets;
    FILE *f = o.f;
    fprintf(f,
            "# pdsim-calibrate part generation=%zu hash=%s task=%zu tasks=%zu covered=%llu "
            "tolerance=%.17g\n",
            t, c->hash, task, tasks, (unsigned long long)p->covered, eps);
    fprintf(f, "proposal,distance");
    put_names(f, c);
    for (size_t i = 0; i < p->n; i++) {
        fprintf(f, "%llu,%.17g", (unsigned long long)p->k[i], p->dist[i]);
        put_values(f, p->theta + i * P, P, p->stats + i * T, T);
    }
    return pds_outfile_commit(&o, diag);
}

/* Read task's part of generation t: 1 read, 0 absent (empty *p), -1 with
 * a message when it is of another calibration, generation, split or
 * tolerance, or damaged. */
static int read_part(const pds_calib *c, size_t t, size_t task, size_t tasks, double eps, part *p,
                     pds_diag *diag)
{
    memset(p, 0, sizeof *p);
    char *path = part_path(c, t, task, tasks);
    if (!path)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        free(path);
        return 0;
    }
    size_t P = c->n_params, T = c->n_targets, gt = 0, ti = 0, tn = 0;
    char hash[32] = "";
    unsigned long long covered = 0;
    double tol = 0;
    char *line = NULL;
    size_t cap = 0;
    int ok = getline(&line, &cap, f) > 0 &&
             sscanf(line,
                    "# pdsim-calibrate part generation=%zu hash=%31s task=%zu tasks=%zu "
                    "covered=%llu tolerance=%lg",
                    &gt, hash, &ti, &tn, &covered, &tol) == 6;
    if (ok && (strcmp(hash, c->hash) != 0 || gt != t || ti != task || tn != tasks ||
               !(tol == eps || (isinf(tol) && isinf(eps))))) {
        pds_diag_add(diag, path, 1, 0,
                     "belongs to another calibration or generation (hash %s, generation %zu, "
                     "task %zu of %zu, tolerance %.17g; this is %s, generation %zu, task %zu of "
                     "%zu, tolerance %.17g): move it away",
                     hash, gt, ti, tn, tol, c->hash, t, task, tasks, eps);
        free(line);
        fclose(f);
        free(path);
        return -1;
    }
    ok = ok && getline(&line, &cap, f) > 0; /* header */
    double *row = malloc((P + T + 1) * sizeof *row);
    ok = ok && row;
    uint64_t last = 0;
    ssize_t len;
    while (ok && (len = getline(&line, &cap, f)) > 0) {
        char *s = line, *e;
        errno = 0;
        uint64_t k = strtoull(s, &e, 10);
        ok = e != s && *e == ',' && errno == 0 && k % tasks == task && k < covered &&
             (p->n == 0 || k > last);
        ok = ok && get_values(&e, P + T + 1, row);
        ok = ok && part_push(p, P, T, k, row[0], row + 1, row + 1 + P) == 0;
        last = k;
    }
    free(row);
    free(line);
    fclose(f);
    if (!ok) {
        pds_diag_add(diag, path, 0, 0,
                     "damaged part file of this calibration: remove it to recompute the task's "
                     "share");
        free(path);
        part_free(p);
        return -1;
    }
    free(path);
    p->covered = covered;
    return 1;
}

/* The plan of generation t: every task makes its proposals below *target.
 * 1 read, 0 absent, -1 with a message. */
static int read_plan(const pds_calib *c, size_t t, uint64_t *target, size_t *round,
                     pds_diag *diag)
{
    char *path = plan_path(c, t);
    if (!path)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        free(path);
        return 0;
    }
    char hash[32] = "", line[512];
    size_t gt = 0;
    unsigned long long k = 0;
    int ok = fgets(line, sizeof line, f) &&
             sscanf(line, "# pdsim-calibrate plan generation=%zu hash=%31s round=%zu proposals=%llu",
                    &gt, hash, round, &k) == 4;
    fclose(f);
    if (!ok || strcmp(hash, c->hash) != 0 || gt != t || k == 0) {
        pds_diag_add(diag, path, 1, 0,
                     "not a plan of generation %zu of this calibration (hash %s): move it away",
                     t, c->hash);
        free(path);
        return -1;
    }
    free(path);
    *target = k;
    return 1;
}

static pds_status write_plan(const pds_calib *c, size_t t, uint64_t target, size_t round,
                             pds_diag *diag)
{
    char *path = plan_path(c, t);
    if (!path)
        return PDS_ERR_RUNTIME;
    pds_outfile o;
    pds_status rc = pds_outfile_open(&o, path, NULL, 0, diag);
    free(path);
    if (rc != PDS_OK)
        return rc;
    fprintf(o.f, "# pdsim-calibrate plan generation=%zu hash=%s round=%zu proposals=%llu\n", t,
            c->hash, round, (unsigned long long)target);
    return pds_outfile_commit(&o, diag);
}

/* The first round's target of generation n: enough proposals for N
 * acceptances at the previous generation's acceptance rate, with a margin. */
static uint64_t first_target(const pds_calib *c, const pds_calib_gen *gens, size_t n,
                             size_t tasks)
{
    double rate = n ? (double)gens[n - 1].n / (double)gens[n - 1].proposals : 1.0;
    double want = (double)c->particles / (rate > 1e-4 ? rate : 1e-4) * 1.2 + 16.0 * (double)tasks;
    uint64_t k = want >= (double)c->max_proposals ? c->max_proposals : (uint64_t)ceil(want);
    return k ? k : 1;
}

/* The proposals of a task are made in batches of this many (each one
 * checkpoints the part file). */
#define TASK_BATCH 512

pds_status pds_calib_task(pds_calib *c, size_t task, size_t tasks, int threads,
                          volatile int *stop, pds_calib_split *out, pds_diag *diag)
{
    size_t P = c->n_params, T = c->n_targets, G = (size_t)c->generations, n = 0;
    memset(out, 0, sizeof *out);
    pds_calib_gen *gens = calloc(G + 1, sizeof *gens);
    if (!gens)
        return PDS_ERR_RUNTIME;
    pds_status rc = read_finished(c, gens, &n, NULL, NULL, diag);
    pds_abc_population pop;
    int more = 0, have_pop = 0;
    double eps = INFINITY;
    if (rc == PDS_OK)
        rc = gen_start(c, gens, n, &more, &pop, &have_pop, &eps, diag);
    out->generation = n;
    out->finished = rc == PDS_OK && !more;
    part p;
    memset(&p, 0, sizeof p);
    uint64_t target = 0;
    size_t round = 0;
    if (rc == PDS_OK && more) {
        int r = read_plan(c, n, &target, &round, diag);
        if (r < 0)
            rc = PDS_ERR_INPUT;
        else if (r == 0)
            target = first_target(c, gens, n, tasks);
        if (rc == PDS_OK && read_part(c, n, task, tasks, eps, &p, diag) < 0)
            rc = PDS_ERR_INPUT;
    }
    const pds_abc_population *pp = have_pop ? &pop : NULL;
    double *theta = malloc((TASK_BATCH * P + 1) * sizeof *theta);
    double *st = malloc((TASK_BATCH * T + 1) * sizeof *st);
    double *prop = malloc((P + 1) * sizeof *prop);
    uint64_t *keys = malloc(TASK_BATCH * sizeof *keys);
    if (rc == PDS_OK && more && (!theta || !st || !prop || !keys))
        rc = PDS_ERR_RUNTIME;
    out->target = target;
    out->round = round;
    out->resumed = p.covered;
    while (rc == PDS_OK && more && p.covered < target) {
        /* the task's next proposals: k = task, task + tasks, ... from covered on */
        uint64_t k = p.covered + (task + tasks - p.covered % tasks) % tasks;
        size_t ns = 0;
        for (size_t b = 0; b < TASK_BATCH && k < target; b++, k += tasks) {
            pds_abc_propose(c->prior, P, pp, c->seed, n, k, prop);
            if (!isfinite(pds_abc_prior_logpdf(c->prior, P, prop)))
                continue;
            memcpy(theta + ns * P, prop, P * sizeof *prop);
            keys[ns++] = k;
        }
        /* each history uses the seed of its proposal, whichever task makes it */
        rc = simulate_keys(c, n, 0, keys, ns, theta, threads, st, diag);
        for (size_t i = 0; rc == PDS_OK && i < ns; i++) {
            double d = pds_calib_distance(c, st + i * T);
            if (!(d <= eps) || !isfinite(d))
                continue;
            if (part_push(&p, P, T, keys[i], d, theta + i * P, st + i * T) != 0)
                rc = PDS_ERR_RUNTIME;
        }
        if (rc != PDS_OK)
            break;
        p.covered = k < target ? k : target;
        rc = write_part(c, n, task, tasks, eps, &p, diag);
        if (rc == PDS_OK && stop && *stop && p.covered < target) {
            pds_diag_add(diag, c->path, 0, 0,
                         "interrupted in generation %zu, task %zu of %zu, at proposal %llu of "
                         "%llu; its part keeps what is done",
                         n, task, tasks, (unsigned long long)p.covered,
                         (unsigned long long)target);
            rc = PDS_ERR_RUNTIME;
        }
    }
    out->accepted = p.n;
    out->covered = p.covered;
    free(theta);
    free(st);
    free(prop);
    free(keys);
    part_free(&p);
    if (have_pop)
        pds_abc_population_free(&pop);
    for (size_t i = 0; i <= G; i++)
        pds_calib_gen_free(&gens[i]);
    free(gens);
    return rc;
}

typedef struct ref {
    uint64_t k;
    size_t part, row;
} ref;

static int cmp_ref(const void *a, const void *b)
{
    const ref *x = a, *y = b;
    return x->k < y->k ? -1 : x->k > y->k;
}

/* Remove the parts and the plan of generation t, once it is saved, and
 * the temporary files of its parts and plan that a killed writer left
 * (DEST.tmp.PID): no task writes them any more. */
static void remove_spent(const pds_calib *c, size_t t, size_t tasks)
{
    for (size_t i = 0; i < tasks; i++) {
        char *path = part_path(c, t, i, tasks);
        if (path)
            remove(path);
        free(path);
    }
    char *path = plan_path(c, t);
    if (path)
        remove(path);
    free(path);
    char pre_part[48], pre_plan[48];
    snprintf(pre_part, sizeof pre_part, "gen-%04zu.part-", t);
    snprintf(pre_plan, sizeof pre_plan, "gen-%04zu.plan.tmp.", t);
    DIR *d = opendir(c->out_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        int ours = strncmp(n, pre_plan, strlen(pre_plan)) == 0 ||
                   (strncmp(n, pre_part, strlen(pre_part)) == 0 && strstr(n, ".csv.tmp.") != NULL);
        if (!ours)
            continue;
        size_t len = strlen(c->out_dir) + strlen(n) + 2;
        char *p = malloc(len);
        struct stat st;
        if (p) {
            snprintf(p, len, "%s/%s", c->out_dir, n);
            if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
                remove(p);
        }
        free(p);
    }
    if (d)
        closedir(d);
}

pds_status pds_calib_step(pds_calib *c, size_t tasks, pds_calib_progress progress, void *ctx,
                          pds_calib_gen **gens_out, size_t *n_gens, pds_calib_split *out,
                          pds_diag *diag)
{
    size_t P = c->n_params, T = c->n_targets, N = (size_t)c->particles;
    size_t G = (size_t)c->generations, n = 0;
    memset(out, 0, sizeof *out);
    pds_calib_gen *gens = calloc(G + 1, sizeof *gens);
    *gens_out = gens;
    *n_gens = 0;
    if (!gens)
        return PDS_ERR_RUNTIME;
    pds_status rc = read_finished(c, gens, &n, NULL, NULL, diag);
    *n_gens = n;
    if (rc != PDS_OK)
        return rc;
    pds_abc_population pop;
    int more, have_pop;
    double eps;
    /* a step stopped between saving a generation and removing its parts */
    if (n > 0)
        remove_spent(c, n - 1, tasks);
    rc = gen_start(c, gens, n, &more, &pop, &have_pop, &eps, diag);
    out->generation = n;
    if (rc != PDS_OK || !more) {
        out->finished = rc == PDS_OK;
        return rc;
    }
    const pds_abc_population *pp = have_pop ? &pop : NULL;
    uint64_t target = 0;
    size_t round = 0;
    int r = read_plan(c, n, &target, &round, diag);
    if (r < 0)
        rc = PDS_ERR_INPUT;
    else if (r == 0)
        target = first_target(c, gens, n, tasks);
    part *parts = calloc(tasks, sizeof *parts);
    if (!parts)
        rc = PDS_ERR_RUNTIME;
    uint64_t kmin = UINT64_MAX;
    size_t total = 0, missing = 0;
    for (size_t i = 0; rc == PDS_OK && i < tasks; i++) {
        int pr = read_part(c, n, i, tasks, eps, &parts[i], diag);
        if (pr < 0)
            rc = PDS_ERR_INPUT;
        missing += pr == 0;
        if (parts[i].covered < kmin)
            kmin = parts[i].covered;
        total += parts[i].n;
    }
    /* the accepted proposals below kmin, in order: every task has made its
     * own there, so the first N of them are those of a run in one process */
    ref *refs = rc == PDS_OK ? malloc((total + 1) * sizeof *refs) : NULL;
    if (rc == PDS_OK && !refs)
        rc = PDS_ERR_RUNTIME;
    size_t acc = 0;
    for (size_t i = 0; rc == PDS_OK && i < tasks; i++)
        for (size_t j = 0; j < parts[i].n; j++)
            if (parts[i].k[j] < kmin)
                refs[acc++] = (ref){parts[i].k[j], i, j};
    if (rc == PDS_OK)
        qsort(refs, acc, sizeof *refs, cmp_ref);
    out->round = round;
    out->covered = kmin;
    out->accepted = acc < N ? acc : N;
    if (rc == PDS_OK && acc >= N) {
        pds_calib_gen *g = &gens[n];
        double *lw = malloc(N * sizeof *lw);
        double *th = malloc((P + 1) * sizeof *th);
        if (!lw || !th || gen_alloc(g, N, P, T) != 0)
            rc = PDS_ERR_RUNTIME;
        for (size_t a = 0; rc == PDS_OK && a < N; a++) {
            const part *q = &parts[refs[a].part];
            size_t j = refs[a].row;
            memcpy(g->theta + a * P, q->theta + j * P, P * sizeof *th);
            memcpy(g->stats + a * T, q->stats + j * T, T * sizeof *th);
            g->dist[a] = pds_calib_distance(c, g->stats + a * T);
            lw[a] = pds_abc_log_weight(c->prior, pp, g->theta + a * P);
        }
        if (rc == PDS_OK) {
            g->tolerance = eps;
            g->proposals = refs[N - 1].k + 1;
            /* the simulated proposals: those inside the prior */
            uint64_t sims = 0;
            for (uint64_t k = 0; k < g->proposals; k++) {
                pds_abc_propose(c->prior, P, pp, c->seed, n, k, th);
                sims += isfinite(pds_abc_prior_logpdf(c->prior, P, th));
            }
            g->simulated = sims;
            rc = finish_gen(c, n, g, lw, diag);
        }
        free(lw);
        free(th);
        if (rc != PDS_OK)
            pds_calib_gen_free(g);
        else {
            *n_gens = n + 1;
            if (progress)
                progress(ctx, n, g, 0);
            remove_spent(c, n, tasks);
            /* and the next one's first round */
            if (have_pop)
                pds_abc_population_free(&pop);
            have_pop = 0;
            rc = gen_start(c, gens, n + 1, &more, &pop, &have_pop, &eps, diag);
            out->generation = n + 1;
            out->finished = rc == PDS_OK && !more;
            out->round = 0;
            out->covered = 0;
            out->accepted = 0;
            if (rc == PDS_OK && more) {
                out->target = first_target(c, gens, n + 1, tasks);
                rc = write_plan(c, n + 1, out->target, 0, diag);
            }
        }
    } else if (rc == PDS_OK && kmin >= c->max_proposals) {
        pds_diag_add(diag, c->path, 0, 0,
                     "generation %zu: max_proposals (%llu) reached with %zu of %zu particles "
                     "accepted (tolerance %g); the finished generations are kept",
                     n, (unsigned long long)c->max_proposals, acc, N, eps);
        rc = PDS_ERR_RUNTIME;
    } else if (rc == PDS_OK) {
        /* too few below kmin: a further round, the target raised by the
         * proposals still needed at the rate seen so far */
        uint64_t next = target;
        if (kmin >= target) {
            double rate = acc > 0 ? (double)acc / (double)kmin : 0.0;
            double want = rate > 0 ? (double)(N - acc) / rate * 1.2 + 16.0 * (double)tasks
                                   : (double)kmin + 16.0 * (double)tasks;
            double k2 = (double)kmin + ceil(want);
            next = k2 >= (double)c->max_proposals ? c->max_proposals : (uint64_t)k2;
            round++;
        }
        out->round = round;
        out->target = next;
        out->missing = missing;
        rc = write_plan(c, n, next, round, diag);
    }
    free(refs);
    for (size_t i = 0; parts && i < tasks; i++)
        part_free(&parts[i]);
    free(parts);
    if (have_pop)
        pds_abc_population_free(&pop);
    return rc;
}

/* ---- results ------------------------------------------------------------- */

pds_status pds_calib_write_posterior(const pds_calib *c, const pds_calib_gen *g, const char *path,
                                     pds_diag *diag)
{
    pds_outfile o;
    pds_status rc = pds_outfile_open(&o, path, NULL, 0, diag);
    if (rc != PDS_OK)
        return rc;
    size_t P = c->n_params;
    fprintf(o.f, "particle");
    for (size_t p = 0; p < P; p++)
        fprintf(o.f, ",%s", c->sw->params[p].name);
    fprintf(o.f, ",weight\n");
    for (size_t i = 0; i < g->n; i++) {
        fprintf(o.f, "%zu", i);
        for (size_t p = 0; p < P; p++)
            fprintf(o.f, ",%.17g", g->theta[i * P + p]);
        fprintf(o.f, ",%.17g\n", g->weight[i]);
    }
    return pds_outfile_commit(&o, diag);
}

pds_status pds_calib_write_generations(const pds_calib *c, const pds_calib_gen *gens,
                                       size_t n_gens, const char *path, pds_diag *diag)
{
    pds_outfile o;
    pds_status rc = pds_outfile_open(&o, path, NULL, 0, diag);
    if (rc != PDS_OK)
        return rc;
    size_t P = c->n_params;
    double mean[PDS_ABC_MAX_PARAMS], cov[PDS_ABC_MAX_PARAMS * PDS_ABC_MAX_PARAMS];
    fprintf(o.f, "generation,tolerance,proposals,simulated,accepted,acceptance_rate,ess");
    for (size_t p = 0; p < P; p++)
        fprintf(o.f, ",mean:%s,sd:%s", c->sw->params[p].name, c->sw->params[p].name);
    fputc('\n', o.f);
    for (size_t t = 0; t < n_gens; t++) {
        const pds_calib_gen *g = &gens[t];
        pds_abc_weighted_moments(g->n, P, g->theta, g->weight, mean, cov);
        fprintf(o.f, "%zu,%.17g,%llu,%llu,%zu,%.6g,%.6g", t, g->tolerance,
                (unsigned long long)g->proposals, (unsigned long long)g->simulated, g->n,
                (double)g->n / (double)g->proposals, g->ess);
        for (size_t p = 0; p < P; p++)
            fprintf(o.f, ",%.10g,%.10g", mean[p], sqrt(cov[p * P + p]));
        fputc('\n', o.f);
    }
    return pds_outfile_commit(&o, diag);
}

/* A YAML double-quoted string. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

pds_status pds_calib_write_model(const pds_calib *c, const pds_calib_gen *g, const char *path,
                                 pds_diag *diag)
{
    size_t P = c->n_params;
    pds_sweep_target target = c->sw->params[0].target;
    for (size_t p = 0; p < P; p++)
        if (c->sw->params[p].target != target ||
            (target != PDS_SWEEP_MODEL && target != PDS_SWEEP_SUBMODEL)) {
            pds_diag_add(diag, c->path, c->sw->params[p].line, c->sw->params[p].col,
                         "-o MODEL.yaml: every parameter must be a coefficient of one model "
                         "(model.TERM or subunit_model.TERM), and %s is not of the first's",
                         c->sw->params[p].name);
            return PDS_ERR_INPUT;
        }
    const pds_setup *s = &c->sw->setup;
    const pds_model *m = target == PDS_SWEEP_MODEL ? s->unit_model : s->sub_model;
    const char *src = target == PDS_SWEEP_MODEL ? s->cfg->model_path : s->cfg->subunit_model_path;
    size_t K = m->n_terms + 1; /* intercept first */
    long *col = malloc(K * sizeof *col);
    double *coef = malloc(K * sizeof *coef), *se = malloc(K * sizeof *se);
    double mean[PDS_ABC_MAX_PARAMS], cov[PDS_ABC_MAX_PARAMS * PDS_ABC_MAX_PARAMS];
    if (!col || !coef || !se) {
        free(col);
        free(coef);
        free(se);
        return PDS_ERR_RUNTIME;
    }
    for (size_t k = 0; k < K; k++) {
        col[k] = -1;
        coef[k] = k ? m->terms[k - 1].coef : m->intercept;
        se[k] = k ? m->terms[k - 1].se : m->intercept_se;
    }
    pds_abc_weighted_moments(g->n, P, g->theta, g->weight, mean, cov);
    for (size_t p = 0; p < P; p++) {
        size_t k = (size_t)(c->sw->params[p].index + 1);
        col[k] = (long)p;
        coef[k] = mean[p];
        se[k] = sqrt(cov[p * P + p]);
    }
    int all = 1;
    for (size_t k = 0; k < K; k++)
        all &= col[k] >= 0;
    for (size_t k = 0; k < K && m->n_terms; k++) {
        const pds_term *t = k ? &m->terms[k - 1] : NULL;
        /* the term forms this writer knows; the others are refused rather
         * than written without their settings */
        int simple = !t || ((t->kind == PDS_TERM_PANEL || t->kind == PDS_TERM_DOCUMENTS ||
                             t->kind == PDS_TERM_NEIGHBOURS_PCT ||
                             t->kind == PDS_TERM_SUBUNITS_PCT ||
                             t->kind == PDS_TERM_PARENT_ADOPTED ||
                             t->kind == PDS_TERM_SIBLINGS_PCT) &&
                            !t->level && !t->unit_attr && !t->factor && !t->has_lag &&
                            !t->fixed && t->n_factors == 0);
        if (!simple) {
            pds_diag_add(diag, src, t->line, 0,
                         "-o MODEL.yaml: the term '%s' (a form with settings of its own) cannot "
                         "be written by calibrate yet; take the posterior from posterior.csv "
                         "instead",
                         t->name);
            free(col);
            free(coef);
            free(se);
            return PDS_ERR_INPUT;
        }
    }
    pds_outfile o;
    pds_status rc = pds_outfile_open(&o, path, (const char *const *)&src, 1, diag);
    if (rc != PDS_OK) {
        free(col);
        free(coef);
        free(se);
        return rc;
    }
    FILE *f = o.f;
    char *stem = pds_default_output(path, "");
    const pds_calib_gen *last = g;
    fprintf(f, "name: %s\n", stem ? stem + 7 : m->name);
    free(stem);
    char text[2048];
    snprintf(text, sizeof text,
             "%s, CALIBRATED by ABC-SMC (pdsim calibrate %s): posterior mean as coef, weighted "
             "sd as se%s; %zu particles, tolerance %.4g",
             m->name, c->path, all ? ", weighted covariance" : "", last->n, last->tolerance);
    fputs("description: ", f);
    put_quoted(f, text);
    snprintf(text, sizeof text,
             "Calibrated, not estimated: approximate Bayesian computation (ABC-SMC) against the "
             "targets of %s; the posterior sample is in the .posterior.csv beside this file "
             "(calibration hash %s, seed %llu)",
             c->path, c->hash, (unsigned long long)c->seed);
    fputs("\nsource: ", f);
    put_quoted(f, text);
    fprintf(f, "\nlink: %s\nlag: %d\n", m->link == PDS_LINK_CLOGLOG ? "cloglog" : "logit", m->lag);
    fprintf(f, "intercept: {coef: %.6g, se: %.4g}\n", coef[0], se[0]);
    fprintf(f, m->n_terms ? "terms:\n" : "terms: []\n");
    for (size_t k = 1; k < K; k++) {
        const pds_term *t = &m->terms[k - 1];
        fputs("  - {name: ", f);
        put_quoted(f, t->name);
        if (t->kind == PDS_TERM_PANEL) {
            fputs(", variable: ", f);
            put_quoted(f, t->variable);
            if (t->transform != PDS_TRANSFORM_NONE)
                fprintf(f, ", transform: %s", t->transform == PDS_TRANSFORM_LOG ? "log" : "log1p");
        } else {
            fprintf(f, ", dynamic: %s", pds_term_kind_name(t->kind));
            if (t->transform == PDS_TRANSFORM_LOG1P)
                fputs(", transform: log1p", f);
        }
        fprintf(f, ", coef: %.6g, se: %.4g}\n", coef[k], se[k]);
    }
    if (all) {
        fputs("covariance:\n", f);
        for (size_t a = 0; a < K; a++) {
            fputs("  - [", f);
            for (size_t b = 0; b < K; b++)
                fprintf(f, "%s%.6g", b ? ", " : "", cov[col[a] * (long)P + col[b]]);
            fputs("]\n", f);
        }
    }
    free(col);
    free(coef);
    free(se);
    return pds_outfile_commit(&o, diag);
}
