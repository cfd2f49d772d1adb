#include "insample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pp.h"

size_t pds_insample_periods(int first, int last, size_t n, int (*out)[2])
{
    if (last < first || n == 0)
        return 0;
    size_t len = (size_t)(last - first + 1);
    if (n > len)
        n = len;
    size_t base = len / n, rem = len % n;
    int y = first;
    for (size_t i = 0; i < n; i++) {
        int size = (int)(base + (i < rem));
        out[i][0] = y;
        out[i][1] = y + size - 1;
        y += size;
    }
    return n;
}

pds_status pds_insample_check(const pds_world *w, const pds_model *const *models,
                              const double *weights, size_t K, int last_year, pds_insample *out,
                              pds_diag *diag)
{
    memset(out, 0, sizeof *out);
    int first = 0;
    for (size_t k = 0; k < K; k++) {
        int f = pds_pp_default_first_year(w, models[k]);
        if (k == 0 || f > first)
            first = f;
    }
    pds_pp_table *t0 = NULL;
    pds_status st = pds_pp_build(w, models[0], first, last_year, diag, &t0);
    if (st != PDS_OK)
        return st;
    double *p = calloc(t0->n + 1, sizeof *p), *pk = malloc((t0->n + 1) * sizeof *pk);
    if (!p || !pk)
        st = PDS_ERR_RUNTIME;
    for (size_t k = 0; st == PDS_OK && k < K; k++) {
        pds_pp_table *t = t0;
        if (k > 0 && (st = pds_pp_build(w, models[k], first, last_year, diag, &t)) != PDS_OK)
            break;
        /* the same unit-years at risk, in the same order, whatever the terms */
        int same = t->n == t0->n;
        for (size_t r = 0; same && r < t->n; r++)
            same = t->unit[r] == t0->unit[r] && t->year[r] == t0->year[r];
        if (!same) {
            pds_diag_add(diag, models[k]->path, 0, 0,
                         "in-sample check: model '%s' has other unit-years at risk than '%s'",
                         models[k]->name, models[0]->name);
            st = PDS_ERR_INPUT;
        } else {
            pds_pp_hazards(t, models[k], 0.0, pk);
            for (size_t r = 0; r < t->n; r++)
                p[r] += (K > 1 ? weights[k] : 1.0) * pk[r];
        }
        if (t != t0)
            pds_pp_free(t);
    }
    if (st == PDS_OK) {
        int per[PDS_INSAMPLE_PERIODS][2];
        out->n_periods = pds_insample_periods(t0->first_year, t0->last_year, PDS_INSAMPLE_PERIODS, per);
        pds_insample_period *tot = &out->period[out->n_periods];
        tot->first = t0->first_year;
        tot->last = t0->last_year;
        double var_tot = 0;
        for (size_t i = 0; i < out->n_periods; i++) {
            pds_insample_period *q = &out->period[i];
            q->first = per[i][0];
            q->last = per[i][1];
            double var = 0;
            for (size_t r = 0; r < t0->n; r++)
                if (t0->year[r] >= q->first && t0->year[r] <= q->last) {
                    q->at_risk++;
                    q->observed += t0->y[r];
                    q->expected += p[r];
                    var += p[r] * (1.0 - p[r]);
                }
            q->sd = sqrt(var);
            q->z = q->sd > 0 ? (q->observed - q->expected) / q->sd : NAN;
            if (fabs(q->z) > 2 || (q->sd == 0 && q->observed != q->expected))
                out->worst_abs_z_over_2 = 1;
            tot->at_risk += q->at_risk;
            tot->observed += q->observed;
            tot->expected += q->expected;
            var_tot += var;
        }
        tot->sd = sqrt(var_tot);
        tot->z = tot->sd > 0 ? (tot->observed - tot->expected) / tot->sd : NAN;
    }
    free(p);
    free(pk);
    pds_pp_free(t0);
    return st;
}
