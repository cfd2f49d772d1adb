#include <math.h>
#include "h5util.h"
#include "h5probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/world.h"
#include "h5out.h"

static hid_t file_access(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

hid_t pds_h5_file_create(const char *path)
{
    hid_t fapl = file_access();
    if (fapl < 0)
        return -1;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return f;
}

/* The inode behind an open HDF5 file (default sec2 driver: a POSIX fd). */
static int file_id(hid_t f, pds_fileid *id)
{
    int *fdp = NULL;
    struct stat st;
    if (H5Fget_vfd_handle(f, H5P_DEFAULT, (void **)&fdp) < 0 || !fdp || fstat(*fdp, &st) != 0)
        return -1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return 0;
}

hid_t pds_h5_file_create_excl(const char *path, pds_fileid *id)
{
    hid_t fapl = file_access();
    if (fapl < 0)
        return -1;
    /* H5F_ACC_EXCL opens with O_CREAT|O_EXCL: an existing name, a link
     * included, makes it fail and is never written through */
    hid_t f = H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f >= 0 && file_id(f, id) != 0) {
        H5Fclose(f);
        unlink(path);
        return -1;
    }
    return f;
}

hid_t pds_h5_create_tmp(const char *dest, char **tmp, pds_fileid *id)
{
    *tmp = NULL;
    for (unsigned k = 0; k < 100; k++) {
        char *name = pds_out_tmp_name(dest, k);
        if (!name)
            return -1;
        hid_t f = pds_h5_file_create_excl(name, id);
        if (f >= 0) {
            *tmp = name;
            return f;
        }
        struct stat st;
        int taken = lstat(name, &st) == 0;
        free(name);
        if (!taken)
            return -1;
    }
    return -1;
}

hid_t pds_h5_file_open_rw_checked(const char *path, pds_fileid *id)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || pds_h5_probe(path) != PDS_H5PROBE_OK)
        return -1;
    hid_t f = pds_h5_file_open_rw(path);
    if (f >= 0 && (file_id(f, id) != 0 || id->dev != st.st_dev || id->ino != st.st_ino)) {
        H5Fclose(f);
        return -1;
    }
    return f;
}

hid_t pds_h5_file_open_rw(const char *path)
{
    hid_t fapl = file_access();
    if (fapl < 0)
        return -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    return f;
}

int pds_h5_attr_write_str(hid_t obj, const char *name, const char *val)
{
    if (!val)
        val = "";
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, *val ? strlen(val) : 1);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, *val ? val : "");
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return e < 0 ? -1 : 0;
}

int pds_h5_attr_write_num(hid_t obj, const char *name, hid_t type, const void *val)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, type, val);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return e < 0 ? -1 : 0;
}

/* The string attribute name of obj, read in its stored character set:
 * owned, or NULL when absent, not a string or out of memory. */
static char *attr_dup_str(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    hid_t t = H5Aget_type(a);
    char *out = NULL;
    if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        /* HDF5 does not convert between character sets: read in the stored one */
        H5Tset_cset(mt, H5Tget_cset(t));
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &s) >= 0 && s)
                out = strdup(s);
            if (s)
                H5free_memory(s);
        } else {
            size_t n = H5Tget_size(t);
            char *buf = n > 0 && n <= ((size_t)64 << 20) ? calloc(n + 1, 1) : NULL;
            H5Tset_size(mt, n);
            /* read the stored padding as it is: converting a null-padded
             * string (h5py's) to a null-terminated one of the same size
             * would drop its last character */
            H5Tset_strpad(mt, H5Tget_strpad(t));
            if (buf && H5Aread(a, mt, buf) >= 0) {
                out = buf;
                buf = NULL;
            }
            free(buf);
        }
        H5Tclose(mt);
    }
    if (t >= 0)
        H5Tclose(t);
    H5Aclose(a);
    return out;
}

int pds_h5_attr_read_str(hid_t obj, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    char *s = attr_dup_str(obj, name);
    if (!s)
        return -1;
    snprintf(out, size, "%s", s);
    free(s);
    return 0;
}

int pds_h5_attr_read_num(hid_t obj, const char *name, hid_t type, void *out)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    herr_t e = H5Aread(a, type, out);
    H5Aclose(a);
    return e < 0 ? -1 : 0;
}

