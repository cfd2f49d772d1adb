/* Summaries accumulated over runs: integer counts only, so merging partial
 * summaries in any order gives identical results. */
#ifndef PDS_SUMMARY_H
#define PDS_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

typedef struct pds_summary {
    size_t n_units;
    size_t n_years;
    int first_year;             /* year of index 0 */
    uint64_t n_runs;            /* runs accumulated */
    uint64_t *adopted_by_year;  /* [n_units x n_years] runs with the unit adopted by the end of the year */
    uint64_t *national_hist;    /* [n_years x (n_units+1)] runs with c units adopted by the end of the year */
} pds_summary;

pds_summary *pds_summary_create(size_t n_units, size_t n_years, int first_year);
void pds_summary_free(pds_summary *s);

/* Add n_runs rows of adoption years (0 = not adopted, <0 = adopted, year unknown). */
void pds_summary_add_runs(pds_summary *s, const int16_t *unit_years, size_t n_runs);
/* into += from; the shapes must agree. */
pds_status pds_summary_merge(pds_summary *into, const pds_summary *from);

/* P(unit adopted by the end of year index k). */
double pds_summary_p_adopted(const pds_summary *s, size_t unit, size_t k);
/* Smallest year Y with P(adopted by Y) >= p; 0 when later than the last year. */
int pds_summary_unit_year_quantile(const pds_summary *s, size_t unit, double p);
/* Smallest c with P(national adopted <= c) >= p at year index k (inverse CDF). */
int pds_summary_national_quantile(const pds_summary *s, size_t k, double p);
double pds_summary_national_mean(const pds_summary *s, size_t k);

#endif
