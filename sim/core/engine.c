#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <lapacke.h>

#include "dynamic.h"
#include "pcg.h"

/* A run's random numbers come from streams keyed by (seed, run, purpose)
 * (pds_pcg32_stream), so each purpose has its own stream and none depends on
 * another's use. */

struct pds_sim {
    const pds_world *w;
    const pds_model *unit_model;
    const pds_model *sub_model; /* NULL: sub-units keep their initial state */
    int base_year;
    int first_year;
    size_t Y, U, S;
    double *eta0;          /* [U x Y] linear predictor without the neighbour/sub-unit terms */
    double b_nbr;          /* coefficient per percentage point of neighbours adopted */
    double b_sub;          /* coefficient per percentage point of sub-units adopted */
    double *pct_nbr;       /* [U] 100 / number of neighbours, 0 when none */
    double *pct_sub;       /* [U] 100 / number of sub-units, 0 when none */
    double *bn;            /* [U x Y] the coefficient on the neighbour share when an
                            * interaction varies it (b_nbr included), else NULL */
    double *bs;            /* [U x Y] the same for the sub-unit share */
    unsigned char *tstate; /* [terms] pds_term_state of each unit-model term */
    uint64_t *sub_thr;     /* sub-unit adoption thresholds on the 2^32 scale */
    size_t *sub_off;       /* [U] offset of unit p's table: [year][parent adopted][m adopted] */
    int16_t *init_unit;    /* [U] observed year if adopted by the base year, else 0 */
    int16_t *init_sub;     /* [S] same for sub-units */
    int *extra_sub;        /* [U] adopted sub-units to draw beyond the dated ones */
    int any_extra;
    unsigned off;          /* term kinds switched off (bit per pds_term_kind) */
    int16_t *forced;       /* [U] year the unit is made to adopt, 0 = none */
    size_t P1;             /* drawn coefficients (intercept + terms), 0 = none drawn */
    double *xval;          /* [U x Y x terms] value of each static term (0 for the others) */
    double *mean;          /* [P1] estimates */
    double *chol;          /* [P1 x P1] lower Cholesky factor of the covariance */
    int posterior;         /* 1: a posterior draw per run (unit_model->post_draws) instead */
    size_t Q1;             /* drawn sub-unit model coefficients, 0 = none drawn */
    double *sub_mean;      /* [Q1] */
    double *sub_chol;      /* [Q1 x Q1] */
    double *sub_x;         /* [Y x (Q1 - 1)] value of each year-only sub-unit term (documents) */

    /* per-run invariants, computed once (see docs/engine.md) */
    int reference;         /* draw for every agent, adopted or not (the plain loop, for tests) */
    size_t stride;         /* adoption draws per simulated year: U, plus S with a sub-unit model */
    uint64_t n_jump;       /* the jump tables cover strides 0 .. n_jump - 1 */
    uint64_t *jump_mult;   /* [n_jump] a^d */
    uint64_t *jump_gsum;   /* [n_jump] 1 + a + ... + a^(d-1) */
    uint32_t *act_u0;      /* units not adopted at the start of every run, ascending */
    size_t n_act_u0;
    uint32_t *act_s0;      /* positions i in sub_of of sub-units not dated by the base year */
    size_t n_act_s0;
    uint32_t *sub_par;     /* [S] parent of sub_of[i] */
    size_t *pool0;         /* [S] per unit (from sub_start), its sub-units not dated by the
                            * base year, in sub_of order: the candidates of draw_initial */
    size_t *n_pool0;       /* [U] number of them */
    double *nbr_cnt0;      /* [U] adopted-neighbour weight at the start of every run */
    int *sub_cnt0;         /* [U] adopted sub-units at the start of every run */
};

typedef struct scratch {
    double *nbr_cnt; /* [U] weight of adopted neighbours at the end of the previous year */
    int *sub_cnt;   /* [U] adopted sub-units at the end of the previous year */
    size_t *new_u;  /* [U] units adopting this year */
    size_t *new_s;  /* [S] sub-units adopting this year */
    size_t *pool;   /* [S] candidates when drawing initial adopters */
    uint32_t *act_u; /* [U] units not adopted yet, ascending */
    uint32_t *act_s; /* [S] positions in sub_of of sub-units not adopted yet, ascending */
    uint64_t *thr_p; /* [U] this year's sub-unit threshold under each parent */
    double *eta0;   /* [U x Y] this run's static linear predictor (drawn coefficients) */
    double *bn, *bs; /* [U x Y] this run's share coefficients when the sim has bn / bs */
    const double *cn, *cs; /* the share coefficients in force this run: bn / bs (drawn or
                            * the sim's), NULL = the scalars b_nbr / b_sub */
    double *beta;   /* [P1] this run's coefficients */
    double *sub_beta; /* [Q1] this run's sub-unit model coefficients */
} scratch;

static double threshold(double h)
{
    /* adopt when a 32-bit uniform integer is below h * 2^32 */
    if (!(h > 0.0))
        return 0.0;
    if (h >= 1.0)
        return 4294967296.0;
    return h * 4294967296.0;
}

/* Value of variable v for unit u in year y, observed or projected. Returns
 * 0 and sets *out, or -1 with a message. */
static int panel_value(const pds_world *w, const pds_sim_options *opt, size_t u, size_t v,
                       int y, const double *range, double *out, pds_diag *diag, const char *term)
{
    const char *file = opt->panel_file ? opt->panel_file : "panel";
    const char *var = w->var_names[v];
    int last = 0;
    for (int t = w->panel_last_year; t >= w->panel_first_year; t--) {
        if (!isnan(pds_world_panel(w, u, t, v))) {
            last = t;
            break;
        }
    }
    if (!w->panel || last == 0) {
        pds_diag_add(diag, file, 0, 0, "unit %s has no value of '%s' (needed by term '%s')",
                     w->units[u].code, var, term);
        return -1;
    }
    if (y < w->panel_first_year) {
        pds_diag_add(diag, file, 0, 0,
                     "unit %s: '%s' is needed for %d but the panel starts in %d (term '%s')",
                     w->units[u].code, var, y, w->panel_first_year, term);
        return -1;
    }
    if (y <= last) {
        double x = pds_world_panel(w, u, y, v);
        if (isnan(x)) {
            pds_diag_add(diag, file, 0, 0, "unit %s, year %d: '%s' is missing (needed by term '%s')",
                         w->units[u].code, y, var, term);
            return -1;
        }
        *out = x;
        return 0;
    }
    const pds_projection *p = &opt->default_proj;
    for (size_t i = 0; i < opt->n_proj; i++)
        if (opt->proj[i].variable && strcmp(opt->proj[i].variable, var) == 0)
            p = &opt->proj[i];
    double xl = pds_world_panel(w, u, last, v);
    if (p->rule == PDS_PROJ_HOLD) {
        *out = xl;
        return 0;
    }
    /* clamped linear trend: least squares over the last k observed years */
    int k = p->years < 2 ? 2 : p->years;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (int t = last; t >= w->panel_first_year && n < k; t--) {
        double x = pds_world_panel(w, u, t, v);
        if (isnan(x))
            continue;
        double dt = (double)(t - last);
        sx += dt;
        sy += x;
        sxx += dt * dt;
        sxy += dt * x;
        n++;
    }
    /* the fitted line evaluated at the projected year (not the last value
     * continued with the fitted slope) */
    double val = xl;
    double den = n * sxx - sx * sx;
    if (n >= 2 && den > 0.0) {
        double slope = (n * sxy - sx * sy) / den;
        double level = (sy - slope * sx) / n; /* fitted value at t = last */
        val = level + slope * (double)(y - last);
    }
    double lo = isnan(p->min) ? range[0] : p->min;
    double hi = isnan(p->max) ? range[1] : p->max;
    if (val < lo)
        val = lo;
    if (val > hi)
        val = hi;
    *out = val;
    return 0;
}

