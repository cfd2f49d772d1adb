#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/bayes.h"
#include "../core/fit.h"
#include "../core/fit_infer.h"
#include "../core/pp.h"
#include "../io/csvtab.h"
#include "../io/dataset.h"
#include "../io/fit_out.h"
#include "../io/model_io.h"
#include "cli.h"

#define MAX_SPECS 8
#define MAX_COLS 256
/* Exit status of a fit that stopped without meeting the convergence
 * criterion (unless --accept-nonconvergence): the results are printed and
 * written, marked as not converged. */
#define EXIT_NOT_CONVERGED 3

typedef struct fitted {
    pds_model *spec;
    pds_pp_table *pp;
    pds_fit_result *res;
    pds_status st;
    const char *names[MAX_COLS];
    double *ame, *ame_se;
    pds_link link; /* the link it was fitted with */
} fitted;

/* Everything the command line sets. */
typedef struct fit_args {
    pds_fit_options opt;
    int link_set;
    long first, last;
    const char *output, *table, *tidy, *glance, *json, *hazards;
    const char *cluster; /* NULL: by unit under --robust */
    int accept_nonconvergence, lrtest, ame;
    /* Bayesian fit */
    const char *prior;   /* prior model file, "flat", or NULL */
    double prior_scale, prior_default_sd;
    long chains, draws, warmup;
    unsigned long long seed;
} fit_args;

enum {
    OPT_FIRST = 1000,
    OPT_LAST,
    OPT_TABLE,
    OPT_TOL,
    OPT_MAX_ITER,
    OPT_ACCEPT,
    OPT_VCOV,
    OPT_CLUSTER,
    OPT_INFO,
    OPT_LEVEL,
    OPT_PROFILE,
    OPT_LRTEST,
    OPT_AME,
    OPT_TIDY,
    OPT_GLANCE,
    OPT_JSON,
    OPT_HAZARDS,
    OPT_PRIOR,
    OPT_PRIOR_SCALE,
    OPT_PRIOR_DEFAULT_SD,
    OPT_CHAINS,
    OPT_DRAWS,
    OPT_WARMUP,
};

static int usage_error(const char *opt, const char *expected, const char *got)
{
    fprintf(stderr, "pdsim: error: %s: expected %s, got \"%s\"\n", opt, expected, got);
    return 2;
}

