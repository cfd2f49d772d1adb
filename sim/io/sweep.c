#include "sweep.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/design.h"
#include "../core/summary.h"
#include "config.h"
#include "h5out.h"

#define MAX_POINTS 10000000.0 /* 10^7 design points */

const char *const pds_design_names[] = {"grid", "lhs", "sobol", NULL};
static const char *const numbers_names[] = {"per_point", "common", NULL};
static const char *const scramble_names[] = {"owen", "none", NULL};

/* One entry of `parameters`, as written. */
typedef struct param_doc {
    double range[2];
    int has_range;
    double *levels;
    size_t n_levels;
    long steps;
    const char *where; /* "parameters.NAME", for messages */
} param_doc;

static int parse_numbers(pds_yaml *y, yaml_node_t *n, const char *what, double **out, size_t *len,
                         pds_diag *diag)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected a list of numbers", what);
        return -1;
    }
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    double *v = calloc(k + 1, sizeof *v);
    if (!v)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < k; i++)
        bad |= pds_yaml_double(y, pds_yaml_node(y, n->data.sequence.items.start[i]), what, &v[i],
                               diag) != 0;
    if (bad) {
        free(v);
        return -1;
    }
    *out = v;
    *len = k;
    return 0;
}

static int parse_range(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    param_doc *d = target;
    double *v = NULL;
    size_t k = 0;
    char what[300];
    snprintf(what, sizeof what, "%s.range", d->where);
    if (parse_numbers(y, n, what, &v, &k, diag) != 0)
        return -1;
    int ok = k == 2 && v[0] < v[1];
    if (k != 2)
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected [lower, upper], got %zu numbers", what, k);
    else if (!ok)
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: [%g, %g] is empty: expected lower < upper", what, v[0], v[1]);
    if (ok) {
        d->range[0] = v[0];
        d->range[1] = v[1];
        d->has_range = 1;
    }
    free(v);
    return ok ? 0 : -1;
}

static int parse_levels(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    param_doc *d = target;
    char what[300];
    snprintf(what, sizeof what, "%s.levels", d->where);
    if (parse_numbers(y, n, what, &d->levels, &d->n_levels, diag) != 0)
        return -1;
    if (d->n_levels == 0) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: the list is empty: expected at least one level", what);
        return -1;
    }
    return 0;
}

static const pds_key param_keys[] = {
    {"range", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_range,
     "[lower, upper] (lhs, sobol; grid with steps)", "list"},
    {"levels", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_levels, "grid: the values to try",
     "list"},
    {"steps", PDS_KEY_INT, 0, 2, 100000, NULL, NULL, offsetof(param_doc, steps), NULL,
     "grid with range: evenly spaced values, both ends included", NULL},
};

/* Parameters that take integer values: projection trend years. */
static int integer_param(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "projection.", 11) == 0 && n > 17 && strcmp(name + n - 6, ".years") == 0;
}

static int parse_params(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_sweep *sw = target;
    if (n->type != YAML_MAPPING_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "parameters: expected a mapping of parameter: {range | levels}");
        return -1;
    }
    size_t k = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (k == 0) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "parameters: expected at least one parameter");
        return -1;
    }
    sw->params = calloc(k, sizeof *sw->params);
    if (!sw->params)
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
        for (size_t i = 0; i < sw->n_params; i++)
            if (strcmp(sw->params[i].name, name) == 0) {
                pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                             "parameters: '%s' appears twice", name);
                bad = 1;
            }
        char where[256];
        snprintf(where, sizeof where, "parameters.%s", name);
        param_doc d = {.where = where};
        if (pds_yaml_parse_map(y, vn, param_keys, 3, &d, where, diag) != 0) {
            free(d.levels);
            bad = 1;
            continue;
        }
        pds_sweep_param *q = &sw->params[sw->n_params++];
        q->name = strdup(name);
        q->line = pds_yaml_line(kn);
        q->col = pds_yaml_col(kn);
        q->integer = integer_param(name);
        if (!q->name) {
            free(d.levels);
            return -1;
        }
        if (d.levels && (d.has_range || d.steps)) {
            pds_diag_add(diag, y->path, q->line, q->col,
                         "%s: give either levels or range (with steps for a grid), not both",
                         where);
            bad = 1;
        } else if (!d.levels && !d.has_range) {
            pds_diag_add(diag, y->path, q->line, q->col,
                         "%s: expected range: [lower, upper] or levels: [...]", where);
            bad = 1;
        } else if (d.levels) {
            q->levels = d.levels;
            q->n_levels = d.n_levels;
            d.levels = NULL;
            q->lower = q->upper = q->levels[0];
            for (size_t i = 1; i < q->n_levels; i++) {
                q->lower = fmin(q->lower, q->levels[i]);
                q->upper = fmax(q->upper, q->levels[i]);
            }
        } else {
            q->lower = d.range[0];
            q->upper = d.range[1];
            if (d.steps) {
                q->n_levels = (size_t)d.steps;
                q->levels = malloc(q->n_levels * sizeof *q->levels);
                if (!q->levels)
                    return -1;
                for (size_t i = 0; i < q->n_levels; i++)
                    q->levels[i] =
                        q->lower + (q->upper - q->lower) * (double)i / (double)(q->n_levels - 1);
            } else if (q->integer) {
                /* an integer range is the set of its integers, each equally likely */
                double lo = ceil(q->lower), hi = floor(q->upper);
                if (!(hi >= lo) || hi - lo > 100000) {
                    pds_diag_add(diag, y->path, q->line, q->col,
                                 "%s: [%g, %g] %s: expected a range of 1 to 100001 integers",
                                 where, q->lower, q->upper,
                                 hi >= lo ? "holds too many integers" : "holds no integer");
                    bad = 1;
                } else {
                    q->n_levels = (size_t)(hi - lo) + 1;
                    q->levels = malloc(q->n_levels * sizeof *q->levels);
                    if (!q->levels)
                        return -1;
                    for (size_t i = 0; i < q->n_levels; i++)
                        q->levels[i] = lo + (double)i;
                    q->lower = lo;
                    q->upper = hi;
                    q->int_range = 1;
                }
            }
        }
        free(d.levels);
    }
    return bad ? -1 : 0;
}

