/* The CSV reader and the dataset loader. The first byte picks which file
 * of a valid dataset (tests/data/small) the rest of the input replaces (or
 * a neighbour-weights file, or the dataset.yaml manifest), and whether sea
 * links are on; the loader then reads the whole folder. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "io/csvtab.h"
#include "io/dataset.h"

static const char *const files[] = {"units.csv",          "contiguity.csv", "subunits.csv",
                                    "subunit_counts.csv", "documents.csv",  "panel.csv",
                                    "weights.csv",        "dataset.yaml"};
#define N_FILES (sizeof files / sizeof files[0])
#define N_DATA 6   /* the files of tests/data/small */
#define WEIGHTS 6  /* not in the dataset: named by the options */
#define MANIFEST 7 /* present only when fuzzed */

static void write_dataset(size_t fuzzed, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < N_FILES; i++) {
        if (i == fuzzed)
            pds_fuzz_write(files[i], data, size);
        else if (i == MANIFEST)
            unlink(pds_fuzz_path(files[i]));
        else if (i < N_DATA) {
            char name[64];
            size_t n;
            snprintf(name, sizeof name, "small/%s", files[i]);
            const uint8_t *d = pds_fuzz_test_file(name, &n);
            pds_fuzz_write(files[i], d, n);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = data[0] % N_FILES;
    int sea = (data[0] / N_FILES) & 1;
    write_dataset(which, data + 1, size - 1);

    /* the reader alone, with the strict number parsers on every cell */
    pds_diag diag;
    pds_diag_init(&diag);
    pds_csvtab *t = pds_csvtab_read(pds_fuzz_path(files[which]), &diag);
    if (t) {
        for (size_t r = 0; r < t->n_rows; r++) {
            for (size_t c = 0; c < t->n_cols; c++) {
                long l;
                double d;
                pds_parse_long(pds_csvtab_cell(t, r, c), &l);
                pds_parse_double(pds_csvtab_cell(t, r, c), &d);
            }
        }
        pds_csvtab_free(t);
    }
    pds_diag_free(&diag);

    /* the whole folder */
    pds_diag_init(&diag);
    pds_dataset_options opt = {.sea_links = sea,
                               .neighbour_weights =
                                   which == WEIGHTS ? pds_fuzz_path("weights.csv") : NULL};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", pds_fuzz_dir());
    pds_world *w = pds_dataset_load(dir, &opt, &diag);
    pds_world_free(w);
    pds_diag_free(&diag);
    return 0;
}
