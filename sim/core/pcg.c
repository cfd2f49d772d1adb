#include "pcg.h"

void pds_pcg32_seed(pds_pcg32 *rng, uint64_t initstate, uint64_t initseq)
{
    rng->state = 0U;
    rng->inc = (initseq << 1u) | 1u;
    (void)pds_pcg32_next(rng);
    rng->state += initstate;
    (void)pds_pcg32_next(rng);
}

uint32_t pds_pcg32_bounded(pds_pcg32 *rng, uint32_t bound)
{
    /* threshold = 2^32 mod bound; values below it would bias the result.
     * threshold < bound, so a draw at or above bound needs no division to
     * be accepted. */
    for (;;) {
        uint32_t r = pds_pcg32_next(rng);
        if (r >= bound || r >= (uint32_t)(-bound) % bound)
            return r % bound;
    }
}

void pds_pcg32_stream(pds_pcg32 *rng, uint64_t seed, uint64_t run, uint64_t purpose)
{
    uint64_t k = pds_mix64(pds_mix64(pds_mix64(seed) ^ run) ^ purpose);
    pds_pcg32_seed(rng, k, pds_mix64(k ^ PDS_RNG_INC_KEY));
}

uint64_t pds_pcg32_advance_state(uint64_t state, uint64_t inc, uint64_t delta)
{
    /* square-and-multiply on the affine map s -> a s + c */
    uint64_t acc_mult = 1u, acc_plus = 0u, cur_mult = PDS_PCG32_MULT, cur_plus = inc;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1u) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1u;
    }
    return acc_mult * state + acc_plus;
}

void pds_pcg32_jump_table(uint64_t *mult, uint64_t *gsum, uint64_t n)
{
    uint64_t m = 1u, g = 0u;
    for (uint64_t d = 0; d < n; d++) {
        mult[d] = m;
        gsum[d] = g;
        g = g * PDS_PCG32_MULT + 1u;
        m *= PDS_PCG32_MULT;
    }
}
