/* Small HDF5 helpers shared by the result writer and every reader of
 * result files (compare, merge, summary, backtest): attributes, whole
 * datasets with a description, row blocks, and the checked opening of a
 * finished result file of pdsim run. */
#ifndef PDS_H5UTIL_H
#define PDS_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/diag.h"
#include "../core/compare_fc.h"
#include "../core/insample.h"
#include "outfile.h"

/* Create (truncating) or reopen for writing a file of pdsim in the file
 * format of HDF5 1.10 and later, whose superblock, object headers, B-trees
 * and heaps of names carry checksums: damaged metadata is then refused by
 * the library instead of being trusted. Every file pdsim writes goes
 * through these. A file id, or a negative value (HDF5 error stack left to
 * the caller). */
hid_t pds_h5_file_create(const char *path);
hid_t pds_h5_file_open_rw(const char *path);
/* Create path only if nothing (not even a link) is there, and record its
 * inode in id; -1 otherwise (sim/io/outfile.h). */
hid_t pds_h5_file_create_excl(const char *path, pds_fileid *id);
/* A new HDF5 file under a temporary name beside dest (pds_out_tmp_name,
 * created exclusively); *tmp owned. -1 on failure. */
hid_t pds_h5_create_tmp(const char *dest, char **tmp, pds_fileid *id);
/* Open path for writing only when it is a regular file (not a link) and
 * the file opened is the one at the name; its inode in id. */
hid_t pds_h5_file_open_rw_checked(const char *path, pds_fileid *id);

/* Scalar attributes. Strings are written fixed-length UTF-8 and read in
 * either storage kind. Each returns 0, or -1 (absent, wrong kind, error). */
int pds_h5_attr_write_str(hid_t obj, const char *name, const char *val);
int pds_h5_attr_write_num(hid_t obj, const char *name, hid_t type, const void *val);
int pds_h5_attr_read_str(hid_t obj, const char *name, char *out, size_t size);
int pds_h5_attr_read_num(hid_t obj, const char *name, hid_t type, void *out);

/* Create loc/name, contiguous, write all of data and a `description`
 * attribute. 0 or -1. */
int pds_h5_write_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                         const void *data, const char *description);

/* Read (write = 0) or write rows [first, first + n) of a 2-D dataset with
 * cols columns, to or from buf in memory type type. 0 or -1. */
int pds_h5_rows(hid_t d, hid_t type, uint64_t first, size_t n, size_t cols, void *buf, int write);

/* Runs a result file may hold: the limit of a run config. */
#define PDS_RESULT_MAX_RUNS 1000000000ull

/* A finished result file of pdsim run, opened read-only and checked:
 * complete = 1, the current format version, the root attributes, the unit
 * codes, and /runs/province_adoption_year of shape [n_runs x n_units]
 * with all of its data stored; every size within the limits of a run. */
typedef struct pds_h5result {
    const char *path; /* as given; not owned */
    hid_t file;       /* -1 when closed */
    hid_t runs;       /* /runs/province_adoption_year */
    uint64_t seed, n_runs;
    int64_t first_year, last_year, base_year;
    char dataset[4096], model[4096], uncertainty[64];
    char dataset_hash[64]; /* content hash of the dataset folder; "" in older files */
    char input_hash[64];   /* fingerprint of every input of the run; "" when absent */
    size_t n_units;
    char **codes; /* [n_units], owned */
} pds_h5result;

/* 0, or PDS_ERR_INPUT with one message naming the file and what was
 * expected. The caller silences the HDF5 library's own error printing
 * (H5E_BEGIN_TRY). Always close with pds_h5result_close, even on failure. */
int pds_h5result_open(const char *path, pds_h5result *h, pds_diag *diag);
void pds_h5result_close(pds_h5result *h);

/* The 1-D string dataset of the unit axis named field (code, name, name_en,
 * region): one string per unit into *out (owned [n_units]; free with
 * pds_h5_strings_free). 0, or -1 when absent or of another length. */
int pds_h5result_unit_strings(const pds_h5result *h, const char *field, char ***out);
/* The resolved config the run stored (root attribute config_resolved):
 * owned, or NULL when the file has none (earlier versions). */
