#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csvtab.h"
#include "yamldoc.h"

#define YEAR_MIN 1000
#define YEAR_MAX 3000
#define PROV_SUFFIX "_provenance"

static char *join(const char *dir, const char *file)
{
    return pds_strfmt("%s/%s", dir, file);
}

/* Absent only when nothing is there: any other failure (a loop of symbolic
 * links, no permission) is left to the reader, which names it. */
static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

/* The file of each role: named in the folder's dataset.yaml, else the generic
 * name. A file the manifest names must exist; a generic one may be absent. */
typedef struct files {
    char *role[PDS_DATASET_N_ROLES];
} files;

static const char *const generic_name[PDS_DATASET_N_ROLES] = {"units.csv",     "contiguity.csv",
                                                              "subunits.csv",  "subunit_counts.csv",
                                                              "documents.csv", "panel.csv"};

#define ROLE_KEY(i, name, help)                                                                    \
    {                                                                                              \
        name, PDS_KEY_STRING, 0, 0, 0, NULL, NULL, offsetof(files, role) + (i) * sizeof(char *),   \
            NULL, help, NULL                                                                       \
    }
static const pds_key manifest_keys[PDS_DATASET_N_ROLES] = {
    ROLE_KEY(PDS_DATASET_UNITS, "units",
             "units: code,name,region,adoption_year (default units.csv)"),
    ROLE_KEY(PDS_DATASET_CONTIGUITY, "contiguity",
             "neighbour pairs: unit_a,unit_b[,type] (default contiguity.csv)"),
    ROLE_KEY(PDS_DATASET_SUBUNITS, "subunits",
             "sub-units: code,name,parent,adoption_year (default subunits.csv)"),
    ROLE_KEY(PDS_DATASET_SUBUNIT_COUNTS, "subunit_counts",
             "adopted sub-units per unit and year: unit,year,adopted (default subunit_counts.csv)"),
    ROLE_KEY(PDS_DATASET_DOCUMENTS, "documents",
             "central documents: year,count[,weight] (default documents.csv)"),
    ROLE_KEY(PDS_DATASET_PANEL, "panel", "covariates: unit,year,<variables> (default panel.csv)"),
};
#define MANIFEST "dataset.yaml"

const pds_key *pds_dataset_manifest_keys(size_t *n)
{
    *n = PDS_DATASET_N_ROLES;
    return manifest_keys;
}

/* Line and column of the value of key in the manifest's root mapping. */
static void manifest_pos(pds_yaml *y, const char *key, long *line, long *col)
{
    yaml_node_t *root = pds_yaml_root(y);
    if (!root || root->type != YAML_MAPPING_NODE)
        return;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *k = pds_yaml_scalar(pds_yaml_node(y, p->key));
        yaml_node_t *v = pds_yaml_node(y, p->value);
        if (k && v && strcmp(k, key) == 0) {
            *line = pds_yaml_line(v);
            *col = pds_yaml_col(v);
        }
    }
}

/* 0 and the role files (named ones marked in named[]); -1 on a bad manifest. */
static int read_manifest(const char *dir, files *f, int *named, pds_diag *diag)
{
    memset(f, 0, sizeof *f);
    char *path = join(dir, MANIFEST);
    if (!path)
        return -1;
    int rc = 0;
    if (exists(path)) {
        pds_yaml *y = pds_yaml_load(path, diag);
        rc = y ? pds_yaml_parse_map(y, pds_yaml_root(y), manifest_keys, PDS_DATASET_N_ROLES, f,
                                    NULL, diag)
               : -1;
        for (int i = 0; rc == 0 && i < PDS_DATASET_N_ROLES; i++)
            if (f->role[i] && (!*f->role[i] || strchr(f->role[i], '/'))) {
                long line = 0, col = 0;
                manifest_pos(y, manifest_keys[i].name, &line, &col);
                pds_diag_add(diag, path, line, col,
                             "%s: expected a file name inside the dataset folder, got \"%s\"",
                             manifest_keys[i].name, f->role[i]);
                rc = -1;
            }
        pds_yaml_free(y);
    }
    free(path);
    for (int i = 0; i < PDS_DATASET_N_ROLES; i++) {
        named[i] = f->role[i] != NULL;
        if (!f->role[i] && !(f->role[i] = strdup(generic_name[i])))
            rc = -1;
    }
    return rc;
}

