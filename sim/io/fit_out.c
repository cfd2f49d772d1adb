#define _POSIX_C_SOURCE 200809L
#include "fit_out.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fit_infer.h"

const char *pds_fit_link_name(pds_link link)
{
    return link == PDS_LINK_CLOGLOG ? "cloglog" : "logit";
}

const char *pds_fit_vcov_name(pds_fit_vcov v)
{
    switch (v) {
    case PDS_VCOV_CLUSTER:
        return "cluster";
    case PDS_VCOV_HC0:
        return "HC0";
    case PDS_VCOV_HC1:
        return "HC1";
    default:
        return "model";
    }
}

const char *pds_fit_info_name(pds_fit_info i)
{
    return i == PDS_INFO_EXPECTED ? "expected" : "observed";
}

/* ---- value formatting -------------------------------------------------- */

/* A CSV number: empty when NaN, Inf/-Inf as R and pandas read them. */
static void csv_num(FILE *o, double v)
{
    if (isnan(v))
        return;
    if (isinf(v))
        fputs(v > 0 ? "Inf" : "-Inf", o);
    else
        fprintf(o, "%.17g", v);
}

/* A CSV text field (quoted when needed, formulas neutralised). */
static void csv_str(FILE *o, const char *s)
{
    if (s)
        pds_csv_text(o, s);
}

/* A JSON number; null for NaN and infinities (JSON has neither). */
static void json_num(FILE *o, double v)
{
    if (isfinite(v))
        fprintf(o, "%.17g", v);
    else
        fputs("null", o);
}

static void json_str(FILE *o, const char *s)
{
    if (!s) {
        fputs("null", o);
        return;
    }
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(o, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(o, "\\u%04x", *p);
        else
            fputc(*p, o);
    }
    fputc('"', o);
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

static const char *estimator_name(const pds_fit_report *f)
{
    return f->firth ? "firth" : "ml";
}

/* ---- the fitted model -------------------------------------------------- */

/* A term's variable, transform and parameters as model-file keys, each
 * followed by ", " (the same keys the model loader reads). */
static void quoted(FILE *o, const char *v)
{
    fputc('"', o);
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', o);
        fputc(*c, o);
    }
    fputc('"', o);
}

static void write_term_spec(FILE *o, const pds_term *t)
{
    if (t->kind == PDS_TERM_INTERACTION) {
        /* the factors inline, so that the file stands alone */
        fputs("interact: [", o);
        for (size_t i = 0; i < t->n_factors; i++) {
            fputs(i ? ", {name: " : "{name: ", o);
            quoted(o, t->factors[i].name);
            fputs(", ", o);
            write_term_spec(o, &t->factors[i]);
            fputs("coef: 0}", o);
        }
        fputs("], ", o);
        if (t->fixed)
            fputs("fixed: true, ", o);
        return;
    }
    if (t->kind == PDS_TERM_PANEL) {
        fputs("variable: ", o);
        quoted(o, t->variable);
        fputs(", ", o);
    } else if (t->kind == PDS_TERM_UNIT_ATTR) {
        fputs("unit: ", o);
        quoted(o, t->unit_attr);
        fputs(", ", o);
    } else {
        fprintf(o, "dynamic: %s, ", pds_term_kind_name(t->kind));
    }
    if (t->level) {
        fputs("level: ", o);
        quoted(o, t->level);
        fputs(", ", o);
    }
    if (t->has_lag)
        fprintf(o, "lag: %d, ", t->lag);
    if (t->transform == PDS_TRANSFORM_LOG)
        fputs("transform: log, ", o);
    else if (t->transform == PDS_TRANSFORM_LOG1P)
        fputs("transform: log1p, ", o);
    if (t->kind == PDS_TERM_DOCUMENT_STOCK)
        fprintf(o, "half_life: %.17g, ", t->half_life);
    if (t->kind == PDS_TERM_RECENT_DOCUMENTS)
        fprintf(o, "window: %d, ", t->window);
    if (t->kind == PDS_TERM_YEAR && t->power > 1)
        fprintf(o, "power: %d, ", t->power);
    if (t->has_interval)
        fprintf(o, "interval: [%.17g, %.17g], ", t->lo, t->hi);
    if (t->n_knots > 0) {
        fputs("spline: {knots: [", o);
        for (int i = 0; i < t->n_knots; i++)
            fprintf(o, "%s%.17g", i ? ", " : "", t->knots[i]);
        fprintf(o, "], basis: %d}, ", t->basis);
    }
    if (t->fixed)
        fputs("fixed: true, ", o);
}

