#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 1000000000.0 /* 10^9: beyond this a single file is the wrong tool */
#define MAX_YEARS_SIMULATED 500

static const char *const rule_names[] = {"hold", "trend", NULL};

typedef struct proj_doc {
    int rule;
    long years;
    double min, max;
} proj_doc;

const pds_key pds_projection_keys[] = {
    {"rule", PDS_KEY_ENUM, 0, 0, 0, "hold", rule_names, offsetof(proj_doc, rule), NULL,
     "hold the last observed value, or continue a linear trend", NULL},
    {"years", PDS_KEY_INT, 0, 2, 100, "5", NULL, offsetof(proj_doc, years), NULL,
     "trend: fitted over the last this many observed years", NULL},
    {"min", PDS_KEY_DOUBLE, 0, -1e300, 1e300, NULL, NULL, offsetof(proj_doc, min), NULL,
     "trend: lower clamp (default: lowest value in the panel)", NULL},
    {"max", PDS_KEY_DOUBLE, 0, -1e300, 1e300, NULL, NULL, offsetof(proj_doc, max), NULL,
     "trend: upper clamp (default: highest value in the panel)", NULL},
};
const size_t pds_n_projection_keys = sizeof pds_projection_keys / sizeof pds_projection_keys[0];

static int parse_one_proj(pds_yaml *y, yaml_node_t *n, const char *where, pds_projection *out,
                          pds_diag *diag)
{
    proj_doc d = {.min = NAN, .max = NAN};
    if (pds_yaml_parse_map(y, n, pds_projection_keys, pds_n_projection_keys, &d, where, diag) != 0)
        return -1;
    if (!isnan(d.min) && !isnan(d.max) && d.min > d.max) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n), "%s: min is above max",
                     where);
        return -1;
    }
    out->rule = (pds_proj_rule)d.rule;
    out->years = (int)d.years;
    out->min = d.min;
    out->max = d.max;
    return 0;
}

static int parse_projection(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_config *c = target;
    if (n->type != YAML_MAPPING_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "projection: expected a mapping with 'default' and/or 'variables'");
        return -1;
    }
    int bad = 0, seen_default = 0, seen_vars = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = pds_yaml_node(y, p->key), *vn = pds_yaml_node(y, p->value);
        const char *key = pds_yaml_scalar(kn);
        int dup = key && ((strcmp(key, "default") == 0 && seen_default++) ||
                          (strcmp(key, "variables") == 0 && seen_vars++));
        if (dup) {
            pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                         "key 'projection.%s' appears twice", key);
            bad = 1;
            continue;
        }
        if (key && strcmp(key, "default") == 0) {
            bad |= parse_one_proj(y, vn, "projection.default", &c->default_proj, diag) != 0;
        } else if (key && strcmp(key, "variables") == 0) {
            if (vn->type != YAML_MAPPING_NODE) {
                pds_diag_add(diag, y->path, pds_yaml_line(vn), pds_yaml_col(vn),
                             "projection.variables: expected a mapping of variable: rule");
                bad = 1;
                continue;
            }
            size_t k = (size_t)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
            free(c->proj);
            c->proj = calloc(k + 1, sizeof *c->proj);
            c->n_proj = 0;
            if (!c->proj)
                return -1;
            for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top;
                 q++) {
                const char *var = pds_yaml_scalar(pds_yaml_node(y, q->key));
                char where[256];
                snprintf(where, sizeof where, "projection.variables.%s", var ? var : "?");
                pds_projection pr = {0};
                int twice = 0;
                for (size_t i = 0; var && i < c->n_proj; i++)
                    twice |= strcmp(c->proj[i].variable, var) == 0;
                if (twice) {
                    yaml_node_t *qk = pds_yaml_node(y, q->key);
                    pds_diag_add(diag, y->path, pds_yaml_line(qk), pds_yaml_col(qk),
                                 "key '%s' appears twice", where);
                    bad = 1;
                    continue;
                }
                if (!var || parse_one_proj(y, pds_yaml_node(y, q->value), where, &pr, diag) != 0) {
                    bad = 1;
                    continue;
                }
                size_t len = strlen(var) + 1;
                char *name = malloc(len);
                if (!name)
                    return -1;
                memcpy(name, var, len);
                pr.variable = name;
                c->proj[c->n_proj++] = pr;
            }
        } else {
            pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                         "unknown key 'projection.%s' (known keys: default, variables)",
                         key ? key : "?");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int parse_report_years(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_config *c = target;
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "report_years: expected a list of years, e.g. [2025, 2030, 2035]");
        return -1;
    }
    c->n_report_years = 0;
    int bad = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        long v;
        if (c->n_report_years == PDS_MAX_REPORT_YEARS) {
            pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                         "report_years: at most %d years", PDS_MAX_REPORT_YEARS);
            return -1;
        }
        if (pds_yaml_long(y, pds_yaml_node(y, *it), "report_years", 1000, 3000, &v, diag) != 0)
            bad = 1;
        else
            c->report_years[c->n_report_years++] = v;
    }
    return bad ? -1 : 0;
}

