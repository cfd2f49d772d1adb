/* PCG32 (XSH-RR 64/32), after M. E. O'Neill, "PCG: A Family of Simple Fast
 * Space-Efficient Statistically Good Algorithms for Random Number
 * Generation" (2014). The generator is a plain value: no globals. */
#ifndef PDS_PCG_H
#define PDS_PCG_H

#include <stdint.h>

typedef struct pds_pcg32 {
    uint64_t state; /* current LCG state */
    uint64_t inc;   /* stream selector, always odd */
} pds_pcg32;

/* Seed like the reference pcg32_srandom_r(initstate, initseq). */
void pds_pcg32_seed(pds_pcg32 *rng, uint64_t initstate, uint64_t initseq);

/* One step on a bare state: for hot loops, which keep the state in a local
 * variable whose address never escapes, so that it stays in a register. */
static inline uint32_t pds_pcg32_step(uint64_t *state, uint64_t inc)
{
    uint64_t old = *state;
    *state = old * 6364136223846793005ULL + inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

static inline uint32_t pds_pcg32_next(pds_pcg32 *rng)
{
    return pds_pcg32_step(&rng->state, rng->inc);
}

/* Uniform on [0, 1) with 32 bits of resolution. */
static inline double pds_pcg32_uniform(pds_pcg32 *rng)
{
    return pds_pcg32_next(rng) * (1.0 / 4294967296.0);
}

/* Uniform integer in [0, bound), unbiased (Lemire's rejection method). */
uint32_t pds_pcg32_bounded(pds_pcg32 *rng, uint32_t bound);

#endif
