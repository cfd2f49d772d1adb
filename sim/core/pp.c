#include "pp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamic.h"

void pds_pp_free(pds_pp_table *t)
{
    if (!t)
        return;
    free(t->X);
    free(t->y);
    free(t->unit);
    free(t->year);
    free(t->held);
    free(t->held_value);
    free(t);
}

int pds_pp_default_first_year(const pds_world *w, const pds_model *spec)
{
    int lag = -1;
    for (size_t j = 0; j < spec->n_terms; j++) {
        const pds_term *t = &spec->terms[j];
        for (size_t i = 0; i < (t->kind == PDS_TERM_INTERACTION ? t->n_factors : 1); i++) {
            const pds_term *f = t->kind == PDS_TERM_INTERACTION ? &t->factors[i] : t;
            if (f->kind == PDS_TERM_PANEL && PDS_TERM_LAG(spec, f) > lag)
                lag = PDS_TERM_LAG(spec, f);
        }
    }
    if (lag >= 0 && w->panel)
        return w->panel_first_year + lag;
    int y = 0;
    for (size_t u = 0; u < w->n_units; u++) {
        int a = w->units[u].adoption_year;
        if (a && (!y || a < y))
            y = a;
    }
    return y;
}

static int adopted_by(int adoption_year, int y)
{
    return adoption_year != 0 && adoption_year <= y;
}

double pds_pp_subunits_pct(const pds_world *w, size_t u, int y)
{
    size_t n = w->sub_start[u + 1] - w->sub_start[u];
    int dated = 0;
    for (size_t i = w->sub_start[u]; i < w->sub_start[u + 1]; i++)
        dated += adopted_by(w->subunits[w->sub_of[i]].adoption_year, y);
    int best_year = 0, count = -1;
    for (size_t i = 0; i < w->n_subunit_counts; i++) {
        const pds_subunit_count *c = &w->subunit_counts[i];
        if (c->unit == u && c->year <= y && c->year > best_year) {
            best_year = c->year;
            count = c->adopted;
        }
    }
    return pds_dynamic_pct(count > dated ? count : dated, (double)n);
}

static double neighbours_pct(const pds_world *w, size_t u, int y)
{
    double a = 0.0;
    for (size_t i = w->nbr_start[u]; i < w->nbr_start[u + 1]; i++)
        if (adopted_by(w->units[w->nbr[i]].adoption_year, y))
            a += pds_world_nbr_weight(w, i);
    return pds_dynamic_pct(a, pds_world_nbr_total(w, u));
}

/* The value of a term (not a year-only one, which the caller caches, unless
 * it is a factor of an interaction) for unit u in outcome year y: 0, or -1
 * with a message. */