/* Parse the options into a; -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, fit_args *a)
{
    static const struct option longopts[] = {
        {"link", required_argument, NULL, 'l'},
        {"firth", no_argument, NULL, 'f'},
        {"robust", no_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"first-year", required_argument, NULL, OPT_FIRST},
        {"last-year", required_argument, NULL, OPT_LAST},
        {"export-table", required_argument, NULL, OPT_TABLE},
        {"export-hazards", required_argument, NULL, OPT_HAZARDS},
        {"tol", required_argument, NULL, OPT_TOL},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"accept-nonconvergence", no_argument, NULL, OPT_ACCEPT},
        {"vcov", required_argument, NULL, OPT_VCOV},
        {"cluster", required_argument, NULL, OPT_CLUSTER},
        {"information", required_argument, NULL, OPT_INFO},
        {"level", required_argument, NULL, OPT_LEVEL},
        {"profile", no_argument, NULL, OPT_PROFILE},
        {"lrtest", no_argument, NULL, OPT_LRTEST},
        {"ame", no_argument, NULL, OPT_AME},
        {"tidy", required_argument, NULL, OPT_TIDY},
        {"glance", required_argument, NULL, OPT_GLANCE},
        {"json", required_argument, NULL, OPT_JSON},
        {"prior", required_argument, NULL, OPT_PRIOR},
        {"prior-scale", required_argument, NULL, OPT_PRIOR_SCALE},
        {"prior-default-sd", required_argument, NULL, OPT_PRIOR_DEFAULT_SD},
        {"chains", required_argument, NULL, OPT_CHAINS},
        {"draws", required_argument, NULL, OPT_DRAWS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    double x;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:fro:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (strcmp(optarg, "logit") == 0)
                a->opt.link = PDS_LINK_LOGIT;
            else if (strcmp(optarg, "cloglog") == 0)
                a->opt.link = PDS_LINK_CLOGLOG;
            else
                return usage_error("--link", "logit or cloglog", optarg);
            a->link_set = 1;
            break;
        case 'f':
            a->opt.firth = 1;
            break;
        case 'r':
            a->opt.vcov = PDS_VCOV_CLUSTER;
            break;
        case 'o':
            a->output = optarg;
            break;
        case OPT_TABLE:
            a->table = optarg;
            break;
        case OPT_HAZARDS:
            a->hazards = optarg;
            break;
        case OPT_TIDY:
            a->tidy = optarg;
            break;
        case OPT_GLANCE:
            a->glance = optarg;
            break;
        case OPT_JSON:
            a->json = optarg;
            break;
        case OPT_FIRST:
        case OPT_LAST:
            if (pds_parse_long(optarg, c == OPT_FIRST ? &a->first : &a->last) != 0)
                return usage_error(c == OPT_FIRST ? "--first-year" : "--last-year", "a year",
                                   optarg);
            break;
        case OPT_TOL:
            if (pds_parse_double(optarg, &x) != 0 || !(x > 0.0) || x >= 1.0)
                return usage_error("--tol", "a number between 0 and 1 (standard errors)", optarg);
            a->opt.tol = x;
            break;
        case OPT_MAX_ITER:
            if (pds_parse_long(optarg, &v) != 0 || v < 1 || v > 100000)
                return usage_error("--max-iter", "an integer from 1 to 100000", optarg);
            a->opt.max_iter = (int)v;
            break;
        case OPT_ACCEPT:
            a->accept_nonconvergence = 1;
            break;
        case OPT_VCOV:
            if (strcmp(optarg, "model") == 0)
                a->opt.vcov = PDS_VCOV_MODEL;
            else if (strcmp(optarg, "cluster") == 0)
                a->opt.vcov = PDS_VCOV_CLUSTER;
            else if (strcmp(optarg, "HC0") == 0 || strcmp(optarg, "hc0") == 0)
                a->opt.vcov = PDS_VCOV_HC0;
            else if (strcmp(optarg, "HC1") == 0 || strcmp(optarg, "hc1") == 0)
                a->opt.vcov = PDS_VCOV_HC1;
            else
                return usage_error("--vcov", "model, cluster, HC0 or HC1", optarg);
            break;
        case OPT_CLUSTER:
            a->cluster = optarg;
            break;
        case OPT_INFO:
            if (strcmp(optarg, "observed") == 0)
                a->opt.information = PDS_INFO_OBSERVED;
            else if (strcmp(optarg, "expected") == 0)
                a->opt.information = PDS_INFO_EXPECTED;
            else
                return usage_error("--information", "observed or expected", optarg);
            break;
        case OPT_LEVEL:
            if (pds_parse_double(optarg, &x) != 0 || !(x > 0.0 && x < 1.0))
                return usage_error("--level", "a confidence level between 0 and 1, e.g. 0.95",
                                   optarg);
            a->opt.level = x;
            break;
        case OPT_PROFILE:
            a->opt.profile = 1;
            break;
        case OPT_LRTEST:
            a->lrtest = 1;
            break;
        case OPT_AME:
            a->ame = 1;
            break;
        case OPT_PRIOR:
            a->prior = optarg;
            break;
        case OPT_PRIOR_SCALE:
        case OPT_PRIOR_DEFAULT_SD:
            if (pds_parse_double(optarg, &x) != 0 || !(x > 0.0) || x > 1e12)
                return usage_error(c == OPT_PRIOR_SCALE ? "--prior-scale" : "--prior-default-sd",
                                   "a positive number", optarg);
            *(c == OPT_PRIOR_SCALE ? &a->prior_scale : &a->prior_default_sd) = x;
            break;
        case OPT_CHAINS:
            if (pds_parse_long(optarg, &v) != 0 || v < 2 || v > 64)
                return usage_error("--chains", "an integer from 2 to 64", optarg);
            a->chains = v;
            break;
        case OPT_DRAWS:
        case OPT_WARMUP:
            if (pds_parse_long(optarg, &v) != 0 || v < (c == OPT_DRAWS ? 20 : 10) || v > 1000000)
                return usage_error(c == OPT_DRAWS ? "--draws" : "--warmup",
                                   c == OPT_DRAWS ? "an integer from 20 to 1000000"
                                                  : "an integer from 10 to 1000000",
                                   optarg);
            *(c == OPT_DRAWS ? &a->draws : &a->warmup) = v;
            break;
        case 's':
            if (pds_parse_u64(optarg, &a->seed) != 0)
                return usage_error("--seed", "a non-negative integer", optarg);
            break;
        default:
            return pds_cli_getopt_other(c, "fit", argv);
        }
    }
    if (a->cluster && a->opt.vcov == PDS_VCOV_MODEL)
        a->opt.vcov = PDS_VCOV_CLUSTER;
    if (a->cluster && a->opt.vcov != PDS_VCOV_CLUSTER) {
        fprintf(stderr, "pdsim: error: --cluster goes with cluster-robust standard errors, not "
                        "--vcov %s\n",
                pds_fit_vcov_name(a->opt.vcov));
        return 2;
    }
    if (a->prior && (a->opt.firth || a->opt.profile || a->lrtest ||
                     a->opt.vcov != PDS_VCOV_MODEL || a->ame)) {
        fprintf(stderr, "pdsim: error: --prior: the posterior goes with neither --firth, "
                        "--profile, --lrtest, --ame nor robust covariances (--robust, --vcov, "
                        "--cluster)\n");
        return 2;
    }
    if (a->lrtest && a->opt.firth) {
        fprintf(stderr, "pdsim: error: --lrtest compares maximized likelihoods; it does not go "
                        "with --firth\n");
        return 2;
    }
    return -1;
}

static const char *stars(double p)
{
    return p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : p < 0.1 ? "+" : "";
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* column of the estimate called name in f, or -1 */
static long col_index(const fitted *f, const char *name)
{
    for (size_t j = 0; j < f->pp->p; j++)
        if (strcmp(f->names[j], name) == 0)
            return (long)j;
    return -1;
}

/* x in fixed notation with `dec` decimals, or in exponent form when that
 * would hide it (|x| below 10^-dec but not 0, or 10^7 and above), in a field
 * of `width` (0 = none). */
static const char *num(char *buf, size_t size, double x, int dec, int width)
{
    double a = fabs(x);
    if (isfinite(x) && x != 0.0 && (a < pow(10.0, -dec) || a >= 1e7))
        snprintf(buf, size, "%*.*e", width, dec > 1 ? dec - 1 : 1, x);
    else
        snprintf(buf, size, "%*.*f", width, dec, x);
    return buf;
}

static const char *ratio_name(pds_link link)
{
    return link == PDS_LINK_CLOGLOG ? "hazard ratio" : "odds ratio";
}

