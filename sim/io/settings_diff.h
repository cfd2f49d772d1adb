/* The settings in which two configs differ, as `pdsim compare` lists them
 * for the resolved configs stored in its two result files
 * (docs/compare.md). Each text is parsed as YAML and flattened into
 * (path, value) pairs: mapping keys joined by dots (`projection.default.rule`),
 * list items by index (`models[0].weight`). Block and flow spellings of the
 * same data give the same pairs. */
#ifndef PDS_SETTINGS_DIFF_H
#define PDS_SETTINGS_DIFF_H

#include <stddef.h>

#include "../core/diag.h"

typedef enum pds_setting_kind {
    PDS_SETTING_ABSENT,  /* the path is not in this config */
    PDS_SETTING_SCALAR,  /* value holds the text after YAML parsing */
    PDS_SETTING_MAPPING, /* value NULL */
    PDS_SETTING_LIST     /* value NULL */
} pds_setting_kind;

/* One node of a flattened config, in document order (a mapping or list
 * comes before its items). */
typedef struct pds_setting {
    char *path;            /* owned */
    pds_setting_kind kind; /* never ABSENT */
    char *value;           /* owned scalar text, NULL for a mapping or a list */
    int plain;             /* a scalar written without quotes (may be a number) */
    size_t n_items;        /* a mapping's keys or a list's items */
} pds_setting;

typedef struct pds_settings {
    pds_setting *v; /* owned [n] */
    size_t n;
} pds_settings;

/* Parse text (named name in messages) and flatten it into *out. 0, or -1
 * with a message in diag: a YAML error, nesting deeper than 32 levels
 * (aliases included), or more than 100000 nodes. *out is empty on failure;
 * free it with pds_settings_free in any case. */
int pds_settings_flatten(const char *name, const char *text, pds_settings *out, pds_diag *diag);
void pds_settings_free(pds_settings *s);

/* One path whose value differs, that is in one config only, or whose type
 * differs (a scalar in one and a mapping in the other, say; its items are
 * then not listed). */
typedef struct pds_setting_diff {
    char *path;              /* owned */
    pds_setting_kind kb, ks; /* the kind in the baseline and in the scenario */
    char *base, *scen;       /* owned scalar texts (numbers in their shortest form), or NULL */
    size_t nb, ns;           /* the items of a mapping or list */
} pds_setting_diff;

typedef struct pds_settings_diff {
    pds_setting_diff *v; /* owned [n] */
    size_t n;
} pds_settings_diff;

/* Every difference between b and s, in the order of b's paths, then the
 * paths only s has, in s's order. Scalars are equal when their texts are;
 * two unquoted scalars that both read as decimal integers are equal when
 * they are the same integer, and two that both read as finite decimal
 * numbers when they are the same double (0.50 and 0.5). Mappings and
 * lists are compared by their items. 0, or -1 when out of memory (*out is
 * then empty). Free *out with pds_settings_diff_free in any case. */
int pds_settings_compare(const pds_settings *b, const pds_settings *s, pds_settings_diff *out);
void pds_settings_diff_free(pds_settings_diff *d);

/* "path: base -> scen" into buf: a side without the path reads (none), a
 * mapping or list (mapping) or (list), or (empty mapping) / (empty list);
 * a value longer than max_value bytes is cut at a character boundary and
 * ends in "...", and control characters print as spaces. */
void pds_setting_diff_line(const pds_setting_diff *d, size_t max_value, char *buf, size_t size);

#endif