typedef struct model_doc {
    char *model;
    double weight;
} model_doc;

static const pds_key model_entry_keys[] = {
    {"model", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, offsetof(model_doc, model), NULL,
     "unit hazard model file (YAML)", NULL},
    {"weight", PDS_KEY_DOUBLE, 1, 0, 1e300, NULL, NULL, offsetof(model_doc, weight), NULL,
     "its weight (> 0); weights are normalised to sum 1", NULL},
};

static int seq_len(pds_yaml *y, yaml_node_t *n, const char *what, size_t *len, pds_diag *diag);

/* models: [{model: FILE, weight: W}, ...]: each run draws one of them. */
static int parse_models(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_config *c = target;
    size_t len;
    c->models_line = pds_yaml_line(n);
    if (seq_len(y, n, "models", &len, diag) != 0)
        return -1;
    if (len < 1 || len > PDS_MAX_MODELS) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "models: expected 1..%d entries {model: FILE, weight: W}, got %zu",
                     PDS_MAX_MODELS, len);
        return -1;
    }
    c->models = calloc(len + 1, sizeof *c->models);
    c->model_weights = calloc(len + 1, sizeof *c->model_weights);
    if (!c->models || !c->model_weights)
        return -1;
    int bad = 0;
    double total = 0;
    for (size_t i = 0; i < len; i++) {
        model_doc d = {0};
        char where[32];
        snprintf(where, sizeof where, "models[%zu]", i);
        yaml_node_t *e = pds_yaml_node(y, n->data.sequence.items.start[i]);
        if (pds_yaml_parse_map(y, e, model_entry_keys, 2, &d, where, diag) != 0) {
            bad = 1;
            free(d.model);
            continue;
        }
        if (!(d.weight > 0)) {
            pds_diag_add(diag, y->path, pds_yaml_line(e), pds_yaml_col(e),
                         "%s.weight: expected a positive number, got %g", where, d.weight);
            bad = 1;
        }
        c->models[c->n_models] = d.model;
        c->model_weights[c->n_models++] = d.weight;
        total += d.weight;
    }
    if (bad)
        return -1;
    for (size_t i = 0; i < c->n_models; i++)
        c->model_weights[i] /= total;
    return 0;
}

typedef struct doc_doc {
    long year;
    double count, weight;
    char *title;
} doc_doc;

static const pds_key scenario_doc_keys[] = {
    {"year", PDS_KEY_INT, 1, 1000, 3000, NULL, NULL, offsetof(doc_doc, year), NULL,
     "year of issue", NULL},
    {"count", PDS_KEY_DOUBLE, 0, -1e6, 1e6, "1", NULL, offsetof(doc_doc, count), NULL,
     "number of documents; negative removes documents of that year (a counterfactual)", NULL},
    {"weight", PDS_KEY_DOUBLE, 0, 0, 1e6, "1", NULL, offsetof(doc_doc, weight), NULL,
     "weight of each (a binding document may weigh more)", NULL},
    {"title", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(doc_doc, title), NULL, "title", NULL},
};

typedef struct forced_doc {
    char *unit;
    long year;
} forced_doc;

static const pds_key forced_keys[] = {
    {"unit", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, offsetof(forced_doc, unit), NULL, "unit code",
     NULL},
    {"year", PDS_KEY_INT, 1, 1000, 3000, NULL, NULL, offsetof(forced_doc, year), NULL,
     "year it adopts", NULL},
};

typedef struct channel_doc {
    int documents, neighbours, subunits;
} channel_doc;