static void print_table(fitted *f, size_t nf, const char *dataset, const fit_args *a,
                        const pds_fit_lrtest *lr, size_t nlr)
{
    /* rows: the union of the estimates in order of first appearance, the
     * intercept last */
    const char *rows[MAX_COLS];
    size_t nr = 0;
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 1; j < f[i].pp->p && nr < MAX_COLS - 1; j++) {
            size_t k;
            for (k = 0; k < nr; k++)
                if (strcmp(rows[k], f[i].names[j]) == 0)
                    break;
            if (k == nr)
                rows[nr++] = f[i].names[j];
        }
    rows[nr++] = "(Intercept)";
    int logit = 0, cloglog = 0;
    for (size_t i = 0; i < nf; i++) {
        pds_link l = f[i].link;
        logit |= l == PDS_LINK_LOGIT;
        cloglog |= l == PDS_LINK_CLOGLOG;
    }
    const pds_fit_result *x0 = f[0].res;
    printf("Discrete-time event-history fit%s, dataset %s\n",
           a->opt.firth ? " (Firth penalized)" : "", dataset);
    printf("standard errors: %s information%s%s%s\n", pds_fit_info_name(x0->information),
           x0->vcov == PDS_VCOV_CLUSTER ? ", cluster-robust by "
           : x0->vcov == PDS_VCOV_HC0   ? ", heteroskedasticity-robust HC0"
           : x0->vcov == PDS_VCOV_HC1   ? ", heteroskedasticity-robust HC1"
                                        : "",
           x0->vcov == PDS_VCOV_CLUSTER ? (a->cluster ? a->cluster : "unit") : "", "");
    printf("coefficient (standard error) [exp(coef): %s]; + p<0.1, * p<0.05, ** p<0.01, *** "
           "p<0.001\n\n",
           logit && cloglog ? "odds ratio under logit, hazard ratio under cloglog"
           : cloglog        ? "hazard ratio"
                            : "odds ratio");
    printf("%-24s", "term");
    for (size_t i = 0; i < nf; i++)
        printf(" %-30s", f[i].spec->name);
    printf("\n%-24s", "");
    for (size_t i = 0; i < nf; i++) {
        char h[64];
        snprintf(h, sizeof h, "(%s link)", pds_fit_link_name(f[i].link));
        printf(" %-30s", h);
    }
    putchar('\n');
    for (size_t r = 0; r < nr; r++) {
        printf("%-24s", rows[r]);
        for (size_t i = 0; i < nf; i++) {
            char cell[96] = "";
            long j = col_index(&f[i], rows[r]);
            if (j >= 0) {
                pds_fit_result *x = f[i].res;
                char b[24], e[24], or[24];
                num(b, sizeof b, x->beta[j], 3, 0);
                num(e, sizeof e, x->se[j], 3, 0);
                num(or, sizeof or, exp(x->beta[j]), 3, 0);
                if (f[i].pp->held && f[i].pp->held[j])
                    snprintf(cell, sizeof cell, "%s (fixed)", b);
                else if (j == 0)
                    snprintf(cell, sizeof cell, "%s (%s)%s", b, e, stars(x->pvalue[j]));
                else
                    snprintf(cell, sizeof cell, "%s (%s)%s [%s]", b, e, stars(x->pvalue[j]), or);
            }
            printf(" %-30s", cell);
        }
        putchar('\n');
    }
    static const char *stat_names[] = {
        "events",        "unit-years at risk", "units at risk", "clusters",
        "log-likelihood", "null log-lik.",     "LR chi2",       "LR df",
        "LR p-value",    "-2LL",               "AIC",           "BIC",
        "McFadden R2",   "Cox-Snell R2",       "Nagelkerke R2", "iterations",
        "converged"};
    for (size_t s = 0; s < sizeof stat_names / sizeof stat_names[0]; s++) {
        if (s == 3 && x0->vcov != PDS_VCOV_CLUSTER)
            continue;
        printf("%-24s", stat_names[s]);
        for (size_t i = 0; i < nf; i++) {
            char cell[64] = "";
            pds_fit_result *x = f[i].res;
            double v[] = {(double)x->n_events, (double)x->n, (double)f[i].pp->n_units_at_risk,
                          (double)x->n_clusters, x->loglik, x->loglik_null, x->lr_chi2,
                          (double)x->lr_df, x->lr_pvalue, x->deviance, x->aic, x->bic,
                          x->r2_mcfadden, x->r2_coxsnell, x->r2_nagelkerke,
                          (double)x->iterations, 0.0};
            if (s == 16)
                snprintf(cell, sizeof cell, "%s", x->converged ? "yes" : "NO");
            else if (s < 4 || s == 7 || s == 15)
                snprintf(cell, sizeof cell, "%.0f", v[s]);
            else if (s == 8)
                snprintf(cell, sizeof cell, "%.4g", v[s]);
            else
                snprintf(cell, sizeof cell, "%.3f", v[s]);
            printf(" %-30s", cell);
        }
        putchar('\n');
    }
    if (nf == 1) {
        pds_fit_result *x = f[0].res;
        int prof = a->opt.profile;
        int pct = (int)lround(x->level * 100.0);
        printf("\n%-24s %10s %10s %8s %8s %10s %10s %10s %7s", "term", "coef", "se", "z", "p",
               "CI low", "CI high", "exp(coef)", "VIF");
        if (prof)
            printf(" %10s %10s", "prof. low", "prof. high");
        if (f[0].ame)
            printf(" %10s %10s", "AME", "AME se");
        putchar('\n');
        for (size_t c = 0; c < x->p; c++) {
            char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32];
            if (f[0].pp->held && f[0].pp->held[c]) {
                printf("%-24s %s %10s\n", f[0].names[c], num(b1, sizeof b1, x->beta[c], 4, 10),
                       "fixed");
                continue;
            }
            printf("%-24s %s %s %8.3f %8.4f %s %s %s %7.2f", f[0].names[c],
                   num(b1, sizeof b1, x->beta[c], 4, 10), num(b2, sizeof b2, x->se[c], 4, 10),
                   x->z[c], x->pvalue[c], num(b3, sizeof b3, x->conf_low[c], 4, 10),
                   num(b4, sizeof b4, x->conf_high[c], 4, 10),
                   num(b5, sizeof b5, exp(x->beta[c]), 4, 10), x->vif[c]);
            if (prof)
                printf(" %s %s", num(b6, sizeof b6, x->prof_low[c], 4, 10),
                       num(b7, sizeof b7, x->prof_high[c], 4, 10));
            if (f[0].ame)
                printf(" %10.5f %10.5f", f[0].ame[c], f[0].ame_se[c]);
            putchar('\n');
        }
        printf("CI: %d%% Wald (coef -/+ z se)%s; exp(coef) is the %s%s\n", pct,
               prof ? (a->opt.firth ? "; prof.: penalized profile likelihood" : "; prof.: profile likelihood")
                    : "",
               ratio_name(f[0].link),
               f[0].ame ? "; AME: average marginal effect on the hazard (delta-method se)" : "");
        if (f[0].pp->n_held)
            printf("fixed: held at the model file's coef (an offset at 1), not estimated; the "
                   "statistics count the %zu estimated coefficients\n",
                   x->p - f[0].pp->n_held);
    }
    if (nlr) {
        printf("\nlikelihood-ratio tests of nested models (same unit-years)\n");
        printf("%-30s %-30s %10s %4s %10s\n", "model", "against", "LR chi2", "df", "p");
        for (size_t k = 0; k < nlr; k++)
            printf("%-30s %-30s %10.4f %4d %10.4g\n", f[lr[k].big].spec->name,
                   f[lr[k].small].spec->name, lr[k].statistic, lr[k].df, lr[k].p_value);
    }
    printf("\nyears at risk %d..%d; units adopted before %d are not at risk (%zu)\n",
           f[0].pp->first_year, f[0].pp->last_year, f[0].pp->first_year,
           f[0].pp->n_left_censored);
}

