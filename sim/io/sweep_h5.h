/* Sweep result files. Each task of a sweep writes a part file
 * (DIR/part-IIII-of-NNNN.h5) holding the whole design and the summaries of
 * its own points; pdsim merge checks the parts and writes the sweep file
 * (layout in docs/sweep.md). A part is written under DIR/...h5.partial,
 * point by point, with the count of finished points in the root attribute
 * points_done, so that a killed task resumes where it stopped; it is renamed
 * when complete. */
#ifndef PDS_SWEEP_H5_H
#define PDS_SWEEP_H5_H

#include <stddef.h>

#include "../core/diag.h"
#include "sweep.h"

#define PDS_SWEEP_FORMAT_VERSION 1

/* The part file name of task of tasks in dir. Owned. */
char *pds_sweep_part_path(const char *dir, size_t task, size_t tasks);

typedef struct pds_sweep_part pds_sweep_part;

/* Open task's part for writing into *out. *done receives the points
 * already finished (from an earlier, interrupted attempt). When the finished
 * part exists already, *out is NULL: nothing is to be done. A part of
 * another sweep in the way is PDS_ERR_INPUT; a damaged partial file is
 * recomputed; I/O failures are PDS_ERR_RUNTIME; each with a message. */
pds_status pds_sweep_part_open(const pds_sweep *sw, size_t task, size_t tasks, size_t *done,
                               pds_sweep_part **out, pds_diag *diag);
/* Store row 0 of st as the part's point number k (0-based within the part),
 * then record k + 1 points done. 0 or -1. */
int pds_sweep_part_write(pds_sweep_part *p, size_t k, const pds_sweep_stats *st);
/* Mark complete, close and rename to the final name. 0, or -1 with a message. */
int pds_sweep_part_finish(pds_sweep_part *p, pds_diag *diag);
/* Close, leaving the partial file for a later resume. NULL is a no-op. */
void pds_sweep_part_close(pds_sweep_part *p);

/* Merge part files (or folders of them) into out: every part complete, of
 * the same sweep (hash), of the same split, each task exactly once.
 * PDS_ERR_INPUT with messages when not; PDS_ERR_RUNTIME on I/O failure. */
pds_status pds_sweep_merge(const char *const *inputs, size_t n_inputs, const char *out,
                           pds_diag *diag);

/* The Sobol indices of a merged sweep file, for reports. */
typedef struct pds_sweep_indices {
    size_t n_outputs, n_params;
    char **outputs, **params; /* owned */
    double *first, *total;    /* owned: [n_outputs x n_params x 3] estimate, low, high */
    uint64_t *used;           /* owned: [n_outputs x n_params x 2] resamples behind each
                               * interval (first order, total); NULL in older files */
    int64_t bootstrap;        /* resamples drawn (the root attribute) */
} pds_sweep_indices;

/* 0, or -1 when the file has no Sobol indices or cannot be read. */
int pds_sweep_indices_read(const char *path, pds_sweep_indices *ix);
void pds_sweep_indices_free(pds_sweep_indices *ix);

#endif