static void yaml_list(FILE *o, const char *key, const double *v, size_t p)
{
    fprintf(o, "  %s: [", key);
    for (size_t j = 0; j < p; j++)
        fprintf(o, "%s%.17g", j ? ", " : "", v[j]);
    fputs("]\n", o);
}

/* The posterior: block of a Bayesian fit (model_io.c reads it back). */
static void write_posterior(FILE *o, const pds_fit_report *f)
{
    const pds_mcmc_result *r = f->mcmc;
    fputs("posterior:\n  method: \"hmc\"\n  ", o);
    yaml_str(o, "prior", f->prior_desc);
    fprintf(o, "  chains: %zu\n  warmup: %zu\n  draws: %zu\n  seed: %llu\n  ", r->chains,
            f->warmup, r->n_draws, (unsigned long long)f->seed);
    yaml_str(o, "draws_file", f->draws_file);
    yaml_list(o, "mean", r->mean, r->p);
    yaml_list(o, "sd", r->sd, r->p);
    yaml_list(o, "q05", r->q05, r->p);
    yaml_list(o, "q50", r->q50, r->p);
    yaml_list(o, "q95", r->q95, r->p);
    yaml_list(o, "rhat", r->rhat, r->p);
    yaml_list(o, "ess", r->ess, r->p);
}

int pds_fit_write_model(FILE *o, const pds_fit_report *f, const char *dataset)
{
    const pds_model *m = f->spec;
    const pds_fit_result *x = f->res;
    char buf[1024];
    fprintf(o, "# Fitted by pdsim fit: %zu events in %zu unit-years at risk (%d..%d), %zu units\n",
            x->n_events, x->n, f->pp->first_year, f->pp->last_year, f->pp->n_units_at_risk);
    fprintf(o, "# log-likelihood %.17g, -2LL %.17g, AIC %.17g, BIC %.17g\n", x->loglik,
            x->deviance, x->aic, x->bic);
    fprintf(o, "# null log-likelihood %.17g, LR chi2 %.17g on %d df, p %.6g\n", x->loglik_null,
            x->lr_chi2, x->lr_df, x->lr_pvalue);
    fprintf(o, "# pseudo-R2: McFadden %.6f, Cox-Snell %.6f, Nagelkerke %.6f\n", x->r2_mcfadden,
            x->r2_coxsnell, x->r2_nagelkerke);
    fprintf(o, "# %s information, %s covariance%s%s; %d iterations, %s\n",
            pds_fit_info_name(x->information), pds_fit_vcov_name(x->vcov),
            f->cluster ? " by " : "", f->cluster ? f->cluster : "", x->iterations,
            x->converged ? "converged" : "NOT converged");
    if (f->mcmc)
        fprintf(o, "# Bayesian fit: coef = posterior mode, se = Laplace sd, covariance = Laplace "
                   "(inverse negative Hessian of the log posterior at the mode); %zu chains x %zu "
                   "draws by HMC, max R-hat %.4f, min bulk ESS %.0f\n",
                f->mcmc->chains, f->mcmc->n_draws, f->mcmc->max_rhat, f->mcmc->min_ess);
    yaml_str(o, "name", m->name);
    snprintf(buf, sizeof buf, "%s, estimated by pdsim fit", m->description ? m->description : m->name);
    yaml_str(o, "description", buf);
    snprintf(buf, sizeof buf, "pdsim fit on %s, years %d..%d, %s%s, %s covariance%s%s; specification from %s",
             dataset, f->pp->first_year, f->pp->last_year, pds_fit_link_name(f->link),
             f->firth ? ", Firth penalized likelihood" : "", pds_fit_vcov_name(x->vcov),
             f->cluster ? " by " : "", f->cluster ? f->cluster : "", m->path ? m->path : "?");
    if (f->mcmc) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, "; posterior mode under the prior %s",
                 f->prior_desc ? f->prior_desc : "?");
    }
    yaml_str(o, "source", buf);
    fprintf(o, "link: %s\nlag: %d\n", pds_fit_link_name(f->link), m->lag);
    fprintf(o, "intercept: {coef: %.17g, se: %.17g}\nterms:%s\n", x->beta[0], x->se[0],
            m->n_terms ? "" : " []");
    for (size_t j = 0; j < m->n_terms; j++) {
        const pds_term *t = &m->terms[j];
        fprintf(o, "  - {name: \"%s\", ", t->name);
        write_term_spec(o, t);
        fprintf(o, "coef: %.17g, se: %.17g}\n", x->beta[j + 1], x->se[j + 1]);
    }
    fputs("covariance:\n", o);
    for (size_t r = 0; r < x->p; r++) {
        fputs("  - [", o);
        for (size_t c = 0; c < x->p; c++)
            fprintf(o, "%s%.17g", c ? ", " : "", x->cov[r * x->p + c]);
        fputs("]\n", o);
    }
    if (f->mcmc)
        write_posterior(o, f);
    return ferror(o) ? -1 : 0;
}

