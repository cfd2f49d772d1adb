#include "world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

pds_world *pds_world_create(void)
{
    return calloc(1, sizeof(pds_world));
}

void pds_world_free(pds_world *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_units; i++) {
        free(w->units[i].code);
        free(w->units[i].name);
        free(w->units[i].region);
    }
    free(w->units);
    for (size_t i = 0; i < w->n_subunits; i++) {
        free(w->subunits[i].code);
        free(w->subunits[i].name);
    }
    free(w->subunits);
    free(w->nbr_start);
    free(w->nbr);
    free(w->nbr_w);
    free(w->sub_start);
    free(w->sub_of);
    free(w->subunit_counts);
    free(w->documents);
    for (size_t v = 0; v < w->n_vars; v++)
        free(w->var_names[v]);
    free(w->var_names);
    free(w->panel);
    free(w);
}

long pds_world_unit_index(const pds_world *w, const char *code)
{
    for (size_t i = 0; i < w->n_units; i++)
        if (strcmp(w->units[i].code, code) == 0)
            return (long)i;
    return -1;
}

long pds_world_var_index(const pds_world *w, const char *name)
{
    for (size_t v = 0; v < w->n_vars; v++)
        if (strcmp(w->var_names[v], name) == 0)
            return (long)v;
    return -1;
}

static int pair_seen(const size_t *a, const size_t *b, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if ((a[j] == a[i] && b[j] == b[i]) || (a[j] == b[i] && b[j] == a[i]))
            return 1;
    return 0;
}

double pds_world_nbr_total(const pds_world *w, size_t u)
{
    double t = 0.0;
    for (size_t i = w->nbr_start[u]; i < w->nbr_start[u + 1]; i++)
        t += pds_world_nbr_weight(w, i);
    return t;
}

pds_status pds_world_index(pds_world *w, const size_t *a, const size_t *b, const double *weight,
                           size_t n_pairs)
{
    size_t n = w->n_units;
    free(w->nbr_start);
    free(w->nbr);
    free(w->nbr_w);
    w->nbr_w = NULL;
    if (weight && !(w->nbr_w = malloc((2 * n_pairs + 1) * sizeof(double))))
        return PDS_ERR_RUNTIME;
    free(w->sub_start);
    free(w->sub_of);
    w->nbr_start = calloc(n + 1, sizeof(size_t));
    w->nbr = malloc((2 * n_pairs + 1) * sizeof(size_t));
    w->sub_start = calloc(n + 1, sizeof(size_t));
    w->sub_of = malloc((w->n_subunits + 1) * sizeof(size_t));
    size_t *fill = calloc(n + 1, sizeof(size_t));
    char *dup = calloc(n_pairs + 1, 1);
    if (!w->nbr_start || !w->nbr || !w->sub_start || !w->sub_of || !fill || !dup) {
        free(fill);
        free(dup);
        return PDS_ERR_RUNTIME;
    }
    for (size_t i = 0; i < n_pairs; i++) {
        dup[i] = (char)(a[i] == b[i] || pair_seen(a, b, i));
        if (dup[i])
            continue;
        w->nbr_start[a[i] + 1]++;
        w->nbr_start[b[i] + 1]++;
    }
    for (size_t u = 0; u < n; u++)
        w->nbr_start[u + 1] += w->nbr_start[u];
    for (size_t i = 0; i < n_pairs; i++) {
        if (dup[i])
            continue;
        size_t ia = w->nbr_start[a[i]] + fill[a[i]]++, ib = w->nbr_start[b[i]] + fill[b[i]]++;
        w->nbr[ia] = b[i];
        w->nbr[ib] = a[i];
        if (weight)
            w->nbr_w[ia] = w->nbr_w[ib] = weight[i];
    }
    free(dup);

    memset(fill, 0, (n + 1) * sizeof(size_t));
    for (size_t s = 0; s < w->n_subunits; s++)
        w->sub_start[w->subunits[s].parent + 1]++;
    for (size_t u = 0; u < n; u++)
        w->sub_start[u + 1] += w->sub_start[u];
    for (size_t s = 0; s < w->n_subunits; s++) {
        size_t p = w->subunits[s].parent;
        w->sub_of[w->sub_start[p] + fill[p]++] = s;
    }
    free(fill);
    return PDS_OK;
}

double pds_world_panel(const pds_world *w, size_t unit, int year, size_t var)
{
    if (!w->panel || year < w->panel_first_year || year > w->panel_last_year || var >= w->n_vars)
        return NAN;
    size_t ny = (size_t)(w->panel_last_year - w->panel_first_year + 1);
    return w->panel[(unit * ny + (size_t)(year - w->panel_first_year)) * w->n_vars + var];
}

double pds_world_documents_through(const pds_world *w, int year)
{
    double s = 0.0;
    for (size_t i = 0; i < w->n_documents; i++)
        if (w->documents[i].year <= year)
            s += w->documents[i].weight;
    return s;
}
