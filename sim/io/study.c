#define _POSIX_C_SOURCE 200809L
#include "study.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "h5util.h"
#include "h5probe.h"

static int parse_scenarios(pds_yaml *y, yaml_node_t *n, void *target, pds_diag *diag)
{
    pds_study *s = target;
    if (n->type != YAML_SEQUENCE_NODE) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "scenarios: expected a list of run config files");
        return -1;
    }
    int bad = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = pds_yaml_node(y, *it);
        const char *v = pds_yaml_scalar(item);
        if (!v || !*v) {
            pds_diag_add(diag, y->path, pds_yaml_line(item), pds_yaml_col(item),
                         "scenarios: expected the path of a run config");
            bad = 1;
            continue;
        }
        if (s->n_scenarios == PDS_STUDY_MAX_SCENARIOS) {
            pds_diag_add(diag, y->path, pds_yaml_line(item), pds_yaml_col(item),
                         "scenarios: at most %d", PDS_STUDY_MAX_SCENARIOS);
            return -1;
        }
        s->scenario_list[s->n_scenarios++] = strdup(v);
    }
    if (!bad && s->n_scenarios == 0) {
        pds_diag_add(diag, y->path, pds_yaml_line(n), pds_yaml_col(n),
                     "scenarios: expected at least one scenario config");
        bad = 1;
    }
    return bad ? -1 : 0;
}

#define OFF(f) offsetof(pds_study, f)
const pds_key pds_study_keys[] = {
    {"baseline", PDS_KEY_STRING, 1, 0, 0, NULL, NULL, OFF(baseline), NULL,
     "run config of the baseline, relative to the study file", NULL},
    {"scenarios", PDS_KEY_CUSTOM, 1, 0, 0, NULL, NULL, 0, parse_scenarios,
     "run configs compared with the baseline, each with the same seed and runs",
     "list of files"},
    {"output", PDS_KEY_STRING, 0, 0, 0, NULL, NULL, OFF(output), NULL,
     "folder of the study's results; default output/<study name>", NULL},
    {"runs", PDS_KEY_U64, 0, 0, 1e9, "0", NULL, OFF(runs), NULL,
     "Monte Carlo runs of every config; 0 = each config's own (they must agree)", NULL},
    {"jobs", PDS_KEY_INT, 0, 0, 64, "0", NULL, OFF(jobs), NULL,
     "runs at the same time; 0 = one per core, at most one per config", NULL},
    {"report", PDS_KEY_BOOL, 0, 0, 0, "true", NULL, OFF(report), NULL,
     "draw the report of each comparison (needs Python with h5py and matplotlib)", NULL},
};
const size_t pds_n_study_keys = sizeof pds_study_keys / sizeof pds_study_keys[0];

void pds_study_free(pds_study *s)
{
    if (!s)
        return;
    pds_yaml_free_fields(pds_study_keys, pds_n_study_keys, s);
    for (size_t i = 0; i < s->n_scenarios; i++) {
        free(s->scenario_list[i]);
        free(s->scenario_path[i]);
    }
    free(s->path);
    free(s->baseline_path);
    free(s->output_dir);
    free(s);
}

char *pds_study_name(const char *config_path)
{
    const char *base = strrchr(config_path, '/');
    base = base ? base + 1 : config_path;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
        len = (size_t)(dot - base);
    return strndup(base, len);
}

pds_study *pds_study_load(const char *path, pds_diag *diag)
{
    pds_yaml *y = pds_yaml_load(path, diag);
    if (!y)
        return NULL;
    pds_study *s = calloc(1, sizeof *s);
    if (!s) {
        pds_yaml_free(y);
        return NULL;
    }
    int bad = pds_yaml_parse_map(y, pds_yaml_root(y), pds_study_keys, pds_n_study_keys, s, NULL,
                                 diag) != 0;
    s->path = strdup(path);
    if (!bad) {
        s->baseline_path = pds_path_relative_to(path, s->baseline);
        for (size_t i = 0; i < s->n_scenarios; i++)
            s->scenario_path[i] = pds_path_relative_to(path, s->scenario_list[i]);
        s->output_dir = s->output ? pds_path_relative_to(path, s->output)
                                  : pds_default_output(path, "");
        /* two configs with one name would write one file */
        for (size_t i = 0; i <= s->n_scenarios && !bad; i++)
            for (size_t j = i + 1; j <= s->n_scenarios && !bad; j++) {
                const char *a = i ? s->scenario_path[i - 1] : s->baseline_path;
                const char *b = s->scenario_path[j - 1];
                char *na = pds_study_name(a), *nb = pds_study_name(b);
                if (na && nb && strcmp(na, nb) == 0) {
                    pds_diag_add(diag, path, 0, 0,
                                 "%s and %s have the same name '%s': the study names its results "
                                 "by the config's file name, so expected different names",
                                 a, b, na);
                    bad = 1;
                }
                free(na);
                free(nb);
            }
    }
    pds_yaml_free(y);
    if (bad || !s->path || !s->baseline_path || !s->output_dir) {
        pds_study_free(s);
        return NULL;
    }
    return s;
}

int pds_result_stamp_read(const char *path, pds_result_stamp *st)
{
    memset(st, 0, sizeof *st);
    if (access(path, R_OK) != 0)
        return -1;
    int rc = -1;
    H5E_BEGIN_TRY
    {
        hid_t f = pds_h5_open_ro(path);
        if (f >= 0) {
            unsigned char c = 0;
            if (pds_h5_attr_read_num(f, "complete", H5T_NATIVE_UCHAR, &c) == 0 &&
                pds_h5_attr_read_num(f, "n_runs", H5T_NATIVE_UINT64, &st->n_runs) == 0 &&
                pds_h5_attr_read_str(f, "input_hash", st->input_hash, sizeof st->input_hash) ==
                    0) {
                st->complete = c == 1;
                if (pds_h5_attr_read_num(f, "runs_done", H5T_NATIVE_UINT64, &st->runs_done) != 0)
                    st->runs_done = 0;
                rc = 0;
            }
            H5Fclose(f);
        }
    }
    H5E_END_TRY;
    return rc;
}

int pds_stamp_read(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int rc = fgets(out, (int)size, f) ? 0 : -1;
    fclose(f);
    if (rc == 0)
        out[strcspn(out, "\n")] = '\0';
    return rc;
}

int pds_stamp_write(const char *path, const char *key)
{
    char *tmp = NULL;
    pds_fileid id;
    int fd = pds_out_create_tmp(path, &tmp, &id);
    int rc = fd >= 0 ? 0 : -1;
    if (fd >= 0) {
        size_t len = strlen(key);
        rc = write(fd, key, len) == (ssize_t)len && write(fd, "\n", 1) == 1 ? 0 : -1;
        rc |= close(fd) != 0 ? -1 : 0;
        pds_diag d;
        pds_diag_init(&d);
        if (rc == 0 && pds_out_install(tmp, &id, path, &d) != 0)
            rc = -1;
        pds_diag_free(&d);
        if (rc != 0)
            pds_out_discard(tmp, &id);
    }
    free(tmp);
    return rc;
}
