#include "backtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pp.h"
#include "summary.h"

const char *const pds_backtest_names[PDS_BT_N] = {"model", "model, channels off", "constant hazard",
                                                  "logistic curve"};

void pds_backtest_truncate(pds_world *w, int cutoff)
{
    for (size_t u = 0; u < w->n_units; u++)
        if (w->units[u].adoption_year > cutoff)
            w->units[u].adoption_year = 0;
    for (size_t i = 0; i < w->n_subunits; i++)
        if (w->subunits[i].adoption_year > cutoff)
            w->subunits[i].adoption_year = 0;
    size_t n = 0;
    for (size_t i = 0; i < w->n_subunit_counts; i++)
        if (w->subunit_counts[i].year <= cutoff)
            w->subunit_counts[n++] = w->subunit_counts[i];
    w->n_subunit_counts = n;
    n = 0;
    for (size_t i = 0; i < w->n_documents; i++)
        if (w->documents[i].year <= cutoff)
            w->documents[n++] = w->documents[i];
    w->n_documents = n;
    /* the panel keeps its shape (its index depends on it); later values become missing */
    if (w->panel) {
        size_t ny = (size_t)(w->panel_last_year - w->panel_first_year + 1);
        for (size_t u = 0; u < w->n_units; u++)
            for (int y = cutoff + 1; y <= w->panel_last_year; y++) {
                if (y < w->panel_first_year)
                    continue;
                double *row = w->panel + (u * ny + (size_t)(y - w->panel_first_year)) * w->n_vars;
                for (size_t v = 0; v < w->n_vars; v++)
                    row[v] = NAN;
            }
    }
}

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    char *d = malloc(strlen(s) + 1);
    return d ? strcpy(d, s) : NULL;
}

static pds_model *model_clone(const pds_model *m)
{
    pds_model *c = pds_model_create();
    if (!c)
        return NULL;
    *c = *m;
    c->name = dup_str(m->name);
    c->path = dup_str(m->path);
    c->description = dup_str(m->description);
    c->source = dup_str(m->source);
    c->cov = NULL;
    c->post_draws = NULL;
    c->post_draws_path = dup_str(m->post_draws_path);
    size_t nd = m->post_draws ? m->n_post_draws * (m->n_terms + 1) : 0;
    if (nd) {
        c->post_draws = malloc(nd * sizeof(double));
        if (c->post_draws)
            memcpy(c->post_draws, m->post_draws, nd * sizeof(double));
    } else {
        c->n_post_draws = 0;
    }
    c->terms = calloc(m->n_terms + 1, sizeof *c->terms);
    int bad = !c->name || !c->terms || (nd && !c->post_draws) ||
              (m->post_draws_path && !c->post_draws_path);
    for (size_t j = 0; !bad && j < m->n_terms; j++) {
        bad = pds_term_copy(&c->terms[j], &m->terms[j]) != 0;
        if (bad)
            c->n_terms = j;
    }
    if (bad) {
        if (!c->terms)
            c->n_terms = 0;
        pds_model_free(c);
        return NULL;
    }
    return c;
}

