/* Paired comparison of a baseline and a scenario run with the same seed:
 * run r of both used the same random numbers, so per-run differences are
 * due to the scenario alone. Runs are added one pair at a time, so memory
 * does not grow with the number of runs. Pure: no I/O. See docs/compare.md. */
#ifndef PDS_COMPARE_H
#define PDS_COMPARE_H

#include <stddef.h>
#include <stdint.h>

/* Sums of x and x^2. The values are small integers (counts, 0/1 flags,
 * year differences), so the sums are exact in a double up to 2^53; a
 * difference that is 0 in every run therefore gives exactly 0 for its mean,
 * variance and interval. */
typedef struct pds_acc {
    double s, ss;
} pds_acc;

double pds_acc_mean(const pds_acc *a, double n);
/* sample variance (n - 1), 0 for n < 2 */
double pds_acc_var(const pds_acc *a, double n);
/* mean and 95% interval: mean +- 1.96 sd / sqrt(n), in out[0..2] */
void pds_acc_interval(const pds_acc *a, double n, double out[3]);

typedef struct pds_compare {
    size_t U, Y;           /* units, simulated years */
    int first, last, base; /* first and last simulated year, base year */
    double R;              /* runs added */
    pds_acc *nb, *ns, *nd; /* [Y] national count in base, scenario, difference */
    pds_acc *pd;           /* [U x Y] 0/1 difference of adopted by the year */
    double *pb, *ps;       /* [U x Y] runs adopted by the year */
    pds_acc *yd;           /* [U] scenario year - baseline year, censored */
    double *yb, *ys;       /* [U] sums of the censored years */
    pds_acc gained;        /* per run, sum over units of baseline year - scenario year */
} pds_compare;

/* Owned, all sums 0, or NULL (out of memory). Free with pds_compare_free
 * (NULL is a no-op). */
pds_compare *pds_compare_create(size_t U, size_t Y, int first, int last, int base);
void pds_compare_free(pds_compare *c);

/* Add one pair of runs: adoption-year codes [U] of the baseline x and the
 * scenario z (0 = not adopted by last, negative = by the base year). */
void pds_compare_add_run(pds_compare *c, const int16_t *x, const int16_t *z);

/* var(nb) + var(ns) over var(nb - ns) at year index k: how much more
 * variance the difference would have with independent seeds. inf when the
 * paired difference never varies, NaN when nothing varies at all. */
double pds_compare_var_ratio(const pds_compare *c, size_t k);

/* 1 when some unit adopts in a different year in some run. */
int pds_compare_any_difference(const pds_compare *c);

/* The year index at which the scenario moves the units most: the largest
 * sum over units of |P(adopted by the year) scenario - baseline|; when it
 * moves nothing, the year in which the baseline's adoption is most uncertain
 * (the largest sum of p (1 - p)). */
size_t pds_compare_year(const pds_compare *c);

#endif
