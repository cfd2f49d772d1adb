#include "model_io.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "posterior_io.h"
#include "yamldoc.h"

typedef struct model_doc {
    char *name;
    char *description;
    char *source;
    int link;     /* pds_link */
    long lag;
    pds_model *m; /* receives intercept, terms, covariance */
    int has_intercept;
    pds_posterior_doc post; /* the posterior: block of a Bayesian fit */
} model_doc;

typedef struct coef_doc {
    double coef;
    double se;
} coef_doc;

typedef struct term_doc {
    char *name;
    char *dynamic;
    char *variable;
    int transform;
    double coef;
    double se;
    const char *where;   /* "terms[i]", for messages */
    long param_line[4];  /* line of half_life, window, interval, spline; 0 = absent */
    double half_life;
    long window;
    double lo, hi;
    int n_knots;
    double knots[PDS_SPLINE_MAX_KNOTS];
    long basis;
    char *unit;           /* unit attribute */
    int factor;
    char *reference;
    char *level;
    long lag;
    long power;
    int fixed;
    int offset;           /* offset: true = fixed with coefficient 1 */
    long coef_line;       /* 0 = no coef given */
    long lag_line, power_line;
    yaml_node_t *interact; /* the interact: list, resolved once all terms are read */
} term_doc;

static const char *const link_names[] = {"logit", "cloglog", NULL};
static const char *const transform_names[] = {"none", "log", "log1p", NULL};

static int parse_half_life(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.half_life", td->where);
    td->param_line[0] = pds_yaml_line(n);
    if (pds_yaml_double(y, n, what, &td->half_life, diag) != 0)
        return -1;
    if (!(td->half_life > 0)) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected a number of years > 0, got %g", what, td->half_life);
        return -1;
    }
    return 0;
}

static int parse_window(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.window", td->where);
    td->param_line[1] = pds_yaml_line(n);
    return pds_yaml_long(y, n, what, 1, 1000, &td->window, diag) != 0 ? -1 : 0;
}

static int parse_interval(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.interval", td->where);
    td->param_line[2] = pds_yaml_line(n);
    if (n->type != YAML_SEQUENCE_NODE ||
        n->data.sequence.items.top - n->data.sequence.items.start != 2) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected [lo, hi], two numbers of years since the first document",
                     what);
        return -1;
    }
    if (pds_yaml_double(y, pds_yaml_node(y, n->data.sequence.items.start[0]), what, &td->lo,
                        diag) != 0 ||
        pds_yaml_double(y, pds_yaml_node(y, n->data.sequence.items.start[1]), what, &td->hi,
                        diag) != 0)
        return -1;
    if (td->lo > td->hi) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected lo <= hi, got [%g, %g]", what, td->lo, td->hi);
        return -1;
    }
    return 0;
}

static int parse_knots(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.spline.knots", td->where);
    size_t k = n->type == YAML_SEQUENCE_NODE
                   ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
                   : 0;
    if (k < 3 || k > PDS_SPLINE_MAX_KNOTS) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected a list of 3..%d knots (years since the first document)", what,
                     PDS_SPLINE_MAX_KNOTS);
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        yaml_node_t *v = pds_yaml_node(y, n->data.sequence.items.start[i]);
        if (pds_yaml_double(y, v, what, &td->knots[i], diag) != 0)
            return -1;
        if (i > 0 && !(td->knots[i] > td->knots[i - 1])) {
            pds_diag_add(diag, y->path, pds_yaml_line(v), pds_yaml_col(v),
                         "%s: expected strictly increasing knots, got %g after %g", what,
                         td->knots[i], td->knots[i - 1]);
            return -1;
        }
    }
    td->n_knots = (int)k;
    return 0;
}

static const pds_key spline_keys[] = {
    {"knots", PDS_KEY_CUSTOM, 1, 0, 0, NULL, NULL, 0, parse_knots,
     "3..10 strictly increasing knots, years since the first document", "list"},
    {"basis", PDS_KEY_INT, 1, 1, PDS_SPLINE_MAX_KNOTS - 1, NULL, NULL, offsetof(term_doc, basis),
     NULL, "the basis column: 1 = the duration, 2 .. (knots - 1) the nonlinear ones", NULL},
};

