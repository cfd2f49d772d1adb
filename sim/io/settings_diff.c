#include "settings_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvtab.h" /* pds_parse_double */
#include "yamldoc.h"

/* An alias may make a small text a deep or huge tree: both are bounded */
#define MAX_DEPTH 32
#define MAX_NODES 100000

typedef struct flat {
    pds_yaml *y;
    pds_settings *out;
    size_t cap;
    pds_diag *diag;
    const char *name;
} flat;

/* A key that holds a separator (or nothing) is quoted, so that no two
 * places spell the same path. */
static int needs_quotes(const char *k)
{
    return !*k || strpbrk(k, ".[]\"") != NULL;
}

/* path + "." + key (or just key at the top), or path + "[i]": owned. */
static char *join(const char *path, const char *key, size_t index)
{
    size_t n = strlen(path);
    if (!key) {
        char *p = malloc(n + 24);
        if (p)
            snprintf(p, n + 24, "%s[%zu]", path, index);
        return p;
    }
    size_t k = strlen(key);
    char *p = malloc(n + 2 * k + 4);
    if (!p)
        return NULL;
    char *w = p;
    memcpy(w, path, n);
    w += n;
    if (n)
        *w++ = '.';
    int q = needs_quotes(key);
    if (q)
        *w++ = '"';
    for (const char *c = key; *c; c++) {
        if (q && (*c == '"' || *c == '\\'))
            *w++ = '\\';
        *w++ = *c;
    }
    if (q)
        *w++ = '"';
    *w = '\0';
    return p;
}

/* Appends the node at path (owned; freed here on failure) and its items. */
static int add(flat *f, yaml_node_t *n, char *path, int depth)
{
    if (!path) {
        pds_diag_add(f->diag, f->name, 0, 0, "out of memory");
        return -1;
    }
    if (depth > MAX_DEPTH || f->out->n >= MAX_NODES) {
        pds_diag_add(f->diag, f->name, pds_yaml_line(n), pds_yaml_col(n),
                     depth > MAX_DEPTH ? "nested more than %d levels deep" : "more than %d values",
                     depth > MAX_DEPTH ? MAX_DEPTH : MAX_NODES);
        free(path);
        return -1;
    }
    if (f->out->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        pds_setting *v = realloc(f->out->v, cap * sizeof *v);
        if (!v) {
            pds_diag_add(f->diag, f->name, 0, 0, "out of memory");
            free(path);
            return -1;
        }
        f->out->v = v;
        f->cap = cap;
    }
    size_t at = f->out->n++;
    pds_setting *st = &f->out->v[at];
    memset(st, 0, sizeof *st);
    st->path = path;
    if (n->type == YAML_SCALAR_NODE) {
        st->kind = PDS_SETTING_SCALAR;
        st->plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        st->value = strdup((const char *)n->data.scalar.value);
        if (!st->value) {
            pds_diag_add(f->diag, f->name, 0, 0, "out of memory");
            return -1;
        }
        return 0;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        st->kind = PDS_SETTING_LIST;
        size_t i = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++, i++) {
            /* the array may move as it grows: the path is read again */
            char *p = join(f->out->v[at].path, NULL, i);
            if (add(f, pds_yaml_node(f->y, *it), p, depth + 1) != 0)
                return -1;
        }
        f->out->v[at].n_items = i;
        return 0;
    }
    st->kind = PDS_SETTING_MAPPING;
    size_t i = 0;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++, i++) {
        yaml_node_t *k = pds_yaml_node(f->y, pr->key);
        const char *key = pds_yaml_scalar(k);
        /* a mapping or list as a key: not something a config holds */
        char *p = join(f->out->v[at].path, key ? key : "?", 0);
        if (add(f, pds_yaml_node(f->y, pr->value), p, depth + 1) != 0)
            return -1;
    }
    f->out->v[at].n_items = i;
    return 0;
}