static int parse_outputs(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_sweep *sw = target;
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "outputs: expected a list of output names");
        return -1;
    }
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    sw->outputs = calloc(k + 1, sizeof *sw->outputs);
    sw->output_lines = calloc(k + 1, sizeof *sw->output_lines);
    if (!sw->outputs || !sw->output_lines)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < k; i++) {
        yaml_node_t *it = pds_yaml_node(y, n->data.sequence.items.start[i]);
        if (pds_yaml_string(y, it, "outputs", &sw->outputs[sw->n_outputs], diag) != 0) {
            bad = 1;
            continue;
        }
        sw->output_lines[sw->n_outputs++] = pds_yaml_line(it);
    }
    return bad ? -1 : 0;
}

#define OFF(f) offsetof(pds_sweep, f)
const pds_key pds_sweep_keys[] = {
    {"config", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, OFF(config), NULL,
     "run config: dataset, models, years, scenario (relative to the sweep file)", NULL},
    {"design", PDS_KEY_ENUM, 1, 0, 0, NULL, pds_design_names, OFF(design), NULL,
     "grid (every combination of levels), lhs (Latin hypercube) or sobol (Saltelli)", NULL},
    {"points", PDS_KEY_U64, 0, 0, MAX_POINTS, "0", NULL, OFF(points), NULL,
     "lhs: design points; sobol: base samples N (N x (parameters + 2) points)", NULL},
    {"runs_per_point", PDS_KEY_U64, 1, 1, 1e9, NULL, NULL, OFF(runs_per_point), NULL,
     "Monte Carlo runs at each design point", NULL},
    {"seed", PDS_KEY_U64, 0, 0, 1.9e19, "1", NULL, OFF(seed), NULL,
     "seed of the design (lhs, sobol scramble) and of the runs", NULL},
    {"random_numbers", PDS_KEY_ENUM, 0, 0, 0, "per_point", numbers_names, OFF(common_numbers), NULL,
     "per_point: point p's runs use a seed mixed from (seed, p); common: every point uses seed "
     "(common random numbers)",
     NULL},
    {"parameters", PDS_KEY_CUSTOM, 1, 0, 0, NULL, NULL, 0, parse_params,
     "NAME: {range: [lo, hi]}, {levels: [...]} or {range: [lo, hi], steps: K}", "mapping"},
    {"outputs", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_outputs,
     "sobol: outputs analysed: national_adopted_YEAR, p_all_adopted, median_year_CODE "
     "(default: national_adopted_<horizon>, p_all_adopted)",
     "list"},
    {"bootstrap", PDS_KEY_INT, 0, 0, 100000, "1000", NULL, OFF(bootstrap), NULL,
     "sobol: bootstrap resamples for the 95% intervals", NULL},
    {"scramble", PDS_KEY_ENUM, 0, 0, 0, "owen", scramble_names, OFF(unscrambled), NULL,
     "sobol: owen (nested uniform scramble keyed by seed; points 0..N-1) or none (the plain "
     "sequence, skipping as SALib does)",
     NULL},
    {"skip", PDS_KEY_U64, 0, 0, 1073741824, "0", NULL, OFF(skip), NULL,
     "sobol with scramble: none: points of the sequence skipped; 0 = the smallest power of 2 "
     ">= points",
     NULL},
    {"threads", PDS_KEY_INT, 0, 0, 1024, "0", NULL, OFF(threads), NULL,
     "OpenMP threads per task; 0 = OMP_NUM_THREADS or all cores", NULL},
    {"chunk_runs", PDS_KEY_INT, 0, 1, 1048576, "4096", NULL, OFF(chunk_runs), NULL,
     "runs per chunk (memory)", NULL},
    {"tasks", PDS_KEY_INT, 0, 1, 1000000, NULL, NULL, OFF(tasks), NULL,
     "the split into part files: tasks 0..tasks-1 (a Slurm array's task IDs); none: one, or "
     "--tasks",
     NULL},
    {"output", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(output), NULL,
     "folder of the part files; default output/<sweep name>.parts", NULL},
    {"merged", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(merged), NULL,
     "merged result file; default output/<sweep name>.h5", NULL},
};
const size_t pds_n_sweep_keys = sizeof pds_sweep_keys / sizeof pds_sweep_keys[0];