int pds_h5_write_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                         const void *data, const char *description)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int e = d < 0 || H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ||
            pds_h5_attr_write_str(d, "description", description) != 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(sp);
    return e ? -1 : 0;
}

int pds_h5_rows(hid_t d, hid_t type, uint64_t first, size_t n, size_t cols, void *buf, int write)
{
    if (cols == 0 || n == 0)
        return 0;
    hid_t fs = H5Dget_space(d);
    if (fs < 0)
        return -1;
    hsize_t start[2] = {first, 0}, count[2] = {n, cols};
    herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(2, count, NULL);
    if (e >= 0)
        e = write ? H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf)
                  : H5Dread(d, type, ms, fs, H5P_DEFAULT, buf);
    H5Sclose(ms);
    H5Sclose(fs);
    return e < 0 ? -1 : 0;
}

void pds_h5result_close(pds_h5result *h)
{
    pds_h5_strings_free(h->codes, h->n_units);
    if (h->runs >= 0)
        H5Dclose(h->runs);
    if (h->file >= 0)
        H5Fclose(h->file);
    h->codes = NULL;
    h->runs = h->file = -1;
}

static int bad(pds_diag *diag, const char *path, const char *what)
{
    pds_diag_add(diag, path, 0, 0, "%s", what);
    return PDS_ERR_INPUT;
}

static int read_codes(pds_h5result *h, pds_diag *diag)
{
    if (H5Lexists(h->file, "/provinces", H5P_DEFAULT) <= 0 ||
        H5Lexists(h->file, "/provinces/code", H5P_DEFAULT) <= 0)
        return bad(diag, h->path, "no /provinces/code (expected a result file of pdsim run)");
    h->n_units = 0;
    if (pds_h5_read_strings(h->file, "/provinces/code", &h->n_units, &h->codes) != 0 ||
        h->n_units > PDS_MAX_UNITS)
        return bad(diag, h->path, "cannot read /provinces/code (expected one string per unit)");
    return 0;
}

/* The dataset's storage holds all of its n elements of size bytes: every
 * chunk is written, or a contiguous dataset has its full size. A file whose
 * shape claims more rows than it stores is refused before anything is read
 * or sized from the claim. */
static int storage_complete(hid_t d, hsize_t n, size_t size)
{
    hid_t dcpl = H5Dget_create_plist(d), sp = H5Dget_space(d);
    int ok = 0;
    if (dcpl >= 0 && sp >= 0) {
        H5D_layout_t layout = H5Pget_layout(dcpl);
        if (layout == H5D_CHUNKED) {
            hsize_t dims[2] = {0, 0}, chunk[2] = {0, 0}, have = 0;
            if (H5Sget_simple_extent_dims(sp, dims, NULL) == 2 &&
                H5Pget_chunk(dcpl, 2, chunk) == 2 && chunk[0] > 0 && chunk[1] > 0 &&
                H5Dget_num_chunks(d, sp, &have) >= 0)
                ok = have == ((dims[0] + chunk[0] - 1) / chunk[0]) *
                                 ((dims[1] + chunk[1] - 1) / chunk[1]);
        } else if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) {
            ok = H5Dget_storage_size(d) == n * size;
        }
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (sp >= 0)
        H5Sclose(sp);
    return ok;
}

/* A per-run adoption-year dataset: integers of shape [runs x cols], all of
 * them stored. */
static int year_rows_ok(hid_t d, uint64_t runs, size_t cols)
{
    hid_t sp = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[2] = {0, 0};
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 &&
             H5Sget_simple_extent_dims(sp, dims, NULL) == 2 && dims[0] == runs && dims[1] == cols &&
             t >= 0 && H5Tget_class(t) == H5T_INTEGER &&
             storage_complete(d, dims[0] * dims[1], H5Tget_size(t));
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return ok;
}