pds_status pds_backtest_refit(const pds_world *w, const pds_model *spec, int first_year,
                              int last_year, const pds_fit_options *fopt, pds_diag *diag,
                              pds_model **out)
{
    *out = NULL;
    pds_pp_table *t = NULL;
    /* a specification's factors become level terms on this history */
    pds_model *expanded = NULL;
    int has_factor = 0;
    for (size_t j = 0; j < spec->n_terms; j++) {
        has_factor |= spec->terms[j].factor;
        for (size_t i = 0; i < spec->terms[j].n_factors; i++)
            has_factor |= spec->terms[j].factors[i].factor;
    }
    if (has_factor) {
        expanded = model_clone(spec);
        if (!expanded)
            return PDS_ERR_RUNTIME;
        pds_status xs = pds_model_expand_factors(expanded, w, diag);
        if (xs != PDS_OK) {
            pds_model_free(expanded);
            return xs;
        }
        spec = expanded;
    }
    pds_status st = pds_pp_build(w, spec, first_year, last_year, diag, &t);
    if (st != PDS_OK) {
        pds_model_free(expanded);
        return st;
    }
    const char *names[64];
    names[0] = "(constant)";
    for (size_t j = 0; j < spec->n_terms && j < 63; j++)
        names[j + 1] = spec->terms[j].name;
    pds_fit_data d = {.n = t->n,
                      .p = t->p,
                      .X = t->X,
                      .y = t->y,
                      .intercept_col = 0,
                      .names = spec->n_terms < 63 ? names : NULL,
                      .held = t->held,
                      .held_value = t->held_value};
    pds_fit_result *r = NULL;
    st = pds_fit(&d, fopt, diag, &r);
    if (st == PDS_OK && !r->converged) {
        pds_diag_add(diag, spec->path, 0, 0, "model '%s': the refit did not converge", spec->name);
        st = PDS_ERR_INPUT;
    }
    pds_model *m = st == PDS_OK ? model_clone(spec) : NULL;
    if (m) {
        /* a refit has no posterior sample: the spec's draws do not belong to it */
        free(m->post_draws);
        m->post_draws = NULL;
        m->n_post_draws = 0;
    }
    if (st == PDS_OK && !m)
        st = PDS_ERR_RUNTIME;
    if (m) {
        m->cov = malloc(t->p * t->p * sizeof(double));
        if (!m->cov) {
            st = PDS_ERR_RUNTIME;
        } else {
            memcpy(m->cov, r->cov, t->p * t->p * sizeof(double));
            m->link = fopt->link;
            m->intercept = r->beta[0];
            m->intercept_se = r->se[0];
            for (size_t j = 0; j < m->n_terms; j++) {
                m->terms[j].coef = r->beta[j + 1];
                m->terms[j].se = r->se[j + 1];
            }
        }
    }
    pds_fit_result_free(r);
    pds_pp_free(t);
    pds_model_free(expanded);
    if (st != PDS_OK) {
        pds_model_free(m);
        return st;
    }
    /* every coefficient is now estimated */
    m->spec_only = 0;
    m->spec_line = 0;
    *out = m;
    return PDS_OK;
}

pds_status pds_backtest_recalibrate(const pds_world *w, const pds_model *m, int first_year,
                                    int last_year, pds_diag *diag, pds_model **out, double *shift)
{
    *out = NULL;
    pds_pp_table *t = NULL;
    pds_status st = pds_pp_build(w, m, first_year, last_year, diag, &t);
    if (st == PDS_OK)
        st = pds_pp_intercept_shift(t, m, shift, diag);
    pds_pp_free(t);
    if (st != PDS_OK)
        return st;
    *out = model_clone(m);
    if (!*out)
        return PDS_ERR_RUNTIME;
    (*out)->intercept += *shift;
    /* posterior draws, if any, move with the intercept */
    for (size_t d = 0; d < (*out)->n_post_draws && (*out)->post_draws; d++)
        (*out)->post_draws[d * ((*out)->n_terms + 1)] += *shift;
    if (m->cov) {
        size_t p = m->n_terms + 1;
        (*out)->cov = malloc(p * p * sizeof(double));
        if (!(*out)->cov) {
            pds_model_free(*out);
            *out = NULL;
            return PDS_ERR_RUNTIME;
        }
        memcpy((*out)->cov, m->cov, p * p * sizeof(double));
    }
    return PDS_OK;
}

void pds_backtest_free(pds_backtest_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < PDS_BT_N; i++) {
        free(r->f[i].hazard);
        free(r->f[i].unit_brier);
        free(r->f[i].unit_log);
        free(r->f[i].unit_rps);
        free(r->f[i].count_q);
        free(r->f[i].count_mean);
    }
    free(r->risk_unit);
    free(r->outcome);
    free(r->observed_count);
    free(r);
}

static const double count_probs[3] = {0.1, 0.5, 0.9};

/* Simulate the (possibly switched-off) model from the cutoff; hazards from
 * the Monte Carlo adoption-year distribution, counts from the national one. */
