#include "yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csvtab.h" /* pds_parse_long / pds_parse_double */

#define MAX_FILE_BYTES (16L * 1024 * 1024)
#define MAX_DEPTH 32 /* configs nest a few levels; deeper is an error, not a slow parse */

static char *read_all(const char *path, size_t *len, pds_diag *diag)
{
    FILE *f = pds_open_input(path, diag);
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                pds_diag_add(diag, path, 0, 0, "out of memory");
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (n > (size_t)MAX_FILE_BYTES) {
            pds_diag_add(diag, path, 0, 0, "larger than %ld bytes: not a configuration file",
                         MAX_FILE_BYTES);
            free(buf);
            fclose(f);
            return NULL;
        }
        if (got < 4096)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        pds_diag_add(diag, path, 0, 0, "read error: %s", strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void syntax_error(const yaml_parser_t *p, const char *path, pds_diag *diag)
{
    /* an unterminated construct is best reported where it began */
    yaml_mark_t m = p->problem_mark;
    if (p->context && p->problem && strstr(p->problem, "end of stream"))
        m = p->context_mark;
    pds_diag_add(diag, path, (long)m.line + 1, (long)m.column + 1, "YAML syntax error: %s%s%s",
                 p->problem ? p->problem : "unknown problem", p->context ? " " : "",
                 p->context ? p->context : "");
}

/* One pass over the events: exactly one document, nesting at most MAX_DEPTH.
 * Runs before the document is built, so a hostile file is refused early. */
static int check_events(const char *text, size_t len, const char *path, pds_diag *diag)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return -1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int depth = 0, docs = 0, rc = 0;
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            syntax_error(&p, path, diag);
            rc = -1;
            break;
        }
        yaml_event_type_t type = e.type;
        long line = (long)e.start_mark.line + 1, col = (long)e.start_mark.column + 1;
        /* a "\0" escape would silently cut the string where C reads it */
        int nul = type == YAML_SCALAR_EVENT &&
                  memchr(e.data.scalar.value, '\0', e.data.scalar.length) != NULL;
        yaml_event_delete(&e);
        if (nul) {
            pds_diag_add(diag, path, line, col, "a NUL character in a string: not allowed");
            rc = -1;
            break;
        }
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            pds_diag_add(diag, path, line, col, "a second YAML document: expected only one");
            rc = -1;
            break;
        }
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
            if (++depth > MAX_DEPTH) {
                pds_diag_add(diag, path, line, col, "nested more than %d levels deep", MAX_DEPTH);
                rc = -1;
                break;
            }
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
    }
    yaml_parser_delete(&p);
    return rc;
}

static pds_yaml *load_owned(const char *path, char *text, size_t len, pds_diag *diag);

pds_yaml *pds_yaml_load(const char *path, pds_diag *diag)
{
    size_t len = 0;
    char *text = read_all(path, &len, diag);
    if (!text)
        return NULL;
    return load_owned(path, text, len, diag);
}

pds_yaml *pds_yaml_load_text(const char *name, const char *text, pds_diag *diag)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (!copy) {
        pds_diag_add(diag, name, 0, 0, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len + 1);
    return load_owned(name, copy, len, diag);
}

/* Parse text (owned, len bytes and a terminating NUL; freed on failure)
 * named path in messages. */
static pds_yaml *load_owned(const char *path, char *text, size_t len, pds_diag *diag)
{
    if (strlen(text) != len) {
        pds_diag_add(diag, path, 0, 0, "contains a NUL byte: not a YAML text file");
        free(text);
        return NULL;
    }
    if (check_events(text, len, path, diag) != 0) {
        free(text);
        return NULL;
    }
    pds_yaml *y = calloc(1, sizeof *y);
    if (!y) {
        free(text);
        return NULL;
    }
    y->path = strdup(path);
    y->text = text;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        pds_yaml_free(y);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&p, &y->doc);
    if (!ok) {
        syntax_error(&p, path, diag);
        yaml_parser_delete(&p);
        free(y->path);
        free(y->text);
        free(y);
        return NULL;
    }
    yaml_parser_delete(&p);
    if (!yaml_document_get_root_node(&y->doc)) {
        pds_diag_add(diag, path, 1, 0, "empty document: expected a mapping of keys");
        pds_yaml_free(y);
        return NULL;
    }
    return y;
}

void pds_yaml_free(pds_yaml *y)
{
    if (!y)
        return;
    yaml_document_delete(&y->doc);
    free(y->path);
    free(y->text);
    free(y);
}

