/* The comparison file of pdsim compare -o: the paired differences of a
 * scenario and its baseline with their 95% intervals (docs/output-format.md). */
#ifndef PDS_COMPARE_H5_H
#define PDS_COMPARE_H5_H

#include "../core/compare.h"
#include "../core/diag.h"
#include "h5util.h"

/* The sub-units of a comparison: their paired sums and their axis (codes,
 * names, parents) as read from the baseline. */
typedef struct pds_compare_h5_subunits {
    const pds_compare *c;
    const pds_h5subunits *axis;
} pds_compare_h5_subunits;

/* Write c's differences into path, under a temporary name renamed when
 * done, so that path is never a half-written file and an earlier one
 * survives a failure. year_index: the comparison year of the unit table;
 * names: [U] unit names or NULL; sub: the sub-units (group /subunits), or
 * NULL when they were not compared. PDS_OK, or PDS_ERR_RUNTIME with a
 * message. */
pds_status pds_compare_h5_write(const char *path, const pds_compare *c, size_t year_index,
                                char *const *names, const pds_h5result *b, const pds_h5result *s,
                                const pds_compare_h5_subunits *sub, pds_diag *diag);

#endif