static int term_value(const pds_world *w, const pds_model *spec, const pds_term *term, size_t u,
                      int y, pds_diag *diag, double *out)
{
    double x = 0.0;
    int lag = PDS_TERM_LAG(spec, term);
    switch (term->kind) {
    case PDS_TERM_NEIGHBOURS_PCT:
        x = neighbours_pct(w, u, y - 1);
        break;
    case PDS_TERM_SUBUNITS_PCT:
        x = pds_pp_subunits_pct(w, u, y - 1);
        break;
    case PDS_TERM_INTERACTION:
        x = 1.0;
        for (size_t i = 0; i < term->n_factors; i++) {
            double f;
            if (term_value(w, spec, &term->factors[i], u, y, diag, &f) != 0)
                return -1;
            x *= f;
        }
        break;
    case PDS_TERM_UNIT_ATTR: {
        long a = pds_world_unit_attr_index(w, term->unit_attr);
        if (a < 0) {
            pds_diag_add(diag, spec->path, term->line, 0,
                         "term '%s': the units file has no column '%s'", term->name,
                         term->unit_attr);
            return -1;
        }
        if (pds_term_unit_attr_x(w, term, (size_t)a, u, &x) != 0) {
            pds_diag_add(diag, w->units_path, 0, 0,
                         "unit %s: '%s' = \"%s\" is not a number%s (term '%s'; a text column "
                         "enters as a factor: factor: true, reference: LEVEL)",
                         w->units[u].code, term->unit_attr,
                         pds_world_unit_attr(w, u, (size_t)a),
                         term->transform ? " that can be logged" : "", term->name);
            return -1;
        }
        break;
    }
    case PDS_TERM_PANEL: {
        long v = pds_world_var_index(w, term->variable);
        if (v < 0) {
            pds_diag_add(diag, spec->path, term->line, 0,
                         "term '%s': the dataset's panel.csv has no column '%s'", term->name,
                         term->variable);
            return -1;
        }
        x = pds_world_panel(w, u, y - lag, (size_t)v);
        if (isnan(x)) {
            pds_diag_add(diag, NULL, 0, 0,
                         "panel.csv: unit %s, year %d: '%s' is missing (needed by term '%s' for "
                         "%d)",
                         w->units[u].code, y - lag, term->variable, term->name, y);
            return -1;
        }
        double raw = x;
        if (pds_term_transform_x(term, raw, &x) != 0) {
            if (term->transform == PDS_TRANSFORM_LOG1P)
                pds_diag_add(diag, NULL, 0, 0,
                             "panel.csv: unit %s, year %d: '%s' = %g: log(1 + x) needs x > -1",
                             w->units[u].code, y - lag, term->variable, raw);
            else
                pds_diag_add(diag, NULL, 0, 0,
                             "panel.csv: unit %s, year %d: '%s' = %g cannot be logged",
                             w->units[u].code, y - lag, term->variable, raw);
            return -1;
        }
        break;
    }
    default:
        if (pds_dynamic_is_common(term->kind)) {
            x = pds_dynamic_common(w, term, y, lag);
            if (isnan(x)) {
                pds_diag_add(diag, spec->path, term->line, 0,
                             "term '%s': transform log1p: the %s for %d is <= -1", term->name,
                             pds_term_kind_name(term->kind), y);
                return -1;
            }
        }
        break;
    }
    *out = x;
    return 0;
}

