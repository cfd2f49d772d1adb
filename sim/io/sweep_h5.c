#define _POSIX_C_SOURCE 200809L
#include "outfile.h"
#include "sweep_h5.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/design.h"
#include "../core/world.h"
#include "h5out.h"
#include "h5util.h"
#include "h5probe.h"
#include "pds_version.h"

/* Bounds on what a part file may claim, as the sweep loader enforces them
 * (sim/io/sweep.c) and the dataset limits (sim/core/world.h): a file that
 * claims more is damaged or forged and is refused before anything is sized
 * from it. */
#define YEAR_MIN 1000
#define YEAR_MAX 3000
#define MAX_POINTS 10000000ull
#define MAX_PARAMS 1000ull
#define MAX_OUTPUTS 1000ull
#define MAX_BOOTSTRAP 100000
#define MAX_TASKS 1000000ull
#define MAX_NUMBERS (1ull << 30) /* numbers a merged sweep holds: 8 GB */

/* What a sweep file says about its sweep: the root attributes, the design,
 * the years and units. Read from a part, or taken from the loaded sweep. */
typedef struct meta {
    char hash[64], design[16], numbers[16];
    uint64_t n_points, runs, seed, sobol_base;
    int64_t bootstrap, base_year, first_year, last_year;
    char *config, *run_config; /* owned texts */
    size_t P, Y, U, O;
    size_t NU;                                  /* entries of unames (U once checked) */
    char **names, **codes, **unames, **outputs; /* owned */
    double *points, *lower, *upper;             /* owned */
} meta;

static void free_strs(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static void meta_free(meta *m)
{
    free(m->config);
    free(m->run_config);
    free_strs(m->names, m->P);
    free_strs(m->codes, m->U);
    free_strs(m->unames, m->NU);
    free_strs(m->outputs, m->O);
    free(m->points);
    free(m->lower);
    free(m->upper);
    memset(m, 0, sizeof *m);
}

static char **copy_strs(char *const *s, size_t n, size_t stride)
{
    char **o = calloc(n + 1, sizeof *o);
    for (size_t i = 0; o && i < n; i++)
        if (!(o[i] = strdup(*(char *const *)((const char *)s + i * stride)))) {
            free_strs(o, i);
            return NULL;
        }
    return o;
}

/* A string dataset as owned copies (free each), or NULL. */
static char **read_strs(hid_t f, const char *name, size_t *n)
{
    char **raw = NULL, **c = NULL;
    *n = 0;
    if (pds_h5_read_strings(f, name, n, &raw) == 0)
        c = copy_strs(raw, *n, sizeof(char *));
    pds_h5_strings_free(raw, *n);
    if (!c)
        *n = 0;
    return c;
}

static int meta_from_sweep(const pds_sweep *sw, meta *m)
{
    memset(m, 0, sizeof *m);
    const pds_setup *s = &sw->setup;
    snprintf(m->hash, sizeof m->hash, "%s", sw->hash);
    snprintf(m->design, sizeof m->design, "%s", pds_design_names[sw->design]);
    snprintf(m->numbers, sizeof m->numbers, "%s", sw->common_numbers ? "common" : "per_point");
    m->n_points = sw->n_points;
    m->runs = sw->runs_per_point;
    m->seed = sw->seed;
    m->sobol_base = sw->design == PDS_DESIGN_SOBOL ? sw->points : 0;
    m->bootstrap = sw->bootstrap;
    m->base_year = s->cfg->base_year;
    m->first_year = s->cfg->base_year + 1;
    m->last_year = s->cfg->horizon;
    m->config = strdup(sw->text);
    m->run_config = strdup(s->cfg->text);
    m->P = sw->n_params;
    m->Y = (size_t)(m->last_year - m->first_year + 1);
    m->U = s->world->n_units;
    m->O = sw->n_outputs;
    m->names = copy_strs(&sw->params[0].name, m->P, sizeof sw->params[0]);
    m->codes = copy_strs(&s->world->units[0].code, m->U, sizeof s->world->units[0]);
    m->unames = copy_strs(&s->world->units[0].name, m->U, sizeof s->world->units[0]);
    m->NU = m->unames ? m->U : 0;
    m->outputs = copy_strs(sw->outputs, m->O, sizeof(char *));
    m->points = malloc(m->n_points * m->P * sizeof *m->points);
    m->lower = malloc(m->P * sizeof *m->lower);
    m->upper = malloc(m->P * sizeof *m->upper);
    if (!m->config || !m->run_config || !m->names || !m->codes || !m->unames || !m->outputs ||
        !m->points || !m->lower || !m->upper) {
        meta_free(m);
        return -1;
    }
    memcpy(m->points, sw->values, m->n_points * m->P * sizeof *m->points);
    for (size_t p = 0; p < m->P; p++) {
        m->lower[p] = sw->params[p].lower;
        m->upper[p] = sw->params[p].upper;
    }
    return 0;
}

/* A whole dataset of numbers with exactly n elements into buf. 0 or -1. */
static int read_all(hid_t f, const char *name, hid_t type, size_t n, void *buf)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    int ok = sp >= 0 && (size_t)H5Sget_simple_extent_npoints(sp) == n &&
             (n == 0 || H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return ok ? 0 : -1;
}

/* Dataset name has exactly the rank and dimensions dims. */
static int dims_are(hid_t f, const char *name, int rank, const hsize_t *dims)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return 0;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return 0;
    hid_t sp = H5Dget_space(d);
    hsize_t got[4] = {0};
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == rank && rank <= 4 &&
             H5Sget_simple_extent_dims(sp, got, NULL) == rank;
    for (int k = 0; ok && k < rank; k++)
        ok = got[k] == dims[k];
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return ok;
}

/* The per-point datasets of a part (or partial) holding n points of Y years
 * and U units have exactly these shapes: nothing is read into, or written
 * from, a buffer of another size. */
