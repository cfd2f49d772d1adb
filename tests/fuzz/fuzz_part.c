/* The reader of sweep part files and the merge: the input is the only part
 * of a sweep in a folder (part-0000-of-0001.h5), merged as `pdsim merge`
 * does, then the Sobol indices of the merged file read as `report` does. */
#include <hdf5.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "io/sweep_h5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[4096], out[4096];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s", pds_fuzz_path("parts"));
        mkdir(dir, 0700);
        snprintf(out, sizeof out, "%s", pds_fuzz_path("merged.h5"));
    }
    const char *part = pds_fuzz_write("parts/part-0000-of-0001.h5", data, size);
    if (!part)
        return 0;
    unlink(out);
    pds_diag diag;
    pds_diag_init(&diag);
    const char *inputs[1] = {dir};
    H5E_BEGIN_TRY
    {
        if (pds_sweep_merge(inputs, 1, out, &diag) == PDS_OK) {
            pds_sweep_indices ix;
            if (pds_sweep_indices_read(out, &ix) == 0)
                pds_sweep_indices_free(&ix);
        }
    }
    H5E_END_TRY;
    pds_diag_free(&diag);
    return 0;
}
