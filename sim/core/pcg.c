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
    /* threshold = 2^32 mod bound; values below it would bias the result */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = pds_pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

void pds_pcg32_stream(pds_pcg32 *rng, uint64_t seed, uint64_t run, uint64_t purpose)
{
    uint64_t k = pds_mix64(pds_mix64(pds_mix64(seed) ^ run) ^ purpose);
    pds_pcg32_seed(rng, k, pds_mix64(k ^ PDS_RNG_INC_KEY));
}
