/* Where a run's inputs are and what they hold: canonical paths, so that a
 * result names its dataset and models the same way whichever folder pdsim
 * ran in, and content hashes, so that two results can be checked for the
 * same dataset by what it holds rather than by how its path is spelt. */
#ifndef PDS_INPUTS_H
#define PDS_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* realpath(path), or a copy of path when it cannot be resolved (it does not
 * exist: the loader then names it as given). NULL only for NULL or out of
 * memory. Owned. */
char *pds_canonical_path(const char *path);

/* FNV-1a, 64 bits, over bytes: enough to tell that an input changed. */
void pds_hash_bytes(uint64_t *h, const void *data, size_t n);
#define PDS_HASH_INIT 0xcbf29ce484222325ULL

/* "fnv1a64:<16 hex digits>" of the names and contents of the regular files
 * of the dataset folder (sorted by name; hidden files skipped), so that a
 * copy of the folder elsewhere has the same hash. out holds >= 32 bytes. */
void pds_dataset_hash(const char *dir, char *out, size_t size);

/* Record everything a run reads (the files pds_input_hash covers) as
 * inputs that no output may replace. 0, or -1 when out of memory. */
struct pds_inset;
int pds_run_inputs_add(struct pds_inset *in, const pds_run_config *cfg);

/* The fingerprint of everything a run reads: the resolved config (every
 * setting, after extends), every config file it was assembled from, the
 * models, the neighbour weights and the dataset's files. */
void pds_input_hash(const pds_run_config *cfg, char *out, size_t size);

#endif