yaml_node_t *pds_yaml_root(pds_yaml *y)
{
    return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *pds_yaml_node(pds_yaml *y, int id)
{
    return yaml_document_get_node(&y->doc, id);
}

const char *pds_yaml_scalar(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n->data.scalar.value;
}

static void bad_value(pds_yaml *y, yaml_node_t *n, const char *what, const char *expected,
                      pds_diag *diag)
{
    const char *s = pds_yaml_scalar(n);
    if (s)
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n), "%s: expected %s, got \"%s\"",
                     what, expected, s);
    else
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n), "%s: expected %s, got a %s",
                     what, expected, n->type == YAML_MAPPING_NODE ? "mapping" : "list");
}

int pds_yaml_long(pds_yaml *y, yaml_node_t *n, const char *what, double lo, double hi, long *out,
                  pds_diag *diag)
{
    long v;
    const char *s = pds_yaml_scalar(n);
    if (!s || pds_parse_long(s, &v) != 0 || (double)v < lo || (double)v > hi) {
        char exp[128];
        snprintf(exp, sizeof exp, "an integer in %.0f..%.0f", lo, hi);
        bad_value(y, n, what, exp, diag);
        return -1;
    }
    *out = v;
    return 0;
}

int pds_yaml_double(pds_yaml *y, yaml_node_t *n, const char *what, double *out, pds_diag *diag)
{
    const char *s = pds_yaml_scalar(n);
    if (!s || pds_parse_double(s, out) != 0) {
        bad_value(y, n, what, "a finite number", diag);
        return -1;
    }
    return 0;
}

int pds_yaml_string(pds_yaml *y, yaml_node_t *n, const char *what, char **out, pds_diag *diag)
{
    const char *s = pds_yaml_scalar(n);
    if (!s) {
        bad_value(y, n, what, "a string", diag);
        return -1;
    }
    char *d = strdup(s);
    if (!d)
        return -1;
    free(*out);
    *out = d;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!s)
        return -1;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* Parse text (from a node, or a default when n is NULL) into the field. */
static int set_field(pds_yaml *y, yaml_node_t *n, const char *text, const pds_key *k,
                     void *target, const char *what, pds_diag *diag)
{
    char *base = target;
    void *field = base + k->offset;
    const char *s = n ? pds_yaml_scalar(n) : text;
    char exp[256];
    switch (k->type) {
    case PDS_KEY_INT: {
        long v;
        if (!s || pds_parse_long(s, &v) != 0 || (double)v < k->min || (double)v > k->max) {
            snprintf(exp, sizeof exp, "an integer in %.0f..%.0f", k->min, k->max);
            goto bad;
        }
        *(long *)field = v;
        return 0;
    }
    case PDS_KEY_U64: {
        uint64_t v;
        if (parse_u64(s, &v) != 0 || (double)v < k->min || (k->max < 1.8e19 && (double)v > k->max)) {
            if (k->max >= 1.8e19)
                snprintf(exp, sizeof exp, "an integer in 0..18446744073709551615");
            else
                snprintf(exp, sizeof exp, "an integer in %.0f..%.0f", k->min, k->max);
            goto bad;
        }
        *(uint64_t *)field = v;
        return 0;
    }
    case PDS_KEY_DOUBLE: {
        double v;
        if (!s || pds_parse_double(s, &v) != 0 || v < k->min || v > k->max) {
            snprintf(exp, sizeof exp, "a number in %g..%g", k->min, k->max);
            goto bad;
        }
        *(double *)field = v;
        return 0;
    }
    case PDS_KEY_BOOL:
        if (parse_bool(s, (int *)field) != 0) {
            snprintf(exp, sizeof exp, "true or false");
            goto bad;
        }
        return 0;
    case PDS_KEY_STRING: {
        if (!s || (!*s && k->required)) {
            snprintf(exp, sizeof exp, "a non-empty string");
            goto bad;
        }
        char *d = strdup(s);
        if (!d)
            return -1;
        free(*(char **)field);
        *(char **)field = d;
        return 0;
    }
    case PDS_KEY_ENUM:
        for (int i = 0; s && k->choices[i]; i++) {
            if (strcmp(s, k->choices[i]) == 0) {
                *(int *)field = i;
                return 0;
            }
        }
        {
            size_t len = (size_t)snprintf(exp, sizeof exp, "one of");
            for (int i = 0; k->choices[i] && len < sizeof exp; i++)
                len += (size_t)snprintf(exp + len, sizeof exp - len, "%s %s", i ? "," : "",
                                        k->choices[i]);
        }
        goto bad;
    case PDS_KEY_CUSTOM:
        return k->custom(y, n, target, diag);
    }
    return -1;
bad:
    if (n)
        bad_value(y, n, what, exp, diag);
    else
        pds_diag_add(diag, NULL, 0, 0, "internal: bad default for %s", what);
    return -1;
}

