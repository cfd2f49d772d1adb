#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../io/csvtab.h"
#include "../io/dataset.h"
#include "../io/resultread.h"
#include "cli.h"

/* pdsim report: checks its input files here, so that a missing, damaged,
 * incomplete or older file gets one clear message and exit 2, writes the
 * CSV summaries, then hands the plotting to scripts/plot_report.py run by a
 * Python that has h5py and matplotlib. See docs/report.md. */

#ifndef PDS_SCRIPTS_DIR
#define PDS_SCRIPTS_DIR "scripts"
#endif

extern char **environ;

/* KIND_PART (a sweep's part file) is recognised only to be refused */
enum {
    KIND_RUN = PDS_FILE_RUN,
    KIND_COMPARE = PDS_FILE_COMPARE,
    KIND_SWEEP = PDS_FILE_SWEEP,
    N_KINDS,
    KIND_PART = PDS_FILE_PART
};
static const char *const kind_opt[N_KINDS] = {"--run", "--compare", "--sweep"};

/* The kind of a result file, after checking it: 0, or 2 with a message.
 * For a run file, dataset gets the dataset path the run recorded. */
static int classify(const char *path, int *kind, char *dataset, size_t size)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_file_kind k = PDS_FILE_RUN;
    int rc = pds_cli_exit(pds_h5_report_input(path, &k, dataset, size, &d));
    *kind = (int)k;
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return rc;
}

/* Run argv with stdout and stderr discarded; its exit status, or -1. */
static int run_quiet(char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int st = -1;
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0 && waitpid(pid, &st, 0) == pid)
        st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    else
        st = -1;
    posix_spawn_file_actions_destroy(&fa);
    return st;
}

/* "--opt=value", owned: one argument, so that a value beginning with '-'
 * (a file named -x.h5) is never taken for an option. */
static char *opt_value(const char *opt, const char *value)
{
    return pds_strfmt("%s=%s", opt, value);
}

/* The same order as the other Python-using parts of the project:
 * PDSIM_PYTHON, then Debian's /usr/bin/python3, then python3 on PATH. */
static const char *find_python(void)
{
    const char *cands[] = {getenv("PDSIM_PYTHON"), "/usr/bin/python3", "python3"};
    /* an interpreter named on purpose is used or refused, never replaced */
    if (cands[0] && *cands[0]) {
        char *argv[] = {(char *)cands[0], "-c", "import h5py, matplotlib, numpy", NULL};
        if (run_quiet(argv) == 0)
            return cands[0];
        fprintf(stderr,
                "pdsim: error: PDSIM_PYTHON=%s: cannot run it, or it lacks h5py, numpy or "
                "matplotlib; expected a Python 3 with them (or unset PDSIM_PYTHON)\n",
                cands[0]);
        return NULL;
    }
    for (size_t i = 1; i < sizeof cands / sizeof cands[0]; i++) {
        if (!cands[i] || !*cands[i])
            continue;
        /* isolated mode (-I): neither the current folder nor PYTHON*
         * variables nor user site packages can put code in the way */
        char *argv[] = {(char *)cands[i], "-I", "-c", "import h5py, matplotlib, numpy", NULL};
        if (run_quiet(argv) == 0)
            return cands[i];
    }
    return NULL;
}

/* The dataset folder of the run: the one given, else the path the run
 * recorded, which is relative to the folder the run was started in: tried
 * from here, then from the folders above the result file. */
static char *find_dataset(const char *given, const char *recorded, const char *h5)
{
    struct stat st;
    if (given)
        return stat(given, &st) == 0 && S_ISDIR(st.st_mode) ? strdup(given) : NULL;
    if (!*recorded)
        return NULL;
    if (stat(recorded, &st) == 0 && S_ISDIR(st.st_mode))
        return strdup(recorded);
    if (recorded[0] == '/')
        return NULL;
    char *abs = realpath(h5, NULL);
    for (int up = 0; abs && up < 3; up++) {
        char *slash = strrchr(abs, '/');
        if (!slash || slash == abs)
            break;
        *slash = '\0';
        size_t n = strlen(abs) + strlen(recorded) + 2;
        char *cand = malloc(n);
        if (!cand)
            break;
        snprintf(cand, n, "%s/%s", abs, recorded);
        if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
            free(abs);
            return cand;
        }
        free(cand);
    }
    free(abs);
    return NULL;
}

/* The dataset's units and documents files, named by its dataset.yaml or
 * generic, for the script's labels and the first document. Adds the options
 * to args; returns the paths to free (NULL where none). */