int pds_fit_write_draws(FILE *o, const pds_fit_report *f)
{
    const pds_mcmc_result *r = f->mcmc;
    fputs("chain,draw", o);
    for (size_t j = 0; j < r->p; j++) {
        fputc(',', o);
        csv_str(o, f->colnames[j]);
    }
    fputc('\n', o);
    for (size_t c = 0; c < r->chains; c++)
        for (size_t i = 0; i < r->n_draws; i++) {
            const double *b = r->draws + (c * r->n_draws + i) * r->p;
            fprintf(o, "%zu,%zu", c + 1, i + 1);
            for (size_t j = 0; j < r->p; j++)
                fprintf(o, ",%.17g", b[j]);
            fputc('\n', o);
        }
    return ferror(o) ? -1 : 0;
}

/* ---- the unit-year table ----------------------------------------------- */

/* Column names of the table: unit, year, adopted, then one per regressor;
 * a regressor whose name is already taken gets the suffix _term (then
 * _term2, ...), so that every name is unique. names[j] for j >= 1 are
 * written into buf (size p * 80). */
static void table_names(const pds_fit_report *f, char *buf, const char **names)
{
    size_t p = f->pp->p;
    static const char *fixed[] = {"unit", "year", "adopted"};
    for (size_t j = 1; j < p; j++) {
        const char *base = f->colnames[j];
        char *dst = buf + (j - 1) * 80;
        for (int k = 1;; k++) {
            if (k == 1)
                snprintf(dst, 80, "%s", base);
            else if (k == 2)
                snprintf(dst, 80, "%s_term", base);
            else
                snprintf(dst, 80, "%s_term%d", base, k - 1);
            int taken = 0;
            for (size_t a = 0; a < 3 && !taken; a++)
                taken = strcmp(dst, fixed[a]) == 0;
            for (size_t a = 1; a < j && !taken; a++)
                taken = strcmp(dst, names[a]) == 0;
            if (!taken)
                break;
        }
        names[j] = dst;
    }
}