static int parse_spline(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.spline", td->where);
    td->param_line[3] = pds_yaml_line(n);
    if (pds_yaml_parse_map(y, n, spline_keys, 2, td, what, diag) != 0)
        return -1;
    if (td->basis > td->n_knots - 1) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s.basis: expected 1..%d (%d knots give %d columns), got %ld", what,
                     td->n_knots - 1, td->n_knots, td->n_knots - 1, td->basis);
        return -1;
    }
    return 0;
}

static int parse_term_lag(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.lag", td->where);
    td->lag_line = pds_yaml_line(n);
    return pds_yaml_long(y, n, what, 0, 50, &td->lag, diag) != 0 ? -1 : 0;
}

static int parse_power(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    char what[96];
    snprintf(what, sizeof what, "%s.power", td->where);
    td->power_line = pds_yaml_line(n);
    return pds_yaml_long(y, n, what, 1, 10, &td->power, diag) != 0 ? -1 : 0;
}

static int parse_interact(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    term_doc *td = target;
    size_t k = n->type == YAML_SEQUENCE_NODE
                   ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
                   : 0;
    if (k < 2 || k > 8) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s.interact: expected a list of 2..8 factors (names of other terms or "
                     "inline terms {variable|dynamic|unit: ...})",
                     td->where);
        return -1;
    }
    td->interact = n;
    return 0;
}

static const pds_key coef_keys[] = {
    {"coef", PDS_KEY_DOUBLE, 1, -1e300, 1e300, NULL, NULL, offsetof(coef_doc, coef), NULL,
     "coefficient on the linear-predictor scale", NULL},
    {"se", PDS_KEY_DOUBLE, 0, 0, 1e300, "0", NULL, offsetof(coef_doc, se), NULL,
     "standard error (0 when the value is assumed)", NULL},
};

static const pds_key term_keys[] = {
    {"name", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(term_doc, name), NULL,
     "label of the term in reports", NULL},
    {"dynamic", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(term_doc, dynamic), NULL,
     "dynamic variable: central_documents, document_stock, recent_documents, "
     "years_since_first_document, neighbours_adopted_pct, subunits_adopted_pct, "
     "parent_adopted, siblings_adopted_pct, year",
     NULL},
    {"variable", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(term_doc, variable), NULL,
     "panel variable (a column of panel.csv)", NULL},
    {"transform", PDS_KEY_ENUM, 0, 0, 0, "none", transform_names, offsetof(term_doc, transform),
     NULL,
     "transform: log (panel variables), log1p = log(1 + x) (panel variables and the document "
     "forms)",
     NULL},
    {"half_life", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_half_life,
     "document_stock: years for a document's weight to halve (> 0)", "number > 0"},
    {"window", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_window,
     "recent_documents: documents of the last WINDOW years, t-lag-window < year <= t-lag",
     "integer >= 1"},
    {"interval", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_interval,
     "years_since_first_document: [lo, hi], the dummy of lo <= years <= hi (after the first "
     "document)",
     "[lo, hi]"},
    {"spline", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_spline,
     "years_since_first_document: {knots: [k1, k2, k3, ...], basis: J}, column J of the natural "
     "cubic spline basis",
     "{knots, basis}"},
    {"unit", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(term_doc, unit), NULL,
     "unit attribute: a column of the units file (units.csv / provinces.csv), constant over "
     "the years",
     NULL},
    {"interact", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_interact,
     "interaction: the product of 2..8 factors, each the name of another term or an inline "
     "term {variable|dynamic|unit: ...}",
     "list"},
    {"factor", PDS_KEY_BOOL, 0, 0, 0, "false", NULL, offsetof(term_doc, factor), NULL,
     "variable or unit attribute as a factor: fit expands it into one dummy NAME[LEVEL] per "
     "level but the reference",
     NULL},
    {"reference", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(term_doc, reference), NULL,
     "the factor's reference level (required with factor: true)", NULL},
    {"level", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(term_doc, level), NULL,
     "the dummy of one level: 1 when the variable or unit attribute equals LEVEL, else 0", NULL},
    {"lag", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_term_lag,
     "this term's lag in years, overriding the model's (panel variables and document forms)",
     "integer 0..50"},
    {"power", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_power,
     "year: the trend (t - 2000) to this power", "integer 1..10"},
    {"fixed", PDS_KEY_BOOL, 0, 0, 0, "false", NULL, offsetof(term_doc, fixed), NULL,
     "the coefficient is given (coef), not estimated: fit holds it, run uses it", NULL},
    {"offset", PDS_KEY_BOOL, 0, 0, 0, "false", NULL, offsetof(term_doc, offset), NULL,
     "an offset: the term enters with coefficient 1, held by fit (fixed: true, coef: 1)", NULL},
    {"coef", PDS_KEY_DOUBLE, 0, -1e300, 1e300, NULL, NULL, offsetof(term_doc, coef), NULL,
     "coefficient (optional for pdsim fit: a model may be a pure specification; run needs it)",
     NULL},
    {"se", PDS_KEY_DOUBLE, 0, 0, 1e300, "0", NULL, offsetof(term_doc, se), NULL,
     "standard error (0 when the value is assumed)", NULL},
};
#define N_TERM_KEYS (sizeof term_keys / sizeof term_keys[0])