static void free_manifest(files *f)
{
    for (int i = 0; i < PDS_DATASET_N_ROLES; i++)
        free(f->role[i]);
}

char *pds_dataset_file(const char *dir, pds_dataset_role role, pds_diag *diag)
{
    files f;
    int named[PDS_DATASET_N_ROLES];
    char *path = NULL;
    if (read_manifest(dir, &f, named, diag) == 0)
        path = join(dir, f.role[role]);
    free_manifest(&f);
    return path;
}

/* Read dir/file if present, or always when required; a file the manifest
 * names must exist. *t = NULL when absent. */
/* Units and sub-units have their own limits, so that an absurd file is
 * refused at its first row too many, before the rest is read. */
static pds_csvtab *read_role(const char *path, int role, pds_diag *diag)
{
    if (role == PDS_DATASET_UNITS)
        return pds_csvtab_read_max(path, PDS_MAX_UNITS, "units", diag);
    if (role == PDS_DATASET_SUBUNITS)
        return pds_csvtab_read_max(path, PDS_MAX_SUBUNITS, "sub-units", diag);
    return pds_csvtab_read(path, diag);
}

static int open_table(const char *dir, const char *file, int role, int required, int named,
                      pds_csvtab **t, pds_diag *diag)
{
    *t = NULL;
    char *path = join(dir, file);
    if (!path)
        return -1;
    if (!exists(path) && named) {
        pds_diag_add(diag, path, 0, 0, "no such file, but %s/" MANIFEST " names it", dir);
        free(path);
        return -1;
    }
    if (!exists(path) && !required) {
        free(path);
        return 0;
    }
    *t = read_role(path, role, diag);
    free(path);
    return *t ? 0 : -1;
}

/* Look up the required columns; every missing one is reported. */
static int need_cols(const pds_csvtab *t, const char *const *names, long *cols, size_t n,
                     pds_diag *diag)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        cols[i] = pds_csvtab_col(t, names[i], 1, diag);
        bad |= cols[i] < 0;
    }
    return bad ? -1 : 0;
}

/* Unit named in row r, column col; -1 (reported) when no such unit. */
static long unit_ref(const pds_world *w, const pds_csvtab *t, size_t r, long col, pds_diag *diag)
{
    const char *code = pds_csvtab_cell(t, r, (size_t)col);
    long u = pds_world_unit_index(w, code);
    if (u < 0)
        pds_diag_add(diag, t->path, t->line[r], 0, "%s: unknown unit code \"%s\"", t->header[col],
                     code);
    return u;
}

/* dup[r] = 1 when row r's code (column col) repeats an earlier row's. */
static char *duplicate_rows(const pds_csvtab *t, long col)
{
    const char **codes = malloc((t->n_rows + 1) * sizeof(char *));
    char *dup = malloc(t->n_rows + 1);
    if (codes && dup) {
        for (size_t r = 0; r < t->n_rows; r++)
            codes[r] = pds_csvtab_cell(t, r, (size_t)col);
        if (pds_find_duplicates(codes, t->n_rows, dup) != 0) {
            free(dup);
            dup = NULL;
        }
    } else {
        free(dup);
        dup = NULL;
    }
    free(codes);
    return dup;
}

