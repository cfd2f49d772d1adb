/* Run configs, scenario section included: the input is the run.yaml of a
 * folder that holds the test dataset (small/) and the test models
 * (model.yaml, city_model.yaml). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pds_fuzz_link_test_data();
    const char *path = pds_fuzz_write("run.yaml", data, size);
    if (path)
        pds_fuzz_setup_and_run(path);
    return 0;
}
