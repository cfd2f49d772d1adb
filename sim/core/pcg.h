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

/* The LCG's multiplier. */
#define PDS_PCG32_MULT 6364136223846793005ULL

/* The state delta steps on from state (increment inc), in O(log delta)
 * multiplications (Brown, "Random number generation with arbitrary strides",
 * 1994, as in the PCG paper's pcg_advance_lcg_64). */
uint64_t pds_pcg32_advance_state(uint64_t state, uint64_t inc, uint64_t delta);
static inline void pds_pcg32_advance(pds_pcg32 *rng, uint64_t delta)
{
    rng->state = pds_pcg32_advance_state(rng->state, rng->inc, delta);
}

/* Jump tables for short strides: for d < n, d steps take a state s to
 * mult[d] * s + gsum[d] * inc, with mult[d] = a^d and
 * gsum[d] = 1 + a + ... + a^(d-1) (mod 2^64). */
void pds_pcg32_jump_table(uint64_t *mult, uint64_t *gsum, uint64_t n);

/* The 32-bit output of a state, without stepping. */
static inline uint32_t pds_pcg32_output(uint64_t old)
{
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

/* Uniform integer in [0, bound), unbiased (Lemire's rejection method). */
uint32_t pds_pcg32_bounded(pds_pcg32 *rng, uint32_t bound);

/* SplitMix64's output function (Steele, Lea & Flood 2014): add the golden
 * gamma 0x9e3779b97f4a7c15, then the variant-13 finaliser. A bijection of
 * 64-bit words in which every input bit affects every output bit. */
static inline uint64_t pds_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30u)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27u)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31u);
}

/* Stream keyed by (seed, run, purpose). Both the initial state and the
 * increment come from mixing the key, so that no two streams share a state
 * (PCG streams that share a state and differ only by increment are strongly
 * correlated at equal draw positions):
 *     k = mix64(mix64(mix64(seed) ^ run) ^ purpose)
 *     pds_pcg32_seed(rng, initstate = k, initseq = mix64(k ^ PDS_RNG_INC_KEY))
 * The scheme is spelled out in PDS_RNG_SCHEME, which result files carry. */
#define PDS_RNG_INC_KEY 0x5851f42d4c957f2dULL
void pds_pcg32_stream(pds_pcg32 *rng, uint64_t seed, uint64_t run, uint64_t purpose);

/* Purposes of a run's streams. PDS_RNG_MCMC keys the chains of pdsim fit
 * --prior: stream (seed, chain c, 4). */
enum {
    PDS_RNG_ADOPTION = 0,
    PDS_RNG_INITIAL = 1,
    PDS_RNG_COEFFICIENTS = 2,
    PDS_RNG_MODEL = 3,
    PDS_RNG_MCMC = 4,
    PDS_RNG_SUBUNIT_COEFFICIENTS = 8
};

#define PDS_RNG_SCHEME                                                                        \
    "PCG32 XSH-RR 64/32 (pcg32_srandom_r seeding). The stream of (seed, run r, purpose q) "   \
    "is seeded with initstate = k and initseq = M(k ^ 0x5851f42d4c957f2d), where k = "        \
    "M(M(M(seed) ^ r) ^ q) and M is SplitMix64's output function (x += 0x9e3779b97f4a7c15; " \
    "x = (x ^ x>>30) * 0xbf58476d1ce4e5b9; x = (x ^ x>>27) * 0x94d049bb133111eb; x ^ x>>31). " \
    "q = 0: adoption draws, one uniform per unit then per sub-unit (grouped by parent) in "   \
    "each simulated year, drawn also for agents already adopted; q = 1: initial draws of "    \
    "undated adopted sub-units (partial Fisher-Yates per unit, Lemire bounded integers); "   \
    "q = 2: coefficient draws (Box-Muller normals, two uniforms per pair, (u + 0.5) / 2^32; "   \
    "under uncertainty: posterior the first uniform u / 2^32 picks posterior draw "           \
    "floor(u n_draws)); "                                                                     \
    "q = 3: the model of a run under structural uncertainty (first uniform u / 2^32 against " \
    "the cumulative model weights); q = 4: pdsim fit --prior, the Monte Carlo chain c "      \
    "(stream (seed, c, 4)): per iteration one uniform for the integration time, Box-Muller "  \
    "normals for the momentum, one uniform for the acceptance; q = 8: the sub-unit "         \
    "model's coefficient draws (as q = 2)"

#endif