static pds_status forecast_model(const pds_world *w, const pds_model *um, const pds_model *sm,
                                 const pds_backtest_options *opt, unsigned off,
                                 pds_backtest_result *r, pds_backtest_forecast *f, pds_diag *diag)
{
    pds_sim_options so = opt->sim;
    so.base_year = r->cutoff;
    so.horizon = r->last_year;
    so.forced = NULL;
    so.n_forced = 0;
    so.shocks = NULL;
    so.n_shocks = 0;
    so.channels_off = off;
    size_t K = opt->models && opt->n_models > 1 ? opt->n_models : 1;
    pds_sim **sims = calloc(K, sizeof *sims);
    if (!sims)
        return PDS_ERR_RUNTIME;
    pds_status st = PDS_OK;
    for (size_t k = 0; k < K && st == PDS_OK; k++)
        st = pds_sim_create(w, k == 0 ? um : opt->models[k], sm, &so, diag, &sims[k]);
    pds_summary *sum = st == PDS_OK ? pds_summary_create(w->n_units, r->n_years, r->cutoff + 1)
                                    : NULL;
    if (st == PDS_OK && !sum)
        st = PDS_ERR_RUNTIME;
    if (st == PDS_OK) {
        pds_run_options ro = opt->run;
        ro.sink = NULL;
        ro.keep_subunits = 0;
        if (K > 1) {
            ro.alternatives = (const pds_sim *const *)sims;
            ro.cum_weights = opt->cum_weights;
            ro.n_alternatives = K;
        }
        st = pds_engine_run(sims[0], &ro, sum);
    }
    if (st == PDS_OK) {
        for (size_t i = 0; i < r->n_risk; i++)
            pds_score_mc_hazard(sum->adopted_by_year + r->risk_unit[i] * r->n_years, sum->n_runs,
                                r->n_years, f->hazard + i * r->n_years);
        for (size_t k = 0; k < r->n_years; k++) {
            for (size_t q = 0; q < 3; q++)
                f->count_q[k * 3 + q] = pds_summary_national_quantile(sum, k, count_probs[q]);
            f->count_mean[k] = pds_summary_national_mean(sum, k);
        }
    }
    pds_summary_free(sum);
    for (size_t k = 0; k < K; k++)
        pds_sim_free(sims[k]);
    free(sims);
    return st;
}

pds_status pds_backtest_check_window(const pds_world *w, int first_year, int cutoff, pds_diag *diag)
{
    for (size_t u = 0; u < w->n_units; u++) {
        int a = w->units[u].adoption_year;
        if (a >= first_year && a <= cutoff && a != 0)
            return PDS_OK;
    }
    if (cutoff < first_year)
        pds_diag_add(diag, NULL, 0, 0,
                     "cutoff %d leaves no adoption to fit on: the fit window starts in %d", cutoff,
                     first_year);
    else
        pds_diag_add(diag, NULL, 0, 0,
                     "cutoff %d leaves no adoption to fit on: no unit adopted in %d..%d", cutoff,
                     first_year, cutoff);
    return PDS_ERR_INPUT;
}