void pds_sweep_free(pds_sweep *sw)
{
    if (!sw)
        return;
    pds_yaml_free_fields(pds_sweep_keys, pds_n_sweep_keys, sw);
    for (size_t i = 0; i < sw->n_params; i++) {
        free(sw->params[i].name);
        free(sw->params[i].levels);
    }
    free(sw->params);
    for (size_t i = 0; i < sw->n_outputs; i++)
        free(sw->outputs[i]);
    free(sw->outputs);
    free(sw->output_lines);
    free(sw->values);
    free(sw->unit_points);
    free(sw->path);
    free(sw->name);
    free(sw->text);
    free(sw->parts_dir);
    free(sw->merged_path);
    pds_setup_free(&sw->setup);
    free(sw);
}

/* Find the term of a model by name: 0 with *index (-1 = intercept), or -1. */
static int model_term(const pds_model *m, const char *term, long *index)
{
    if (strcmp(term, "intercept") == 0) {
        *index = -1;
        return 0;
    }
    for (size_t i = 0; i < m->n_terms; i++)
        if (strcmp(m->terms[i].name, term) == 0) {
            *index = (long)i;
            return 0;
        }
    return -1;
}

static void list_terms(const pds_model *m, char *buf, size_t size)
{
    snprintf(buf, size, "intercept");
    for (size_t i = 0; i < m->n_terms; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, ", %s", m->terms[i].name);
    }
}