static int parse_intercept(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    model_doc *md = target;
    coef_doc c = {0};
    if (pds_yaml_parse_map(y, n, coef_keys, 2, &c, "intercept", diag) != 0)
        return -1;
    md->m->intercept = c.coef;
    md->m->intercept_se = c.se;
    md->has_intercept = 1;
    return 0;
}

/* The parameters a term kind takes, and its transform: each parameter only
 * with its kind, document_stock and recent_documents need theirs, log only on
 * panel variables, log1p on panel variables and the counting document forms.
 * 1 when clean. */
static int check_dynamic_params(pds_yaml *y, yaml_node_t *tn, const term_doc *td, pds_term_kind k,
                                pds_diag *diag)
{
    static const char *const pname[] = {"half_life", "window", "interval", "spline"};
    static const pds_term_kind pkind[] = {PDS_TERM_DOCUMENT_STOCK, PDS_TERM_RECENT_DOCUMENTS,
                                          PDS_TERM_YEARS_SINCE_FIRST, PDS_TERM_YEARS_SINCE_FIRST};
    int ok = 1;
    for (int i = 0; i < 4; i++)
        if (td->param_line[i] && k != pkind[i] && !(i >= 2 && k == PDS_TERM_YEAR)) {
            pds_diag_add(diag, y->path, td->param_line[i], 0,
                         "%s.%s: only a term with dynamic: %s%s takes '%s'", td->where, pname[i],
                         pds_term_kind_name(pkind[i]), i >= 2 ? " or year" : "", pname[i]);
            ok = 0;
        }
    if (td->power_line && (k != PDS_TERM_YEAR || td->param_line[2] || td->param_line[3])) {
        pds_diag_add(diag, y->path, td->power_line, 0,
                     "%s.power: only a term with dynamic: year (without interval or spline) takes "
                     "'power'",
                     td->where);
        ok = 0;
    }
    if (td->lag_line && k != PDS_TERM_PANEL && !pds_term_kind_is_documentary(k)) {
        pds_diag_add(diag, y->path, td->lag_line, 0,
                     "%s.lag: a term's own lag applies to panel variables and the document forms "
                     "only",
                     td->where);
        ok = 0;
    }
    if (td->level && (k != PDS_TERM_PANEL && k != PDS_TERM_UNIT_ATTR)) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s.level: only a panel variable or a unit attribute takes 'level'",
                     td->where);
        ok = 0;
    }
    if (td->factor && (k != PDS_TERM_PANEL && k != PDS_TERM_UNIT_ATTR)) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s.factor: only a panel variable or a unit attribute can be a factor",
                     td->where);
        ok = 0;
    }
    if (td->factor && !td->reference) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: factor: true needs 'reference' (the level without a dummy)", td->where);
        ok = 0;
    }
    if (td->reference && !td->factor) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s.reference: only a term with factor: true takes 'reference'", td->where);
        ok = 0;
    }
    if (td->factor && td->level) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: expected at most one of 'factor' and 'level'", td->where);
        ok = 0;
    }
    if (td->factor && td->coef_line) {
        pds_diag_add(diag, y->path, td->coef_line, 0,
                     "%s.coef: a factor takes no coefficient (fit writes one term NAME[LEVEL] per "
                     "level, each with its own)",
                     td->where);
        ok = 0;
    }
    if ((td->level || td->factor) && td->transform != PDS_TRANSFORM_NONE) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s.transform: a factor or level dummy takes no transform", td->where);
        ok = 0;
    }
    for (int i = 0; i < 2; i++)
        if (k == pkind[i] && !td->param_line[i]) {
            pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                         "%s: dynamic: %s needs '%s' (%s)", td->where, pds_term_kind_name(k),
                         pname[i], i == 0 ? "years, > 0" : "years, an integer >= 1");
            ok = 0;
        }
    if (td->param_line[2] && td->param_line[3]) {
        pds_diag_add(diag, y->path, td->param_line[3], 0,
                     "%s: expected at most one of 'interval' and 'spline'", td->where);
        ok = 0;
    }
    if (td->transform == PDS_TRANSFORM_LOG && k != PDS_TERM_PANEL && k != PDS_TERM_UNIT_ATTR) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s.transform: log applies to panel variables only, and to unit attributes "
                     "(the document forms take log1p)",
                     td->where);
        ok = 0;
    } else if (td->transform == PDS_TRANSFORM_LOG1P && k != PDS_TERM_PANEL &&
               k != PDS_TERM_UNIT_ATTR &&
               (!pds_term_kind_is_documentary(k) || td->param_line[2] || td->param_line[3])) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s.transform: log1p applies to panel variables and to central_documents, "
                     "document_stock, recent_documents and years_since_first_document (not to "
                     "its period dummies or spline columns)",
                     td->where);
        ok = 0;
    }
    return ok;
}

