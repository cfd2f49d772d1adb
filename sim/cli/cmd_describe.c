/* pdsim describe: the descriptive statistics of a model's unit-years at risk
 * (the layout of a paper's descriptive table: mean, sd, min, max, VIF), side
 * by side with reference numbers when given, and the in-sample check of the
 * model: expected adoptions (the sum of fitted hazards) against observed,
 * per year, with the published intercept and with the intercept recalibrated
 * in the mean. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fit.h"
#include "../core/pp.h"
#include "../io/csvtab.h"
#include "../io/dataset.h"
#include "../io/model_io.h"
#include "cli.h"

enum { ST_MEAN, ST_SD, ST_MIN, ST_MAX, ST_VIF, N_ST };
static const char *const stat_cols[N_ST] = {"mean", "sd", "min", "max", "vif"};

/* Reference numbers by variable name ("adoption" or a term name); NaN = not given. */
typedef struct reference {
    size_t n;
    char **name;
    double (*v)[N_ST];
} reference;

static void reference_free(reference *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->name[i]);
    free(r->name);
    free(r->v);
}

static int reference_load(const char *path, const pds_model *m, reference *r, pds_diag *diag)
{
    memset(r, 0, sizeof *r);
    pds_csvtab *t = pds_csvtab_read(path, diag);
    if (!t)
        return -1;
    int bad = 0;
    long cv = pds_csvtab_col(t, "variable", 1, diag), col[N_ST];
    for (int s = 0; s < N_ST; s++)
        bad |= (col[s] = pds_csvtab_col(t, stat_cols[s], 1, diag)) < 0;
    r->name = calloc(t->n_rows + 1, sizeof *r->name);
    r->v = calloc(t->n_rows + 1, sizeof *r->v);
    if (cv < 0 || bad || !r->name || !r->v) {
        pds_csvtab_free(t);
        return -1;
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        const char *name = pds_csvtab_cell(t, i, (size_t)cv);
        int known = strcmp(name, "adoption") == 0;
        for (size_t j = 0; j < m->n_terms && !known; j++)
            known = strcmp(name, m->terms[j].name) == 0;
        if (!known) {
            pds_diag_add(diag, t->path, t->line[i], 0,
                         "variable: expected \"adoption\" or a term of model '%s', got \"%s\"",
                         m->name, name);
            bad = 1;
            continue;
        }
        for (int s = 0; s < N_ST; s++)
            bad |= pds_csvtab_num(t, i, col[s], 1, &r->v[r->n][s], diag) != 0;
        if (!(r->name[r->n++] = strdup(name)))
            bad = 1;
    }
    pds_csvtab_free(t);
    return bad ? -1 : 0;
}

static const double *reference_find(const reference *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->name[i], name) == 0)
            return r->v[i];
    return NULL;
}

static void cell(double x)
{
    if (isnan(x))
        printf(" %8s", "-");
    else if (isinf(x))
        printf(" %8s", "inf");
    else
        printf(" %8.2f", fabs(x) < 0.005 ? 0.0 : x); /* no "-0.00" */
}

static void describe_column(const char *name, const double *x, size_t stride, size_t n, double vif,
                            const reference *ref)
{
    double st[N_ST] = {0.0, 0.0, INFINITY, -INFINITY, vif};
    for (size_t i = 0; i < n; i++)
        st[ST_MEAN] += x[i * stride];
    st[ST_MEAN] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        st[ST_SD] += (v - st[ST_MEAN]) * (v - st[ST_MEAN]);
        st[ST_MIN] = v < st[ST_MIN] ? v : st[ST_MIN];
        st[ST_MAX] = v > st[ST_MAX] ? v : st[ST_MAX];
    }
    st[ST_SD] = n > 1 ? sqrt(st[ST_SD] / (double)(n - 1)) : NAN;
    printf("%-20s", name);
    for (int s = 0; s < N_ST; s++)
        cell(st[s]);
    const double *r = ref ? reference_find(ref, name) : NULL;
    if (ref) {
        printf("  |");
        for (int s = 0; s < N_ST; s++)
            cell(r ? r[s] : NAN);
        printf("  |");
        for (int s = 0; s < N_ST; s++)
            cell(r ? st[s] - r[s] : NAN);
    }
    putchar('\n');
}