/* Resolve a parameter name against the loaded setup. */
static int resolve_param(pds_sweep *sw, pds_sweep_param *q, pds_diag *diag)
{
    pds_setup *s = &sw->setup;
    pds_run_config *c = s->cfg;
    const char *name = q->name;
    char terms[2048];
    if (strncmp(name, "model.", 6) == 0 || strncmp(name, "subunit_model.", 14) == 0) {
        int sub = name[0] == 's';
        const pds_model *m = sub ? s->sub_model : s->unit_model;
        const char *term = name + (sub ? 14 : 6);
        q->target = sub ? PDS_SWEEP_SUBMODEL : PDS_SWEEP_MODEL;
        if (!m) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: unknown parameter '%s': the run config has no subunit_model",
                         name);
            return -1;
        }
        if (!sub && s->n_models > 1) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: '%s' cannot vary: the run config names several unit "
                         "models (models:); vary a config with one model: FILE",
                         name);
            return -1;
        }
        if (!sub && s->cfg->uncertainty == 2) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: '%s' cannot vary: under uncertainty: posterior each run "
                         "takes its unit-model coefficients from the posterior draws",
                         name);
            return -1;
        }
        if (!sub && strcmp(term, "intercept") == 0 && s->cfg->intercept_recalibration) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: '%s' cannot vary: the run config sets it by "
                         "intercept_recalibration",
                         name);
            return -1;
        }
        if (model_term(m, term, &q->index) != 0) {
            list_terms(m, terms, sizeof terms);
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: unknown parameter '%s': the model %s has no term '%s' "
                         "(terms: %s)",
                         name, m->path ? m->path : m->name, term, terms);
            return -1;
        }
        return 0;
    }
    if (strncmp(name, "projection.", 11) == 0) {
        const char *var = name + 11, *dot = strrchr(var, '.');
        static const char *const fields[] = {"years", "min", "max"};
        q->target = PDS_SWEEP_PROJECTION;
        q->field = -1;
        for (int f = 0; dot && f < 3; f++)
            if (strcmp(dot + 1, fields[f]) == 0)
                q->field = f;
        if (!dot || q->field < 0) {
            pds_diag_add(
                diag, sw->path, q->line, q->col,
                "parameters: unknown parameter '%s': expected projection.VARIABLE.FIELD or "
                "projection.default.FIELD, FIELD = years, min or max",
                name);
            return -1;
        }
        size_t vlen = (size_t)(dot - var);
        q->integer = q->field == 0;
        if (q->integer && (q->lower < 2 || q->upper > 100)) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters.%s: projection years must lie in 2..100", name);
            return -1;
        }
        if (vlen == 7 && strncmp(var, "default", 7) == 0) {
            q->index = -1;
            return 0;
        }
        char vname[256];
        snprintf(vname, sizeof vname, "%.*s", (int)vlen, var);
        if (pds_world_var_index(s->world, vname) < 0) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: unknown parameter '%s': the dataset's panel.csv has no "
                         "column '%s'",
                         name, vname);
            return -1;
        }
        for (size_t i = 0; i < c->n_proj; i++)
            if (strcmp(c->proj[i].variable, vname) == 0) {
                q->index = (long)i;
                return 0;
            }
        /* the variable follows the default rule: give it its own copy */
        pds_projection *np = realloc(c->proj, (c->n_proj + 1) * sizeof *np);
        if (!np)
            return -1;
        c->proj = np;
        np[c->n_proj] = c->default_proj;
        np[c->n_proj].variable = strdup(vname);
        if (!np[c->n_proj].variable)
            return -1;
        q->index = (long)c->n_proj++;
        return 0;
    }
    if (strncmp(name, "scenario.central_documents[", 27) == 0) {
        char *end;
        unsigned long i = strtoul(name + 27, &end, 10);
        q->target = PDS_SWEEP_DOCUMENT;
        q->index = (long)i;
        q->field = strcmp(end, "].count") == 0 ? 0 : strcmp(end, "].weight") == 0 ? 1 : -1;
        if (end == name + 27 || q->field < 0 || i >= c->scenario.n_documents) {
            pds_diag_add(diag, sw->path, q->line, q->col,
                         "parameters: unknown parameter '%s': the run config's scenario has %zu "
                         "central_documents entries; expected scenario.central_documents[I].count "
                         "or .weight",
                         name, c->scenario.n_documents);
            return -1;
        }
        return 0;
    }
    pds_diag_add(diag, sw->path, q->line, q->col,
                 "parameters: unknown parameter '%s': expected model.TERM, subunit_model.TERM, "
                 "projection.VARIABLE.FIELD or scenario.central_documents[I].count|weight",
                 name);
    return -1;
}

int pds_sweep_resolve_param(pds_sweep *sw, pds_sweep_param *q, pds_diag *diag)
{
    return resolve_param(sw, q, diag);
}

int pds_sweep_output_value(const char *name, int first_year, char *const *codes,
                           const pds_sweep_stats *st, size_t point, double *out)
{
    const char *p;
    if (strcmp(name, "p_all_adopted") == 0) {
        *out = st ? st->p_all[point] : 0.0;
        return 0;
    }
    if (strncmp(name, "national_adopted_", 17) == 0) {
        char *end;
        p = name + 17;
        long yv = strtol(p, &end, 10);
        if (end == p || *end || yv < first_year || !st || yv >= first_year + (long)st->n_years)
            return -1;
        *out = st->mean[point * st->n_years + (size_t)(yv - first_year)];
        return 0;
    }
    if (strncmp(name, "median_year_", 12) == 0 && st) {
        for (size_t u = 0; u < st->n_units; u++)
            if (strcmp(codes[u], name + 12) == 0) {
                *out = st->median[point * st->n_units + u];
                return 0;
            }
    }
    return -1;
}

uint64_t pds_hash_text(uint64_t h, const char *s)
{
    s = s ? s : "";
    return pds_design_hash(h, s, strlen(s) + 1);
}

uint64_t pds_hash_yaml_file(uint64_t h, const char *path)
{
    if (!path)
        return pds_hash_text(h, "");
    pds_diag quiet;
    pds_diag_init(&quiet);
    pds_yaml *y = pds_yaml_load(path, &quiet);
    h = pds_hash_text(h, y ? y->text : "(unreadable)");
    pds_yaml_free(y);
    pds_diag_free(&quiet);
    return h;
}

/* The node of key in the mapping root (NULL when absent). */
static yaml_node_t *root_key(pds_yaml *y, yaml_node_t *root, const char *key)
{
    if (root->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = pds_yaml_node(y, p->key);
        const char *s = k ? pds_yaml_scalar(k) : NULL;
        if (s && strcmp(s, key) == 0)
            return k;
    }
    return NULL;
}