static int points_shapes_ok(hid_t f, size_t n, size_t Y, size_t U, int with_index)
{
    hsize_t d1[1] = {n}, dy[2] = {n, Y}, dq[3] = {n, pds_n_national_quantiles, Y},
            du[2] = {n, U};
    return (!with_index || dims_are(f, "/points/index", 1, d1)) &&
           dims_are(f, "/points/seed", 1, d1) &&
           dims_are(f, "/points/national_adopted_mean", 2, dy) &&
           dims_are(f, "/points/national_adopted_quantiles", 3, dq) &&
           dims_are(f, "/points/p_all_adopted", 1, d1) && dims_are(f, "/points/median_year", 2, du);
}

static char *read_text_attr(hid_t f, const char *name)
{
    /* texts are config files: a few kilobytes */
    size_t size = 1 << 20;
    char *buf = malloc(size);
    if (buf && pds_h5_attr_read_str(f, name, buf, size) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int meta_read(hid_t f, meta *m)
{
    memset(m, 0, sizeof *m);
    int bad = pds_h5_attr_read_str(f, "sweep_hash", m->hash, sizeof m->hash) ||
              pds_h5_attr_read_str(f, "design", m->design, sizeof m->design) ||
              pds_h5_attr_read_str(f, "random_numbers", m->numbers, sizeof m->numbers) ||
              pds_h5_attr_read_num(f, "n_points", H5T_NATIVE_UINT64, &m->n_points) ||
              pds_h5_attr_read_num(f, "runs_per_point", H5T_NATIVE_UINT64, &m->runs) ||
              pds_h5_attr_read_num(f, "seed", H5T_NATIVE_UINT64, &m->seed) ||
              pds_h5_attr_read_num(f, "sobol_base_samples", H5T_NATIVE_UINT64, &m->sobol_base) ||
              pds_h5_attr_read_num(f, "bootstrap", H5T_NATIVE_INT64, &m->bootstrap) ||
              pds_h5_attr_read_num(f, "base_year", H5T_NATIVE_INT64, &m->base_year) ||
              pds_h5_attr_read_num(f, "first_year", H5T_NATIVE_INT64, &m->first_year) ||
              pds_h5_attr_read_num(f, "last_year", H5T_NATIVE_INT64, &m->last_year);
    /* every figure is checked before it sizes or indexes anything */
    int design_ok = 0;
    for (int k = 0; pds_design_names[k]; k++)
        design_ok |= strcmp(m->design, pds_design_names[k]) == 0;
    if (bad || !design_ok || m->base_year < YEAR_MIN || m->base_year > YEAR_MAX ||
        m->first_year != m->base_year + 1 || m->last_year < m->first_year ||
        m->last_year > YEAR_MAX || m->n_points == 0 || m->n_points > MAX_POINTS ||
        m->bootstrap < 0 || m->bootstrap > MAX_BOOTSTRAP ||
        (strcmp(m->numbers, "common") != 0 && strcmp(m->numbers, "per_point") != 0))
        return -1;
    m->Y = (size_t)(m->last_year - m->first_year + 1);
    m->config = read_text_attr(f, "config");
    m->run_config = read_text_attr(f, "run_config");
    size_t nu2 = 0;
    m->names = read_strs(f, "/design/names", &m->P);
    m->codes = read_strs(f, "/provinces/code", &m->U);
    /* its own count: a damaged file may hold more names than codes */
    m->unames = read_strs(f, "/provinces/name", &nu2);
    m->NU = nu2;
    if (H5Lexists(f, "/sobol", H5P_DEFAULT) > 0)
        m->outputs = read_strs(f, "/sobol/outputs", &m->O);
    if (!m->config || !m->run_config || !m->names || !m->codes || !m->unames || nu2 != m->U)
        return -1;
    if (m->P == 0 || m->P > MAX_PARAMS || m->n_points * m->P > MAX_POINTS * MAX_PARAMS ||
        m->U == 0 || m->U > PDS_MAX_UNITS || m->O > MAX_OUTPUTS)
        return -1;
    hsize_t dp[2] = {m->n_points, m->P};
    if ((m->n_points * (m->Y * (pds_n_national_quantiles + 1) + m->U + 1 + m->P)) > MAX_NUMBERS ||
        !dims_are(f, "/design/points", 2, dp))
        return -1;
    /* a Sobol design is N base samples of P + 2 rows each; the others have none */
    if (strcmp(m->design, "sobol") == 0
            ? m->sobol_base == 0 || 2 * m->P > PDS_SOBOL_MAX_DIM ||
                  m->sobol_base * pds_design_saltelli_rows(m->P) != m->n_points
            : m->sobol_base != 0)
        return -1;
    m->points = malloc(m->n_points * m->P * sizeof *m->points);
    m->lower = malloc((m->P + 1) * sizeof *m->lower);
    m->upper = malloc((m->P + 1) * sizeof *m->upper);
    if (!m->points || !m->lower || !m->upper ||
        read_all(f, "/design/points", H5T_NATIVE_DOUBLE, m->n_points * m->P, m->points) ||
        read_all(f, "/design/lower", H5T_NATIVE_DOUBLE, m->P, m->lower) ||
        read_all(f, "/design/upper", H5T_NATIVE_DOUBLE, m->P, m->upper))
        return -1;
    return 0;
}

static int write_u64(hid_t o, const char *n, uint64_t v)
{
    return pds_h5_attr_write_num(o, n, H5T_NATIVE_UINT64, &v);
}

static int write_i64(hid_t o, const char *n, int64_t v)
{
    return pds_h5_attr_write_num(o, n, H5T_NATIVE_INT64, &v);
}

static hid_t new_group(hid_t f, const char *name)
{
    return H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* Root attributes (all but complete) and the design, years and units. */
static int write_header(hid_t f, const meta *m, const char *kind)
{
    int rc = write_i64(f, "format_version", PDS_SWEEP_FORMAT_VERSION);
    rc |= pds_h5_attr_write_str(f, "kind", kind);
    rc |= pds_h5_attr_write_str(f, "sweep_hash", m->hash);
    rc |= pds_h5_attr_write_str(f, "design", m->design);
    rc |= pds_h5_attr_write_str(f, "random_numbers", m->numbers);
    rc |= write_u64(f, "n_points", m->n_points);
    rc |= write_u64(f, "runs_per_point", m->runs);
    rc |= write_u64(f, "seed", m->seed);
    rc |= write_u64(f, "sobol_base_samples", m->sobol_base);
    rc |= write_i64(f, "bootstrap", m->bootstrap);
    rc |= write_i64(f, "base_year", m->base_year);
    rc |= write_i64(f, "first_year", m->first_year);
    rc |= write_i64(f, "last_year", m->last_year);
    rc |= pds_h5_attr_write_str(f, "config", m->config);
    rc |= pds_h5_attr_write_str(f, "run_config", m->run_config);
    rc |= pds_h5_attr_write_str(f, "pdsim_version", PDS_VERSION);
    hid_t g = new_group(f, "design");
    hsize_t dp[2] = {m->n_points, m->P}, d1[1] = {m->P};
    rc |=
        g < 0 ||
        pds_h5_write_strings(g, "names", (const char *const *)m->names, m->P, "swept parameters") ||
        pds_h5_write_dataset(g, "points", H5T_NATIVE_DOUBLE, 2, dp, m->points,
                             "value of each parameter (column) at each design point (row)") ||
        pds_h5_write_dataset(g, "lower", H5T_NATIVE_DOUBLE, 1, d1, m->lower,
                             "lower end of each parameter's range") ||
        pds_h5_write_dataset(g, "upper", H5T_NATIVE_DOUBLE, 1, d1, m->upper,
                             "upper end of each parameter's range");
    if (g >= 0)
        H5Gclose(g);
    int16_t *years = malloc(m->Y * sizeof *years);
    hsize_t dy[1] = {m->Y};
    for (size_t k = 0; years && k < m->Y; k++)
        years[k] = (int16_t)(m->first_year + (int64_t)k);
    rc |= !years || pds_h5_write_dataset(f, "years", H5T_NATIVE_INT16, 1, dy, years,
                                         "simulated years first_year..last_year");
    free(years);
    g = new_group(f, "provinces");
    rc |= g < 0 ||
          pds_h5_write_strings(g, "code", (const char *const *)m->codes, m->U, "unit codes") ||
          pds_h5_write_strings(g, "name", (const char *const *)m->unames, m->U, "unit names");
    if (g >= 0)
        H5Gclose(g);
    g = new_group(f, "points");
    hsize_t dq[1] = {pds_n_national_quantiles};
    rc |= g < 0 ||
          pds_h5_write_dataset(g, "quantile_levels", H5T_NATIVE_DOUBLE, 1, dq,
                               pds_national_quantiles, "levels of national_adopted_quantiles");
    if (g >= 0)
        H5Gclose(g);
    if (m->O > 0) {
        g = new_group(f, "sobol");
        rc |= g < 0 || pds_h5_write_strings(g, "outputs", (const char *const *)m->outputs, m->O,
                                            "outputs analysed");
        if (g >= 0)
            H5Gclose(g);
    }
    return rc ? -1 : 0;
}

/* The per-point datasets of n points, written whole. */
static int write_points(hid_t f, const pds_sweep_stats *st, const uint64_t *index,
                        const uint64_t *seeds, int64_t last_year)
{
    size_t n = st->n, Y = st->n_years, U = st->n_units;
    hid_t g = H5Gopen2(f, "points", H5P_DEFAULT);
    if (g < 0)
        return -1;
    hsize_t d1[1] = {n}, dy[2] = {n, Y}, dq[3] = {n, pds_n_national_quantiles, Y}, du[2] = {n, U};
    int rc =
        (index && pds_h5_write_dataset(g, "index", H5T_NATIVE_UINT64, 1, d1, index,
                                       "design point of each row")) ||
        pds_h5_write_dataset(g, "seed", H5T_NATIVE_UINT64, 1, d1, seeds,
                             "seed of each point's runs (pdsim run with this seed and the "
                             "point's values reproduces them)") ||
        pds_h5_write_dataset(g, "national_adopted_mean", H5T_NATIVE_DOUBLE, 2, dy, st->mean,
                             "mean number of units adopted by the end of each year") ||
        pds_h5_write_dataset(g, "national_adopted_quantiles", H5T_NATIVE_DOUBLE, 3, dq, st->quant,
                             "quantiles (quantile_levels) of the number of units adopted by the "
                             "end of each year") ||
        pds_h5_write_dataset(g, "p_all_adopted", H5T_NATIVE_DOUBLE, 1, d1, st->p_all,
                             "P(every unit adopted by last_year)") ||
        pds_h5_write_dataset(g, "median_year", H5T_NATIVE_DOUBLE, 2, du, st->median,
                             "median adoption year of each unit; a unit not adopted by "
                             "last_year counts as last_year + 1");
    if (!rc) {
        hid_t d = H5Dopen2(g, "p_all_adopted", H5P_DEFAULT);
        rc = d < 0 || write_i64(d, "year", last_year);
        if (d >= 0)
            H5Dclose(d);
    }
    H5Gclose(g);
    return rc ? -1 : 0;
}

/* Row `row` of an n-dimensional dataset from buf. 0 or -1. */
static int write_row(hid_t f, const char *name, size_t row, const double *buf)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t fs = H5Dget_space(d);
    int rank = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    hsize_t dims[3] = {0, 1, 1}, start[3] = {row, 0, 0};
    int rc = -1;
    if (rank >= 1 && rank <= 3 && H5Sget_simple_extent_dims(fs, dims, NULL) == rank) {
        dims[0] = 1;
        hid_t ms = H5Screate_simple(rank, dims, NULL);
        if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims, NULL) >= 0 &&
            H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf) >= 0)
            rc = 0;
        H5Sclose(ms);
    }
    if (fs >= 0)
        H5Sclose(fs);
    H5Dclose(d);
    return rc;
}

