/* The world: units (e.g. provinces), sub-units (e.g. cities), contiguity,
 * the central-document timeline and the covariate panel. Built once by a
 * loader, then shared read-only by every thread. Nothing here is specific to
 * one country. */
#ifndef PDS_WORLD_H
#define PDS_WORLD_H

#include <stddef.h>

#include "diag.h"

typedef struct pds_unit {
    char *code;       /* owned; unique among units */
    char *name;       /* owned */
    char *region;     /* owned; free-text label */
    char *name_en;    /* owned; the name in English (units file column name_en), or "" */
    int adoption_year; /* observed adoption year; 0 = not adopted in the data */
} pds_unit;

typedef struct pds_subunit {
    char *code;        /* owned; unique among sub-units */
    char *name;        /* owned */
    size_t parent;     /* index into units */
    int adoption_year; /* observed adoption year; 0 = unknown or not adopted */
} pds_subunit;

/* Known count of adopted sub-units of a unit by the end of a year, for when
 * the identities of the adopters are not known. */
typedef struct pds_subunit_count {
    size_t unit; /* index into units */
    int year;    /* the count holds at the end of this year */
    int adopted; /* cumulative number of adopted sub-units */
} pds_subunit_count;

typedef struct pds_document {
    int year;      /* year of issue */
    double weight; /* count x weight: contribution to the document variable */
} pds_document;

/* The most units and sub-units a dataset may have: beyond these the per-run
 * tables and the output outgrow a machine, so such a dataset is refused
 * while it is read. */
#define PDS_MAX_UNITS 100000
#define PDS_MAX_SUBUNITS 1000000

typedef struct pds_world {
    size_t n_units;
    pds_unit *units;

    /* contiguity as compressed rows: neighbours of u are
     * nbr[nbr_start[u] .. nbr_start[u+1]) */
    size_t *nbr_start; /* n_units + 1 */
    size_t *nbr;       /* 2 x number of pairs */
    double *nbr_w;     /* weight of each entry of nbr; NULL = every neighbour weighs 1 */

    size_t n_subunits;
    pds_subunit *subunits;
    size_t *sub_start; /* n_units + 1: sub-units of u are sub_of[sub_start[u] ..) */
    size_t *sub_of;    /* sub-unit indices grouped by parent */

    size_t n_subunit_counts;
    pds_subunit_count *subunit_counts;

    size_t n_documents;
    pds_document *documents;

    /* panel: value(u, y, v) = panel[((u * n_years) + (y - first_year)) * n_vars + v],
     * NaN where missing */
    size_t n_vars;
    char **var_names;  /* owned */
    int panel_first_year;
    int panel_last_year;
    double *panel;

    /* every column of the units file as text, for unit-attribute terms:
     * unit_attrs[u * n_unit_attrs + a] is column unit_attr_names[a] of unit u */
    size_t n_unit_attrs;
    char **unit_attr_names; /* owned */
    char **unit_attrs;      /* owned */
    char *units_path;       /* owned: the units file, for messages; may be NULL */

    /* unit and sub-unit indices sorted by code, for look-ups in O(log n);
     * NULL until pds_world_index_codes builds them (then lookups are linear) */
    size_t *unit_by_code;
    size_t *sub_by_code;
} pds_world;

/* Owned, zero-initialised world; NULL when out of memory. */
pds_world *pds_world_create(void);
/* Frees everything the world owns. NULL is a no-op. */
void pds_world_free(pds_world *w);

/* Unit / sub-unit / panel-variable index by code or name; -1 when absent. */
long pds_world_unit_index(const pds_world *w, const char *code);
long pds_world_subunit_index(const pds_world *w, const char *code);

/* Sort the unit and sub-unit codes for fast look-ups (codes must be unique).
 * Call again after adding units or sub-units. */
pds_status pds_world_index_codes(pds_world *w);

/* order[0..n) = 0..n-1 sorted by (codes[i], i): equal codes end up
 * adjacent, the first occurrence first. NULL codes sort as "". */
void pds_sort_codes(const char *const *codes, size_t n, size_t *order);

/* dup[i] = 1 when codes[i] equals an earlier codes[j], else 0; in
 * O(n log n). -1 when out of memory. */
int pds_find_duplicates(const char *const *codes, size_t n, char *dup);
long pds_world_var_index(const pds_world *w, const char *name);
/* Column index of a units-file column; -1 when absent. */
long pds_world_unit_attr_index(const pds_world *w, const char *name);
/* Text of units-file column a for unit u ("" when the world has none). */
const char *pds_world_unit_attr(const pds_world *w, size_t u, size_t a);

/* Build the neighbour and sub-unit index arrays from pairs (a[i], b[i]) and
 * the sub-units' parents. Duplicated pairs are counted once. */
pds_status pds_world_index(pds_world *w, const size_t *a, const size_t *b, const double *weight,
                           size_t n_pairs);

/* Weight of neighbour entry i, and the total neighbour weight of unit u. */
static inline double pds_world_nbr_weight(const pds_world *w, size_t i)
{
    return w->nbr_w ? w->nbr_w[i] : 1.0;
}
double pds_world_nbr_total(const pds_world *w, size_t u);

/* Panel value or NaN when the year is outside the panel or the value missing. */
double pds_world_panel(const pds_world *w, size_t unit, int year, size_t var);

/* Weighted number of documents issued in years <= year. */
double pds_world_documents_through(const pds_world *w, int year);

#endif