static int load_units(pds_world *w, const pds_csvtab *t, pds_diag *diag)
{
    static const char *const names[] = {"code", "name", "region", "adoption_year"};
    long col[4];
    if (need_cols(t, names, col, 4, diag) != 0)
        return -1;
    long c_code = col[0], c_name = col[1], c_region = col[2], c_year = col[3];
    long c_en = pds_csvtab_col(t, "name_en", 0, diag); /* optional: the name in English */
    if (t->n_rows == 0) {
        pds_diag_add(diag, t->path, 1, 0, "no units: expected at least one data row");
        return -1;
    }
    w->units = calloc(t->n_rows, sizeof *w->units);
    char *dup = duplicate_rows(t, c_code);
    if (!w->units || !dup) {
        free(dup);
        return -1;
    }
    int bad = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *code = pds_csvtab_cell(t, r, (size_t)c_code);
        if (!*code) {
            pds_diag_add(diag, t->path, t->line[r], 0, "code: expected a unit code, got a blank");
            bad = 1;
            continue;
        }
        if (dup[r]) {
            pds_diag_add(diag, t->path, t->line[r], 0, "code: unit '%s' appears twice", code);
            bad = 1;
            continue;
        }
        long y = 0;
        if (pds_csvtab_int(t, r, c_year, YEAR_MIN, YEAR_MAX, 1, &y, diag) != 0)
            bad = 1;
        pds_unit *u = &w->units[w->n_units];
        u->code = strdup(code);
        u->name = strdup(pds_csvtab_cell(t, r, (size_t)c_name));
        u->region = strdup(pds_csvtab_cell(t, r, (size_t)c_region));
        u->name_en = strdup(c_en >= 0 ? pds_csvtab_cell(t, r, (size_t)c_en) : "");
        u->adoption_year = (int)y;
        w->n_units++;
        if (!u->code || !u->name || !u->region || !u->name_en) {
            free(dup);
            return -1;
        }
    }
    free(dup);
    if (bad)
        return -1;
    /* every column, for unit-attribute terms (rows and units agree: none was skipped) */
    w->unit_attr_names = calloc(t->n_cols + 1, sizeof(char *));
    w->unit_attrs = calloc(t->n_rows * t->n_cols + 1, sizeof(char *));
    w->units_path = strdup(t->path);
    if (!w->unit_attr_names || !w->unit_attrs || !w->units_path)
        return -1;
    w->n_unit_attrs = t->n_cols;
    for (size_t c = 0; c < t->n_cols; c++)
        if (!(w->unit_attr_names[c] = strdup(t->header[c])))
            return -1;
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++)
            if (!(w->unit_attrs[r * t->n_cols + c] = strdup(pds_csvtab_cell(t, r, c))))
                return -1;
    if (pds_world_index_codes(w) != PDS_OK)
        return -1;
    return 0;
}

/* Neighbour pairs from contiguity.csv, or from a weights file (weighted). */
static int load_pairs(pds_world *w, const pds_csvtab *t, const pds_dataset_options *opt,
                      size_t **pa, size_t **pb, double **pw, size_t *np, pds_diag *diag)
{
    *np = 0;
    *pa = *pb = NULL;
    *pw = NULL;
    if (!t)
        return 0;
    int weighted = opt->neighbour_weights != NULL;
    static const char *const names[] = {"unit_a", "unit_b", "weight"};
    long col[3];
    if (need_cols(t, names, col, weighted ? 3 : 2, diag) != 0)
        return -1;
    long ca = col[0], cb = col[1];
    long ct = weighted ? -1 : pds_csvtab_col(t, "type", 0, diag);
    *pa = malloc((t->n_rows + 1) * sizeof(size_t));
    *pb = malloc((t->n_rows + 1) * sizeof(size_t));
    if (weighted)
        *pw = malloc((t->n_rows + 1) * sizeof(double));
    if (!*pa || !*pb || (weighted && !*pw))
        return -1;
    int bad = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (ct >= 0) {
            const char *type = pds_csvtab_cell(t, r, (size_t)ct);
            int land = !*type || strcmp(type, "land") == 0;
            int sea = strcmp(type, "sea") == 0;
            if (!land && !sea) {
                pds_diag_add(diag, t->path, t->line[r], 0,
                             "type: expected \"land\", \"sea\" or blank, got \"%s\"", type);
                bad = 1;
                continue;
            }
            if (sea && !opt->sea_links)
                continue;
        }
        const char *a = pds_csvtab_cell(t, r, (size_t)ca);
        long ia = unit_ref(w, t, r, ca, diag), ib = unit_ref(w, t, r, cb, diag);
        if (ia >= 0 && ia == ib)
            pds_diag_add(diag, t->path, t->line[r], 0, "a unit cannot border itself (\"%s\")", a);
        if (ia < 0 || ib < 0 || ia == ib) {
            bad = 1;
            continue;
        }
        if (weighted) {
            double wt;
            if (pds_csvtab_num(t, r, col[2], 0, &wt, diag) != 0) {
                bad = 1;
                continue;
            }
            if (!(wt > 0)) {
                pds_diag_add(diag, t->path, t->line[r], 0,
                             "weight: expected a positive number, got %g", wt);
                bad = 1;
                continue;
            }
            (*pw)[*np] = wt;
        }
        (*pa)[*np] = (size_t)ia;
        (*pb)[*np] = (size_t)ib;
        (*np)++;
    }
    return bad ? -1 : 0;
}

