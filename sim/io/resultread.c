#define _POSIX_C_SOURCE 200809L
#include "resultread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5out.h"
#include "h5probe.h"
#include "sweep_h5.h"

static pds_status refuse(pds_diag *diag, const char *path, const char *what)
{
    pds_diag_add(diag, path, 0, 0, "%s", what);
    return PDS_ERR_INPUT;
}

static int has_all(hid_t f, const char *const *names)
{
    /* a missing group on the way makes H5Lexists fail (< 0): also absent */
    for (; *names; names++)
        if (H5Lexists(f, *names, H5P_DEFAULT) <= 0)
            return 0;
    return 1;
}

static pds_status check_sweep(const char *path, hid_t f, pds_diag *diag)
{
    static const char *const need[] = {"/design/names",
                                       "/design/points",
                                       "/years",
                                       "/provinces/code",
                                       "/points/national_adopted_mean",
                                       "/points/p_all_adopted",
                                       NULL};
    unsigned char complete = 0;
    int64_t fmt = 0;
    if (pds_h5_attr_read_num(f, "complete", H5T_NATIVE_UCHAR, &complete) != 0 || complete != 1)
        return refuse(diag, path,
                      "incomplete sweep file (expected the root attribute complete = 1; "
                      "is the sweep still running, or were its parts not merged?)");
    if (pds_h5_attr_read_num(f, "format_version", H5T_NATIVE_INT64, &fmt) != 0 || fmt != 1) {
        pds_diag_add(diag, path, 0, 0, "sweep format version %lld, expected 1", (long long)fmt);
        return PDS_ERR_INPUT;
    }
    if (!has_all(f, need))
        return refuse(
            diag, path,
            "missing datasets (expected /design/names, /design/points, /years, "
            "/provinces/code and /points/*, as pdsim merge writes them; see docs/sweep.md)");
    return PDS_OK;
}

static pds_status check_compare(const char *path, hid_t f, pds_diag *diag)
{
    static const char *const need[] = {"/compare/national_adopted_diff",
                                       "/compare/p_adopted_by_year_diff", "/compare/years",
                                       "/compare/province_code", NULL};
    unsigned char complete = 0;
    if (pds_h5_attr_read_num(f, "complete", H5T_NATIVE_UCHAR, &complete) != 0 || complete != 1)
        return refuse(diag, path,
                      "incomplete comparison file (expected the root attribute complete "
                      "= 1)");
    if (!has_all(f, need))
        return refuse(diag, path,
                      "missing datasets in /compare (expected the output of pdsim compare "
                      "-o, see docs/compare.md)");
    return PDS_OK;
}

static pds_file_kind kind_of(hid_t f)
{
    char k[64];
    if (pds_h5_attr_read_str(f, "kind", k, sizeof k) == 0) {
        if (strcmp(k, "sweep") == 0)
            return PDS_FILE_SWEEP;
        if (strcmp(k, "sweep-part") == 0)
            return PDS_FILE_PART;
    }
    return H5Lexists(f, "/compare", H5P_DEFAULT) > 0 ? PDS_FILE_COMPARE : PDS_FILE_RUN;
}

pds_file_kind pds_h5_file_kind(const char *path)
{
    pds_file_kind k = PDS_FILE_NONE;
    pds_h5_quiet q;
    pds_h5_quiet_begin(&q);
    hid_t f = access(path, R_OK) == 0 ? pds_h5_open_ro(path) : -1;
    if (f >= 0) {
        k = kind_of(f);
        H5Fclose(f);
    }
    pds_h5_quiet_end(&q);
    return k;
}

pds_status pds_h5_report_input(const char *path, pds_file_kind *kind, char *dataset, size_t size,
                               pds_diag *diag)
{
    if (access(path, R_OK) != 0)
        return refuse(diag, path,
                      "cannot read the file (expected a result file of pdsim run, "
                      "compare -o, or a sweep)");
    hid_t f = pds_h5_open_ro(path);
    if (f < 0)
        return refuse(diag, path,
                      "not an HDF5 file, or a damaged one (expected a result file of "
                      "pdsim run, compare -o, or a sweep)");
    int rc = -1;
    *kind = kind_of(f);
    if (*kind == PDS_FILE_SWEEP)
        rc = check_sweep(path, f, diag);
    else if (*kind == PDS_FILE_COMPARE)
        rc = check_compare(path, f, diag);
    else if (*kind == PDS_FILE_PART)
        rc = refuse(diag, path,
                    "a part file of a sweep (kind = sweep-part); merge the parts with "
                    "pdsim merge DIR -o SWEEP.h5 and report the merged file");
    H5Fclose(f);
    if (rc >= 0)
        return (pds_status)rc;
    /* a run's result: read as summary reads it (the summaries and the
     * units' names the report draws), so that a file the report's script
     * could not read is refused here */
    pds_runtables t;
    pds_status st = pds_runtables_open(path, &t, diag);
    if (st == PDS_OK)
        snprintf(dataset, size, "%s", t.h.dataset);
    pds_runtables_close(&t);
    return st;
}

