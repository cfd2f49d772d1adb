/* How every file pdsim writes gets written (docs/output-format.md, "How
 * outputs are written"):
 *
 * - A destination DEST is written under a temporary name beside it and
 *   renamed onto DEST only when complete. Temporary names are created
 *   exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, or HDF5's H5F_ACC_EXCL, which
 *   opens with O_CREAT|O_EXCL): a symbolic link or any file planted at the
 *   name is never followed, truncated or written through.
 * - Before the rename the temporary name must still be the inode this
 *   process created (lstat against the identity taken from the open
 *   descriptor): a file swapped in meanwhile is never installed.
 * - Writers that can run for long (run, sweep parts, merge, compare,
 *   report) first take an exclusive advisory lock: flock on the lock file
 *   DEST.lock, created beside DEST and removed when the writer is done. A
 *   lock held by another process is "busy" (PDS_ERR_BUSY, exit status 4),
 *   never "damaged": nothing of the other writer's is touched. The lock is
 *   pdsim's own, independent of HDF5's file locking, so it also holds with
 *   HDF5_USE_FILE_LOCKING=FALSE. Once it holds the lock, a writer removes
 *   the temporary files of DEST left by dead processes (pds_out_clean_stale).
 * - No output may be one of the inputs of the same command (pds_inset):
 *   compared by device and inode of existing files and by canonical path.
 * - Text cells of CSV files are neutralised against spreadsheet formulas
 *   (pds_csv_text).
 */
#ifndef PDS_OUTFILE_H
#define PDS_OUTFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "../core/diag.h"

/* The identity of a file: the one this process created. */
typedef struct pds_fileid {
    dev_t dev;
    ino_t ino;
} pds_fileid;

/* ---- the destination's lock ---- */

typedef struct pds_lock pds_lock;

/* Take the exclusive lock on dest (the lock file dest.lock). PDS_OK with
 * *out set; PDS_ERR_BUSY when another process holds it (the message names
 * its pid and host); PDS_ERR_INPUT when dest.lock is a link or a file that
 * is not a pdsim lock file; PDS_ERR_RUNTIME when it cannot be created. On a
 * file system without locks (flock and fcntl both refused) the lock is
 * taken without exclusion: the inode check before the rename still keeps
 * any installed file whole. */
pds_status pds_lock_take(const char *dest, pds_lock **out, pds_diag *diag);
/* Remove the lock file and release the lock. NULL is a no-op. */
void pds_lock_release(pds_lock *l);

/* ---- inputs of a command ---- */

typedef struct pds_inset {
    struct pds_inset_item *v;
    size_t n, cap;
} pds_inset;

void pds_inset_init(pds_inset *s);
void pds_inset_free(pds_inset *s);
/* Record an input: a file, or a folder (then every file in it and in its
 * subfolders, two levels deep, counts as an input). NULL is ignored.
 * 0, or -1 when out of memory. */
int pds_inset_add(pds_inset *s, const char *path);
/* PDS_OK unless out names one of the inputs: then PDS_ERR_INPUT with
 * "OUT: is an input of this command (INPUT); ..." in diag. */
pds_status pds_inset_check(const pds_inset *s, const char *out, pds_diag *diag);

/* ---- temporary names and installing ---- */

/* The k-th temporary name tried for dest: dest.tmp.PID, then with a random
 * suffix. Owned; NULL when out of memory. */
char *pds_out_tmp_name(const char *dest, unsigned k);
/* Remove the temporary files of dest (dest.tmp.PID, dest.tmp.PID.HEX6)
 * left by processes that no longer exist: only regular files (not links)
 * of this user, named by the pid of a process not running on this host.
 * pds_lock_take calls it once it holds dest's lock (no other writer of
 * dest can be using them). The number removed. */
size_t pds_out_clean_stale(const char *dest);
/* The same for every file of folder dir with such a temporary name, and
 * with the names of scripts/plot_common.py (".NAME.PID.XXXXXXXX.tmp");
 * for a folder whose writers all hold one lock (report's), under it. */
