#define _POSIX_C_SOURCE 200809L
#include "compare_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The datasets of one axis of items (the units in /compare, the sub-units
 * in /subunits), the same names and layout for both: the paired
 * differences with their intervals, per year and per item. item: "unit" or
 * "sub-unit", for the descriptions; gained: the name of the item-years
 * gained. */
static int write_axis(hid_t g, const pds_compare *st, const char *item, const char *gained)
{
    size_t U = st->U, Y = st->Y;
    double R = st->R, v[3], pg[3];
    double *nat = malloc(3 * Y * sizeof(double)), *pp = malloc(3 * U * Y * sizeof(double));
    double *vr = malloc(Y * sizeof(double)), *yd = malloc(3 * U * sizeof(double));
    int16_t *years = malloc(Y * sizeof(int16_t));
    int e = !nat || !pp || !vr || !yd || !years;
    for (size_t k = 0; !e && k < Y; k++) {
        years[k] = (int16_t)(st->first + (int)k);
        pds_acc_interval(&st->nd[k], R, v);
        for (int i = 0; i < 3; i++)
            nat[i * Y + k] = v[i];
        vr[k] = pds_compare_var_ratio(st, k);
        for (size_t u = 0; u < U; u++) {
            pds_acc_interval(&st->pd[u * Y + k], R, v);
            for (int i = 0; i < 3; i++)
                pp[i * U * Y + u * Y + k] = v[i];
        }
    }
    for (size_t u = 0; !e && u < U; u++) {
        pds_acc_interval(&st->yd[u], R, v);
        for (int i = 0; i < 3; i++)
            yd[i * U + u] = v[i];
    }
    pds_acc_interval(&st->gained, R, pg);
    hsize_t d2[2] = {3, Y}, d3[3] = {3, U, Y}, d1[1] = {3}, dy[1] = {Y}, dyu[2] = {3, U};
    char desc[4][256];
    snprintf(desc[0], sizeof desc[0],
             "[mean, 95%% low, 95%% high] x year: paired difference (scenario - baseline) in "
             "the number of %ss adopted by the end of the year",
             item);
    snprintf(desc[1], sizeof desc[1],
             "[mean, 95%% low, 95%% high] x %s x year: paired difference (scenario - "
             "baseline) in P(adopted by the end of the year)",
             item);
    snprintf(desc[2], sizeof desc[2],
             "[mean, 95%% low, 95%% high] x %s: paired difference (scenario - baseline) in "
             "the adoption year, not adopted counting as last_year + 1",
             item);
    snprintf(desc[3], sizeof desc[3],
             "[mean, 95%% low, 95%% high]: per run, sum over %ss of baseline year - scenario "
             "year, not adopted counting as last_year + 1",
             item);
    if (!e) {
        e |= pds_h5_write_dataset(g, "national_adopted_diff", H5T_NATIVE_DOUBLE, 2, d2, nat,
                                  desc[0]);
        e |= pds_h5_write_dataset(g, "p_adopted_by_year_diff", H5T_NATIVE_DOUBLE, 3, d3, pp,
                                  desc[1]);
        e |= pds_h5_write_dataset(g, "mean_adoption_year_diff", H5T_NATIVE_DOUBLE, 2, dyu, yd,
                                  desc[2]);
        e |= pds_h5_write_dataset(g, gained, H5T_NATIVE_DOUBLE, 1, d1, pg, desc[3]);
        e |= pds_h5_write_dataset(
            g, "variance_reduction", H5T_NATIVE_DOUBLE, 1, dy, vr,
            "per year: (var baseline + var scenario) / var of the paired difference of "
            "the national count; inf = identical difference in every run, NaN = no "
            "variation at all");
        e |= pds_h5_write_dataset(g, "years", H5T_NATIVE_INT16, 1, dy, years,
                                  "the years of the year axis");
    }
    free(nat);
    free(pp);
    free(vr);
    free(yd);
    free(years);
    return e ? -1 : 0;
}

/* What only the sub-units get (their result files hold no summaries of
 * them): P(adopted by the year) and the mean adoption year in each file,
 * the share adopted with its paired difference, and the sub-unit axis. */
