/* A study file (YAML): a baseline run config, the scenario configs to
 * compare with it, and where the study's results go. pdsim study runs them,
 * compares each scenario with the baseline, writes the CSV exports and the
 * report, and skips each step whose inputs are unchanged since it last ran.
 * One key table drives parsing, `pdsim help study` and docs/study.md. */
#ifndef PDS_STUDY_H
#define PDS_STUDY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "yamldoc.h"

#define PDS_STUDY_MAX_SCENARIOS 64

typedef struct pds_study {
    char *path;       /* the study file, as given */
    char *baseline;   /* as written */
    char *output;     /* as written; NULL = default */
    char *scenario_list[PDS_STUDY_MAX_SCENARIOS]; /* as written */
    size_t n_scenarios;
    uint64_t runs;    /* 0 = each config's own */
    long jobs;        /* concurrent runs; 0 = as the cores allow */
    int report;       /* draw the report */
    /* resolved against the study file's folder */
    char *baseline_path;
    char *scenario_path[PDS_STUDY_MAX_SCENARIOS];
    char *output_dir;
} pds_study;

extern const pds_key pds_study_keys[];
extern const size_t pds_n_study_keys;

/* NULL on error, with every problem in diag. */
pds_study *pds_study_load(const char *path, pds_diag *diag);
void pds_study_free(pds_study *s);

/* The short name of a config: its file name without folder and .yaml. Owned. */
char *pds_study_name(const char *config_path);

/* The attributes of a result file of pdsim run that tell whether it is
 * complete and what it was made from. 0 when readable (a finished or a
 * partial file), -1 otherwise. */
typedef struct pds_result_stamp {
    int complete;
    uint64_t n_runs, runs_done;
    char input_hash[64];
} pds_result_stamp;
int pds_result_stamp_read(const char *path, pds_result_stamp *st);

/* A small text file holding one line: the key of the inputs a step was
 * made from. Read: 0 and the key in out, or -1. Write: under a temporary
 * name (O_EXCL), then renamed; 0 or -1. */
int pds_stamp_read(const char *path, char *out, size_t size);
int pds_stamp_write(const char *path, const char *key);

#endif