static const pds_key channel_keys[] = {
    {"central_documents", PDS_KEY_BOOL, 0, 0, 0, "true", NULL, offsetof(channel_doc, documents),
     NULL, "central-document terms on", NULL},
    {"neighbours", PDS_KEY_BOOL, 0, 0, 0, "true", NULL, offsetof(channel_doc, neighbours), NULL,
     "neighbour terms on", NULL},
    {"subunits", PDS_KEY_BOOL, 0, 0, 0, "true", NULL, offsetof(channel_doc, subunits), NULL,
     "sub-unit share terms and the sub-unit model's peer and parent terms on", NULL},
};

static int seq_len(pds_yaml *y, yaml_node_t *n, const char *what, size_t *len, pds_diag *diag)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n), "%s: expected a list", what);
        return -1;
    }
    *len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return 0;
}

static int parse_scenario_docs(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_scenario *sc = target;
    size_t len;
    if (seq_len(y, n, "scenario.central_documents", &len, diag) != 0)
        return -1;
    free(sc->documents);
    free(sc->document_count);
    free(sc->document_weight);
    sc->documents = calloc(len + 1, sizeof *sc->documents);
    sc->document_count = calloc(len + 1, sizeof *sc->document_count);
    sc->document_weight = calloc(len + 1, sizeof *sc->document_weight);
    sc->n_documents = 0;
    if (!sc->documents || !sc->document_count || !sc->document_weight)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        doc_doc d = {0};
        char where[64];
        snprintf(where, sizeof where, "scenario.central_documents[%zu]", i);
        if (pds_yaml_parse_map(y, pds_yaml_node(y, n->data.sequence.items.start[i]),
                               scenario_doc_keys, 4, &d, where, diag) != 0) {
            bad = 1;
        } else {
            sc->documents[sc->n_documents].year = (int)d.year;
            sc->documents[sc->n_documents].weight = d.count * d.weight;
            sc->document_count[sc->n_documents] = d.count;
            sc->document_weight[sc->n_documents] = d.weight;
            sc->n_documents++;
        }
        free(d.title);
    }
    return bad ? -1 : 0;
}

static int parse_forced(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_scenario *sc = target;
    size_t len;
    if (seq_len(y, n, "scenario.forced_adoption", &len, diag) != 0)
        return -1;
    sc->forced = calloc(len + 1, sizeof *sc->forced);
    if (!sc->forced)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = pds_yaml_node(y, n->data.sequence.items.start[i]);
        forced_doc d = {0};
        char where[64];
        snprintf(where, sizeof where, "scenario.forced_adoption[%zu]", i);
        if (pds_yaml_parse_map(y, item, forced_keys, 2, &d, where, diag) != 0) {
            bad = 1;
            free(d.unit);
            continue;
        }
        sc->forced[sc->n_forced].unit = d.unit;
        sc->forced[sc->n_forced].year = (int)d.year;
        sc->forced[sc->n_forced].line = pds_yaml_line(item);
        sc->n_forced++;
    }
    return bad ? -1 : 0;
}

static int parse_channels(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_scenario *sc = target;
    channel_doc d = {1, 1, 1};
    if (pds_yaml_parse_map(y, n, channel_keys, 3, &d, "scenario.channels", diag) != 0)
        return -1;
    sc->documents_channel = d.documents;
    sc->neighbours_channel = d.neighbours;
    sc->subunits_channel = d.subunits;
    return 0;
}

typedef struct shock_doc {
    char *unit, *variable;
    long from, to;
    double set, add;
} shock_doc;

static const pds_key shock_keys[] = {
    {"unit", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, offsetof(shock_doc, unit), NULL,
     "unit code, or \"*\" for every unit", NULL},
    {"variable", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, offsetof(shock_doc, variable), NULL,
     "panel variable", NULL},
    {"from", PDS_KEY_INT, 1, 1000, 3000, NULL, NULL, offsetof(shock_doc, from), NULL,
     "first covariate year affected", NULL},
    {"to", PDS_KEY_INT, 0, 1000, 3000, "3000", NULL, offsetof(shock_doc, to), NULL,
     "last covariate year affected", NULL},
    {"set", PDS_KEY_DOUBLE, 0, -1e300, 1e300, NULL, NULL, offsetof(shock_doc, set), NULL,
     "value to use (a path)", NULL},
    {"add", PDS_KEY_DOUBLE, 0, -1e300, 1e300, NULL, NULL, offsetof(shock_doc, add), NULL,
     "amount to add (a shock)", NULL},
};

