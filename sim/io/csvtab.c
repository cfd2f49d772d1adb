#include "csvtab.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    pds_csvtab *t;
    pds_diag *diag;
    long cur_line; /* line being fed to the parser */
    long row_line; /* line on which the current row started */
    char **fields; /* fields of the current row */
    size_t n_fields, cap_fields;
    size_t cap_rows;
    int header_done;
    int failed;      /* out of memory or too many bad rows */
    long quote_line; /* line on which the open quoted field began */
    size_t bad_rows;
    size_t max_rows;  /* data rows allowed */
    const char *what; /* what the rows are, for the message */
} reader;

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->failed)
        return;
    if (r->n_fields == 0)
        r->row_line = r->cur_line;
    if (r->n_fields == r->cap_fields) {
        size_t cap = r->cap_fields ? 2 * r->cap_fields : 16;
        char **f = realloc(r->fields, cap * sizeof *f);
        if (!f) {
            r->failed = 1;
            return;
        }
        r->fields = f;
        r->cap_fields = cap;
    }
    char *v = dupn(s ? s : "", s ? len : 0);
    if (!v) {
        r->failed = 1;
        return;
    }
    r->fields[r->n_fields++] = v;
}

static void drop_fields(reader *r)
{
    for (size_t i = 0; i < r->n_fields; i++)
        free(r->fields[i]);
    r->n_fields = 0;
}

static void on_row(int c, void *data)
{
    (void)c;
    reader *r = data;
    pds_csvtab *t = r->t;
    if (r->failed) {
        drop_fields(r);
        return;
    }
    if (r->n_fields == 0)
        return;
    if (!r->header_done) {
        t->header = r->fields;
        t->n_cols = r->n_fields;
        r->fields = NULL;
        r->n_fields = r->cap_fields = 0;
        r->header_done = 1;
        for (size_t i = 0; i < t->n_cols; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(t->header[i], t->header[j]) == 0)
                    pds_diag_add(r->diag, t->path, r->row_line, 0,
                                 "column '%s' appears twice in the header", t->header[i]);
        return;
    }
    if (r->n_fields != t->n_cols) {
        pds_diag_add(r->diag, t->path, r->row_line, 0,
                     "expected %zu fields (as in the header), got %zu", t->n_cols, r->n_fields);
        drop_fields(r);
        if (++r->bad_rows >= 20)
            r->failed = 1;
        return;
    }
    if (t->n_rows == r->max_rows) {
        pds_diag_add(r->diag, t->path, r->row_line, 0,
                     "more than %zu %s: at most %zu are supported", r->max_rows, r->what,
                     r->max_rows);
        drop_fields(r);
        r->failed = 1;
        return;
    }
    if (t->n_rows == r->cap_rows) {
        size_t cap = r->cap_rows ? 2 * r->cap_rows : 64;
        char **c2 = realloc(t->cells, cap * t->n_cols * sizeof *c2);
        if (!c2) {
            r->failed = 1;
            drop_fields(r);
            return;
        }
        t->cells = c2;
        long *l2 = realloc(t->line, cap * sizeof *l2);
        if (!l2) {
            r->failed = 1;
            drop_fields(r);
            return;
        }
        t->line = l2;
        r->cap_rows = cap;
    }
    memcpy(t->cells + t->n_rows * t->n_cols, r->fields, t->n_cols * sizeof(char *));
    t->line[t->n_rows] = r->row_line;
    t->n_rows++;
    r->n_fields = 0;
}

void pds_csvtab_free(pds_csvtab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    for (size_t i = 0; i < t->n_cols; i++)
        free(t->header[i]);
    free(t->cells);
    free(t->header);
    free(t->line);
    free(t->path);
    free(t);
}

pds_csvtab *pds_csvtab_read(const char *path, pds_diag *diag)
{
    return pds_csvtab_read_max(path, PDS_CSV_MAX_ROWS, "data rows", diag);
}

