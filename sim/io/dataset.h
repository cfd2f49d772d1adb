/* Load a dataset folder into a world. Files (CSV, header row, UTF-8), by
 * role, with their generic names; an optional dataset.yaml in the folder maps
 * roles to other file names (docs/dataset-format.md):
 *   units.csv           code,name,region,adoption_year           (required)
 *   contiguity.csv      unit_a,unit_b[,type]                     (optional)
 *   subunits.csv        code,name,parent,adoption_year           (optional)
 *   subunit_counts.csv  unit,year,adopted                        (optional)
 *   documents.csv       year,count[,weight]                      (optional)
 *   panel.csv           unit,year,<variables...>                 (optional)
 * Extra columns are allowed and ignored; panel columns ending in
 * "_provenance" are text. Blank adoption_year = not adopted. With a panel,
 * every unit has panel rows for consecutive years, and no observed adoption
 * falls before its first panel year. */
#ifndef PDS_DATASET_H
#define PDS_DATASET_H

#include "../core/diag.h"
#include "../core/world.h"
#include "yamldoc.h"

typedef enum pds_dataset_role {
    PDS_DATASET_UNITS = 0,
    PDS_DATASET_CONTIGUITY,
    PDS_DATASET_SUBUNITS,
    PDS_DATASET_SUBUNIT_COUNTS,
    PDS_DATASET_DOCUMENTS,
    PDS_DATASET_PANEL,
    PDS_DATASET_N_ROLES
} pds_dataset_role;

typedef struct pds_dataset_options {
    int sea_links;                 /* also use contiguity rows of type "sea" */
    const char *neighbour_weights; /* CSV unit_a,unit_b,weight replacing contiguity.csv; NULL */
} pds_dataset_options;

/* NULL on error, with every problem found in diag (PDS_ERR_INPUT), or on
 * out-of-memory (a message too). */
pds_world *pds_dataset_load(const char *dir, const pds_dataset_options *opt, pds_diag *diag);

/* Path of the role's file in dir (manifest or generic name; it may not
 * exist). NULL on a bad manifest (in diag) or out of memory. */
char *pds_dataset_file(const char *dir, pds_dataset_role role, pds_diag *diag);

/* The keys of dataset.yaml, for help and docs. */
const pds_key *pds_dataset_manifest_keys(size_t *n);

#endif