char *pds_sweep_part_path(const char *dir, size_t task, size_t tasks)
{
    size_t n = strlen(dir) + 64;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/part-%04zu-of-%04zu.h5", dir, task, tasks);
    return p;
}

struct pds_sweep_part {
    hid_t file;
    char *path, *partial;
    pds_fileid id;  /* the partial file created or reopened */
    pds_lock *lock; /* on path: held from open to finish or close */
    size_t n_years, n_units;
};

static void part_free(pds_sweep_part *p)
{
    if (!p)
        return;
    if (p->file >= 0)
        H5Fclose(p->file);
    free(p->path);
    free(p->partial);
    pds_lock_release(p->lock);
    free(p);
}

void pds_sweep_part_close(pds_sweep_part *p)
{
    part_free(p);
}

/* The part's identity attributes agree with this task of this sweep. */
static int part_matches(hid_t f, const pds_sweep *sw, size_t task, size_t tasks)
{
    char hash[64], kind[32];
    uint64_t t = 0, n = 0;
    return pds_h5_attr_read_str(f, "kind", kind, sizeof kind) == 0 &&
           strcmp(kind, "sweep-part") == 0 &&
           pds_h5_attr_read_str(f, "sweep_hash", hash, sizeof hash) == 0 &&
           strcmp(hash, sw->hash) == 0 &&
           pds_h5_attr_read_num(f, "task", H5T_NATIVE_UINT64, &t) == 0 &&
           pds_h5_attr_read_num(f, "tasks", H5T_NATIVE_UINT64, &n) == 0 && t == task && n == tasks;
}