static void var_range(const pds_world *w, size_t v, double r[2])
{
    r[0] = INFINITY;
    r[1] = -INFINITY;
    for (size_t u = 0; u < w->n_units; u++)
        for (int t = w->panel_first_year; t <= w->panel_last_year; t++) {
            double x = pds_world_panel(w, u, t, v);
            if (isnan(x))
                continue;
            if (x < r[0])
                r[0] = x;
            if (x > r[1])
                r[1] = x;
        }
}

/* A plain (not state-dependent, not interaction) term prepared for binding:
 * its panel column and range, units-file column, or year-only values. */
typedef struct prim {
    const pds_term *t;
    long v;          /* panel column */
    double range[2]; /* the panel column's observed range (projections clamp to it) */
    long a;          /* units-file column */
    double *yr;      /* [Y] year-only values */
} prim;

static pds_status prim_prepare(pds_sim *s, const pds_sim_options *opt, const pds_term *t,
                               prim *p, pds_diag *diag)
{
    const pds_world *w = s->w;
    const pds_model *m = s->unit_model;
    memset(p, 0, sizeof *p);
    p->t = t;
    switch (t->kind) {
    case PDS_TERM_PANEL:
        p->v = pds_world_var_index(w, t->variable);
        if (p->v < 0) {
            pds_diag_add(diag, m->path, t->line, 0,
                         "model '%s': term '%s': no panel column '%s' in %s", m->name, t->name,
                         t->variable, opt->panel_file ? opt->panel_file : "the panel");
            return PDS_ERR_INPUT;
        }
        var_range(w, (size_t)p->v, p->range);
        return PDS_OK;
    case PDS_TERM_UNIT_ATTR:
        p->a = pds_world_unit_attr_index(w, t->unit_attr);
        if (p->a < 0) {
            pds_diag_add(diag, m->path, t->line, 0,
                         "model '%s': term '%s': the units file has no column '%s'", m->name,
                         t->name, t->unit_attr);
            return PDS_ERR_INPUT;
        }
        return PDS_OK;
    case PDS_TERM_PARENT_ADOPTED:
    case PDS_TERM_SIBLINGS_PCT:
        pds_diag_add(diag, m->path, t->line, 0,
                     "model '%s': term '%s': '%s' is a sub-unit variable, not allowed in a unit "
                     "model",
                     m->name, t->name, pds_term_kind_name(t->kind));
        return PDS_ERR_INPUT;
    default:
        break;
    }
    if (!pds_dynamic_is_common(t->kind))
        return PDS_OK;
    p->yr = malloc((s->Y + 1) * sizeof(double));
    if (!p->yr)
        return PDS_ERR_RUNTIME;
    for (size_t k = 0; k < s->Y; k++) {
        int y = s->first_year + (int)k;
        p->yr[k] = pds_dynamic_common(w, t, y, PDS_TERM_LAG(m, t));
        if (isnan(p->yr[k])) {
            pds_diag_add(diag, m->path, t->line, 0,
                         "model '%s': term '%s': transform log1p: the %s for %d is <= -1", m->name,
                         t->name, pds_term_kind_name(t->kind), y);
            return PDS_ERR_INPUT;
        }
    }
    return PDS_OK;
}

/* The value of a prepared plain term for unit u in simulated year k: the
 * panel observed or projected (with the scenario's shocks), the unit
 * attribute, or the year-only value; 1 for the state-dependent kinds, whose
 * share the run supplies. */
static pds_status prim_value(const pds_sim *s, const pds_sim_options *opt, const prim *p, size_t u,
                             size_t k, double *out, pds_diag *diag)
{
    const pds_world *w = s->w;
    const pds_term *t = p->t;
    if (p->yr) {
        *out = p->yr[k];
        return PDS_OK;
    }
    if (t->kind == PDS_TERM_UNIT_ATTR) {
        if (pds_term_unit_attr_x(w, t, (size_t)p->a, u, out) != 0) {
            pds_diag_add(diag, w->units_path, 0, 0,
                         "unit %s: '%s' = \"%s\" is not a number%s (term '%s'; a text column "
                         "enters as a factor: factor: true, reference: LEVEL)",
                         w->units[u].code, t->unit_attr, pds_world_unit_attr(w, u, (size_t)p->a),
                         t->transform ? " that can be logged" : "", t->name);
            return PDS_ERR_INPUT;
        }
        return PDS_OK;
    }
    if (t->kind != PDS_TERM_PANEL) {
        *out = 1.0;
        return PDS_OK;
    }
    int cy = s->first_year + (int)k - PDS_TERM_LAG(s->unit_model, t);
    double x;
    if (panel_value(w, opt, u, (size_t)p->v, cy, p->range, &x, diag, t->name) != 0)
        return PDS_ERR_INPUT;
    for (size_t q = 0; q < opt->n_shocks; q++) {
        const pds_shock *sh = &opt->shocks[q];
        if ((sh->unit < 0 || (size_t)sh->unit == u) && cy >= sh->from && cy <= sh->to &&
            strcmp(sh->variable, t->variable) == 0)
            x = sh->add ? x + sh->amount : sh->amount;
    }
    if (pds_term_transform_x(t, x, out) != 0) {
        if (t->transform == PDS_TRANSFORM_LOG1P)
            pds_diag_add(diag, opt->panel_file, 0, 0,
                         "unit %s, year %d: '%s' = %g: log(1 + x) needs x > -1 (term '%s')",
                         w->units[u].code, cy, t->variable, x, t->name);
        else
            pds_diag_add(diag, opt->panel_file, 0, 0,
                         "unit %s, year %d: '%s' = %g cannot be logged (term '%s')",
                         w->units[u].code, cy, t->variable, x, t->name);
        return PDS_ERR_INPUT;
    }
    return PDS_OK;
}

/* Every term's static value x(u, k): the term itself, or for an interaction
 * the product of its plain factors. A term that is or multiplies the share of
 * neighbours (sub-units) adopted adds coef * x(u, k) to that share's
 * coefficient in (u, k) (b_nbr, or bn[u, k] when some term varies it); the
 * others add coef * x(u, k) to eta0. The person-period table of the fit
 * (pp.c) multiplies the same values, so fit and run agree on every term. */
