#include "pp.h"

#include <math.h>
#include <stdlib.h>

#include "dynamic.h"

void pds_pp_free(pds_pp_table *t)
{
    if (!t)
        return;
    free(t->X);
    free(t->y);
    free(t->unit);
    free(t->year);
    free(t);
}

int pds_pp_default_first_year(const pds_world *w, const pds_model *spec)
{
    for (size_t j = 0; j < spec->n_terms; j++)
        if (spec->terms[j].kind == PDS_TERM_PANEL && w->panel)
            return w->panel_first_year + spec->lag;
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
            double x = pds_dynamic_common(w, term, first_year + (int)k, spec->lag);
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
        if (term->kind == PDS_TERM_PANEL) {
            var[j] = pds_world_var_index(w, term->variable);
            if (var[j] < 0) {
                pds_diag_add(diag, spec->path, term->line, 0,
                             "term '%s': the dataset's panel.csv has no column '%s'", term->name,
                             term->variable);
                bad = 1;
            }
        } else if (term->kind == PDS_TERM_PARENT_ADOPTED || term->kind == PDS_TERM_SIBLINGS_PCT) {
            pds_diag_add(diag, spec->path, term->line, 0,
                         "term '%s': '%s' is a sub-unit variable; fit models units", term->name,
                         pds_term_kind_name(term->kind));
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
                switch (term->kind) {
                case PDS_TERM_DOCUMENTS:
                case PDS_TERM_DOCUMENT_STOCK:
                case PDS_TERM_RECENT_DOCUMENTS:
                case PDS_TERM_YEARS_SINCE_FIRST:
                case PDS_TERM_YEAR:
                    x = common[j * ny + (size_t)(y - first_year)];
                    break;
                case PDS_TERM_NEIGHBOURS_PCT:
                    x = neighbours_pct(w, u, y - 1);
                    break;
                case PDS_TERM_SUBUNITS_PCT:
                    x = pds_pp_subunits_pct(w, u, y - 1);
                    break;
                case PDS_TERM_PANEL:
                    x = pds_world_panel(w, u, y - spec->lag, (size_t)var[j]);
                    if (isnan(x)) {
                        pds_diag_add(diag, NULL, 0, 0,
                                     "panel.csv: unit %s, year %d: '%s' is missing (needed by term "
                                     "'%s' for %d)",
                                     w->units[u].code, y - spec->lag, term->variable, term->name,
                                     y);
                        bad = 1;
                    } else if (term->transform == PDS_TRANSFORM_LOG1P) {
                        if (!(x > -1)) {
                            pds_diag_add(diag, NULL, 0, 0,
                                         "panel.csv: unit %s, year %d: '%s' = %g: log(1 + x) "
                                         "needs x > -1",
                                         w->units[u].code, y - spec->lag, term->variable, x);
                            bad = 1;
                        } else {
                            x = log1p(x);
                        }
                    } else if (term->transform == PDS_TRANSFORM_LOG) {
                        if (!(x > 0)) {
                            pds_diag_add(diag, NULL, 0, 0,
                                         "panel.csv: unit %s, year %d: '%s' = %g cannot be logged",
                                         w->units[u].code, y - spec->lag, term->variable, x);
                            bad = 1;
                        } else {
                            x = log(x);
                        }
                    }
                    break;
                default:
                    break;
                }
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
