#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

pds_model *pds_model_create(void)
{
    pds_model *m = calloc(1, sizeof *m);
    if (m)
        m->lag = 1;
    return m;
}

void pds_model_free(pds_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_terms; i++) {
        free(m->terms[i].name);
        free(m->terms[i].variable);
    }
    free(m->terms);
    free(m->cov);
    free(m->post_draws);
    free(m->post_draws_path);
    free(m->name);
    free(m->path);
    free(m->description);
    free(m->source);
    free(m);
}

static const char *const kind_names[] = {
    NULL, "central_documents", "neighbours_adopted_pct", "subunits_adopted_pct",
    "parent_adopted", "siblings_adopted_pct", "year", "document_stock", "recent_documents",
    "years_since_first_document",
};

const char *pds_term_kind_name(pds_term_kind k)
{
    if ((size_t)k >= sizeof kind_names / sizeof kind_names[0])
        return NULL;
    return kind_names[k];
}

int pds_term_kind_parse(const char *s, pds_term_kind *k)
{
    for (size_t i = 1; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(s, kind_names[i]) == 0) {
            *k = (pds_term_kind)i;
            return 0;
        }
    }
    return -1;
}

double pds_link_inverse(pds_link link, double eta)
{
    if (isnan(eta))
        return 0.0;
    if (link == PDS_LINK_CLOGLOG) {
        if (eta > 40.0)
            return 1.0;
        return -expm1(-exp(eta));
    }
    if (eta >= 0.0)
        return 1.0 / (1.0 + exp(-eta));
    double e = exp(eta);
    return e / (1.0 + e);
}