int pds_yaml_parse_map(pds_yaml *y, yaml_node_t *map, const pds_key *keys, size_t n_keys,
                       void *target, const char *where, pds_diag *diag)
{
    int bad = 0;
    char seen[128] = {0};
    if (n_keys > sizeof seen)
        return -1;
    for (size_t i = 0; i < n_keys && !y->overlay; i++)
        if (keys[i].def && keys[i].type != PDS_KEY_CUSTOM &&
            set_field(y, NULL, keys[i].def, &keys[i], target, keys[i].name, diag) != 0)
            bad = 1;
    if (!map || map->type != YAML_MAPPING_NODE) {
        if (map)
            bad_value(y, map, where ? where : "document", "a mapping of keys", diag);
        return -1;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = pds_yaml_node(y, p->key);
        yaml_node_t *vn = pds_yaml_node(y, p->value);
        const char *name = pds_yaml_scalar(kn);
        char what[256];
        if (!name) {
            pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                         "%s: keys must be plain names", where ? where : "document");
            bad = 1;
            continue;
        }
        snprintf(what, sizeof what, "%s%s%s", where ? where : "", where ? "." : "", name);
        size_t i;
        for (i = 0; i < n_keys; i++)
            if (strcmp(keys[i].name, name) == 0)
                break;
        if (i == n_keys) {
            char known[1024];
            size_t len = 0;
            known[0] = '\0';
            for (size_t j = 0; j < n_keys && len < sizeof known; j++)
                len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", j ? ", " : "",
                                        keys[j].name);
            pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                         "unknown key '%s' (known keys: %s)", what, known);
            bad = 1;
            continue;
        }
        if (seen[i]) {
            pds_diag_add(diag, y->path, pds_yaml_line(kn), pds_yaml_col(kn),
                         "key '%s' appears twice", what);
            bad = 1;
            continue;
        }
        seen[i] = 1;
        if (set_field(y, vn, NULL, &keys[i], target, what, diag) != 0)
            bad = 1;
    }
    for (size_t i = 0; i < n_keys && !y->overlay; i++) {
        if (keys[i].required && !seen[i]) {
            pds_diag_add(diag, y->path, pds_yaml_line(map), pds_yaml_col(map),
                         "missing required key '%s%s%s' (%s)", where ? where : "", where ? "." : "",
                         keys[i].name, keys[i].help);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

void pds_yaml_free_fields(const pds_key *keys, size_t n_keys, void *target)
{
    for (size_t i = 0; i < n_keys; i++) {
        if (keys[i].type == PDS_KEY_STRING) {
            char **f = (char **)(void *)((char *)target + keys[i].offset);
            free(*f);
            *f = NULL;
        }
    }
}

static void type_text(const pds_key *k, char *buf, size_t n)
{
    switch (k->type) {
    case PDS_KEY_INT:
        snprintf(buf, n, "integer %.0f..%.0f", k->min, k->max);
        break;
    case PDS_KEY_U64:
        if (k->max >= 1.8e19)
            snprintf(buf, n, "integer >= %.0f", k->min);
        else
            snprintf(buf, n, "integer %.0f..%.0f", k->min, k->max);
        break;
    case PDS_KEY_DOUBLE:
        if (k->min <= -1e300 && k->max >= 1e300)
            snprintf(buf, n, "number");
        else
            snprintf(buf, n, "number %g..%g", k->min, k->max);
        break;
    case PDS_KEY_BOOL:
        snprintf(buf, n, "true/false");
        break;
    case PDS_KEY_STRING:
        snprintf(buf, n, "string");
        break;
    case PDS_KEY_ENUM: {
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; k->choices[i] && len < n; i++)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "/" : "", k->choices[i]);
        break;
    }
    case PDS_KEY_CUSTOM:
        snprintf(buf, n, "%s", k->type_name ? k->type_name : "mapping");
        break;
    }
}

void pds_yaml_describe(const pds_key *keys, size_t n_keys, int markdown, pds_line_fn out, void *ctx)
{
    char line[1024], type[256];
    if (markdown) {
        out(ctx, "| key | type | default | meaning |");
        out(ctx, "|---|---|---|---|");
    }
    for (size_t i = 0; i < n_keys; i++) {
        const pds_key *k = &keys[i];
        type_text(k, type, sizeof type);
        const char *def = k->required ? "required" : (k->def ? k->def : "none");
        if (markdown)
            snprintf(line, sizeof line, "| `%s` | %s | %s | %s |", k->name, type, def, k->help);
        else
            snprintf(line, sizeof line, "  %-20s %-24s %-10s %s", k->name, type, def, k->help);
        out(ctx, line);
    }
}