/* The baselines' parameters, fitted on the window first_year..cutoff. */
static pds_status fit_baselines(const pds_world *w, pds_backtest_result *r, pds_diag *diag)
{
    pds_status st = pds_backtest_check_window(w, r->first_year, r->cutoff, diag);
    if (st != PDS_OK)
        return st;
    pds_model *empty = pds_model_create();
    if (!empty)
        return PDS_ERR_RUNTIME;
    pds_pp_table *t = NULL;
    st = pds_pp_build(w, empty, r->first_year, r->cutoff, diag, &t);
    pds_model_free(empty);
    if (st != PDS_OK)
        return st;
    double events = 0.0;
    for (size_t i = 0; i < t->n; i++)
        events += t->y[i];
    r->fit_events = (size_t)events;
    r->fit_unit_years = t->n;
    pds_pp_free(t);
    if (r->fit_events == 0) {
        pds_diag_add(diag, NULL, 0, 0,
                     "cutoff %d leaves no adoption to fit on: no unit adopted in %d..%d", r->cutoff,
                     r->first_year, r->cutoff);
        return PDS_ERR_INPUT;
    }
    r->constant_rate = events / (double)r->fit_unit_years;

    /* logistic growth curve of the cumulative share adopted (ceiling: all
     * units), fitted as a binomial regression of "adopted by the end of t" on
     * t; Firth's penalty keeps it finite when the share is 0 early on */
    size_t ny = (size_t)(r->cutoff - r->first_year + 1), n = w->n_units * ny;
    double *X = malloc((2 * n + 1) * sizeof(double)), *y = malloc((n + 1) * sizeof(double));
    if (!X || !y) {
        free(X);
        free(y);
        return PDS_ERR_RUNTIME;
    }
    size_t row = 0;
    for (size_t u = 0; u < w->n_units; u++)
        for (int yr = r->first_year; yr <= r->cutoff; yr++, row++) {
            int a = w->units[u].adoption_year;
            X[2 * row] = 1.0;
            X[2 * row + 1] = (double)(yr - r->cutoff);
            y[row] = a != 0 && a <= yr;
        }
    static const char *const names[] = {"(constant)", "year"};
    pds_fit_data d = {.n = n, .p = 2, .X = X, .y = y, .intercept_col = 0, .names = names};
    pds_fit_options fo = {.link = PDS_LINK_LOGIT, .firth = 1};
    pds_fit_result *res = NULL;
    st = pds_fit(&d, &fo, diag, &res);
    if (st == PDS_OK) {
        r->logistic_a = res->beta[0];
        r->logistic_b = res->beta[1];
    } else {
        pds_diag_add(diag, NULL, 0, 0, "the logistic growth curve could not be fitted on %d..%d",
                     r->first_year, r->cutoff);
    }
    pds_fit_result_free(res);
    free(X);
    free(y);
    return st;
}

static double clamp01(double p)
{
    return p < PDS_SCORE_EPS ? PDS_SCORE_EPS : p > 1.0 - PDS_SCORE_EPS ? 1.0 - PDS_SCORE_EPS : p;
}

/* The baselines' hazards are clamped to [PDS_SCORE_EPS, 1 - PDS_SCORE_EPS]
 * once, here, so that all three scores (and the exported hazards) see the
 * same values. */
static void baseline_hazards(pds_backtest_result *r)
{
    size_t Y = r->n_years;
    for (size_t k = 0; k < Y; k++) {
        double t = (double)(k + 1);
        double F1 = pds_link_inverse(PDS_LINK_LOGIT, r->logistic_a + r->logistic_b * t);
        double F0 = pds_link_inverse(PDS_LINK_LOGIT, r->logistic_a + r->logistic_b * (t - 1.0));
        /* the curve's growth in year t among those not yet adopted */
        double hl = clamp01(F0 < 1.0 ? (F1 - F0) / (1.0 - F0) : 1.0);
        for (size_t i = 0; i < r->n_risk; i++) {
            r->f[PDS_BT_CONSTANT].hazard[i * Y + k] = clamp01(r->constant_rate);
            r->f[PDS_BT_LOGISTIC].hazard[i * Y + k] = hl;
        }
    }
}