int pds_fit_write_table(FILE *o, const pds_fit_report *f, const pds_world *w)
{
    const pds_pp_table *t = f->pp;
    char *buf = malloc(t->p * 80 + 1);
    const char **names = malloc(t->p * sizeof *names);
    if (!buf || !names) {
        free(buf);
        free(names);
        return -1;
    }
    table_names(f, buf, names);
    fputs("unit,year,adopted", o);
    for (size_t j = 1; j < t->p; j++) {
        fputc(',', o);
        csv_str(o, names[j]);
    }
    fputc('\n', o);
    for (size_t r = 0; r < t->n; r++) {
        csv_str(o, w->units[t->unit[r]].code);
        fprintf(o, ",%d,%.0f", t->year[r], t->y[r]);
        for (size_t j = 1; j < t->p; j++)
            fprintf(o, ",%.17g", t->X[r * t->p + j]);
        fputc('\n', o);
    }
    free(buf);
    free(names);
    return ferror(o) ? -1 : 0;
}

static pds_fit_data report_data(const pds_fit_report *f)
{
    pds_fit_data d = {.n = f->pp->n, .p = f->pp->p, .X = f->pp->X, .y = f->pp->y,
                      .intercept_col = 0};
    return d;
}

int pds_fit_write_hazards(FILE *o, const pds_fit_report *f, size_t nf, const pds_world *w)
{
    fputs("model,unit,year,adopted,linear.predictor,linear.predictor.std.error,hazard\n", o);
    for (size_t i = 0; i < nf; i++) {
        if (!f[i].res)
            continue;
        const pds_pp_table *t = f[i].pp;
        double *eta = malloc((t->n + 1) * sizeof *eta);
        double *se = malloc((t->n + 1) * sizeof *se);
        double *h = malloc((t->n + 1) * sizeof *h);
        if (!eta || !se || !h) {
            free(eta);
            free(se);
            free(h);
            return -1;
        }
        pds_fit_data d = report_data(&f[i]);
        pds_fit_predict(&d, f[i].res, f[i].link, eta, se, h);
        for (size_t r = 0; r < t->n; r++) {
            csv_str(o, f[i].spec->name);
            fputc(',', o);
            csv_str(o, w->units[t->unit[r]].code);
            fprintf(o, ",%d,%.0f,", t->year[r], t->y[r]);
            csv_num(o, eta[r]);
            fputc(',', o);
            csv_num(o, se[r]);
            fputc(',', o);
            csv_num(o, h[r]);
            fputc('\n', o);
        }
        free(eta);
        free(se);
        free(h);
    }
    return ferror(o) ? -1 : 0;
}

/* ---- tidy and glance --------------------------------------------------- */

/* The interval reported as conf.low/conf.high: profile-likelihood when it
 * was computed, else Wald. */
static int has_profile(const pds_fit_result *x)
{
    for (size_t j = 0; j < x->p; j++)
        if (!isnan(x->prof_low[j]) || !isnan(x->prof_high[j]))
            return 1;
    return 0;
}

int pds_fit_write_tidy(FILE *o, const pds_fit_report *f, size_t nf)
{
    fputs("model,term,estimate,std.error,statistic,p.value,conf.low,conf.high,conf.level,"
          "conf.method,exp.estimate,exp.conf.low,exp.conf.high,vif,ame,ame.std.error\n",
          o);
    for (size_t i = 0; i < nf; i++) {
        const pds_fit_result *x = f[i].res;
        if (!x)
            continue;
        int prof = has_profile(x);
        for (size_t j = 0; j < x->p; j++) {
            double lo = prof ? x->prof_low[j] : x->conf_low[j];
            double hi = prof ? x->prof_high[j] : x->conf_high[j];
            double v[] = {x->beta[j], x->se[j], x->z[j], x->pvalue[j], lo, hi, x->level};
            csv_str(o, f[i].spec->name);
            fputc(',', o);
            csv_str(o, f[i].colnames[j]);
            for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
                fputc(',', o);
                csv_num(o, v[k]);
            }
            int held = f[i].pp->held && f[i].pp->held[j];
            fprintf(o, ",%s,", held ? "fixed" : prof ? "profile" : "wald");
            csv_num(o, exp(x->beta[j]));
            fputc(',', o);
            csv_num(o, exp(lo));
            fputc(',', o);
            csv_num(o, exp(hi));
            fputc(',', o);
            csv_num(o, x->vif[j]);
            fputc(',', o);
            csv_num(o, f[i].ame ? f[i].ame[j] : NAN);
            fputc(',', o);
            csv_num(o, f[i].ame ? f[i].ame_se[j] : NAN);
            fputc('\n', o);
        }
    }
    return ferror(o) ? -1 : 0;
}