/* The prior, coefficient by coefficient. */
static void print_prior(const fitted *f, const pds_prior *pr, const char *prior_path,
                        const pds_model *pm)
{
    printf("Bayesian fit: posterior mode, Laplace covariance, HMC draws\n");
    if (pr->flat) {
        printf("prior: flat (improper) on every coefficient: the posterior mode is the maximum "
               "likelihood estimate\n\n");
        return;
    }
    printf("prior: Gaussian, from %s: its estimates with sd = published SE x %g%s; coefficients "
           "it does not name: N(0, %g^2)\n",
           prior_path, pr->scale,
           pr->from_cov ? " (its covariance matrix x K^2 among the matched coefficients)" : "",
           pr->default_sd);
    printf("%-24s %12s %12s  %s\n", "term", "prior mean", "prior sd", "from");
    for (size_t j = 0; j < pr->p; j++) {
        char from[160];
        if (pr->source[j] == PDS_PRIOR_DEFAULT)
            snprintf(from, sizeof from, "default N(0, %g^2): not in the prior model",
                     pr->default_sd);
        else if (j == 0)
            snprintf(from, sizeof from, "intercept");
        else
            snprintf(from, sizeof from, "term '%s'", pm->terms[pr->prior_term[j]].name);
        printf("%-24s %12.4f %12.4f  %s\n", f->names[j], pr->mean[j], sqrt(pr->cov[j * pr->p + j]),
               from);
    }
    putchar('\n');
}

static void print_posterior(const fitted *f, const pds_mcmc_result *r, size_t warmup)
{
    const pds_fit_result *x = f->res;
    printf("\nposterior: %zu chains x %zu draws after %zu warmup iterations (HMC, step sizes",
           r->chains, r->n_draws, warmup);
    for (size_t c = 0; c < r->chains; c++)
        printf(" %.3f", r->step[c]);
    printf("; acceptance");
    for (size_t c = 0; c < r->chains; c++)
        printf(" %.2f", r->accept[c]);
    printf("; %zu divergent)\n", r->divergent);
    printf("%-24s %10s %10s %10s %10s %10s %10s %10s %7s %8s\n", "term", "mode", "Laplace sd",
           "mean", "sd", "5%", "50%", "95%", "R-hat", "ESS");
    for (size_t j = 0; j < r->p; j++)
        printf("%-24s %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f %7.4f %8.0f\n",
               f->names[j], x->beta[j], x->se[j], r->mean[j], r->sd[j], r->q05[j], r->q50[j],
               r->q95[j], r->rhat[j], r->ess[j]);
    printf("R-hat: rank-normalised split R-hat (max of bulk and tail); ESS: bulk effective sample "
           "size (Geyer's initial monotone sequence)\n");
}

/* Warnings on the chains; 1 when R-hat says they have not converged. */
static int check_chains(const fitted *f, const pds_mcmc_result *r)
{
    for (size_t j = 0; j < r->p; j++)
        if (r->rhat[j] > 1.01 || !(r->ess[j] >= 400.0))
            fprintf(stderr,
                    "pdsim: warning: posterior of '%s': R-hat %.4f, bulk ESS %.0f (want R-hat <= "
                    "1.01 and ESS >= 400; run longer chains: --draws, --warmup)\n",
                    f->names[j], r->rhat[j], r->ess[j]);
    if (r->divergent)
        fprintf(stderr, "pdsim: warning: %zu divergent transitions after warmup\n", r->divergent);
    if (!(r->max_rhat <= 1.1)) {
        fprintf(stderr,
                "pdsim: error: the chains have not converged (max R-hat %.4f > 1.1): the "
                "posterior is not reliable; nothing is written. Run longer chains, or accept it "
                "with --accept-nonconvergence.\n",
                r->max_rhat);
        return 1;
    }
    return 0;
}

