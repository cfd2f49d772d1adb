#include "h5out.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/engine.h"
#include "../core/pcg.h"
#include "config.h"
#include "h5util.h"
#include "pds_version.h"

const double pds_national_quantiles[] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};
const size_t pds_n_national_quantiles =
    sizeof pds_national_quantiles / sizeof pds_national_quantiles[0];

struct pds_h5out {
    char *path; /* final name */
    char *tmp;  /* name while writing */
    pds_fileid id; /* the file created (or reopened) at tmp */
    hid_t file;
    hid_t d_units; /* /runs/province_adoption_year */
    hid_t d_subs;  /* /runs/city_adoption_year or -1 */
    hid_t d_coef;  /* /runs/coefficients or -1 */
    size_t n_coef;
    size_t n_units, n_subs;
    uint64_t n_runs;
    uint64_t written; /* runs [0, written) are committed: in the file and in runs_done */
    int resumed;      /* reopened by --resume: a failure keeps the file (its runs) */
};

/* Create or overwrite a scalar numeric attribute. */
static int attr_set(hid_t obj, const char *name, hid_t type, const void *v)
{
    if (H5Aexists(obj, name) > 0) {
        hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
        herr_t e = a < 0 ? -1 : H5Awrite(a, type, v);
        if (a >= 0)
            H5Aclose(a);
        return e < 0 ? -1 : 0;
    }
    return pds_h5_attr_write_num(obj, name, type, v);
}

static int attr_set_u8(hid_t obj, const char *name, unsigned char v)
{
    return attr_set(obj, name, H5T_NATIVE_UCHAR, &v);
}