static pds_status bind_unit_model(pds_sim *s, const pds_sim_options *opt, pds_diag *diag)
{
    const pds_model *m = s->unit_model;
    pds_status st = PDS_OK;
    const size_t UY = s->U * s->Y;
    for (size_t i = 0; i < UY; i++)
        s->eta0[i] = m->intercept;
    for (size_t j = 0; j < m->n_terms; j++) {
        const pds_term *t = &m->terms[j];
        pds_term_kind state = pds_term_state(t);
        s->tstate[j] = (unsigned char)state;
        if (t->kind != PDS_TERM_INTERACTION || state == PDS_TERM_PANEL)
            continue;
        double **arr = state == PDS_TERM_NEIGHBOURS_PCT ? &s->bn : &s->bs;
        if (!*arr && !(*arr = calloc(UY + 1, sizeof(double))))
            return PDS_ERR_RUNTIME;
    }
    for (size_t j = 0; j < m->n_terms; j++) {
        const pds_term *t = &m->terms[j];
        pds_status tst = PDS_OK; /* every term's errors are reported */
        /* a switched-off channel contributes nothing */
        double coef = s->off & pds_term_channels(t) ? 0.0 : t->coef;
        pds_term_kind state = (pds_term_kind)s->tstate[j];
        if (t->kind == PDS_TERM_NEIGHBOURS_PCT || t->kind == PDS_TERM_SUBUNITS_PCT) {
            *(state == PDS_TERM_NEIGHBOURS_PCT ? &s->b_nbr : &s->b_sub) += coef;
            for (size_t i = 0; s->xval && i < UY; i++)
                s->xval[i * m->n_terms + j] = 1.0;
            continue;
        }
        size_t nf = t->kind == PDS_TERM_INTERACTION ? t->n_factors : 1;
        prim pr[8];
        memset(pr, 0, sizeof pr);
        for (size_t i = 0; i < nf && tst == PDS_OK; i++)
            tst = prim_prepare(s, opt, t->kind == PDS_TERM_INTERACTION ? &t->factors[i] : t,
                               &pr[i], diag);
        double *dst = state == PDS_TERM_NEIGHBOURS_PCT ? s->bn
                      : state == PDS_TERM_SUBUNITS_PCT ? s->bs
                                                       : s->eta0;
        for (size_t u = 0; u < s->U && tst == PDS_OK; u++)
            for (size_t k = 0; k < s->Y && tst == PDS_OK; k++) {
                double x = 1.0;
                for (size_t i = 0; i < nf && tst == PDS_OK; i++) {
                    double f = 0.0;
                    tst = prim_value(s, opt, &pr[i], u, k, &f, diag);
                    x *= f;
                }
                dst[u * s->Y + k] += coef * x;
                if (s->xval)
                    s->xval[(u * s->Y + k) * m->n_terms + j] = x;
            }
        for (size_t i = 0; i < nf; i++)
            free(pr[i].yr);
        if (tst != PDS_OK && st != PDS_ERR_RUNTIME)
            st = tst;
    }
    for (size_t i = 0; s->bn && i < UY; i++)
        s->bn[i] += s->b_nbr;
    for (size_t i = 0; s->bs && i < UY; i++)
        s->bs[i] += s->b_sub;
    return st;
}

static pds_status bind_sub_model(pds_sim *s, pds_diag *diag)
{
    const pds_world *w = s->w;
    const pds_model *m = s->sub_model;
    pds_status st = PDS_OK;
    for (size_t j = 0; j < m->n_terms; j++) {
        pds_term_kind k = m->terms[j].kind;
        if (!pds_term_kind_is_documentary(k) && k != PDS_TERM_PARENT_ADOPTED &&
            k != PDS_TERM_SIBLINGS_PCT) {
            pds_diag_add(diag, m->path, m->terms[j].line, 0,
                         "sub-unit model '%s': term '%s': only the document forms "
                         "(central_documents, document_stock, recent_documents, "
                         "years_since_first_document), parent_adopted and siblings_adopted_pct "
                         "are allowed",
                         m->name, m->terms[j].name);
            st = PDS_ERR_INPUT;
            continue;
        }
        for (size_t q = 0; pds_term_kind_is_documentary(k) && q < s->Y; q++) {
            int y = s->first_year + (int)q;
            if (isnan(pds_dynamic_common(w, &m->terms[j], y, PDS_TERM_LAG(m, &m->terms[j])))) {
                pds_diag_add(diag, m->path, m->terms[j].line, 0,
                             "sub-unit model '%s': term '%s': transform log1p: the %s for %d is "
                             "<= -1",
                             m->name, m->terms[j].name, pds_term_kind_name(k), y);
                st = PDS_ERR_INPUT;
                break;
            }
        }
    }
    if (st != PDS_OK)
        return st;
    size_t total = 0;
    for (size_t p = 0; p < s->U; p++) {
        size_t n = w->sub_start[p + 1] - w->sub_start[p];
        s->sub_off[p] = total;
        total += s->Y * 2 * n;
    }
    s->sub_thr = malloc((total + 1) * sizeof(uint64_t));
    if (!s->sub_thr)
        return PDS_ERR_RUNTIME;
    for (size_t p = 0; p < s->U; p++) {
        size_t n = w->sub_start[p + 1] - w->sub_start[p];
        for (size_t k = 0; k < s->Y; k++) {
            /* the intercept and the document forms, the same for every sub-unit in a year */
            double eta_docs = m->intercept;
            for (size_t j = 0; j < m->n_terms; j++) {
                const pds_term *t = &m->terms[j];
                if (!pds_term_kind_is_documentary(t->kind))
                    continue;
                double d = pds_dynamic_common(w, t, s->first_year + (int)k, PDS_TERM_LAG(m, t));
                if (s->sub_x && p == 0)
                    s->sub_x[k * m->n_terms + j] = d; /* read for document terms only */
                if (!(s->off & pds_term_channel_bit(t->kind)))
                    eta_docs += t->coef * d;
            }
            for (int a = 0; a < 2; a++) {
                for (size_t c = 0; c < n; c++) {
                    double eta = eta_docs;
                    for (size_t j = 0; j < m->n_terms; j++) {
                        const pds_term *t = &m->terms[j];
                        if (s->off & pds_term_channel_bit(t->kind))
                            continue;
                        if (pds_term_kind_is_documentary(t->kind))
                            continue;
                        else if (t->kind == PDS_TERM_PARENT_ADOPTED)
                            eta += t->coef * a;
                        else
                            eta += t->coef * pds_dynamic_pct((double)c, (double)(n - 1));
                    }
                    double thr = threshold(pds_link_inverse(m->link, eta));
                    s->sub_thr[s->sub_off[p] + (k * 2 + (size_t)a) * n + c] = (uint64_t)thr;
                }
            }
        }
    }
    return PDS_OK;
}

/* Mean and Cholesky factor of the coefficient distribution: the model's
 * covariance when it has one (LAPACKE), else independent normals from the
 * standard errors. */
static pds_status normal_of_model(const pds_model *m, double *mean, double *chol, pds_diag *diag)
{
    size_t P1 = m->n_terms + 1;
    mean[0] = m->intercept;
    for (size_t j = 0; j < m->n_terms; j++)
        mean[j + 1] = m->terms[j].coef;
    if (!m->cov) {
        chol[0] = m->intercept_se;
        for (size_t j = 0; j < m->n_terms; j++)
            chol[(j + 1) * P1 + j + 1] = m->terms[j].se;
        return PDS_OK;
    }
    /* fixed terms have zero rows and columns: factor the covariance of the
     * free coefficients and leave the fixed ones' rows of the factor 0 */
    size_t *free_ix = malloc(P1 * sizeof *free_ix);
    double *a = malloc(P1 * P1 * sizeof *a);
    if (!free_ix || !a) {
        free(free_ix);
        free(a);
        pds_diag_add(diag, NULL, 0, 0, "out of memory");
        return PDS_ERR_RUNTIME;
    }
    size_t q = 0;
    for (size_t i = 0; i < P1; i++)
        if (i == 0 || !m->terms[i - 1].fixed)
            free_ix[q++] = i;
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j <= i; j++)
            a[i * q + j] = m->cov[free_ix[i] * P1 + free_ix[j]];
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)q, a, (lapack_int)q);
    if (info == 0) {
        memset(chol, 0, P1 * P1 * sizeof *chol);
        for (size_t i = 0; i < q; i++)
            for (size_t j = 0; j <= i; j++)
                chol[free_ix[i] * P1 + free_ix[j]] = a[i * q + j];
    }
    free(free_ix);
    free(a);
    if (info != 0) {
        pds_diag_add(diag, m->path, 0, 0,
                     "model '%s': covariance is not positive definite (leading minor %d); "
                     "coefficients cannot be drawn from it",
                     m->name, (int)info);
        return PDS_ERR_INPUT;
    }
    return PDS_OK;
}