int pds_settings_flatten(const char *name, const char *text, pds_settings *out, pds_diag *diag)
{
    out->v = NULL;
    out->n = 0;
    pds_yaml *y = pds_yaml_load_text(name, text, diag);
    if (!y)
        return -1;
    flat f = {y, out, 0, diag, name};
    char *top = strdup("");
    int rc = add(&f, pds_yaml_root(y), top, 0);
    /* the root (path "") is a mapping in both configs, so it never differs */
    if (rc == 0 && out->v[0].kind != PDS_SETTING_MAPPING) {
        pds_diag_add(diag, name, 1, 1, "expected a mapping of settings, got a %s",
                     out->v[0].kind == PDS_SETTING_SCALAR ? "scalar" : "list");
        rc = -1;
    }
    pds_yaml_free(y);
    if (rc)
        pds_settings_free(out);
    return rc;
}

void pds_settings_free(pds_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].path);
        free(s->v[i].value);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Optional sign and digits only. */
static int is_integer(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    return *s && s[strspn(s, "0123456789")] == '\0';
}

/* The same integer however many digits it has: compared as text, without
 * a '+' or leading zeros, -0 read as 0. */
static int same_integer(const char *a, const char *b)
{
    int na = *a == '-', nb = *b == '-';
    a += *a == '+' || *a == '-';
    b += *b == '+' || *b == '-';
    a += strspn(a, "0");
    b += strspn(b, "0");
    if (!*a && !*b)
        return 1;
    return na == nb && strcmp(a, b) == 0;
}

static int same_scalar(const pds_setting *a, const pds_setting *b)
{
    if (strcmp(a->value, b->value) == 0)
        return 1;
    if (!a->plain || !b->plain)
        return 0;
    if (is_integer(a->value) && is_integer(b->value))
        return same_integer(a->value, b->value);
    double x, y;
    return pds_parse_double(a->value, &x) == 0 && pds_parse_double(b->value, &y) == 0 && x == y;
}

/* A plain decimal number with a fraction or exponent in the shortest form
 * that reads back as the same double (a stored config writes 17 digits:
 * 0.14799999999999999 is 0.148); any other text as it is. Owned. */
static char *shown(const pds_setting *st)
{
    double x;
    if (st->plain && !is_integer(st->value) && pds_parse_double(st->value, &x) == 0) {
        char buf[40];
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, sizeof buf, "%.*g", p, x);
            double back;
            if (pds_parse_double(buf, &back) == 0 && back == x)
                return strdup(buf);
        }
    }
    return strdup(st->value);
}

static int by_path(const void *a, const void *b)
{
    return strcmp((*(const pds_setting *const *)a)->path, (*(const pds_setting *const *)b)->path);
}

/* The settings of one config sorted by path, for lookups by path. */
typedef struct index {
    const pds_setting **order; /* [n] */
    size_t n;
} index_t;

static int index_build(index_t *ix, const pds_settings *s)
{
    ix->n = s->n;
    ix->order = malloc((s->n ? s->n : 1) * sizeof *ix->order);
    if (!ix->order)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        ix->order[i] = &s->v[i];
    qsort(ix->order, s->n, sizeof *ix->order, by_path);
    return 0;
}

/* The setting at path, or NULL. */
static const pds_setting *index_find(const index_t *ix, const char *path)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->order[mid]->path, path);
        if (c == 0)
            return ix->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Whether path lies inside the node at prefix. */
static int inside(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '.' || path[n] == '[');
}

static int push(pds_settings_diff *d, size_t *cap, const char *path, const pds_setting *b,
                const pds_setting *s)
{
    if (d->n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        pds_setting_diff *v = realloc(d->v, c * sizeof *v);
        if (!v)
            return -1;
        d->v = v;
        *cap = c;
    }
    pds_setting_diff *x = &d->v[d->n++];
    memset(x, 0, sizeof *x);
    x->path = strdup(path);
    x->kb = b ? b->kind : PDS_SETTING_ABSENT;
    x->ks = s ? s->kind : PDS_SETTING_ABSENT;
    x->nb = b ? b->n_items : 0;
    x->ns = s ? s->n_items : 0;
    if (b && b->value)
        x->base = shown(b);
    if (s && s->value)
        x->scen = shown(s);
    if (!x->path || (b && b->value && !x->base) || (s && s->value && !x->scen))
        return -1;
    return 0;
}

