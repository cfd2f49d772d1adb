#include "compare_fc.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"

pds_fc_pool *pds_fc_pool_create(size_t n_fc, size_t n_units)
{
    pds_fc_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n_fc = n_fc;
    p->n_units = n_units;
    return p;
}

void pds_fc_pool_free(pds_fc_pool *p)
{
    if (!p)
        return;
    free(p->row_unit);
    free(p->row_years);
    free(p->row_score);
    free(p->uy_prob);
    free(p);
}

static int grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*ptr, c * elem);
    if (!q)
        return -1;
    *ptr = q;
    *cap = c;
    return 0;
}

static double clamp_eps(double h)
{
    return fmin(fmax(h, PDS_SCORE_EPS), 1.0 - PDS_SCORE_EPS);
}

pds_status pds_fc_pool_add(pds_fc_pool *p, const pds_backtest_result *const *r, const int *which,
                           pds_diag *diag)
{
    const pds_backtest_result *r0 = r[0];
    for (size_t k = 1; k < p->n_fc; k++) {
        const pds_backtest_result *b = r[k];
        int same = b->cutoff == r0->cutoff && b->n_years == r0->n_years &&
                   b->n_risk == r0->n_risk && b->n_units == r0->n_units;
        for (size_t i = 0; same && i < r0->n_risk; i++)
            same = b->risk_unit[i] == r0->risk_unit[i] && b->outcome[i] == r0->outcome[i];
        if (!same) {
            pds_diag_add(diag, NULL, 0, 0,
                         "cutoff %d: the forecasters to compare do not forecast the same units "
                         "and outcomes (the configs must share the dataset and base_year)",
                         r0->cutoff);
            return PDS_ERR_INPUT;
        }
    }
    if (r0->n_units != p->n_units) {
        pds_diag_add(diag, NULL, 0, 0, "cutoff %d: the dataset has %zu units, not %zu",
                     r0->cutoff, r0->n_units, p->n_units);
        return PDS_ERR_INPUT;
    }
    size_t K = p->n_fc, Y = r0->n_years, nr = r0->n_risk, uy = 0;
    for (size_t i = 0; i < nr; i++)
        uy += r0->outcome[i] < 0 ? Y : (size_t)r0->outcome[i] + 1;
    if (p->n_rows + nr > p->cap_rows) {
        size_t c = 2 * (p->n_rows + nr) + 64;
        size_t *ru = realloc(p->row_unit, c * sizeof *ru);
        if (ru)
            p->row_unit = ru;
        size_t *ry = realloc(p->row_years, c * sizeof *ry);
        if (ry)
            p->row_years = ry;
        double *rs = realloc(p->row_score, c * K * PDS_SC_N * sizeof *rs);
        if (rs)
            p->row_score = rs;
        if (!ru || !ry || !rs)
            return PDS_ERR_RUNTIME;
        p->cap_rows = c;
    }
    if (grow((void **)&p->uy_prob, &p->cap_uy, p->n_uy + uy, K * sizeof *p->uy_prob) != 0)
        return PDS_ERR_RUNTIME;
    for (size_t i = 0; i < nr; i++) {
        size_t row = p->n_rows + i;
        int o = r0->outcome[i];
        size_t years = o < 0 ? Y : (size_t)o + 1;
        p->row_unit[row] = r0->risk_unit[i];
        p->row_years[row] = years;
        for (size_t k = 0; k < K; k++) {
            const pds_backtest_forecast *f = &r[k]->f[which[k]];
            double *s = p->row_score + (row * K + k) * PDS_SC_N;
            s[PDS_SC_BRIER] = f->unit_brier[i];
            s[PDS_SC_LOG] = f->unit_log[i];
            s[PDS_SC_RPS] = f->unit_rps[i];
            for (size_t t = 0; t < years; t++) {
                double h = clamp_eps(f->hazard[i * Y + t]);
                p->uy_prob[(p->n_uy + t) * K + k] = (int)t == o ? h : 1.0 - h;
            }
        }
        p->n_uy += years;
    }
    p->n_rows += nr;
    p->n_origins++;
    return PDS_OK;
}