/* One term from its mapping: the keys, their combinations and (for an
 * interaction) its factors, by name among m's terms read so far or inline.
 * Inline factors (nested) may go without a name. 0 when clean. */
static int build_term(pds_yaml *y, yaml_node_t *tn, const char *where, const pds_model *m,
                      int nested, pds_term *t, pds_diag *diag)
{
    term_doc td = {0};
    td.where = where;
    memset(t, 0, sizeof *t);
    int ok = pds_yaml_parse_map(y, tn, term_keys, N_TERM_KEYS, &td, where, diag) == 0;
    for (yaml_node_pair_t *p = ok ? tn->data.mapping.pairs.start : NULL;
         p && p < tn->data.mapping.pairs.top; p++) {
        const char *key = pds_yaml_scalar(pds_yaml_node(y, p->key));
        if (key && strcmp(key, "coef") == 0)
            td.coef_line = pds_yaml_line(pds_yaml_node(y, p->value));
    }
    if (ok && nested && td.fixed + td.offset) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: a factor of an interaction cannot be fixed (fix the interaction)",
                     where);
        ok = 0;
    }
    if (ok && td.offset) {
        if (td.coef_line && td.coef != 1.0) {
            pds_diag_add(diag, y->path, td.coef_line, 0,
                         "%s.coef: an offset has coefficient 1, got %g (for another value write "
                         "fixed: true with coef)",
                         where, td.coef);
            ok = 0;
        }
        td.fixed = 1;
        td.coef = 1.0;
        if (!td.coef_line)
            td.coef_line = pds_yaml_line(tn);
    }
    if (ok && td.fixed && !td.coef_line) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: fixed: true needs 'coef' (the value the fit holds)", where);
        ok = 0;
    }
    if (ok && td.fixed && td.factor) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: a factor cannot be fixed (fix its level terms NAME[LEVEL] instead)",
                     where);
        ok = 0;
    }
    if (ok && td.fixed && td.se != 0.0) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: a fixed coefficient is given exactly: se must be 0 or absent, got %g",
                     where, td.se);
        ok = 0;
    }
    if (ok && !td.name && !nested) {
        pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                     "%s: missing required key 'name'", where);
        ok = 0;
    }
    if (ok) {
        int kinds = (td.dynamic != NULL) + (td.variable != NULL) + (td.unit != NULL) +
                    (td.interact != NULL);
        if (kinds != 1) {
            pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                         "%s: expected exactly one of 'dynamic', 'variable', 'unit' or 'interact'",
                         where);
            ok = 0;
        } else if (td.dynamic) {
            if (pds_term_kind_parse(td.dynamic, &t->kind) != 0) {
                pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                             "%s.dynamic: unknown dynamic variable \"%s\" (expected %s)", where,
                             td.dynamic, term_keys[1].help + 18);
                ok = 0;
            } else {
                ok = check_dynamic_params(y, tn, &td, t->kind, diag);
            }
        } else if (td.interact) {
            t->kind = PDS_TERM_INTERACTION;
            if (nested) {
                pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                             "%s: an interaction's factor cannot itself be an interaction (list "
                             "all the factors in one interact:)",
                             where);
                ok = 0;
            }
            int other = td.transform != PDS_TRANSFORM_NONE || td.factor || td.level ||
                        td.lag_line || td.power_line || td.param_line[0] || td.param_line[1] ||
                        td.param_line[2] || td.param_line[3];
            if (ok && other) {
                pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                             "%s: an interaction takes only name, interact, coef and se "
                             "(give transforms, lags and parameters to its factors)",
                             where);
                ok = 0;
            }
        } else {
            t->kind = td.unit ? PDS_TERM_UNIT_ATTR : PDS_TERM_PANEL;
            ok = check_dynamic_params(y, tn, &td, t->kind, diag);
        }
        for (size_t j = 0; ok && !nested && j < m->n_terms; j++)
            if (strcmp(m->terms[j].name, td.name) == 0) {
                pds_diag_add(diag, y->path, pds_yaml_line(tn), pds_yaml_col(tn),
                             "%s.name: term '%s' appears twice", where, td.name);
                ok = 0;
            }
    }
    int factor_inside = 0; /* an interaction with a factor: a specification */
    if (ok && td.interact) {
        yaml_node_t *n = td.interact;
        size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        t->factors = calloc(k, sizeof *t->factors);
        if (!t->factors)
            ok = 0;
        int states = 0;
        for (size_t i = 0; ok && i < k; i++) {
            yaml_node_t *fn = pds_yaml_node(y, n->data.sequence.items.start[i]);
            char fw[96];
            snprintf(fw, sizeof fw, "%s.interact[%zu]", where, i);
            pds_term *f = &t->factors[i];
            const char *ref = pds_yaml_scalar(fn);
            if (ref) {
                const pds_term *src = NULL;
                for (size_t j = 0; j < m->n_terms; j++)
                    if (strcmp(m->terms[j].name, ref) == 0)
                        src = &m->terms[j];
                if (!src) {
                    char names[512] = "";
                    for (size_t j = 0; j < m->n_terms; j++)
                        if (strlen(names) + strlen(m->terms[j].name) + 3 < sizeof names)
                            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                                     j ? ", " : "", m->terms[j].name);
                    pds_diag_add(diag, y->path, pds_yaml_line(fn), pds_yaml_col(fn),
                                 "%s: no term named '%s' before this one (expected the name of an "
                                 "earlier term%s%s, or an inline term {variable|dynamic|unit: "
                                 "...})",
                                 fw, ref, m->n_terms ? ": " : "", names);
                    ok = 0;
                    break;
                }
                if (src->kind == PDS_TERM_INTERACTION) {
                    pds_diag_add(diag, y->path, pds_yaml_line(fn), pds_yaml_col(fn),
                                 "%s: '%s' is an interaction; an interaction's factors are not "
                                 "interactions (list all the factors in one interact:)",
                                 fw, ref);
                    ok = 0;
                    break;
                }
                if (pds_term_copy(f, src) != 0) {
                    ok = 0;
                    break;
                }
            } else if (build_term(y, fn, fw, m, 1, f, diag) != 0) {
                ok = 0;
                break;
            } else if (!f->name) {
                char nm[160];
                snprintf(nm, sizeof nm, "%s",
                         f->variable    ? f->variable
                         : f->unit_attr ? f->unit_attr
                                        : pds_term_kind_name(f->kind));
                f->name = malloc(strlen(nm) + 1);
                if (f->name)
                    memcpy(f->name, nm, strlen(nm) + 1);
            }
            t->n_factors = i + 1;
            if (f->factor && td.coef_line) {
                pds_diag_add(diag, y->path, td.coef_line, 0,
                             "%s.coef: an interaction with a factor takes no coefficient (fit "
                             "writes one interaction NAME[LEVEL] per level, each with its own)",
                             where);
                ok = 0;
            } else if (f->factor) {
                factor_inside = 1;
            } else if (f->kind == PDS_TERM_PARENT_ADOPTED || f->kind == PDS_TERM_SIBLINGS_PCT) {
                pds_diag_add(diag, y->path, pds_yaml_line(fn), pds_yaml_col(fn),
                             "%s: sub-unit variables cannot enter an interaction", fw);
                ok = 0;
            } else if (f->kind == PDS_TERM_NEIGHBOURS_PCT || f->kind == PDS_TERM_SUBUNITS_PCT) {
                if (states++) {
                    pds_diag_add(diag, y->path, pds_yaml_line(fn), pds_yaml_col(fn),
                                 "%s: an interaction may have at most one of "
                                 "neighbours_adopted_pct and subunits_adopted_pct (the simulation "
                                 "updates them within a run)",
                                 fw);
                    ok = 0;
                }
            }
        }
    }
    if (!ok) {
        pds_term_clear(t);
        pds_yaml_free_fields(term_keys, N_TERM_KEYS, &td);
        return -1;
    }
    t->name = td.name;
    t->variable = td.variable;
    t->unit_attr = td.unit;
    t->level = td.level;
    t->factor = td.factor;
    t->reference = td.reference;
    t->has_lag = td.lag_line != 0;
    t->lag = (int)td.lag;
    t->power = (int)td.power;
    t->fixed = td.fixed;
    t->transform = (pds_transform)td.transform;
    t->coef = td.coef;
    t->se = td.se;
    t->half_life = td.half_life;
    t->window = (int)td.window;
    t->has_interval = td.param_line[2] != 0;
    t->lo = td.lo;
    t->hi = td.hi;
    t->n_knots = td.n_knots;
    memcpy(t->knots, td.knots, sizeof t->knots);
    t->basis = (int)td.basis;
    t->line = pds_yaml_line(tn);
    free(td.dynamic);
    if ((!td.coef_line || td.factor || factor_inside) && !nested && !m->spec_line)
        ((pds_model *)m)->spec_line = t->line;
    return 0;
}