static hid_t make_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                          const hsize_t *chunk, const char *description)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk) {
        H5Pset_chunk(pl, rank, chunk);
        /* the byte shuffle helps the float64 coefficients; on the int16
         * adoption years it makes the file larger (10^5 runs of the China
         * data with city years: 21.3 MB with it, 17.8 MB without) */
        if (!H5Tequal(type, H5T_NATIVE_INT16))
            H5Pset_shuffle(pl);
        H5Pset_deflate(pl, 1);
        /* last in the pipeline, so it checksums the compressed bytes: a damaged
         * chunk fails to read instead of reaching the decompressor */
        H5Pset_fletcher32(pl);
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

static int write_rows(hid_t d, hid_t type, uint64_t first, size_t n, size_t cols, const void *data);

/* Fixed-length string attribute name[n] on obj. */
static int attr_strings(hid_t obj, const char *name, const char *const *v, size_t n)
{
    char *packed;
    hid_t t = pds_h5_fixed_strings(v, n, &packed);
    hsize_t dn[1] = {n};
    hid_t sp = t >= 0 ? H5Screate_simple(1, dn, NULL) : -1;
    hid_t a = sp >= 0 ? H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int rc = a < 0 || H5Awrite(a, t, packed) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    free(packed);
    return rc;
}

/* /runs/model: the model of each run, a function of (seed, run) alone, so
 * it is written whole at creation, block by block in bounded memory. */
/* /runs/subunit_coefficients: the sub-unit model's coefficients of each
 * run, a function of (seed, run) alone, written whole at creation. */
static int write_subunit_coefficients(hid_t g, const pds_h5meta *m, hsize_t chunk_r)
{
    size_t Q = pds_sim_n_subunit_coefficients(m->subunit_sim);
    hsize_t dims[2] = {m->n_runs, Q}, ch[2] = {chunk_r, Q};
    hid_t d = make_dataset(g, "subunit_coefficients", H5T_NATIVE_DOUBLE, 2, dims, ch,
                           "per run, the sub-unit model's coefficients drawn for that run "
                           "(columns named by the attribute 'names', intercept first)");
    int rc = d < 0 ? -1 : attr_strings(d, "names", m->subunit_coefficient_names, Q);
    enum { BLOCK = 4096 };
    double *buf = rc ? NULL : malloc((size_t)BLOCK * Q * sizeof *buf);
    if (!rc && !buf)
        rc = -1;
    for (uint64_t r0 = 0; !rc && r0 < m->n_runs; r0 += BLOCK) {
        size_t n = m->n_runs - r0 < BLOCK ? (size_t)(m->n_runs - r0) : BLOCK;
        for (size_t i = 0; i < n; i++)
            pds_sim_subunit_coefficients(m->subunit_sim, m->seed, r0 + i, buf + i * Q);
        rc = write_rows(d, H5T_NATIVE_DOUBLE, r0, n, Q, buf);
    }
    free(buf);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static int write_model_of_run(hid_t g, const pds_h5meta *m, hsize_t chunk_r)
{
    hsize_t dims[1] = {m->n_runs}, ch[1] = {chunk_r};
    hid_t d = make_dataset(g, "model", H5T_NATIVE_INT16, 1, dims, ch,
                           "per run, the index of the unit model it used (names and weights in "
                           "the attributes 'names' and 'weights'): structural uncertainty");
    int rc = d < 0 ? -1 : attr_strings(d, "names", m->model_names, m->n_models);
    if (!rc) {
        hsize_t dn[1] = {m->n_models};
        hid_t sp = H5Screate_simple(1, dn, NULL);
        hid_t a = sp >= 0 ? H5Acreate2(d, "weights", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT)
                          : -1;
        rc = a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, m->model_weights) < 0 ? -1 : 0;
        if (a >= 0)
            H5Aclose(a);
        if (sp >= 0)
            H5Sclose(sp);
    }
    enum { BLOCK = 65536 };
    int16_t *buf = rc ? NULL : malloc(BLOCK * sizeof *buf);
    if (!rc && !buf)
        rc = -1;
    for (uint64_t r0 = 0; !rc && r0 < m->n_runs; r0 += BLOCK) {
        size_t n = m->n_runs - r0 < BLOCK ? (size_t)(m->n_runs - r0) : BLOCK;
        for (size_t i = 0; i < n; i++)
            buf[i] = (int16_t)pds_model_of_run(m->seed, r0 + i, m->model_cum_weights, m->n_models);
        rc = write_rows(d, H5T_NATIVE_INT16, r0, n, 1, buf);
    }
    free(buf);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* /runs/posterior_draw: the posterior draw of each run, a function of
 * (seed, run) alone, written whole at creation like /runs/model. */
static int write_posterior_draw(hid_t g, const pds_h5meta *m, hsize_t chunk_r)
{
    hsize_t dims[1] = {m->n_runs}, ch[1] = {chunk_r};
    hid_t d = make_dataset(g, "posterior_draw", H5T_NATIVE_INT64, 1, dims, ch,
                           "per run (uncertainty: posterior), the 0-based row of the posterior "
                           "draws file (attribute draws_file; n_draws rows; with several models "
                           "draws_files and n_draws per model, the run's model in /runs/model) "
                           "whose coefficients the run used");
    int several = m->n_models > 1 && m->n_posterior_draws_of;
    int rc = d < 0       ? -1
             : several ? attr_strings(d, "draws_files", m->posterior_draws_paths, m->n_models)
                       : pds_h5_attr_write_str(d, "draws_file",
                                               m->posterior_draws_path ? m->posterior_draws_path
                                                                       : "");
    if (!rc) {
        uint64_t nd[PDS_MAX_MODELS];
        size_t na = several ? m->n_models : 1;
        for (size_t k = 0; k < na && k < PDS_MAX_MODELS; k++)
            nd[k] = several ? m->n_posterior_draws_of[k] : m->n_posterior_draws;
        hsize_t dn[1] = {na};
        hid_t sp = several ? H5Screate_simple(1, dn, NULL) : H5Screate(H5S_SCALAR);
        hid_t a = sp >= 0 ? H5Acreate2(d, "n_draws", H5T_NATIVE_UINT64, sp, H5P_DEFAULT, H5P_DEFAULT)
                          : -1;
        rc = na > PDS_MAX_MODELS || a < 0 || H5Awrite(a, H5T_NATIVE_UINT64, nd) < 0 ? -1 : 0;
        if (a >= 0)
            H5Aclose(a);
        if (sp >= 0)
            H5Sclose(sp);
    }
    enum { BLOCK = 65536 };
    int64_t *buf = rc ? NULL : malloc(BLOCK * sizeof *buf);
    if (!rc && !buf)
        rc = -1;
    for (uint64_t r0 = 0; !rc && r0 < m->n_runs; r0 += BLOCK) {
        size_t n = m->n_runs - r0 < BLOCK ? (size_t)(m->n_runs - r0) : BLOCK;
        for (size_t i = 0; i < n; i++)
            buf[i] = several ? (int64_t)pds_posterior_draw_of_run(
                                   m->seed, r0 + i,
                                   m->n_posterior_draws_of[pds_model_of_run(
                                       m->seed, r0 + i, m->model_cum_weights, m->n_models)])
                             : (int64_t)pds_posterior_draw_of_run(m->seed, r0 + i,
                                                                  m->n_posterior_draws);
        rc = write_rows(d, H5T_NATIVE_INT64, r0, n, 1, buf);
    }
    free(buf);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* /reliability: the in-sample check per period (the last row is the
 * total) and the dataset's provenance counts. */
static int write_reliability(hid_t file, const pds_h5meta *m)
{
    hid_t g = H5Gcreate2(file, "reliability", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = 0;
    const pds_insample *q = m->insample;
    if (q && q->n_periods > 0) {
        size_t n = q->n_periods + 1;
        int32_t yr[2 * (PDS_INSAMPLE_PERIODS + 1)];
        double v[5 * (PDS_INSAMPLE_PERIODS + 1)];
        for (size_t i = 0; i < n; i++) {
            const pds_insample_period *p = &q->period[i];
            yr[2 * i] = p->first;
            yr[2 * i + 1] = p->last;
            v[5 * i] = (double)p->at_risk;
            v[5 * i + 1] = p->observed;
            v[5 * i + 2] = p->expected;
            v[5 * i + 3] = p->sd;
            v[5 * i + 4] = p->z;
        }
        hsize_t d2[2] = {n, 2}, d5[2] = {n, 5};
        rc |= pds_h5_write_dataset(g, "insample_years", H5T_NATIVE_INT32, 2, d2, yr,
                                   "[period x 2] first and last outcome year of each period of "
                                   "the in-sample check; the last row is the whole window");
        rc |= pds_h5_write_dataset(
            g, "insample", H5T_NATIVE_DOUBLE, 2, d5, v,
            "[period x 5] unit-years at risk, observed adoptions, expected (sum of the unit "
            "model's fitted hazards), sd (sqrt of sum p(1-p)), z = (observed - expected) / sd");
    }
    if (m->provenance)
        rc |= pds_h5_attr_write_str(g, "data_provenance", m->provenance);
    H5Gclose(g);
    return rc;
}

/* /reliability/backtest and backtest_setup (replaced if present, e.g. by
 * an interrupted finish). */
static int write_backtest(hid_t file, const pds_backtest_reliability *bt)
{
    hid_t g = H5Lexists(file, "reliability", H5P_DEFAULT) > 0
                  ? H5Gopen2(file, "reliability", H5P_DEFAULT)
                  : H5Gcreate2(file, "reliability", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = 0;
    static const char *const names[2] = {"backtest", "backtest_setup"};
    for (int i = 0; i < 2; i++)
        if (H5Lexists(g, names[i], H5P_DEFAULT) > 0 && H5Ldelete(g, names[i], H5P_DEFAULT) < 0)
            rc = -1;
    if (H5Aexists(g, "backtest_runs") > 0 && H5Adelete(g, "backtest_runs") < 0)
        rc = -1;
    if (bt && bt->first_cutoff) {
        double v[PDS_REL_FC * 10];
        for (size_t k = 0; k < PDS_REL_FC; k++) {
            for (int sc = 0; sc < PDS_SC_N; sc++) {
                v[10 * k + sc] = bt->score[k][sc];
                v[10 * k + 3 + 2 * sc] = bt->diff[k][sc];
                v[10 * k + 4 + 2 * sc] = bt->diff_se[k][sc];
            }
            v[10 * k + 9] = bt->stacking[k];
        }
        hsize_t d[2] = {PDS_REL_FC, 10};
        rc |= pds_h5_write_dataset(
            g, "backtest", H5T_NATIVE_DOUBLE, 2, d, v,
            "[forecaster x 10] rolling-origin backtest, rows: this forecast, model with channels "
            "off, constant hazard, logistic curve; columns: pooled Brier, log score, RPS; then "
            "for Brier, log score and RPS the paired difference this forecast minus the row and "
            "its standard error clustered by unit (0 in the first row); the stacking weight");
        int32_t meta[5] = {bt->first_cutoff, bt->last_cutoff, bt->refit,
                           (int32_t)(bt->unit_years < INT32_MAX ? bt->unit_years : INT32_MAX),
                           (int32_t)(bt->units < INT32_MAX ? bt->units : INT32_MAX)};
        hsize_t d5[1] = {5};
        rc |= pds_h5_write_dataset(g, "backtest_setup", H5T_NATIVE_INT32, 1, d5, meta,
                                   "first and last origin (cutoff year), refitted (0/1), "
                                   "unit-years scored, units scored");
        uint64_t runs = bt->runs;
        rc |= pds_h5_attr_write_num(g, "backtest_runs", H5T_NATIVE_UINT64, &runs);
    }
    H5Gclose(g);
    return rc;
}

/* The names earlier versions wrote (/provinces, /cities,
 * /runs/province_adoption_year, ...) as second names of the same objects
 * (hard links), so that scripts reading them still work: h5py and the C API
 * follow soft links too, but h5diff given a soft link's path compares the
 * link, not the data behind it. */
static int legacy_links(hid_t file, int subunits)
{
    static const char *const link[][2] = {
        {"/provinces", "/units"},
        {"/runs/province_adoption_year", "/runs/unit_adoption_year"},
        {"/cities", "/subunits"},
        {"/subunits/province_code", "/subunits/unit_code"},
        {"/runs/city_adoption_year", "/runs/subunit_adoption_year"},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof link / sizeof link[0]; i++) {
        if (i >= 4 && !subunits)
            break;
        if (H5Lcreate_hard(file, link[i][1], file, link[i][0], H5P_DEFAULT, H5P_DEFAULT) < 0)
            rc = -1;
    }
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
    hid_t g = rc ? -1 : H5Gcreate2(file, "units", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
        for (size_t i = 0; i < U; i++) {
            a[i] = w->units[i].code;
            b[i] = w->units[i].name;
            c[i] = w->units[i].region;
            yr[i] = (int16_t)w->units[i].adoption_year;
        }
        hsize_t d[1] = {U};
        rc |= pds_h5_write_strings(g, "code", a, U, "unit code, as in units.csv");
        rc |= pds_h5_write_strings(g, "name", b, U, "unit name");
        rc |= pds_h5_write_strings(g, "region", c, U, "region label");
        for (size_t i = 0; i < U; i++)
            b[i] = w->units[i].name_en ? w->units[i].name_en : "";
        rc |= pds_h5_write_strings(g, "name_en", b, U,
                                   "unit name in English (units file column name_en; empty "
                                   "when the dataset has none)");
        rc |= pds_h5_write_dataset(
            g, "observed_adoption_year", H5T_NATIVE_INT16, 1, d, yr,
            "adoption year in the dataset (0 = none), including years after the base year");
        H5Gclose(g);
    } else {
        rc = -1;
    }
    g = rc ? -1 : H5Gcreate2(file, "subunits", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0) {
        for (size_t i = 0; i < S; i++) {
            a[i] = w->subunits[i].code;
            b[i] = w->subunits[i].name;
            c[i] = w->units[w->subunits[i].parent].code;
            yr[i] = (int16_t)w->subunits[i].adoption_year;
        }
        hsize_t d[1] = {S};
        rc |= pds_h5_write_strings(g, "code", a, S, "sub-unit code, as in subunits.csv");
        rc |= pds_h5_write_strings(g, "name", b, S, "sub-unit name");
        rc |= pds_h5_write_strings(g, "unit_code", c, S, "code of the parent unit");
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
    uint64_t none = 0;
    rc |= attr_set(f, "runs_done", H5T_NATIVE_UINT64, &none);
    rc |= pds_h5_attr_write_str(f, "input_hash", m->input_hash ? m->input_hash : "");
    rc |= pds_h5_attr_write_str(f, "config", m->config_text);
    rc |= pds_h5_attr_write_str(f, "config_path", m->config_path);
    rc |= pds_h5_attr_write_str(f, "config_resolved",
                                m->config_resolved ? m->config_resolved : m->config_text);
    rc |= pds_h5_attr_write_str(f, "dataset", m->dataset_path);
    rc |= pds_h5_attr_write_str(f, "dataset_hash", m->dataset_hash ? m->dataset_hash : "");
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
    rc |= pds_h5_attr_write_str(f, "rng", PDS_RNG_SCHEME);
    return rc;
}

char *pds_h5out_partial_name(const char *path)
{
    size_t n = strlen(path) + sizeof ".partial";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s.partial", path);
    return p;
}

/* The public writers report failures in diag or by their return value,
 * without the library's own error stack on stderr. */
#define QUIETLY(rc, call)                                                                          \
    do {                                                                                           \
        H5E_BEGIN_TRY                                                                              \
        {                                                                                          \
            rc = call;                                                                             \
        }                                                                                          \
        H5E_END_TRY;                                                                               \
    } while (0)

static pds_h5out *handle_new(const char *path, const pds_h5meta *m)
{
    pds_h5out *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->file = h->d_units = h->d_subs = h->d_coef = -1;
    h->n_coef = m->n_coefficients;
    h->path = strdup(path);
    h->tmp = pds_h5out_partial_name(path);
    if (!h->path || !h->tmp) {
        free(h->path);
        free(h->tmp);
        free(h);
        return NULL;
    }
    h->n_units = m->w->n_units;
    h->n_subs = m->store_subunits ? m->w->n_subunits : 0;
    h->n_runs = m->n_runs;
    return h;
}

static void close_all(pds_h5out *h)
{
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
    h->d_units = h->d_subs = h->d_coef = h->file = -1;
}

static void handle_free(pds_h5out *h)
{
    free(h->path);
    free(h->tmp);
    free(h);
}

static int drop(pds_h5out *h, pds_diag *diag);

/* Remove path when it is an empty regular file of this user (not a link).
 * 1 when removed. */
static int remove_empty(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
           st.st_uid == geteuid() && unlink(path) == 0;
}

int pds_h5out_remove_empty_partial(const char *path)
{
    char *tmp = pds_h5out_partial_name(path);
    int r = tmp ? remove_empty(tmp) : 0;
    free(tmp);
    return r;
}

int pds_h5out_fail(pds_h5out *h, pds_diag *diag)
{
    if (!h)
        return 0;
    int kept;
    QUIETLY(kept, drop(h, diag));
    return kept;
}

static pds_h5out *create_loud(const char *path, const pds_h5meta *m, pds_diag *diag)
{
    pds_h5out *h = handle_new(path, m);
    if (!h) {
        pds_diag_add(diag, path, 0, 0, "out of memory");
        return NULL;
    }
    /* the caller holds the destination's lock: a partial file left by an
     * earlier run is replaced, a link or anything else at the name refused */
    if (pds_out_clear_fixed(h->tmp, diag) != PDS_OK) {
        handle_free(h);
        return NULL;
    }
    H5E_BEGIN_TRY
    {
        h->file = pds_h5_file_create_excl(h->tmp, &h->id);
    }
    H5E_END_TRY;
    if (h->file < 0) {
        /* the name was cleared above under the lock, so an empty file there
         * now is the one this create made before it failed (disk full) */
        remove_empty(h->tmp);
        pds_diag_add(diag, h->tmp, 0, 0,
                     "cannot create the output file (is the folder there and writable?)");
        handle_free(h);
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
        h->d_units = make_dataset(g, "unit_adoption_year", H5T_NATIVE_INT16, 2, dims, ch,
                                  "per run, each unit's adoption year: observed year if adopted by "
                                  "the base year, simulated year, or 0 = not adopted by last_year");
        if (h->d_units < 0)
            rc = -1;
    }
    if (!rc && h->n_subs > 0) {
        hsize_t dims[2] = {m->n_runs, h->n_subs}, ch[2] = {chunk_r, h->n_subs};
        h->d_subs =
            make_dataset(g, "subunit_adoption_year", H5T_NATIVE_INT16, 2, dims, ch,
                         "per run, each sub-unit's adoption year: observed year, -1 = adopted "
                         "by the base year with the year unknown, simulated year, or 0 = not "
                         "adopted by last_year");
        if (h->d_subs < 0)
            rc = -1;
    }
    /* the names of earlier versions, readable as soft links to the
     * unit-neutral ones */
    if (!rc)
        rc = legacy_links(h->file, h->n_subs > 0);
    if (!rc && h->n_coef > 0) {
        hsize_t dims[2] = {m->n_runs, h->n_coef}, ch[2] = {chunk_r, h->n_coef};
        h->d_coef = make_dataset(g, "coefficients", H5T_NATIVE_DOUBLE, 2, dims, ch,
                                 "per run, the unit model's coefficients drawn for that run "
                                 "(columns named by the attribute 'names', intercept first)");
        if (h->d_coef < 0 || attr_strings(h->d_coef, "names", m->coefficient_names, h->n_coef))
            rc = -1;
    }
    if (!rc && m->n_models > 1)
        rc = write_model_of_run(g, m, chunk_r);
    if (!rc && m->n_posterior_draws > 0)
        rc = write_posterior_draw(g, m, chunk_r);
    if (!rc && m->subunit_sim && pds_sim_n_subunit_coefficients(m->subunit_sim) > 0)
        rc = write_subunit_coefficients(g, m, chunk_r);
    if (!rc && (m->insample || m->provenance))
        rc = write_reliability(h->file, m);
    if (g >= 0)
        H5Gclose(g);
    if (rc || H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0) {
        pds_diag_add(diag, h->tmp, 0, 0, "cannot write the output file (disk full?)");
        pds_h5out_abort(h);
        return NULL;
    }
    return h;
}

pds_h5out *pds_h5out_create(const char *path, const pds_h5meta *m, pds_diag *diag)
{
    pds_h5out *h;
    QUIETLY(h, create_loud(path, m, diag));
    return h;
}

static int write_rows(hid_t d, hid_t type, uint64_t first, size_t n, size_t cols, const void *data)
{
    /* HDF5 takes the buffer as const for writing */
    return pds_h5_rows(d, type, first, n, cols, (void *)(uintptr_t)data, 1);
}

/* Room on disk for a chunk before any of it is written: posix_fallocate
 * past the file's end of the raw size of the rows and 1 MiB for the
 * metadata. On a full disk (or beyond a file-size limit) the chunk is
 * refused here, while the file is still exactly its last commit: a write
 * that fails half-way leaves the superblock claiming space that never
 * reached the disk, and HDF5 then refuses to open the file ("truncated
 * file"). 0, or -1 when the space is not there. */
static int reserve_room(pds_h5out *h, size_t n)
{
    haddr_t eoa = 0;
    void *handle = NULL;
    if (H5Fget_eoa(h->file, &eoa) < 0 || H5Fget_vfd_handle(h->file, H5P_DEFAULT, &handle) < 0 ||
        !handle)
        return 0; /* not the POSIX driver: write and see */
    double row = (double)(h->n_units + h->n_subs) * sizeof(int16_t) + (double)h->n_coef * 8.0;
    double len = (double)n * row + 1048576.0;
    if ((double)eoa + len > 9e18)
        return -1;
    int e = posix_fallocate(*(int *)handle, (off_t)eoa, (off_t)len);
    /* a file system without fallocate (nor glibc's fallback): write and see */
    return e == 0 || e == EOPNOTSUPP || e == ENOSYS || e == EINVAL ? 0 : -1;
}

/* After the file is closed: cut the room reserved beyond what HDF5 used
 * (its end of allocation, read back from the file). Best effort. */
static void trim_reserve(const pds_h5out *h)
{
    hid_t f = H5Fopen(h->tmp, H5F_ACC_RDONLY, H5P_DEFAULT);
    haddr_t eoa = 0;
    int ok = f >= 0 && H5Fget_eoa(f, &eoa) >= 0 && eoa > 0;
    if (f >= 0)
        H5Fclose(f);
    int fd = ok ? open(h->tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_dev == h->id.dev && st.st_ino == h->id.ino &&
        (haddr_t)st.st_size > eoa && ftruncate(fd, (off_t)eoa) != 0) {
        /* the file stays valid with the reserved room at its end */
    }
    close(fd);
}

static int write_runs_loud(pds_h5out *h, uint64_t first_run, size_t n, const int16_t *unit_years,
                           const int16_t *sub_years, const double *coefs)
{
    if (reserve_room(h, n) != 0)
        return -1;
    int rc = write_rows(h->d_units, H5T_NATIVE_INT16, first_run, n, h->n_units, unit_years);
    if (!rc && h->d_subs >= 0 && sub_years)
        rc = write_rows(h->d_subs, H5T_NATIVE_INT16, first_run, n, h->n_subs, sub_years);
    if (!rc && h->d_coef >= 0 && coefs)
        rc = write_rows(h->d_coef, H5T_NATIVE_DOUBLE, first_run, n, h->n_coef, coefs);
    /* the commit of this chunk: its rows reach the file first, then the
     * counter that claims them, each with a flush, so that a process killed
     * at any point (SIGKILL, power) leaves runs_done at most the rows written */
    if (!rc && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        rc = -1;
    uint64_t done = first_run + n;
    if (!rc)
        rc = attr_set(h->file, "runs_done", H5T_NATIVE_UINT64, &done);
    if (!rc && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        rc = -1;
    if (!rc)
        h->written = done;
    return rc;
}

int pds_h5out_write_runs(pds_h5out *h, uint64_t first_run, size_t n, const int16_t *unit_years,
                         const int16_t *sub_years, const double *coefs)
{
    int rc;
    QUIETLY(rc, write_runs_loud(h, first_run, n, unit_years, sub_years, coefs));
    return rc;
}

/* Close the datasets and the file; rc, or -1 when a close fails (the last
 * chunks and the metadata are written then). */
static int close_checked(pds_h5out *h, int rc)
{
    hid_t *ds[] = {&h->d_units, &h->d_subs, &h->d_coef};
    for (size_t i = 0; i < 3; i++) {
        if (*ds[i] >= 0 && H5Dclose(*ds[i]) < 0)
            rc = -1;
        *ds[i] = -1;
    }
    if (h->file >= 0 && H5Fclose(h->file) < 0)
        rc = -1;
    h->file = -1;
    return rc;
}

/* A failed file: closed, and removed unless it was resumed, in which case
 * it keeps the runs committed before (runs_done) for another --resume.
 * 1 when kept. */
static int drop(pds_h5out *h, pds_diag *diag)
{
    if (!h->resumed) {
        pds_h5out_abort(h);
        return 0;
    }
    close_all(h);
    trim_reserve(h);
    pds_diag_add(diag, h->tmp, 0, 0,
                 "kept, with the %llu of %llu runs saved in it; the same command with --resume "
                 "continues from them once the cause is fixed",
                 (unsigned long long)h->written, (unsigned long long)h->n_runs);
    handle_free(h);
    return 1;
}

/* After a clean close free h; else report, drop the partial file, free h. */
static int done_or_drop(pds_h5out *h, int rc, pds_diag *diag, const char *where, const char *what)
{
    if (rc) {
        pds_diag_add(diag, where, 0, 0, "%s", what);
        drop(h, diag);
        return -1;
    }
    handle_free(h);
    return 0;
}

static int finish_loud(pds_h5out *h, const pds_summary *s, pds_diag *diag)
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
    /* the summaries on disk before the file claims to be complete: a
     * failure up to here leaves a partial file that --resume can finish */
    if (!rc && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        rc = -1;
    if (!rc)
        rc = attr_set(h->file, "runs_done", H5T_NATIVE_UINT64, &h->written);
    if (!rc)
        rc = attr_set_u8(h->file, "complete", 1);
    rc = close_checked(h, rc);
    if (rc)
        return done_or_drop(h, rc, diag, h->path, "cannot finish the output file (disk full?)");
    trim_reserve(h);
    if (pds_out_install(h->tmp, &h->id, h->path, diag) != 0) {
        /* not ours any more, or not renamed: nothing of someone else's is removed */
        drop(h, diag);
        return -1;
    }
    handle_free(h);
    return 0;
}

int pds_h5out_write_backtest(pds_h5out *h, const pds_backtest_reliability *bt)
{
    int rc;
    QUIETLY(rc, write_backtest(h->file, bt));
    return rc;
}

int pds_h5out_finish(pds_h5out *h, const pds_summary *s, pds_diag *diag)
{
    int rc;
    QUIETLY(rc, finish_loud(h, s, diag));
    return rc;
}

uint64_t pds_h5out_written(const pds_h5out *h)
{
    return h->written;
}

static int suspend_loud(pds_h5out *h, pds_diag *diag)
{
    int rc = attr_set(h->file, "runs_done", H5T_NATIVE_UINT64, &h->written);
    rc = close_checked(h, rc);
    if (!rc)
        trim_reserve(h);
    return done_or_drop(h, rc, diag, h->tmp, "cannot save the runs done so far (disk full?)");
}

int pds_h5out_suspend(pds_h5out *h, pds_diag *diag)
{
    int rc;
    QUIETLY(rc, suspend_loud(h, diag));
    return rc;
}

/* Opens name under the runs group; checks it is [n_runs x cols]. */
static hid_t open_rows(hid_t file, const char *name, uint64_t n_runs, size_t cols)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 &&
             H5Sget_simple_extent_dims(sp, dims, NULL) == 2 && dims[0] == n_runs && dims[1] == cols;
    if (sp >= 0)
        H5Sclose(sp);
    if (!ok) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

/* Which of the partial file's inputs differ from this run's; NULL when none. */
static const char *resume_mismatch(hid_t f, const pds_h5meta *m, char *why, size_t size)
{
    int64_t fmt = 0, by = 0, fy = 0, ly = 0;
    uint64_t seed = 0, n_runs = 0;
    unsigned char complete = 1;
    char hash[128];
    if (pds_h5_attr_read_num(f, "format_version", H5T_NATIVE_INT64, &fmt) ||
        pds_h5_attr_read_num(f, "seed", H5T_NATIVE_UINT64, &seed) ||
        pds_h5_attr_read_num(f, "n_runs", H5T_NATIVE_UINT64, &n_runs) ||
        pds_h5_attr_read_num(f, "base_year", H5T_NATIVE_INT64, &by) ||
        pds_h5_attr_read_num(f, "first_year", H5T_NATIVE_INT64, &fy) ||
        pds_h5_attr_read_num(f, "last_year", H5T_NATIVE_INT64, &ly) ||
        pds_h5_attr_read_num(f, "complete", H5T_NATIVE_UCHAR, &complete) ||
        pds_h5_attr_read_str(f, "input_hash", hash, sizeof hash))
        return "it lacks the attributes of a partial result file of this version";
    if (fmt != PDS_FORMAT_VERSION) {
        snprintf(why, size, "it has format version %lld, this program writes %d", (long long)fmt,
                 PDS_FORMAT_VERSION);
        return why;
    }
    if (complete != 0)
        return "it is marked complete";
    if (seed != m->seed) {
        snprintf(why, size, "it was started with seed %llu, this run has seed %llu",
                 (unsigned long long)seed, (unsigned long long)m->seed);
        return why;
    }
    if (n_runs != m->n_runs) {
        snprintf(why, size, "it was started for %llu runs, this run asks for %llu",
                 (unsigned long long)n_runs, (unsigned long long)m->n_runs);
        return why;
    }
    if (by != m->base_year || fy != m->first_year || ly != m->last_year)
        return "it was started with other base year or horizon";
    if (strcmp(hash, m->input_hash ? m->input_hash : "") != 0)
        return "the config, dataset or model files differ from those it was started with";
    return NULL;
}

pds_h5out *pds_h5out_resume(const char *path, const pds_h5meta *m, pds_summary *summary,
                            pds_diag *diag, pds_status *status)
{
    *status = PDS_OK;
    pds_h5out *h = handle_new(path, m);
    if (!h) {
        pds_diag_add(diag, path, 0, 0, "out of memory");
        *status = PDS_ERR_RUNTIME;
        return NULL;
    }
    int there = pds_out_check_fixed(h->tmp, diag);
    if (there <= 0) {
        handle_free(h);
        if (there < 0)
            *status = PDS_ERR_INPUT;
        return NULL;
    }
    const char *why = NULL;
    char buf[256];
    uint64_t done = 0;
    H5E_BEGIN_TRY
    {
        h->file = pds_h5_file_open_rw_checked(h->tmp, &h->id);
        if (h->file < 0)
            why = "it cannot be opened for writing (damaged)";
        if (!why)
            why = resume_mismatch(h->file, m, buf, sizeof buf);
        if (!why && (pds_h5_attr_read_num(h->file, "runs_done", H5T_NATIVE_UINT64, &done) ||
                     done > m->n_runs))
            why = "its attribute runs_done is missing or larger than n_runs";
        if (!why) {
            h->d_units = open_rows(h->file, "/runs/province_adoption_year", m->n_runs, h->n_units);
            if (h->n_subs > 0)
                h->d_subs = open_rows(h->file, "/runs/city_adoption_year", m->n_runs, h->n_subs);
            if (h->n_coef > 0)
                h->d_coef = open_rows(h->file, "/runs/coefficients", m->n_runs, h->n_coef);
            if (h->d_units < 0 || (h->n_subs > 0 && h->d_subs < 0) ||
                (h->n_coef > 0 && h->d_coef < 0))
                why = "its /runs datasets do not have the shapes this run writes";
        }
        /* the summaries count whole runs: rebuild them from the stored rows */
        size_t block = m->chunk_runs ? m->chunk_runs : 1024;
        int16_t *rows = why ? NULL : malloc(block * (h->n_units ? h->n_units : 1) * sizeof *rows);
        if (!why && !rows)
            why = "out of memory";
        for (uint64_t r = 0; !why && r < done; r += block) {
            size_t n = done - r < block ? (size_t)(done - r) : block;
            if (pds_h5_rows(h->d_units, H5T_NATIVE_INT16, r, n, h->n_units, rows, 0) != 0)
                why = "its runs cannot be read back (damaged)";
            else
                pds_summary_add_runs(summary, rows, n);
        }
        free(rows);
        /* summaries written by a finish that failed (disk full): removed
         * once the file is accepted, and rebuilt from the runs */
        if (!why && H5Lexists(h->file, "summary", H5P_DEFAULT) > 0 &&
            H5Ldelete(h->file, "summary", H5P_DEFAULT) < 0)
            why = "its /summary group cannot be removed (damaged)";
    }
    H5E_END_TRY;
    if (why) {
        pds_diag_add(diag, h->tmp, 0, 0,
                     "cannot resume: %s; run without --resume to start again (this replaces "
                     "the partial file)",
                     why);
        close_all(h);
        handle_free(h);
        *status = PDS_ERR_INPUT;
        return NULL;
    }
    h->written = done;
    h->resumed = 1;
    return h;
}

void pds_h5out_abort(pds_h5out *h)
{
    if (!h)
        return;
    close_all(h);
    pds_out_discard(h->tmp, &h->id);
    handle_free(h);
}