/* The glance statistics: names (broom's glance.glm first) and values. */
#define N_GLANCE_NUM 20
static const char *const glance_num_names[N_GLANCE_NUM] = {
    "null.deviance", "df.null",   "logLik",       "AIC",          "BIC",
    "deviance",      "df.residual", "nobs",       "n.events",     "n.units",
    "n.clusters",    "logLik.null", "lr.statistic", "lr.df",      "lr.p.value",
    "r2.mcfadden",   "r2.coxsnell", "r2.nagelkerke", "iterations", "step.se"};

static void glance_values(const pds_fit_report *f, double *v)
{
    const pds_fit_result *x = f->res;
    double vals[N_GLANCE_NUM] = {-2.0 * x->loglik_null,
                                 (double)x->n - 1.0,
                                 x->loglik,
                                 x->aic,
                                 x->bic,
                                 x->deviance,
                                 (double)x->n - (double)(x->p - f->pp->n_held),
                                 (double)x->n,
                                 (double)x->n_events,
                                 (double)f->pp->n_units_at_risk,
                                 x->vcov == PDS_VCOV_CLUSTER ? (double)x->n_clusters : NAN,
                                 x->loglik_null,
                                 x->lr_chi2,
                                 (double)x->lr_df,
                                 x->lr_pvalue,
                                 x->r2_mcfadden,
                                 x->r2_coxsnell,
                                 x->r2_nagelkerke,
                                 (double)x->iterations,
                                 x->step_se};
    memcpy(v, vals, sizeof vals);
}

int pds_fit_write_glance(FILE *o, const pds_fit_report *f, size_t nf)
{
    fputs("model,link,estimator,information,vcov,cluster,first.year,last.year", o);
    for (size_t k = 0; k < N_GLANCE_NUM; k++)
        fprintf(o, ",%s", glance_num_names[k]);
    fputs(",converged\n", o);
    for (size_t i = 0; i < nf; i++) {
        const pds_fit_result *x = f[i].res;
        if (!x)
            continue;
        csv_str(o, f[i].spec->name);
        fprintf(o, ",%s,%s,%s,%s,", pds_fit_link_name(f[i].link), estimator_name(&f[i]),
                pds_fit_info_name(x->information), pds_fit_vcov_name(x->vcov));
        csv_str(o, f[i].cluster);
        fprintf(o, ",%d,%d", f[i].pp->first_year, f[i].pp->last_year);
        double v[N_GLANCE_NUM];
        glance_values(&f[i], v);
        for (size_t k = 0; k < N_GLANCE_NUM; k++) {
            fputc(',', o);
            csv_num(o, v[k]);
        }
        fprintf(o, ",%s\n", x->converged ? "TRUE" : "FALSE");
    }
    return ferror(o) ? -1 : 0;
}