static int parse_shocks(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_scenario *sc = target;
    size_t len;
    if (seq_len(y, n, "scenario.covariates", &len, diag) != 0)
        return -1;
    sc->shocks = calloc(len + 1, sizeof *sc->shocks);
    if (!sc->shocks)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = pds_yaml_node(y, n->data.sequence.items.start[i]);
        shock_doc d = {.set = NAN, .add = NAN};
        char where[64];
        snprintf(where, sizeof where, "scenario.covariates[%zu]", i);
        int ok = pds_yaml_parse_map(y, item, shock_keys, 6, &d, where, diag) == 0;
        if (ok && isnan(d.set) == isnan(d.add)) {
            pds_diag_add(diag, y->path, pds_yaml_line(item), pds_yaml_col(item),
                         "%s: expected exactly one of 'set' or 'add'", where);
            ok = 0;
        }
        if (ok && d.to < d.from) {
            pds_diag_add(diag, y->path, pds_yaml_line(item), pds_yaml_col(item),
                         "%s: 'to' (%ld) is before 'from' (%ld)", where, d.to, d.from);
            ok = 0;
        }
        if (!ok) {
            bad = 1;
            free(d.unit);
            free(d.variable);
            continue;
        }
        pds_scenario_shock *s = &sc->shocks[sc->n_shocks++];
        s->unit = d.unit;
        s->variable = d.variable;
        s->from = (int)d.from;
        s->to = (int)d.to;
        s->add = !isnan(d.add);
        s->amount = s->add ? d.add : d.set;
        s->line = pds_yaml_line(item);
    }
    return bad ? -1 : 0;
}

static const pds_key scenario_keys[] = {
    {"name", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, offsetof(pds_run_scenario, name), NULL,
     "name of the scenario", NULL},
    {"central_documents", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_scenario_docs,
     "extra documents: list of {year, count, weight, title}", "list"},
    {"forced_adoption", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_forced,
     "units made to adopt: list of {unit, year}", "list"},
    {"covariates", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_shocks,
     "covariate paths and shocks: list of {unit, variable, from, to, set | add}", "list"},
    {"channels", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_channels,
     "switch channels off: {central_documents, neighbours, subunits}", "mapping"},
};

static int parse_scenario(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_config *c = target;
    return pds_yaml_parse_map(y, n, scenario_keys, sizeof scenario_keys / sizeof scenario_keys[0],
                              &c->scenario, "scenario", diag);
}

static const char *const uncertainty_names[] = {"none", "coefficients", NULL};
static const char *const recalibration_names[] = {"none", "in-sample", NULL};

#define OFF(f) offsetof(pds_run_config, f)
const pds_key pds_run_config_keys[] = {
    {"dataset", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, OFF(dataset), NULL,
     "dataset folder (units.csv, contiguity.csv, ...)", NULL},
    {"model", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(model), NULL,
     "unit hazard model (YAML); required unless `models` is given",
     NULL},
    {"models", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_models,
     "instead of model: several unit models, [{model: FILE, weight: W}]; each run draws one "
     "with these probabilities from its own stream (structural uncertainty)",
     "list"},
    {"subunit_model", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(subunit_model), NULL,
     "sub-unit (city) hazard model; without it sub-units keep their base-year state", NULL},
    {"base_year", PDS_KEY_INT, 1, 1000, 3000, NULL, NULL, OFF(base_year), NULL,
     "last year of observed history; the simulation starts the year after", NULL},
    {"horizon", PDS_KEY_INT, 1, 1000, 3000, NULL, NULL, OFF(horizon), NULL,
     "last simulated year", NULL},
    {"runs", PDS_KEY_U64, 0, 1, MAX_RUNS, "10000", NULL, OFF(runs), NULL, "Monte Carlo runs",
     NULL},
    {"seed", PDS_KEY_U64, 0, 0, 1.9e19, "1", NULL, OFF(seed), NULL,
     "random seed; a run's numbers depend only on (seed, run)", NULL},
    {"threads", PDS_KEY_INT, 0, 0, 1024, "0", NULL, OFF(threads), NULL,
     "OpenMP threads; 0 = OMP_NUM_THREADS or all cores", NULL},
    {"chunk_runs", PDS_KEY_INT, 0, 0, 1048576, "0", NULL, OFF(chunk_runs), NULL,
     "runs per HDF5 chunk: memory grows with this, not with runs; 0 = as many as fill "
     "4 MB (at most 4096)", NULL},
    {"output", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(output), NULL,
     "output HDF5 file; default output/<config name>.h5", NULL},
    {"store_subunit_years", PDS_KEY_BOOL, 0, 0, 0, "true", NULL, OFF(store_subunit_years), NULL,
     "write per-run sub-unit adoption years (/runs/city_adoption_year)", NULL},
    {"sea_links", PDS_KEY_BOOL, 0, 0, 0, "false", NULL, OFF(sea_links), NULL,
     "count contiguity rows of type sea as neighbours", NULL},
    {"neighbour_weights", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(neighbour_weights), NULL,
     "CSV unit_a,unit_b,weight used instead of the dataset's contiguity.csv", NULL},
    {"report_years", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_report_years,
     "years for P(adopted by year) in the summary (default: 3 spread to the horizon)",
     "list of years"},
    {"uncertainty", PDS_KEY_ENUM, 0, 0, 0, "none", uncertainty_names, OFF(uncertainty), NULL,
     "coefficients: each run draws the unit model's coefficients from N(estimate, covariance)",
     NULL},
    {"intercept_recalibration", PDS_KEY_ENUM, 0, 0, 0, "none", recalibration_names,
     OFF(intercept_recalibration), NULL,
     "in-sample: shift the unit model's intercept so that its fitted hazards over the observed "
     "unit-years at risk (to base_year) sum to the observed adoptions",
     NULL},
    {"scenario", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_scenario,
     "{name, central_documents: [{year, count, weight, title}], forced_adoption: [{unit, year}], "
     "covariates: [{unit, variable, from, to, set|add}], channels: {central_documents, neighbours, "
     "subunits}}",
     "mapping"},
    {"projection", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_projection,
     "covariates past the panel: {default: RULE, variables: {name: RULE}}, "
     "RULE = {rule: hold/trend, years, min, max}",
     "mapping"},
};
const size_t pds_n_run_config_keys = sizeof pds_run_config_keys / sizeof pds_run_config_keys[0];