/* OUT.yaml -> OUT.draws.csv (the draws beside the model). Owned. */
static char *draws_path(const char *model_path)
{
    size_t n = strlen(model_path);
    char *p = malloc(n + 16);
    if (!p)
        return NULL;
    memcpy(p, model_path, n + 1);
    if (n > 5 && strcmp(p + n - 5, ".yaml") == 0)
        p[n - 5] = '\0';
    else if (n > 4 && strcmp(p + n - 4, ".yml") == 0)
        p[n - 4] = '\0';
    strcat(p, ".draws.csv");
    return p;
}

/* Cluster of every row: by unit, region, outcome year or the value of a
 * panel variable in the outcome year. Returns the number of clusters, or 0
 * with a message. */
static size_t make_clusters(const pds_world *w, const pds_pp_table *t, const char *by,
                            size_t *cl)
{
    long var = -1;
    int mode = 0; /* 0 unit, 1 region, 2 year, 3 panel variable */
    if (!by || strcmp(by, "unit") == 0)
        mode = 0;
    else if (strcmp(by, "region") == 0)
        mode = 1;
    else if (strcmp(by, "year") == 0)
        mode = 2;
    else if ((var = pds_world_var_index(w, by)) >= 0)
        mode = 3;
    else {
        fprintf(stderr, "pdsim: error: --cluster: expected unit, region, year or a panel "
                        "variable of the dataset, got \"%s\"\n",
                by);
        return 0;
    }
    double *key = malloc((t->n + 1) * sizeof *key);
    const char **skey = malloc((t->n + 1) * sizeof *skey);
    size_t ncl = 0;
    if (!key || !skey) {
        free(key);
        free(skey);
        fprintf(stderr, "pdsim: error: out of memory\n");
        return 0;
    }
    /* quadratic in the number of distinct clusters, which is small */
    for (size_t r = 0; r < t->n; r++) {
        size_t u = t->unit[r];
        double k = mode == 0 ? (double)u : mode == 2 ? (double)t->year[r] : 0.0;
        const char *s = mode == 1 ? (w->units[u].region ? w->units[u].region : "") : NULL;
        if (mode == 3) {
            k = pds_world_panel(w, u, t->year[r], (size_t)var);
            if (isnan(k)) {
                fprintf(stderr, "pdsim: error: --cluster %s: no value for unit %s in %d\n", by,
                        w->units[u].code, t->year[r]);
                free(key);
                free(skey);
                return 0;
            }
        }
        size_t g;
        for (g = 0; g < ncl; g++)
            if (s ? strcmp(skey[g], s) == 0 : key[g] == k)
                break;
        if (g == ncl) {
            key[ncl] = k;
            skey[ncl] = s;
            ncl++;
        }
        cl[r] = g;
    }
    free(key);
    free(skey);
    return ncl;
}

/* Write one output through a temporary file. */
typedef int (*writer_fn)(FILE *o, const void *ctx);

static pds_status write_out(const char *path, const char *const *inputs, size_t ninputs,
                            int (*fn)(FILE *, void *), void *ctx, pds_diag *diag)
{
    pds_outfile o;
    pds_status st = pds_outfile_open(&o, path, inputs, ninputs, diag);
    if (st != PDS_OK)
        return st;
    if (fn(o.f, ctx) != 0) {
        pds_diag_add(diag, path, 0, 0, "cannot write the file");
        pds_outfile_abort(&o);
        return PDS_ERR_RUNTIME;
    }
    return pds_outfile_commit(&o, diag);
}

typedef struct out_ctx {
    const pds_fit_report *rep;
    size_t nf;
    const pds_world *w;
    const char *dataset;
    const pds_fit_lrtest *lr;
    size_t nlr;
} out_ctx;

static int w_model(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_model(o, x->rep, x->dataset);
}
static int w_draws(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_draws(o, x->rep);
}
static int w_table(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_table(o, x->rep, x->w);
}
static int w_hazards(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_hazards(o, x->rep, x->nf, x->w);
}
static int w_tidy(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_tidy(o, x->rep, x->nf);
}
static int w_glance(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_glance(o, x->rep, x->nf);
}
static int w_json(FILE *o, void *c)
{
    const out_ctx *x = c;
    return pds_fit_write_json(o, x->rep, x->nf, x->lr, x->nlr, x->dataset);
}

/* A Bayesian fit's draws, to MODEL.draws.csv beside the model file path;
 * rep->draws_file is set to its name, owned by *name (free it after the
 * model is written). PDS_OK at once for other fits. */
static pds_status write_draws_beside(const char *path, pds_fit_report *rep, char **name,
                                     const char *const *inputs, size_t ninputs, pds_diag *diag)
{
    *name = NULL;
    if (!rep->mcmc)
        return PDS_OK;
    char *dp = draws_path(path);
    if (!dp)
        return PDS_ERR_RUNTIME;
    const char *base = strrchr(dp, '/');
    *name = strdup(base ? base + 1 : dp);
    if (!*name) {
        free(dp);
        return PDS_ERR_RUNTIME;
    }
    rep->draws_file = *name;
    out_ctx c = {.rep = rep, .nf = 1};
    pds_status st = write_out(dp, inputs, ninputs, w_draws, &c, diag);
    if (st == PDS_OK)
        printf("\nposterior draws written to %s", dp);
    free(dp);
    return st;
}