/* Whether a model carries any uncertainty to draw from: a covariance or a
 * nonzero standard error (0 means the value is assumed exact). */
static int model_has_uncertainty(const pds_model *m)
{
    if (m->cov || m->intercept_se > 0)
        return 1;
    for (size_t j = 0; j < m->n_terms; j++)
        if (m->terms[j].se > 0)
            return 1;
    return 0;
}

static pds_status prepare_draws(pds_sim *s, pds_diag *diag)
{
    return normal_of_model(s->unit_model, s->mean, s->chol, diag);
}

/* n normals mean + L z (Box-Muller, two uniforms per pair, (u + 0.5) / 2^32)
 * from g into out. */
static void draw_normal(pds_pcg32 *g, const double *mean, const double *chol, size_t n,
                        double *out)
{
    double z[256], *zz = n <= 256 ? z : malloc(n * sizeof(double));
    if (!zz) {
        memcpy(out, mean, n * sizeof(double));
        return;
    }
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ((double)pds_pcg32_next(g) + 0.5) / 4294967296.0;
        double u2 = ((double)pds_pcg32_next(g) + 0.5) / 4294967296.0;
        double r = sqrt(-2.0 * log(u1));
        zz[i] = r * cos(2.0 * M_PI * u2);
        if (i + 1 < n)
            zz[i + 1] = r * sin(2.0 * M_PI * u2);
    }
    for (size_t i = 0; i < n; i++) {
        double v = mean[i];
        for (size_t j = 0; j <= i; j++)
            v += chol[i * n + j] * zz[j];
        out[i] = v;
    }
    if (zz != z)
        free(zz);
}

static pds_status init_state(pds_sim *s, pds_diag *diag)
{
    const pds_world *w = s->w;
    for (size_t u = 0; u < s->U; u++) {
        int y = w->units[u].adoption_year;
        s->init_unit[u] = (int16_t)(y != 0 && y <= s->base_year ? y : 0);
        /* per adopted neighbour / sub-unit: the hot loop multiplies by the count */
        s->pct_nbr[u] = pds_dynamic_pct(1.0, pds_world_nbr_total(w, u));
        s->pct_sub[u] = pds_dynamic_pct(1.0, (double)(w->sub_start[u + 1] - w->sub_start[u]));
    }
    for (size_t i = 0; i < s->S; i++) {
        int y = w->subunits[i].adoption_year;
        s->init_sub[i] = (int16_t)(y != 0 && y <= s->base_year ? y : 0);
    }
    /* counts: the latest count at or before the base year fixes how many
     * sub-units of the unit had adopted; undated ones are drawn per run */
    int *best = calloc(2 * s->U + 1, sizeof(int));
    if (!best)
        return PDS_ERR_RUNTIME;
    int *cnt = best + s->U;
    for (size_t i = 0; i < w->n_subunit_counts; i++) {
        const pds_subunit_count *c = &w->subunit_counts[i];
        if (c->unit < s->U && c->year <= s->base_year && c->year > best[c->unit]) {
            best[c->unit] = c->year;
            cnt[c->unit] = c->adopted;
        }
    }
    for (size_t u = 0; u < s->U; u++) {
        if (best[u] == 0)
            continue;
        int count = cnt[u];
        /* the loader checked count against the sub-units dated by the
         * count's year; more may be dated by the base year */
        int dated = 0;
        for (size_t i = w->sub_start[u]; i < w->sub_start[u + 1]; i++)
            dated += s->init_sub[w->sub_of[i]] != 0;
        s->extra_sub[u] = count > dated ? count - dated : 0;
        s->any_extra |= s->extra_sub[u] > 0;
    }
    free(best);
    (void)diag;
    return PDS_OK;
}

/* What every run starts from, once the initial and forced states are fixed:
 * the agents still to adopt, the adopted-neighbour weights and adopted
 * sub-unit counts (draw_initial always draws min(extra, undated) sub-units of
 * a unit), and the jump tables. */
static pds_status prepare_runs(pds_sim *s)
{
    const pds_world *w = s->w;
    const size_t U = s->U, S = s->S;
    s->stride = U + (s->sub_model ? S : 0);
    /* a stride spans at most the draws of all remaining years */
    s->n_jump = (uint64_t)s->Y * s->stride + 1;
    if (s->n_jump > 65536)
        s->n_jump = 65536;
    s->jump_mult = malloc(s->n_jump * sizeof(uint64_t));
    s->jump_gsum = malloc(s->n_jump * sizeof(uint64_t));
    s->act_u0 = malloc((U + 1) * sizeof(uint32_t));
    s->act_s0 = malloc((S + 1) * sizeof(uint32_t));
    s->sub_par = malloc((S + 1) * sizeof(uint32_t));
    s->nbr_cnt0 = calloc(U + 1, sizeof(double));
    s->sub_cnt0 = calloc(U + 1, sizeof(int));
    s->pool0 = malloc((S + 1) * sizeof(size_t));
    s->n_pool0 = calloc(U + 1, sizeof(size_t));
    if (!s->jump_mult || !s->jump_gsum || !s->act_u0 || !s->act_s0 || !s->sub_par ||
        !s->nbr_cnt0 || !s->sub_cnt0 || !s->pool0 || !s->n_pool0)
        return PDS_ERR_RUNTIME;
    pds_pcg32_jump_table(s->jump_mult, s->jump_gsum, s->n_jump);
    for (size_t u = 0; u < U; u++) {
        if (s->init_unit[u] == 0) {
            s->act_u0[s->n_act_u0++] = (uint32_t)u;
            continue;
        }
        /* the same order of additions as a run's own count would take */
        for (size_t i = w->nbr_start[u]; i < w->nbr_start[u + 1]; i++)
            s->nbr_cnt0[w->nbr[i]] += pds_world_nbr_weight(w, i);
    }
    for (size_t u = 0; u < U; u++) {
        int undated = 0;
        for (size_t i = w->sub_start[u]; i < w->sub_start[u + 1]; i++) {
            int dated = s->init_sub[w->sub_of[i]] != 0;
            s->sub_cnt0[u] += dated;
            undated += !dated;
            s->sub_par[i] = (uint32_t)u;
            if (!dated && s->sub_model)
                s->act_s0[s->n_act_s0++] = (uint32_t)i;
            if (!dated)
                s->pool0[w->sub_start[u] + s->n_pool0[u]++] = w->sub_of[i];
        }
        s->sub_cnt0[u] += s->extra_sub[u] < undated ? s->extra_sub[u] : undated;
    }
    return PDS_OK;
}

