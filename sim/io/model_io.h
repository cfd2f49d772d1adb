/* Hazard model files (YAML). See docs/model-format.md. */
#ifndef PDS_MODEL_IO_H
#define PDS_MODEL_IO_H

#include "../core/diag.h"
#include "../core/model.h"

/* NULL on error, with every problem in diag. */
pds_model *pds_model_load(const char *path, pds_diag *diag);

#endif
