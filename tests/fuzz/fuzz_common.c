#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096];

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlink(pds_fuzz_path(e->d_name));
        }
        closedir(d);
    }
    rmdir(dir);
}

const char *pds_fuzz_dir(void)
{
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/pdsim-fuzz.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("pdsim fuzz: mkdtemp");
            abort();
        }
        atexit(remove_dir);
    }
    return dir;
}

const char *pds_fuzz_path(const char *name)
{
    static char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", pds_fuzz_dir(), name);
    return path;
}

const char *pds_fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *path = pds_fuzz_path(name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return NULL;
    }
    if (fclose(f) != 0)
        return NULL;
    return path;
}

void pds_fuzz_link(const char *name, const char *target)
{
    const char *path = pds_fuzz_path(name);
    if (access(path, F_OK) != 0 && symlink(target, path) != 0) {
        perror("pdsim fuzz: symlink");
        abort();
    }
}

#include "core/engine.h"
#include "io/setup.h"

void pds_fuzz_link_test_data(void)
{
    pds_fuzz_link("small", PDS_FUZZ_DATA "/small");
    pds_fuzz_link("data", PDS_FUZZ_DATA "/small");
    pds_fuzz_link("model.yaml", PDS_FUZZ_DATA "/model.yaml");
    pds_fuzz_link("city_model.yaml", PDS_FUZZ_DATA "/city_model.yaml");
}

const uint8_t *pds_fuzz_test_file(const char *name, size_t *size)
{
    static struct {
        char name[64];
        uint8_t *data;
        size_t size;
    } cache[8];
    size_t i = 0;
    for (; i < 8 && cache[i].data; i++)
        if (!strcmp(cache[i].name, name))
            break;
    if (i == 8)
        abort();
    if (!cache[i].data) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", PDS_FUZZ_DATA, name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            abort();
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        cache[i].data = malloc((size_t)n + 1);
        if (!cache[i].data || fread(cache[i].data, 1, (size_t)n, f) != (size_t)n)
            abort();
        fclose(f);
        cache[i].size = (size_t)n;
        snprintf(cache[i].name, sizeof cache[i].name, "%s", name);
    }
    *size = cache[i].size;
    return cache[i].data;
}

void pds_fuzz_setup_and_run(const char *config_path)
{
    pds_diag diag;
    pds_diag_init(&diag);
    pds_setup s;
    if (pds_setup_load(config_path, &s, &diag) == PDS_OK) {
        const pds_world *w = s.world;
        void *scratch = pds_sim_scratch_create(s.sim);
        int16_t *u = calloc(w->n_units + 1, sizeof *u);
        int16_t *c = calloc(w->n_subunits + 1, sizeof *c);
        double *b = calloc(pds_sim_n_coefficients(s.sim) + 1, sizeof *b);
        if (scratch && u && c && b)
            for (uint64_t r = 0; r < 2; r++)
                pds_sim_run_one(s.sim, s.cfg->seed, r, scratch, u, c, b);
        free(scratch);
        free(u);
        free(c);
        free(b);
    }
    pds_setup_free(&s);
    pds_diag_free(&diag);
}
