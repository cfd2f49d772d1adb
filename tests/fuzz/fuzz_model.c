/* Model files: the first byte picks whether the rest of the input is the
 * unit model or the sub-unit model of a valid run config on the test
 * dataset; the other model is the valid test model. */
#include <string.h>

#include "fuzz_common.h"

static const char config[] = "dataset: small\n"
                             "model: m_unit.yaml\n"
                             "subunit_model: m_sub.yaml\n"
                             "base_year: 2015\n"
                             "horizon: 2025\n"
                             "runs: 2\n"
                             "uncertainty: coefficients\n"
                             "projection:\n"
                             "  default: {rule: trend, years: 3}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pds_fuzz_link_test_data();
    pds_fuzz_write("m_run.yaml", (const uint8_t *)config, strlen(config));
    size_t n;
    const uint8_t *other;
    if (data[0] & 1) {
        other = pds_fuzz_test_file("model.yaml", &n);
        pds_fuzz_write("m_unit.yaml", other, n);
        pds_fuzz_write("m_sub.yaml", data + 1, size - 1);
    } else {
        other = pds_fuzz_test_file("city_model.yaml", &n);
        pds_fuzz_write("m_sub.yaml", other, n);
        pds_fuzz_write("m_unit.yaml", data + 1, size - 1);
    }
    pds_fuzz_setup_and_run(pds_fuzz_path("m_run.yaml"));
    return 0;
}
