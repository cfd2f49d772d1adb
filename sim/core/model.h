/* Hazard models: link^-1(intercept + sum coef * x). A term is either a panel
 * variable (optionally logged) or a dynamic variable computed each simulated
 * year from the state at the end of the previous year. */
#ifndef PDS_MODEL_H
#define PDS_MODEL_H

#include <stddef.h>

typedef enum pds_link { PDS_LINK_LOGIT = 0, PDS_LINK_CLOGLOG = 1 } pds_link;

typedef enum pds_term_kind {
    PDS_TERM_PANEL = 0,          /* a panel variable, lagged */
    PDS_TERM_DOCUMENTS,          /* weighted central documents issued through t - lag */
    PDS_TERM_NEIGHBOURS_PCT,     /* % of contiguous units adopted (0-100) */
    PDS_TERM_SUBUNITS_PCT,       /* % of the unit's sub-units adopted (0-100) */
    PDS_TERM_PARENT_ADOPTED,     /* sub-unit models: parent unit adopted (0/1) */
    PDS_TERM_SIBLINGS_PCT,       /* sub-unit models: % of the other sub-units of the parent adopted */
    PDS_TERM_YEAR                /* calendar time trend: outcome year - PDS_YEAR_ORIGIN */
} pds_term_kind;

/* Origin of the `year` trend, so that intercepts stay on a readable scale. */
#define PDS_YEAR_ORIGIN 2000

typedef enum pds_transform { PDS_TRANSFORM_NONE = 0, PDS_TRANSFORM_LOG = 1 } pds_transform;

typedef struct pds_term {
    char *name;           /* owned; label in reports */
    pds_term_kind kind;
    char *variable;       /* owned; panel variable name (PDS_TERM_PANEL only) */
    pds_transform transform;
    double coef;          /* coefficient on the linear-predictor scale */
    double se;            /* standard error; 0 when the value is assumed */
    long line;            /* line of the term in the model file; 0 when built in code */
} pds_term;

typedef struct pds_model {
    char *name;         /* owned */
    char *path;         /* owned: the file it was loaded from; NULL when built in code */
    char *description;  /* owned, may be NULL */
    char *source;       /* owned, may be NULL */
    pds_link link;
    int lag;            /* years between covariates and outcome; >= 1 */
    double intercept;
    double intercept_se;
    size_t n_terms;
    pds_term *terms;    /* owned */
    double *cov;        /* owned, (n_terms+1)^2, intercept first; NULL if not given */
} pds_model;

pds_model *pds_model_create(void);
void pds_model_free(pds_model *m);

/* Dynamic variable names as written in model files; NULL for PDS_TERM_PANEL. */
const char *pds_term_kind_name(pds_term_kind k);
/* Parse a dynamic variable name; returns 0 and sets *k, or -1 if unknown. */
int pds_term_kind_parse(const char *s, pds_term_kind *k);

/* link^-1(eta), numerically safe for any finite or infinite eta: in [0, 1]. */
double pds_link_inverse(pds_link link, double eta);

#endif