static int write_subunits(hid_t g, const pds_compare_h5_subunits *sub, char *const *unit_names)
{
    const pds_compare *st = sub->c;
    size_t S = st->U, Y = st->Y;
    double R = st->R;
    double *p = malloc(2 * S * Y * sizeof(double)), *my = malloc(2 * S * sizeof(double));
    double *sh = malloc(2 * Y * sizeof(double)), *sd = malloc(3 * Y * sizeof(double));
    double *se = malloc(Y * sizeof(double));
    const char **pn = calloc(S + 1, sizeof(char *));
    int e = !p || !my || !sh || !sd || !se || !pn;
    for (size_t u = 0; !e && u < S; u++) {
        for (size_t k = 0; k < Y; k++) {
            p[u * Y + k] = st->pb[u * Y + k] / R;
            p[S * Y + u * Y + k] = st->ps[u * Y + k] / R;
        }
        my[u] = st->yb[u] / R;
        my[S + u] = st->ys[u] / R;
        pn[u] = unit_names ? unit_names[sub->axis->parent[u]] : "";
    }
    for (size_t k = 0; !e && k < Y; k++) {
        pds_compare_share sh_k;
        pds_compare_share_at(st, k, &sh_k);
        sh[k] = sh_k.base;
        sh[Y + k] = sh_k.scenario;
        for (int i = 0; i < 3; i++)
            sd[i * Y + k] = sh_k.diff[i];
        se[k] = sh_k.se;
    }
    hsize_t d3[3] = {2, S, Y}, d2[2] = {2, S}, dy2[2] = {2, Y}, dy3[2] = {3, Y}, dy[1] = {Y};
    if (!e) {
        e |= pds_h5_write_dataset(g, "p_adopted_by_year", H5T_NATIVE_DOUBLE, 3, d3, p,
                                  "[baseline, scenario] x sub-unit x year: share of runs with "
                                  "the sub-unit adopted by the end of the year");
        e |= pds_h5_write_dataset(g, "mean_adoption_year", H5T_NATIVE_DOUBLE, 2, d2, my,
                                  "[baseline, scenario] x sub-unit: mean adoption year, not "
                                  "adopted counting as last_year + 1");
        e |= pds_h5_write_dataset(g, "share_adopted", H5T_NATIVE_DOUBLE, 2, dy2, sh,
                                  "[baseline, scenario] x year: mean share of the sub-units "
                                  "adopted by the end of the year");
        e |= pds_h5_write_dataset(g, "share_adopted_diff", H5T_NATIVE_DOUBLE, 2, dy3, sd,
                                  "[mean, 95% low, 95% high] x year: paired difference "
                                  "(scenario - baseline) in the share of the sub-units adopted "
                                  "by the end of the year");
        e |= pds_h5_write_dataset(g, "share_adopted_se", H5T_NATIVE_DOUBLE, 1, dy, se,
                                  "per year: standard error of share_adopted_diff's mean, "
                                  "sd of the per-run difference / sqrt(runs)");
        e |= pds_h5_write_strings(g, "subunit_code", (const char *const *)sub->axis->codes, S,
                                  "sub-unit codes of the sub-unit axis");
        e |= pds_h5_write_strings(g, "subunit_name", (const char *const *)sub->axis->names, S,
                                  "sub-unit names of the sub-unit axis");
        e |= pds_h5_write_strings(g, "unit_code", (const char *const *)sub->axis->unit_codes, S,
                                  "code of each sub-unit's unit");
        e |= pds_h5_write_strings(g, "unit_name", pn, S,
                                  "name of each sub-unit's unit (empty when the file has none)");
    }
    free(p);
    free(my);
    free(sh);
    free(sd);
    free(se);
    free(pn);
    return e ? -1 : 0;
}

static int write_contents(hid_t f, const pds_compare *st, size_t year_index, char *const *names,
                          const pds_h5result *b, const pds_h5result *s,
                          const pds_compare_h5_subunits *sub)
{
    hid_t g = H5Gcreate2(f, "compare", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int e = g < 0;
    if (!e) {
        e |= write_axis(g, st, "unit", "province_years_gained");
        e |= pds_h5_write_strings(g, "province_code", (const char *const *)b->codes, st->U,
                                  "unit codes of the unit axis");
        if (names)
            e |= pds_h5_write_strings(g, "unit_name", (const char *const *)names, st->U,
                                      "unit names of the unit axis");
    }
    if (g >= 0)
        H5Gclose(g);
    if (!e && sub) {
        g = H5Gcreate2(f, "subunits", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        e = g < 0 || write_axis(g, sub->c, "sub-unit", "subunit_years_gained") != 0 ||
            write_subunits(g, sub, names) != 0;
        if (g >= 0)
            H5Gclose(g);
    }
    unsigned char one = 1;
    uint64_t runs = b->n_runs;
    if (!e) {
        e |= pds_h5_attr_write_str(f, "base_file", b->path) |
             pds_h5_attr_write_str(f, "scenario_file", s->path);
        e |= pds_h5_attr_write_num(f, "seed", H5T_NATIVE_UINT64, &b->seed);
        e |= pds_h5_attr_write_num(f, "n_runs", H5T_NATIVE_UINT64, &runs);
        int64_t cy = st->first + (int64_t)year_index;
        e |= pds_h5_attr_write_num(f, "year", H5T_NATIVE_INT64, &cy);
        /* last, so that a file with complete = 1 has everything */
        e |= pds_h5_attr_write_num(f, "complete", H5T_NATIVE_UCHAR, &one);
    }
    return e ? -1 : 0;
}

pds_status pds_compare_h5_write(const char *path, const pds_compare *st, size_t year_index,
                                char *const *names, const pds_h5result *b, const pds_h5result *s,
                                const pds_compare_h5_subunits *sub, pds_diag *diag)
{
    char *tmp = NULL;
    pds_fileid id = {0};
    hid_t f = pds_h5_create_tmp(path, &tmp, &id);
    pds_status rc = PDS_OK;
    if (f < 0) {
        pds_diag_add(diag, path, 0, 0,
                     "cannot create the output file (is the folder there and writable?)");
        rc = PDS_ERR_RUNTIME;
    } else {
        int e = write_contents(f, st, year_index, names, b, s, sub);
        e |= H5Fclose(f) < 0;
        if (e)
            pds_diag_add(diag, path, 0, 0, "writing the comparison failed (disk full?)");
        else if (pds_out_install(tmp, &id, path, diag) != 0)
            e = 1;
        if (e) {
            pds_out_discard(tmp, &id);
            rc = PDS_ERR_RUNTIME;
        }
    }
    free(tmp);
    return rc;
}
