#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fit.h"
#include "../core/pp.h"
#include "../io/csvtab.h"
#include "../io/dataset.h"
#include "../io/model_io.h"
#include "cli.h"

#define MAX_SPECS 8

typedef struct fitted {
    pds_model *spec;
    pds_pp_table *pp;
    pds_fit_result *res;
    pds_status st;
} fitted;

static const char *stars(double p)
{
    return p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : p < 0.1 ? "+" : "";
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* index of the term called name in spec, or -1; "(constant)" is -2 */
static long term_index(const pds_model *m, const char *name)
{
    for (size_t j = 0; j < m->n_terms; j++)
        if (strcmp(m->terms[j].name, name) == 0)
            return (long)j;
    return -1;
}

static void print_table(fitted *f, size_t nf, const pds_fit_options *opt, const char *dataset)
{
    /* rows: the union of the terms in order of first appearance, then the constant */
    const char *rows[256];
    size_t nr = 0;
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j < f[i].spec->n_terms && nr < 255; j++) {
            size_t k;
            for (k = 0; k < nr; k++)
                if (strcmp(rows[k], f[i].spec->terms[j].name) == 0)
                    break;
            if (k == nr)
                rows[nr++] = f[i].spec->terms[j].name;
        }
    printf("Discrete-time event-history fit (%s link%s%s), dataset %s\n",
           opt->link == PDS_LINK_LOGIT ? "logit" : "cloglog", opt->firth ? ", Firth penalized" : "",
           opt->robust ? ", cluster-robust SE by unit" : "", dataset);
    printf("coefficient (standard error) [odds ratio%s]; + p<0.1, * p<0.05, ** p<0.01, *** p<0.001\n\n",
           opt->link == PDS_LINK_LOGIT ? "" : " = exp(coef)");
    printf("%-24s", "term");
    for (size_t i = 0; i < nf; i++)
        printf(" %-30s", f[i].spec->name);
    putchar('\n');
    for (size_t r = 0; r <= nr; r++) {
        const char *name = r < nr ? rows[r] : "(constant)";
        printf("%-24s", name);
        for (size_t i = 0; i < nf; i++) {
            char cell[64] = "";
            long j = r < nr ? term_index(f[i].spec, name) : -2;
            if (f[i].res && j != -1) {
                size_t c = j == -2 ? 0 : (size_t)j + 1;
                pds_fit_result *x = f[i].res;
                if (j == -2)
                    snprintf(cell, sizeof cell, "%.3f (%.3f)%s", x->beta[c], x->se[c], stars(x->pvalue[c]));
                else
                    snprintf(cell, sizeof cell, "%.3f (%.3f)%s [%.3f]", x->beta[c], x->se[c],
                             stars(x->pvalue[c]), exp(x->beta[c]));
            }
            printf(" %-30s", cell);
        }
        putchar('\n');
    }
    static const char *stat_names[] = {"events",       "unit-years at risk", "units at risk",
                                       "log-likelihood", "-2LL",             "AIC",
                                       "BIC",          "McFadden R2",        "Cox-Snell R2",
                                       "Nagelkerke R2", "iterations"};
    for (size_t s = 0; s < sizeof stat_names / sizeof stat_names[0]; s++) {
        printf("%-24s", stat_names[s]);
        for (size_t i = 0; i < nf; i++) {
            char cell[64] = "";
            pds_fit_result *x = f[i].res;
            if (x) {
                double v[] = {(double)x->n_events, (double)x->n, (double)f[i].pp->n_units_at_risk,
                              x->loglik, x->deviance, x->aic, x->bic, x->r2_mcfadden,
                              x->r2_coxsnell, x->r2_nagelkerke, (double)x->iterations};
                if (s < 3 || s == 10)
                    snprintf(cell, sizeof cell, "%.0f", v[s]);
                else
                    snprintf(cell, sizeof cell, "%.3f", v[s]);
            }
            printf(" %-30s", cell);
        }
        putchar('\n');
    }
    if (nf == 1 && f[0].res) {
        pds_fit_result *x = f[0].res;
        printf("\n%-24s %10s %10s %10s %10s %8s\n", "term", "coef", "se", "z", "p", "VIF");
        for (size_t c = 0; c < x->p; c++)
            printf("%-24s %10.4f %10.4f %10.3f %10.4f %8.2f\n",
                   c == 0 ? "(constant)" : f[0].spec->terms[c - 1].name, x->beta[c], x->se[c],
                   x->z[c], x->pvalue[c], x->vif[c]);
    }
    printf("\nyears at risk %d..%d; units adopted before %d are not at risk (%zu)\n",
           f[0].pp ? f[0].pp->first_year : 0, f[0].pp ? f[0].pp->last_year : 0,
           f[0].pp ? f[0].pp->first_year : 0, f[0].pp ? f[0].pp->n_left_censored : 0);
}