/* A coordinate u in [0, 1) of an lhs or sobol point as the parameter's
 * value: a range linearly; levels (given, range with steps, or the integers
 * of an integer range) by the equal-width bin of u, so that each of K
 * levels takes the same share 1/K of the cube. */
static double unit_to_value(const pds_sweep_param *q, double u)
{
    if (!q->levels)
        return q->lower + (q->upper - q->lower) * u;
    size_t k = (size_t)(u * (double)q->n_levels);
    return q->levels[k < q->n_levels ? k : q->n_levels - 1];
}

/* Points of the design; 0 or -1 with a message. */
static int generate(pds_sweep *sw, pds_yaml *y, yaml_node_t *root, pds_diag *diag)
{
    size_t P = sw->n_params;
    long line = pds_yaml_line(root), col = pds_yaml_col(root);
    yaml_node_t *kscr = root_key(y, root, "scramble"), *kskip = root_key(y, root, "skip");
    if ((kscr || kskip) && sw->design != PDS_DESIGN_SOBOL) {
        yaml_node_t *k = kscr ? kscr : kskip;
        pds_diag_add(diag, sw->path, pds_yaml_line(k), pds_yaml_col(k),
                     "%s: applies to design: sobol only", kscr ? "scramble" : "skip");
        return -1;
    }
    if (kskip && !sw->unscrambled) {
        pds_diag_add(diag, sw->path, pds_yaml_line(kskip), pds_yaml_col(kskip),
                     "skip: applies to the plain sequence only: add scramble: none (the "
                     "scrambled design takes points 0..N-1)");
        return -1;
    }
    if (sw->design == PDS_DESIGN_GRID) {
        double n = 1.0;
        for (size_t p = 0; p < P; p++) {
            if (!sw->params[p].levels) {
                pds_diag_add(diag, sw->path, sw->params[p].line, sw->params[p].col,
                             "parameters.%s: a grid needs levels: [...] or range with steps",
                             sw->params[p].name);
                return -1;
            }
            n *= (double)sw->params[p].n_levels;
        }
        if (sw->points) {
            pds_diag_add(diag, sw->path, line, col,
                         "points: a grid has one point per combination of levels; remove 'points'");
            return -1;
        }
        if (n > MAX_POINTS) {
            pds_diag_add(diag, sw->path, line, col, "the grid has %.0f points: at most %.0f", n,
                         MAX_POINTS);
            return -1;
        }
        sw->n_points = (size_t)n;
    } else {
        if (sw->points == 0) {
            pds_diag_add(diag, sw->path, line, col,
                         "points: a %s design needs points (%s), at least 1",
                         pds_design_names[sw->design],
                         sw->design == PDS_DESIGN_LHS ? "the number of points"
                                                      : "the number of base samples N");
            return -1;
        }
        if (sw->design == PDS_DESIGN_SOBOL && 2 * P > PDS_SOBOL_MAX_DIM) {
            pds_diag_add(diag, sw->path, line, col,
                         "parameters: a sobol design takes at most %d parameters, got %zu",
                         PDS_SOBOL_MAX_DIM / 2, P);
            return -1;
        }
        double n = (double)sw->points * (sw->design == PDS_DESIGN_SOBOL ? (double)(P + 2) : 1.0);
        if (n > MAX_POINTS) {
            pds_diag_add(diag, sw->path, line, col, "the design has %.0f points: at most %.0f", n,
                         MAX_POINTS);
            return -1;
        }
        sw->n_points = (size_t)n;
    }
    sw->values = malloc(sw->n_points * P * sizeof *sw->values);
    if (!sw->values)
        return -1;
    if (sw->design == PDS_DESIGN_GRID) {
        /* the last parameter varies fastest */
        for (size_t i = 0; i < sw->n_points; i++) {
            size_t r = i;
            for (size_t p = P; p-- > 0;) {
                sw->values[i * P + p] = sw->params[p].levels[r % sw->params[p].n_levels];
                r /= sw->params[p].n_levels;
            }
        }
    } else {
        sw->unit_points = malloc(sw->n_points * P * sizeof *sw->unit_points);
        if (!sw->unit_points)
            return -1;
        if (sw->design == PDS_DESIGN_LHS)
            pds_design_lhs(P, sw->n_points, sw->seed, sw->unit_points);
        else {
            pds_sobol_seq seq = {.scramble = !sw->unscrambled, .seed = sw->seed, .skip = sw->skip};
            if (pds_design_saltelli_seq(P, (size_t)sw->points, &seq, sw->unit_points) != PDS_OK)
                return -1;
        }
        for (size_t i = 0; i < sw->n_points; i++)
            for (size_t p = 0; p < P; p++)
                sw->values[i * P + p] = unit_to_value(&sw->params[p], sw->unit_points[i * P + p]);
    }
    return 0;
}