int pds_h5result_open(const char *path, pds_h5result *h, pds_diag *diag)
{
    memset(h, 0, sizeof *h);
    h->path = path;
    h->file = h->runs = -1;
    if (access(path, R_OK) != 0)
        return bad(diag, path, "cannot read the file (expected a result file of pdsim run)");
    h->file = pds_h5_open_ro(path);
    if (h->file < 0)
        return bad(diag, path,
                   "not an HDF5 file, or a damaged one (expected a result file of pdsim run)");
    unsigned char complete = 0;
    if (pds_h5_attr_read_num(h->file, "complete", H5T_NATIVE_UCHAR, &complete) != 0 ||
        complete != 1)
        return bad(diag, path,
                   "incomplete result file (expected the root attribute complete = "
                   "1; was the run interrupted?)");
    int64_t fmt = 0;
    if (pds_h5_attr_read_num(h->file, "format_version", H5T_NATIVE_INT64, &fmt) != 0)
        return bad(diag, path, "no format_version attribute (expected format version 1)");
    if (fmt != PDS_FORMAT_VERSION) {
        pds_diag_add(diag, path, 0, 0, "format version %lld, expected %d", (long long)fmt,
                     PDS_FORMAT_VERSION);
        return PDS_ERR_INPUT;
    }
    if (pds_h5_attr_read_num(h->file, "seed", H5T_NATIVE_UINT64, &h->seed) ||
        pds_h5_attr_read_num(h->file, "n_runs", H5T_NATIVE_UINT64, &h->n_runs) ||
        pds_h5_attr_read_num(h->file, "first_year", H5T_NATIVE_INT64, &h->first_year) ||
        pds_h5_attr_read_num(h->file, "last_year", H5T_NATIVE_INT64, &h->last_year) ||
        pds_h5_attr_read_num(h->file, "base_year", H5T_NATIVE_INT64, &h->base_year))
        return bad(diag, path,
                   "missing root attributes (expected seed, n_runs, first_year, "
                   "last_year, base_year)");
    /* the limits of a run config: a file claiming more is damaged or forged,
     * and nothing is sized from it */
    if (h->n_runs < 1 || h->n_runs > PDS_RESULT_MAX_RUNS || h->base_year < 1000 ||
        h->last_year > 3000 || h->last_year < h->first_year || h->base_year >= h->first_year)
        return bad(diag, path,
                   "bad root attributes (expected 1 <= n_runs <= 10^9 and "
                   "1000 <= base_year < first_year <= last_year <= 3000)");
    pds_h5_attr_read_str(h->file, "dataset", h->dataset, sizeof h->dataset);
    if (pds_h5_attr_read_str(h->file, "dataset_hash", h->dataset_hash, sizeof h->dataset_hash))
        h->dataset_hash[0] = '\0';
    if (pds_h5_attr_read_str(h->file, "input_hash", h->input_hash, sizeof h->input_hash))
        h->input_hash[0] = '\0';
    pds_h5_attr_read_str(h->file, "model", h->model, sizeof h->model);
    /* files without the attribute predate coefficient uncertainty */
    if (pds_h5_attr_read_str(h->file, "uncertainty", h->uncertainty, sizeof h->uncertainty) != 0)
        snprintf(h->uncertainty, sizeof h->uncertainty, "none");
    int rc = read_codes(h, diag);
    if (rc)
        return rc;
    h->runs = H5Dopen2(h->file, "/runs/province_adoption_year", H5P_DEFAULT);
    if (h->runs < 0)
        return bad(diag, path,
                   "no /runs/province_adoption_year (expected a result file of pdsim run)");
    if (!year_rows_ok(h->runs, h->n_runs, h->n_units)) {
        pds_diag_add(diag, path, 0, 0,
                     "/runs/province_adoption_year: expected integers of shape [n_runs = %llu "
                     "x units = %zu], all of them stored",
                     (unsigned long long)h->n_runs, h->n_units);
        return PDS_ERR_INPUT;
    }
    return 0;
}

/* Rows [first, first + n) of the adoption-year dataset d (named name in
 * messages) with cols columns into buf, each code checked. */
static int read_year_rows(const pds_h5result *h, hid_t d, const char *name, size_t cols,
                          uint64_t first, size_t n, int16_t *buf, pds_diag *diag)
{
    if (pds_h5_rows(d, H5T_NATIVE_INT16, first, n, cols, buf, 0) != 0) {
        pds_diag_add(diag, h->path, 0, 0, "cannot read %s (damaged file?)", name);
        return PDS_ERR_INPUT;
    }
    for (size_t i = 0; i < n * cols; i++)
        if (buf[i] > h->last_year) {
            pds_diag_add(diag, h->path, 0, 0,
                         "%s: run %llu has year %d after last_year %lld (expected 0, a year <= "
                         "last_year, or negative)",
                         name, (unsigned long long)(first + i / cols), buf[i],
                         (long long)h->last_year);
            return PDS_ERR_INPUT;
        }
    return 0;
}