/* -o: one model to a file, or (several models, or a folder) DIR/NAME.yaml. */
static pds_status write_models(const char *output, pds_fit_report *rep, size_t nf,
                               const char *const *inputs, size_t ninputs, const char *dataset,
                               pds_diag *diag)
{
    int to_dir = nf > 1 || is_dir(output);
    if (!to_dir) {
        out_ctx c = {.rep = rep, .nf = 1, .dataset = dataset};
        char *name;
        pds_status st = write_draws_beside(output, rep, &name, inputs, ninputs, diag);
        if (st == PDS_OK)
            st = write_out(output, inputs, ninputs, w_model, &c, diag);
        free(name);
        if (st == PDS_OK)
            printf("\nmodel written to %s (pdsim run accepts it as 'model:')\n", output);
        return st;
    }
    if (pds_cli_make_dir(output) != 0)
        return PDS_ERR_RUNTIME;
    for (size_t i = 0; i < nf; i++) {
        const char *name = rep[i].spec->name;
        if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            pds_diag_add(diag, rep[i].spec->path, 0, 0,
                         "model name '%s' cannot name a file in %s", name, output);
            return PDS_ERR_INPUT;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(rep[k].spec->name, name) == 0) {
                pds_diag_add(diag, rep[i].spec->path, 0, 0,
                             "two models are named '%s'; -o %s would write both to %s.yaml",
                             name, output, name);
                return PDS_ERR_INPUT;
            }
    }
    for (size_t i = 0; i < nf; i++) {
        char *path = malloc(strlen(output) + strlen(rep[i].spec->name) + 8);
        if (!path)
            return PDS_ERR_RUNTIME;
        sprintf(path, "%s/%s.yaml", output, rep[i].spec->name);
        out_ctx c = {.rep = &rep[i], .nf = 1, .dataset = dataset};
        char *name;
        pds_status st = write_draws_beside(path, &rep[i], &name, inputs, ninputs, diag);
        if (st == PDS_OK)
            st = write_out(path, inputs, ninputs, w_model, &c, diag);
        free(name);
        if (st == PDS_OK)
            printf("%smodel '%s' written to %s\n", i ? "" : "\n", rep[i].spec->name, path);
        free(path);
        if (st != PDS_OK)
            return st;
    }
    return PDS_OK;
}

/* Likelihood-ratio tests of each model against the one before it; the
 * smaller must be nested in the larger. 0, or 2 with a message. */
static int lrtests(fitted *f, size_t nf, pds_fit_lrtest *lr, size_t *nlr)
{
    *nlr = 0;
    if (nf < 2) {
        fprintf(stderr, "pdsim: error: --lrtest needs at least two models\n");
        return 2;
    }
    for (size_t i = 1; i < nf; i++) {
        size_t a = i - 1, b = i;
        pds_fit_data da = {.n = f[a].pp->n, .p = f[a].pp->p, .X = f[a].pp->X, .y = f[a].pp->y};
        pds_fit_data db = {.n = f[b].pp->n, .p = f[b].pp->p, .X = f[b].pp->X, .y = f[b].pp->y};
        size_t small = a, big = b;
        if (!pds_fit_nested(&da, &db)) {
            if (!pds_fit_nested(&db, &da)) {
                fprintf(stderr,
                        "pdsim: error: --lrtest: models '%s' and '%s' are not nested (the same "
                        "unit-years, and every column of one also in the other)\n",
                        f[a].spec->name, f[b].spec->name);
                return 2;
            }
            small = b;
            big = a;
        }
        pds_fit_lrtest *t = &lr[(*nlr)++];
        t->small = small;
        t->big = big;
        t->df = (int)(f[big].pp->p - f[big].pp->n_held) -
                (int)(f[small].pp->p - f[small].pp->n_held);
        t->statistic = 2.0 * (f[big].res->loglik - f[small].res->loglik);
        t->p_value = pds_chi2_sf(t->statistic > 0.0 ? t->statistic : 0.0, t->df);
    }
    return 0;
}

