/* Readers of the files pdsim writes, for the commands that print or export
 * them (summary, report): what kind a file is, the summaries of a finished
 * run, and a merged sweep file. Messages go to a pds_diag. */
#ifndef PDS_RESULTREAD_H
#define PDS_RESULTREAD_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/summary.h"
#include "h5util.h"

/* The kind of an HDF5 file of pdsim by its looks (not checked further). */
typedef enum pds_file_kind {
    PDS_FILE_NONE = -1, /* unreadable, or not an HDF5 file */
    PDS_FILE_RUN = 0,   /* anything else: taken for a result file of pdsim run */
    PDS_FILE_COMPARE,   /* an output of pdsim compare -o (has /compare) */
    PDS_FILE_SWEEP,     /* a merged sweep file (kind = sweep) */
    PDS_FILE_PART       /* a sweep's part file (kind = sweep-part) */
} pds_file_kind;

pds_file_kind pds_h5_file_kind(const char *path);

/* The kind of an input of pdsim report, after checking that it is a
 * complete file of that kind (a part file is refused). For a run file,
 * dataset gets the dataset path the run recorded. PDS_OK, or PDS_ERR_INPUT
 * with a message. */
pds_status pds_h5_report_input(const char *path, pds_file_kind *kind, char *dataset, size_t size,
                               pds_diag *diag);

/* The summaries of a finished run file, read whole (they are small: units x
 * years). */
typedef struct pds_runtables {
    pds_h5result h;
    size_t U, Y, Q;
    char **name, **region, **name_en; /* [U]; name_en "" when the file has none */
    long report_years[16];            /* the years of P(adopted by) in the tables */
    size_t n_report_years;
    pds_summary *sum;  /* the counts, rebuilt from the summaries */
    int16_t *observed; /* [U] observed adoption year, 0 = none */
    int16_t *years;    /* [Y] */
    double *p;         /* [U x Y] P(adopted by the end of the year) */
    double *levels;    /* [Q] quantile levels */
    double *quant;     /* [Q x Y] quantiles of the national count */
    double *mean;      /* [Y] mean national count */
    uint64_t *count;   /* [Y x (U+1)] runs with exactly c units adopted */
} pds_runtables;

/* PDS_OK, PDS_ERR_RUNTIME (out of memory) or PDS_ERR_INPUT (not a readable
 * finished run file), with a message. The caller silences HDF5's own error
 * printing (pds_h5_quiet_begin). Always close, even on failure. */
pds_status pds_runtables_open(const char *path, pds_runtables *f, pds_diag *diag);
void pds_runtables_close(pds_runtables *f);

/* A merged sweep file of pdsim sweep or merge. */
typedef struct pds_sweepfile {
    uint64_t n_points, runs;
    int64_t first_year, last_year;
    char design[16];
    size_t P, U, Q, Y;
    char **names, **codes;
    double *points, *levels, *mean, *quant, *p_all, *median;
    uint64_t *seed;
} pds_sweepfile;

/* PDS_OK, or PDS_ERR_INPUT with a message: not a complete merged sweep
 * file. pds_sweepfile_free it in any case (a zeroed one is a no-op). */
pds_status pds_sweepfile_read(const char *path, pds_sweepfile *s, pds_diag *diag);
void pds_sweepfile_free(pds_sweepfile *s);

#endif