/* Set the root attribute complete of an open part to v, creating it when
 * absent, and flush. A part's finish step only rewrites this existing
 * one-byte value (it adds nothing to the attribute table), so a partial that
 * passes this check on resume can be finished. 0 or -1. */
static int set_complete(hid_t f, unsigned char v)
{
    int rc;
    H5E_BEGIN_TRY
    {
        if (H5Aexists(f, "complete") > 0) {
            hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
            hid_t t = a >= 0 ? H5Aget_type(a) : -1;
            hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
            rc = a < 0 || t < 0 || sp < 0 || H5Tget_class(t) != H5T_INTEGER ||
                 H5Tget_size(t) != 1 || H5Sget_simple_extent_type(sp) != H5S_SCALAR ||
                 H5Awrite(a, H5T_NATIVE_UCHAR, &v) < 0;
            if (sp >= 0)
                H5Sclose(sp);
            if (t >= 0)
                H5Tclose(t);
            if (a >= 0)
                H5Aclose(a);
        } else {
            rc = pds_h5_attr_write_num(f, "complete", H5T_NATIVE_UCHAR, &v) != 0;
        }
        rc = rc || H5Fflush(f, H5F_SCOPE_GLOBAL) < 0;
    }
    H5E_END_TRY;
    return rc ? -1 : 0;
}

static int create_part(pds_sweep_part *p, const pds_sweep *sw, size_t task, size_t tasks)
{
    size_t first, end;
    pds_sweep_task_points(sw->n_points, task, tasks, &first, &end);
    size_t n = end - first;
    meta m;
    if (meta_from_sweep(sw, &m) != 0)
        return -1;
    pds_sweep_stats st;
    uint64_t *index = malloc((n + 1) * sizeof *index), *seeds = malloc((n + 1) * sizeof *seeds);
    int rc = -1;
    if (index && seeds && pds_sweep_stats_init(&st, n, m.Y, m.U) == 0) {
        /* NaN until computed: a partial part never shows zeros as results */
        for (size_t i = 0; i < n * m.Y; i++)
            st.mean[i] = NAN;
        for (size_t i = 0; i < n * m.Y * pds_n_national_quantiles; i++)
            st.quant[i] = NAN;
        for (size_t i = 0; i < n; i++) {
            st.p_all[i] = NAN;
            index[i] = first + i;
            seeds[i] = pds_sweep_point_seed(sw, first + i);
        }
        for (size_t i = 0; i < n * m.U; i++)
            st.median[i] = NAN;
        p->file = pds_h5_file_create_excl(p->partial, &p->id);
        rc = p->file < 0 || write_header(p->file, &m, "sweep-part") ||
             write_u64(p->file, "task", task) || write_u64(p->file, "tasks", tasks) ||
             write_u64(p->file, "first_point", first) || write_u64(p->file, "end_point", end) ||
             write_u64(p->file, "points_done", 0) ||
             write_points(p->file, &st, index, seeds, m.last_year) || set_complete(p->file, 0);
        pds_sweep_stats_free(&st);
    }
    free(index);
    free(seeds);
    meta_free(&m);
    return rc ? -1 : 0;
}