static void print_table2(const pds_pp_table *t, const pds_model *m, const double *vif,
                         const reference *ref, const char *ref_path)
{
    size_t events = 0;
    for (size_t r = 0; r < t->n; r++)
        events += t->y[r] != 0.0;
    printf("Descriptive statistics over the unit-years at risk, %d..%d: %zu rows, %zu units, "
           "%zu adoptions;\nregressors as model '%s' uses them (lag %d; log where the model "
           "logs). VIF: - for a constant column.\n\n",
           t->first_year, t->last_year, t->n, t->n_units_at_risk, events, m->name, m->lag);
    printf("%-20s", "");
    printf(" %-44s", "here");
    if (ref)
        printf("  | %-43s  | %s", ref_path, "difference (here - reference)");
    printf("\n%-20s", "variable");
    for (int k = 0; k < (ref ? 3 : 1); k++) {
        if (k)
            printf("  |");
        for (int s = 0; s < N_ST; s++)
            printf(" %8s", stat_cols[s]);
    }
    putchar('\n');
    describe_column("adoption", t->y, 1, t->n, NAN, ref);
    for (size_t j = 0; j < m->n_terms; j++)
        describe_column(m->terms[j].name, t->X + j + 1, t->p, t->n, vif[j + 1], ref);
}

static void check_row(const char *label, size_t n, double o, double e, double er)
{
    char rec[32] = "-";
    if (!isnan(er))
        snprintf(rec, sizeof rec, "%.3f", er);
    printf("%6s %8zu %9.0f %10.3f %14s\n", label, n, o, e, rec);
}

static void print_in_sample(const pds_pp_table *t, const pds_model *m, const double *p0,
                            const double *p1, double delta)
{
    printf("\nIn-sample check of model '%s': expected adoptions = sum of fitted hazards over "
           "the unit-years at risk\n\n",
           m->name);
    printf("%6s %8s %9s %10s %14s\n", "year", "at risk", "observed", "expected", "recalibrated");
    double to = 0, te = 0, tr = 0, var = 0;
    size_t tn = 0;
    for (int y = t->first_year; y <= t->last_year; y++) {
        double o = 0, e = 0, er = 0;
        size_t n = 0;
        for (size_t r = 0; r < t->n; r++)
            if (t->year[r] == y) {
                n++;
                o += t->y[r];
                e += p0[r];
                er += p1[r];
                var += p0[r] * (1.0 - p0[r]);
            }
        char label[16];
        snprintf(label, sizeof label, "%d", y);
        check_row(label, n, o, e, isnan(delta) ? NAN : er);
        to += o;
        te += e;
        tr += er;
        tn += n;
    }
    check_row("total", tn, to, te, isnan(delta) ? NAN : tr);
    double sd = sqrt(var);
    printf("\nwith the model's intercept %.4f: expected %.3f (sd %.3f if the model were right), "
           "observed %.0f, z = %.2f, observed/expected = %.3f\n",
           m->intercept, te, sd, to, sd > 0 ? (to - te) / sd : NAN, te > 0 ? to / te : NAN);
    if (isnan(delta))
        printf("no recalibration: it needs both adoptions and non-adoptions in these years\n");
    else
        printf("recalibrated in the mean: intercept %.4f (shift %+.4f, hazard odds x %.3g); "
               "a run config applies it with 'intercept_recalibration: in-sample'\n",
               m->intercept + delta, delta, exp(delta));
}