pds_status pds_sim_create(const pds_world *w, const pds_model *unit_model,
                          const pds_model *sub_model, const pds_sim_options *opt,
                          pds_diag *diag, pds_sim **out)
{
    *out = NULL;
    if (opt->horizon <= opt->base_year) {
        pds_diag_add(diag, NULL, 0, 0, "horizon %d must be after the base year %d", opt->horizon,
                     opt->base_year);
        return PDS_ERR_INPUT;
    }
    if (opt->base_year < -32000 || opt->horizon > 32000) {
        pds_diag_add(diag, NULL, 0, 0, "years must lie within -32000..32000");
        return PDS_ERR_INPUT;
    }
    const pds_model *spec = unit_model->spec_only ? unit_model
                            : sub_model && sub_model->spec_only ? sub_model
                                                                : NULL;
    if (spec) {
        pds_diag_add(diag, spec->path, spec->spec_line, 0,
                     "model '%s' is a specification without coefficients (%s): fit it first "
                     "(pdsim fit DATASET %s -o FITTED.yaml) and simulate the fitted model",
                     spec->name,
                     spec->spec_line <= 1 ? "no intercept coef"
                                          : "a term without coef, or a factor to expand",
                     spec->path ? spec->path : "MODEL.yaml");
        return PDS_ERR_INPUT;
    }
    pds_sim *s = calloc(1, sizeof *s);
    if (!s)
        return PDS_ERR_RUNTIME;
    s->w = w;
    s->unit_model = unit_model;
    s->sub_model = sub_model && w->n_subunits > 0 ? sub_model : NULL;
    s->base_year = opt->base_year;
    s->first_year = opt->base_year + 1;
    s->Y = (size_t)(opt->horizon - opt->base_year);
    s->U = w->n_units;
    s->S = w->n_subunits;
    s->eta0 = malloc((s->U * s->Y + 1) * sizeof(double));
    s->tstate = calloc(unit_model->n_terms + 1, 1);
    s->pct_nbr = calloc(s->U + 1, sizeof(double));
    s->pct_sub = calloc(s->U + 1, sizeof(double));
    s->sub_off = calloc(s->U + 1, sizeof(size_t));
    s->init_unit = calloc(s->U + 1, sizeof(int16_t));
    s->init_sub = calloc(s->S + 1, sizeof(int16_t));
    s->extra_sub = calloc(s->U + 1, sizeof(int));
    if (!s->eta0 || !s->tstate || !s->pct_nbr || !s->pct_sub || !s->sub_off || !s->init_unit || !s->init_sub ||
        !s->extra_sub) {
        pds_sim_free(s);
        return PDS_ERR_RUNTIME;
    }
    if (opt->posterior_draws && (!unit_model->post_draws || unit_model->n_post_draws == 0)) {
        pds_diag_add(diag, unit_model->path, 0, 0,
                     "uncertainty: posterior: model '%s' has no posterior draws (write one with "
                     "pdsim fit --prior ... -o MODEL.yaml)",
                     unit_model->name);
        pds_sim_free(s);
        return PDS_ERR_INPUT;
    }
    s->posterior = opt->posterior_draws;
    if (opt->draw_coefficients || opt->posterior_draws) {
        size_t T = unit_model->n_terms;
        s->P1 = T + 1;
        s->xval = calloc(s->U * s->Y * T + 1, sizeof(double));
        s->mean = malloc(s->P1 * sizeof(double));
        s->chol = calloc(s->P1 * s->P1, sizeof(double));
        if (!s->xval || !s->mean || !s->chol) {
            pds_sim_free(s);
            return PDS_ERR_RUNTIME;
        }
    }
    if (opt->draw_subunit_coefficients && s->sub_model && model_has_uncertainty(sub_model)) {
        size_t T = sub_model->n_terms;
        s->Q1 = T + 1;
        s->sub_mean = malloc(s->Q1 * sizeof(double));
        s->sub_chol = calloc(s->Q1 * s->Q1, sizeof(double));
        s->sub_x = calloc(s->Y * T + 1, sizeof(double));
        if (!s->sub_mean || !s->sub_chol || !s->sub_x) {
            pds_sim_free(s);
            return PDS_ERR_RUNTIME;
        }
    }
    s->off = opt->channels_off;
    s->forced = calloc(s->U + 1, sizeof(int16_t));
    if (!s->forced) {
        pds_sim_free(s);
        return PDS_ERR_RUNTIME;
    }
    pds_status st = init_state(s, diag);
    for (size_t i = 0; i < opt->n_forced; i++) {
        const pds_forced *f = &opt->forced[i];
        if (f->unit >= s->U)
            continue;
        if (f->year <= s->base_year) {
            if (s->init_unit[f->unit] == 0)
                s->init_unit[f->unit] = (int16_t)f->year;
        } else if (s->forced[f->unit] == 0 || f->year < s->forced[f->unit]) {
            s->forced[f->unit] = (int16_t)f->year;
        }
    }
    s->reference = opt->reference_draws;
    if (st == PDS_OK)
        st = prepare_runs(s);
    if (st == PDS_OK && s->P1 && !s->posterior)
        st = prepare_draws(s, diag);
    if (st == PDS_OK && s->Q1)
        st = normal_of_model(sub_model, s->sub_mean, s->sub_chol, diag);
    pds_status st2 = bind_unit_model(s, opt, diag);
    if (st == PDS_OK)
        st = st2;
    if (st == PDS_OK && s->sub_model)
        st = bind_sub_model(s, diag);
    if (st != PDS_OK) {
        pds_sim_free(s);
        return st;
    }
    *out = s;
    return PDS_OK;
}

void pds_sim_free(pds_sim *s)
{
    if (!s)
        return;
    free(s->eta0);
    free(s->pct_nbr);
    free(s->pct_sub);
    free(s->bn);
    free(s->bs);
    free(s->tstate);
    free(s->sub_thr);
    free(s->sub_off);
    free(s->init_unit);
    free(s->init_sub);
    free(s->extra_sub);
    free(s->forced);
    free(s->xval);
    free(s->mean);
    free(s->chol);
    free(s->sub_mean);
    free(s->sub_chol);
    free(s->sub_x);
    free(s->jump_mult);
    free(s->jump_gsum);
    free(s->act_u0);
    free(s->act_s0);
    free(s->sub_par);
    free(s->nbr_cnt0);
    free(s->sub_cnt0);
    free(s->pool0);
    free(s->n_pool0);
    free(s);
}

size_t pds_sim_n_coefficients(const pds_sim *s)
{
    return s->P1;
}

size_t pds_sim_n_subunit_coefficients(const pds_sim *s)
{
    return s->Q1;
}

void pds_sim_subunit_coefficients(const pds_sim *s, uint64_t seed, uint64_t run, double *out)
{
    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, run, PDS_RNG_SUBUNIT_COEFFICIENTS);
    draw_normal(&g, s->sub_mean, s->sub_chol, s->Q1, out);
}

int pds_sim_first_year(const pds_sim *s)
{
    return s->first_year;
}

size_t pds_sim_n_years(const pds_sim *s)
{
    return s->Y;
}

double pds_sim_static_eta(const pds_sim *s, size_t unit, size_t k)
{
    return s->eta0[unit * s->Y + k];
}

const pds_world *pds_sim_world(const pds_sim *s)
{
    return s->w;
}

void *pds_sim_scratch_create(const pds_sim *s)
{
    /* one block, so that free(scratch) releases everything */
    size_t U = s->U + 1, S = s->S + 1;
    size_t nd = s->P1 ? s->U * s->Y * (1 + (s->bn != NULL) + (s->bs != NULL)) + s->P1 : 0;
    size_t bytes = sizeof(scratch) + (nd + s->Q1 + U) * sizeof(double) + U * sizeof(uint64_t) +
                   (U + 2 * S) * sizeof(size_t) + U * sizeof(int) + (U + S) * sizeof(uint32_t);
    char *blk = calloc(1, bytes);
    if (!blk)
        return NULL;
    scratch *x = (scratch *)(void *)blk;
    char *p = blk + sizeof *x;
    if (nd) {
        x->eta0 = (double *)(void *)p;
        double *q = x->eta0 + s->U * s->Y;
        if (s->bn) {
            x->bn = q;
            q += s->U * s->Y;
        }
        if (s->bs) {
            x->bs = q;
            q += s->U * s->Y;
        }
        x->beta = q;
        p += nd * sizeof(double);
    }
    if (s->Q1) {
        x->sub_beta = (double *)(void *)p;
        p += s->Q1 * sizeof(double);
    }
    x->new_u = (size_t *)(void *)p;
    p += U * sizeof(size_t);
    x->new_s = (size_t *)(void *)p;
    p += S * sizeof(size_t);
    x->pool = (size_t *)(void *)p;
    p += S * sizeof(size_t);
    x->nbr_cnt = (double *)(void *)p;
    p += U * sizeof(double);
    x->thr_p = (uint64_t *)(void *)p;
    p += U * sizeof(uint64_t);
    x->sub_cnt = (int *)(void *)p;
    p += U * sizeof(int);
    x->act_u = (uint32_t *)(void *)p;
    p += U * sizeof(uint32_t);
    x->act_s = (uint32_t *)(void *)p;
    return x;
}