char *pds_path_relative_to(const char *file, const char *rel)
{
    if (!rel)
        return NULL;
    const char *slash = strrchr(file, '/');
    size_t dl = (rel[0] == '/' || !slash) ? 0 : (size_t)(slash - file) + 1;
    size_t n = dl + strlen(rel) + 1;
    char *p = malloc(n);
    if (!p)
        return NULL;
    memcpy(p, file, dl);
    memcpy(p + dl, rel, strlen(rel) + 1);
    return p;
}

char *pds_default_output(const char *config, const char *suffix)
{
    const char *base = strrchr(config, '/');
    base = base ? base + 1 : config;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
        len = (size_t)(dot - base);
    size_t n = len + strlen(suffix) + sizeof "output/";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "output/%.*s%s", (int)len, base, suffix);
    return p;
}

void pds_run_config_free(pds_run_config *c)
{
    if (!c)
        return;
    pds_yaml_free_fields(pds_run_config_keys, pds_n_run_config_keys, c);
    free(c->path);
    free(c->text);
    free(c->dataset_path);
    free(c->model_path);
    free(c->subunit_model_path);
    free(c->neighbour_weights_path);
    free(c->output_path);
    for (size_t i = 0; i < c->n_proj; i++)
        free((char *)c->proj[i].variable);
    free(c->proj);
    free(c->scenario.name);
    free(c->scenario.documents);
    free(c->scenario.document_count);
    free(c->scenario.document_weight);
    for (size_t i = 0; i < c->scenario.n_forced; i++)
        free(c->scenario.forced[i].unit);
    free(c->scenario.forced);
    for (size_t i = 0; i < c->scenario.n_shocks; i++) {
        free(c->scenario.shocks[i].unit);
        free(c->scenario.shocks[i].variable);
    }
    free(c->scenario.shocks);
    for (size_t i = 0; i < c->n_models; i++) {
        free(c->models[i]);
        if (c->models_path)
            free(c->models_path[i]);
    }
    free(c->models);
    free(c->models_path);
    free(c->model_weights);
    free(c);
}

/* The value node of key in the mapping, or the mapping itself when absent. */
static yaml_node_t *key_node(pds_yaml *y, yaml_node_t *map, const char *key)
{
    if (map && map->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
            const char *k = pds_yaml_scalar(pds_yaml_node(y, p->key));
            if (k && strcmp(k, key) == 0)
                return pds_yaml_node(y, p->value);
        }
    return map;
}