pds_status pds_pp_build(const pds_world *w, const pds_model *spec, int first_year, int last_year,
                        pds_diag *diag, pds_pp_table **out)
{
    *out = NULL;
    if (last_year < first_year) {
        pds_diag_add(diag, NULL, 0, 0, "fit: no years at risk (%d..%d)", first_year, last_year);
        return PDS_ERR_INPUT;
    }
    pds_pp_table *t = calloc(1, sizeof *t);
    if (!t)
        return PDS_ERR_RUNTIME;
    t->first_year = first_year;
    t->last_year = last_year;
    t->p = spec->n_terms + 1;
    size_t cap = 0;
    for (size_t u = 0; u < w->n_units; u++) {
        int a = w->units[u].adoption_year;
        if (a && a < first_year) {
            t->n_left_censored++;
            continue;
        }
        t->n_units_at_risk++;
        int end = a && a < last_year ? a : last_year;
        cap += (size_t)(end - first_year + 1);
    }
    t->X = malloc((cap * t->p + 1) * sizeof(double));
    t->y = malloc((cap + 1) * sizeof(double));
    t->unit = malloc((cap + 1) * sizeof(size_t));
    t->year = malloc((cap + 1) * sizeof(int));
    if (!t->X || !t->y || !t->unit || !t->year) {
        pds_pp_free(t);
        return PDS_ERR_RUNTIME;
    }
    for (size_t j = 0; j < spec->n_terms; j++)
        t->n_held += spec->terms[j].fixed != 0;
    if (t->n_held) {
        t->held = calloc(t->p, 1);
        t->held_value = calloc(t->p, sizeof(double));
        if (!t->held || !t->held_value) {
            pds_pp_free(t);
            return PDS_ERR_RUNTIME;
        }
        for (size_t j = 0; j < spec->n_terms; j++)
            if (spec->terms[j].fixed) {
                t->held[j + 1] = 1;
                t->held_value[j + 1] = spec->terms[j].coef;
            }
    }
    long *var = calloc(spec->n_terms + 1, sizeof(long));
    if (!var) {
        pds_pp_free(t);
        return PDS_ERR_RUNTIME;
    }
    /* the terms common to every unit in a year, once per year */
    size_t ny = (size_t)(last_year - first_year + 1);
    double *common = calloc(spec->n_terms * ny + 1, sizeof(double));
    if (!common) {
        free(var);
        pds_pp_free(t);
        return PDS_ERR_RUNTIME;
    }
    int bad = 0;
    for (size_t j = 0; j < spec->n_terms; j++) {
        const pds_term *term = &spec->terms[j];
        if (!pds_dynamic_is_common(term->kind))
            continue;
        for (size_t k = 0; k < ny; k++) {
            double x = pds_dynamic_common(w, term, first_year + (int)k, PDS_TERM_LAG(spec, term));
            if (isnan(x)) {
                pds_diag_add(diag, spec->path, term->line, 0,
                             "term '%s': transform log1p: the %s for %d is <= -1", term->name,
                             pds_term_kind_name(term->kind), first_year + (int)k);
                bad = 1;
                break;
            }
            common[j * ny + k] = x;
        }
    }
    for (size_t j = 0; j < spec->n_terms; j++) {
        const pds_term *term = &spec->terms[j];
        var[j] = -1;
        if (term->kind == PDS_TERM_PARENT_ADOPTED || term->kind == PDS_TERM_SIBLINGS_PCT) {
            pds_diag_add(diag, spec->path, term->line, 0,
                         "term '%s': '%s' is a sub-unit variable; fit models units", term->name,
                         pds_term_kind_name(term->kind));
            bad = 1;
        } else if (term->factor) {
            pds_diag_add(diag, spec->path, term->line, 0,
                         "term '%s': a factor not expanded into its levels", term->name);
            bad = 1;
        }
    }
    for (size_t u = 0; !bad && u < w->n_units; u++) {
        int a = w->units[u].adoption_year;
        if (a && a < first_year)
            continue;
        for (int y = first_year; y <= last_year; y++) {
            if (adopted_by(a, y - 1))
                break;
            double *row = t->X + t->n * t->p;
            row[0] = 1.0;
            for (size_t j = 0; j < spec->n_terms && !bad; j++) {
                const pds_term *term = &spec->terms[j];
                double x = 0.0;
                if (pds_dynamic_is_common(term->kind))
                    x = common[j * ny + (size_t)(y - first_year)];
                else if (term_value(w, spec, term, u, y, diag, &x) != 0)
                    bad = 1;
                row[j + 1] = x;
            }
            t->y[t->n] = a == y ? 1.0 : 0.0;
            t->unit[t->n] = u;
            t->year[t->n] = y;
            t->n++;
        }
    }
    free(var);
    free(common);
    if (bad) {
        pds_pp_free(t);
        return PDS_ERR_INPUT;
    }
    *out = t;
    return PDS_OK;
}

void pds_pp_hazards(const pds_pp_table *t, const pds_model *m, double delta, double *p)
{
    for (size_t r = 0; r < t->n; r++) {
        const double *x = t->X + r * t->p;
        double eta = m->intercept + delta;
        for (size_t j = 0; j < m->n_terms && j + 1 < t->p; j++)
            eta += m->terms[j].coef * x[j + 1];
        p[r] = pds_link_inverse(m->link, eta);
    }
}

static double excess(const pds_pp_table *t, const pds_model *m, double delta, double events,
                     double *p)
{
    pds_pp_hazards(t, m, delta, p);
    double s = 0.0;
    for (size_t r = 0; r < t->n; r++)
        s += p[r];
    return s - events;
}

pds_status pds_pp_intercept_shift(const pds_pp_table *t, const pds_model *m, double *delta,
                                  pds_diag *diag)
{
    *delta = 0.0;
    double events = 0.0;
    for (size_t r = 0; r < t->n; r++)
        events += t->y[r];
    if (t->n == 0 || events == 0.0 || events == (double)t->n) {
        pds_diag_add(diag, m->path, 0, 0,
                     "intercept recalibration: needs unit-years at risk with both adoptions and "
                     "non-adoptions (%zu rows, %.0f adoptions in %d..%d)",
                     t->n, events, t->first_year, t->last_year);
        return PDS_ERR_INPUT;
    }
    double *p = malloc(t->n * sizeof *p);
    if (!p)
        return PDS_ERR_RUNTIME;
    /* the expected count rises monotonically with the shift: bisection is
     * safe for either link, and 200 halvings of [-100, 100] reach the
     * double-precision limit */
    double lo = -100.0, hi = 100.0;
    for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
        double mid = 0.5 * (lo + hi);
        if (excess(t, m, mid, events, p) < 0.0)
            lo = mid;
        else
            hi = mid;
    }
    free(p);
    *delta = 0.5 * (lo + hi);
    return PDS_OK;
}