static void draw_initial(const pds_sim *s, uint64_t seed, uint64_t run, scratch *x,
                         int16_t *sub_year)
{
    const pds_world *w = s->w;
    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, run, PDS_RNG_INITIAL);
    for (size_t u = 0; u < s->U; u++) {
        int e = s->extra_sub[u];
        if (e <= 0)
            continue;
        /* the sub-units of u not dated by the base year, in sub_of order */
        size_t n = s->n_pool0[u];
        memcpy(x->pool, s->pool0 + w->sub_start[u], n * sizeof(size_t));
        /* partial Fisher-Yates: the first e of a random permutation */
        for (size_t i = 0; i < (size_t)e && i < n; i++) {
            size_t j = i + pds_pcg32_bounded(&g, (uint32_t)(n - i));
            size_t t = x->pool[i];
            x->pool[i] = x->pool[j];
            x->pool[j] = t;
            sub_year[x->pool[i]] = PDS_YEAR_UNKNOWN;
        }
    }
}

/* This run's coefficients: mean + L z with z standard normal (Box-Muller on
 * the run's own stream), and the static linear predictor they imply. */
static void draw_coefficients(const pds_sim *s, uint64_t seed, uint64_t run, scratch *x,
                              double *b_nbr, double *b_sub)
{
    const pds_model *m = s->unit_model;
    size_t P1 = s->P1, T = m->n_terms;
    if (s->posterior) {
        size_t k = pds_posterior_draw_of_run(seed, run, m->n_post_draws);
        memcpy(x->beta, m->post_draws + k * P1, P1 * sizeof(double));
    } else {
        pds_pcg32 g;
        pds_pcg32_stream(&g, seed, run, PDS_RNG_COEFFICIENTS);
        draw_normal(&g, s->mean, s->chol, P1, x->beta);
    }
    for (size_t j = 0; j < T; j++)
        if (s->off & pds_term_channels(&m->terms[j]))
            x->beta[j + 1] = 0.0;
    *b_nbr = *b_sub = 0.0;
    for (size_t j = 0; j < T; j++) {
        if (m->terms[j].kind == PDS_TERM_NEIGHBOURS_PCT)
            *b_nbr += x->beta[j + 1];
        else if (m->terms[j].kind == PDS_TERM_SUBUNITS_PCT)
            *b_sub += x->beta[j + 1];
    }
    for (size_t i = 0; i < s->U * s->Y; i++) {
        const double *xv = s->xval + i * T;
        double e = x->beta[0], cn = 0.0, cs = 0.0;
        for (size_t j = 0; j < T; j++) {
            double v = x->beta[j + 1] * xv[j];
            if (s->tstate[j] == PDS_TERM_NEIGHBOURS_PCT)
                cn += v;
            else if (s->tstate[j] == PDS_TERM_SUBUNITS_PCT)
                cs += v;
            else
                e += v;
        }
        x->eta0[i] = e;
        if (x->bn)
            x->bn[i] = cn;
        if (x->bs)
            x->bs[i] = cs;
    }
}

/* Whether unready unit u adopts in simulated year k (calendar year `year`)
 * given its uniform r: the hazard from the state at the end of year k - 1. */
static inline int unit_adopts(const pds_sim *s, const scratch *x, const double *eta0, double b_nbr,
                              double b_sub, size_t u, size_t k, int16_t year, uint32_t r)
{
    size_t i = u * s->Y + k;
    /* an interaction with a share makes its coefficient vary by unit and year */
    double cn = x->cn ? x->cn[i] : b_nbr, cs = x->cs ? x->cs[i] : b_sub;
    double eta = eta0[i] + cn * x->nbr_cnt[u] * s->pct_nbr[u] + cs * x->sub_cnt[u] * s->pct_sub[u];
    return (double)r < threshold(pds_link_inverse(s->unit_model->link, eta)) ||
           s->forced[u] == year;
}

/* The threshold of a not-adopted sub-unit in year k under this run's drawn
 * sub-unit coefficients: parent adopted a, m of the parent's n sub-units
 * adopted (the terms as in bind_sub_model). */
static uint64_t drawn_sub_threshold(const pds_sim *s, const scratch *x, size_t k, int a,
                                    size_t m, size_t n)
{
    const pds_model *sm = s->sub_model;
    size_t T = sm->n_terms;
    const double *xv = s->sub_x + k * T;
    double eta = x->sub_beta[0];
    for (size_t j = 0; j < T; j++) {
        double b = x->sub_beta[j + 1];
        switch (sm->terms[j].kind) {
        case PDS_TERM_PARENT_ADOPTED:
            eta += b * a;
            break;
        case PDS_TERM_SIBLINGS_PCT:
            eta += b * pds_dynamic_pct((double)m, (double)(n - 1));
            break;
        default:
            eta += b * xv[j];
            break;
        }
    }
    return (uint64_t)threshold(pds_link_inverse(sm->link, eta));
}

/* Threshold (on the 2^32 scale) of a not-adopted sub-unit of unit p in year
 * k: it depends on whether p has adopted and on how many of its sub-units
 * have. */
static inline uint64_t sub_threshold(const pds_sim *s, const scratch *x, const int16_t *unit_year,
                                     size_t p, size_t k)
{
    const pds_world *w = s->w;
    size_t n = w->sub_start[p + 1] - w->sub_start[p];
    size_t m = (size_t)x->sub_cnt[p];
    if (s->Q1)
        return m < n ? drawn_sub_threshold(s, x, k, unit_year[p] != 0, m, n) : 0;
    const uint64_t *thr = s->sub_thr + s->sub_off[p] + (k * 2 + (unit_year[p] != 0)) * n;
    return m < n ? thr[m] : 0;
}

/* Apply this year's adoptions (synchronous update: they count from the next
 * year on). */
static void apply_adoptions(const pds_sim *s, scratch *x, size_t nu, size_t ns, int16_t year,
                            int16_t *unit_year, int16_t *sub_year)
{
    const pds_world *w = s->w;
    for (size_t i = 0; i < nu; i++) {
        size_t u = x->new_u[i];
        unit_year[u] = year;
        for (size_t j = w->nbr_start[u]; j < w->nbr_start[u + 1]; j++)
            x->nbr_cnt[w->nbr[j]] += pds_world_nbr_weight(w, j);
    }
    for (size_t i = 0; i < ns; i++) {
        size_t c = x->new_s[i];
        sub_year[c] = year;
        x->sub_cnt[w->subunits[c].parent]++;
    }
}

/* The plain loop: one uniform per agent per year, drawn and tested in turn,
 * also for agents already adopted. Kept as the reference the fast loop is
 * tested against. */