pds_run_config *pds_run_config_load(const char *path, pds_diag *diag)
{
    pds_yaml *y = pds_yaml_load(path, diag);
    if (!y)
        return NULL;
    pds_run_config *c = calloc(1, sizeof *c);
    if (!c) {
        pds_yaml_free(y);
        return NULL;
    }
    c->scenario.documents_channel = c->scenario.neighbours_channel = 1;
    c->scenario.subunits_channel = 1;
    c->default_proj.rule = PDS_PROJ_HOLD;
    c->default_proj.years = 5;
    c->default_proj.min = c->default_proj.max = NAN;
    int bad = pds_yaml_parse_map(y, pds_yaml_root(y), pds_run_config_keys, pds_n_run_config_keys,
                                 c, NULL, diag) != 0;
    yaml_node_t *root = pds_yaml_root(y);
    yaml_node_t *hn = key_node(y, root, "horizon"), *rn = key_node(y, root, "report_years");
    if (!c->model == !c->n_models && (c->model || !c->models)) {
        /* (c->models without n_models: models: was given but is broken) */
        yaml_node_t *r0 = pds_yaml_root(y);
        pds_diag_add(diag, path, c->n_models ? c->models_line : pds_yaml_line(r0),
                     c->n_models ? 0 : pds_yaml_col(r0),
                     c->model ? "give either model or models, not both"
                              : "missing required key 'model' (or 'models', a list of models)");
        bad = 1;
    }
    if (!bad && c->horizon <= c->base_year) {
        pds_diag_add(diag, path, pds_yaml_line(hn), pds_yaml_col(hn),
                     "horizon (%ld) must be after base_year (%ld)", c->horizon, c->base_year);
        bad = 1;
    }
    if (!bad && c->horizon - c->base_year > MAX_YEARS_SIMULATED) {
        pds_diag_add(diag, path, pds_yaml_line(hn), pds_yaml_col(hn),
                     "horizon - base_year = %ld: at most %d simulated years", c->horizon - c->base_year,
                     MAX_YEARS_SIMULATED);
        bad = 1;
    }
    if (!bad && c->n_report_years == 0) {
        long span = c->horizon - c->base_year;
        long step = span >= 3 ? span / 3 : 1;
        for (long yv = c->horizon; yv > c->base_year && c->n_report_years < 3; yv -= step)
            c->report_years[c->n_report_years++] = yv;
        for (size_t i = 0; i < c->n_report_years / 2; i++) {
            long t = c->report_years[i];
            c->report_years[i] = c->report_years[c->n_report_years - 1 - i];
            c->report_years[c->n_report_years - 1 - i] = t;
        }
    }
    for (size_t i = 0; !bad && i < c->n_report_years; i++) {
        if (c->report_years[i] <= c->base_year || c->report_years[i] > c->horizon) {
            pds_diag_add(diag, path, pds_yaml_line(rn), pds_yaml_col(rn),
                         "report_years: %ld is outside the simulated years %ld..%ld",
                         c->report_years[i], c->base_year + 1, c->horizon);
            bad = 1;
        }
    }
    c->path = malloc(strlen(path) + 1);
    if (c->path)
        memcpy(c->path, path, strlen(path) + 1);
    c->text = y->text;
    y->text = NULL;
    pds_yaml_free(y);
    if (bad || !c->path) {
        pds_run_config_free(c);
        return NULL;
    }
    c->dataset_path = pds_path_relative_to(path, c->dataset);
    if (c->n_models) {
        c->models_path = calloc(c->n_models, sizeof *c->models_path);
        for (size_t i = 0; c->models_path && i < c->n_models; i++)
            c->models_path[i] = pds_path_relative_to(path, c->models[i]);
        /* the first model stands for the config where one model is meant */
        c->model = c->models[0] ? strdup(c->models[0]) : NULL;
    }
    c->model_path = pds_path_relative_to(path, c->model);
    c->subunit_model_path = pds_path_relative_to(path, c->subunit_model);
    c->neighbour_weights_path = pds_path_relative_to(path, c->neighbour_weights);
    c->output_path =
        c->output ? pds_path_relative_to(path, c->output) : pds_default_output(path, ".h5");
    for (size_t i = 0; i < c->n_models; i++)
        if (!c->models_path || !c->models_path[i])
            c->model_path = NULL; /* out of memory: fail below */
    if (!c->dataset_path || !c->model_path || !c->output_path ||
        (c->subunit_model && !c->subunit_model_path)) {
        pds_run_config_free(c);
        return NULL;
    }
    return c;
}
