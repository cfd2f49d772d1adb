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
    PDS_TERM_YEAR,               /* calendar time trend: outcome year - PDS_YEAR_ORIGIN */
    PDS_TERM_DOCUMENT_STOCK,     /* documents through t - lag, each decayed by its age */
    PDS_TERM_RECENT_DOCUMENTS,   /* documents issued in (t - lag - window, t - lag] */
    PDS_TERM_YEARS_SINCE_FIRST,  /* years from the first document to t - lag (0 before it),
                                  * or a period dummy or spline basis column of it */
    PDS_TERM_UNIT_ATTR,          /* a column of the units file, constant over the years */
    PDS_TERM_INTERACTION         /* the product of its factors' values */
} pds_term_kind;

/* Whether a term kind is computed from the document timeline. */
static inline int pds_term_kind_is_documentary(pds_term_kind k)
{
    return k == PDS_TERM_DOCUMENTS || k == PDS_TERM_DOCUMENT_STOCK ||
           k == PDS_TERM_RECENT_DOCUMENTS || k == PDS_TERM_YEARS_SINCE_FIRST;
}

/* The channel bit of a term kind in a switched-off mask (pds_sim_options
 * channels_off): every document-derived kind answers to the bit of
 * PDS_TERM_DOCUMENTS, so switching documents off switches all of them off. */
static inline unsigned pds_term_channel_bit(pds_term_kind k)
{
    return 1u << (pds_term_kind_is_documentary(k) ? PDS_TERM_DOCUMENTS : k);
}

struct pds_term;
/* The channel bits of a term: an interaction answers to the channels of all
 * its factors (switching one off makes the product 0). */
unsigned pds_term_channels(const struct pds_term *t);

/* Origin of the `year` trend, so that intercepts stay on a readable scale. */
#define PDS_YEAR_ORIGIN 2000

typedef enum pds_transform {
    PDS_TRANSFORM_NONE = 0,
    PDS_TRANSFORM_LOG = 1,  /* log(x): panel variables */
    PDS_TRANSFORM_LOG1P = 2 /* log(1 + x): panel variables and the document forms */
} pds_transform;

/* Most knots of a duration spline. */
#define PDS_SPLINE_MAX_KNOTS 10

typedef struct pds_term {
    char *name;           /* owned; label in reports */
    pds_term_kind kind;
    char *variable;       /* owned; panel variable name (PDS_TERM_PANEL only) */
    pds_transform transform;
    double coef;          /* coefficient on the linear-predictor scale */
    double se;            /* standard error; 0 when the value is assumed */
    double half_life;     /* document_stock: years for a document's weight to halve (> 0) */
    int window;           /* recent_documents: years counted (>= 1) */
    int has_interval;     /* years_since_first_document: 1 = the period dummy of [lo, hi] */
    double lo, hi;        /* the period, years since the first document, inclusive */
    int n_knots;          /* years_since_first_document: > 0 = a natural cubic spline basis
                           * column of the duration, with these knots (ascending, >= 3) */
    double knots[PDS_SPLINE_MAX_KNOTS];
    int basis;            /* the column: 1 = the duration itself, 2 .. n_knots - 1 the
                           * nonlinear ones */
    char *unit_attr;      /* owned; PDS_TERM_UNIT_ATTR: the units-file column */
    char *level;          /* owned, may be NULL: the term is the dummy "value == level" of its
                           * panel variable or unit attribute (text compared for unit
                           * attributes, the number for panel variables) */
    int factor;           /* a specification only: pds_model_expand_factors replaces it by one
                           * level term per level but the reference */
    char *reference;      /* owned; the factor's reference level */
    int has_lag;          /* 1: `lag` overrides the model's lag for this term */
    int lag;              /* >= 0 */
    int power;            /* year: the trend to this power (0 or 1 = linear) */
    int fixed;            /* the coefficient is given, not estimated (an offset in fit) */
    size_t n_factors;     /* PDS_TERM_INTERACTION: the factors, owned copies */
    struct pds_term *factors;
    long line;            /* line of the term in the model file; 0 when built in code */
} pds_term;

/* The lag of a term: its own, else the model's. */
#define PDS_TERM_LAG(m, t) ((t)->has_lag ? (t)->lag : (m)->lag)

/* Deep copy of a term into *dst; -1 when out of memory (dst then freed). */
int pds_term_copy(pds_term *dst, const pds_term *src);
/* Frees what a term owns (not the term itself). */
void pds_term_clear(pds_term *t);

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
    int spec_only;      /* 1: a pure specification (no coefficients, or factor terms to
                         * expand): fit takes it, run refuses it */
    long spec_line;     /* the line of the first term without a coefficient (1: the
                         * intercept); 0 when every coefficient is given */
    /* posterior draws of a Bayesian fit (pdsim fit --prior); NULL / 0 when none */
    double *post_draws;   /* owned [n_post_draws x (n_terms+1)], intercept first */
    size_t n_post_draws;
    char *post_draws_path; /* owned: the draws file, resolved */
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