int pds_fit_write_json(FILE *o, const pds_fit_report *f, size_t nf, const pds_fit_lrtest *lr,
                       size_t nlr, const char *dataset)
{
    fputs("{\n  \"dataset\": ", o);
    json_str(o, dataset);
    fputs(",\n  \"models\": [", o);
    int first = 1;
    for (size_t i = 0; i < nf; i++) {
        const pds_fit_result *x = f[i].res;
        if (!x)
            continue;
        fprintf(o, "%s\n    {\n      \"model\": ", first ? "" : ",");
        first = 0;
        json_str(o, f[i].spec->name);
        fputs(",\n      \"file\": ", o);
        json_str(o, f[i].spec->path);
        fprintf(o, ",\n      \"link\": \"%s\",\n      \"estimator\": \"%s\",\n"
                   "      \"information\": \"%s\",\n      \"vcov\": \"%s\",\n      \"cluster\": ",
                pds_fit_link_name(f[i].link), estimator_name(&f[i]),
                pds_fit_info_name(x->information), pds_fit_vcov_name(x->vcov));
        json_str(o, f[i].cluster);
        fprintf(o, ",\n      \"first.year\": %d,\n      \"last.year\": %d,\n      \"glance\": {",
                f[i].pp->first_year, f[i].pp->last_year);
        double v[N_GLANCE_NUM];
        glance_values(&f[i], v);
        for (size_t k = 0; k < N_GLANCE_NUM; k++) {
            fprintf(o, "%s\n        \"%s\": ", k ? "," : "", glance_num_names[k]);
            json_num(o, v[k]);
        }
        fprintf(o, ",\n        \"converged\": %s\n      },\n      \"tidy\": [",
                x->converged ? "true" : "false");
        int prof = has_profile(x);
        for (size_t j = 0; j < x->p; j++) {
            fprintf(o, "%s\n        {\"term\": ", j ? "," : "");
            json_str(o, f[i].colnames[j]);
            static const char *const keys[] = {"estimate", "std.error", "statistic", "p.value",
                                               "conf.low", "conf.high", "wald.conf.low",
                                               "wald.conf.high", "profile.conf.low",
                                               "profile.conf.high", "exp.estimate", "vif",
                                               "ame", "ame.std.error"};
            double lo = prof ? x->prof_low[j] : x->conf_low[j];
            double hi = prof ? x->prof_high[j] : x->conf_high[j];
            double vals[] = {x->beta[j],
                             x->se[j],
                             x->z[j],
                             x->pvalue[j],
                             lo,
                             hi,
                             x->conf_low[j],
                             x->conf_high[j],
                             x->prof_low[j],
                             x->prof_high[j],
                             exp(x->beta[j]),
                             x->vif[j],
                             f[i].ame ? f[i].ame[j] : NAN,
                             f[i].ame ? f[i].ame_se[j] : NAN};
            for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
                fprintf(o, ", \"%s\": ", keys[k]);
                json_num(o, vals[k]);
            }
            fprintf(o, ", \"conf.level\": %.17g, \"conf.method\": \"%s\"}", x->level,
                    f[i].pp->held && f[i].pp->held[j] ? "fixed"
                    : prof                            ? "profile"
                                                      : "wald");
        }
        fputs("\n      ],\n      \"vcov\": [", o);
        for (size_t r = 0; r < x->p; r++) {
            fprintf(o, "%s\n        [", r ? "," : "");
            for (size_t c = 0; c < x->p; c++) {
                if (c)
                    fputs(", ", o);
                json_num(o, x->cov[r * x->p + c]);
            }
            fputc(']', o);
        }
        fputs("\n      ]\n    }", o);
    }
    fputs("\n  ],\n  \"lrtests\": [", o);
    for (size_t k = 0; k < nlr; k++) {
        fprintf(o, "%s\n    {\"model\": ", k ? "," : "");
        json_str(o, f[lr[k].big].spec->name);
        fputs(", \"nested\": ", o);
        json_str(o, f[lr[k].small].spec->name);
        fputs(", \"statistic\": ", o);
        json_num(o, lr[k].statistic);
        fprintf(o, ", \"df\": %d, \"p.value\": ", lr[k].df);
        json_num(o, lr[k].p_value);
        fputc('}', o);
    }
    fputs("\n  ]\n}\n", o);
    return ferror(o) ? -1 : 0;
}