int pds_pp_default_last_year(const pds_world *w, const pds_model *spec)
{
    (void)spec;
    if (w->panel)
        return w->panel_last_year;
    int y = 0;
    for (size_t u = 0; u < w->n_units; u++)
        if (w->units[u].adoption_year > y)
            y = w->units[u].adoption_year;
    return y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_num(const void *a, const void *b)
{
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return (x > y) - (x < y);
}

/* The distinct levels of a factor term, sorted (text, or numbers by value);
 * -1 with a message. */
static int factor_levels(const pds_world *w, const pds_model *m, const pds_term *t,
                         char ***out, size_t *n_out, pds_diag *diag)
{
    size_t cap = 16, n = 0;
    char **lv = malloc(cap * sizeof *lv);
    if (!lv)
        return -1;
    long col = t->kind == PDS_TERM_UNIT_ATTR ? pds_world_unit_attr_index(w, t->unit_attr)
                                             : pds_world_var_index(w, t->variable);
    if (col < 0) {
        pds_diag_add(diag, m->path, t->line, 0, "term '%s': %s has no column '%s'", t->name,
                     t->kind == PDS_TERM_UNIT_ATTR ? "the units file" : "the dataset's panel.csv",
                     t->kind == PDS_TERM_UNIT_ATTR ? t->unit_attr : t->variable);
        free(lv);
        return -1;
    }
    size_t rows = t->kind == PDS_TERM_UNIT_ATTR
                      ? w->n_units
                      : w->n_units * (size_t)(w->panel ? w->panel_last_year - w->panel_first_year + 1 : 0);
    for (size_t r = 0; r < rows; r++) {
        char buf[64];
        const char *v;
        if (t->kind == PDS_TERM_UNIT_ATTR) {
            v = pds_world_unit_attr(w, r, (size_t)col);
            if (!*v) {
                pds_diag_add(diag, w->units_path, 0, 0,
                             "unit %s: '%s' is blank (needed by the factor term '%s')",
                             w->units[r].code, t->unit_attr, t->name);
                for (size_t i = 0; i < n; i++)
                    free(lv[i]);
                free(lv);
                return -1;
            }
        } else {
            double x = w->panel[r * w->n_vars + (size_t)col];
            if (isnan(x))
                continue;
            snprintf(buf, sizeof buf, "%.17g", x);
            v = buf;
        }
        size_t i = 0;
        while (i < n && strcmp(lv[i], v) != 0)
            i++;
        if (i < n)
            continue;
        if (n == cap) {
            char **g = realloc(lv, 2 * cap * sizeof *lv);
            if (!g)
                goto oom;
            lv = g;
            cap *= 2;
        }
        if (!(lv[n] = malloc(strlen(v) + 1)))
            goto oom;
        memcpy(lv[n++], v, strlen(v) + 1);
    }
    qsort(lv, n, sizeof *lv, t->kind == PDS_TERM_UNIT_ATTR ? cmp_str : cmp_num);
    *out = lv;
    *n_out = n;
    return 0;
oom:
    for (size_t i = 0; i < n; i++)
        free(lv[i]);
    free(lv);
    return -1;
}

/* The index of factor term t's reference level among its n levels lv, or n
 * with a message (naming m's file and line) when the reference does not
 * occur or there are fewer than two levels. */
static size_t reference_level(const pds_model *m, const pds_term *t, long line, char **lv,
                              size_t n, pds_diag *diag)
{
    size_t ref = n;
    for (size_t i = 0; i < n; i++)
        if (t->kind == PDS_TERM_UNIT_ATTR ? strcmp(lv[i], t->reference) == 0
                                          : strtod(lv[i], NULL) == strtod(t->reference, NULL))
            ref = i;
    char list[512] = "";
    for (size_t i = 0; i < n; i++)
        if (strlen(list) + strlen(lv[i]) + 8 < sizeof list)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     lv[i]);
        else if (!strstr(list, "..."))
            strcat(list, ", ...");
    const char *col = t->kind == PDS_TERM_UNIT_ATTR ? t->unit_attr : t->variable;
    const char *file = t->kind == PDS_TERM_UNIT_ATTR ? "the units file" : "panel.csv";
    if (ref == n)
        pds_diag_add(diag, m->path, line, 0,
                     "term '%s': reference level '%s' does not occur in %s column '%s' "
                     "(levels: %s)",
                     t->name, t->reference, file, col, list);
    else if (n < 2) {
        pds_diag_add(diag, m->path, line, 0,
                     "term '%s': a factor needs at least two levels; %s column '%s' has "
                     "only '%s'",
                     t->name, file, col, list);
        ref = n;
    }
    return ref;
}

