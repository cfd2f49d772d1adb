/* Files written by `pdsim fit`: the fitted model (YAML for pdsim run), the
 * unit-year table, fitted hazards per row, and machine-readable results
 * (tidy and glance CSV with R broom's column names, JSON). Every file is
 * written to a temporary name created with O_EXCL beside it and renamed
 * into place when complete; a target that is one of the inputs is refused. */
#ifndef PDS_FIT_OUT_H
#define PDS_FIT_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "../core/bayes.h"
#include "../core/diag.h"
#include "../core/fit.h"
#include "../core/model.h"
#include "../core/pp.h"
#include "../core/world.h"
#include "outfile.h"

/* One fitted model, everything the writers need. */
typedef struct pds_fit_report {
    const pds_model *spec;
    const pds_pp_table *pp;
    const pds_fit_result *res; /* NULL when the fit failed */
    const char *const *colnames; /* [p] name of each column of the design,
                                    "(Intercept)" for the intercept */
    pds_link link;
    int firth;
    const char *cluster;  /* the clustering variable under PDS_VCOV_CLUSTER, else NULL */
    const double *ame;    /* [p] or NULL when not computed */
    const double *ame_se; /* [p] */
    /* a Bayesian fit (fit --prior; res holds the posterior mode and the
     * Laplace covariance); all NULL / 0 otherwise */
    const pds_prior *prior;
    const pds_mcmc_result *mcmc;
    const char *prior_desc;  /* the prior in words */
    const char *draws_file;  /* the draws file as the model names it (relative to it) */
    size_t warmup;           /* per chain */
    uint64_t seed;           /* of the chains */
} pds_fit_report;

/* A likelihood-ratio test of model `small` nested in model `big` (indices). */
typedef struct pds_fit_lrtest {
    size_t small, big;
    double statistic, p_value;
    int df;
} pds_fit_lrtest;

/* The writers (to an open stream; 0, or -1 on a write error). */
int pds_fit_write_model(FILE *o, const pds_fit_report *f, const char *dataset);
/* The posterior draws of a Bayesian fit: chain,draw,(Intercept),terms... */
int pds_fit_write_draws(FILE *o, const pds_fit_report *f);
int pds_fit_write_table(FILE *o, const pds_fit_report *f, const pds_world *w);
int pds_fit_write_hazards(FILE *o, const pds_fit_report *f, size_t nf, const pds_world *w);
int pds_fit_write_tidy(FILE *o, const pds_fit_report *f, size_t nf);
int pds_fit_write_glance(FILE *o, const pds_fit_report *f, size_t nf);
int pds_fit_write_json(FILE *o, const pds_fit_report *f, size_t nf, const pds_fit_lrtest *lr,
                       size_t nlr, const char *dataset);

/* Short names used in every output. */
const char *pds_fit_link_name(pds_link link);
const char *pds_fit_vcov_name(pds_fit_vcov v);
const char *pds_fit_info_name(pds_fit_info i);

#endif