void pds_fc_pool_diff(const pds_fc_pool *p, size_t a, size_t b, int score, pds_fc_diff *out)
{
    size_t K = p->n_fc, G = p->n_units;
    memset(out, 0, sizeof *out);
    double *D = calloc(G + 1, sizeof *D), *nu = calloc(G + 1, sizeof *nu);
    if (!D || !nu) {
        free(D);
        free(nu);
        out->diff = out->se = out->mean_a = out->mean_b = NAN;
        return;
    }
    double sa = 0.0, sb = 0.0, N = 0.0;
    for (size_t row = 0; row < p->n_rows; row++) {
        const double *s = p->row_score + row * K * PDS_SC_N;
        double va = s[a * PDS_SC_N + score], vb = s[b * PDS_SC_N + score];
        double n = score == PDS_SC_RPS ? 1.0 : (double)p->row_years[row];
        size_t u = p->row_unit[row];
        D[u] += va - vb;
        nu[u] += n;
        sa += va;
        sb += vb;
        N += n;
    }
    out->n_obs = (size_t)N;
    out->mean_a = N > 0 ? sa / N : NAN;
    out->mean_b = N > 0 ? sb / N : NAN;
    out->diff = N > 0 ? (sa - sb) / N : NAN;
    double ss = 0.0;
    size_t g = 0;
    for (size_t u = 0; u < G; u++) {
        if (nu[u] == 0.0)
            continue;
        g++;
        double e = D[u] - out->diff * nu[u];
        ss += e * e;
    }
    out->n_clusters = g;
    out->se = g > 1 ? sqrt((double)g / (double)(g - 1) * ss) / N : NAN;
    free(D);
    free(nu);
}

const char *pds_fc_verdict(const pds_fc_diff *d)
{
    if (!(d->se >= 0.0) || isnan(d->diff))
        return "no clear difference";
    if (d->diff < -2.0 * d->se)
        return "better";
    if (d->diff > 2.0 * d->se)
        return "worse";
    return "no clear difference";
}

/* log-likelihood of the mixture, and m[n] */
static double stack_objective(const double *q, size_t n, size_t K, const double *w, double *m)
{
    double L = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t k = 0; k < K; k++)
            s += w[k] * q[i * K + k];
        if (m)
            m[i] = s;
        L += log(s);
    }
    return L;
}

