#include "posterior_io.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "csvtab.h"

static const char *const list_names[PDS_POSTERIOR_N_LISTS] = {"mean", "sd",   "q05", "q50",
                                                              "q95",  "rhat", "ess"};

static int parse_list(pds_yaml *y, yaml_node_t *n, pds_posterior_doc *pd, int which,
                      pds_diag *diag)
{
    char what[64];
    snprintf(what, sizeof what, "posterior.%s", list_names[which]);
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "%s: expected a list of numbers (intercept first)", what);
        return -1;
    }
    int bad = 0;
    size_t k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++, k++) {
        double v;
        char w2[80];
        snprintf(w2, sizeof w2, "%s[%zu]", what, k);
        if (pds_yaml_double(y, pds_yaml_node(y, *it), w2, &v, diag) != 0)
            bad = 1;
    }
    pd->list_len[which] = k;
    pd->list_line[which] = pds_yaml_line(n);
    return bad ? -1 : 0;
}

#define LIST_FN(i)                                                                                 \
    static int parse_list_##i(pds_yaml *y, yaml_node_t *n, void *t, pds_diag *d)                   \
    {                                                                                              \
        return parse_list(y, n, t, i, d);                                                          \
    }
LIST_FN(0)
LIST_FN(1)
LIST_FN(2)
LIST_FN(3)
LIST_FN(4)
LIST_FN(5)
LIST_FN(6)

#define OFF(f) offsetof(pds_posterior_doc, f)
static const pds_key post_keys[] = {
    {"method", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(method), NULL, "sampler", NULL},
    {"prior", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(prior), NULL, "the prior, in words", NULL},
    {"chains", PDS_KEY_INT, 1, 1, 1000, NULL, NULL, OFF(chains), NULL, "chains", NULL},
    {"warmup", PDS_KEY_INT, 0, 0, 10000000, "0", NULL, OFF(warmup), NULL,
     "warmup iterations per chain", NULL},
    {"draws", PDS_KEY_INT, 1, 1, 10000000, NULL, NULL, OFF(draws), NULL, "draws per chain", NULL},
    {"seed", PDS_KEY_U64, 0, 0, 1.9e19, "1", NULL, OFF(seed), NULL, "seed of the chains", NULL},
    {"draws_file", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, OFF(draws_file), NULL,
     "CSV of the draws (chain, draw, (Intercept), terms...), relative to the model file", NULL},
    {"mean", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_0, "posterior means", "list"},
    {"sd", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_1, "posterior sds", "list"},
    {"q05", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_2, "5% quantiles", "list"},
    {"q50", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_3, "medians", "list"},
    {"q95", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_4, "95% quantiles", "list"},
    {"rhat", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_5, "R-hat", "list"},
    {"ess", PDS_KEY_CUSTOM, 0, 0, 0, NULL, NULL, 0, parse_list_6, "bulk ESS", "list"},
};
#define N_POST_KEYS (sizeof post_keys / sizeof post_keys[0])

int pds_posterior_parse(pds_yaml *y, yaml_node_t *n, pds_posterior_doc *pd, pds_diag *diag)
{
    pd->present = 1;
    pd->line = pds_yaml_line(n);
    pd->col = pds_yaml_col(n);
    return pds_yaml_parse_map(y, n, post_keys, N_POST_KEYS, pd, "posterior", diag) == 0 ? 0 : -1;
}

void pds_posterior_doc_free(pds_posterior_doc *pd)
{
    pds_yaml_free_fields(post_keys, N_POST_KEYS, pd);
}

int pds_posterior_finish(const pds_posterior_doc *pd, pds_model *m, const char *model_path,
                         pds_diag *diag)
{
    size_t p = m->n_terms + 1;
    int bad = 0;
    for (int i = 0; i < PDS_POSTERIOR_N_LISTS; i++)
        if (pd->list_len[i] && pd->list_len[i] != p) {
            pds_diag_add(diag, model_path, pd->list_line[i], 0,
                         "posterior.%s: expected %zu numbers (intercept and %zu terms), got %zu",
                         list_names[i], p, m->n_terms, pd->list_len[i]);
            bad = 1;
        }
    if (bad || !pd->draws_file)
        return -1;
    char *path = pds_path_relative_to(model_path, pd->draws_file);
    if (!path)
        return -1;
    size_t before = diag->n;
    pds_csvtab *t = pds_csvtab_read_max(path, PDS_CSV_MAX_ROWS, "posterior draws", diag);
    if (!t) {
        if (diag->n == before)
            pds_diag_add(diag, path, 0, 0, "cannot read the posterior draws");
        pds_diag_add(diag, model_path, pd->line, pd->col,
                     "posterior.draws_file: the draws file \"%s\" cannot be read (above)",
                     pd->draws_file);
        free(path);
        return -1;
    }
    int hdr = t->n_cols == p + 2 && strcmp(t->header[0], "chain") == 0 &&
              strcmp(t->header[1], "draw") == 0 && strcmp(t->header[2], "(Intercept)") == 0;
    for (size_t j = 0; hdr && j < m->n_terms; j++)
        hdr = strcmp(t->header[j + 3], m->terms[j].name) == 0;
    if (!hdr) {
        pds_diag_add(diag, path, 1, 0,
                     "expected the header chain,draw,(Intercept) and then the %zu term names of "
                     "%s in order",
                     m->n_terms, model_path);
        bad = 1;
    }
    size_t want = (size_t)pd->chains * (size_t)pd->draws;
    if (!bad && t->n_rows != want) {
        pds_diag_add(diag, path, t->n_rows ? t->line[t->n_rows - 1] : 1, 0,
                     "expected chains x draws = %ld x %ld = %zu rows of draws (posterior block "
                     "of %s), got %zu",
                     pd->chains, pd->draws, want, model_path, t->n_rows);
        bad = 1;
    }
    double *draws = bad ? NULL : malloc(want * p * sizeof *draws);
    if (!bad && !draws)
        bad = 1;
    for (size_t r = 0; !bad && r < t->n_rows; r++) {
        long ch, dr;
        int rb = pds_csvtab_int(t, r, 0, 1, pd->chains, 0, &ch, diag) != 0;
        rb |= pds_csvtab_int(t, r, 1, 1, pd->draws, 0, &dr, diag) != 0;
        for (size_t j = 0; j < p; j++)
            rb |= pds_csvtab_num(t, r, (long)(j + 2), 0, &draws[r * p + j], diag) != 0;
        if (rb)
            bad = 1;
        if (diag->n > before + 20)
            break;
    }
    pds_csvtab_free(t);
    if (bad) {
        free(draws);
        free(path);
        return -1;
    }
    m->post_draws = draws;
    m->n_post_draws = want;
    m->post_draws_path = path;
    return 0;
}