/* A node that is listed when the other config lacks it: a scalar or an
 * empty mapping or list (a full one is listed by its items). */
static int leaf(const pds_setting *st)
{
    return st->kind == PDS_SETTING_SCALAR || st->n_items == 0;
}

int pds_settings_compare(const pds_settings *b, const pds_settings *s, pds_settings_diff *out)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    index_t ib = {0}, is = {0};
    int rc = index_build(&ib, b) || index_build(&is, s) ? -1 : 0;
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        const pds_settings *x = pass ? s : b;
        const index_t *other = pass ? &ib : &is;
        for (size_t i = 0; rc == 0 && i < x->n; i++) {
            const pds_setting *a = &x->v[i], *o = index_find(other, a->path);
            if (o && pass == 0 && a->kind == o->kind && a->kind == PDS_SETTING_SCALAR &&
                !same_scalar(a, o))
                rc = push(out, &cap, a->path, a, o);
            else if (o && a->kind != o->kind) {
                if (pass == 0)
                    rc = push(out, &cap, a->path, a, o);
                /* its items are not compared with anything */
                while (i + 1 < x->n && inside(x->v[i + 1].path, a->path))
                    i++;
            } else if (!o && leaf(a))
                rc = pass ? push(out, &cap, a->path, NULL, a) : push(out, &cap, a->path, a, NULL);
        }
    }
    free(ib.order);
    free(is.order);
    if (rc)
        pds_settings_diff_free(out);
    return rc;
}

void pds_settings_diff_free(pds_settings_diff *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].path);
        free(d->v[i].base);
        free(d->v[i].scen);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

/* One side of a line into w (at most room bytes, NUL included): the bytes written. */
static size_t side(char *w, size_t room, pds_setting_kind k, const char *value, size_t items,
                   size_t max_value)
{
    if (room == 0)
        return 0;
    const char *fixed = NULL;
    switch (k) {
    case PDS_SETTING_ABSENT:
        fixed = "(none)";
        break;
    case PDS_SETTING_MAPPING:
        fixed = items ? "(mapping)" : "(empty mapping)";
        break;
    case PDS_SETTING_LIST:
        fixed = items ? "(list)" : "(empty list)";
        break;
    case PDS_SETTING_SCALAR:
        break;
    }
    if (fixed) {
        int n = snprintf(w, room, "%s", fixed);
        return (size_t)n < room ? (size_t)n : room - 1;
    }
    size_t len = strlen(value), keep = len;
    int cut = max_value >= 4 && len > max_value;
    if (cut) {
        keep = max_value - 3;
        /* not inside a UTF-8 character */
        while (keep > 0 && ((unsigned char)value[keep] & 0xC0) == 0x80)
            keep--;
    }
    size_t n = 0;
    for (size_t i = 0; i < keep && n + 1 < room; i++)
        w[n++] = (unsigned char)value[i] < 0x20 || value[i] == 0x7f ? ' ' : value[i];
    for (int i = 0; cut && i < 3 && n + 1 < room; i++)
        w[n++] = '.';
    w[n] = '\0';
    return n;
}

void pds_setting_diff_line(const pds_setting_diff *d, size_t max_value, char *buf, size_t size)
{
    if (size == 0)
        return;
    int n = snprintf(buf, size, "%s: ", d->path);
    size_t at = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
    at += side(buf + at, size - at, d->kb, d->base, d->nb, max_value);
    n = snprintf(buf + at, size - at, " -> ");
    at += n < 0 ? 0 : (size_t)n < size - at ? (size_t)n : size - at - 1;
    side(buf + at, size - at, d->ks, d->scen, d->ns, max_value);
}
