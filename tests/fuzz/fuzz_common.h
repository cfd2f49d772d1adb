/* Shared by the fuzz harnesses: the parsers read files, so each input is
 * written to a file in a private scratch folder first. */
#ifndef PDS_FUZZ_COMMON_H
#define PDS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's scratch folder (created on first use, removed at exit). */
const char *pds_fuzz_dir(void);
/* dir/name, in a static buffer that the next call overwrites. */
const char *pds_fuzz_path(const char *name);
/* Write size bytes to dir/name; returns the path or NULL. */
const char *pds_fuzz_write(const char *name, const uint8_t *data, size_t size);
/* Make dir/name a symbolic link to target (once). */
void pds_fuzz_link(const char *name, const char *target);

/* Load a run config with pds_setup_load (config, dataset, models, checks)
 * and, when it loads, simulate run 0 and run 1. */
void pds_fuzz_setup_and_run(const char *config_path);
/* Make the scratch folder hold the test dataset as small/ (and data/) and the test
 * models as model.yaml and city_model.yaml. */
void pds_fuzz_link_test_data(void);
/* The contents of a file under the test data folder, read once. */
const uint8_t *pds_fuzz_test_file(const char *name, size_t *size);
#endif
