#include "csvtab.h"

#include "../core/world.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int pds_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        unsigned v = c & (0x3F >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            v = (v << 6) | (p[i + j] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->failed)
        return;
    if (r->n_fields == 0)
        r->row_line = r->cur_line;
    if (s && !pds_utf8_valid(s, len)) {
        pds_diag_add(r->diag, r->t->path, r->cur_line, 0,
                     "field %zu is not valid UTF-8 text (save the file as UTF-8)",
                     r->n_fields + 1);
        if (++r->bad_rows >= 20)
            r->failed = 1;
    }
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
        /* sorted, so that a header of many columns is checked in O(n log n) */
        char *dup = malloc(t->n_cols + 1);
        if (!dup || pds_find_duplicates((const char *const *)t->header, t->n_cols, dup) != 0) {
            free(dup);
            r->failed = 1;
            return;
        }
        for (size_t i = 0; i < t->n_cols; i++)
            if (dup[i])
                pds_diag_add(r->diag, t->path, r->row_line, 0,
                             "column '%s' appears twice in the header", t->header[i]);
        free(dup);
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

/* One line (with its newline) into *buf, at most PDS_CSV_MAX_LINE bytes.
 * Returns its length, 0 at end of file, -1 on a read error, -2 for a line
 * too long, -3 for a NUL byte (both found as soon as they are read, so that
 * /dev/zero or a binary file is refused at once). */
static ssize_t read_line(FILE *f, char **buf, size_t *cap)
{
    size_t n = 0;
    for (;;) {
        int c = getc_unlocked(f);
        if (c == EOF)
            break;
        if (c == '\0')
            return -3;
        if (n >= PDS_CSV_MAX_LINE)
            return -2;
        if (n + 2 > *cap) {
            size_t nc = *cap ? 2 * *cap : 256;
            char *b = realloc(*buf, nc);
            if (!b)
                return -4;
            *buf = b;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (ferror(f))
        return -1;
    if (n)
        (*buf)[n] = '\0';
    return (ssize_t)n;
}

FILE *pds_open_input(const char *path, pds_diag *diag)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ELOOP)
            pds_diag_add(diag, path, 0, 0, "cannot open: a loop of symbolic links");
        else
            pds_diag_add(diag, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        pds_diag_add(diag, path, 0, 0, "is a folder: expected a file");
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        pds_diag_add(diag, path, 0, 0, "out of memory");
        close(fd);
    }
    return f;
}

pds_csvtab *pds_csvtab_read_max(const char *path, size_t max_rows, const char *what, pds_diag *diag)
{
    FILE *f = pds_open_input(path, diag);
    if (!f)
        return NULL;
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
    int read_failed = 0;
    while (!r.failed && (len = read_line(f, &buf, &cap)) != 0) {
        r.cur_line++;
        if (len == -3) {
            pds_diag_add(diag, path, r.cur_line, 0, "contains a NUL byte: not a text CSV file");
            parse_error = 1;
            break;
        }
        if (len == -2) {
            pds_diag_add(diag, path, r.cur_line, 0,
                         "line longer than %d bytes: not a CSV file of this kind",
                         PDS_CSV_MAX_LINE);
            parse_error = 1;
            break;
        }
        if (len == -4) {
            r.failed = 1;
            break;
        }
        if (len < 0) {
            read_failed = 1;
            break;
        }
        const char *s = buf;
        if (r.cur_line == 1 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
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
    if (read_failed || ferror(f)) {
        pds_diag_add(diag, path, 0, 0, "read error: %s", strerror(errno));
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
    /* decimal notation only: strtod would also take hexadecimal (0x5A0),
     * hexadecimal floats, "inf", "nan" and leading blanks */
    if (s[strspn(s, "0123456789+-.eE")] != '\0')
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