static char *level_name(const char *name, const char *level)
{
    return pds_strfmt("%s[%s]", name, level);
}

/* Replace term j of m, a factor (fi == (size_t)-1) or an interaction whose
 * factor fi is a factor, by one term per level but the reference, in level
 * order: NAME[LEVEL], the dummy of the level (inside the interaction for
 * an interaction). 0, or -1 with a message. */
static int expand_term(pds_model *m, size_t j, size_t fi, const pds_world *w, pds_diag *diag)
{
    pds_term *t = &m->terms[j];
    pds_term *fac = fi == (size_t)-1 ? t : &t->factors[fi];
    char **lv = NULL;
    size_t n = 0;
    if (factor_levels(w, m, fac, &lv, &n, diag) != 0)
        return -1;
    size_t ref = reference_level(m, fac, fac->line ? fac->line : t->line, lv, n, diag);
    pds_term *nt = ref == n ? NULL : realloc(m->terms, (m->n_terms + n) * sizeof *m->terms);
    if (ref != n && !nt)
        pds_diag_add(diag, NULL, 0, 0, "out of memory");
    int bad = !nt;
    if (!bad) {
        m->terms = nt;
        pds_term proto = m->terms[j];
        memmove(&m->terms[j + n - 1], &m->terms[j + 1], (m->n_terms - j - 1) * sizeof *m->terms);
        size_t k = j;
        for (size_t i = 0; i < n; i++) {
            if (i == ref)
                continue;
            pds_term lt;
            if (pds_term_copy(&lt, &proto) != 0) {
                memset(&lt, 0, sizeof lt);
                bad = 1;
            }
            pds_term *lf = fi == (size_t)-1 ? &lt : lt.n_factors > fi ? &lt.factors[fi] : NULL;
            if (lf) {
                char *nm = level_name(lf->name, lv[i]);
                free(lf->name);
                lf->name = nm;
                free(lf->reference);
                lf->reference = NULL;
                free(lf->level);
                lf->level = strdup(lv[i]);
                lf->factor = 0;
                bad |= !lf->name || !lf->level;
            }
            if (lf && lf != &lt) {
                char *nm = level_name(lt.name, lv[i]);
                free(lt.name);
                lt.name = nm;
                bad |= !lt.name;
            }
            lt.coef = 0.0;
            lt.se = 0.0;
            m->terms[k++] = lt;
        }
        m->n_terms += n - 2;
        pds_term_clear(&proto);
        if (bad)
            pds_diag_add(diag, NULL, 0, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        free(lv[i]);
    free(lv);
    return bad ? -1 : 0;
}

pds_status pds_model_expand_factors(pds_model *m, const pds_world *w, pds_diag *diag)
{
    int bad = 0;
    for (size_t j = 0; j < m->n_terms;) {
        pds_term *t = &m->terms[j];
        size_t fi = (size_t)-1;
        for (size_t i = 0; i < t->n_factors && fi == (size_t)-1; i++)
            if (t->factors[i].factor)
                fi = i;
        if (!t->factor && fi == (size_t)-1) {
            j++;
            continue;
        }
        if (expand_term(m, j, fi, w, diag) != 0) {
            bad = 1;
            j++;
        }
        /* else term j is the first level term; an interaction with a
         * second factor is expanded again */
        else if (fi == (size_t)-1)
            j++;
    }
    return bad ? PDS_ERR_INPUT : PDS_OK;
}