void pds_runtables_close(pds_runtables *f)
{
    pds_h5_strings_free(f->name, f->U);
    pds_h5_strings_free(f->region, f->U);
    pds_h5_strings_free(f->name_en, f->U);
    pds_summary_free(f->sum);
    free(f->observed);
    free(f->years);
    free(f->p);
    free(f->levels);
    free(f->quant);
    free(f->mean);
    free(f->count);
    pds_h5result_close(&f->h);
}

static pds_status missing(pds_diag *diag, const char *path, const char *what)
{
    pds_diag_add(diag, path, 0, 0,
                 "cannot read %s (expected the summaries of a finished pdsim run, "
                 "see docs/output-format.md)",
                 what);
    return PDS_ERR_INPUT;
}

static pds_status oom(pds_diag *diag)
{
    pds_diag_add(diag, NULL, 0, 0, "out of memory");
    return PDS_ERR_RUNTIME;
}

pds_status pds_runtables_open(const char *path, pds_runtables *f, pds_diag *diag)
{
    memset(f, 0, sizeof *f);
    pds_diag d;
    pds_diag_init(&d);
    int rc = pds_h5result_open(path, &f->h, &d) != 0 ? 2 : 0;
    pds_file_kind kind = rc ? pds_h5_file_kind(path) : PDS_FILE_RUN;
    if (kind == PDS_FILE_SWEEP || kind == PDS_FILE_COMPARE) {
        pds_diag_add(diag, path, 0, 0, "%s, not a result file of pdsim run (pdsim report draws it)",
                     kind == PDS_FILE_SWEEP ? "a sweep file" : "a comparison file");
        pds_diag_free(&d);
        return PDS_ERR_INPUT;
    }
    for (size_t i = 0; i < d.n; i++)
        pds_diag_add(diag, NULL, 0, 0, "%s", d.msgs[i]);
    pds_diag_free(&d);
    if (rc)
        return PDS_ERR_INPUT;
    hid_t file = f->h.file;
    size_t U = f->U = f->h.n_units, Y = f->Y = (size_t)(f->h.last_year - f->h.first_year + 1);
    hsize_t dq[1] = {0};
    /* fails (< 0) when the dataset or its group is missing */
    hid_t ds = H5Dopen2(file, "/summary/national_adopted_quantiles", H5P_DEFAULT);
    if (ds >= 0) {
        hid_t sp = H5Dget_space(ds);
        if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1)
            H5Sget_simple_extent_dims(sp, dq, NULL);
        if (sp >= 0)
            H5Sclose(sp);
        H5Dclose(ds);
    }
    size_t Q = f->Q = (size_t)dq[0];
    if (Q < 1 || Q > 100)
        return missing(diag, path, "/summary/national_adopted_quantiles");
    f->observed = malloc(U * sizeof *f->observed);
    f->years = malloc(Y * sizeof *f->years);
    f->p = malloc(U * Y * sizeof *f->p);
    f->levels = malloc(Q * sizeof *f->levels);
    f->quant = malloc(Q * Y * sizeof *f->quant);
    f->mean = malloc(Y * sizeof *f->mean);
    f->count = malloc(Y * (U + 1) * sizeof *f->count);
    if (!f->observed || !f->years || !f->p || !f->levels || !f->quant || !f->mean || !f->count) {
        return oom(diag);
    }
    size_t n = U;
    if (pds_h5_read_strings(file, "/provinces/name", &n, &f->name) != 0)
        return missing(diag, path, "/provinces/name");
    n = U;
    if (pds_h5_read_strings(file, "/provinces/region", &n, &f->region) != 0)
        return missing(diag, path, "/provinces/region");
    hsize_t du[1] = {U}, dy[1] = {Y}, duy[2] = {U, Y}, dl[1] = {Q}, dqy[2] = {Q, Y};
    hsize_t dc[2] = {Y, U + 1};
    const struct {
        const char *name;
        hid_t type;
        int rank;
        const hsize_t *dims;
        void *out;
    } sets[] = {
        {"/provinces/observed_adoption_year", H5T_NATIVE_INT16, 1, du, f->observed},
        {"/years", H5T_NATIVE_INT16, 1, dy, f->years},
        {"/summary/p_adopted_by_year", H5T_NATIVE_DOUBLE, 2, duy, f->p},
        {"/summary/national_adopted_quantiles", H5T_NATIVE_DOUBLE, 1, dl, f->levels},
        {"/summary/national_adopted", H5T_NATIVE_DOUBLE, 2, dqy, f->quant},
        {"/summary/national_adopted_mean", H5T_NATIVE_DOUBLE, 1, dy, f->mean},
        {"/summary/national_adopted_count", H5T_NATIVE_UINT64, 2, dc, f->count},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (pds_h5_read_dataset(file, sets[i].name, sets[i].type, sets[i].rank, sets[i].dims,
                                sets[i].out) != 0) {
            char what[160];
            if (sets[i].rank > 1)
                snprintf(what, sizeof what, "%s of shape [%llu x %llu]", sets[i].name,
                         (unsigned long long)sets[i].dims[0], (unsigned long long)sets[i].dims[1]);
            else
                snprintf(what, sizeof what, "%s of shape [%llu]", sets[i].name,
                         (unsigned long long)sets[i].dims[0]);
            return missing(diag, path, what);
        }
    for (size_t k = 0; k < Y; k++)
        if (f->years[k] != f->h.first_year + (int64_t)k)
            return missing(diag, path, "/years (expected first_year .. last_year)");
    /* levels name the CSV columns (q05 ..): probabilities, nothing else */
    for (size_t i = 0; i < Q; i++)
        if (!(f->levels[i] >= 0.0 && f->levels[i] <= 1.0))
            return missing(diag, path, "/summary/national_adopted_quantiles (levels in 0..1)");
    /* files written before names in English were stored have none */
    n = U;
    if (pds_h5_read_strings(file, "/provinces/name_en", &n, &f->name_en) != 0) {
        f->name_en = calloc(U + 1, sizeof *f->name_en);
        for (size_t u = 0; f->name_en && u < U; u++)
            f->name_en[u] = strdup("");
    }
    /* the run's report years, from the settings it stored */
    char *cfg = malloc(1 << 16);
    if (cfg && pds_h5_attr_read_str(file, "config_resolved", cfg, 1 << 16) == 0) {
        const char *ry = strstr(cfg, "\nreport_years: [");
        for (const char *q = ry ? ry + 15 : NULL; q && *q && *q != ']' && f->n_report_years < 16;) {
            char *end;
            long v = strtol(q + 1, &end, 10);
            if (end == q + 1)
                break;
            if (v >= f->h.first_year && v <= f->h.last_year)
                f->report_years[f->n_report_years++] = v;
            q = end;
        }
    }
    free(cfg);
    if (f->n_report_years == 0) {
        /* as a config without report_years: three spread to the horizon */
        long span = (long)Y, step = span >= 3 ? span / 3 : 1;
        for (long yv = (long)f->h.last_year; yv >= f->h.first_year && f->n_report_years < 3;
             yv -= step)
            f->report_years[f->n_report_years++] = yv;
        for (size_t i = 0; i < f->n_report_years / 2; i++) {
            long t = f->report_years[i];
            f->report_years[i] = f->report_years[f->n_report_years - 1 - i];
            f->report_years[f->n_report_years - 1 - i] = t;
        }
    }
    /* the run counts behind the probabilities: p = runs / n_runs exactly */
    f->sum = pds_summary_create(U, Y, (int)f->h.first_year);
    if (!f->name_en || !f->sum) {
        return oom(diag);
    }
    f->sum->n_runs = f->h.n_runs;
    for (size_t i = 0; i < U * Y; i++)
        f->sum->adopted_by_year[i] = (uint64_t)llround(f->p[i] * (double)f->h.n_runs);
    memcpy(f->sum->national_hist, f->count, Y * (U + 1) * sizeof *f->count);
    return PDS_OK;
}

