/* Load a dataset folder into a world. Files (CSV, header row, UTF-8):
 *   units.csv           code,name,region,adoption_year           (required)
 *   contiguity.csv      unit_a,unit_b[,type]                     (optional)
 *   subunits.csv        code,name,parent,adoption_year           (optional)
 *   subunit_counts.csv  unit,year,adopted                        (optional)
 *   documents.csv       year,count[,weight]                      (optional)
 *   panel.csv           unit,year,<variables...>                 (optional)
 * Extra columns are allowed and ignored; panel columns ending in
 * "_provenance" are text. Blank adoption_year = not adopted. */
#ifndef PDS_DATASET_H
#define PDS_DATASET_H

#include "../core/diag.h"
#include "../core/world.h"

typedef struct pds_dataset_options {
    int sea_links; /* also use contiguity rows of type "sea" */
    const char *neighbour_weights; /* CSV unit_a,unit_b,weight replacing contiguity.csv; NULL */
} pds_dataset_options;

/* NULL on error, with every problem found in diag (PDS_ERR_INPUT), or on
 * out-of-memory (a message too). */
pds_world *pds_dataset_load(const char *dir, const pds_dataset_options *opt, pds_diag *diag);

#endif
