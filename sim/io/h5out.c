#include "h5out.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5util.h"
#include "pds_version.h"

const double pds_national_quantiles[] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};
const size_t pds_n_national_quantiles =
    sizeof pds_national_quantiles / sizeof pds_national_quantiles[0];

struct pds_h5out {
    char *path; /* final name */
    char *tmp;  /* name while writing */
    hid_t file;
    hid_t d_units; /* /runs/province_adoption_year */
    hid_t d_subs;  /* /runs/city_adoption_year or -1 */
    hid_t d_coef;  /* /runs/coefficients or -1 */
    size_t n_coef;
    size_t n_units, n_subs;
    uint64_t n_runs;
    uint64_t written;
};

static int attr_set_u8(hid_t obj, const char *name, unsigned char v)
{
    if (H5Aexists(obj, name) > 0) {
        hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
        herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UCHAR, &v);
        if (a >= 0)
            H5Aclose(a);
        return e < 0 ? -1 : 0;
    }
    return pds_h5_attr_write_num(obj, name, H5T_NATIVE_UCHAR, &v);
}

static hid_t make_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                          const hsize_t *chunk, const char *description)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk) {
        H5Pset_chunk(pl, rank, chunk);
        H5Pset_shuffle(pl);
        H5Pset_deflate(pl, 1);
    }
    hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    if (d >= 0 && pds_h5_attr_write_str(d, "description", description) != 0) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

static int write_strings(hid_t loc, const char *name, const char *const *s, size_t n,
                         const char *description)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hsize_t dims[1] = {n};
    int rc = pds_h5_write_dataset(loc, name, t, 1, dims, s, description);
    H5Tclose(t);
    return rc;
}

static int write_world(hid_t file, const pds_h5meta *m)
{
    const pds_world *w = m->w;
    size_t U = w->n_units, S = w->n_subunits;
    const char **a = calloc(U + S + 1, sizeof(char *));
    const char **b = calloc(U + S + 1, sizeof(char *));
    const char **c = calloc(U + S + 1, sizeof(char *));
    int16_t *yr = calloc(U + S + 1, sizeof(int16_t));
    int rc = (a && b && c && yr) ? 0 : -1;
    hid_t g = rc ? -1 : H5Gcreate2(file, "provinces", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
        for (size_t i = 0; i < U; i++) {
            a[i] = w->units[i].code;
            b[i] = w->units[i].name;
            c[i] = w->units[i].region;
            yr[i] = (int16_t)w->units[i].adoption_year;
        }
        hsize_t d[1] = {U};
        rc |= write_strings(g, "code", a, U, "unit code, as in units.csv");
        rc |= write_strings(g, "name", b, U, "unit name");
        rc |= write_strings(g, "region", c, U, "region label");
        rc |= pds_h5_write_dataset(
            g, "observed_adoption_year", H5T_NATIVE_INT16, 1, d, yr,
            "adoption year in the dataset (0 = none), including years after the base year");
        H5Gclose(g);
    } else {
        rc = -1;
    }
    g = rc ? -1 : H5Gcreate2(file, "cities", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
        for (size_t i = 0; i < S; i++) {
            a[i] = w->subunits[i].code;
            b[i] = w->subunits[i].name;
            c[i] = w->units[w->subunits[i].parent].code;
            yr[i] = (int16_t)w->subunits[i].adoption_year;
        }
        hsize_t d[1] = {S};
        rc |= write_strings(g, "code", a, S, "sub-unit code, as in subunits.csv");
        rc |= write_strings(g, "name", b, S, "sub-unit name");
        rc |= write_strings(g, "province_code", c, S, "code of the parent unit");
        rc |= pds_h5_write_dataset(g, "observed_adoption_year", H5T_NATIVE_INT16, 1, d, yr,
                                   "adoption year in the dataset (0 = none or unknown)");
        H5Gclose(g);
    } else {
        rc = -1;
    }
    free(a);
    free(b);
    free(c);
    free(yr);
    return rc;
}