int pds_h5result_read_years(const pds_h5result *h, uint64_t first, size_t n, int16_t *buf,
                            pds_diag *diag)
{
    return read_year_rows(h, h->runs, "/runs/province_adoption_year", h->n_units, first, n, buf,
                          diag);
}

void pds_h5subunits_close(pds_h5subunits *s)
{
    pds_h5_strings_free(s->codes, s->n);
    pds_h5_strings_free(s->names, s->n);
    pds_h5_strings_free(s->unit_codes, s->n);
    free(s->parent);
    if (s->runs >= 0)
        H5Dclose(s->runs);
    memset(s, 0, sizeof *s);
    s->runs = -1;
}

/* The first of the names (the current one, then that of earlier versions)
 * that h holds, or NULL. */
static const char *first_held(const pds_h5result *h, const char *now, const char *before)
{
    return pds_h5result_has(h, now) ? now : pds_h5result_has(h, before) ? before : NULL;
}

int pds_h5result_subunits_open(const pds_h5result *h, pds_h5subunits *s, int *present,
                               pds_diag *diag)
{
    memset(s, 0, sizeof *s);
    s->runs = -1;
    *present = 0;
    const char *runs = first_held(h, "/runs/subunit_adoption_year", "/runs/city_adoption_year");
    if (!runs)
        return 0;
    *present = 1;
    const char *code = first_held(h, "/subunits/code", "/cities/code"),
               *name = first_held(h, "/subunits/name", "/cities/name"),
               *parent = first_held(h, "/subunits/unit_code", "/cities/province_code");
    if (!code || pds_h5_read_strings(h->file, code, &s->n, &s->codes) != 0 ||
        s->n > PDS_MAX_SUBUNITS) {
        s->n = 0;
        return bad(diag, h->path,
                   "cannot read /subunits/code (expected one string per sub-unit beside "
                   "/runs/subunit_adoption_year)");
    }
    if (!name || pds_h5_read_strings(h->file, name, &s->n, &s->names) != 0 || !parent ||
        pds_h5_read_strings(h->file, parent, &s->n, &s->unit_codes) != 0)
        return bad(diag, h->path,
                   "cannot read /subunits/name and /subunits/unit_code (expected one string "
                   "per sub-unit)");
    s->parent = malloc(s->n * sizeof *s->parent);
    if (!s->parent) {
        pds_diag_add(diag, h->path, 0, 0, "out of memory");
        return PDS_ERR_RUNTIME;
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t u = 0;
        while (u < h->n_units && strcmp(h->codes[u], s->unit_codes[i]) != 0)
            u++;
        if (u == h->n_units) {
            pds_diag_add(diag, h->path, 0, 0,
                         "/subunits/unit_code[%zu]: \"%s\" is not a code in /provinces/code "
                         "(expected the code of the sub-unit's unit)",
                         i, s->unit_codes[i]);
            return PDS_ERR_INPUT;
        }
        s->parent[i] = u;
    }
    s->runs = H5Dopen2(h->file, runs, H5P_DEFAULT);
    if (s->runs < 0 || !year_rows_ok(s->runs, h->n_runs, s->n)) {
        pds_diag_add(diag, h->path, 0, 0,
                     "%s: expected integers of shape [n_runs = %llu x sub-units = %zu], all of "
                     "them stored",
                     runs, (unsigned long long)h->n_runs, s->n);
        return PDS_ERR_INPUT;
    }
    return 0;
}

int pds_h5subunits_read_years(const pds_h5result *h, const pds_h5subunits *s, uint64_t first,
                              size_t n, int16_t *buf, pds_diag *diag)
{
    return read_year_rows(h, s->runs, "/runs/subunit_adoption_year", s->n, first, n, buf, diag);
}

int pds_h5_read_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                        void *out)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t have[8];
    int ok = sp >= 0 && rank <= 8 && H5Sget_simple_extent_ndims(sp) == rank &&
             H5Sget_simple_extent_dims(sp, have, NULL) == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = have[i] == dims[i];
    if (ok)
        ok = H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return ok ? 0 : -1;
}

