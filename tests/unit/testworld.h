/* Small worlds built in code for unit tests. */
#ifndef PDS_TESTWORLD_H
#define PDS_TESTWORLD_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/world.h"

static char *tw_strdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

/* A chain of n units (0-1, 1-2, ...), each with subs_per_unit sub-units,
 * one panel variable "x" over years y0..y1 with value x(u, y) = u + 0.1 (y - y0). */
static pds_world *tw_chain(size_t n, size_t subs_per_unit, int y0, int y1)
{
    pds_world *w = pds_world_create();
    w->n_units = n;
    w->units = calloc(n, sizeof *w->units);
    for (size_t u = 0; u < n; u++) {
        char buf[32];
        snprintf(buf, sizeof buf, "U%zu", u);
        w->units[u].code = tw_strdup(buf);
        w->units[u].name = tw_strdup(buf);
        w->units[u].region = tw_strdup("r");
    }
    w->n_subunits = n * subs_per_unit;
    w->subunits = calloc(w->n_subunits + 1, sizeof *w->subunits);
    for (size_t i = 0; i < w->n_subunits; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "S%zu", i);
        w->subunits[i].code = tw_strdup(buf);
        w->subunits[i].name = tw_strdup(buf);
        w->subunits[i].parent = i / subs_per_unit;
    }
    w->n_vars = 1;
    w->var_names = calloc(1, sizeof(char *));
    w->var_names[0] = tw_strdup("x");
    w->panel_first_year = y0;
    w->panel_last_year = y1;
    size_t ny = (size_t)(y1 - y0 + 1);
    w->panel = calloc(n * ny, sizeof(double));
    for (size_t u = 0; u < n; u++)
        for (size_t k = 0; k < ny; k++)
            w->panel[u * ny + k] = (double)u + 0.1 * (double)k;
    size_t *a = calloc(n, sizeof(size_t)), *b = calloc(n, sizeof(size_t));
    for (size_t i = 0; i + 1 < n; i++) {
        a[i] = i;
        b[i] = i + 1;
    }
    pds_world_index(w, a, b, NULL, n > 0 ? n - 1 : 0);
    free(a);
    free(b);
    return w;
}

/* A model with an intercept and the given terms (kind, coef); panel terms use "x". */
static pds_model *tw_model(pds_link link, double intercept, size_t n_terms,
                           const pds_term_kind *kinds, const double *coefs)
{
    pds_model *m = pds_model_create();
    m->name = tw_strdup("test");
    m->link = link;
    m->lag = 1;
    m->intercept = intercept;
    m->n_terms = n_terms;
    m->terms = calloc(n_terms + 1, sizeof *m->terms);
    for (size_t i = 0; i < n_terms; i++) {
        m->terms[i].name = tw_strdup("t");
        m->terms[i].kind = kinds[i];
        m->terms[i].coef = coefs[i];
        if (kinds[i] == PDS_TERM_PANEL)
            m->terms[i].variable = tw_strdup("x");
    }
    return m;
}

#endif