char *pds_h5result_config(const pds_h5result *h);
/* 1 when the file holds an object at path (groups on the way included). */
int pds_h5result_has(const pds_h5result *h, const char *path);

/* Silence the HDF5 library's own printing of its error stack between begin
 * and end (every failure gets one message of pdsim instead); end restores
 * what begin found. */
typedef struct pds_h5_quiet {
    H5E_auto2_t func;
    void *data;
} pds_h5_quiet;
void pds_h5_quiet_begin(pds_h5_quiet *q);
void pds_h5_quiet_end(const pds_h5_quiet *q);

/* Once at program start: HDF5 1.10 crashes in its exit handler on a file
 * whose close failed (disk full), so no exit handler; every command closes
 * its files itself. */
void pds_h5_init(void);

/* /reliability of a result file: the in-sample check (n_periods = 0 when
 * the file has none, e.g. files of earlier versions, or a bad shape) and the
 * provenance text (prov[0] = '\0' when none). */
void pds_h5result_reliability(const pds_h5result *h, pds_insample *q, char *prov, size_t size);

/* The rolling-origin backtest of /reliability (first_cutoff = 0 when the
 * file has none or a bad one). */
void pds_h5result_backtest(const pds_h5result *h, pds_backtest_reliability *bt);

/* Read rows [first, first + n) of /runs/province_adoption_year into buf
 * [n x n_units] and check each code (0, negative, or <= last_year).
 * 0, or PDS_ERR_INPUT with a message. */
int pds_h5result_read_years(const pds_h5result *h, uint64_t first, size_t n, int16_t *buf,
                            pds_diag *diag);

/* The sub-units of a result file and their per-run adoption years:
 * /subunits/code, name and unit_code and /runs/subunit_adoption_year
 * [n_runs x n] (or the names of earlier versions, /cities/...). */
typedef struct pds_h5subunits {
    hid_t runs;                          /* the per-run years; -1 when closed */
    size_t n;                            /* sub-units */
    char **codes, **names, **unit_codes; /* [n], owned */
    size_t *parent;                      /* [n] index of the parent in the units of the file */
} pds_h5subunits;

/* Open the sub-units of h: *present = 0 when the file stores no sub-unit
 * years (a dataset without sub-units, or store_subunit_years: false); then
 * 0 and s empty. Otherwise 0 with s filled, or PDS_ERR_INPUT (damaged,
 * wrong shape, a parent code that is not a unit) or PDS_ERR_RUNTIME with a
 * message. The caller silences HDF5's error printing. Always close s. */
int pds_h5result_subunits_open(const pds_h5result *h, pds_h5subunits *s, int *present,
                               pds_diag *diag);
void pds_h5subunits_close(pds_h5subunits *s);
/* Rows [first, first + n) of the sub-unit years into buf [n x s->n], each
 * code checked as pds_h5result_read_years does. 0 or PDS_ERR_INPUT. */
int pds_h5subunits_read_years(const pds_h5result *h, const pds_h5subunits *s, uint64_t first,
                              size_t n, int16_t *buf, pds_diag *diag);

/* Read all of loc/name in memory type type into out, after checking that
 * the dataset has the given rank and dims. 0 or -1. */
int pds_h5_read_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                        void *out);

/* Read the 1-D string dataset loc/name, fixed-length (as pdsim writes
 * them) or variable-length UTF-8 (as earlier versions did). *n = 0 accepts
 * any length and sets it; otherwise the length must equal *n. *out is owned
 * [*n]: free with pds_h5_strings_free. 0 or -1. */
int pds_h5_read_strings(hid_t loc, const char *name, size_t *n, char ***out);
void pds_h5_strings_free(char **s, size_t n);

/* Write the 1-D string dataset loc/name as fixed-length UTF-8 strings (as
 * long as the longest), with a `description` attribute: unlike
 * variable-length strings they need no global heap, which HDF5 reads
 * without a checksum. 0 or -1. */
int pds_h5_write_strings(hid_t loc, const char *name, const char *const *s, size_t n,
                         const char *description);

/* The fixed-length UTF-8 string type for s[0..n) and the strings packed in
 * it into *packed (owned; free it). The type, or -1. */
hid_t pds_h5_fixed_strings(const char *const *s, size_t n, char **packed);

#endif
