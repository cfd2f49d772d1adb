/* Sweep files: the input is a sweep file in a folder that holds the test
 * run config (run.yaml), its dataset and its models; loading it checks the
 * parameters against the config and generates the design points. */
#include "fuzz_common.h"
#include "io/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pds_fuzz_link_test_data();
    pds_fuzz_link("run.yaml", PDS_FUZZ_DATA "/run.yaml");
    const char *path = pds_fuzz_write("sweep.yaml", data, size);
    if (!path)
        return 0;
    pds_diag diag;
    pds_diag_init(&diag);
    pds_sweep_free(pds_sweep_load(path, &diag));
    pds_diag_free(&diag);
    return 0;
}
