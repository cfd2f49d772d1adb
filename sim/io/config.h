/* Run configuration (YAML). One key table drives parsing, validation,
 * `pdsim help config` and docs/config.md. Paths in a config are relative
 * to the config file's folder. */
#ifndef PDS_CONFIG_H
#define PDS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/engine.h"
#include "yamldoc.h"

#define PDS_MAX_REPORT_YEARS 16
#define PDS_MAX_MODELS 16 /* unit models of one config (models:) */

/* A scenario: changes to the baseline, run with the same seed so that the
 * differences are paired. */
typedef struct pds_scenario_forced {
    char *unit;  /* owned unit code */
    int year;
    long line;   /* in the config, for errors */
    const char *file; /* the config file that says it (one of sources) */
} pds_scenario_forced;

typedef struct pds_scenario_shock {
    char *unit;      /* owned unit code, or "*" for every unit */
    char *variable;  /* owned panel variable */
    int from, to;    /* covariate years */
    int add;         /* 1 add, 0 set */
    double amount;
    long line;
    const char *file; /* the config file that says it (one of sources) */
} pds_scenario_shock;

typedef struct pds_run_scenario {
    char *name;                   /* owned; NULL = no scenario */
    pds_document *documents;      /* owned: extra central documents (count x weight) */
    size_t n_documents;
    double *document_count;       /* owned: count of each extra document entry, as written */
    double *document_weight;      /* owned: weight of each, as written */
    pds_scenario_forced *forced;  /* owned */
    size_t n_forced;
    pds_scenario_shock *shocks;   /* owned: covariate paths and shocks */
    size_t n_shocks;
    int documents_channel;        /* 0 = central-document terms switched off */
    int neighbours_channel;       /* 0 = neighbour terms switched off */
    int subunits_channel;         /* 0 = sub-unit share and sub-unit model terms off */
} pds_run_scenario;

typedef struct pds_run_config {
    char *path;              /* the config file, as given */
    char *text;              /* its text, stored in the output */
    char *extends;           /* the config it extends, as written; NULL = none */
    char **sources;          /* owned: canonical paths of the config and of every config it
                              * extends, the config itself first */
    size_t n_sources;
    char *resolved;          /* owned: every setting after extends, as YAML (pds_run_config_dump) */
    int replace;             /* an existing output may be replaced */
    char *dataset;           /* dataset folder, as written */
    char *model;             /* unit model file, as written */
    char *subunit_model;     /* sub-unit model file, as written; NULL = none */
    char *output;            /* output file, as written; NULL = default */
    char *dataset_path;      /* resolved paths: canonical (realpath) when the file exists,
                              * each relative to the config file that names it */
    char *model_path;
    char *subunit_model_path;
    char *output_path;       /* resolved; default output/<config name>.h5 under the cwd */
    long base_year;          /* last observed year */
    long horizon;            /* last simulated year */
    uint64_t runs;           /* Monte Carlo runs */
    uint64_t seed;           /* base seed */
    long threads;            /* 0 = all cores */
    long chunk_runs;         /* runs per HDF5 chunk and per buffer; 0 = by bytes */
    int store_subunit_years; /* write /runs/city_adoption_year */
    int sea_links;           /* use contiguity rows of type sea */
    char *neighbour_weights; /* weights file as written; NULL = contiguity.csv */
    char *neighbour_weights_path; /* resolved */
    long report_years[PDS_MAX_REPORT_YEARS];
    size_t n_report_years;
    pds_projection default_proj;
    pds_projection *proj;    /* owned, variable names owned */
    size_t n_proj;
    int uncertainty;         /* 0 none, 1 coefficients drawn per run, 2 a posterior draw per run */
    int intercept_recalibration; /* 0 none, 1 in-sample: shift the unit model's intercept */
    pds_run_scenario scenario;
    /* structural uncertainty: several unit models with weights (`models:`);
     * n_models = 0 when the config names one `model:` */
    size_t n_models;
    char **models;           /* owned: model files, as written */
    char **models_path;      /* owned: resolved */
    double *model_weights;   /* owned: normalised to sum 1 */
    long models_line;        /* line of `models:`, for errors */
    /* the rolling-origin backtest run writes beside the forecast
     * (`reliability:`): origins ending two years before base_year */
    struct {
        long origins;        /* number of origins; 0 = none */
        uint64_t runs;       /* Monte Carlo runs per origin */
        int refit;           /* refit the model(s) at each origin */
    } reliability;
} pds_run_config;

extern const pds_key pds_run_config_keys[];
extern const size_t pds_n_run_config_keys;
extern const pds_key pds_projection_keys[];
extern const size_t pds_n_projection_keys;

/* NULL on error, with every problem found in diag. */
pds_run_config *pds_run_config_load(const char *path, pds_diag *diag);
void pds_run_config_free(pds_run_config *c);

/* Every setting of c as YAML text that pdsim reads back as the same config
 * (paths canonical). With full, also output and threads, which do not change
 * the results. Owned. */
char *pds_run_config_dump(const pds_run_config *c, int full);

/* "output/<file name without folder and .yaml/.yml><suffix>", the default
 * output of a config or sweep file. Owned. */
char *pds_default_output(const char *config, const char *suffix);

/* Resolve rel against the folder of file (absolute rel unchanged). Owned. */
char *pds_path_relative_to(const char *file, const char *rel);

#endif