static int write_meta(hid_t f, const pds_h5meta *m)
{
    int rc = 0;
    int64_t fy = m->first_year, ly = m->last_year, by = m->base_year, fmt = PDS_FORMAT_VERSION;
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    char h5v[64];
    snprintf(h5v, sizeof h5v, "%u.%u.%u", maj, min, rel);
    rc |= pds_h5_attr_write_str(f, "pdsim_version", PDS_VERSION);
    rc |= pds_h5_attr_write_num(f, "format_version", H5T_NATIVE_INT64, &fmt);
    rc |= pds_h5_attr_write_num(f, "seed", H5T_NATIVE_UINT64, &m->seed);
    rc |= pds_h5_attr_write_num(f, "n_runs", H5T_NATIVE_UINT64, &m->n_runs);
    rc |= pds_h5_attr_write_num(f, "base_year", H5T_NATIVE_INT64, &by);
    rc |= pds_h5_attr_write_num(f, "first_year", H5T_NATIVE_INT64, &fy);
    rc |= pds_h5_attr_write_num(f, "last_year", H5T_NATIVE_INT64, &ly);
    rc |= attr_set_u8(f, "complete", 0);
    rc |= pds_h5_attr_write_str(f, "config", m->config_text);
    rc |= pds_h5_attr_write_str(f, "config_path", m->config_path);
    rc |= pds_h5_attr_write_str(f, "dataset", m->dataset_path);
    rc |= pds_h5_attr_write_str(f, "model", m->model_path);
    rc |= pds_h5_attr_write_str(f, "model_name", m->model_name);
    rc |= pds_h5_attr_write_str(f, "subunit_model",
                                m->subunit_model_path ? m->subunit_model_path : "");
    rc |= pds_h5_attr_write_str(f, "subunit_model_name",
                                m->subunit_model_name ? m->subunit_model_name : "");
    rc |= pds_h5_attr_write_str(f, "git_revision", PDS_GIT_REVISION);
    rc |= pds_h5_attr_write_str(f, "compiler", PDS_COMPILER);
    rc |= pds_h5_attr_write_str(f, "hdf5_version", h5v);
    rc |= pds_h5_attr_write_str(f, "uncertainty", m->uncertainty ? m->uncertainty : "none");
    if (m->uncertainty_warning)
        rc |= pds_h5_attr_write_str(f, "uncertainty_warning", m->uncertainty_warning);
    rc |= pds_h5_attr_write_str(f, "scenario", m->scenario_name ? m->scenario_name : "");
    rc |=
        pds_h5_attr_write_str(f, "rng",
                              "PCG32 XSH-RR 64/32; run r uses stream (seed, 4r) for adoption draws "
                              "and (seed, 4r+1) for initial sub-unit draws");
    return rc;
}

