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
        free(w->units[i].name_en);
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
    for (size_t i = 0; w->unit_attrs && i < w->n_units * w->n_unit_attrs; i++)
        free(w->unit_attrs[i]);
    free(w->unit_attrs);
    for (size_t a = 0; w->unit_attr_names && a < w->n_unit_attrs; a++)
        free(w->unit_attr_names[a]);
    free(w->unit_attr_names);
    free(w->units_path);
    free(w->unit_by_code);
    free(w->sub_by_code);
    free(w);
}

typedef struct keyed {
    const char *key;
    size_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->i > y->i) - (x->i < y->i);
}

void pds_sort_codes(const char *const *codes, size_t n, size_t *order)
{
    keyed *k = malloc((n + 1) * sizeof *k);
    if (!k) {
        /* out of memory: an insertion sort needs none */
        for (size_t i = 0; i < n; i++) {
            size_t j = i;
            const char *c = codes[i] ? codes[i] : "";
            while (j > 0 && strcmp(codes[order[j - 1]] ? codes[order[j - 1]] : "", c) > 0) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        k[i].key = codes[i] ? codes[i] : "";
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, keyed_cmp);
    for (size_t i = 0; i < n; i++)
        order[i] = k[i].i;
    free(k);
}

int pds_find_duplicates(const char *const *codes, size_t n, char *dup)
{
    size_t *order = malloc((n + 1) * sizeof(size_t));
    if (!order)
        return -1;
    pds_sort_codes(codes, n, order);
    memset(dup, 0, n);
    for (size_t j = 1; j < n; j++) {
        const char *a = codes[order[j - 1]], *b = codes[order[j]];
        if (strcmp(a ? a : "", b ? b : "") == 0)
            dup[order[j]] = 1;
    }
    free(order);
    return 0;
}

static size_t *code_index(const char *const *codes, size_t n)
{
    size_t *order = malloc((n + 1) * sizeof(size_t));
    if (order)
        pds_sort_codes(codes, n, order);
    return order;
}

pds_status pds_world_index_codes(pds_world *w)
{
    const char **c = malloc((w->n_units + w->n_subunits + 1) * sizeof(char *));
    if (!c)
        return PDS_ERR_RUNTIME;
    for (size_t i = 0; i < w->n_units; i++)
        c[i] = w->units[i].code;
    free(w->unit_by_code);
    w->unit_by_code = code_index(c, w->n_units);
    for (size_t i = 0; i < w->n_subunits; i++)
        c[i] = w->subunits[i].code;
    free(w->sub_by_code);
    w->sub_by_code = code_index(c, w->n_subunits);
    free(c);
    return w->unit_by_code && w->sub_by_code ? PDS_OK : PDS_ERR_RUNTIME;
}

/* Binary search of code among n entries sorted by codeof(order[.]). */
#define FIND_SORTED(order, n, codeof, code)                                                        \
    do {                                                                                           \
        size_t lo = 0, hi = (n);                                                                   \
        while (lo < hi) {                                                                          \
            size_t mid = lo + (hi - lo) / 2;                                                       \
            int c = strcmp(codeof((order)[mid]), (code));                                          \
            if (c == 0)                                                                            \
                return (long)(order)[mid];                                                         \
            if (c < 0)                                                                             \
                lo = mid + 1;                                                                      \
            else                                                                                   \
                hi = mid;                                                                          \
        }                                                                                          \
        return -1;                                                                                 \
    } while (0)

long pds_world_unit_index(const pds_world *w, const char *code)
{
#define UNIT_CODE(i) w->units[i].code
    if (w->unit_by_code)
        FIND_SORTED(w->unit_by_code, w->n_units, UNIT_CODE, code);
#undef UNIT_CODE
    for (size_t i = 0; i < w->n_units; i++)
        if (strcmp(w->units[i].code, code) == 0)
            return (long)i;
    return -1;
}

long pds_world_subunit_index(const pds_world *w, const char *code)
{
#define SUB_CODE(i) w->subunits[i].code
    if (w->sub_by_code)
        FIND_SORTED(w->sub_by_code, w->n_subunits, SUB_CODE, code);
#undef SUB_CODE
    for (size_t i = 0; i < w->n_subunits; i++)
        if (strcmp(w->subunits[i].code, code) == 0)
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

typedef struct pair_key {
    size_t lo, hi, i;
} pair_key;

static int pair_cmp(const void *a, const void *b)
{
    const pair_key *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* dup[i] = 1 for a self-pair or a pair (either way round) that appeared
 * earlier; sorting makes it O(n log n). */
static int mark_duplicate_pairs(const size_t *a, const size_t *b, size_t n, char *dup)
{
    pair_key *k = malloc((n + 1) * sizeof *k);
    if (!k)
        return -1;
    for (size_t i = 0; i < n; i++) {
        k[i].lo = a[i] < b[i] ? a[i] : b[i];
        k[i].hi = a[i] < b[i] ? b[i] : a[i];
        k[i].i = i;
        dup[i] = (char)(a[i] == b[i]);
    }
    qsort(k, n, sizeof *k, pair_cmp);
    for (size_t j = 1; j < n; j++)
        if (k[j].lo == k[j - 1].lo && k[j].hi == k[j - 1].hi)
            dup[k[j].i] = 1;
    free(k);
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
    if (!w->nbr_start || !w->nbr || !w->sub_start || !w->sub_of || !fill || !dup ||
        mark_duplicate_pairs(a, b, n_pairs, dup) != 0) {
        free(fill);
        free(dup);
        return PDS_ERR_RUNTIME;
    }
    for (size_t i = 0; i < n_pairs; i++) {
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

long pds_world_unit_attr_index(const pds_world *w, const char *name)
{
    for (size_t a = 0; a < w->n_unit_attrs; a++)
        if (w->unit_attr_names[a] && strcmp(w->unit_attr_names[a], name) == 0)
            return (long)a;
    return -1;
}

const char *pds_world_unit_attr(const pds_world *w, size_t u, size_t a)
{
    if (!w->unit_attrs || u >= w->n_units || a >= w->n_unit_attrs)
        return "";
    const char *s = w->unit_attrs[u * w->n_unit_attrs + a];
    return s ? s : "";
}