/* Default the Sobol outputs and check each name against the years and
 * units. 0 or -1 with messages. */
static int check_outputs(pds_sweep *sw, pds_diag *diag)
{
    const pds_setup *s = &sw->setup;
    int first = (int)s->cfg->base_year + 1, bad = 0;
    if (sw->design == PDS_DESIGN_SOBOL && sw->n_outputs == 0) {
        char def[64];
        snprintf(def, sizeof def, "national_adopted_%ld", s->cfg->horizon);
        sw->outputs = calloc(3, sizeof *sw->outputs);
        sw->output_lines = calloc(3, sizeof *sw->output_lines);
        if (!sw->outputs || !sw->output_lines || !(sw->outputs[0] = strdup(def)) ||
            !(sw->outputs[1] = strdup("p_all_adopted")))
            return -1;
        sw->n_outputs = 2;
    }
    if (sw->n_outputs && sw->design != PDS_DESIGN_SOBOL) {
        pds_diag_add(diag, sw->path, sw->output_lines[0], 0,
                     "outputs: sensitivity outputs need design: sobol");
        return -1;
    }
    pds_sweep_stats probe;
    char **codes = calloc(s->world->n_units + 1, sizeof *codes);
    if (!codes || pds_sweep_stats_init(&probe, 1, (size_t)(s->cfg->horizon - s->cfg->base_year),
                                       s->world->n_units) != 0) {
        free(codes);
        return -1;
    }
    for (size_t u = 0; u < s->world->n_units; u++)
        codes[u] = s->world->units[u].code;
    for (size_t i = 0; i < sw->n_outputs; i++) {
        double v;
        if (pds_sweep_output_value(sw->outputs[i], first, codes, &probe, 0, &v) != 0) {
            pds_diag_add(diag, sw->path, sw->output_lines[i], 0,
                         "outputs: unknown output '%s': expected national_adopted_YEAR (YEAR in "
                         "%d..%ld), p_all_adopted or median_year_CODE (a unit code)",
                         sw->outputs[i], first, s->cfg->horizon);
            bad = 1;
        }
    }
    pds_sweep_stats_free(&probe);
    free(codes);
    return bad ? -1 : 0;
}

pds_sweep *pds_sweep_load(const char *path, pds_diag *diag)
{
    pds_yaml *y = pds_yaml_load(path, diag);
    if (!y)
        return NULL;
    pds_sweep *sw = calloc(1, sizeof *sw);
    if (!sw) {
        pds_yaml_free(y);
        return NULL;
    }
    yaml_node_t *root = pds_yaml_root(y);
    int bad = pds_yaml_parse_map(y, root, pds_sweep_keys, pds_n_sweep_keys, sw, NULL, diag) != 0;
    long config_line = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         !bad && p < root->data.mapping.pairs.top; p++) {
        const char *k = pds_yaml_scalar(pds_yaml_node(y, p->key));
        if (k && strcmp(k, "config") == 0)
            config_line = pds_yaml_line(pds_yaml_node(y, p->value));
    }
    sw->path = strdup(path);
    char *stem = pds_default_output(path, ""); /* output/NAME */
    sw->name = stem ? strdup(stem + 7) : NULL;
    free(stem);
    sw->text = y->text;
    y->text = NULL;
    if (!sw->path || !sw->name || bad || generate(sw, y, root, diag) != 0) {
        pds_yaml_free(y);
        pds_sweep_free(sw);
        return NULL;
    }
    pds_yaml_free(y);
    char *cfg = pds_path_relative_to(path, sw->config);
    pds_status st = cfg ? pds_setup_load(cfg, &sw->setup, diag) : PDS_ERR_RUNTIME;
    if (st != PDS_OK) {
        pds_diag_add(diag, path, config_line, 0, "config: the run config %s cannot be used (%s)",
                     cfg ? cfg : sw->config, diag->n ? "see above" : "out of memory");
        free(cfg);
        pds_sweep_free(sw);
        return NULL;
    }
    free(cfg);
    pds_setup *s = &sw->setup;
    sw->n_base_documents = s->world->n_documents - s->cfg->scenario.n_documents;
    sw->base_intercept = s->unit_model->intercept - s->intercept_shift;
    for (size_t p = 0; p < sw->n_params; p++)
        bad |= resolve_param(sw, &sw->params[p], diag) != 0;
    /* integer settings take the nearest integer, in the stored design too */
    for (size_t p = 0; p < sw->n_params; p++)
        if (sw->params[p].integer)
            for (size_t i = 0; i < sw->n_points; i++)
                sw->values[i * sw->n_params + p] = round(sw->values[i * sw->n_params + p]);
    bad |= check_outputs(sw, diag) != 0;
    sw->parts_dir =
        sw->output ? pds_path_relative_to(path, sw->output) : pds_default_output(path, ".parts");
    sw->merged_path =
        sw->merged ? pds_path_relative_to(path, sw->merged) : pds_default_output(path, ".h5");
    if (bad || !sw->parts_dir || !sw->merged_path) {
        pds_sweep_free(sw);
        return NULL;
    }
    /* the identity of the sweep: what determines its results */
    uint64_t h = pds_hash_text(PDS_HASH_INIT, "pdsim sweep 1");
    h = pds_hash_text(h, pds_design_names[sw->design]);
    for (size_t p = 0; p < sw->n_params; p++)
        h = pds_hash_text(h, sw->params[p].name);
    h = pds_design_hash(h, sw->values, sw->n_points * sw->n_params * sizeof *sw->values);
    uint64_t nums[5] = {sw->runs_per_point, sw->seed, (uint64_t)sw->common_numbers,
                        (uint64_t)sw->bootstrap, sw->points};
    h = pds_design_hash(h, nums, sizeof nums);
    for (size_t i = 0; i < sw->n_outputs; i++)
        h = pds_hash_text(h, sw->outputs[i]);
    h = pds_hash_text(h, s->cfg->resolved ? s->cfg->resolved : s->cfg->text);
    h = pds_hash_yaml_file(h, s->cfg->model_path);
    h = pds_hash_yaml_file(h, s->cfg->subunit_model_path);
    snprintf(sw->hash, sizeof sw->hash, "%016llx", (unsigned long long)h);
    return sw;
}