/* Sorting helpers for the checks below (qsort has no context argument). */
static const size_t *sort_a, *sort_b;
static const pds_subunit_count *sort_c;
static size_t pair_lo(size_t i) { return sort_a[i] < sort_b[i] ? sort_a[i] : sort_b[i]; }
static size_t pair_hi(size_t i) { return sort_a[i] < sort_b[i] ? sort_b[i] : sort_a[i]; }
static int cmp_pair(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    if (pair_lo(i) != pair_lo(j))
        return pair_lo(i) < pair_lo(j) ? -1 : 1;
    if (pair_hi(i) != pair_hi(j))
        return pair_hi(i) < pair_hi(j) ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Line of the first row of t naming units a and b (either order). */
static long pair_line(const pds_world *w, const pds_csvtab *t, long ca, long cb, size_t a,
                      size_t b, int nth)
{
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *x = pds_csvtab_cell(t, r, (size_t)ca), *y = pds_csvtab_cell(t, r, (size_t)cb);
        const char *ua = w->units[a].code, *ub = w->units[b].code;
        if (((strcmp(x, ua) == 0 && strcmp(y, ub) == 0) ||
             (strcmp(x, ub) == 0 && strcmp(y, ua) == 0)) &&
            nth-- == 0)
            return t->line[r];
    }
    return 0;
}

/* A pair given twice must say the same thing: with weights, a second weight
 * that differs would otherwise be dropped without a word. */
static int check_pair_weights(const pds_world *w, const pds_csvtab *t, const size_t *pa,
                              const size_t *pb, const double *pw, size_t np, pds_diag *diag)
{
    if (!pw || np < 2)
        return 0;
    size_t *ix = malloc(np * sizeof *ix);
    if (!ix)
        return -1;
    for (size_t i = 0; i < np; i++)
        ix[i] = i;
    sort_a = pa;
    sort_b = pb;
    qsort(ix, np, sizeof *ix, cmp_pair);
    int bad = 0;
    for (size_t k = 1; k < np; k++) {
        size_t i = ix[k - 1], j = ix[k];
        if (pair_lo(i) != pair_lo(j) || pair_hi(i) != pair_hi(j) || pw[i] == pw[j])
            continue;
        long ca = pds_csvtab_col(t, "unit_a", 0, diag), cb = pds_csvtab_col(t, "unit_b", 0, diag);
        pds_diag_add(diag, t->path, pair_line(w, t, ca, cb, pa[i], pb[i], 1), 0,
                     "the pair %s-%s is given twice with different weights (%g, and %g on line "
                     "%ld)",
                     w->units[pa[i]].code, w->units[pb[i]].code, pw[j], pw[i],
                     pair_line(w, t, ca, cb, pa[i], pb[i], 0));
        bad = 1;
    }
    free(ix);
    return bad ? -1 : 0;
}

static int cmp_count(const void *x, const void *y)
{
    const pds_subunit_count *a = &sort_c[*(const size_t *)x], *b = &sort_c[*(const size_t *)y];
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    return (a->year > b->year) - (a->year < b->year);
}

/* Counts are cumulative: a unit's adopted sub-units cannot fall from one
 * year to a later one. Row r of t is count r (all rows were kept). */