static void yaml_str(FILE *o, const char *key, const char *v)
{
    fprintf(o, "%s: \"", key);
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', o);
        fputc(*p == '\n' ? ' ' : *p, o);
    }
    fputs("\"\n", o);
}

static int write_model(const char *path, const fitted *f, const pds_fit_options *opt,
                       const char *dataset)
{
    char *tmp = malloc(strlen(path) + 32);
    if (!tmp)
        return -1;
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *o = fopen(tmp, "w");
    if (!o) {
        free(tmp);
        return errno ? errno : EIO;
    }
    const pds_model *m = f->spec;
    const pds_fit_result *x = f->res;
    char buf[1024];
    fprintf(o, "# Fitted by pdsim fit: %zu events in %zu unit-years at risk (%d..%d), %zu units\n",
            x->n_events, x->n, f->pp->first_year, f->pp->last_year, f->pp->n_units_at_risk);
    fprintf(o, "# log-likelihood %.6f, -2LL %.6f, AIC %.6f, BIC %.6f\n", x->loglik, x->deviance,
            x->aic, x->bic);
    fprintf(o, "# pseudo-R2: McFadden %.6f, Cox-Snell %.6f, Nagelkerke %.6f\n", x->r2_mcfadden,
            x->r2_coxsnell, x->r2_nagelkerke);
    yaml_str(o, "name", m->name);
    snprintf(buf, sizeof buf, "%s, estimated by pdsim fit", m->description ? m->description : m->name);
    yaml_str(o, "description", buf);
    snprintf(buf, sizeof buf, "pdsim fit on %s, years %d..%d, %s%s%s; specification from %s", dataset,
             f->pp->first_year, f->pp->last_year, opt->link == PDS_LINK_LOGIT ? "logit" : "cloglog",
             opt->firth ? ", Firth penalized likelihood" : "",
             opt->robust ? ", cluster-robust covariance by unit" : "", m->path ? m->path : "?");
    yaml_str(o, "source", buf);
    fprintf(o, "link: %s\nlag: %d\n", opt->link == PDS_LINK_LOGIT ? "logit" : "cloglog", m->lag);
    fprintf(o, "intercept: {coef: %.17g, se: %.17g}\nterms:\n", x->beta[0], x->se[0]);
    for (size_t j = 0; j < m->n_terms; j++) {
        const pds_term *t = &m->terms[j];
        fprintf(o, "  - {name: \"%s\", ", t->name);
        if (t->kind == PDS_TERM_PANEL)
            fprintf(o, "variable: \"%s\", %s", t->variable,
                    t->transform == PDS_TRANSFORM_LOG ? "transform: log, " : "");
        else
            fprintf(o, "dynamic: %s, ", pds_term_kind_name(t->kind));
        fprintf(o, "coef: %.17g, se: %.17g}\n", x->beta[j + 1], x->se[j + 1]);
    }
    fputs("covariance:\n", o);
    for (size_t r = 0; r < x->p; r++) {
        fputs("  - [", o);
        for (size_t c = 0; c < x->p; c++)
            fprintf(o, "%s%.17g", c ? ", " : "", x->cov[r * x->p + c]);
        fputs("]\n", o);
    }
    /* 0, or the errno of the first failure, for the message */
    int rc = ferror(o) ? (errno ? errno : EIO) : 0;
    if (fclose(o) != 0 && !rc)
        rc = errno ? errno : EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = errno ? errno : EIO;
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* The person-period table as CSV: unit, year, y, then one column per term. */
static int write_table(const char *path, const pds_pp_table *t, const pds_model *m,
                       const pds_world *w)
{
    FILE *o = fopen(path, "w");
    if (!o)
        return -1;
    fputs("unit,year,adopted", o);
    for (size_t j = 0; j < m->n_terms; j++)
        fprintf(o, ",%s", m->terms[j].name);
    fputc('\n', o);
    for (size_t r = 0; r < t->n; r++) {
        fprintf(o, "%s,%d,%.0f", w->units[t->unit[r]].code, t->year[r], t->y[r]);
        for (size_t j = 1; j < t->p; j++)
            fprintf(o, ",%.17g", t->X[r * t->p + j]);
        fputc('\n', o);
    }
    int rc = ferror(o) ? -1 : 0;
    return fclose(o) != 0 ? -1 : rc;
}

int pds_cmd_fit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"link", required_argument, NULL, 'l'},       {"firth", no_argument, NULL, 'f'},
        {"robust", no_argument, NULL, 'r'},           {"output", required_argument, NULL, 'o'},
        {"first-year", required_argument, NULL, 'F'}, {"last-year", required_argument, NULL, 'L'},
        {"export-table", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    pds_fit_options opt = {.link = PDS_LINK_LOGIT};
    int link_set = 0, c;
    long first = 0, last = 0;
    const char *output = NULL, *table = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:fro:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (strcmp(optarg, "logit") == 0)
                opt.link = PDS_LINK_LOGIT;
            else if (strcmp(optarg, "cloglog") == 0)
                opt.link = PDS_LINK_CLOGLOG;
            else {
                fprintf(stderr, "pdsim: error: --link: expected logit or cloglog, got \"%s\"\n", optarg);
                return 2;
            }
            link_set = 1;
            break;
        case 'f':
            opt.firth = 1;
            break;
        case 'r':
            opt.robust = 1;
            break;
        case 'o':
            output = optarg;
            break;
        case 'T':
            table = optarg;
            break;
        case 'F':
        case 'L':
            if (pds_parse_long(optarg, c == 'F' ? &first : &last) != 0) {
                fprintf(stderr, "pdsim: error: %s: expected a year, got \"%s\"\n",
                        c == 'F' ? "--first-year" : "--last-year", optarg);
                return 2;
            }
            break;
        default:
            return pds_cli_getopt_other(c, "fit", argv);
        }
    }
    int npos = argc - optind;
    if (npos < 1) {
        fprintf(stderr, "pdsim: error: usage: pdsim fit CONFIG.yaml [MODEL.yaml...] | pdsim fit "
                        "DATASET-DIR MODEL.yaml... [options]\n");
        return 2;
    }
    pds_diag diag;
    pds_diag_init(&diag);
    pds_run_config *cfg = NULL;
    const char *dataset = argv[optind];
    const char *spec_paths[MAX_SPECS];
    size_t ns = 0;
    if (!is_dir(argv[optind])) {
        cfg = pds_run_config_load(argv[optind], &diag);
        if (!cfg) {
            pds_cli_print_diag(&diag);
            pds_diag_free(&diag);
            return 2;
        }
        dataset = cfg->dataset_path;
        if (npos == 1)
            spec_paths[ns++] = cfg->model_path;
        if (!last)
            last = cfg->base_year;
    } else if (npos < 2) {
        fprintf(stderr, "pdsim: error: with a dataset folder, name at least one MODEL.yaml\n");
        return 2;
    }
    for (int i = optind + 1; i < argc; i++) {
        if (ns == MAX_SPECS) {
            fprintf(stderr, "pdsim: error: at most %d models side by side\n", MAX_SPECS);
            pds_run_config_free(cfg);
            return 2;
        }
        spec_paths[ns++] = argv[i];
    }
    if ((output || table) && ns != 1) {
        fprintf(stderr, "pdsim: error: -o writes one model: give one model to fit\n");
        pds_run_config_free(cfg);
        return 2;
    }
    pds_dataset_options dopt = {.sea_links = cfg ? cfg->sea_links : 0,
                                .neighbour_weights = cfg ? cfg->neighbour_weights_path : NULL};
    pds_world *w = pds_dataset_load(dataset, &dopt, &diag);
    fitted f[MAX_SPECS];
    memset(f, 0, sizeof f);
    int bad = !w;
    for (size_t i = 0; i < ns; i++) {
        f[i].spec = pds_model_load(spec_paths[i], &diag);
        bad |= !f[i].spec;
    }
    pds_status st = PDS_OK;
    if (bad)
        st = PDS_ERR_INPUT;
    for (size_t i = 0; st == PDS_OK && i < ns; i++) {
        pds_fit_options o = opt;
        if (!link_set)
            o.link = f[i].spec->link;
        opt.link = o.link;
        int fy = first ? (int)first : pds_pp_default_first_year(w, f[i].spec);
        int ly = last ? (int)last : (w->panel ? w->panel_last_year : fy);
        st = pds_pp_build(w, f[i].spec, fy, ly, &diag, &f[i].pp);
        if (st != PDS_OK)
            break;
        if (table && write_table(table, f[i].pp, f[i].spec, w) != 0) {
            fprintf(stderr, "pdsim: error: %s: cannot write the table\n", table);
            st = PDS_ERR_RUNTIME;
            break;
        }
        size_t *cl = malloc((f[i].pp->n + 1) * sizeof(size_t));
        size_t *map = malloc((w->n_units + 1) * sizeof(size_t));
        size_t ncl = 0;
        if (!cl || !map) {
            free(cl);
            free(map);
            st = PDS_ERR_RUNTIME;
            break;
        }
        for (size_t u = 0; u < w->n_units; u++)
            map[u] = (size_t)-1;
        for (size_t r = 0; r < f[i].pp->n; r++) {
            size_t u = f[i].pp->unit[r];
            if (map[u] == (size_t)-1)
                map[u] = ncl++;
            cl[r] = map[u];
        }
        const char *names[256];
        names[0] = "(constant)";
        for (size_t j = 0; j < f[i].spec->n_terms && j < 255; j++)
            names[j + 1] = f[i].spec->terms[j].name;
        pds_fit_data d = {.n = f[i].pp->n, .p = f[i].pp->p, .X = f[i].pp->X, .y = f[i].pp->y,
                          .cluster = cl, .n_clusters = ncl, .intercept_col = 0,
                          .names = f[i].spec->n_terms < 255 ? names : NULL};
        size_t before = diag.n;
        f[i].st = pds_fit(&d, &o, &diag, &f[i].res);
        if (f[i].st != PDS_OK && diag.n > before)
            pds_diag_add(&diag, f[i].spec->path, 0, 0, "model '%s' could not be fitted (above)",
                         f[i].spec->name);
        free(cl);
        free(map);
        if (f[i].st != PDS_OK) {
            st = f[i].st;
            if (f[i].res && f[i].res->separation) {
                fprintf(stderr, "pdsim: model '%s': separation detected; estimates diverge. "
                                "Firth's penalized likelihood (--firth) gives finite estimates.\n",
                        f[i].spec->name);
            }
        }
    }
    if (st == PDS_OK) {
        print_table(f, ns, &opt, dataset);
        if (output) {
            int why = pds_cli_make_parent(output) != 0 ? -1 : write_model(output, &f[0], &opt, dataset);
            if (why > 0)
                fprintf(stderr, "pdsim: error: %s: cannot write the model file (%s)\n", output,
                        strerror(why));
            if (why != 0) {
                st = PDS_ERR_RUNTIME;
            } else {
                printf("\nmodel written to %s (pdsim run accepts it as 'model:')\n", output);
            }
        }
    }
    pds_cli_print_diag(&diag);
    for (size_t i = 0; i < ns; i++) {
        pds_fit_result_free(f[i].res);
        pds_pp_free(f[i].pp);
        pds_model_free(f[i].spec);
    }
    pds_world_free(w);
    pds_run_config_free(cfg);
    pds_diag_free(&diag);
    return pds_cli_exit(st);
}
