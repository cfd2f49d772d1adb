/* Paired comparison of a baseline and a scenario run with the same seed:
 * run r of both used the same random numbers, so per-run differences are
 * due to the scenario alone. Runs are added in blocks of pairs, so memory
 * does not grow with the number of runs. One pds_compare covers one axis of
 * items, each with its adoption year per run: the units, or the sub-units,
 * by the same code. Pure: no I/O. See docs/compare.md. */
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
/* standard error of the mean: sd / sqrt(n), 0 for n < 2 */
double pds_acc_se(const pds_acc *a, double n);
/* mean and 95% interval: mean +- 1.96 sd / sqrt(n), in out[0..2] */
void pds_acc_interval(const pds_acc *a, double n, double out[3]);

typedef struct pds_compare {
    size_t U, Y;           /* items (units or sub-units), simulated years */
    int first, last, base; /* first and last simulated year, base year */
    double R;              /* runs added */
    pds_acc *nb, *ns, *nd; /* [Y] items adopted by the year in base, scenario, difference */
    pds_acc *pd;           /* [U x Y] 0/1 difference of adopted by the year */
    double *pb, *ps;       /* [U x Y] runs adopted by the year */
    pds_acc *yd;           /* [U] scenario year - baseline year, censored */
    double *yb, *ys;       /* [U] sums of the censored years */
    pds_acc gained;        /* per run, sum over items of baseline year - scenario year */
} pds_compare;

/* Owned, all sums 0, or NULL (out of memory). Free with pds_compare_free
 * (NULL is a no-op). */
pds_compare *pds_compare_create(size_t U, size_t Y, int first, int last, int base);
void pds_compare_free(pds_compare *c);

/* Add n pairs of runs: adoption-year codes [n x U], row r of the baseline x
 * paired with row r of the scenario z (0 = not adopted by last, negative =
 * by the base year). */
void pds_compare_add_runs(pds_compare *c, size_t n, const int16_t *x, const int16_t *z);

/* The share of the U items adopted by the end of year index k. */
typedef struct pds_compare_share {
    double base, scenario; /* mean share over the runs in each file */
    double diff[3];        /* paired difference: mean, 95% low, 95% high */
    double se;             /* standard error of the paired difference */
} pds_compare_share;
void pds_compare_share_at(const pds_compare *c, size_t k, pds_compare_share *out);

/* Up to max item indices into idx, the items with the largest absolute
 * mean paired year difference first (ties: the larger absolute difference
 * of P(adopted by year index k), then the lower index); only items whose
 * year differs in some run. Returns how many. */
size_t pds_compare_top_shifts(const pds_compare *c, size_t k, size_t *idx, size_t max);

/* var(nb) + var(ns) over var(nb - ns) at year index k: how much more
 * variance the difference would have with independent seeds. inf when the
 * paired difference never varies, NaN when nothing varies at all. */
double pds_compare_var_ratio(const pds_compare *c, size_t k);

/* 1 when some item adopts in a different year in some run. */
int pds_compare_any_difference(const pds_compare *c);

/* The year index at which the scenario moves the items most: the largest
 * sum over items of |P(adopted by the year) scenario - baseline|; when it
 * moves nothing, the year in which the baseline's adoption is most uncertain
 * (the largest sum of p (1 - p)). */
size_t pds_compare_year(const pds_compare *c);

#endif