static int parse_terms(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    model_doc *md = target;
    pds_model *m = md->m;
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "terms: expected a list of terms");
        return -1;
    }
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    size_t index = 0;
    m->terms = calloc(cnt + 1, sizeof *m->terms);
    if (!m->terms)
        return -1;
    int bad = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *tn = pds_yaml_node(y, *it);
        char where[64];
        snprintf(where, sizeof where, "terms[%zu]", index++);
        pds_term t;
        if (build_term(y, tn, where, m, 0, &t, diag) != 0) {
            bad = 1;
            continue;
        }
        m->terms[m->n_terms++] = t;
    }
    return bad ? -1 : 0;
}

static int parse_cov(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    model_doc *md = target;
    pds_model *m = md->m;
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "covariance: expected a list of rows (intercept first, then terms in order)");
        return -1;
    }
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (k == 0 || k > 10000) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "covariance: expected 1..10000 rows, got %zu", k);
        return -1;
    }
    m->cov = calloc(k * k, sizeof(double));
    if (!m->cov)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < k; i++) {
        yaml_node_t *row = pds_yaml_node(y, n->data.sequence.items.start[i]);
        size_t len = row->type == YAML_SEQUENCE_NODE
                         ? (size_t)(row->data.sequence.items.top - row->data.sequence.items.start)
                         : 0;
        if (len != k) {
            pds_diag_add(diag, y->path, pds_yaml_line(row), pds_yaml_col(row),
                         "covariance[%zu]: expected a row of %zu numbers", i, k);
            bad = 1;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            char what[64];
            snprintf(what, sizeof what, "covariance[%zu][%zu]", i, j);
            if (pds_yaml_double(y, pds_yaml_node(y, row->data.sequence.items.start[j]), what,
                                &m->cov[i * k + j], diag) != 0)
                bad = 1;
        }
    }
    if (!bad) {
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < i; j++)
                if (fabs(m->cov[i * k + j] - m->cov[j * k + i]) >
                    1e-9 * (fabs(m->cov[i * k + j]) + fabs(m->cov[j * k + i]) + 1e-300)) {
                    pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                                 "covariance: not symmetric at [%zu][%zu]", i, j);
                    return -1;
                }
    }
    /* the size is checked against the terms once both are known */
    return bad ? -1 : 0;
}