pds_status pds_fc_stack(const double *q, size_t n, size_t K, double *w, double *objective,
                        int *iterations)
{
    *iterations = 0;
    if (K == 0 || n == 0)
        return PDS_ERR_INPUT;
    for (size_t i = 0; i < n * K; i++)
        if (!(q[i] > 0.0))
            return PDS_ERR_INPUT;
    double *m = malloc(n * sizeof *m), *g = malloc(K * sizeof *g);
    double *H = malloc(K * K * sizeof *H), *A = malloc((K + 1) * (K + 1) * sizeof *A);
    double *rhs = malloc((K + 1) * sizeof *rhs), *d = malloc(K * sizeof *d);
    double *wt = malloc(K * sizeof *wt);
    int *in = malloc(K * sizeof *in);
    lapack_int *piv = malloc((K + 1) * sizeof *piv);
    size_t *idx = malloc(K * sizeof *idx);
    pds_status st = PDS_OK;
    if (!m || !g || !H || !A || !rhs || !d || !wt || !in || !piv || !idx) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    for (size_t k = 0; k < K; k++) {
        w[k] = 1.0 / (double)K;
        in[k] = 1;
    }
    double L = stack_objective(q, n, K, w, m);
    for (int it = 0; it < 1000; it++) {
        *iterations = it + 1;
        /* gradient and Hessian at w */
        memset(g, 0, K * sizeof *g);
        memset(H, 0, K * K * sizeof *H);
        for (size_t i = 0; i < n; i++) {
            const double *qi = q + i * K;
            double inv = 1.0 / m[i];
            for (size_t k = 0; k < K; k++) {
                g[k] += qi[k] * inv;
                for (size_t l = 0; l <= k; l++)
                    H[k * K + l] -= qi[k] * qi[l] * inv * inv;
            }
        }
        for (size_t k = 0; k < K; k++)
            for (size_t l = 0; l < k; l++)
                H[l * K + k] = H[k * K + l];
        size_t s = 0;
        double hmax = 0.0;
        for (size_t k = 0; k < K; k++)
            if (in[k]) {
                idx[s++] = k;
                hmax = fmax(hmax, -H[k * K + k]);
            }
        /* Newton step on the face {w_k = 0 outside the support, sum w = 1}:
         * [H 1; 1' 0] [d; nu] = [-g; 0], H made definite by a tiny ridge
         * (two identical forecasters make it singular) */
        size_t dim = s + 1;
        for (size_t i = 0; i < dim * dim; i++)
            A[i] = 0.0;
        for (size_t i = 0; i < s; i++) {
            for (size_t j = 0; j < s; j++)
                A[i * dim + j] = H[idx[i] * K + idx[j]];
            A[i * dim + i] -= 1e-10 * hmax;
            A[i * dim + s] = A[s * dim + i] = 1.0;
            rhs[i] = -g[idx[i]];
        }
        rhs[s] = 0.0;
        if (LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)dim, 1, A, (lapack_int)dim, piv, rhs, 1) !=
            0) {
            st = PDS_ERR_RUNTIME;
            goto done;
        }
        double dmax = 0.0, slope = 0.0;
        memset(d, 0, K * sizeof *d);
        for (size_t i = 0; i < s; i++) {
            d[idx[i]] = rhs[i];
            dmax = fmax(dmax, fabs(rhs[i]));
            slope += g[idx[i]] * rhs[i];
        }
        if (dmax < 1e-12 || slope <= 1e-15 * (fabs(L) + 1.0)) {
            /* stationary on the face: free a weight whose gradient exceeds the
             * multiplier (n, since sum_k w_k g_k = n) */
            size_t best = K;
            for (size_t k = 0; k < K; k++)
                if (!in[k] && g[k] > (double)n * (1.0 + 1e-10) && (best == K || g[k] > g[best]))
                    best = k;
            if (best == K)
                break;
            in[best] = 1;
            continue;
        }
        /* the longest step that keeps w >= 0, then backtracking */
        double tmax = 1.0;
        size_t hit = K;
        for (size_t k = 0; k < K; k++)
            if (in[k] && d[k] < 0.0 && -w[k] / d[k] < tmax) {
                tmax = -w[k] / d[k];
                hit = k;
            }
        double t = tmax, Lt = L;
        for (int b = 0; b < 60; b++, t *= 0.5) {
            for (size_t k = 0; k < K; k++)
                wt[k] = in[k] ? fmax(w[k] + t * d[k], 0.0) : 0.0;
            if (t == tmax && hit < K)
                wt[hit] = 0.0;
            Lt = stack_objective(q, n, K, wt, NULL);
            if (Lt >= L + 1e-4 * t * slope)
                break;
        }
        if (!(Lt >= L)) /* no progress possible: at the optimum to rounding */
            break;
        double sum = 0.0;
        for (size_t k = 0; k < K; k++)
            sum += wt[k];
        for (size_t k = 0; k < K; k++) {
            w[k] = wt[k] / sum;
            if (in[k] && w[k] == 0.0)
                in[k] = 0;
        }
        L = stack_objective(q, n, K, w, m);
    }
    *objective = stack_objective(q, n, K, w, NULL);
done:
    free(m);
    free(g);
    free(H);
    free(A);
    free(rhs);
    free(d);
    free(wt);
    free(in);
    free(piv);
    free(idx);
    return st;
}

const char *const pds_backtest_reliability_names[PDS_REL_FC] = {
    "this forecast", "model, channels off", "constant hazard", "logistic curve"};