static void run_years_reference(const pds_sim *s, scratch *x, const double *eta0, double b_nbr,
                                double b_sub, uint64_t rs, const uint64_t rinc,
                                int16_t *unit_year, int16_t *sub_year)
{
    const pds_world *w = s->w;
    const size_t U = s->U, S = s->S, Y = s->Y;
    memset(x->nbr_cnt, 0, U * sizeof(double));
    memset(x->sub_cnt, 0, U * sizeof(int));
    for (size_t u = 0; u < U; u++)
        if (unit_year[u] != 0)
            for (size_t i = w->nbr_start[u]; i < w->nbr_start[u + 1]; i++)
                x->nbr_cnt[w->nbr[i]] += pds_world_nbr_weight(w, i);
    for (size_t i = 0; i < S; i++)
        if (sub_year[i] != 0)
            x->sub_cnt[w->subunits[i].parent]++;
    for (size_t k = 0; k < Y; k++) {
        size_t nu = 0, ns = 0;
        int16_t year = (int16_t)(s->first_year + (int)k);
        for (size_t u = 0; u < U; u++) {
            uint32_t r = pds_pcg32_step(&rs, rinc);
            if (unit_year[u] != 0)
                continue;
            if (unit_adopts(s, x, eta0, b_nbr, b_sub, u, k, year, r))
                x->new_u[nu++] = u;
        }
        if (s->sub_model) {
            for (size_t p = 0; p < U; p++) {
                uint64_t t = sub_threshold(s, x, unit_year, p, k);
                for (size_t i = w->sub_start[p]; i < w->sub_start[p + 1]; i++) {
                    uint32_t r = pds_pcg32_step(&rs, rinc);
                    size_t c = w->sub_of[i];
                    if (sub_year[c] == 0 && r < t)
                        x->new_s[ns++] = c;
                }
            }
        }
        apply_adoptions(s, x, nu, ns, year, unit_year, sub_year);
    }
}

/* The uniform at draw position pos + d of a stream whose state is *rs at
 * position pos; *rs moves to position pos + d + 1. */
static inline uint32_t draw_ahead(const pds_sim *s, uint64_t *rs, uint64_t inc, uint64_t d)
{
    uint64_t st = d < s->n_jump ? s->jump_mult[d] * *rs + s->jump_gsum[d] * inc
                                : pds_pcg32_advance_state(*rs, inc, d);
    *rs = st * PDS_PCG32_MULT + inc;
    return pds_pcg32_output(st);
}

/* The same draws, visiting only agents not adopted yet: the stream jumps
 * over the draws of adopted agents, so every agent still gets the uniform
 * at its own position (year k, index i: k * stride + i). */
static void run_years_skip(const pds_sim *s, scratch *x, const double *eta0, double b_nbr,
                           double b_sub, uint64_t rs, const uint64_t rinc, int16_t *unit_year,
                           int16_t *sub_year)
{
    const pds_world *w = s->w;
    const size_t U = s->U, Y = s->Y;
    memcpy(x->nbr_cnt, s->nbr_cnt0, U * sizeof(double));
    memcpy(x->sub_cnt, s->sub_cnt0, U * sizeof(int));
    size_t na = s->n_act_u0, nsa;
    memcpy(x->act_u, s->act_u0, na * sizeof(uint32_t));
    if (s->any_extra) {
        /* drop the undated sub-units drawn as adopted by the base year */
        nsa = 0;
        for (size_t j = 0; j < s->n_act_s0; j++) {
            uint32_t i = s->act_s0[j];
            x->act_s[nsa] = i;
            nsa += sub_year[w->sub_of[i]] == 0;
        }
    } else {
        nsa = s->n_act_s0;
        memcpy(x->act_s, s->act_s0, nsa * sizeof(uint32_t));
    }
    uint64_t pos = 0; /* draw position of the state rs */
    for (size_t k = 0; k < Y; k++) {
        size_t nu = 0, ns = 0, keep = 0;
        int16_t year = (int16_t)(s->first_year + (int)k);
        const uint64_t base = (uint64_t)k * s->stride;
        for (size_t j = 0; j < na; j++) {
            uint32_t u = x->act_u[j];
            uint64_t at = base + u;
            uint32_t r = draw_ahead(s, &rs, rinc, at - pos);
            pos = at + 1;
            int adopt = unit_adopts(s, x, eta0, b_nbr, b_sub, u, k, year, r);
            x->new_u[nu] = u;
            nu += (size_t)adopt;
            x->act_u[keep] = u;
            keep += (size_t)!adopt;
        }
        na = keep;
        if (nsa > 0) {
            /* sub_threshold for every parent, with the tables in locals */
            const size_t *restrict ss = w->sub_start, *restrict off = s->sub_off;
            const uint64_t *restrict thr = s->sub_thr;
            const int *restrict cnt = x->sub_cnt;
            uint64_t *restrict tp = x->thr_p;
            if (s->Q1)
                for (size_t p = 0; p < U; p++) {
                    size_t n = ss[p + 1] - ss[p], m = (size_t)cnt[p];
                    tp[p] = m < n ? drawn_sub_threshold(s, x, k, unit_year[p] != 0, m, n) : 0;
                }
            else
                for (size_t p = 0; p < U; p++) {
                    size_t n = ss[p + 1] - ss[p], m = (size_t)cnt[p];
                    tp[p] = m < n ? thr[off[p] + (k * 2 + (unit_year[p] != 0)) * n + m] : 0;
                }
            const uint64_t sbase = base + U;
            keep = 0;
            for (size_t j = 0; j < nsa; j++) {
                uint32_t i = x->act_s[j];
                uint64_t at = sbase + i;
                uint32_t r = draw_ahead(s, &rs, rinc, at - pos);
                pos = at + 1;
                int adopt = r < x->thr_p[s->sub_par[i]];
                x->new_s[ns] = w->sub_of[i];
                ns += (size_t)adopt;
                x->act_s[keep] = i;
                keep += (size_t)!adopt;
            }
            nsa = keep;
        }
        apply_adoptions(s, x, nu, ns, year, unit_year, sub_year);
    }
}

void pds_sim_run_one(const pds_sim *s, uint64_t seed, uint64_t run, void *scratch_mem,
                     int16_t *unit_year, int16_t *sub_year, double *coefs)
{
    scratch *x = scratch_mem;
    const double *eta0 = s->eta0;
    double b_nbr = s->b_nbr, b_sub = s->b_sub;
    x->cn = s->bn;
    x->cs = s->bs;
    if (s->P1) {
        draw_coefficients(s, seed, run, x, &b_nbr, &b_sub);
        eta0 = x->eta0;
        x->cn = x->bn;
        x->cs = x->bs;
        if (coefs)
            memcpy(coefs, x->beta, s->P1 * sizeof(double));
    }
    if (s->Q1) {
        pds_sim_subunit_coefficients(s, seed, run, x->sub_beta);
        for (size_t j = 0; j + 1 < s->Q1; j++)
            if (s->off & pds_term_channel_bit(s->sub_model->terms[j].kind))
                x->sub_beta[j + 1] = 0.0; /* a switched-off channel contributes nothing */
    }
    memcpy(unit_year, s->init_unit, s->U * sizeof(int16_t));
    memcpy(sub_year, s->init_sub, s->S * sizeof(int16_t));
    if (s->any_extra)
        draw_initial(s, seed, run, x, sub_year);

    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, run, PDS_RNG_ADOPTION);
    /* the state lives in a local whose address never escapes: a register */
    if (s->reference)
        run_years_reference(s, x, eta0, b_nbr, b_sub, g.state, g.inc, unit_year, sub_year);
    else
        run_years_skip(s, x, eta0, b_nbr, b_sub, g.state, g.inc, unit_year, sub_year);
}

