#include "summary.h"

#include <stdlib.h>
#include <string.h>

pds_summary *pds_summary_create(size_t n_units, size_t n_years, int first_year)
{
    pds_summary *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->n_units = n_units;
    s->n_years = n_years;
    s->first_year = first_year;
    s->adopted_by_year = calloc(n_units * n_years + 1, sizeof(uint64_t));
    s->national_hist = calloc(n_years * (n_units + 1) + 1, sizeof(uint64_t));
    if (!s->adopted_by_year || !s->national_hist) {
        pds_summary_free(s);
        return NULL;
    }
    return s;
}

void pds_summary_free(pds_summary *s)
{
    if (!s)
        return;
    free(s->adopted_by_year);
    free(s->national_hist);
    free(s);
}

void pds_summary_add_runs(pds_summary *s, const int16_t *unit_years, size_t n_runs)
{
    size_t U = s->n_units, Y = s->n_years;
    /* new[k]: units adopting in year index k in this run; adoption before the
     * first year lands at k = 0 since it counts for every year */
    size_t newc[1024];
    size_t *cnt = Y <= 1024 ? newc : calloc(Y, sizeof(size_t));
    if (!cnt)
        return;
    for (size_t r = 0; r < n_runs; r++) {
        const int16_t *row = unit_years + r * U;
        memset(cnt, 0, Y * sizeof(size_t));
        for (size_t u = 0; u < U; u++) {
            int y = row[u];
            if (y == 0)
                continue;
            long k = y < 0 ? 0 : (long)y - s->first_year;
            if (k < 0)
                k = 0;
            if ((size_t)k >= Y)
                continue;
            cnt[k]++;
            uint64_t *p = s->adopted_by_year + u * Y;
            for (size_t j = (size_t)k; j < Y; j++)
                p[j]++;
        }
        size_t c = 0;
        for (size_t k = 0; k < Y; k++) {
            c += cnt[k];
            s->national_hist[k * (U + 1) + c]++;
        }
    }
    s->n_runs += n_runs;
    if (cnt != newc)
        free(cnt);
}

pds_status pds_summary_merge(pds_summary *into, const pds_summary *from)
{
    if (into->n_units != from->n_units || into->n_years != from->n_years ||
        into->first_year != from->first_year)
        return PDS_ERR_INPUT;
    for (size_t i = 0; i < into->n_units * into->n_years; i++)
        into->adopted_by_year[i] += from->adopted_by_year[i];
    for (size_t i = 0; i < into->n_years * (into->n_units + 1); i++)
        into->national_hist[i] += from->national_hist[i];
    into->n_runs += from->n_runs;
    return PDS_OK;
}

double pds_summary_p_adopted(const pds_summary *s, size_t unit, size_t k)
{
    if (s->n_runs == 0)
        return 0.0;
    return (double)s->adopted_by_year[unit * s->n_years + k] / (double)s->n_runs;
}

int pds_summary_unit_year_quantile(const pds_summary *s, size_t unit, double p)
{
    for (size_t k = 0; k < s->n_years; k++) {
        /* compare counts, not rounded probabilities */
        if ((double)s->adopted_by_year[unit * s->n_years + k] >= p * (double)s->n_runs)
            return s->first_year + (int)k;
    }
    return 0;
}

int pds_summary_national_quantile(const pds_summary *s, size_t k, double p)
{
    const uint64_t *h = s->national_hist + k * (s->n_units + 1);
    uint64_t cum = 0;
    for (size_t c = 0; c <= s->n_units; c++) {
        cum += h[c];
        if (cum > 0 && (double)cum >= p * (double)s->n_runs)
            return (int)c;
    }
    return (int)s->n_units;
}

double pds_summary_national_mean(const pds_summary *s, size_t k)
{
    if (s->n_runs == 0)
        return 0.0;
    const uint64_t *h = s->national_hist + k * (s->n_units + 1);
    double sum = 0.0;
    for (size_t c = 0; c <= s->n_units; c++)
        sum += (double)c * (double)h[c];
    return sum / (double)s->n_runs;
}