static int check_counts_rise(const pds_world *w, const pds_csvtab *t, pds_diag *diag)
{
    size_t n = w->n_subunit_counts;
    if (!t || n < 2 || n != t->n_rows)
        return 0;
    size_t *ix = malloc(n * sizeof *ix);
    if (!ix)
        return -1;
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    sort_c = w->subunit_counts;
    qsort(ix, n, sizeof *ix, cmp_count);
    int bad = 0;
    for (size_t k = 1; k < n; k++) {
        const pds_subunit_count *a = &sort_c[ix[k - 1]], *b = &sort_c[ix[k]];
        if (a->unit == b->unit && b->adopted < a->adopted) {
            pds_diag_add(diag, t->path, t->line[ix[k]], 0,
                         "adopted: %d for unit '%s' in %d is below the %d of %d (line %ld): "
                         "the counts are cumulative and cannot fall",
                         b->adopted, w->units[b->unit].code, b->year, a->adopted, a->year,
                         t->line[ix[k - 1]]);
            bad = 1;
        }
    }
    free(ix);
    return bad ? -1 : 0;
}

static int load_subunits(pds_world *w, const pds_csvtab *t, pds_diag *diag)
{
    if (!t)
        return 0;
    static const char *const names[] = {"code", "name", "parent", "adoption_year"};
    long col[4];
    if (need_cols(t, names, col, 4, diag) != 0)
        return -1;
    long c_code = col[0], c_name = col[1], c_par = col[2], c_year = col[3];
    w->subunits = calloc(t->n_rows + 1, sizeof *w->subunits);
    char *dup = duplicate_rows(t, c_code);
    if (!w->subunits || !dup) {
        free(dup);
        return -1;
    }
    int bad = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *code = pds_csvtab_cell(t, r, (size_t)c_code);
        long p = unit_ref(w, t, r, c_par, diag);
        long y = 0;
        int ok = 1;
        if (!*code) {
            pds_diag_add(diag, t->path, t->line[r], 0,
                         "code: expected a sub-unit code, got a blank");
            ok = 0;
        } else if (dup[r]) {
            pds_diag_add(diag, t->path, t->line[r], 0, "code: sub-unit '%s' appears twice", code);
            ok = 0;
        }
        if (p < 0)
            ok = 0;
        if (pds_csvtab_int(t, r, c_year, YEAR_MIN, YEAR_MAX, 1, &y, diag) != 0)
            ok = 0;
        if (!ok) {
            bad = 1;
            continue;
        }
        pds_subunit *s = &w->subunits[w->n_subunits++];
        s->code = strdup(code);
        s->name = strdup(pds_csvtab_cell(t, r, (size_t)c_name));
        s->parent = (size_t)p;
        s->adoption_year = (int)y;
        if (!s->code || !s->name) {
            free(dup);
            return -1;
        }
    }
    free(dup);
    if (!bad && pds_world_index_codes(w) != PDS_OK)
        return -1;
    return bad ? -1 : 0;
}