pds_status pds_sweep_part_open(const pds_sweep *sw, size_t task, size_t tasks, size_t *done,
                               pds_sweep_part **out, pds_diag *diag)
{
    *done = 0;
    *out = NULL;
    pds_sweep_part *p = calloc(1, sizeof *p);
    if (!p)
        return PDS_ERR_RUNTIME;
    p->file = -1;
    p->path = pds_sweep_part_path(sw->parts_dir, task, tasks);
    p->partial = p->path ? malloc(strlen(p->path) + sizeof ".partial") : NULL;
    if (!p->partial || pds_mkdirs(sw->parts_dir, NULL, 0) != 0) {
        pds_diag_add(diag, sw->parts_dir, 0, 0, "cannot create the folder for the part files");
        part_free(p);
        return PDS_ERR_RUNTIME;
    }
    strcat(strcpy(p->partial, p->path), ".partial");
    /* another task writing this part (busy) is left alone: nothing of it is
     * opened for writing, judged or removed */
    pds_status lst = pds_lock_take(p->path, &p->lock, diag);
    if (lst != PDS_OK) {
        part_free(p);
        return lst;
    }
    p->n_years = (size_t)(sw->setup.cfg->horizon - sw->setup.cfg->base_year);
    p->n_units = sw->setup.world->n_units;
    if (access(p->path, F_OK) == 0) {
        hid_t f;
        unsigned char c = 0;
        H5E_BEGIN_TRY
        {
            f = pds_h5_open_ro(p->path);
        }
        H5E_END_TRY;
        int same = f >= 0 && part_matches(f, sw, task, tasks);
        int ok = same && pds_h5_attr_read_num(f, "complete", H5T_NATIVE_UCHAR, &c) == 0 && c == 1;
        if (f >= 0)
            H5Fclose(f);
        if (ok) {
            part_free(p);
            return PDS_OK;
        }
        pds_diag_add(diag, p->path, 0, 0, "%s: remove it or choose another output folder (-o)",
                     f < 0  ? "not a readable HDF5 file"
                     : same ? "a damaged part of this sweep"
                            : "a part of another sweep is in the way");
        part_free(p);
        return PDS_ERR_INPUT;
    }
    int there = pds_out_check_fixed(p->partial, diag);
    if (there < 0) {
        part_free(p);
        return PDS_ERR_INPUT;
    }
    if (there > 0) {
        hid_t f;
        H5E_BEGIN_TRY
        {
            f = pds_h5_file_open_rw_checked(p->partial, &p->id);
        }
        H5E_END_TRY;
        uint64_t k = 0, first = 0, end = 0;
        size_t f0, e0;
        pds_sweep_task_points(sw->n_points, task, tasks, &f0, &e0);
        int ok = f >= 0 && part_matches(f, sw, task, tasks) &&
                 pds_h5_attr_read_num(f, "points_done", H5T_NATIVE_UINT64, &k) == 0 &&
                 pds_h5_attr_read_num(f, "first_point", H5T_NATIVE_UINT64, &first) == 0 &&
                 pds_h5_attr_read_num(f, "end_point", H5T_NATIVE_UINT64, &end) == 0 &&
                 first == f0 && end == e0 && k <= end - first;
        if (ok && !points_shapes_ok(f, e0 - f0, p->n_years, p->n_units, 1)) {
            /* written for other years or units: never written into */
            H5Fclose(f);
            pds_diag_add(diag, p->partial, 0, 0,
                         "an unfinished part of this sweep whose datasets are not of %zu points, "
                         "%zu years and %zu units (damaged, or edited): remove it to start the "
                         "task again",
                         e0 - f0, p->n_years, p->n_units);
            part_free(p);
            return PDS_ERR_INPUT;
        }
        /* a partial that cannot be finished (say, its attribute table damaged
         * by a kill while it was being finished) is recomputed, not resumed
         * into a failure on every rerun */
        ok = ok && set_complete(f, 0) == 0;
        if (ok) {
            p->file = f;
            *done = (size_t)k;
            *out = p;
            return PDS_OK;
        }
        char hash[64] = "";
        int other = f >= 0 && pds_h5_attr_read_str(f, "sweep_hash", hash, sizeof hash) == 0 &&
                    strcmp(hash, sw->hash) != 0;
        if (f >= 0)
            H5Fclose(f);
        if (other) {
            /* another sweep's unfinished work: not ours to throw away */
            pds_diag_add(diag, p->partial, 0, 0,
                         "an unfinished part of another sweep (design hash %s) is in the way: "
                         "remove it or choose another output folder (-o)",
                         hash);
            part_free(p);
            return PDS_ERR_INPUT;
        }
        /* damaged (and ours to judge: the lock is held): nothing in it can
         * be trusted */
        if (pds_out_clear_fixed(p->partial, diag) != PDS_OK) {
            part_free(p);
            return PDS_ERR_INPUT;
        }
    }
    int rc;
    H5E_BEGIN_TRY
    {
        rc = create_part(p, sw, task, tasks);
    }
    H5E_END_TRY;
    if (rc != 0) {
        pds_diag_add(diag, p->partial, 0, 0, "cannot write the part file (disk full?)");
        pds_out_discard(p->partial, &p->id);
        part_free(p);
        return PDS_ERR_RUNTIME;
    }
    *out = p;
    return PDS_OK;
}

int pds_sweep_part_write(pds_sweep_part *p, size_t k, const pds_sweep_stats *st)
{
    int rc;
    H5E_BEGIN_TRY
    {
        uint64_t done = k + 1;
        rc = write_row(p->file, "/points/national_adopted_mean", k, st->mean) ||
             write_row(p->file, "/points/national_adopted_quantiles", k, st->quant) ||
             write_row(p->file, "/points/p_all_adopted", k, st->p_all) ||
             write_row(p->file, "/points/median_year", k, st->median) ||
             H5Fflush(p->file, H5F_SCOPE_GLOBAL) < 0;
        /* the count goes last: a kill before it loses this point, not the file */
        if (!rc) {
            hid_t a = H5Aopen(p->file, "points_done", H5P_DEFAULT);
            rc = a < 0 || H5Awrite(a, H5T_NATIVE_UINT64, &done) < 0;
            if (a >= 0)
                H5Aclose(a);
            rc |= H5Fflush(p->file, H5F_SCOPE_GLOBAL) < 0;
        }
    }
    H5E_END_TRY;
    return rc ? -1 : 0;
}

int pds_sweep_part_finish(pds_sweep_part *p, pds_diag *diag)
{
    unsigned char one = 1;
    int rc;
    H5E_BEGIN_TRY
    {
        rc = set_complete(p->file, one) != 0 || H5Fclose(p->file) < 0;
    }
    H5E_END_TRY;
    p->file = -1;
    if (rc) {
        pds_diag_add(diag, p->partial, 0, 0, "cannot finish the part file (disk full?)");
        part_free(p);
        return -1;
    }
    if (pds_out_install(p->partial, &p->id, p->path, diag) != 0) {
        part_free(p);
        return -1;
    }
    part_free(p);
    return 0;
}

/* ---- merge ---- */

