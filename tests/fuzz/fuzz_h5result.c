/* The reader of result files used by compare (and the other readers of
 * results): open and check, then read every run's adoption years in blocks,
 * as compare does, and the sub-units with their first block of years. */
#include <hdf5.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "io/h5util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = pds_fuzz_write("result.h5", data, size);
    if (!path)
        return 0;
    pds_diag diag;
    pds_diag_init(&diag);
    pds_h5result h;
    H5E_BEGIN_TRY
    {
        if (pds_h5result_open(path, &h, &diag) == 0) {
            size_t block = 64;
            int16_t *buf = malloc(block * h.n_units * sizeof *buf);
            /* a file may declare far more runs than it stores (fill values):
             * the first blocks and the last one are enough */
            uint64_t last = h.n_runs > block ? h.n_runs - block : 0;
            for (uint64_t r = 0; buf && r < h.n_runs; r = r < 64 * block ? r + block : last) {
                size_t n = h.n_runs - r < block ? (size_t)(h.n_runs - r) : block;
                if (pds_h5result_read_years(&h, r, n, buf, &diag) != 0 || r == last)
                    break;
            }
            free(buf);
            /* the sub-units compare pairs, and their first block of years */
            pds_h5subunits sub;
            int present = 0;
            if (pds_h5result_subunits_open(&h, &sub, &present, &diag) == 0 && present) {
                size_t n = h.n_runs < block ? (size_t)h.n_runs : block;
                int16_t *sbuf = malloc(n * sub.n * sizeof *sbuf);
                if (sbuf)
                    pds_h5subunits_read_years(&h, &sub, 0, n, sbuf, &diag);
                free(sbuf);
            }
            pds_h5subunits_close(&sub);
        }
        pds_h5result_close(&h);
    }
    H5E_END_TRY;
    pds_diag_free(&diag);
    return 0;
}