uint64_t pds_sweep_point_seed(const pds_sweep *sw, size_t point)
{
    return sw->common_numbers ? sw->seed : pds_design_point_seed(sw->seed, point);
}

void pds_sweep_task_points(size_t n_points, size_t task, size_t tasks, size_t *first, size_t *end)
{
    *first = (size_t)((unsigned long long)n_points * task / tasks);
    *end = (size_t)((unsigned long long)n_points * (task + 1) / tasks);
}

int pds_sweep_stats_init(pds_sweep_stats *st, size_t n, size_t n_years, size_t n_units)
{
    memset(st, 0, sizeof *st);
    st->n = n;
    st->n_years = n_years;
    st->n_units = n_units;
    size_t k = n ? n : 1;
    st->mean = calloc(k * n_years, sizeof *st->mean);
    st->quant = calloc(k * pds_n_national_quantiles * n_years, sizeof *st->quant);
    st->p_all = calloc(k, sizeof *st->p_all);
    st->median = calloc(k * (n_units ? n_units : 1), sizeof *st->median);
    if (!st->mean || !st->quant || !st->p_all || !st->median) {
        pds_sweep_stats_free(st);
        return -1;
    }
    return 0;
}

void pds_sweep_stats_free(pds_sweep_stats *st)
{
    free(st->mean);
    free(st->quant);
    free(st->p_all);
    free(st->median);
    memset(st, 0, sizeof *st);
}

static pds_status apply_point(pds_sweep *sw, const double *v, pds_diag *diag)
{
    pds_setup *s = &sw->setup;
    pds_run_config *c = s->cfg;
    pds_run_scenario *sc = &c->scenario;
    if (c->intercept_recalibration)
        s->unit_model->intercept = sw->base_intercept;
    for (size_t p = 0; p < sw->n_params; p++) {
        const pds_sweep_param *q = &sw->params[p];
        switch (q->target) {
        case PDS_SWEEP_MODEL:
        case PDS_SWEEP_SUBMODEL: {
            pds_model *m = q->target == PDS_SWEEP_MODEL ? s->unit_model : s->sub_model;
            if (q->index < 0)
                m->intercept = v[p];
            else
                m->terms[q->index].coef = v[p];
            break;
        }
        case PDS_SWEEP_PROJECTION: {
            pds_projection *pr = q->index < 0 ? &c->default_proj : &c->proj[q->index];
            if (q->field == 0)
                pr->years = (int)v[p];
            else if (q->field == 1)
                pr->min = v[p];
            else
                pr->max = v[p];
            break;
        }
        case PDS_SWEEP_DOCUMENT:
            if (q->field == 0)
                sc->document_count[q->index] = v[p];
            else
                sc->document_weight[q->index] = v[p];
            break;
        }
    }
    for (size_t i = 0; i < sc->n_documents; i++)
        s->world->documents[sw->n_base_documents + i].weight =
            sc->document_count[i] * sc->document_weight[i];
    /* each point is calibrated in the mean like the run config itself */
    return c->intercept_recalibration ? pds_setup_recalibrate(s, diag) : PDS_OK;
}