size_t pds_out_clean_stale_in(const char *dir);
/* Create a new file for writing under a temporary name beside dest
 * (O_EXCL|O_NOFOLLOW; another name is tried when one exists). Returns the
 * descriptor and sets *tmp (owned) and *id; -1 with errno on failure. */
int pds_out_create_tmp(const char *dest, char **tmp, pds_fileid *id);
/* 1 when path (not following a link) is the regular file id. */
int pds_out_is_file(const char *path, const pds_fileid *id);
/* Rename tmp onto dest if tmp is still the file id. 0, or -1 with a
 * message in diag (the temporary file is left for the caller). */
int pds_out_install(const char *tmp, const pds_fileid *id, const char *dest, pds_diag *diag);
/* Remove tmp if it is still the file id (never someone else's file). */
void pds_out_discard(const char *tmp, const pds_fileid *id);
/* Before a fixed-name temporary file (OUT.partial) is created afresh,
 * under the destination's lock: remove a regular file left there; refuse a
 * link or anything else (PDS_ERR_INPUT). */
pds_status pds_out_clear_fixed(const char *tmp, pds_diag *diag);
/* Before a fixed-name temporary file is reopened (resumed), under the lock:
 * 1 when it is a regular file, 0 when absent, -1 (PDS_ERR_INPUT message in
 * diag) when it is a link or not a regular file. */
int pds_out_check_fixed(const char *tmp, pds_diag *diag);

/* ---- text output files ---- */

/* An output file being written: open, write to f, then commit or abort. */
typedef struct pds_outfile {
    char *path, *tmp;
    FILE *f;
    pds_fileid id;
    pds_lock *lock; /* with PDS_OUT_LOCK */
} pds_outfile;

enum {
    PDS_OUT_LOCK = 1, /* hold dest's lock from begin to commit/abort */
};

/* Open a temporary file beside path. path must not be one of the inputs
 * in (may be NULL) nor a folder. */
pds_status pds_outfile_begin(pds_outfile *o, const char *path, const pds_inset *in,
                             unsigned flags, pds_diag *diag);
/* The same with the inputs as a list of paths. */
pds_status pds_outfile_open(pds_outfile *o, const char *path, const char *const *inputs,
                            size_t n_inputs, pds_diag *diag);
/* Flush, check and close the file, leaving it under its temporary name
 * (to be renamed by pds_outfile_commit with the rest of a set of files);
 * on error remove the temporary file (message in diag). No-op once closed. */
pds_status pds_outfile_close(pds_outfile *o, pds_diag *diag);
/* Close as pds_outfile_close unless closed, and rename onto the target; on
 * any error remove the temporary file (message in diag). */
pds_status pds_outfile_commit(pds_outfile *o, pds_diag *diag);
/* Close and remove the temporary file. Safe on a zeroed or finished o. */
void pds_outfile_abort(pds_outfile *o);
/* A set of n closed files: with ok, rename each into place in order until
 * one fails (the rest are removed); without, remove them all. */
pds_status pds_outfile_commit_set(pds_outfile *v, size_t n, int ok, pds_diag *diag);

/* ---- CSV ---- */

/* Begin the CSV file dir/name as pds_outfile_begin (no lock): a UTF-8
 * byte-order mark first when bom, then header and a newline unless header
 * is NULL. */
pds_status pds_csvfile_begin(pds_outfile *o, const char *dir, const char *name, int bom,
                             const char *header, const pds_inset *in, pds_diag *diag);

/* A CSV text cell: quoted when it holds a comma, quote or line break; a
 * cell that a spreadsheet would read as a formula (first character =, +,
 * -, @, tab or carriage return, and not a plain number such as -1.5) gets
 * a leading apostrophe. Numbers written by the callers are not affected. */
void pds_csv_text(FILE *f, const char *s);

/* mkdir -p: every missing folder of dir. 0, or -1 with errno set and, when
 * failed is not NULL, the folder that could not be made copied into it. */
int pds_mkdirs(const char *dir, char *failed, size_t size);

#endif
