/* Diagnostics: a list of messages, each naming the place ("file:line:col: msg").
 * Loaders and validators add every problem they find, not only the first. */
#ifndef PDS_DIAG_H
#define PDS_DIAG_H

#include <stddef.h>

/* Status codes; the CLI maps them to exit codes 0/1/2/4. */
typedef enum pds_status {
    PDS_OK = 0,
    PDS_ERR_RUNTIME = 1, /* I/O, out of memory, interrupted */
    PDS_ERR_INPUT = 2,   /* bad usage or bad input */
    PDS_ERR_BUSY = 4     /* the output is being written by another process */
} pds_status;

typedef struct pds_diag {
    char **msgs;  /* owned messages */
    size_t n;     /* number of messages */
    size_t cap;   /* allocated slots */
    size_t limit; /* stop recording after this many (0 = 100) */
    size_t dropped; /* messages not recorded past the limit */
} pds_diag;

void pds_diag_init(pds_diag *d);
void pds_diag_free(pds_diag *d);

/* Add "file:line:col: message". line/col <= 0 are left out; file NULL too. */
void pds_diag_add(pds_diag *d, const char *file, long line, long col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* A newly allocated string formatted as by printf; NULL when out of memory. */
char *pds_strfmt(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