pds_csvtab *pds_csvtab_read_max(const char *path, size_t max_rows, const char *what, pds_diag *diag)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pds_diag_add(diag, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    pds_csvtab *t = calloc(1, sizeof *t);
    struct csv_parser p;
    if (!t || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        free(t);
        fclose(f);
        return NULL;
    }
    t->path = dupn(path, strlen(path));
    size_t before = diag->n + diag->dropped;
    reader r = {.t = t, .diag = diag, .max_rows = max_rows, .what = what};
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int parse_error = 0;
    while (!r.failed && (len = getline(&buf, &cap, f)) > 0) {
        r.cur_line++;
        const char *s = buf;
        if (r.cur_line == 1 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        if (memchr(s, '\0', (size_t)len)) {
            pds_diag_add(diag, path, r.cur_line, 0, "contains a NUL byte: not a text CSV file");
            parse_error = 1;
            break;
        }
        int was_quoted = p.quoted;
        size_t fed = csv_parse(&p, s, (size_t)len, on_field, on_row, &r);
        if (p.quoted && !was_quoted)
            r.quote_line = r.cur_line;
        if (fed != (size_t)len) {
            pds_diag_add(diag, path, r.cur_line, 0, "malformed CSV: %s (check the quotes)",
                         csv_strerror(csv_error(&p)));
            parse_error = 1;
            break;
        }
    }
    if (!parse_error && !r.failed && csv_fini(&p, on_field, on_row, &r) != 0) {
        if (p.quoted && r.quote_line > 0)
            pds_diag_add(diag, path, r.quote_line, 0,
                         "unclosed quote: the quoted field that begins on this line never ends");
        else
            pds_diag_add(diag, path, r.cur_line, 0, "malformed CSV at end of file: %s",
                         csv_strerror(csv_error(&p)));
        parse_error = 1;
    }
    if (ferror(f)) {
        pds_diag_add(diag, path, 0, 0, "read error");
        parse_error = 1;
    }
    free(buf);
    csv_free(&p);
    fclose(f);
    drop_fields(&r);
    free(r.fields);
    if (!r.header_done && !parse_error) {
        pds_diag_add(diag, path, 1, 0, "empty file: expected a header row");
        parse_error = 1;
    }
    if (r.failed && diag->n + diag->dropped == before)
        pds_diag_add(diag, path, 0, 0, "out of memory while reading");
    if (parse_error || r.failed || diag->n + diag->dropped != before) {
        pds_csvtab_free(t);
        return NULL;
    }
    return t;
}

long pds_csvtab_col(const pds_csvtab *t, const char *name, int required, pds_diag *diag)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->header[i], name) == 0)
            return (long)i;
    if (required)
        pds_diag_add(diag, t->path, 1, 0, "missing column '%s'", name);
    return -1;
}

int pds_parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int pds_parse_u64(const char *s, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int pds_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE && fabs(v) > 1.0)
        return -1;
    if (*end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int pds_csvtab_int(const pds_csvtab *t, size_t row, long col, long lo, long hi, int blank_ok,
                   long *out, pds_diag *diag)
{
    const char *s = pds_csvtab_cell(t, row, (size_t)col);
    if (*s == '\0' && blank_ok) {
        *out = 0;
        return 0;
    }
    long v;
    if (pds_parse_long(s, &v) != 0 || v < lo || v > hi) {
        pds_diag_add(diag, t->path, t->line[row], 0,
                     "%s: expected an integer in %ld..%ld%s, got \"%s\"", t->header[col], lo, hi,
                     blank_ok ? " or blank" : "", s);
        return -1;
    }
    *out = v;
    return 0;
}

int pds_csvtab_num(const pds_csvtab *t, size_t row, long col, int blank_ok, double *out,
                   pds_diag *diag)
{
    const char *s = pds_csvtab_cell(t, row, (size_t)col);
    if (*s == '\0' && blank_ok) {
        *out = NAN;
        return 0;
    }
    if (pds_parse_double(s, out) != 0) {
        pds_diag_add(diag, t->path, t->line[row], 0, "%s: expected a finite number%s, got \"%s\"",
                     t->header[col], blank_ok ? " or blank" : "", s);
        return -1;
    }
    return 0;
}