static int parse_posterior(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    return pds_posterior_parse(y, n, &((model_doc *)target)->post, diag);
}

static const pds_key model_keys[] = {
    {"name", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, offsetof(model_doc, name), NULL,
     "short name of the model", NULL},
    {"description", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(model_doc, description), NULL,
     "one line on what the model is", NULL},
    {"source", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(model_doc, source), NULL,
     "where the coefficients come from", NULL},
    {"link", PDS_KEY_ENUM, 0, 0, 0, "logit", link_names, offsetof(model_doc, link), NULL,
     "link function", NULL},
    {"lag", PDS_KEY_INT, 0, 1, 50, "1", NULL, offsetof(model_doc, lag), NULL,
     "years between panel covariates and the outcome", NULL},
    {"intercept", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_intercept,
     "{coef, se} of the constant (optional for pdsim fit; run needs it)", "{coef, se}"},
    {"terms", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_terms,
     "list of {name, dynamic|variable|unit|interact, transform, factor, reference, level, lag, "
     "power, half_life, window, interval, spline, coef, se}",
     "list"},
    {"covariance", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_cov,
     "covariance matrix of (intercept, terms...) as a list of rows", "list of rows"},
    {"posterior", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_posterior,
     "posterior of a Bayesian fit (pdsim fit --prior): {method, prior, chains, warmup, draws, "
     "seed, draws_file, mean, sd, q05, q50, q95, rhat, ess}",
     "mapping"},
};
#define N_MODEL_KEYS (sizeof model_keys / sizeof model_keys[0])