int pds_cmd_fit(int argc, char **argv)
{
    fit_args a = {.opt = {.link = PDS_LINK_LOGIT},
                  .prior_scale = 1.0,
                  .prior_default_sd = PDS_PRIOR_DEFAULT_SD,
                  .chains = 4,
                  .draws = 2000,
                  .warmup = 2000,
                  .seed = 1};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
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
    const char *inputs[MAX_SPECS + 3];
    size_t ns = 0, ninputs = 0;
    if (!is_dir(argv[optind])) {
        cfg = pds_run_config_load(argv[optind], &diag);
        if (!cfg) {
            pds_cli_print_diag(&diag);
            pds_diag_free(&diag);
            return 2;
        }
        inputs[ninputs++] = argv[optind];
        dataset = cfg->dataset_path;
        if (npos == 1)
            spec_paths[ns++] = cfg->model_path;
        if (!a.last)
            a.last = cfg->base_year;
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
    for (size_t i = 0; i < ns; i++)
        inputs[ninputs++] = spec_paths[i];
    inputs[ninputs++] = dataset; /* a folder: every file in it is an input */
    if (a.table && ns != 1) {
        fprintf(stderr, "pdsim: error: --export-table writes one model's table: give one model "
                        "to fit\n");
        pds_run_config_free(cfg);
        return 2;
    }
    if (a.prior && ns != 1) {
        fprintf(stderr, "pdsim: error: --prior fits one model: give one model to fit\n");
        pds_run_config_free(cfg);
        return 2;
    }
    int flat = a.prior && strcmp(a.prior, "flat") == 0;
    if (a.prior && !flat)
        inputs[ninputs++] = a.prior;
    if (a.lrtest && ns < 2) {
        fprintf(stderr, "pdsim: error: --lrtest needs at least two models\n");
        pds_run_config_free(cfg);
        return 2;
    }
    pds_dataset_options dopt = {.sea_links = cfg ? cfg->sea_links : 0,
                                .neighbour_weights = cfg ? cfg->neighbour_weights_path : NULL};
    pds_world *w = pds_dataset_load(dataset, &dopt, &diag);
    fitted f[MAX_SPECS];
    pds_fit_report rep[MAX_SPECS];
    memset(f, 0, sizeof f);
    memset(rep, 0, sizeof rep);
    int bad = !w;
    for (size_t i = 0; i < ns; i++) {
        f[i].spec = pds_model_load(spec_paths[i], &diag);
        bad |= !f[i].spec;
    }
    pds_model *prior_model = NULL;
    pds_prior *prior = NULL;
    pds_mcmc_result *mcmc = NULL;
    char prior_desc[1024] = "";
    if (a.prior && !flat) {
        prior_model = pds_model_load(a.prior, &diag);
        bad |= !prior_model;
    }
    pds_status st = bad ? PDS_ERR_INPUT : PDS_OK;
    int not_converged = 0, chains_bad = 0;
    for (size_t i = 0; st == PDS_OK && i < ns; i++) {
        pds_fit_options o = a.opt;
        if (!a.link_set)
            o.link = f[i].spec->link;
        f[i].link = o.link;
        st = pds_model_expand_factors(f[i].spec, w, &diag);
        if (st != PDS_OK)
            break;
        int fy = a.first ? (int)a.first : pds_pp_default_first_year(w, f[i].spec);
        int ly = a.last ? (int)a.last : pds_pp_default_last_year(w, f[i].spec);
        st = pds_pp_build(w, f[i].spec, fy, ly, &diag, &f[i].pp);
        if (st != PDS_OK)
            break;
        for (size_t j = 0; a.prior && j < f[i].spec->n_terms; j++)
            if (f[i].spec->terms[j].fixed) {
                pds_diag_add(&diag, f[i].spec->path, f[i].spec->terms[j].line, 0,
                             "term '%s' is fixed: --prior estimates every coefficient (a held "
                             "one has no posterior); drop fixed/offset or fit without --prior",
                             f[i].spec->terms[j].name);
                st = PDS_ERR_INPUT;
                break;
            }
        if (st != PDS_OK)
            break;
        if (f[i].pp->p > MAX_COLS) {
            pds_diag_add(&diag, f[i].spec->path, 0, 0, "more than %d columns", MAX_COLS);
            st = PDS_ERR_INPUT;
            break;
        }
        f[i].names[0] = "(Intercept)";
        for (size_t j = 1; j < f[i].pp->p; j++)
            f[i].names[j] = f[i].spec->terms[j - 1].name;
        size_t *cl = malloc((f[i].pp->n + 1) * sizeof(size_t));
        if (!cl) {
            st = PDS_ERR_RUNTIME;
            break;
        }
        size_t ncl = make_clusters(w, f[i].pp, a.cluster, cl);
        if (ncl == 0) {
            free(cl);
            st = PDS_ERR_INPUT;
            break;
        }
        pds_fit_data d = {.n = f[i].pp->n, .p = f[i].pp->p, .X = f[i].pp->X, .y = f[i].pp->y,
                          .cluster = cl, .n_clusters = ncl, .intercept_col = 0,
                          .names = f[i].names, .held = f[i].pp->held,
                          .held_value = f[i].pp->held_value};
        if (a.prior) {
            st = pds_prior_build(f[i].spec, prior_model, a.prior_scale, a.prior_default_sd, &diag,
                                 &prior);
            if (st != PDS_OK) {
                free(cl);
                break;
            }
            o.prior_mean = prior->mean;
            o.prior_prec = prior->prec;
            d.cluster = NULL;
        }
        size_t before = diag.n;
        f[i].st = pds_fit(&d, &o, &diag, &f[i].res);
        free(cl);
        d.cluster = NULL;
        if (f[i].st != PDS_OK && diag.n > before)
            pds_diag_add(&diag, f[i].spec->path, 0, 0, "model '%s' could not be fitted (above)",
                         f[i].spec->name);
        if (f[i].st != PDS_OK) {
            st = f[i].st;
            if (f[i].res && f[i].res->separation) {
                fprintf(stderr, "pdsim: model '%s': separation detected; estimates diverge. "
                                "Firth's penalized likelihood (--firth) gives finite estimates.\n",
                        f[i].spec->name);
            }
            break;
        }
        for (size_t j = 1; j < f[i].pp->p; j++) {
            double mx = 0.0;
            for (size_t r = 0; r < f[i].pp->n; r++)
                mx = fmax(mx, fabs(f[i].pp->X[r * f[i].pp->p + j]));
            if ((mx > 1e6 || (mx > 0.0 && mx < 1e-6)) && !(f[i].pp->held && f[i].pp->held[j]))
                fprintf(stderr,
                        "pdsim: note: model '%s': column '%s' reaches %.3g in absolute value, "
                        "so its coefficient is on the scale of %.3g; the fit is unaffected (it "
                        "converges on the Newton step in standard errors), but rescaling the "
                        "variable makes the estimate readable\n",
                        f[i].spec->name, f[i].names[j], mx, f[i].res->beta[j]);
        }
        if (!f[i].res->converged) {
            not_converged = 1;
            fprintf(stderr,
                    "pdsim: warning: model '%s' did not converge: after %d iterations the next "
                    "Newton step is %.3g standard errors (tolerance %.3g). The estimates and "
                    "standard errors are not reliable. Rescale the regressors, raise --max-iter, "
                    "or accept the result with --accept-nonconvergence.\n",
                    f[i].spec->name, f[i].res->iterations, f[i].res->step_se,
                    a.opt.tol > 0.0 ? a.opt.tol : PDS_FIT_DEFAULT_TOL);
        }
        if (prior && f[i].res->converged) {
            pds_mcmc_options mo = {.chains = (size_t)a.chains,
                                   .warmup = (size_t)a.warmup,
                                   .draws = (size_t)a.draws,
                                   .seed = a.seed};
            st = pds_mcmc_run(&d, o.link, prior, f[i].res->beta, f[i].res->cov, &mo, &diag,
                              &mcmc);
            if (st != PDS_OK)
                break;
            if (flat)
                snprintf(prior_desc, sizeof prior_desc, "flat (improper) on every coefficient");
            else {
                int any_default = 0;
                for (size_t j = 0; j < prior->p; j++)
                    any_default |= prior->source[j] == PDS_PRIOR_DEFAULT;
                snprintf(prior_desc, sizeof prior_desc,
                         "Gaussian from %s: its estimates, sd = published SE x %g%s%s; "
                         "coefficients it does not name N(0, %g^2)%s",
                         a.prior, a.prior_scale, prior->from_cov ? " (its covariance x K^2)" : "",
                         "", a.prior_default_sd, any_default ? "" : " (none here)");
            }
        }
        if (a.opt.profile && o.firth && o.link == PDS_LINK_CLOGLOG)
            fprintf(stderr, "pdsim: warning: model '%s': profile-likelihood intervals are not "
                            "available for Firth's cloglog fits (left blank)\n",
                    f[i].spec->name);
        if (a.ame) {
            f[i].ame = malloc(f[i].pp->p * sizeof(double));
            f[i].ame_se = malloc(f[i].pp->p * sizeof(double));
            if (!f[i].ame || !f[i].ame_se || pds_fit_ame(&d, f[i].res, o.link, f[i].ame, f[i].ame_se) != 0) {
                st = PDS_ERR_RUNTIME;
                break;
            }
        }
        rep[i] = (pds_fit_report){.spec = f[i].spec,
                                  .pp = f[i].pp,
                                  .res = f[i].res,
                                  .colnames = f[i].names,
                                  .link = o.link,
                                  .firth = o.firth,
                                  .cluster = f[i].res->vcov == PDS_VCOV_CLUSTER
                                                 ? (a.cluster ? a.cluster : "unit")
                                                 : NULL,
                                  .ame = f[i].ame,
                                  .ame_se = f[i].ame_se,
                                  .prior = prior,
                                  .mcmc = mcmc,
                                  .prior_desc = prior_desc,
                                  .warmup = (size_t)a.warmup,
                                  .seed = a.seed};
    }
    pds_fit_lrtest lr[MAX_SPECS];
    size_t nlr = 0;
    int exit_code = -1;
    if (st == PDS_OK && a.lrtest && lrtests(f, ns, lr, &nlr) != 0)
        exit_code = 2;
    if (st == PDS_OK && exit_code < 0 && prior)
        print_prior(&f[0], prior, a.prior, prior_model);
    if (st == PDS_OK && exit_code < 0 && mcmc)
        chains_bad = check_chains(&f[0], mcmc);
    if (st == PDS_OK && exit_code < 0) {
        print_table(f, ns, dataset, &a, lr, nlr);
        if (mcmc)
            print_posterior(&f[0], mcmc, (size_t)a.warmup);
    }
    if (chains_bad && !a.accept_nonconvergence)
        exit_code = EXIT_NOT_CONVERGED;
    if (st == PDS_OK && exit_code < 0) {
        out_ctx c = {.rep = rep, .nf = ns, .w = w, .dataset = dataset, .lr = lr, .nlr = nlr};
        if (a.output)
            st = write_models(a.output, rep, ns, inputs, ninputs, dataset, &diag);
        if (st == PDS_OK && a.table)
            st = write_out(a.table, inputs, ninputs, w_table, &c, &diag);
        if (st == PDS_OK && a.hazards)
            st = write_out(a.hazards, inputs, ninputs, w_hazards, &c, &diag);
        if (st == PDS_OK && a.tidy)
            st = write_out(a.tidy, inputs, ninputs, w_tidy, &c, &diag);
        if (st == PDS_OK && a.glance)
            st = write_out(a.glance, inputs, ninputs, w_glance, &c, &diag);
        if (st == PDS_OK && a.json)
            st = write_out(a.json, inputs, ninputs, w_json, &c, &diag);
    }
    pds_cli_print_diag(&diag);
    for (size_t i = 0; i < ns; i++) {
        pds_fit_result_free(f[i].res);
        pds_pp_free(f[i].pp);
        pds_model_free(f[i].spec);
        free(f[i].ame);
        free(f[i].ame_se);
    }
    pds_world_free(w);
    pds_run_config_free(cfg);
    pds_diag_free(&diag);
    pds_model_free(prior_model);
    pds_prior_free(prior);
    pds_mcmc_result_free(mcmc);
    if (exit_code >= 0)
        return exit_code;
    if (st == PDS_OK && not_converged && !a.accept_nonconvergence)
        return EXIT_NOT_CONVERGED;
    return pds_cli_exit(st);
}
