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
    for (size_t i = 0; i < m->n_terms; i++)
        pds_term_clear(&m->terms[i]);
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

static char *dup_or_null(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *d = malloc(strlen(s) + 1);
    if (!d)
        *bad = 1;
    else
        memcpy(d, s, strlen(s) + 1);
    return d;
}

void pds_term_clear(pds_term *t)
{
    free(t->name);
    free(t->variable);
    free(t->unit_attr);
    free(t->level);
    free(t->reference);
    for (size_t i = 0; i < t->n_factors; i++)
        pds_term_clear(&t->factors[i]);
    free(t->factors);
    memset(t, 0, sizeof *t);
}

int pds_term_copy(pds_term *dst, const pds_term *src)
{
    int bad = 0;
    *dst = *src;
    dst->name = dup_or_null(src->name, &bad);
    dst->variable = dup_or_null(src->variable, &bad);
    dst->unit_attr = dup_or_null(src->unit_attr, &bad);
    dst->level = dup_or_null(src->level, &bad);
    dst->reference = dup_or_null(src->reference, &bad);
    dst->factors = NULL;
    dst->n_factors = 0;
    if (src->n_factors) {
        dst->factors = calloc(src->n_factors, sizeof *dst->factors);
        bad |= !dst->factors;
        for (size_t i = 0; !bad && i < src->n_factors; i++) {
            bad |= pds_term_copy(&dst->factors[i], &src->factors[i]) != 0;
            dst->n_factors = i + 1;
        }
    }
    if (bad) {
        pds_term_clear(dst);
        return -1;
    }
    return 0;
}

unsigned pds_term_channels(const pds_term *t)
{
    if (t->kind != PDS_TERM_INTERACTION)
        return pds_term_channel_bit(t->kind);
    unsigned b = 0;
    for (size_t i = 0; i < t->n_factors; i++)
        b |= pds_term_channels(&t->factors[i]);
    return b;
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
