#include "provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvtab.h"
#include "dataset.h"

#define MAX_WORDS 12

typedef struct counts {
    const char *word[MAX_WORDS];
    size_t n[MAX_WORDS];
    size_t k, other, total;
} counts;

static void add(counts *c, const char *w)
{
    if (!*w)
        return;
    c->total++;
    for (size_t i = 0; i < c->k; i++)
        if (strcmp(c->word[i], w) == 0) {
            c->n[i]++;
            return;
        }
    if (c->k < MAX_WORDS) {
        c->word[c->k] = w;
        c->n[c->k++] = 1;
    } else {
        c->other++;
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Append "file: N what: n1 w1, n2 w2" to buf. */
static void append(char **buf, size_t *len, const char *file, const char *what, const counts *c)
{
    char line[1024];
    int o = snprintf(line, sizeof line, "%s: %zu %s:", file, c->total, what);
    for (size_t i = 0; i < c->k && o > 0 && (size_t)o < sizeof line; i++)
        o += snprintf(line + o, sizeof line - (size_t)o, "%s %zu %s", i ? "," : "", c->n[i],
                      c->word[i]);
    if (c->other && o > 0 && (size_t)o < sizeof line)
        o += snprintf(line + o, sizeof line - (size_t)o, ", %zu other", c->other);
    if (o < 0)
        return;
    size_t n = strlen(line);
    char *b = realloc(*buf, *len + n + 2);
    if (!b)
        return;
    memcpy(b + *len, line, n);
    b[*len + n] = '\n';
    b[*len + n + 1] = '\0';
    *buf = b;
    *len += n + 1;
}

char *pds_provenance_summary(const char *dir)
{
    char *buf = calloc(1, 1);
    size_t len = 0;
    for (int r = 0; buf && r < PDS_DATASET_N_ROLES; r++) {
        pds_diag quiet;
        pds_diag_init(&quiet);
        char *path = pds_dataset_file(dir, (pds_dataset_role)r, &quiet);
        pds_csvtab *t = path ? pds_csvtab_read(path, &quiet) : NULL;
        pds_diag_free(&quiet);
        if (t) {
            const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
            counts prov = {0}, cert = {0};
            for (size_t j = 0; j < t->n_cols; j++) {
                int is_prov = strcmp(t->header[j], "provenance") == 0 ||
                              ends_with(t->header[j], "_provenance");
                int is_cert = strcmp(t->header[j], "certainty") == 0;
                for (size_t i = 0; (is_prov || is_cert) && i < t->n_rows; i++)
                    add(is_prov ? &prov : &cert, pds_csvtab_cell(t, i, j));
            }
            if (prov.total)
                append(&buf, &len, base, "values", &prov);
            if (cert.total)
                append(&buf, &len, base, "rows by certainty", &cert);
            pds_csvtab_free(t);
        }
        free(path);
    }
    if (buf && len)
        buf[len - 1] = '\0'; /* no final newline */
    return buf;
}
