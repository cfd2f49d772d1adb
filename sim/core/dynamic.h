/* Definitions of the dynamic regressors, shared by the simulation engine and
 * by the person-period table used for fitting, so that the two cannot drift
 * apart. State is always the state at the end of the previous year. */
#ifndef PDS_DYNAMIC_H
#define PDS_DYNAMIC_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "world.h"

/* Percentage (0-100) of `total` that `adopted` represents; 0 when total is 0
 * (a unit without neighbours or without sub-units). Neighbours count by
 * their weight (1 each with plain contiguity). */
static inline double pds_dynamic_pct(double adopted, double total)
{
    return total > 0 ? 100.0 * adopted / total : 0.0;
}

/* Weighted central documents that count for an outcome in year t. */
static inline double pds_dynamic_documents(const pds_world *w, int t, int lag)
{
    return pds_world_documents_through(w, t - lag);
}

/* The time-trend regressor for an outcome in year t. */
static inline double pds_dynamic_year(int t)
{
    return (double)(t - PDS_YEAR_ORIGIN);
}

/* The decayed document stock for an outcome in year t: each document issued
 * in a year s <= t - lag counts weight * 0.5^((t - lag - s) / half_life), so
 * a document counts fully in its own year and half after half_life years. */
static inline double pds_dynamic_document_stock(const pds_world *w, int t, int lag,
                                                double half_life)
{
    int c = t - lag;
    double s = 0.0;
    for (size_t i = 0; i < w->n_documents; i++)
        if (w->documents[i].year <= c)
            s += w->documents[i].weight * exp2(-(double)(c - w->documents[i].year) / half_life);
    return s;
}

/* Weighted documents issued in the `window` years (t - lag - window, t - lag]. */
static inline double pds_dynamic_recent_documents(const pds_world *w, int t, int lag, int window)
{
    int c = t - lag;
    double s = 0.0;
    for (size_t i = 0; i < w->n_documents; i++)
        if (w->documents[i].year <= c && w->documents[i].year > c - window)
            s += w->documents[i].weight;
    return s;
}

/* The year of the first document: the first year by which the weighted
 * count of documents issued is positive (so a scenario that removes the
 * first year's documents moves it, and one that adds later documents does
 * not); 0 when there is none. */
static inline int pds_dynamic_first_document_year(const pds_world *w)
{
    int first = 0;
    for (size_t i = 0; i < w->n_documents; i++) {
        int y = w->documents[i].year;
        if ((first == 0 || y < first) && pds_world_documents_through(w, y) > 0)
            first = y;
    }
    return first;
}

/* Years from the first document to t - lag; 0, with *exposed = 0, before
 * the first document or without one. */
static inline double pds_dynamic_duration(const pds_world *w, int t, int lag, int *exposed)
{
    int first = pds_dynamic_first_document_year(w);
    *exposed = first != 0 && t - lag >= first;
    return *exposed ? (double)(t - lag - first) : 0.0;
}

/* Column `basis` (1-based) of the natural (restricted) cubic spline basis
 * with knots k[0] < ... < k[n-1] (n >= 3): column 1 is x, column j + 1
 * (j = 1 .. n - 2) is
 *   [(x - k_j)+^3 - (x - k_{n-1})+^3 (k_n - k_j) / (k_n - k_{n-1})
 *                 + (x - k_n)+^3 (k_{n-1} - k_j) / (k_n - k_{n-1})] / (k_n - k_1)^2
 * (knots numbered from 1): cubic between the knots, linear beyond the outer
 * ones, scaled as Harrell's rcspline.eval and Stata's mkspline cubic. */
static inline double pds_dynamic_spline(double x, const double *k, int n, int basis)
{
    if (basis <= 1)
        return x;
    double kj = k[basis - 2], ka = k[n - 2], kb = k[n - 1];
    double p1 = x > kj ? (x - kj) * (x - kj) * (x - kj) : 0.0;
    double p2 = x > ka ? (x - ka) * (x - ka) * (x - ka) : 0.0;
    double p3 = x > kb ? (x - kb) * (x - kb) * (x - kb) : 0.0;
    double v = p1 - p2 * (kb - kj) / (kb - ka) + p3 * (ka - kj) / (kb - ka);
    return v / ((kb - k[0]) * (kb - k[0]));
}

/* Value of a term that is the same for every unit in a year (the document
 * forms and the time trend) for an outcome in year t, after its transform;
 * NaN when log(1 + x) is asked of x <= -1. Both the engine and the
 * person-period table call this, so fit, run, backtest and sweep agree. */
