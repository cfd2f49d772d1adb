#define _POSIX_C_SOURCE 200809L
#include "compare_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_contents(hid_t f, const pds_compare *st, size_t year_index, char *const *names,
                          const pds_h5result *b, const pds_h5result *s)
{
    size_t U = st->U, Y = st->Y;
    double R = st->R, v[3];
    double *nat = malloc(3 * Y * sizeof(double)), *pp = malloc(3 * U * Y * sizeof(double));
    double *vr = malloc(Y * sizeof(double)), *yd = malloc(3 * U * sizeof(double)), pg[3];
    int16_t *years = malloc(Y * sizeof(int16_t));
    hid_t g = H5Gcreate2(f, "compare", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int e = !nat || !pp || !vr || !yd || !years || g < 0;
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
    hsize_t d2[2] = {3, Y}, d3[3] = {3, U, Y}, d1[1] = {3}, dy[1] = {Y};
    hsize_t dyu[2] = {3, U};
    if (!e) {
        e |= pds_h5_write_dataset(
            g, "national_adopted_diff", H5T_NATIVE_DOUBLE, 2, d2, nat,
            "[mean, 95% low, 95% high] x year: paired difference (scenario - baseline) "
            "in the number of units adopted by the end of the year");
        e |= pds_h5_write_dataset(
            g, "p_adopted_by_year_diff", H5T_NATIVE_DOUBLE, 3, d3, pp,
            "[mean, 95% low, 95% high] x unit x year: paired difference (scenario - "
            "baseline) in P(adopted by the end of the year)");
        e |= pds_h5_write_dataset(
            g, "mean_adoption_year_diff", H5T_NATIVE_DOUBLE, 2, dyu, yd,
            "[mean, 95% low, 95% high] x unit: paired difference (scenario - baseline) "
            "in the adoption year, not adopted counting as last_year + 1");
        e |= pds_h5_write_dataset(
            g, "province_years_gained", H5T_NATIVE_DOUBLE, 1, d1, pg,
            "[mean, 95% low, 95% high]: per run, sum over units of baseline year - "
            "scenario year, not adopted counting as last_year + 1");
        e |= pds_h5_write_dataset(
            g, "variance_reduction", H5T_NATIVE_DOUBLE, 1, dy, vr,
            "per year: (var baseline + var scenario) / var of the paired difference of "
            "the national count; inf = identical difference in every run, NaN = no "
            "variation at all");
        e |= pds_h5_write_dataset(g, "years", H5T_NATIVE_INT16, 1, dy, years,
                                  "the years of the year axis");
        e |= pds_h5_write_strings(g, "province_code", (const char *const *)b->codes, U,
                                  "unit codes of the unit axis");
        if (names)
            e |= pds_h5_write_strings(g, "unit_name", (const char *const *)names, U,
                                      "unit names of the unit axis");
    }
    if (g >= 0)
        H5Gclose(g);
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
    free(nat);
    free(pp);
    free(vr);
    free(yd);
    free(years);
    return e ? -1 : 0;
}

pds_status pds_compare_h5_write(const char *path, const pds_compare *st, size_t year_index,
                                char *const *names, const pds_h5result *b, const pds_h5result *s,
                                pds_diag *diag)
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
        int e = write_contents(f, st, year_index, names, b, s);
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
