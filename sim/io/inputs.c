#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include "inputs.h"
#include "outfile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *pds_canonical_path(const char *path)
{
    if (!path)
        return NULL;
    char *r = realpath(path, NULL);
    return r ? r : strdup(path);
}

void pds_hash_bytes(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ p[i]) * 0x100000001b3ULL;
}

/* The file's contents (not its name), or nothing when it cannot be read. */
static void hash_contents(uint64_t *h, const char *path)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        pds_hash_bytes(h, "\0missing", 8);
        return;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        pds_hash_bytes(h, buf, n);
    fclose(f);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void hash_folder(uint64_t *h, const char *dir)
{
    struct dirent **list;
    int n = dir ? scandir(dir, &list, NULL, name_cmp) : -1;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (name[0] != '.') {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *p = malloc(len);
            struct stat st;
            if (p) {
                snprintf(p, len, "%s/%s", dir, name);
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                    pds_hash_bytes(h, name, strlen(name) + 1);
                    hash_contents(h, p);
                }
            }
            free(p);
        }
        free(list[i]);
    }
    if (n >= 0)
        free(list);
}

static void hash_text(char *out, size_t size, uint64_t h)
{
    snprintf(out, size, "fnv1a64:%016llx", (unsigned long long)h);
}

void pds_dataset_hash(const char *dir, char *out, size_t size)
{
    uint64_t h = PDS_HASH_INIT;
    hash_folder(&h, dir);
    hash_text(out, size, h);
}

static void hash_file(uint64_t *h, const char *path)
{
    pds_hash_bytes(h, path ? "file" : "none", 5);
    if (path)
        hash_contents(h, path);
}

int pds_run_inputs_add(pds_inset *in, const pds_run_config *cfg)
{
    int rc = 0;
    for (size_t i = 0; i < cfg->n_sources; i++)
        rc |= pds_inset_add(in, cfg->sources[i]);
    rc |= pds_inset_add(in, cfg->path);
    rc |= pds_inset_add(in, cfg->model_path);
    for (size_t k = 1; k < cfg->n_models; k++)
        rc |= pds_inset_add(in, cfg->models_path[k]);
    rc |= pds_inset_add(in, cfg->subunit_model_path);
    rc |= pds_inset_add(in, cfg->neighbour_weights_path);
    rc |= pds_inset_add(in, cfg->dataset_path);
    return rc ? -1 : 0;
}

void pds_input_hash(const pds_run_config *cfg, char *out, size_t size)
{
    uint64_t h = PDS_HASH_INIT;
    const char *settings = cfg->resolved ? cfg->resolved : cfg->text;
    pds_hash_bytes(&h, settings, strlen(settings));
    for (size_t i = 0; i < cfg->n_sources; i++)
        hash_file(&h, cfg->sources[i]);
    hash_file(&h, cfg->model_path);
    for (size_t k = 1; k < cfg->n_models; k++)
        hash_file(&h, cfg->models_path[k]);
    hash_file(&h, cfg->subunit_model_path);
    hash_file(&h, cfg->neighbour_weights_path);
    hash_folder(&h, cfg->dataset_path);
    hash_text(out, size, h);
}
