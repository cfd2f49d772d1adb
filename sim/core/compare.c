#include "compare.h"

#include <math.h>
#include <stdlib.h>

#define Z95 1.959963984540054

double pds_acc_mean(const pds_acc *a, double n)
{
    return a->s / n;
}

double pds_acc_var(const pds_acc *a, double n)
{
    if (n < 2)
        return 0.0;
    double v = (a->ss - a->s * a->s / n) / (n - 1);
    return v > 0 ? v : 0.0;
}

double pds_acc_se(const pds_acc *a, double n)
{
    return n > 0 ? sqrt(pds_acc_var(a, n) / n) : 0.0;
}

void pds_acc_interval(const pds_acc *a, double n, double out[3])
{
    double m = pds_acc_mean(a, n), h = Z95 * pds_acc_se(a, n);
    out[0] = m;
    out[1] = m - h;
    out[2] = m + h;
}

static void add(pds_acc *a, double x)
{
    a->s += x;
    a->ss += x * x;
}

void pds_compare_free(pds_compare *c)
{
    if (!c)
        return;
    free(c->nb);
    free(c->ns);
    free(c->nd);
    free(c->pd);
    free(c->pb);
    free(c->ps);
    free(c->yd);
    free(c->yb);
    free(c->ys);
    free(c);
}

pds_compare *pds_compare_create(size_t U, size_t Y, int first, int last, int base)
{
    pds_compare *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->U = U;
    c->Y = Y;
    c->first = first;
    c->last = last;
    c->base = base;
    c->nb = calloc(Y, sizeof *c->nb);
    c->ns = calloc(Y, sizeof *c->ns);
    c->nd = calloc(Y, sizeof *c->nd);
    c->pd = calloc(U * Y, sizeof *c->pd);
    c->pb = calloc(U * Y, sizeof *c->pb);
    c->ps = calloc(U * Y, sizeof *c->ps);
    c->yd = calloc(U, sizeof *c->yd);
    c->yb = calloc(U, sizeof *c->yb);
    c->ys = calloc(U, sizeof *c->ys);
    if (!c->nb || !c->ns || !c->nd || !c->pd || !c->pb || !c->ps || !c->yd || !c->yb || !c->ys) {
        pds_compare_free(c);
        return NULL;
    }
    return c;
}

/* The year used for year arithmetic: not adopted by last_year counts as
 * last_year + 1 (censored); a negative code (adopted by the base year, year
 * unknown) as the base year. */
static int eff_year(const pds_compare *c, int v)
{
    return v == 0 ? c->last + 1 : v < 0 ? c->base : v;
}

static int adopted_by(int v, int year)
{
    return v != 0 && v <= year; /* negative codes are before any simulated year */
}

void pds_compare_add_runs(pds_compare *c, size_t n, const int16_t *x, const int16_t *z)
{
    size_t U = c->U, Y = c->Y;
    for (size_t r = 0; r < n; r++, x += U, z += U) {
        double g = 0;
        for (size_t u = 0; u < U; u++) {
            int yb = eff_year(c, x[u]), ys = eff_year(c, z[u]);
            g += yb - ys;
            c->yb[u] += yb;
            c->ys[u] += ys;
            add(&c->yd[u], (double)(ys - yb));
        }
        add(&c->gained, g);
        for (size_t k = 0; k < Y; k++) {
            int year = c->first + (int)k, cb = 0, cs = 0;
            for (size_t u = 0; u < U; u++) {
                int ab = adopted_by(x[u], year), as = adopted_by(z[u], year);
                cb += ab;
                cs += as;
                c->pb[u * Y + k] += ab;
                c->ps[u * Y + k] += as;
                add(&c->pd[u * Y + k], (double)(as - ab));
            }
            add(&c->nb[k], cb);
            add(&c->ns[k], cs);
            add(&c->nd[k], cs - cb);
        }
        c->R += 1;
    }
}

void pds_compare_share_at(const pds_compare *c, size_t k, pds_compare_share *out)
{
    /* the share is the count over U: its mean, interval and SE are the
     * count's over U, so that they come from the same exact sums */
    double U = c->U > 0 ? (double)c->U : NAN, v[3];
    pds_acc_interval(&c->nd[k], c->R, v);
    out->base = pds_acc_mean(&c->nb[k], c->R) / U;
    out->scenario = pds_acc_mean(&c->ns[k], c->R) / U;
    for (int i = 0; i < 3; i++)
        out->diff[i] = v[i] / U;
    out->se = pds_acc_se(&c->nd[k], c->R) / U;
}

/* a before b in pds_compare_top_shifts */
static int shifts_before(const pds_compare *c, size_t k, size_t a, size_t b)
{
    double ya = fabs(c->yd[a].s), yb = fabs(c->yd[b].s);
    if (ya != yb)
        return ya > yb;
    double pa = fabs(c->pd[a * c->Y + k].s), pb = fabs(c->pd[b * c->Y + k].s);
    if (pa != pb)
        return pa > pb;
    return a < b;
}

size_t pds_compare_top_shifts(const pds_compare *c, size_t k, size_t *idx, size_t max)
{
    /* the sums over the same R runs order like the means, and are exact */
    size_t n = 0;
    for (size_t u = 0; u < c->U && max > 0; u++) {
        if (c->yd[u].ss == 0)
            continue;
        size_t i;
        if (n < max)
            i = n++;
        else if (shifts_before(c, k, u, idx[max - 1]))
            i = max - 1; /* the last one drops out */
        else
            continue;
        while (i > 0 && shifts_before(c, k, u, idx[i - 1])) {
            idx[i] = idx[i - 1];
            i--;
        }
        idx[i] = u;
    }
    return n;
}

double pds_compare_var_ratio(const pds_compare *c, size_t k)
{
    double vi = pds_acc_var(&c->nb[k], c->R) + pds_acc_var(&c->ns[k], c->R),
           vp = pds_acc_var(&c->nd[k], c->R);
    return vp > 0 ? vi / vp : vi > 0 ? INFINITY : NAN;
}

int pds_compare_any_difference(const pds_compare *c)
{
    /* an item's adoption by some year differs only if its year differs */
    for (size_t u = 0; u < c->U; u++)
        if (c->yd[u].ss > 0)
            return 1;
    return 0;
}

size_t pds_compare_year(const pds_compare *c)
{
    size_t best = c->Y - 1, spread = c->Y - 1;
    double most = 0, most_spread = -1;
    for (size_t k = 0; k < c->Y; k++) {
        double shift = 0, v = 0;
        for (size_t u = 0; u < c->U; u++) {
            double p = c->pb[u * c->Y + k] / c->R;
            shift += fabs(c->ps[u * c->Y + k] - c->pb[u * c->Y + k]) / c->R;
            v += p * (1 - p);
        }
        if (shift > most + 1e-12) {
            most = shift;
            best = k;
        }
        if (v > most_spread + 1e-12) {
            most_spread = v;
            spread = k;
        }
    }
    return most > 0 ? best : spread;
}