void pds_h5_strings_free(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        if (s[i])
            H5free_memory(s[i]);
    free(s);
}

/* Fixed-length strings: each one copied into memory of HDF5's allocator, so
 * that both kinds are freed the same way by pds_h5_strings_free. */
static int read_fixed_strings(hid_t d, hid_t ft, size_t len, char **s)
{
    size_t size = H5Tget_size(ft);
    if (size == 0 || size > 65536 || len > ((size_t)64 << 20) / size)
        return -1;
    char *buf = malloc(len * size);
    hid_t mt = H5Tcopy(ft);
    int rc = buf && mt >= 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        s[i] = H5allocate_memory(size + 1, 0);
        if (!s[i]) {
            rc = -1;
            break;
        }
        memcpy(s[i], buf + i * size, size);
        s[i][size] = '\0';
    }
    if (mt >= 0)
        H5Tclose(mt);
    free(buf);
    return rc;
}

int pds_h5_read_strings(hid_t loc, const char *name, size_t *n, char ***out)
{
    *out = NULL;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d), ft = H5Dget_type(d);
    hssize_t len =
        sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 ? H5Sget_simple_extent_npoints(sp) : -1;
    int rc = -1;
    char **s = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && len > 0 && len < 1000000 &&
        (*n == 0 || (size_t)len == *n))
        s = calloc((size_t)len, sizeof(char *));
    if (s && H5Tis_variable_str(ft) > 0) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0)
            rc = 0;
        for (hssize_t i = 0; rc == 0 && i < len; i++)
            if (!s[i])
                rc = -1;
        H5Tclose(t);
    } else if (s) {
        rc = read_fixed_strings(d, ft, (size_t)len, s);
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    if (rc) {
        pds_h5_strings_free(s, len > 0 ? (size_t)len : 0);
        return -1;
    }
    *n = (size_t)len;
    *out = s;
    return 0;
}

hid_t pds_h5_fixed_strings(const char *const *s, size_t n, char **packed)
{
    size_t size = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] && strlen(s[i]) + 1 > size)
            size = strlen(s[i]) + 1;
    *packed = calloc(n ? n : 1, size);
    hid_t t = *packed ? H5Tcopy(H5T_C_S1) : -1;
    if (t < 0 || H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        if (t >= 0)
            H5Tclose(t);
        free(*packed);
        *packed = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (s[i])
            memcpy(*packed + i * size, s[i], strlen(s[i]));
    return t;
}

int pds_h5_write_strings(hid_t loc, const char *name, const char *const *s, size_t n,
                         const char *description)
{
    char *packed;
    hid_t t = pds_h5_fixed_strings(s, n, &packed);
    if (t < 0)
        return -1;
    hsize_t dims[1] = {n};
    int rc = pds_h5_write_dataset(loc, name, t, 1, dims, packed, description);
    H5Tclose(t);
    free(packed);
    return rc;
}