static void dataset_files(const char *dir, char **args, int *na, char *owned[2])
{
    static const pds_dataset_role roles[2] = {PDS_DATASET_UNITS, PDS_DATASET_DOCUMENTS};
    static const char *const opts[2] = {"--units-file", "--documents-file"};
    for (int i = 0; i < 2; i++) {
        pds_diag d;
        pds_diag_init(&d);
        owned[i] = pds_dataset_file(dir, roles[i], &d);
        for (size_t k = 0; k < d.n; k++)
            fprintf(stderr, "pdsim: note: %s\n", d.msgs[k]);
        pds_diag_free(&d);
        if (owned[i] && access(owned[i], R_OK) == 0) {
            char *o = opt_value(opts[i], owned[i]);
            free(owned[i]);
            owned[i] = o;
            if (o)
                args[(*na)++] = o;
        }
    }
}

#define MAX_ARGS 64

static int report_locked(const char *out, const char *const *files, char *ds, const char *py,
                         const char *script, char **pass, int np);

int pds_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},  {"svg", no_argument, NULL, 'S'},
        {"pdf", no_argument, NULL, 'P'},
        {"year", required_argument, NULL, 'y'},    {"pinyin", no_argument, NULL, 'p'},
        {"dataset", required_argument, NULL, 'd'}, {"tiles", required_argument, NULL, 't'},
        {"dpi", required_argument, NULL, 'r'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {"replace", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    int replace = 0;
    /* options handed on to the script as they are */
    char *pass[MAX_ARGS];
    int np = 0, c;
    const char *out = NULL, *dataset = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        long v;
        if (np > MAX_ARGS - 2) {
            fprintf(stderr, "pdsim: error: too many options\n");
            return 2;
        }
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'S':
            pass[np++] = "--svg";
            break;
        case 'P':
            pass[np++] = "--pdf";
            break;
        case 'p':
            pass[np++] = "--pinyin";
            break;
        case 'q':
            pass[np++] = "--quiet";
            break;
        case 'y':
        case 'r':
            if (pds_parse_long(optarg, &v) != 0 || (c == 'y' && (v < 1000 || v > 3000)) ||
                (c == 'r' && (v < 20 || v > 600))) {
                fprintf(stderr, "pdsim: error: %s: expected %s, got \"%s\"\n",
                        c == 'y' ? "--year" : "--dpi",
                        c == 'y' ? "a year in 1000..3000" : "an integer in 20..600", optarg);
                return 2;
            }
            pass[np++] = c == 'y' ? "--year" : "--dpi";
            pass[np++] = optarg;
            break;
        case 'd':
            dataset = optarg;
            break;
        case 'F':
            replace = 1;
            break;
        case 't':
            pass[np++] = "--tiles";
            pass[np++] = optarg;
            break;
        default:
            return pds_cli_getopt_other(c, "report", argv);
        }
    }
    if (!out || optind >= argc) {
        fprintf(stderr, "pdsim: error: expected result files and -o DIR; usage: pdsim report "
                        "FILE.h5... -o DIR [--svg] [--pdf] [--year Y] [--pinyin] [--replace]\n");
        return 2;
    }
    const char *files[N_KINDS] = {NULL, NULL, NULL};
    char recorded[4096] = "";
    int rc = 0;
    pds_h5_quiet q;
    pds_h5_quiet_begin(&q);
    {
        for (int i = optind; rc == 0 && i < argc; i++) {
            int kind = KIND_RUN;
            rc = classify(argv[i], &kind, recorded, sizeof recorded);
            if (rc == 0 && files[kind]) {
                fprintf(stderr,
                        "pdsim: error: %s: a second %s file (the first was %s); expected at "
                        "most one run, one comparison and one sweep file\n",
                        argv[i], kind_opt[kind] + 2, files[kind]);
                rc = 2;
            }
            if (rc == 0)
                files[kind] = argv[i];
        }
    }
    pds_h5_quiet_end(&q);
    if (rc)
        return rc;
    const char *py = find_python();
    if (!py) {
        fprintf(stderr,
                "pdsim: error: report needs Python 3 with h5py, numpy and matplotlib, and none "
                "was found (tried $PDSIM_PYTHON, /usr/bin/python3, python3). Install them with "
                "scripts/install-deps.sh (Debian: python3-h5py python3-matplotlib), or set "
                "PDSIM_PYTHON to such an interpreter.\n");
        return 1;
    }
    const char *sdir = getenv("PDSIM_SCRIPTS");
    if (!sdir || !*sdir)
        sdir = PDS_SCRIPTS_DIR;
    char script[4096];
    snprintf(script, sizeof script, "%s/plot_report.py", sdir);
    if (access(script, R_OK) != 0) {
        fprintf(stderr,
                "pdsim: error: %s: the plotting script is missing (set PDSIM_SCRIPTS to the "
                "project's scripts folder)\n",
                script);
        return 1;
    }
    char *ds = files[KIND_RUN] ? find_dataset(dataset, recorded, files[KIND_RUN]) : NULL;
    if (dataset && !ds) {
        fprintf(stderr, "pdsim: error: --dataset %s: not a folder\n", dataset);
        return 2;
    }
    char index[4200];
    snprintf(index, sizeof index, "%s/index.html", out);
    if (!replace && access(index, F_OK) == 0) {
        fprintf(stderr,
                "pdsim: error: %s: a report is already there; nothing was drawn. Add --replace to "
                "replace it, or choose another folder\n",
                out);
        free(ds);
        return 2;
    }
    if (pds_cli_make_dir(out) != 0) {
        free(ds);
        return 1;
    }
    /* one report at a time in a folder: the lock on its index page, held
     * until the plotting script is done */
    pds_lock *lock = NULL;
    pds_diag ld;
    pds_diag_init(&ld);
    pds_status lst = pds_lock_take(index, &lock, &ld);
    pds_cli_print_diag(&ld);
    pds_diag_free(&ld);
    if (lst != PDS_OK) {
        free(ds);
        return pds_cli_exit(lst);
    }
    /* under the lock every writer of the folder is this report: temporary
     * images and CSV files of processes that are gone (a report killed
     * earlier, or the script of this one) are removed, before and after */
    char csvdir[4200];
    snprintf(csvdir, sizeof csvdir, "%s/csv", out);
    pds_out_clean_stale_in(out);
    pds_out_clean_stale_in(csvdir);
    rc = report_locked(out, files, ds, py, script, pass, np);
    pds_out_clean_stale_in(out);
    pds_out_clean_stale_in(csvdir);
    pds_lock_release(lock);
    free(ds);
    return rc;
}