static int load_counts(pds_world *w, const pds_csvtab *t, pds_diag *diag)
{
    if (!t)
        return 0;
    static const char *const names[] = {"unit", "year", "adopted"};
    long col[3];
    if (need_cols(t, names, col, 3, diag) != 0)
        return -1;
    long c_unit = col[0], c_year = col[1], c_n = col[2];
    w->subunit_counts = calloc(t->n_rows + 1, sizeof *w->subunit_counts);
    /* the sub-units of each unit (by_unit[start[u] .. start[u+1])), and the
     * counts accepted so far per unit as linked lists (head, next) */
    size_t U = w->n_units;
    size_t *start = calloc(U + 2, sizeof(size_t));
    size_t *by_unit = malloc((w->n_subunits + 1) * sizeof(size_t));
    long *head = malloc((U + 1) * sizeof(long));
    long *next = malloc((t->n_rows + 1) * sizeof(long));
    if (!w->subunit_counts || !start || !by_unit || !head || !next) {
        free(start);
        free(by_unit);
        free(head);
        free(next);
        return -1;
    }
    for (size_t i = 0; i < w->n_subunits; i++)
        start[w->subunits[i].parent + 2]++;
    for (size_t u = 0; u < U; u++)
        start[u + 2] += start[u + 1];
    for (size_t i = 0; i < w->n_subunits; i++)
        by_unit[start[w->subunits[i].parent + 1]++] = i;
    for (size_t u = 0; u < U; u++)
        head[u] = -1;
    int bad = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *code = pds_csvtab_cell(t, r, (size_t)c_unit);
        long u = unit_ref(w, t, r, c_unit, diag);
        long y, n;
        int ok = u >= 0;
        if (pds_csvtab_int(t, r, c_year, YEAR_MIN, YEAR_MAX, 0, &y, diag) != 0)
            ok = 0;
        if (pds_csvtab_int(t, r, c_n, 0, 1000000, 0, &n, diag) != 0)
            ok = 0;
        if (ok) {
            size_t ns = start[u + 1] - start[u], dated = 0;
            for (size_t j = start[u]; j < start[u + 1]; j++) {
                const pds_subunit *su = &w->subunits[by_unit[j]];
                dated += su->adoption_year != 0 && su->adoption_year <= y;
            }
            if ((size_t)n < dated) {
                pds_diag_add(
                    diag, t->path, t->line[r], 0,
                    "adopted: %ld is below the %zu sub-units of unit '%s' that subunits.csv "
                    "dates to %ld or earlier",
                    n, dated, code, y);
                ok = 0;
            } else if ((size_t)n > ns) {
                pds_diag_add(diag, t->path, t->line[r], 0,
                             "adopted: %ld exceeds the %zu sub-units of unit '%s'", n, ns, code);
                ok = 0;
            }
            for (long i = head[u]; ok && i >= 0; i = next[i])
                if (w->subunit_counts[i].year == (int)y) {
                    pds_diag_add(diag, t->path, t->line[r], 0, "unit '%s', year %ld appears twice",
                                 code, y);
                    ok = 0;
                }
        }
        if (!ok) {
            bad = 1;
            continue;
        }
        next[w->n_subunit_counts] = head[u];
        head[u] = (long)w->n_subunit_counts;
        pds_subunit_count *c = &w->subunit_counts[w->n_subunit_counts++];
        c->unit = (size_t)u;
        c->year = (int)y;
        c->adopted = (int)n;
    }
    free(start);
    free(by_unit);
    free(head);
    free(next);
    return bad ? -1 : 0;
}

static int load_documents(pds_world *w, const pds_csvtab *t, pds_diag *diag)
{
    if (!t)
        return 0;
    static const char *const names[] = {"year", "count"};
    long col[2];
    if (need_cols(t, names, col, 2, diag) != 0)
        return -1;
    long c_year = col[0], c_count = col[1];
    long c_w = pds_csvtab_col(t, "weight", 0, diag);
    w->documents = calloc(t->n_rows + 1, sizeof *w->documents);
    if (!w->documents)
        return -1;
    int bad = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        long y;
        double n, wt = 1.0;
        int ok = pds_csvtab_int(t, r, c_year, YEAR_MIN, YEAR_MAX, 0, &y, diag) == 0;
        ok &= pds_csvtab_num(t, r, c_count, 0, &n, diag) == 0;
        if (c_w >= 0 && *pds_csvtab_cell(t, r, (size_t)c_w))
            ok &= pds_csvtab_num(t, r, c_w, 0, &wt, diag) == 0;
        if (ok && (n < 0 || wt < 0)) {
            pds_diag_add(diag, t->path, t->line[r], 0, "count and weight must not be negative");
            ok = 0;
        }
        if (!ok) {
            bad = 1;
            continue;
        }
        w->documents[w->n_documents].year = (int)y;
        w->documents[w->n_documents].weight = n * wt;
        w->n_documents++;
    }
    return bad ? -1 : 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* With a panel, every unit has rows for consecutive years (no gap) and no
 * observed adoption before its first panel year or after the panel's last. */