void pds_h5result_reliability(const pds_h5result *h, pds_insample *q, char *prov, size_t size)
{
    memset(q, 0, sizeof *q);
    prov[0] = '\0';
    if (H5Lexists(h->file, "/reliability", H5P_DEFAULT) <= 0)
        return;
    hid_t g = H5Gopen2(h->file, "/reliability", H5P_DEFAULT);
    if (g < 0)
        return;
    pds_h5_attr_read_str(g, "data_provenance", prov, size);
    hid_t dy = H5Lexists(g, "insample_years", H5P_DEFAULT) > 0
                   ? H5Dopen2(g, "insample_years", H5P_DEFAULT)
                   : -1;
    hid_t dv = H5Lexists(g, "insample", H5P_DEFAULT) > 0 ? H5Dopen2(g, "insample", H5P_DEFAULT)
                                                          : -1;
    hsize_t a[2] = {0, 0}, b[2] = {0, 0};
    hid_t sa = dy >= 0 ? H5Dget_space(dy) : -1, sb = dv >= 0 ? H5Dget_space(dv) : -1;
    int ok = sa >= 0 && sb >= 0 && H5Sget_simple_extent_ndims(sa) == 2 &&
             H5Sget_simple_extent_ndims(sb) == 2;
    if (ok) {
        H5Sget_simple_extent_dims(sa, a, NULL);
        H5Sget_simple_extent_dims(sb, b, NULL);
        ok = a[0] == b[0] && a[0] >= 2 && a[0] <= PDS_INSAMPLE_PERIODS + 1 && a[1] == 2 &&
             b[1] == 5;
    }
    int32_t yr[2 * (PDS_INSAMPLE_PERIODS + 1)];
    double v[5 * (PDS_INSAMPLE_PERIODS + 1)];
    if (ok && H5Dread(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, yr) >= 0 &&
        H5Dread(dv, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
        q->n_periods = (size_t)a[0] - 1;
        for (size_t i = 0; i < a[0]; i++) {
            pds_insample_period *p = &q->period[i];
            p->first = yr[2 * i];
            p->last = yr[2 * i + 1];
            p->at_risk = v[5 * i] >= 0 && v[5 * i] < 1e15 ? (size_t)v[5 * i] : 0;
            p->observed = v[5 * i + 1];
            p->expected = v[5 * i + 2];
            p->sd = v[5 * i + 3];
            p->z = v[5 * i + 4];
            if (i < q->n_periods && !(fabs(p->z) <= 2))
                q->worst_abs_z_over_2 = 1;
        }
    }
    if (sa >= 0)
        H5Sclose(sa);
    if (sb >= 0)
        H5Sclose(sb);
    if (dy >= 0)
        H5Dclose(dy);
    if (dv >= 0)
        H5Dclose(dv);
    H5Gclose(g);
}

void pds_h5result_backtest(const pds_h5result *h, pds_backtest_reliability *bt)
{
    memset(bt, 0, sizeof *bt);
    if (H5Lexists(h->file, "/reliability", H5P_DEFAULT) <= 0)
        return;
    hid_t g = H5Gopen2(h->file, "/reliability", H5P_DEFAULT);
    if (g < 0)
        return;
    double v[PDS_REL_FC * 10];
    int32_t meta[5];
    hsize_t d[2] = {PDS_REL_FC, 10}, d5[1] = {5};
    uint64_t runs = 0;
    if (H5Lexists(g, "backtest", H5P_DEFAULT) > 0 &&
        H5Lexists(g, "backtest_setup", H5P_DEFAULT) > 0 &&
        pds_h5_read_dataset(g, "backtest", H5T_NATIVE_DOUBLE, 2, d, v) == 0 &&
        pds_h5_read_dataset(g, "backtest_setup", H5T_NATIVE_INT32, 1, d5, meta) == 0 &&
        pds_h5_attr_read_num(g, "backtest_runs", H5T_NATIVE_UINT64, &runs) == 0 &&
        meta[0] >= 1000 && meta[0] <= meta[1] && meta[1] <= 3000 && meta[3] >= 0 &&
        meta[4] >= 0) {
        bt->first_cutoff = meta[0];
        bt->last_cutoff = meta[1];
        bt->refit = meta[2] != 0;
        bt->unit_years = (size_t)meta[3];
        bt->units = (size_t)meta[4];
        bt->runs = runs;
        for (size_t k = 0; k < PDS_REL_FC; k++) {
            for (int sc = 0; sc < PDS_SC_N; sc++) {
                bt->score[k][sc] = v[10 * k + sc];
                bt->diff[k][sc] = v[10 * k + 3 + 2 * sc];
                bt->diff_se[k][sc] = v[10 * k + 4 + 2 * sc];
            }
            bt->stacking[k] = v[10 * k + 9];
        }
    }
    H5Gclose(g);
}

int pds_h5result_unit_strings(const pds_h5result *h, const char *field, char ***out)
{
    char path[128];
    snprintf(path, sizeof path, "/provinces/%s", field);
    size_t n = h->n_units;
    *out = NULL;
    return pds_h5_read_strings(h->file, path, &n, out) == 0 ? 0 : -1;
}

char *pds_h5result_config(const pds_h5result *h)
{
    return attr_dup_str(h->file, "config_resolved");
}

int pds_h5result_has(const pds_h5result *h, const char *path)
{
    /* a missing group on the way makes H5Lexists fail (< 0): also absent */
    return h->file >= 0 && H5Lexists(h->file, path, H5P_DEFAULT) > 0;
}

void pds_h5_quiet_begin(pds_h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void pds_h5_quiet_end(const pds_h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

void pds_h5_init(void)
{
    H5dont_atexit();
}
