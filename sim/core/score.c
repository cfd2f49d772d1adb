#include "score.h"

#include <math.h>
#include <string.h>

/* Hazards of policy adoption are mostly small: finer bins at the low end. */
const double pds_score_bin_edges[PDS_SCORE_BINS] = {0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0};

static size_t bin_of(double p)
{
    for (size_t b = 0; b + 1 < PDS_SCORE_BINS; b++)
        if (p < pds_score_bin_edges[b])
            return b;
    return PDS_SCORE_BINS - 1;
}

pds_status pds_score_compute(const double *hazard, const int *outcome, size_t n_units,
                             size_t n_years, pds_scores *out, double *unit_brier, double *unit_log,
                             double *unit_rps)
{
    memset(out, 0, sizeof *out);
    double var[PDS_SCORE_BINS] = {0}, sum_p[PDS_SCORE_BINS] = {0};
    double brier = 0.0, logs = 0.0, rps = 0.0;
    for (size_t i = 0; i < n_units; i++) {
        int o = outcome[i];
        if (o < -1 || o >= (int)n_years)
            return PDS_ERR_INPUT;
        for (size_t k = 0; k < n_years; k++) {
            double h = hazard[i * n_years + k];
            if (!(h >= 0.0 && h <= 1.0))
                return PDS_ERR_INPUT;
        }
    }
    for (size_t i = 0; i < n_units; i++) {
        const double *h = hazard + i * n_years;
        int o = outcome[i];
        double ub = 0.0, ul = 0.0, ur = 0.0, surv = 1.0;
        for (size_t k = 0; k < n_years; k++) {
            /* at risk in year k only while not adopted in the observed history */
            if (o < 0 || (int)k <= o) {
                double y = (int)k == o ? 1.0 : 0.0;
                double p = h[k];
                double pc = fmin(fmax(p, PDS_SCORE_EPS), 1.0 - PDS_SCORE_EPS);
                ub += (p - y) * (p - y);
                ul -= y > 0 ? log(pc) : log1p(-pc);
                size_t b = bin_of(p);
                out->bins[b].n++;
                out->bins[b].events += y > 0;
                sum_p[b] += p;
                var[b] += p * (1.0 - p);
                out->n_unit_years++;
                out->n_events += y > 0;
            }
            /* the CDF at every threshold of the window is scored: whether a
             * unit had adopted by year k is known for censored units too */
            surv *= 1.0 - h[k];
            double F = 1.0 - surv;
            double O = o >= 0 && (int)k >= o ? 1.0 : 0.0;
            ur += (F - O) * (F - O);
        }
        brier += ub;
        logs += ul;
        rps += ur;
        if (unit_brier)
            unit_brier[i] = ub;
        if (unit_log)
            unit_log[i] = ul;
        if (unit_rps)
            unit_rps[i] = ur;
    }
    out->n_units = n_units;
    out->brier = out->n_unit_years ? brier / (double)out->n_unit_years : NAN;
    out->log_score = out->n_unit_years ? logs / (double)out->n_unit_years : NAN;
    out->rps = n_units ? rps / (double)n_units : NAN;
    for (size_t b = 0; b < PDS_SCORE_BINS; b++) {
        pds_calibration_bin *c = &out->bins[b];
        c->lo = b ? pds_score_bin_edges[b - 1] : 0.0;
        c->hi = pds_score_bin_edges[b];
        double n = (double)c->n;
        c->mean_pred = c->n ? sum_p[b] / n : NAN;
        c->obs_freq = c->n ? (double)c->events / n : NAN;
        c->se = c->n ? sqrt(var[b]) / n : NAN;
    }
    return PDS_OK;
}

void pds_score_mc_hazard(const uint64_t *by_year, uint64_t n_runs, size_t n_years, double *hazard)
{
    uint64_t before = 0;
    for (size_t k = 0; k < n_years; k++) {
        uint64_t at_risk = n_runs - before;
        uint64_t a = by_year[k] - before;
        hazard[k] = ((double)a + 0.5) / ((double)at_risk + 1.0);
        before = by_year[k];
    }
}

void pds_score_count_quantiles(const double *hazard, size_t n_units, size_t n_years,
                               size_t n_before, const double *probs, size_t n_probs, int *q,
                               double *mean, double *work)
{
    for (size_t k = 0; k < n_years; k++) {
        /* P(count = c) by adding one unit at a time */
        work[0] = 1.0;
        for (size_t c = 1; c <= n_units; c++)
            work[c] = 0.0;
        double m = (double)n_before;
        for (size_t i = 0; i < n_units; i++) {
            double surv = 1.0;
            for (size_t j = 0; j <= k; j++)
                surv *= 1.0 - hazard[i * n_years + j];
            double F = 1.0 - surv;
            m += F;
            for (size_t c = i + 1; c > 0; c--)
                work[c] = work[c] * (1.0 - F) + work[c - 1] * F;
            work[0] *= 1.0 - F;
        }
        mean[k] = m;
        for (size_t i = 0; i < n_probs; i++) {
            double cum = 0.0;
            size_t c = 0;
            /* tolerance so that a CDF of exactly p in exact arithmetic counts */
            for (; c < n_units; c++) {
                cum += work[c];
                if (cum >= probs[i] - 1e-12)
                    break;
            }
            q[k * n_probs + i] = (int)(n_before + c);
        }
    }
}