static int check_panel(const pds_world *w, const long *seen, const pds_csvtab *units,
                       const pds_csvtab *panel, pds_diag *diag)
{
    int bad = 0;
    size_t ny = (size_t)(w->panel_last_year - w->panel_first_year + 1);
    for (size_t u = 0; u < w->n_units; u++) {
        const pds_unit *un = &w->units[u];
        int first = 0, last = 0;
        for (size_t k = 0; k < ny; k++)
            if (seen[u * ny + k]) {
                if (!first)
                    first = w->panel_first_year + (int)k;
                last = w->panel_first_year + (int)k;
            }
        if (!first) {
            pds_diag_add(diag, units->path, units->line[u], 0,
                         "unit '%s' has no rows in %s: every unit needs its panel rows", un->code,
                         panel->path);
            bad = 1;
            continue;
        }
        for (int y = first; y <= last; y++)
            if (!seen[u * ny + (size_t)(y - w->panel_first_year)]) {
                /* name the unit's next row: the one that jumps over the gap */
                int next = y + 1;
                while (!seen[u * ny + (size_t)(next - w->panel_first_year)])
                    next++;
                pds_diag_add(diag, panel->path, seen[u * ny + (size_t)(next - w->panel_first_year)],
                             0, "unit '%s' has no row for %d: a gap in its years %d..%d", un->code,
                             y, first, last);
                bad = 1;
                break;
            }
        int y = un->adoption_year;
        if (y != 0 && y < first) {
            pds_diag_add(diag, units->path, units->line[u], 0,
                         "adoption_year: %d is before unit '%s''s first panel year %d", y, un->code,
                         first);
            bad = 1;
        } else if (y > w->panel_last_year) {
            pds_diag_add(diag, units->path, units->line[u], 0,
                         "adoption_year: %d is after the panel's last year %d", y,
                         w->panel_last_year);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int load_panel(pds_world *w, const pds_csvtab *t, const pds_csvtab *tu, pds_diag *diag)
{
    if (!t)
        return 0;
    static const char *const names[] = {"unit", "year"};
    long col[2];
    if (need_cols(t, names, col, 2, diag) != 0)
        return -1;
    long c_unit = col[0], c_year = col[1];
    long *var_col = malloc((t->n_cols + 1) * sizeof(long));
    w->var_names = calloc(t->n_cols + 1, sizeof(char *));
    if (!var_col || !w->var_names) {
        free(var_col);
        return -1;
    }
    for (size_t c = 0; c < t->n_cols; c++) {
        if ((long)c == c_unit || (long)c == c_year || ends_with(t->header[c], PROV_SUFFIX))
            continue;
        var_col[w->n_vars] = (long)c;
        w->var_names[w->n_vars] = strdup(t->header[c]);
        if (!w->var_names[w->n_vars++]) {
            free(var_col);
            return -1;
        }
    }
    int bad = 0;
    long y0 = YEAR_MAX, y1 = YEAR_MIN;
    long *years = malloc((t->n_rows + 1) * sizeof(long));
    long *units = malloc((t->n_rows + 1) * sizeof(long));
    if (!years || !units) {
        free(var_col);
        free(years);
        free(units);
        return -1;
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        units[r] = unit_ref(w, t, r, c_unit, diag);
        if (units[r] < 0)
            bad = 1;
        if (pds_csvtab_int(t, r, c_year, YEAR_MIN, YEAR_MAX, 0, &years[r], diag) != 0) {
            bad = 1;
            units[r] = -1;
            continue;
        }
        if (years[r] < y0)
            y0 = years[r];
        if (years[r] > y1)
            y1 = years[r];
    }
    if (!bad && t->n_rows > 0) {
        w->panel_first_year = (int)y0;
        w->panel_last_year = (int)y1;
        size_t ny = (size_t)(y1 - y0 + 1);
        size_t n = w->n_units * ny * w->n_vars;
        w->panel = malloc((n + 1) * sizeof(double));
        long *seen = calloc(w->n_units * ny + 1, sizeof *seen); /* line of each cell's row */
        if (!w->panel || !seen) {
            free(seen);
            free(var_col);
            free(years);
            free(units);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            w->panel[i] = NAN;
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t cell = (size_t)units[r] * ny + (size_t)(years[r] - y0);
            if (seen[cell]) {
                pds_diag_add(diag, t->path, t->line[r], 0, "unit '%s', year %ld appears twice",
                             w->units[units[r]].code, years[r]);
                bad = 1;
                continue;
            }
            seen[cell] = t->line[r];
            for (size_t v = 0; v < w->n_vars; v++) {
                double x;
                if (pds_csvtab_num(t, r, var_col[v], 1, &x, diag) != 0)
                    bad = 1;
                else
                    w->panel[cell * w->n_vars + v] = x;
            }
        }
        if (!bad)
            bad = check_panel(w, seen, tu, t, diag) != 0;
        free(seen);
    }
    free(var_col);
    free(years);
    free(units);
    return bad ? -1 : 0;
}

pds_world *pds_dataset_load(const char *dir, const pds_dataset_options *opt, pds_diag *diag)
{
    static const pds_dataset_options defaults = {0};
    if (!opt)
        opt = &defaults;
    pds_world *w = pds_world_create();
    if (!w) {
        pds_diag_add(diag, dir, 0, 0, "out of memory");
        return NULL;
    }
    pds_csvtab *tu = NULL, *tc = NULL, *ts = NULL, *tn = NULL, *td = NULL, *tp = NULL;
    size_t *pa = NULL, *pb = NULL, np = 0;
    double *pw = NULL;
    size_t before = diag->n + diag->dropped;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pds_diag_add(diag, dir, 0, 0, "dataset: not a folder");
        goto fail;
    }
    files f;
    int named[PDS_DATASET_N_ROLES];
    int bad = read_manifest(dir, &f, named, diag);
    if (bad) {
        free_manifest(&f);
        goto fail;
    }
#define OPEN(r, req, t) open_table(dir, f.role[r], r, req, named[r], t, diag)
    bad |= OPEN(PDS_DATASET_UNITS, 1, &tu);
    if (opt->neighbour_weights) {
        tc = pds_csvtab_read(opt->neighbour_weights, diag);
        bad |= tc ? 0 : -1;
    } else {
        bad |= OPEN(PDS_DATASET_CONTIGUITY, 0, &tc);
    }
    bad |= OPEN(PDS_DATASET_SUBUNITS, 0, &ts);
    bad |= OPEN(PDS_DATASET_SUBUNIT_COUNTS, 0, &tn);
    bad |= OPEN(PDS_DATASET_DOCUMENTS, 0, &td);
    bad |= OPEN(PDS_DATASET_PANEL, 0, &tp);
#undef OPEN
    free_manifest(&f);
    if (bad || load_units(w, tu, diag) != 0)
        goto fail;
    bad |= load_pairs(w, tc, opt, &pa, &pb, &pw, &np, diag);
    if (!bad)
        bad |= check_pair_weights(w, tc, pa, pb, pw, np, diag);
    bad |= load_subunits(w, ts, diag);
    if (!bad)
        bad |= load_counts(w, tn, diag);
    if (!bad)
        bad |= check_counts_rise(w, tn, diag);
    bad |= load_documents(w, td, diag);
    bad |= load_panel(w, tp, tu, diag);
    if (bad)
        goto fail;
    if (pds_world_index(w, pa, pb, pw, np) != PDS_OK)
        goto fail;
    free(pa);
    free(pb);
    free(pw);
    pds_csvtab_free(tu);
    pds_csvtab_free(tc);
    pds_csvtab_free(ts);
    pds_csvtab_free(tn);
    pds_csvtab_free(td);
    pds_csvtab_free(tp);
    return w;
fail:
    if (diag->n + diag->dropped == before)
        pds_diag_add(diag, dir, 0, 0, "out of memory while loading the dataset");
    free(pa);
    free(pb);
    free(pw);
    pds_csvtab_free(tu);
    pds_csvtab_free(tc);
    pds_csvtab_free(ts);
    pds_csvtab_free(tn);
    pds_csvtab_free(td);
    pds_csvtab_free(tp);
    pds_world_free(w);
    return NULL;
}