size_t pds_posterior_draw_of_run(uint64_t seed, uint64_t run, size_t n_draws)
{
    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, run, PDS_RNG_COEFFICIENTS);
    size_t k = (size_t)floor(pds_pcg32_uniform(&g) * (double)n_draws);
    return k < n_draws ? k : n_draws - 1;
}

size_t pds_model_of_run(uint64_t seed, uint64_t run, const double *cum_weights, size_t n)
{
    if (n <= 1)
        return 0;
    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, run, PDS_RNG_MODEL);
    double u = pds_pcg32_uniform(&g);
    for (size_t k = 0; k + 1 < n; k++)
        if (u < cum_weights[k])
            return k;
    return n - 1;
}

/* Runs [c0, c0 + m) into the buffers, accumulating into the thread's summary.
 * Called inside a parallel region: the loop is shared among its threads.
 * With alternatives, scr holds K blocks per thread and each run's row of
 * coefficients is P1 wide (the widest alternative's). sb holds a row per run
 * when sub-unit years are kept, else a row per thread. */
static void run_chunk(const pds_sim *s, const pds_run_options *opt, uint64_t c0, size_t m,
                      int16_t *ub, int16_t *sb, double *cb, size_t P1, void **scr,
                      pds_summary **part)
{
    const size_t U = s->U, S = s->S;
    const size_t K = opt->alternatives && opt->n_alternatives > 1 ? opt->n_alternatives : 1;
    long lm = (long)m;
#pragma omp for schedule(dynamic, 16)
    for (long i = 0; i < lm; i++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        uint64_t run = c0 + (uint64_t)i;
        size_t k = K > 1 ? pds_model_of_run(opt->seed, run, opt->cum_weights, K) : 0;
        const pds_sim *sr = K > 1 ? opt->alternatives[k] : s;
        int16_t *urow = ub + (size_t)i * U;
        double *crow = cb ? cb + (size_t)i * P1 : NULL;
        if (crow && sr->P1 < P1)
            for (size_t j = sr->P1; j < P1; j++)
                crow[j] = NAN;
        int16_t *srow = sb + (opt->keep_subunits ? (size_t)i : (size_t)t) * S;
        pds_sim_run_one(sr, opt->seed, run, scr[(size_t)t * K + k], urow, srow,
                        sr->P1 ? crow : NULL);
        pds_summary_add_runs(part[t], urow, 1);
    }
}

size_t pds_sim_chunk_runs(const pds_sim *s, size_t requested, int keep_subunits)
{
    if (requested)
        return requested;
    size_t row = (s->U + (keep_subunits ? s->S : 0)) * sizeof(int16_t) + s->P1 * sizeof(double);
    size_t n = PDS_CHUNK_BYTES / (row ? row : 1);
    if (n > PDS_CHUNK_MAX_RUNS)
        n = PDS_CHUNK_MAX_RUNS;
    return n ? n : 1;
}

pds_status pds_engine_run(const pds_sim *s, const pds_run_options *opt, pds_summary *summary)
{
    size_t chunk = pds_sim_chunk_runs(s, opt->chunk_runs, opt->keep_subunits);
    if (chunk > opt->n_runs && opt->n_runs > 0)
        chunk = (size_t)opt->n_runs;
    int nt = 1;
#ifdef _OPENMP
    nt = opt->threads > 0 ? opt->threads : omp_get_max_threads();
#endif
    if (nt < 1)
        nt = 1;
    const size_t U = s->U, S = s->S;
    const size_t K = opt->alternatives && opt->n_alternatives > 1 ? opt->n_alternatives : 1;
    size_t P1 = s->P1;
    for (size_t k = 0; K > 1 && k < K; k++) {
        const pds_sim *a = opt->alternatives[k];
        if (a->U != U || a->S != S || a->Y != s->Y || a->first_year != s->first_year)
            return PDS_ERR_INPUT;
        if (a->P1 > P1)
            P1 = a->P1;
    }
    /* two buffers: one thread hands chunk c to the sink while the others
     * (and then it too) compute chunk c + 1 */
    /* sub-unit years not kept: each thread overwrites one row of its own */
    int16_t *ub[2], *sb[2];
    double *cb[2];
    size_t sub_rows = opt->keep_subunits ? chunk : (size_t)nt;
    for (int b = 0; b < 2; b++) {
        ub[b] = malloc(chunk * U * sizeof(int16_t) + 1);
        sb[b] = malloc(sub_rows * S * sizeof(int16_t) + 1);
        cb[b] = malloc((chunk * P1 + 1) * sizeof(double));
    }
    void **scr = calloc((size_t)nt * K, sizeof(void *));
    pds_summary **part = calloc((size_t)nt, sizeof(pds_summary *));
    pds_status st = (ub[0] && ub[1] && sb[0] && sb[1] && cb[0] && cb[1] && scr && part)
                        ? PDS_OK
                        : PDS_ERR_RUNTIME;
    for (int t = 0; st == PDS_OK && t < nt; t++) {
        for (size_t k = 0; k < K; k++) {
            scr[(size_t)t * K + k] = pds_sim_scratch_create(K > 1 ? opt->alternatives[k] : s);
            if (!scr[(size_t)t * K + k])
                st = PDS_ERR_RUNTIME;
        }
        part[t] = pds_summary_create(U, s->Y, s->first_year);
        if (!part[t])
            st = PDS_ERR_RUNTIME;
    }
    /* chunks count from first_run; each run's numbers depend on its index only */
    const uint64_t r0 = opt->first_run < opt->n_runs ? opt->first_run : opt->n_runs;
    uint64_t n = opt->n_runs - r0;
    size_t n_chunks = (size_t)((n + chunk - 1) / chunk);
    int sink_failed = 0;
    for (size_t c = 0; st == PDS_OK && c <= n_chunks; c++) {
        /* step c computes chunk c (if any) and delivers chunk c - 1 (if any) */
        int stop = opt->stop && *opt->stop;
        uint64_t c0 = (uint64_t)c * chunk;
        size_t m = c < n_chunks && !stop ? (size_t)(n - c0 < chunk ? n - c0 : chunk) : 0;
        uint64_t p0 = c0 - chunk;
        size_t pm = c > 0 ? (size_t)(n - p0 < chunk ? n - p0 : chunk) : 0;
        int16_t *pu = ub[(c + 1) % 2], *ps = sb[(c + 1) % 2];
        double *pc = P1 ? cb[(c + 1) % 2] : NULL;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
#pragma omp single nowait
            {
                if (pm > 0 && opt->sink &&
                    opt->sink(opt->sink_ctx, r0 + p0, pm, pu, opt->keep_subunits ? ps : NULL,
                              pc) != 0)
                    sink_failed = 1;
            }
            if (m > 0)
                run_chunk(s, opt, r0 + c0, m, ub[c % 2], sb[c % 2], P1 ? cb[c % 2] : NULL, P1,
                          scr, part);
        }
        if (sink_failed) {
            st = PDS_ERR_RUNTIME;
            break;
        }
        if (pm > 0 && opt->progress)
            opt->progress(opt->progress_ctx, r0 + p0 + pm, opt->n_runs);
        if (stop) {
            st = PDS_ERR_RUNTIME;
            break;
        }
    }
    for (int t = 0; t < nt; t++) {
        if (st == PDS_OK && part[t] && pds_summary_merge(summary, part[t]) != PDS_OK)
            st = PDS_ERR_RUNTIME;
        for (size_t k = 0; scr && k < K; k++)
            free(scr[(size_t)t * K + k]);
        if (part)
            pds_summary_free(part[t]);
    }
    free(scr);
    free(part);
    for (int b = 0; b < 2; b++) {
        free(ub[b]);
        free(sb[b]);
        free(cb[b]);
    }
    return st;
}