int pds_cmd_describe(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"reference", required_argument, NULL, 'r'},
        {"first-year", required_argument, NULL, 'F'},
        {"last-year", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_path = NULL, *ref_path = NULL;
    long first = 0, last = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:r:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model_path = optarg;
            break;
        case 'r':
            ref_path = optarg;
            break;
        case 'F':
        case 'L':
            if (pds_parse_long(optarg, c == 'F' ? &first : &last) != 0 ||
                (c == 'F' ? first : last) < 1000 || (c == 'F' ? first : last) > 3000) {
                fprintf(stderr, "pdsim: error: %s: expected a year 1000..3000, got \"%s\"\n",
                        c == 'F' ? "--first-year" : "--last-year", optarg);
                return 2;
            }
            break;
        default:
            return pds_cli_getopt_other(c, "describe", argv);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "pdsim: error: usage: pdsim describe CONFIG.yaml [--model MODEL.yaml] "
                        "[--reference TABLE.csv] [--first-year Y] [--last-year Y]\n");
        return 2;
    }
    pds_diag diag;
    pds_diag_init(&diag);
    pds_run_config *cfg = pds_run_config_load(argv[optind], &diag);
    pds_world *w = NULL;
    pds_model *m = NULL;
    pds_pp_table *t = NULL;
    reference ref = {0};
    double *p0 = NULL, *p1 = NULL, *vif = NULL;
    pds_status st = PDS_ERR_INPUT;
    if (!cfg)
        goto done;
    pds_dataset_options dopt = {.sea_links = cfg->sea_links,
                                .neighbour_weights = cfg->neighbour_weights_path};
    w = pds_dataset_load(cfg->dataset_path, &dopt, &diag);
    m = pds_model_load(model_path ? model_path : cfg->model_path, &diag);
    if (!w || !m)
        goto done;
    if (pds_model_expand_factors(m, w, &diag) != PDS_OK)
        goto done;
    if (ref_path && reference_load(ref_path, m, &ref, &diag) != 0)
        goto done;
    int fy = first ? (int)first : pds_pp_default_first_year(w, m);
    int ly = last ? (int)last : (int)cfg->base_year;
    st = pds_pp_build(w, m, fy, ly, &diag, &t);
    if (st != PDS_OK)
        goto done;
    p0 = malloc((t->n + 1) * sizeof *p0);
    p1 = malloc((t->n + 1) * sizeof *p1);
    vif = malloc(t->p * sizeof *vif);
    pds_fit_data d = {.n = t->n, .p = t->p, .X = t->X, .y = t->y, .intercept_col = 0};
    if (!p0 || !p1 || !vif || (t->n > 0 && pds_fit_vif(&d, vif) != 0)) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    if (t->n == 0) {
        pds_diag_add(&diag, cfg->path, 0, 0, "no unit-years at risk in %d..%d", fy, ly);
        st = PDS_ERR_INPUT;
        goto done;
    }
    /* without both adoptions and non-adoptions there is no shift to report,
     * but the table and the check still are */
    double delta = NAN;
    pds_diag quiet;
    pds_diag_init(&quiet);
    st = pds_pp_intercept_shift(t, m, &delta, &quiet);
    pds_diag_free(&quiet);
    if (st == PDS_ERR_RUNTIME)
        goto done;
    if (st != PDS_OK)
        delta = NAN;
    st = PDS_OK;
    pds_pp_hazards(t, m, 0.0, p0);
    pds_pp_hazards(t, m, isnan(delta) ? 0.0 : delta, p1);
    printf("dataset %s, model %s\n", cfg->dataset_path, m->path);
    print_table2(t, m, vif, ref_path ? &ref : NULL, ref_path);
    print_in_sample(t, m, p0, p1, delta);
done:
    if (st == PDS_ERR_RUNTIME && diag.n == 0)
        fprintf(stderr, "pdsim: error: out of memory\n");
    pds_cli_print_diag(&diag);
    free(p0);
    free(p1);
    free(vif);
    reference_free(&ref);
    pds_pp_free(t);
    pds_model_free(m);
    pds_world_free(w);
    pds_run_config_free(cfg);
    pds_diag_free(&diag);
    return pds_cli_exit(st);
}
