/* Designs for parameter sweeps on the unit hypercube [0, 1)^dim: Latin
 * hypercube samples, Sobol sequences, Saltelli's arrangement of two Sobol
 * matrices for sensitivity indices, and the first-order and total indices
 * estimated from a model's outputs on that arrangement. */
#ifndef PDS_DESIGN_H
#define PDS_DESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Highest dimension of the Sobol generator (direction numbers of Joe & Kuo,
 * new-joe-kuo-6.21201, dimensions 1..64). */
#define PDS_SOBOL_MAX_DIM 64
/* At most 2^31 points of one sequence. */
#define PDS_SOBOL_MAX_POINTS (1ull << 31)

/* Points 1..n of the dim-dimensional Sobol sequence (point 0, the origin, is
 * skipped), row-major into out[n x dim]; pds_design_sobol_from(dim, 1, n). PDS_ERR_INPUT when dim or n is out
 * of range. */
pds_status pds_design_sobol(size_t dim, size_t n, double *out);

/* Points first .. first + n - 1 of the dim-dimensional Sobol sequence
 * (point 0 is the origin), unscrambled, row-major into out[n x dim]. */
pds_status pds_design_sobol_from(size_t dim, uint64_t first, size_t n, double *out);

/* Points 0 .. n - 1 of the dim-dimensional Sobol sequence under Owen's
 * nested uniform scramble (Owen 1995): bit k (0 = most significant) of a
 * coordinate in dimension j is flipped by a random bit that depends on j, k
 * and the k bits above it, so that for n = 2^m every dimension's n equal
 * strata hold one point each, and the points are uniform on [0, 1)^dim.
 * The random bit of (j, k, prefix) is the top bit of the first draw of
 * pds_pcg32_stream(seed, run = j, purpose = PDS_SOBOL_OWEN_PURPOSE ^
 * (k << 32 | prefix)): reproducible from seed alone, the same for any n. */
#define PDS_SOBOL_OWEN_PURPOSE 0x50b0150000000000ull
pds_status pds_design_sobol_owen(size_t dim, size_t n, uint64_t seed, double *out);

/* How the Saltelli arrangement takes its Sobol points. */
typedef struct pds_sobol_seq {
    int scramble;  /* 1: Owen-scrambled points 0..N-1 keyed by seed; 0: unscrambled */
    uint64_t seed; /* scramble: the seed */
    uint64_t skip; /* unscrambled: points skip .. skip + N - 1; 0 = the default skip */
} pds_sobol_seq;

/* The default skip of an unscrambled design: the smallest power of 2 >= N
 * (SALib's default for skip_values). */
uint64_t pds_design_sobol_default_skip(size_t N);

/* Saltelli's arrangement (as pds_design_saltelli) from the points seq names. */
pds_status pds_design_saltelli_seq(size_t n_params, size_t N, const pds_sobol_seq *seq,
                                   double *out);

/* A Latin hypercube sample of n points: each column is a random permutation
 * of the n strata with a uniform position inside each. Depends only on seed. */
void pds_design_lhs(size_t dim, size_t n, uint64_t seed, double *out);

/* Saltelli's arrangement for n_params parameters and N base samples: for
 * each base sample j, n_params + 2 consecutive rows A_j, AB_j^(1..n_params),
 * B_j, where A and B are the first and second halves of the columns of a
 * 2 n_params-dimensional Sobol sequence and AB^(i) is A with column i from B.
 * out has N (n_params + 2) rows of n_params columns. This one takes the
 * unscrambled points 1..N (the first, (1/2, ..., 1/2), has A_1 = B_1); the
 * sweeps use pds_design_saltelli_seq. */
pds_status pds_design_saltelli(size_t n_params, size_t N, double *out);

/* Rows of the Saltelli arrangement per base sample. */
static inline size_t pds_design_saltelli_rows(size_t n_params)
{
    return n_params + 2;
}

/* Sobol indices from outputs y[N (n_params + 2)] on the Saltelli arrangement:
 * first-order (Saltelli 2010) and total (Jansen 1999) estimators, each with a
 * 95% percentile bootstrap interval over base samples from n_boot resamples
 * drawn from a PCG32 stream keyed by seed. first[n_params x 3] and
 * total[n_params x 3] receive estimate, low, high. When the outputs have no
 * variance the indices are NaN. */
void pds_design_sobol_indices(size_t n_params, size_t N, const double *y, size_t n_boot,
                              uint64_t seed, double *first, double *total);

/* The same, and the number of resamples each interval rests on: used[2 i]
 * for the first-order index of parameter i, used[2 i + 1] for its total
 * index. A resample in which the output does not vary gives NaN and is left
 * out of the quantiles, so used < n_boot says that it happened. */
void pds_design_sobol_indices_used(size_t n_params, size_t N, const double *y, size_t n_boot,
                                   uint64_t seed, double *first, double *total, uint64_t *used);

/* The seed of design point `point` under seed: a bijective mix, so that
 * distinct points get unrelated seeds. */
uint64_t pds_design_point_seed(uint64_t seed, uint64_t point);

/* 64-bit FNV-1a hash of n bytes, continuing from h (start with
 * PDS_HASH_INIT). Identifies a sweep's design; not for security. */
#define PDS_HASH_INIT 0xcbf29ce484222325ull
uint64_t pds_design_hash(uint64_t h, const void *data, size_t n);

#endif