/* The CSV summaries and the plotting script, under the report's lock. */
static int report_locked(const char *out, const char *const *files, char *ds, const char *py,
                         const char *script, char **pass, int np)
{
    int rc;
    if (files[KIND_RUN]) {
        /* the page links these, so they are part of what it ships */
        char csvdir[4096];
        snprintf(csvdir, sizeof csvdir, "%s/csv", out);
        rc = pds_cli_summary_csv(files[KIND_RUN], csvdir, 0, 0, 1);
        if (rc)
            return rc;
    }
    char *args[MAX_ARGS + 24];
    int na = 0;
    char *eq[N_KINDS + 2] = {NULL};
    int neq = 0;
    args[na++] = (char *)py;
    args[na++] = "-I"; /* isolated; and -B: no bytecode written next to the scripts */
    args[na++] = "-B";
    args[na++] = (char *)script;
    args[na++] = eq[neq++] = opt_value("--out", out);
    for (int k = 0; k < N_KINDS; k++)
        if (files[k])
            args[na++] = eq[neq++] = opt_value(kind_opt[k], files[k]);
    for (int i = 0; i < np; i++)
        args[na++] = pass[i];
    char *owned[2] = {NULL, NULL};
    if (files[KIND_RUN]) {
        if (ds) {
            args[na++] = eq[neq++] = opt_value("--dataset", ds);
            dataset_files(ds, args, &na, owned);
        }
    }
    args[na] = NULL;
    for (int i = 0; i < na; i++)
        if (!args[i]) {
            for (int k = 0; k < neq; k++)
                free(eq[k]);
            free(owned[0]);
            free(owned[1]);
            fprintf(stderr, "pdsim: error: out of memory\n");
            return 1;
        }
    pid_t pid;
    int st = 0;
    int started =
        posix_spawnp(&pid, py, NULL, NULL, args, environ) == 0 && waitpid(pid, &st, 0) == pid;
    for (int k = 0; k < neq; k++)
        free(eq[k]);
    free(owned[0]);
    free(owned[1]);
    if (!started) {
        fprintf(stderr, "pdsim: error: cannot start %s\n", py);
        return 1;
    }
    if (!WIFEXITED(st))
        return 1;
    rc = WEXITSTATUS(st);
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}
