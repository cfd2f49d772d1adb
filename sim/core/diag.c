#include "diag.h"

#include <stdarg.h>
#include <stdio.h> /* vsnprintf only: core does no I/O */
#include <stdlib.h>
#include <string.h>

void pds_diag_init(pds_diag *d)
{
    memset(d, 0, sizeof *d);
}

void pds_diag_free(pds_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    memset(d, 0, sizeof *d);
}

void pds_diag_add(pds_diag *d, const char *file, long line, long col, const char *fmt, ...)
{
    size_t limit = d->limit ? d->limit : 100;
    if (d->n >= limit) {
        d->dropped++;
        return;
    }
    char prefix[1024] = "";
    size_t len = 0;
    if (file)
        len += (size_t)snprintf(prefix, sizeof prefix, "%s:", file);
    if (file && line > 0 && len < sizeof prefix)
        len += (size_t)snprintf(prefix + len, sizeof prefix - len, "%ld:", line);
    if (file && line > 0 && col > 0 && len < sizeof prefix)
        len += (size_t)snprintf(prefix + len, sizeof prefix - len, "%ld:", col);
    if (file && len < sizeof prefix)
        (void)snprintf(prefix + len, sizeof prefix - len, " ");

    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);

    size_t need = strlen(prefix) + strlen(body) + 1;
    char *msg = malloc(need);
    if (!msg) {
        d->dropped++;
        return;
    }
    (void)snprintf(msg, need, "%s%s", prefix, body);
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **m = realloc(d->msgs, cap * sizeof *m);
        if (!m) {
            free(msg);
            d->dropped++;
            return;
        }
        d->msgs = m;
        d->cap = cap;
    }
    d->msgs[d->n++] = msg;
}

char *pds_strfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}
