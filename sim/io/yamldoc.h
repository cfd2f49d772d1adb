/* YAML documents (libyaml) with node positions, and a table-driven parser
 * for mappings: one table of keys with type, bounds, default and help drives
 * parsing, validation, `pdsim help` and the config reference. */
#ifndef PDS_YAMLDOC_H
#define PDS_YAMLDOC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "../core/diag.h"

typedef struct pds_yaml {
    char *path;          /* owned */
    char *text;          /* owned: the file's text */
    yaml_document_t doc;
    int overlay;         /* parse_map onto values already set (a config that extends
                          * another): no defaults, no check for required keys */
} pds_yaml;

/* NULL on error (added to diag: file:line:col). An empty document is an error. */
pds_yaml *pds_yaml_load(const char *path, pds_diag *diag);
/* The same for a YAML text held in memory (copied), named name in messages. */
pds_yaml *pds_yaml_load_text(const char *name, const char *text, pds_diag *diag);
void pds_yaml_free(pds_yaml *y);
yaml_node_t *pds_yaml_root(pds_yaml *y);
yaml_node_t *pds_yaml_node(pds_yaml *y, int id);
static inline long pds_yaml_line(const yaml_node_t *n) { return (long)n->start_mark.line + 1; }
static inline long pds_yaml_col(const yaml_node_t *n) { return (long)n->start_mark.column + 1; }
/* The scalar's text, or NULL when the node is not a scalar. */
const char *pds_yaml_scalar(const yaml_node_t *n);

typedef enum pds_key_type {
    PDS_KEY_INT,     /* long */
    PDS_KEY_U64,     /* uint64_t */
    PDS_KEY_DOUBLE,  /* double, finite */
    PDS_KEY_BOOL,    /* int 0/1 */
    PDS_KEY_STRING,  /* char *, owned by the struct */
    PDS_KEY_ENUM,    /* int: index into choices */
    PDS_KEY_CUSTOM   /* parsed by the key's own function */
} pds_key_type;

typedef struct pds_key {
    const char *name;
    pds_key_type type;
    int required;
    double min, max;            /* INT, U64, DOUBLE bounds */
    const char *def;            /* default as YAML text; NULL = none */
    const char *const *choices; /* ENUM: NULL-terminated */
    size_t offset;              /* offsetof the field in the target struct */
    int (*custom)(pds_yaml *y, yaml_node_t *value, void *target, pds_diag *diag);
    const char *help;           /* one line for help and docs */
    const char *type_name;      /* CUSTOM: how help names the type */
} pds_key;

/* Parse the mapping node into target by the table: apply defaults, reject
 * unknown keys, duplicate keys and missing required keys. 0 when clean.
 * With y->overlay the keys present replace the values already in target,
 * and the others keep them. */
int pds_yaml_parse_map(pds_yaml *y, yaml_node_t *map, const pds_key *keys, size_t n_keys,
                       void *target, const char *where, pds_diag *diag);
/* Free the STRING fields of target filled by the table. */
void pds_yaml_free_fields(const pds_key *keys, size_t n_keys, void *target);

/* Scalar conversions that add "file:line:col: what: expected ..." on error. */
int pds_yaml_long(pds_yaml *y, yaml_node_t *n, const char *what, double lo, double hi, long *out,
                  pds_diag *diag);
int pds_yaml_double(pds_yaml *y, yaml_node_t *n, const char *what, double *out, pds_diag *diag);
int pds_yaml_string(pds_yaml *y, yaml_node_t *n, const char *what, char **out, pds_diag *diag);

/* Write the table as text (help) or as a Markdown table (docs). */
typedef void (*pds_line_fn)(void *ctx, const char *line);
void pds_yaml_describe(const pds_key *keys, size_t n_keys, int markdown, pds_line_fn out, void *ctx);

#endif