pds_status pds_backtest_run(const pds_world *w, const int *observed, const pds_model *unit_model,
                            const pds_model *sub_model, const pds_backtest_options *opt,
                            pds_diag *diag, pds_backtest_result **out)
{
    *out = NULL;
    if (opt->last_year <= opt->cutoff) {
        pds_diag_add(diag, NULL, 0, 0,
                     "cutoff %d leaves no year to forecast: the observed history ends in %d",
                     opt->cutoff, opt->last_year);
        return PDS_ERR_INPUT;
    }
    pds_backtest_result *r = calloc(1, sizeof *r);
    if (!r)
        return PDS_ERR_RUNTIME;
    r->cutoff = opt->cutoff;
    r->last_year = opt->last_year;
    r->first_year = opt->first_year ? opt->first_year : pds_pp_default_first_year(w, unit_model);
    r->n_years = (size_t)(opt->last_year - opt->cutoff);
    r->n_units = w->n_units;
    size_t U = w->n_units, Y = r->n_years;
    r->risk_unit = calloc(U + 1, sizeof(size_t));
    r->outcome = calloc(U + 1, sizeof(int));
    r->observed_count = calloc(Y, sizeof(int));
    if (!r->risk_unit || !r->outcome || !r->observed_count) {
        pds_backtest_free(r);
        return PDS_ERR_RUNTIME;
    }
    for (size_t u = 0; u < U; u++) {
        int a = observed[u];
        if (a != 0 && a <= opt->cutoff) {
            r->n_before++;
            continue;
        }
        r->risk_unit[r->n_risk] = u;
        r->outcome[r->n_risk] = a != 0 && a <= opt->last_year ? a - opt->cutoff - 1 : -1;
        r->n_risk++;
    }
    for (size_t k = 0; k < Y; k++)
        for (size_t u = 0; u < U; u++)
            r->observed_count[k] += observed[u] != 0 && observed[u] <= opt->cutoff + 1 + (int)k;
    if (r->n_risk == 0) {
        pds_diag_add(diag, NULL, 0, 0,
                     "every unit had adopted by the cutoff %d: nothing to forecast", opt->cutoff);
        pds_backtest_free(r);
        return PDS_ERR_INPUT;
    }
    for (int i = 0; i < PDS_BT_N; i++) {
        pds_backtest_forecast *f = &r->f[i];
        f->hazard = calloc(r->n_risk * Y, sizeof(double));
        f->unit_brier = calloc(r->n_risk, sizeof(double));
        f->unit_log = calloc(r->n_risk, sizeof(double));
        f->unit_rps = calloc(r->n_risk, sizeof(double));
        f->count_q = calloc(Y * 3, sizeof(int));
        f->count_mean = calloc(Y, sizeof(double));
        if (!f->hazard || !f->unit_brier || !f->unit_log || !f->unit_rps || !f->count_q ||
            !f->count_mean) {
            pds_backtest_free(r);
            return PDS_ERR_RUNTIME;
        }
    }
    pds_status st = fit_baselines(w, r, diag);
    if (st == PDS_OK)
        st = forecast_model(w, unit_model, sub_model, opt, 0, r, &r->f[PDS_BT_MODEL], diag);
    if (st == PDS_OK) {
        unsigned off = 1u << PDS_TERM_DOCUMENTS | 1u << PDS_TERM_NEIGHBOURS_PCT |
                       1u << PDS_TERM_SUBUNITS_PCT | 1u << PDS_TERM_PARENT_ADOPTED |
                       1u << PDS_TERM_SIBLINGS_PCT;
        st = forecast_model(w, unit_model, sub_model, opt, off, r, &r->f[PDS_BT_NO_CHANNELS], diag);
    }
    if (st != PDS_OK) {
        pds_backtest_free(r);
        return st;
    }
    baseline_hazards(r);
    double *work = malloc((r->n_risk + 1) * sizeof(double));
    if (!work) {
        pds_backtest_free(r);
        return PDS_ERR_RUNTIME;
    }
    for (int i = PDS_BT_CONSTANT; i <= PDS_BT_LOGISTIC; i++)
        pds_score_count_quantiles(r->f[i].hazard, r->n_risk, Y, r->n_before, count_probs, 3,
                                  r->f[i].count_q, r->f[i].count_mean, work);
    free(work);
    for (int i = 0; i < PDS_BT_N && st == PDS_OK; i++) {
        pds_backtest_forecast *f = &r->f[i];
        st = pds_score_compute(f->hazard, r->outcome, r->n_risk, Y, &f->scores, f->unit_brier,
                               f->unit_log, f->unit_rps);
    }
    if (st != PDS_OK) {
        pds_backtest_free(r);
        return PDS_ERR_RUNTIME;
    }
    *out = r;
    return PDS_OK;
}