typedef struct part_in {
    char *path;
    hid_t file;
    uint64_t task, tasks, first, end;
} part_in;

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a folder ending in suffix, sorted; NULL with *n = 0 when none. */
static char **list_dir(const char *dir, const char *suffix, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "part-", 5) != 0 || !has_suffix(e->d_name, suffix))
            continue;
        if (*n == cap) {
            char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if ((v[*n] = malloc(len)) != NULL)
            snprintf(v[(*n)++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (v)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static int is_dir(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

static void merge_sobol(const meta *m, const pds_sweep_stats *st, double *first, double *total,
                        uint64_t *used)
{
    size_t P = m->P, N = (size_t)m->sobol_base;
    double *y = malloc((m->n_points + 1) * sizeof *y);
    for (size_t o = 0; o < m->O; o++) {
        double *f = first + o * P * 3, *t = total + o * P * 3;
        for (size_t i = 0; i < P * 3; i++)
            f[i] = t[i] = NAN;
        for (size_t i = 0; i < P * 2; i++)
            used[o * P * 2 + i] = 0;
        int ok = y != NULL;
        for (size_t i = 0; ok && i < m->n_points; i++)
            ok = pds_sweep_output_value(m->outputs[o], (int)m->first_year, m->codes, st, i,
                                        &y[i]) == 0;
        if (ok)
            pds_design_sobol_indices_used(P, N, y, (size_t)m->bootstrap, m->seed, f, t,
                                          used + o * P * 2);
    }
    free(y);
}

static int write_merged(const char *out, const meta *m, const pds_sweep_stats *st,
                        const uint64_t *seeds, pds_diag *diag)
{
    char *tmp = NULL;
    pds_fileid id = {0};
    double *first = NULL, *total = NULL;
    uint64_t *used = NULL;
    int sobol = strcmp(m->design, "sobol") == 0 && m->O > 0;
    if (sobol) {
        first = malloc(m->O * m->P * 3 * sizeof *first);
        total = malloc(m->O * m->P * 3 * sizeof *total);
        used = malloc(m->O * m->P * 2 * sizeof *used);
        if (first && total && used)
            merge_sobol(m, st, first, total, used);
    }
    int rc;
    H5E_BEGIN_TRY
    {
        hid_t f = pds_h5_create_tmp(out, &tmp, &id);
        rc = f < 0 || write_header(f, m, "sweep") || write_points(f, st, NULL, seeds, m->last_year);
        if (!rc && sobol) {
            hid_t g = H5Gopen2(f, "sobol", H5P_DEFAULT);
            hsize_t d[3] = {m->O, m->P, 3}, du[3] = {m->O, m->P, 2};
            rc = g < 0 || !first || !total || !used ||
                 pds_h5_write_dataset(g, "first_order", H5T_NATIVE_DOUBLE, 3, d, first,
                                      "first-order index of each parameter for each output: "
                                      "estimate, 95% bootstrap low, high (Saltelli 2010)") ||
                 pds_h5_write_dataset(g, "total", H5T_NATIVE_DOUBLE, 3, d, total,
                                      "total-order index: estimate, 95% bootstrap low, high "
                                      "(Jansen 1999)") ||
                 pds_h5_write_dataset(g, "bootstrap_used", H5T_NATIVE_UINT64, 3, du, used,
                                      "bootstrap resamples each interval rests on (first "
                                      "order, total): the bootstrap attribute less the "
                                      "resamples that gave NaN and were left out");
            if (g >= 0)
                H5Gclose(g);
        }
        unsigned char one = 1;
        rc = rc || pds_h5_attr_write_num(f, "complete", H5T_NATIVE_UCHAR, &one) != 0;
        if (f >= 0 && H5Fclose(f) < 0)
            rc = 1;
    }
    H5E_END_TRY;
    free(first);
    free(total);
    free(used);
    if (rc) {
        pds_diag_add(diag, out, 0, 0, "cannot write the merged file (disk full?)");
    } else if (pds_out_install(tmp, &id, out, diag) == 0) {
        free(tmp);
        return 0;
    }
    if (tmp)
        pds_out_discard(tmp, &id);
    free(tmp);
    return -1;
}

static int read_part_rows(const part_in *p, const meta *m, pds_sweep_stats *all, uint64_t *seeds)
{
    size_t n = (size_t)(p->end - p->first), Y = m->Y, U = m->U, Q = pds_n_national_quantiles;
    size_t o = (size_t)p->first;
    uint64_t *index = malloc((n + 1) * sizeof *index);
    int rc =
        !index || read_all(p->file, "/points/index", H5T_NATIVE_UINT64, n, index) ||
        read_all(p->file, "/points/seed", H5T_NATIVE_UINT64, n, seeds + o) ||
        read_all(p->file, "/points/national_adopted_mean", H5T_NATIVE_DOUBLE, n * Y,
                 all->mean + o * Y) ||
        read_all(p->file, "/points/national_adopted_quantiles", H5T_NATIVE_DOUBLE, n * Q * Y,
                 all->quant + o * Q * Y) ||
        read_all(p->file, "/points/p_all_adopted", H5T_NATIVE_DOUBLE, n, all->p_all + o) ||
        read_all(p->file, "/points/median_year", H5T_NATIVE_DOUBLE, n * U, all->median + o * U);
    for (size_t i = 0; !rc && i < n; i++)
        rc = index[i] != p->first + i;
    free(index);
    return rc ? -1 : 0;
}

pds_status pds_sweep_merge(const char *const *inputs, size_t n_inputs, const char *out,
                           pds_diag *diag)
{
    /* the merged file never replaces a part or anything in the folders
     * merged, and is written under its lock */
    pds_inset in;
    pds_inset_init(&in);
    pds_status ist = PDS_OK;
    for (size_t i = 0; i < n_inputs && ist == PDS_OK; i++)
        if (pds_inset_add(&in, inputs[i]) != 0)
            ist = PDS_ERR_RUNTIME;
    if (ist == PDS_OK)
        ist = pds_inset_check(&in, out, diag);
    pds_inset_free(&in);
    if (ist != PDS_OK)
        return ist;
    pds_lock *lock = NULL;
    ist = pds_lock_take(out, &lock, diag);
    if (ist != PDS_OK)
        return ist;
    char **files = NULL, **partials = NULL;
    size_t nf = 0, np = 0;
    int bad = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        size_t k = 0, kp = 0;
        char **v = NULL, **vp = NULL, *one[1];
        if (is_dir(inputs[i])) {
            v = list_dir(inputs[i], ".h5", &k);
            vp = list_dir(inputs[i], ".h5.partial", &kp);
            if (k == 0 && kp == 0) {
                pds_diag_add(diag, inputs[i], 0, 0, "no part files (part-*.h5) in this folder");
                bad = 1;
            }
        } else {
            one[0] = strdup(inputs[i]);
            v = one[0] ? one : NULL;
            k = one[0] ? 1 : 0;
        }
        char **nfv = realloc(files, (nf + k + 1) * sizeof *files);
        char **npv = realloc(partials, (np + kp + 1) * sizeof *partials);
        if (nfv)
            files = nfv;
        if (npv)
            partials = npv;
        for (size_t j = 0; j < k; j++)
            if (nfv)
                files[nf++] = v[j];
            else
                free(v[j]);
        for (size_t j = 0; j < kp; j++)
            if (npv)
                partials[np++] = vp[j];
            else
                free(vp[j]);
        if (v != one)
            free(v);
        free(vp);
    }
    part_in *parts = calloc(nf + 1, sizeof *parts);
    meta m = {0};
    int have_meta = 0;
    pds_status st = PDS_OK;
    if (!parts) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        pds_diag_add(diag, partials[i], 0, 0,
                     "an unfinished part (the task was interrupted): rerun that task to resume it");
        bad = 1;
    }
    char hash0[64] = "";
    H5E_BEGIN_TRY
    {
        for (size_t i = 0; i < nf; i++) {
            part_in *p = &parts[i];
            p->path = files[i];
            p->file =
                access(p->path, R_OK) == 0 ? pds_h5_open_ro(p->path) : -1;
            char kind[32] = "", hash[64] = "";
            unsigned char complete = 0;
            uint64_t done = 0;
            int64_t fmt = 0;
            if (p->file < 0) {
                pds_diag_add(diag, p->path, 0, 0,
                             "cannot open: not an HDF5 file, or a damaged one (expected a sweep "
                             "part file)");
            } else if (pds_h5_attr_read_str(p->file, "kind", kind, sizeof kind) != 0 ||
                       strcmp(kind, "sweep-part") != 0 ||
                       pds_h5_attr_read_num(p->file, "format_version", H5T_NATIVE_INT64, &fmt) ||
                       fmt != PDS_SWEEP_FORMAT_VERSION) {
                pds_diag_add(diag, p->path, 0, 0,
                             "not a sweep part file of format version %d (kind \"%s\")",
                             PDS_SWEEP_FORMAT_VERSION, kind);
            } else if (pds_h5_attr_read_num(p->file, "complete", H5T_NATIVE_UCHAR, &complete) ||
                       complete != 1) {
                pds_h5_attr_read_num(p->file, "points_done", H5T_NATIVE_UINT64, &done);
                pds_diag_add(diag, p->path, 0, 0,
                             "incomplete part (%llu points done; expected complete = 1): rerun "
                             "its task to finish it",
                             (unsigned long long)done);
            } else if (pds_h5_attr_read_str(p->file, "sweep_hash", hash, sizeof hash) ||
                       pds_h5_attr_read_num(p->file, "task", H5T_NATIVE_UINT64, &p->task) ||
                       pds_h5_attr_read_num(p->file, "tasks", H5T_NATIVE_UINT64, &p->tasks) ||
                       pds_h5_attr_read_num(p->file, "first_point", H5T_NATIVE_UINT64, &p->first) ||
                       pds_h5_attr_read_num(p->file, "end_point", H5T_NATIVE_UINT64, &p->end) ||
                       p->task >= p->tasks || p->tasks > MAX_TASKS || p->end < p->first ||
                       p->end > MAX_POINTS) {
                pds_diag_add(diag, p->path, 0, 0,
                             "missing or bad attributes (expected sweep_hash, task < tasks <= "
                             "%llu, first_point <= end_point <= %llu)",
                             MAX_TASKS, MAX_POINTS);
            } else if (hash0[0] && strcmp(hash, hash0) != 0) {
                pds_diag_add(diag, p->path, 0, 0,
                             "belongs to another sweep: design hash %s, but %s has %s", hash,
                             parts[0].path, hash0);
            } else if (i > 0 && p->tasks != parts[0].tasks) {
                pds_diag_add(diag, p->path, 0, 0,
                             "part of a split into %llu tasks, but %s is of a split into %llu",
                             (unsigned long long)p->tasks, parts[0].path,
                             (unsigned long long)parts[0].tasks);
            } else {
                if (!hash0[0])
                    snprintf(hash0, sizeof hash0, "%s", hash);
                continue;
            }
            bad = 1;
            if (i == 0)
                hash0[0] = '\0';
        }
    }
    H5E_END_TRY;
    if (bad || nf == 0) {
        if (nf == 0 && !bad)
            pds_diag_add(diag, NULL, 0, 0, "no part files to merge");
        st = PDS_ERR_INPUT;
        goto done;
    }
    uint64_t tasks = parts[0].tasks;
    size_t *owner = malloc((size_t)tasks * sizeof *owner);
    if (!owner) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    for (uint64_t t = 0; t < tasks; t++)
        owner[t] = (size_t)-1;
    for (size_t i = 0; i < nf; i++) {
        if (owner[parts[i].task] != (size_t)-1) {
            pds_diag_add(diag, parts[i].path, 0, 0, "task %llu of %llu appears twice (also %s)",
                         (unsigned long long)parts[i].task, (unsigned long long)tasks,
                         parts[owner[parts[i].task]].path);
            bad = 1;
        } else {
            owner[parts[i].task] = i;
        }
    }
    for (uint64_t t = 0; t < tasks; t++)
        if (owner[t] == (size_t)-1) {
            pds_diag_add(diag, parts[0].path, 0, 0,
                         "part %llu of %llu is missing (expected part-%04llu-of-%04llu.h5): run "
                         "that task",
                         (unsigned long long)t, (unsigned long long)tasks, (unsigned long long)t,
                         (unsigned long long)tasks);
            bad = 1;
        }
    free(owner);
    if (bad) {
        st = PDS_ERR_INPUT;
        goto done;
    }
    int mrc;
    H5E_BEGIN_TRY
    {
        mrc = meta_read(parts[0].file, &m);
    }
    H5E_END_TRY;
    have_meta = 1;
    pds_sweep_stats all;
    uint64_t *seeds = NULL;
    if (mrc != 0) {
        pds_diag_add(diag, parts[0].path, 0, 0,
                     "cannot read the design, years or units (damaged part file?)");
        st = PDS_ERR_INPUT;
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t f0, e0;
        pds_sweep_task_points((size_t)m.n_points, (size_t)parts[i].task, (size_t)tasks, &f0, &e0);
        int ok = parts[i].first == f0 && parts[i].end == e0;
        H5E_BEGIN_TRY
        {
            ok = ok && points_shapes_ok(parts[i].file, e0 - f0, m.Y, m.U, 1);
        }
        H5E_END_TRY;
        if (!ok) {
            pds_diag_add(diag, parts[i].path, 0, 0,
                         "its points %llu..%llu or their datasets do not match the design of %s "
                         "(%llu points, %zu years, %zu units): damaged part file?",
                         (unsigned long long)parts[i].first, (unsigned long long)parts[i].end,
                         parts[0].path, (unsigned long long)m.n_points, m.Y, m.U);
            bad = 1;
        }
    }
    if (bad) {
        st = PDS_ERR_INPUT;
        goto done;
    }
    if (pds_sweep_stats_init(&all, (size_t)m.n_points, m.Y, m.U) != 0 ||
        !(seeds = malloc((size_t)m.n_points * sizeof *seeds))) {
        st = PDS_ERR_RUNTIME;
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t f0, e0;
        pds_sweep_task_points((size_t)m.n_points, (size_t)parts[i].task, (size_t)tasks, &f0, &e0);
        int rc = parts[i].first != f0 || parts[i].end != e0;
        H5E_BEGIN_TRY
        {
            rc = rc || read_part_rows(&parts[i], &m, &all, seeds);
        }
        H5E_END_TRY;
        if (rc) {
            pds_diag_add(diag, parts[i].path, 0, 0,
                         "cannot read its points %llu..%llu (damaged part file?)",
                         (unsigned long long)parts[i].first, (unsigned long long)parts[i].end);
            bad = 1;
        }
    }
    if (!bad && write_merged(out, &m, &all, seeds, diag) != 0)
        st = PDS_ERR_RUNTIME;
    else if (bad)
        st = PDS_ERR_INPUT;
    pds_sweep_stats_free(&all);
    free(seeds);
done:
    if (have_meta)
        meta_free(&m);
    for (size_t i = 0; parts && i < nf; i++)
        if (parts[i].file >= 0)
            H5Fclose(parts[i].file);
    for (size_t i = 0; i < nf; i++)
        free(files[i]);
    for (size_t i = 0; i < np; i++)
        free(partials[i]);
    free(files);
    free(partials);
    free(parts);
    pds_lock_release(lock);
    return st;
}

void pds_sweep_indices_free(pds_sweep_indices *ix)
{
    free_strs(ix->outputs, ix->n_outputs);
    free_strs(ix->params, ix->n_params);
    free(ix->first);
    free(ix->total);
    free(ix->used);
    memset(ix, 0, sizeof *ix);
}

int pds_sweep_indices_read(const char *path, pds_sweep_indices *ix)
{
    memset(ix, 0, sizeof *ix);
    int rc = -1;
    H5E_BEGIN_TRY
    {
        hid_t f = pds_h5_open_ro(path);
        if (f >= 0 && H5Lexists(f, "/sobol", H5P_DEFAULT) > 0) {
            ix->outputs = read_strs(f, "/sobol/outputs", &ix->n_outputs);
            ix->params = read_strs(f, "/design/names", &ix->n_params);
            size_t n = ix->n_outputs * ix->n_params * 3;
            ix->first = malloc((n + 1) * sizeof *ix->first);
            ix->total = malloc((n + 1) * sizeof *ix->total);
            rc = ix->outputs && ix->params && ix->first && ix->total &&
                         read_all(f, "/sobol/first_order", H5T_NATIVE_DOUBLE, n, ix->first) == 0 &&
                         read_all(f, "/sobol/total", H5T_NATIVE_DOUBLE, n, ix->total) == 0
                     ? 0
                     : -1;
            /* files written before the counts were recorded have none */
            size_t nu = ix->n_outputs * ix->n_params * 2;
            ix->used = rc == 0 && H5Lexists(f, "/sobol/bootstrap_used", H5P_DEFAULT) > 0
                           ? malloc((nu + 1) * sizeof *ix->used)
                           : NULL;
            if (ix->used &&
                read_all(f, "/sobol/bootstrap_used", H5T_NATIVE_UINT64, nu, ix->used) != 0)
                rc = -1;
            ix->bootstrap = 0;
            if (rc == 0 && H5Aexists(f, "bootstrap") > 0)
                pds_h5_attr_read_num(f, "bootstrap", H5T_NATIVE_INT64, &ix->bootstrap);
        }
        if (f >= 0)
            H5Fclose(f);
    }
    H5E_END_TRY;
    if (rc)
        pds_sweep_indices_free(ix);
    return rc;
}