pds_model *pds_model_load(const char *path, pds_diag *diag)
{
    pds_yaml *y = pds_yaml_load(path, diag);
    if (!y)
        return NULL;
    pds_model *m = pds_model_create();
    if (!m) {
        pds_yaml_free(y);
        return NULL;
    }
    model_doc md = {.m = m};
    int bad = pds_yaml_parse_map(y, pds_yaml_root(y), model_keys, N_MODEL_KEYS, &md, NULL, diag);
    if (!bad && m->cov) {
        /* the covariance was sized by its own rows: it must match the terms */
        size_t k = 0;
        yaml_node_t *root = pds_yaml_root(y);
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            const char *key = pds_yaml_scalar(pds_yaml_node(y, p->key));
            if (key && strcmp(key, "covariance") == 0) {
                yaml_node_t *v = pds_yaml_node(y, p->value);
                k = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
                if (k != m->n_terms + 1) {
                    pds_diag_add(diag, y->path, pds_yaml_line(v), pds_yaml_col(v),
                                 "covariance: expected %zu rows (intercept and %zu terms), got %zu",
                                 m->n_terms + 1, m->n_terms, k);
                    bad = -1;
                }
                for (size_t j = 0; !bad && j < m->n_terms; j++)
                    for (size_t c = 0; m->terms[j].fixed && c < k; c++)
                        if (m->cov[(j + 1) * k + c] != 0.0 || m->cov[c * k + j + 1] != 0.0) {
                            yaml_node_t *row = pds_yaml_node(y, v->data.sequence.items.start[j + 1]);
                            pds_diag_add(diag, y->path, pds_yaml_line(row), pds_yaml_col(row),
                                         "covariance: term '%s' is fixed, so its row and column "
                                         "must be 0 (row %zu, column %zu is %g)",
                                         m->terms[j].name, j + 1, c, m->cov[(j + 1) * k + c]);
                            bad = -1;
                            break;
                        }
            }
        }
    }
    if (!bad && md.post.present && pds_posterior_finish(&md.post, m, path, diag) != 0)
        bad = -1;
    pds_posterior_doc_free(&md.post);
    m->name = md.name;
    m->path = malloc(strlen(path) + 1);
    if (m->path)
        memcpy(m->path, path, strlen(path) + 1);
    m->description = md.description;
    m->source = md.source;
    m->link = (pds_link)md.link;
    m->lag = (int)md.lag;
    if (!bad && !md.has_intercept && !m->spec_line)
        m->spec_line = 1;
    m->spec_only = m->spec_line != 0;
    pds_yaml_free(y);
    if (bad) {
        pds_model_free(m);
        return NULL;
    }
    return m;
}
