/* A CSV file read whole into a table of strings (libcsv), with the line on
 * which each row starts, so that every error can name file:line. */
#ifndef PDS_CSVTAB_H
#define PDS_CSVTAB_H

#include <stddef.h>

#include "../core/diag.h"

typedef struct pds_csvtab {
    char *path;      /* owned copy of the path, as given */
    size_t n_cols;   /* columns in the header */
    char **header;   /* owned [n_cols] */
    size_t n_rows;   /* data rows (header excluded) */
    char **cells;    /* owned [n_rows x n_cols]; "" for an empty field */
    long *line;      /* [n_rows] line number of each row in the file */
} pds_csvtab;

/* Data rows any CSV file may have: past this a file is not input but an
 * accident, and is refused before it fills the memory. */
#define PDS_CSV_MAX_ROWS 10000000
/* Bytes a CSV line may have: no input file of pdsim comes near it, and a
 * file without line ends (a device, a binary file) is refused early. */
#define PDS_CSV_MAX_LINE (1 << 20)

/* Open path for reading; a folder, a loop of symbolic links or any other
 * failure is added to diag (file named) and gives NULL. */
#include <stdio.h>
FILE *pds_open_input(const char *path, pds_diag *diag);
/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates). */
int pds_utf8_valid(const char *s, size_t n);

/* Read path; NULL on error (added to diag). Rows with a field count other
 * than the header's are errors. A UTF-8 byte-order mark is skipped. */
pds_csvtab *pds_csvtab_read(const char *path, pds_diag *diag);
/* The same, refusing a file with more than max_rows data rows (the message
 * names the line of the first row too many and says what the rows are). */
pds_csvtab *pds_csvtab_read_max(const char *path, size_t max_rows, const char *what,
                                pds_diag *diag);
void pds_csvtab_free(pds_csvtab *t);

/* Column index of name, or -1. With required set, a missing column is added
 * to diag ("file:1: missing column 'x'"). */
long pds_csvtab_col(const pds_csvtab *t, const char *name, int required, pds_diag *diag);

static inline const char *pds_csvtab_cell(const pds_csvtab *t, size_t row, size_t col)
{
    return t->cells[row * t->n_cols + col];
}

/* Strict number parsing: the whole string must be the number. */
int pds_parse_long(const char *s, long *out);
int pds_parse_double(const char *s, double *out); /* rejects nan and inf */
/* Non-negative decimal integer up to 2^64 - 1 (no sign), e.g. a seed. */
int pds_parse_u64(const char *s, unsigned long long *out);

/* Integer cell in [lo, hi]; blank allowed when blank_ok (then *out = 0).
 * Adds "file:line: column: expected ..." and returns -1 otherwise. */
int pds_csvtab_int(const pds_csvtab *t, size_t row, long col, long lo, long hi, int blank_ok,
                   long *out, pds_diag *diag);
/* Finite number; blank gives NaN when blank_ok. */
int pds_csvtab_num(const pds_csvtab *t, size_t row, long col, int blank_ok, double *out,
                   pds_diag *diag);

#endif