pds_h5out *pds_h5out_create(const char *path, const pds_h5meta *m, pds_diag *diag)
{
    pds_h5out *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->file = h->d_units = h->d_subs = h->d_coef = -1;
    h->n_coef = m->n_coefficients;
    size_t n = strlen(path) + 64;
    h->path = malloc(strlen(path) + 1);
    h->tmp = malloc(n);
    if (!h->path || !h->tmp) {
        free(h->path);
        free(h->tmp);
        free(h);
        return NULL;
    }
    memcpy(h->path, path, strlen(path) + 1);
    snprintf(h->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    h->n_units = m->w->n_units;
    h->n_subs = m->store_subunits ? m->w->n_subunits : 0;
    h->n_runs = m->n_runs;

    H5E_BEGIN_TRY
    {
        h->file = H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    }
    H5E_END_TRY;
    if (h->file < 0) {
        pds_diag_add(diag, path, 0, 0,
                     "cannot create the output file (is the folder there and writable?)");
        free(h->path);
        free(h->tmp);
        free(h);
        return NULL;
    }
    int rc = write_meta(h->file, m);
    rc |= write_world(h->file, m);
    size_t Y = (size_t)(m->last_year - m->first_year + 1);
    int16_t *years = calloc(Y + 1, sizeof(int16_t));
    if (!years)
        rc = -1;
    for (size_t k = 0; years && k < Y; k++)
        years[k] = (int16_t)(m->first_year + (int)k);
    hsize_t dy[1] = {Y};
    if (years)
        rc |= pds_h5_write_dataset(h->file, "years", H5T_NATIVE_INT16, 1, dy, years,
                                   "simulated years");
    free(years);
    hid_t g = H5Gcreate2(h->file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        rc = -1;
    hsize_t chunk_r = m->chunk_runs < m->n_runs ? m->chunk_runs : m->n_runs;
    if (chunk_r == 0)
        chunk_r = 1;
    if (!rc) {
        hsize_t dims[2] = {m->n_runs, h->n_units}, ch[2] = {chunk_r, h->n_units ? h->n_units : 1};
        h->d_units = make_dataset(g, "province_adoption_year", H5T_NATIVE_INT16, 2, dims, ch,
                                  "per run, each unit's adoption year: observed year if adopted by "
                                  "the base year, simulated year, or 0 = not adopted by last_year");
        if (h->d_units < 0)
            rc = -1;
    }
    if (!rc && h->n_subs > 0) {
        hsize_t dims[2] = {m->n_runs, h->n_subs}, ch[2] = {chunk_r, h->n_subs};
        h->d_subs =
            make_dataset(g, "city_adoption_year", H5T_NATIVE_INT16, 2, dims, ch,
                         "per run, each sub-unit's adoption year: observed year, -1 = adopted "
                         "by the base year with the year unknown, simulated year, or 0 = not "
                         "adopted by last_year");
        if (h->d_subs < 0)
            rc = -1;
    }
    if (!rc && h->n_coef > 0) {
        hsize_t dims[2] = {m->n_runs, h->n_coef}, ch[2] = {chunk_r, h->n_coef};
        h->d_coef = make_dataset(g, "coefficients", H5T_NATIVE_DOUBLE, 2, dims, ch,
                                 "per run, the unit model's coefficients drawn for that run "
                                 "(columns named by the attribute 'names', intercept first)");
        if (h->d_coef < 0) {
            rc = -1;
        } else {
            hid_t t = H5Tcopy(H5T_C_S1);
            H5Tset_size(t, H5T_VARIABLE);
            H5Tset_cset(t, H5T_CSET_UTF8);
            hsize_t dn[1] = {h->n_coef};
            hid_t sp = H5Screate_simple(1, dn, NULL);
            hid_t a = H5Acreate2(h->d_coef, "names", t, sp, H5P_DEFAULT, H5P_DEFAULT);
            if (a < 0 || H5Awrite(a, t, m->coefficient_names) < 0)
                rc = -1;
            if (a >= 0)
                H5Aclose(a);
            H5Sclose(sp);
            H5Tclose(t);
        }
    }
    if (g >= 0)
        H5Gclose(g);
    if (rc || H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0) {
        pds_diag_add(diag, h->tmp, 0, 0, "cannot write the output file (disk full?)");
        pds_h5out_abort(h);
        return NULL;
    }
    return h;
}

static int write_rows(hid_t d, hid_t type, uint64_t first, size_t n, size_t cols, const void *data)
{
    /* HDF5 takes the buffer as const for writing */
    return pds_h5_rows(d, type, first, n, cols, (void *)(uintptr_t)data, 1);
}

int pds_h5out_write_runs(pds_h5out *h, uint64_t first_run, size_t n, const int16_t *unit_years,
                         const int16_t *sub_years, const double *coefs)
{
    int rc = write_rows(h->d_units, H5T_NATIVE_INT16, first_run, n, h->n_units, unit_years);
    if (!rc && h->d_subs >= 0 && sub_years)
        rc = write_rows(h->d_subs, H5T_NATIVE_INT16, first_run, n, h->n_subs, sub_years);
    if (!rc && h->d_coef >= 0 && coefs)
        rc = write_rows(h->d_coef, H5T_NATIVE_DOUBLE, first_run, n, h->n_coef, coefs);
    if (!rc)
        h->written = first_run + n;
    return rc;
}

int pds_h5out_finish(pds_h5out *h, const pds_summary *s, pds_diag *diag)
{
    size_t U = s->n_units, Y = s->n_years, Q = pds_n_national_quantiles;
    double *p = malloc((U * Y + 1) * sizeof(double));
    double *q = malloc((Q * Y + 1) * sizeof(double));
    double *mean = malloc((Y + 1) * sizeof(double));
    int rc = (p && q && mean) ? 0 : -1;
    if (h->written != h->n_runs)
        rc = -1;
    hid_t g = rc ? -1 : H5Gcreate2(h->file, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
        for (size_t u = 0; u < U; u++)
            for (size_t k = 0; k < Y; k++)
                p[u * Y + k] = pds_summary_p_adopted(s, u, k);
        for (size_t i = 0; i < Q; i++)
            for (size_t k = 0; k < Y; k++)
                q[i * Y + k] = pds_summary_national_quantile(s, k, pds_national_quantiles[i]);
        for (size_t k = 0; k < Y; k++)
            mean[k] = pds_summary_national_mean(s, k);
        hsize_t d2[2] = {U, Y}, dq[2] = {Q, Y}, d1[1] = {Y}, dql[1] = {Q};
        hsize_t dh[2] = {Y, U + 1};
        rc |= pds_h5_write_dataset(
            g, "p_adopted_by_year", H5T_NATIVE_DOUBLE, 2, d2, p,
            "[unit x year] share of runs with the unit adopted by the end of the year");
        rc |= pds_h5_write_dataset(
            g, "national_adopted", H5T_NATIVE_DOUBLE, 2, dq, q,
            "[quantile x year] quantiles (levels in national_adopted_quantiles) of "
            "the number of adopted units at the end of the year; inverse empirical CDF");
        rc |= pds_h5_write_dataset(g, "national_adopted_quantiles", H5T_NATIVE_DOUBLE, 1, dql,
                                   pds_national_quantiles, "quantile levels of national_adopted");
        rc |= pds_h5_write_dataset(g, "national_adopted_mean", H5T_NATIVE_DOUBLE, 1, d1, mean,
                                   "mean number of adopted units at the end of the year");
        rc |= pds_h5_write_dataset(
            g, "national_adopted_count", H5T_NATIVE_UINT64, 2, dh, s->national_hist,
            "[year x number adopted] runs in which exactly that many units had "
            "adopted by the end of the year");
        H5Gclose(g);
    } else {
        rc = -1;
    }
    free(p);
    free(q);
    free(mean);
    if (!rc)
        rc = attr_set_u8(h->file, "complete", 1);
    if (h->d_units >= 0)
        H5Dclose(h->d_units);
    if (h->d_subs >= 0)
        H5Dclose(h->d_subs);
    if (h->d_coef >= 0)
        H5Dclose(h->d_coef);
    h->d_units = h->d_subs = h->d_coef = -1;
    if (!rc && H5Fclose(h->file) < 0)
        rc = -1;
    else if (rc)
        H5Fclose(h->file);
    h->file = -1;
    if (!rc && rename(h->tmp, h->path) != 0)
        rc = -1;
    if (rc) {
        pds_diag_add(diag, h->path, 0, 0, "cannot finish the output file (disk full?)");
        pds_h5out_abort(h);
        return -1;
    }
    free(h->path);
    free(h->tmp);
    free(h);
    return 0;
}

void pds_h5out_abort(pds_h5out *h)
{
    if (!h)
        return;
    H5E_BEGIN_TRY
    {
        if (h->d_units >= 0)
            H5Dclose(h->d_units);
        if (h->d_subs >= 0)
            H5Dclose(h->d_subs);
        if (h->d_coef >= 0)
            H5Dclose(h->d_coef);
        if (h->file >= 0)
            H5Fclose(h->file);
    }
    H5E_END_TRY;
    unlink(h->tmp);
    free(h->path);
    free(h->tmp);
    free(h);
}