static inline double pds_dynamic_common(const pds_world *w, const pds_term *term, int t, int lag)
{
    double x = 0.0;
    int exposed;
    switch (term->kind) {
    case PDS_TERM_DOCUMENTS:
        x = pds_dynamic_documents(w, t, lag);
        break;
    case PDS_TERM_DOCUMENT_STOCK:
        x = pds_dynamic_document_stock(w, t, lag, term->half_life);
        break;
    case PDS_TERM_RECENT_DOCUMENTS:
        x = pds_dynamic_recent_documents(w, t, lag, term->window);
        break;
    case PDS_TERM_YEARS_SINCE_FIRST:
        x = pds_dynamic_duration(w, t, lag, &exposed);
        if (term->has_interval)
            return exposed && x >= term->lo && x <= term->hi ? 1.0 : 0.0;
        if (term->n_knots > 0)
            return exposed ? pds_dynamic_spline(x, term->knots, term->n_knots, term->basis) : 0.0;
        break;
    case PDS_TERM_YEAR:
        x = pds_dynamic_year(t);
        if (term->has_interval) /* a period dummy of calendar years */
            return (double)t >= term->lo && (double)t <= term->hi ? 1.0 : 0.0;
        if (term->n_knots > 0) { /* knots in calendar years, shifted as the trend */
            double k[PDS_SPLINE_MAX_KNOTS];
            for (int i = 0; i < term->n_knots; i++)
                k[i] = term->knots[i] - PDS_YEAR_ORIGIN;
            return pds_dynamic_spline(x, k, term->n_knots, term->basis);
        }
        return term->power > 1 ? pow(x, term->power) : x;
    default:
        return 0.0;
    }
    if (term->transform == PDS_TRANSFORM_LOG1P)
        return x > -1.0 ? log1p(x) : NAN;
    return x;
}

/* A panel variable's (or a numeric unit attribute's) value x as the term's
 * regressor: the dummy of its level, else x after the transform. 0, or -1
 * when x cannot be logged (log of x <= 0, log1p of x <= -1). */
static inline int pds_term_transform_x(const pds_term *t, double x, double *out)
{
    if (t->level) {
        *out = x == strtod(t->level, NULL) ? 1.0 : 0.0;
        return 0;
    }
    if (t->transform == PDS_TRANSFORM_LOG1P) {
        if (!(x > -1.0))
            return -1;
        x = log1p(x);
    } else if (t->transform == PDS_TRANSFORM_LOG) {
        if (!(x > 0.0))
            return -1;
        x = log(x);
    }
    *out = x;
    return 0;
}

/* The value of unit-attribute term t for unit u, whose units-file column is
 * a: the dummy of its level (text compared), else the cell as a number after
 * the transform. 0, or -1 when the cell is not a number or cannot be logged. */
static inline int pds_term_unit_attr_x(const pds_world *w, const pds_term *t, size_t a, size_t u,
                                       double *out)
{
    const char *cell = pds_world_unit_attr(w, u, a);
    if (t->level) {
        *out = strcmp(cell, t->level) == 0 ? 1.0 : 0.0;
        return 0;
    }
    char *end;
    double x = strtod(cell, &end);
    if (!*cell || *end || !isfinite(x))
        return -1;
    return pds_term_transform_x(t, x, out);
}

/* The state-dependent quantity a term is or multiplies: PDS_TERM_NEIGHBOURS_PCT
 * or PDS_TERM_SUBUNITS_PCT, else PDS_TERM_PANEL (none). The loader lets an
 * interaction have at most one. */
static inline pds_term_kind pds_term_state(const pds_term *t)
{
    if (t->kind == PDS_TERM_NEIGHBOURS_PCT || t->kind == PDS_TERM_SUBUNITS_PCT)
        return t->kind;
    for (size_t i = 0; t->kind == PDS_TERM_INTERACTION && i < t->n_factors; i++)
        if (pds_term_state(&t->factors[i]) != PDS_TERM_PANEL)
            return pds_term_state(&t->factors[i]);
    return PDS_TERM_PANEL;
}

/* Whether a term is the same for every unit in a year (pds_dynamic_common). */
static inline int pds_dynamic_is_common(pds_term_kind k)
{
    return pds_term_kind_is_documentary(k) || k == PDS_TERM_YEAR;
}

#endif
