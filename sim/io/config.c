#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

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
    /* start from what is there: a config that extends another changes only the
     * keys it names */
    proj_doc d = {.rule = (int)out->rule, .years = out->years, .min = out->min, .max = out->max};
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
            /* variables named here replace or join those of a config this one
             * extends */
            size_t k = (size_t)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
            size_t n0 = c->n_proj;
            pds_projection *grown = realloc(c->proj, (n0 + k + 1) * sizeof *c->proj);
            if (!grown)
                return -1;
            c->proj = grown;
            for (yaml_node_pair_t *q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top;
                 q++) {
                const char *var = pds_yaml_scalar(pds_yaml_node(y, q->key));
                char where[256];
                snprintf(where, sizeof where, "projection.variables.%s", var ? var : "?");
                pds_projection pr = {.rule = PDS_PROJ_HOLD, .years = 5, .min = NAN, .max = NAN};
                int twice = 0;
                size_t at = c->n_proj;
                for (size_t i = 0; var && i < c->n_proj; i++)
                    if (strcmp(c->proj[i].variable, var) == 0) {
                        twice |= i >= n0;
                        at = i;
                    }
                if (twice) {
                    yaml_node_t *qk = pds_yaml_node(y, q->key);
                    pds_diag_add(diag, y->path, pds_yaml_line(qk), pds_yaml_col(qk),
                                 "key '%s' appears twice", where);
                    bad = 1;
                    continue;
                }
                if (at < c->n_proj)
                    pr = c->proj[at];
                if (!var || parse_one_proj(y, pds_yaml_node(y, q->value), where, &pr, diag) != 0) {
                    bad = 1;
                    continue;
                }
                if (at < c->n_proj) {
                    c->proj[at] = pr;
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
static void drop_models(pds_run_config *c)
{
    for (size_t i = 0; i < c->n_models; i++) {
        free(c->models[i]);
        if (c->models_path)
            free(c->models_path[i]);
    }
    free(c->models);
    free(c->models_path);
    free(c->model_weights);
    c->models = c->models_path = NULL;
    c->model_weights = NULL;
    c->n_models = 0;
}

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
    drop_models(c); /* a config extending another replaces its list whole */
    c->models = calloc(len + 1, sizeof *c->models);
    c->models_path = calloc(len + 1, sizeof *c->models_path);
    c->model_weights = calloc(len + 1, sizeof *c->model_weights);
    if (!c->models || !c->models_path || !c->model_weights)
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
        /* relative to the config that names it, as every path */
        char *j = d.model ? pds_path_relative_to(y->path, d.model) : NULL;
        c->models_path[c->n_models] = j ? pds_canonical_path(j) : NULL;
        free(j);
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

/* A list item is new whatever a config extends: its defaults apply and its
 * required keys are required. */
static int parse_item(pds_yaml *y, yaml_node_t *n, const pds_key *keys, size_t n_keys, void *target,
                      const char *where, pds_diag *diag)
{
    int overlay = y->overlay;
    y->overlay = 0;
    int rc = pds_yaml_parse_map(y, n, keys, n_keys, target, where, diag);
    y->overlay = overlay;
    return rc;
}

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
        if (parse_item(y, pds_yaml_node(y, n->data.sequence.items.start[i]),
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
    for (size_t i = 0; i < sc->n_forced; i++)
        free(sc->forced[i].unit);
    free(sc->forced);
    sc->n_forced = 0;
    sc->forced = calloc(len + 1, sizeof *sc->forced);
    if (!sc->forced)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = pds_yaml_node(y, n->data.sequence.items.start[i]);
        forced_doc d = {0};
        char where[64];
        snprintf(where, sizeof where, "scenario.forced_adoption[%zu]", i);
        if (parse_item(y, item, forced_keys, 2, &d, where, diag) != 0) {
            bad = 1;
            free(d.unit);
            continue;
        }
        sc->forced[sc->n_forced].unit = d.unit;
        sc->forced[sc->n_forced].year = (int)d.year;
        sc->forced[sc->n_forced].line = pds_yaml_line(item);
        sc->forced[sc->n_forced].file = y->path;
        sc->n_forced++;
    }
    return bad ? -1 : 0;
}

static int parse_channels(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_scenario *sc = target;
    channel_doc d = {sc->documents_channel, sc->neighbours_channel, sc->subunits_channel};
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
    for (size_t i = 0; i < sc->n_shocks; i++) {
        free(sc->shocks[i].unit);
        free(sc->shocks[i].variable);
    }
    free(sc->shocks);
    sc->n_shocks = 0;
    sc->shocks = calloc(len + 1, sizeof *sc->shocks);
    if (!sc->shocks)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = pds_yaml_node(y, n->data.sequence.items.start[i]);
        shock_doc d = {.set = NAN, .add = NAN};
        char where[64];
        snprintf(where, sizeof where, "scenario.covariates[%zu]", i);
        int ok = parse_item(y, item, shock_keys, 6, &d, where, diag) == 0;
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
        s->file = y->path;
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

typedef struct reliability_doc {
    long origins;
    uint64_t runs;
    int refit;
} reliability_doc;

static const pds_key reliability_keys[] = {
    {"backtest_origins", PDS_KEY_INT, 0, 0, 50, "5", NULL, offsetof(reliability_doc, origins), NULL,
     "rolling origins of the backtest written beside the forecast, the last two years before "
     "base_year; 0 = no backtest",
     NULL},
    {"runs", PDS_KEY_U64, 0, 1, 1e7, "2000", NULL, offsetof(reliability_doc, runs), NULL,
     "Monte Carlo runs at each origin", NULL},
    {"refit", PDS_KEY_BOOL, 0, 0, 0, "false", NULL, offsetof(reliability_doc, refit), NULL,
     "refit the model(s) on the history known at each origin (as backtest --refit)", NULL},
};

static int parse_reliability(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_run_config *c = target;
    reliability_doc d = {.origins = c->reliability.origins,
                         .runs = c->reliability.runs,
                         .refit = c->reliability.refit};
    int rc = pds_yaml_parse_map(y, n, reliability_keys,
                                sizeof reliability_keys / sizeof reliability_keys[0], &d,
                                "reliability", diag);
    c->reliability.origins = d.origins;
    c->reliability.runs = d.runs;
    c->reliability.refit = d.refit;
    return rc;
}

static const char *const uncertainty_names[] = {"none", "coefficients", "posterior", NULL};
static const char *const recalibration_names[] = {"none", "in-sample", NULL};

#define OFF(f) offsetof(pds_run_config, f)
const pds_key pds_run_config_keys[] = {
    {"extends", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(extends), NULL,
     "a run config whose settings this one starts from; the keys given here replace its values "
     "(mappings key by key, lists whole); output and replace are not inherited",
     NULL},
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
    {"replace", PDS_KEY_BOOL, 0, 0, 0, "false", NULL, OFF(replace), NULL,
     "an existing output file may be replaced (pdsim run --replace); otherwise run refuses it",
     NULL},
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
     "coefficients: each run draws the unit model's coefficients from N(estimate, covariance); "
     "posterior: each run takes one of the unit model's posterior draws (a model written by "
     "pdsim fit --prior), chosen by the run's coefficient stream",
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
    {"reliability", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_reliability,
     "the backtest written beside the forecast: {backtest_origins: 5, runs: 2000, refit: false}",
     "mapping"},
    {"projection", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_projection,
     "covariates past the panel: {default: RULE, variables: {name: RULE}}, "
     "RULE = {rule: hold/trend, years, min, max}",
     "mapping"},
};
const size_t pds_n_run_config_keys = sizeof pds_run_config_keys / sizeof pds_run_config_keys[0];

static int access_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    fclose(f);
    return 0;
}

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
    for (size_t i = 0; i < c->n_sources; i++)
        free(c->sources[i]);
    free(c->sources);
    free(c->resolved);
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
    drop_models(c);
    free(c);
}

/* The value node of key in the mapping, or NULL when absent. */
static yaml_node_t *find_key(pds_yaml *y, yaml_node_t *map, const char *key)
{
    if (map && map->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
            const char *k = pds_yaml_scalar(pds_yaml_node(y, p->key));
            if (k && strcmp(k, key) == 0)
                return pds_yaml_node(y, p->value);
        }
    return NULL;
}

#define MAX_EXTENDS 8

/* The files of one config: the config itself first, then the one it
 * extends, and so on. */
typedef struct layers {
    pds_yaml *y[MAX_EXTENDS + 1];
    size_t n;
} layers;

/* The file and node where key was last set (the nearest layer naming it),
 * or the top file's root. */
static yaml_node_t *where_set(layers *L, const char *key, pds_yaml **y)
{
    for (size_t i = 0; i < L->n; i++) {
        yaml_node_t *n = find_key(L->y[i], pds_yaml_root(L->y[i]), key);
        if (n) {
            *y = L->y[i];
            return n;
        }
    }
    *y = L->y[0];
    return pds_yaml_root(L->y[0]);
}

/* Load path and, through extends, every config below it, into L. */
static int load_layers(const char *path, layers *L, pds_diag *diag)
{
    char *cur = strdup(path);
    int rc = cur ? 0 : -1;
    while (rc == 0) {
        pds_yaml *y = pds_yaml_load(cur, diag);
        if (!y) {
            rc = -1;
            break;
        }
        L->y[L->n++] = y;
        yaml_node_t *root = pds_yaml_root(y);
        yaml_node_t *en = find_key(y, root, "extends");
        if (!en)
            break;
        const char *base = pds_yaml_scalar(en);
        if (!base || !*base) {
            pds_diag_add(diag, y->path, pds_yaml_line(en), pds_yaml_col(en),
                         "extends: expected the path of a run config, relative to this file");
            rc = -1;
            break;
        }
        char *next = pds_path_relative_to(cur, base);
        char *canon = pds_canonical_path(next);
        int loop = 0;
        for (size_t i = 0; canon && i < L->n; i++) {
            char *ci = pds_canonical_path(L->y[i]->path);
            loop |= ci && strcmp(ci, canon) == 0;
            free(ci);
        }
        if (!next || !canon) {
            rc = -1;
        } else if (loop) {
            pds_diag_add(diag, y->path, pds_yaml_line(en), pds_yaml_col(en),
                         "extends: %s is already in the chain of configs it extends (a loop)",
                         base);
            rc = -1;
        } else if (L->n > MAX_EXTENDS) {
            pds_diag_add(diag, y->path, pds_yaml_line(en), pds_yaml_col(en),
                         "extends: more than %d configs deep", MAX_EXTENDS);
            rc = -1;
        } else if (access_file(next) != 0) {
            pds_diag_add(diag, y->path, pds_yaml_line(en), pds_yaml_col(en),
                         "extends: %s: cannot read the file (%s); expected a run config, the "
                         "path relative to this file",
                         next, strerror(errno));
            rc = -1;
        }
        free(canon);
        free(cur);
        cur = next;
    }
    free(cur);
    return rc;
}

static const char *const path_keys[] = {"dataset", "model", "subunit_model", "neighbour_weights"};

/* The resolved path of each path key that this layer sets: relative to the
 * layer's own file, canonical when it exists. */
static int resolve_paths(pds_run_config *c, pds_yaml *y)
{
    char **field[4] = {&c->dataset_path, &c->model_path, &c->subunit_model_path,
                       &c->neighbour_weights_path};
    char *value[4] = {c->dataset, c->model, c->subunit_model, c->neighbour_weights};
    for (int i = 0; i < 4; i++) {
        if (!find_key(y, pds_yaml_root(y), path_keys[i]) || !value[i])
            continue;
        char *joined = pds_path_relative_to(y->path, value[i]);
        free(*field[i]);
        *field[i] = pds_canonical_path(joined);
        free(joined);
        if (!*field[i])
            return -1;
    }
    return 0;
}

pds_run_config *pds_run_config_load(const char *path, pds_diag *diag)
{
    layers L = {.n = 0};
    pds_run_config *c = NULL;
    int bad = load_layers(path, &L, diag) != 0;
    if (!bad)
        c = calloc(1, sizeof *c);
    if (!c) {
        for (size_t i = 0; i < L.n; i++)
            pds_yaml_free(L.y[i]);
        return NULL;
    }
    c->scenario.documents_channel = c->scenario.neighbours_channel = 1;
    c->scenario.subunits_channel = 1;
    c->default_proj.rule = PDS_PROJ_HOLD;
    c->default_proj.years = 5;
    c->default_proj.min = c->default_proj.max = NAN;
    c->reliability.origins = 5;
    c->reliability.runs = 2000;
    /* the deepest config first, with the defaults; each one above replaces
     * what it names */
    int seen_scenario = 0;
    for (size_t i = L.n; i-- > 0;) {
        pds_yaml *y = L.y[i];
        y->overlay = i + 1 < L.n;
        if (i == 0) {
            /* each config names its own output */
            free(c->output);
            c->output = NULL;
            c->replace = 0;
        }
        int sets_model = find_key(y, pds_yaml_root(y), "model") != NULL;
        int sets_models = find_key(y, pds_yaml_root(y), "models") != NULL;
        if (y->overlay && sets_model != sets_models) {
            /* model and models replace each other: a config extending one
             * with a single model may name several, and the reverse */
            if (sets_models) {
                free(c->model);
                free(c->model_path);
                c->model = c->model_path = NULL;
            } else {
                drop_models(c);
            }
        }
        bad |= pds_yaml_parse_map(y, pds_yaml_root(y), pds_run_config_keys, pds_n_run_config_keys,
                                  c, NULL, diag) != 0;
        bad |= resolve_paths(c, y) != 0;
        seen_scenario |= find_key(y, pds_yaml_root(y), "scenario") != NULL;
        y->overlay = 0;
    }
    pds_yaml *y0 = L.y[0];
    if (L.n > 1) {
        /* a required key may come from any of the files */
        for (size_t k = 0; k < pds_n_run_config_keys; k++) {
            int found = 0;
            for (size_t i = 0; i < L.n; i++)
                found |= find_key(L.y[i], pds_yaml_root(L.y[i]), pds_run_config_keys[k].name) != 0;
            if (pds_run_config_keys[k].required && !found) {
                pds_diag_add(diag, y0->path, pds_yaml_line(pds_yaml_root(y0)),
                             pds_yaml_col(pds_yaml_root(y0)),
                             "missing required key '%s' (%s) here or in the configs it extends",
                             pds_run_config_keys[k].name, pds_run_config_keys[k].help);
                bad = 1;
            }
        }
        if (seen_scenario && !c->scenario.name) {
            pds_yaml *ys;
            yaml_node_t *sn = where_set(&L, "scenario", &ys);
            pds_diag_add(diag, ys->path, pds_yaml_line(sn), pds_yaml_col(sn),
                         "missing required key 'scenario.name' (name of the scenario)");
            bad = 1;
        }
    }
    if (!c->model == !c->n_models && (c->model || !c->models)) {
        /* (c->models without n_models: models: was given but is broken) */
        yaml_node_t *r0 = pds_yaml_root(y0);
        pds_diag_add(diag, y0->path, c->n_models ? c->models_line : pds_yaml_line(r0),
                     c->n_models ? 0 : pds_yaml_col(r0),
                     c->model ? "give either model or models, not both"
                              : "missing required key 'model' (or 'models', a list of models)");
        bad = 1;
    }
    if (!bad && c->uncertainty == 2 && c->intercept_recalibration) {
        pds_yaml *yu;
        yaml_node_t *un = where_set(&L, "uncertainty", &yu);
        pds_diag_add(diag, yu->path, pds_yaml_line(un), pds_yaml_col(un),
                     "uncertainty: posterior takes the posterior draws as they are: it does not go "
                     "with intercept_recalibration");
        bad = 1;
    }
    pds_yaml *yh, *yr;
    yaml_node_t *hn = where_set(&L, "horizon", &yh), *rn = where_set(&L, "report_years", &yr);
    if (!bad && c->horizon <= c->base_year) {
        pds_diag_add(diag, yh->path, pds_yaml_line(hn), pds_yaml_col(hn),
                     "horizon (%ld) must be after base_year (%ld)", c->horizon, c->base_year);
        bad = 1;
    }
    if (!bad && c->horizon - c->base_year > MAX_YEARS_SIMULATED) {
        pds_diag_add(diag, yh->path, pds_yaml_line(hn), pds_yaml_col(hn),
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
            pds_diag_add(diag, yr->path, pds_yaml_line(rn), pds_yaml_col(rn),
                         "report_years: %ld is outside the simulated years %ld..%ld",
                         c->report_years[i], c->base_year + 1, c->horizon);
            bad = 1;
        }
    }
    c->path = strdup(path);
    c->text = y0->text;
    y0->text = NULL;
    c->sources = calloc(L.n, sizeof *c->sources);
    if (c->sources)
        for (size_t i = 0; i < L.n; i++)
            if ((c->sources[i] = pds_canonical_path(L.y[i]->path)))
                c->n_sources++;
    /* the scenario's entries name their file for later messages: make them
     * point at the copies kept here */
    for (size_t i = 0; c->sources && i < c->scenario.n_forced; i++)
        for (size_t k = 0; k < L.n; k++)
            if (c->scenario.forced[i].file == L.y[k]->path)
                c->scenario.forced[i].file = k == 0 ? c->path : c->sources[k];
    for (size_t i = 0; c->sources && i < c->scenario.n_shocks; i++)
        for (size_t k = 0; k < L.n; k++)
            if (c->scenario.shocks[i].file == L.y[k]->path)
                c->scenario.shocks[i].file = k == 0 ? c->path : c->sources[k];
    for (size_t i = 0; i < L.n; i++)
        pds_yaml_free(L.y[i]);
    if (bad || !c->path || !c->text || c->n_sources != L.n) {
        pds_run_config_free(c);
        return NULL;
    }
    if (c->n_models) {
        /* the first model stands for the config where one model is meant */
        free(c->model);
        c->model = c->models[0] ? strdup(c->models[0]) : NULL;
        free(c->model_path);
        c->model_path = c->models_path && c->models_path[0] ? strdup(c->models_path[0]) : NULL;
    }
    for (size_t i = 0; i < c->n_models; i++)
        if (!c->models_path || !c->models_path[i])
            c->model_path = NULL; /* out of memory: fail below */
    c->output_path =
        c->output ? pds_path_relative_to(path, c->output) : pds_default_output(path, ".h5");
    c->resolved = pds_run_config_dump(c, 0);
    if (!c->dataset_path || !c->model_path || !c->output_path || !c->resolved ||
        (c->subunit_model && !c->subunit_model_path)) {
        pds_run_config_free(c);
        return NULL;
    }
    return c;
}

/* A growing text buffer for the dump. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
    int failed;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->failed || k < 0) {
        b->failed = 1;
        return;
    }
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = (b->n + (size_t)k + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* A double-quoted YAML string. */
static void sb_str(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_printf(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            sb_printf(b, "\\x%02x", (unsigned char)*s);
        else
            sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\"");
}

/* The shortest text that reads back as x. */
static void sb_num(sbuf *b, double x)
{
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    sb_printf(b, "%s", buf);
}

static void sb_proj(sbuf *b, const pds_projection *p)
{
    sb_printf(b, "{rule: %s", rule_names[p->rule]);
    if (p->rule == PDS_PROJ_TREND) {
        sb_printf(b, ", years: %d", p->years);
        if (!isnan(p->min)) {
            sb_printf(b, ", min: ");
            sb_num(b, p->min);
        }
        if (!isnan(p->max)) {
            sb_printf(b, ", max: ");
            sb_num(b, p->max);
        }
    }
    sb_printf(b, "}\n");
}

char *pds_run_config_dump(const pds_run_config *c, int full)
{
    sbuf b = {0};
    sb_printf(&b, "dataset: ");
    sb_str(&b, c->dataset_path);
    if (c->n_models) {
        sb_printf(&b, "\nmodels:\n");
        for (size_t i = 0; i < c->n_models; i++) {
            sb_printf(&b, "  - {model: ");
            sb_str(&b, c->models_path[i]);
            sb_printf(&b, ", weight: %.17g}\n", c->model_weights[i]);
        }
    } else {
        sb_printf(&b, "\nmodel: ");
        sb_str(&b, c->model_path);
        sb_printf(&b, "\n");
    }
    if (c->subunit_model_path) {
        sb_printf(&b, "subunit_model: ");
        sb_str(&b, c->subunit_model_path);
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "base_year: %ld\nhorizon: %ld\nruns: %llu\nseed: %llu\n", c->base_year,
              c->horizon, (unsigned long long)c->runs, (unsigned long long)c->seed);
    if (full) {
        sb_printf(&b, "threads: %ld\noutput: ", c->threads);
        sb_str(&b, c->output_path);
        sb_printf(&b, "\nreplace: %s\n", c->replace ? "true" : "false");
    }
    sb_printf(&b, "chunk_runs: %ld\nstore_subunit_years: %s\nsea_links: %s\n", c->chunk_runs,
              c->store_subunit_years ? "true" : "false", c->sea_links ? "true" : "false");
    if (c->neighbour_weights_path) {
        sb_printf(&b, "neighbour_weights: ");
        sb_str(&b, c->neighbour_weights_path);
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "report_years: [");
    for (size_t i = 0; i < c->n_report_years; i++)
        sb_printf(&b, "%s%ld", i ? ", " : "", c->report_years[i]);
    sb_printf(&b, "]\nuncertainty: %s\nintercept_recalibration: %s\n",
              uncertainty_names[c->uncertainty], recalibration_names[c->intercept_recalibration]);
    sb_printf(&b, "reliability: {backtest_origins: %ld, runs: %llu, refit: %s}\n",
              c->reliability.origins, (unsigned long long)c->reliability.runs,
              c->reliability.refit ? "true" : "false");
    sb_printf(&b, "projection:\n  default: ");
    sb_proj(&b, &c->default_proj);
    if (c->n_proj) {
        sb_printf(&b, "  variables:\n");
        for (size_t i = 0; i < c->n_proj; i++) {
            sb_printf(&b, "    %s: ", c->proj[i].variable);
            sb_proj(&b, &c->proj[i]);
        }
    }
    const pds_run_scenario *sc = &c->scenario;
    if (sc->name) {
        sb_printf(&b, "scenario:\n  name: ");
        sb_str(&b, sc->name);
        sb_printf(&b, "\n");
        if (sc->n_documents) {
            sb_printf(&b, "  central_documents: [");
            for (size_t i = 0; i < sc->n_documents; i++) {
                sb_printf(&b, "%s{year: %d, count: ", i ? ", " : "", sc->documents[i].year);
                sb_num(&b, sc->document_count[i]);
                sb_printf(&b, ", weight: ");
                sb_num(&b, sc->document_weight[i]);
                sb_printf(&b, "}");
            }
            sb_printf(&b, "]\n");
        }
        if (sc->n_forced) {
            sb_printf(&b, "  forced_adoption: [");
            for (size_t i = 0; i < sc->n_forced; i++) {
                sb_printf(&b, "%s{unit: ", i ? ", " : "");
                sb_str(&b, sc->forced[i].unit);
                sb_printf(&b, ", year: %d}", sc->forced[i].year);
            }
            sb_printf(&b, "]\n");
        }
        if (sc->n_shocks) {
            sb_printf(&b, "  covariates: [");
            for (size_t i = 0; i < sc->n_shocks; i++) {
                const pds_scenario_shock *q = &sc->shocks[i];
                sb_printf(&b, "%s{unit: ", i ? ", " : "");
                sb_str(&b, q->unit);
                sb_printf(&b, ", variable: ");
                sb_str(&b, q->variable);
                sb_printf(&b, ", from: %d, to: %d, %s: ", q->from, q->to, q->add ? "add" : "set");
                sb_num(&b, q->amount);
                sb_printf(&b, "}");
            }
            sb_printf(&b, "]\n");
        }
        sb_printf(&b, "  channels: {central_documents: %s, neighbours: %s, subunits: %s}\n",
                  sc->documents_channel ? "true" : "false",
                  sc->neighbours_channel ? "true" : "false",
                  sc->subunits_channel ? "true" : "false");
    }
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
