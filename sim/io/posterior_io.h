/* The `posterior:` block of a model file written by `pdsim fit --prior`, and
 * its draws file (CSV beside the model). See docs/model-format.md. */
#ifndef PDS_POSTERIOR_IO_H
#define PDS_POSTERIOR_IO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/model.h"
#include "yamldoc.h"

#define PDS_POSTERIOR_N_LISTS 7 /* mean, sd, q05, q50, q95, rhat, ess */

typedef struct pds_posterior_doc {
    int present;
    long line, col;            /* of the block */
    char *method, *prior, *draws_file;
    long chains, warmup, draws;
    uint64_t seed;
    size_t list_len[PDS_POSTERIOR_N_LISTS]; /* numbers in each list; 0 when absent */
    long list_line[PDS_POSTERIOR_N_LISTS];
} pds_posterior_doc;

/* Parse the block (a custom key of the model table). 0, or -1 with diag. */
int pds_posterior_parse(pds_yaml *y, yaml_node_t *n, pds_posterior_doc *pd, pds_diag *diag);
/* Once the terms are known: check the lists' lengths and read the draws file
 * (relative to the model file) into m. 0, or -1 with every problem in diag. */
int pds_posterior_finish(const pds_posterior_doc *pd, pds_model *m, const char *model_path,
                         pds_diag *diag);
void pds_posterior_doc_free(pds_posterior_doc *pd);

#endif