struct pds_sweep_sims {
    size_t n;                      /* unit models: 1, or those of models: */
    pds_sim *sim[PDS_MAX_MODELS];  /* owned */
    double cum[PDS_MAX_MODELS];    /* cumulative model weights */
};

const pds_sim *pds_sweep_sims_first(const pds_sweep_sims *p)
{
    return p->sim[0];
}

void pds_sweep_sims_free(pds_sweep_sims *p)
{
    if (!p)
        return;
    for (size_t k = 0; k < p->n; k++)
        pds_sim_free(p->sim[k]);
    free(p);
}

pds_status pds_sweep_prepare_point(pds_sweep *sw, size_t point, pds_sweep_sims **out,
                                   pds_diag *diag)
{
    pds_setup *s = &sw->setup;
    *out = NULL;
    pds_status rc = apply_point(sw, sw->values + point * sw->n_params, diag);
    if (rc == PDS_OK)
        rc = pds_setup_build_sim(s, diag);
    if (rc != PDS_OK)
        return rc;
    pds_sweep_sims *p = calloc(1, sizeof *p);
    if (!p)
        return PDS_ERR_RUNTIME;
    /* the simulations keep what they need: the next point's changes to the
     * setup do not reach them */
    p->n = s->n_models > 1 ? s->n_models : 1;
    double acc = 0;
    for (size_t k = 0; k < p->n; k++) {
        p->sim[k] = k == 0 ? s->sim : s->sims[k];
        acc += p->n > 1 ? s->cfg->model_weights[k] : 1.0;
        p->cum[k] = k + 1 == p->n ? 1.0 : acc;
        if (k > 0)
            s->sims[k] = NULL;
    }
    s->sim = NULL;
    s->sims[0] = NULL;
    *out = p;
    return PDS_OK;
}

pds_status pds_sweep_run_prepared(const pds_sweep *sw, const pds_sweep_sims *p, size_t point,
                                  int threads, volatile int *stop, pds_sweep_stats *st, size_t row)
{
    const pds_sim *sim = p->sim[0];
    const pds_world *w = pds_sim_world(sim);
    size_t Y = pds_sim_n_years(sim), U = w->n_units;
    int first = pds_sim_first_year(sim);
    pds_summary *sum = pds_summary_create(U, Y, first);
    if (!sum)
        return PDS_ERR_RUNTIME;
    pds_run_options ro = {
        .seed = pds_sweep_point_seed(sw, point),
        .n_runs = sw->runs_per_point,
        .chunk_runs = (size_t)sw->chunk_runs,
        .threads = threads,
        .stop = stop,
        .alternatives = p->n > 1 ? (const pds_sim *const *)p->sim : NULL,
        .cum_weights = p->n > 1 ? p->cum : NULL,
        .n_alternatives = p->n > 1 ? p->n : 0,
    };
    pds_status rc = pds_engine_run(sim, &ro, sum);
    if (rc == PDS_OK && sum->n_runs != sw->runs_per_point)
        rc = PDS_ERR_RUNTIME; /* stopped */
    if (rc == PDS_OK) {
        for (size_t k = 0; k < Y; k++) {
            st->mean[row * Y + k] = pds_summary_national_mean(sum, k);
            for (size_t q = 0; q < pds_n_national_quantiles; q++)
                st->quant[(row * pds_n_national_quantiles + q) * Y + k] =
                    pds_summary_national_quantile(sum, k, pds_national_quantiles[q]);
        }
        st->p_all[row] = (double)sum->national_hist[(Y - 1) * (U + 1) + U] / (double)sum->n_runs;
        int base = first - 1, last = first + (int)Y - 1;
        for (size_t u = 0; u < U; u++) {
            int obs = w->units[u].adoption_year;
            int yq = pds_summary_unit_year_quantile(sum, u, 0.5);
            st->median[row * U + u] = obs > 0 && obs <= base ? obs : yq ? yq : last + 1;
        }
    }
    pds_summary_free(sum);
    return rc;
}

pds_status pds_sweep_run_point(pds_sweep *sw, size_t point, int threads, volatile int *stop,
                               pds_sweep_stats *st, size_t row, pds_diag *diag)
{
    pds_sweep_sims *sim = NULL;
    pds_status rc = pds_sweep_prepare_point(sw, point, &sim, diag);
    if (rc == PDS_OK)
        rc = pds_sweep_run_prepared(sw, sim, point, threads, stop, st, row);
    pds_sweep_sims_free(sim);
    return rc;
}