void pds_sweepfile_free(pds_sweepfile *s)
{
    pds_h5_strings_free(s->names, s->P);
    pds_h5_strings_free(s->codes, s->U);
    free(s->points);
    free(s->levels);
    free(s->mean);
    free(s->quant);
    free(s->p_all);
    free(s->median);
    free(s->seed);
    memset(s, 0, sizeof *s);
}

pds_status pds_sweepfile_read(const char *path, pds_sweepfile *s, pds_diag *diag)
{
    memset(s, 0, sizeof *s);
    hid_t f = pds_h5_open_ro(path);
    char kind[32] = "";
    unsigned char complete = 0;
    int ok = f >= 0 && pds_h5_attr_read_str(f, "kind", kind, sizeof kind) == 0;
    if (ok && strcmp(kind, "sweep-part") == 0) {
        pds_diag_add(diag, path, 0, 0,
                     "a part file of a sweep: merge the parts first (pdsim merge, "
                     "or pdsim sweep SWEEP.yaml --merge)");
        H5Fclose(f);
        return PDS_ERR_INPUT;
    }
    if (ok && strcmp(kind, "sweep") == 0 &&
        (pds_h5_attr_read_num(f, "complete", H5T_NATIVE_UCHAR, &complete) != 0 || complete != 1)) {
        pds_diag_add(diag, path, 0, 0, "an incomplete sweep file (complete is not 1)");
        H5Fclose(f);
        return PDS_ERR_INPUT;
    }
    ok = ok && strcmp(kind, "sweep") == 0 &&
         pds_h5_attr_read_num(f, "n_points", H5T_NATIVE_UINT64, &s->n_points) == 0 &&
         pds_h5_attr_read_num(f, "runs_per_point", H5T_NATIVE_UINT64, &s->runs) == 0 &&
         pds_h5_attr_read_num(f, "first_year", H5T_NATIVE_INT64, &s->first_year) == 0 &&
         pds_h5_attr_read_num(f, "last_year", H5T_NATIVE_INT64, &s->last_year) == 0 &&
         pds_h5_attr_read_str(f, "design", s->design, sizeof s->design) == 0 && s->n_points > 0 &&
         s->n_points <= 10000000 && s->last_year >= s->first_year &&
         s->last_year - s->first_year < 1000 &&
         pds_h5_read_strings(f, "/design/names", &s->P, &s->names) == 0 && s->P > 0 &&
         s->P <= 1000 && pds_h5_read_strings(f, "/provinces/code", &s->U, &s->codes) == 0 &&
         s->U > 0 && s->U <= 100000;
    if (ok) {
        size_t n = (size_t)s->n_points;
        s->Y = (size_t)(s->last_year - s->first_year + 1);
        s->Q = pds_n_national_quantiles;
        hsize_t dp[2] = {n, s->P}, dq[1] = {s->Q}, dm[2] = {n, s->Y}, dqq[3] = {n, s->Q, s->Y},
                d1[1] = {n}, du[2] = {n, s->U};
        s->points = malloc(n * s->P * sizeof *s->points);
        s->levels = malloc(s->Q * sizeof *s->levels);
        s->mean = malloc(n * s->Y * sizeof *s->mean);
        s->quant = malloc(n * s->Q * s->Y * sizeof *s->quant);
        s->p_all = malloc(n * sizeof *s->p_all);
        s->median = malloc(n * s->U * sizeof *s->median);
        s->seed = malloc(n * sizeof *s->seed);
        ok = s->points && s->levels && s->mean && s->quant && s->p_all && s->median && s->seed &&
             pds_h5_read_dataset(f, "/design/points", H5T_NATIVE_DOUBLE, 2, dp, s->points) == 0 &&
             pds_h5_read_dataset(f, "/points/quantile_levels", H5T_NATIVE_DOUBLE, 1, dq,
                                 s->levels) == 0 &&
             pds_h5_read_dataset(f, "/points/national_adopted_mean", H5T_NATIVE_DOUBLE, 2, dm,
                                 s->mean) == 0 &&
             pds_h5_read_dataset(f, "/points/national_adopted_quantiles", H5T_NATIVE_DOUBLE, 3, dqq,
                                 s->quant) == 0 &&
             pds_h5_read_dataset(f, "/points/p_all_adopted", H5T_NATIVE_DOUBLE, 1, d1, s->p_all) ==
                 0 &&
             pds_h5_read_dataset(f, "/points/median_year", H5T_NATIVE_DOUBLE, 2, du, s->median) ==
                 0 &&
             pds_h5_read_dataset(f, "/points/seed", H5T_NATIVE_UINT64, 1, d1, s->seed) == 0;
        for (size_t q = 0; ok && q < s->Q; q++)
            ok = s->levels[q] >= 0.0 && s->levels[q] <= 1.0;
    }
    if (f >= 0)
        H5Fclose(f);
    if (!ok) {
        pds_diag_add(diag, path, 0, 0,
                     "cannot read it as a complete merged sweep file (see "
                     "docs/sweep.md)");
        pds_sweepfile_free(s);
        return PDS_ERR_INPUT;
    }
    return PDS_OK;
}
