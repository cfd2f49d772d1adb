#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../io/config.h"
#include "../io/csvtab.h"
#include "../io/inputs.h"
#include "../io/study.h"
#include "cli.h"

/* pdsim study: the baseline and every scenario run (several at once when
 * the cores allow), each scenario compared with the baseline, the CSV
 * exports and the report, each step skipped when the inputs it was made
 * from are unchanged. Each step is a pdsim command run as a child process,
 * so each writes its results as the command alone would: completely, or not
 * at all. See docs/study.md. */

extern char **environ;

#define MAX_CONFIGS (PDS_STUDY_MAX_SCENARIOS + 1)
#define MAX_ARGV 24

typedef struct task {
    char *argv[MAX_ARGV];
    char *owned[MAX_ARGV]; /* argv entries to free */
    int n_owned;
    char out[4096], err[4096]; /* stdout and stderr go here */
    char *out_tmp;             /* stdout while it runs: renamed onto out when it succeeds */
    pds_fileid out_id;
    char *err_tmp;             /* stderr while it runs: renamed onto err when it ends */
    pds_fileid err_id;
    char label[256];
    char stamp[4096], key[512]; /* written when it succeeds; "" = none */
    pid_t pid;
    int status;
} task;

static char *dupf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, a, b ? b : "");
    return s;
}

static void task_arg(task *t, int *na, const char *s, int own)
{
    if (*na >= MAX_ARGV - 1)
        return;
    t->argv[(*na)++] = (char *)s;
    t->argv[*na] = NULL;
    if (own)
        t->owned[t->n_owned++] = (char *)s;
}

static void task_free(task *t)
{
    for (int i = 0; i < t->n_owned; i++)
        free(t->owned[i]);
    t->n_owned = 0;
}

static int start(task *t, const char *self)
{
    /* the table and the log each go to a temporary file (sim/io/outfile.h):
     * a log never truncates or writes through a file or link found at its
     * name, and the earlier log stays whole until the step ends */
    int fd = pds_out_create_tmp(t->out, &t->out_tmp, &t->out_id);
    if (fd < 0)
        return -1;
    int efd = pds_out_create_tmp(t->err, &t->err_tmp, &t->err_id);
    if (efd < 0) {
        int e = errno;
        close(fd);
        pds_out_discard(t->out_tmp, &t->out_id);
        free(t->out_tmp);
        t->out_tmp = NULL;
        errno = e;
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    t->argv[0] = (char *)self;
    int rc = posix_spawn(&t->pid, self, &fa, NULL, t->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
    close(efd);
    if (rc != 0) {
        pds_out_discard(t->out_tmp, &t->out_id);
        free(t->out_tmp);
        t->out_tmp = NULL;
        pds_out_discard(t->err_tmp, &t->err_id);
        free(t->err_tmp);
        t->err_tmp = NULL;
        errno = rc;
    }
    return rc == 0 ? 0 : -1;
}

/* The table of a finished task onto its name (ok), or removed; its log
 * onto its name either way. 0 or -1. */
static int finish_out(task *t, int ok)
{
    int rc = 0;
    if (t->err_tmp) {
        pds_diag d;
        pds_diag_init(&d);
        if (pds_out_install(t->err_tmp, &t->err_id, t->err, &d) != 0) {
            pds_cli_print_diag(&d);
            rc = -1;
        }
        pds_diag_free(&d);
        pds_out_discard(t->err_tmp, &t->err_id);
        free(t->err_tmp);
        t->err_tmp = NULL;
    }
    if (t->out_tmp) {
        pds_diag d;
        pds_diag_init(&d);
        if (ok && pds_out_install(t->out_tmp, &t->out_id, t->out, &d) != 0) {
            pds_cli_print_diag(&d);
            rc = -1;
        }
        pds_diag_free(&d);
        pds_out_discard(t->out_tmp, &t->out_id);
        free(t->out_tmp);
        t->out_tmp = NULL;
    }
    return rc;
}

/* Run the tasks, at most jobs at once. The worst exit status (2 over 1). */
static int run_pool(task *ts, size_t n, long jobs, const char *self, int quiet)
{
    size_t next = 0, running = 0;
    int worst = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (next < n || running > 0) {
        while (next < n && running < (size_t)jobs) {
            task *t = &ts[next++];
            if (start(t, self) != 0) {
                fprintf(stderr, "pdsim: error: %s: cannot start %s (%s)\n", t->label, self,
                        strerror(errno));
                t->status = 1;
                worst = worst ? worst : 1;
                continue;
            }
            running++;
        }
        if (running == 0)
            break;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            task *t = &ts[i];
            if (t->pid != pid)
                continue;
            running--;
            t->pid = 0;
            t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
            if (finish_out(t, t->status == 0) != 0)
                t->status = 1;
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            if (t->status == 0) {
                if (t->stamp[0] && pds_stamp_write(t->stamp, t->key) != 0)
                    fprintf(stderr, "pdsim: warning: %s: cannot record the step as done\n",
                            t->stamp);
                if (!quiet)
                    printf("  done     %s (%.1f s)\n", t->label, s);
            } else {
                fprintf(stderr, "pdsim: error: %s failed (exit %d); its messages:\n", t->label,
                        t->status);
                FILE *f = fopen(t->err, "r");
                char line[1024];
                while (f && fgets(line, sizeof line, f))
                    fprintf(stderr, "    %s", line);
                if (f)
                    fclose(f);
                if (t->status == 2 || worst == 0)
                    worst = t->status == 2 ? 2 : 1;
            }
        }
    }
    fflush(stdout);
    return worst;
}

static int self_path(char *out, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    return 0;
}

/* Same key in the stamp file, and every output there. */
static int up_to_date(const char *stamp, const char *key, const char *const *outputs)
{
    char have[512];
    if (pds_stamp_read(stamp, have, sizeof have) != 0 || strcmp(have, key) != 0)
        return 0;
    for (; *outputs; outputs++)
        if (access(*outputs, F_OK) != 0)
            return 0;
    return 1;
}

/* A file of the study written safely (sim/io/outfile.h): 0, or 1 with the
 * message printed. */
static int begin_file(pds_outfile *o, const char *path)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_begin(o, path, NULL, 0, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return st == PDS_OK ? 0 : 1;
}

static int end_file(pds_outfile *o)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_status st = pds_outfile_commit(o, &d);
    pds_cli_print_diag(&d);
    pds_diag_free(&d);
    return st == PDS_OK ? 0 : 1;
}

/* Concatenate each run's CSV file NAME (made by pdsim summary --csv) into
 * one tidy file with a leading scenario column. 0 or 1. */
static int tidy_csv(const char *out_dir, char *const *names, size_t n, const char *file,
                    const char *dest)
{
    pds_outfile out;
    if (begin_file(&out, dest) != 0)
        return 1;
    FILE *o = out.f;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char src[4096];
        snprintf(src, sizeof src, "%s/csv/%s/%s", out_dir, names[i], file);
        FILE *f = fopen(src, "r");
        if (!f) {
            fprintf(stderr, "pdsim: error: %s: cannot read it (%s)\n", src, strerror(errno));
            rc = 1;
            break;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int first = 1;
        while ((len = getline(&line, &cap, f)) > 0) {
            if (first) {
                if (i == 0)
                    fprintf(o, "scenario,%s", line);
                first = 0;
                continue;
            }
            pds_cli_csv_field(o, names[i]);
            fputc(',', o);
            fputs(line, o);
        }
        free(line);
        fclose(f);
    }
    if (rc) {
        pds_outfile_abort(&out);
        return 1;
    }
    return end_file(&out);
}

static int write_index(const char *dir, char *const *names, size_t n, int report)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", dir);
    pds_outfile out;
    if (begin_file(&out, path) != 0)
        return 1;
    FILE *f = out.f;
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pdsim study</title>"
               "</head>\n<body>\n<h1>Study: %s against the baseline</h1>\n<ul>\n",
            n > 1 ? "scenarios" : "no scenario");
    fprintf(f, "<li>baseline <b>%s</b>: %s<a href=\"runs/%s.txt\">forecast table</a>, "
               "<a href=\"csv/%s/\">CSV</a></li>\n",
            names[0], "", names[0], names[0]);
    for (size_t i = 1; i < n; i++) {
        fprintf(f, "<li><b>%s</b>: ", names[i]);
        if (report)
            fprintf(f, "<a href=\"report/%s/index.html\">report</a>, ", names[i]);
        fprintf(f,
                "<a href=\"compare/%s.txt\">comparison table</a>, "
                "<a href=\"compare/%s.csv\">comparison CSV</a>, "
                "<a href=\"runs/%s.txt\">forecast table</a>, <a href=\"csv/%s/\">CSV</a></li>\n",
                names[i], names[i], names[i], names[i]);
    }
    fprintf(f, "</ul>\n<p>Across the study, one row per scenario and unit: "
               "<a href=\"csv/study_forecast.csv\">csv/study_forecast.csv</a>; per scenario and "
               "year: <a href=\"csv/study_national.csv\">csv/study_national.csv</a>.</p>\n"
               "</body></html>\n");
    return end_file(&out);
}

static int usage(void)
{
    fprintf(stderr, "pdsim: error: expected one STUDY.yaml; usage: pdsim study STUDY.yaml "
                    "[-n RUNS] [-j JOBS] [-o DIR] [--replace] [-q]\n");
    return 2;
}

int pds_cmd_study(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'n'},   {"jobs", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'}, {"replace", no_argument, NULL, 'F'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long runs_opt = 0, jobs_opt = -1;
    const char *out_opt = NULL;
    int replace = 0, quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:j:o:qh", longopts, NULL)) != -1) {
        long v;
        switch (c) {
        case 'n':
        case 'j':
            if (pds_parse_long(optarg, &v) != 0 || v < (c == 'n') || v > (c == 'n' ? 1000000000 : 64)) {
                fprintf(stderr, "pdsim: error: %s: expected %s, got \"%s\"\n",
                        c == 'n' ? "--runs" : "--jobs",
                        c == 'n' ? "an integer in 1..1000000000" : "an integer in 0..64", optarg);
                return 2;
            }
            if (c == 'n')
                runs_opt = v;
            else
                jobs_opt = v;
            break;
        case 'o':
            out_opt = optarg;
            break;
        case 'F':
            replace = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "study", argv);
        }
    }
    if (optind != argc - 1)
        return usage();
    pds_diag diag;
    pds_diag_init(&diag);
    pds_study *sd = pds_study_load(argv[optind], &diag);
    if (!sd) {
        pds_cli_print_diag(&diag);
        pds_diag_free(&diag);
        return 2;
    }
    char self[4096];
    if (self_path(self, sizeof self) != 0) {
        fprintf(stderr, "pdsim: error: cannot find the pdsim program itself (/proc/self/exe)\n");
        pds_study_free(sd);
        return 1;
    }
    const char *dir = out_opt ? out_opt : sd->output_dir;
    size_t n = 1 + sd->n_scenarios;
    const char *paths[MAX_CONFIGS];
    char *names[MAX_CONFIGS] = {0};
    char keys[MAX_CONFIGS][160];
    char h5[MAX_CONFIGS][4096];
    uint64_t runs = 0, seed = 0;
    int rc = 0;
    paths[0] = sd->baseline_path;
    for (size_t i = 1; i < n; i++)
        paths[i] = sd->scenario_path[i - 1];
    /* every config first: a bad one stops the study before anything runs */
    for (size_t i = 0; i < n; i++) {
        pds_run_config *cfg = pds_run_config_load(paths[i], &diag);
        names[i] = pds_study_name(paths[i]);
        if (!cfg) {
            rc = 2;
            continue;
        }
        uint64_t r = runs_opt ? (uint64_t)runs_opt : sd->runs ? sd->runs : cfg->runs;
        if (i == 0) {
            runs = r;
            seed = cfg->seed;
        } else if (cfg->seed != seed) {
            pds_diag_add(&diag, paths[i], 0, 0,
                         "seed %llu differs from the baseline's %llu: a scenario is compared run "
                         "by run with the baseline, so expected the same seed",
                         (unsigned long long)cfg->seed, (unsigned long long)seed);
            rc = 2;
        } else if (r != runs) {
            pds_diag_add(&diag, paths[i], 0, 0,
                         "runs %llu differs from the baseline's %llu: expected the same number "
                         "of runs (or set runs in the study file)",
                         (unsigned long long)r, (unsigned long long)runs);
            rc = 2;
        }
        char hash[64];
        pds_input_hash(cfg, hash, sizeof hash);
        snprintf(keys[i], sizeof keys[i], "%s runs=%llu", hash, (unsigned long long)r);
        pds_run_config_free(cfg);
    }
    if (rc) {
        pds_cli_print_diag(&diag);
        goto done;
    }
    const char *sub[] = {"runs", "compare", "csv", "logs", ".study", "report"};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0] && rc == 0; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
        rc = pds_cli_make_dir(p);
    }
    if (rc)
        goto done;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    long jobs = jobs_opt >= 0 ? jobs_opt : sd->jobs;
    if (jobs == 0)
        jobs = cores < (long)n ? cores : (long)n;
    long threads = cores / jobs > 0 ? cores / jobs : 1;
    if (!quiet)
        printf("study %s: baseline %s and %zu scenario%s, %llu runs each; results in %s\n",
               argv[optind], names[0], n - 1, n == 2 ? "" : "s", (unsigned long long)runs, dir);

    /* 1. the runs */
    task ts[MAX_CONFIGS * 2];
    size_t nt = 0;
    memset(ts, 0, sizeof ts);
    for (size_t i = 0; i < n; i++) {
        snprintf(h5[i], sizeof h5[i], "%s/runs/%s.h5", dir, names[i]);
        pds_result_stamp have;
        char hash[64];
        snprintf(hash, sizeof hash, "%.*s", (int)strcspn(keys[i], " "), keys[i]);
        int exists = pds_result_stamp_read(h5[i], &have) == 0;
        if (exists && have.complete && strcmp(have.input_hash, hash) == 0 && have.n_runs == runs) {
            if (!quiet)
                printf("  skipped  run %s (inputs unchanged)\n", names[i]);
            continue;
        }
        if (exists && have.n_runs > runs && !replace) {
            fprintf(stderr,
                    "pdsim: error: %s holds %llu runs and this study would replace it with "
                    "%llu; add --replace to do so, or -o DIR for a separate trial\n",
                    h5[i], (unsigned long long)have.n_runs, (unsigned long long)runs);
            rc = 2;
            continue;
        }
        task *t = &ts[nt++];
        int na = 1;
        char nbuf[32], jbuf[32];
        snprintf(nbuf, sizeof nbuf, "%llu", (unsigned long long)runs);
        snprintf(jbuf, sizeof jbuf, "%ld", threads);
        task_arg(t, &na, "run", 0);
        task_arg(t, &na, paths[i], 0);
        task_arg(t, &na, "-o", 0);
        task_arg(t, &na, h5[i], 0);
        task_arg(t, &na, "-n", 0);
        task_arg(t, &na, strdup(nbuf), 1);
        task_arg(t, &na, "-j", 0);
        task_arg(t, &na, strdup(jbuf), 1);
        task_arg(t, &na, "--replace", 0);
        /* a run stopped part-way continues where it stopped */
        char partial[4200];
        pds_result_stamp ph;
        snprintf(partial, sizeof partial, "%s.partial", h5[i]);
        if (pds_result_stamp_read(partial, &ph) == 0 && strcmp(ph.input_hash, hash) == 0 &&
            ph.n_runs == runs)
            task_arg(t, &na, "--resume", 0);
        snprintf(t->out, sizeof t->out, "%s/runs/%s.txt", dir, names[i]);
        snprintf(t->err, sizeof t->err, "%s/logs/run-%s.log", dir, names[i]);
        snprintf(t->label, sizeof t->label, "run %s%s%s", names[i],
                 na > 0 && strcmp(t->argv[na - 1], "--resume") == 0 ? " (resumed)" : "",
                 exists ? " (inputs changed: replacing the earlier result)" : "");
    }
    if (rc == 0 && nt)
        rc = run_pool(ts, nt, jobs, self, quiet);
    for (size_t i = 0; i < nt; i++)
        task_free(&ts[i]);
    if (rc)
        goto done;

    /* 2. each scenario against the baseline, and 3. the CSV files of each run */
    nt = 0;
    memset(ts, 0, sizeof ts);
    for (size_t i = 1; i < n; i++) {
        task *t = &ts[nt];
        snprintf(t->stamp, sizeof t->stamp, "%s/.study/compare-%s", dir, names[i]);
        snprintf(t->key, sizeof t->key, "%s|%s", keys[0], keys[i]);
        char *o1 = dupf("%s/compare/%s.h5", dir, names[i]), *o2 = dupf("%s/compare/%s.csv", dir, names[i]);
        const char *outs[] = {o1, o2, NULL};
        if (o1 && o2 && up_to_date(t->stamp, t->key, outs)) {
            if (!quiet)
                printf("  skipped  compare %s with %s (inputs unchanged)\n", names[i], names[0]);
            free(o1);
            free(o2);
            t->stamp[0] = '\0';
            continue;
        }
        int na = 1;
        task_arg(t, &na, "compare", 0);
        task_arg(t, &na, h5[0], 0);
        task_arg(t, &na, h5[i], 0);
        task_arg(t, &na, "-o", 0);
        task_arg(t, &na, o1, 1);
        task_arg(t, &na, "--csv", 0);
        task_arg(t, &na, o2, 1);
        task_arg(t, &na, "--replace", 0);
        snprintf(t->out, sizeof t->out, "%s/compare/%s.txt", dir, names[i]);
        snprintf(t->err, sizeof t->err, "%s/logs/compare-%s.log", dir, names[i]);
        snprintf(t->label, sizeof t->label, "compare %s with %s", names[i], names[0]);
        nt++;
    }
    for (size_t i = 0; i < n; i++) {
        task *t = &ts[nt];
        snprintf(t->stamp, sizeof t->stamp, "%s/.study/csv-%s", dir, names[i]);
        snprintf(t->key, sizeof t->key, "%s", keys[i]);
        char *d = dupf("%s/csv/%s", dir, names[i]);
        const char *outs[] = {d, NULL};
        if (d && up_to_date(t->stamp, t->key, outs)) {
            if (!quiet)
                printf("  skipped  CSV of %s (inputs unchanged)\n", names[i]);
            free(d);
            t->stamp[0] = '\0';
            continue;
        }
        int na = 1;
        task_arg(t, &na, "summary", 0);
        task_arg(t, &na, h5[i], 0);
        task_arg(t, &na, "--csv", 0);
        task_arg(t, &na, d, 1);
        task_arg(t, &na, "--replace", 0);
        task_arg(t, &na, "-q", 0);
        snprintf(t->out, sizeof t->out, "%s/logs/csv-%s.out", dir, names[i]);
        snprintf(t->err, sizeof t->err, "%s/logs/csv-%s.log", dir, names[i]);
        snprintf(t->label, sizeof t->label, "CSV of %s", names[i]);
        nt++;
    }
    if (nt)
        rc = run_pool(ts, nt, jobs, self, quiet);
    for (size_t i = 0; i < nt; i++)
        task_free(&ts[i]);
    if (rc)
        goto done;
    {
        /* the tidy files across the study, from the per-run files */
        char all[sizeof keys + 16] = "", stamp[4096], d1[4096], d2[4096];
        for (size_t i = 0; i < n; i++) {
            strncat(all, keys[i], sizeof all - strlen(all) - 1);
            strncat(all, "|", sizeof all - strlen(all) - 1);
        }
        char key[512];
        uint64_t hk = PDS_HASH_INIT;
        pds_hash_bytes(&hk, all, strlen(all));
        for (size_t i = 0; i < n; i++)
            pds_hash_bytes(&hk, names[i], strlen(names[i]) + 1);
        snprintf(key, sizeof key, "%016llx", (unsigned long long)hk);
        snprintf(stamp, sizeof stamp, "%s/.study/tidy", dir);
        snprintf(d1, sizeof d1, "%s/csv/study_forecast.csv", dir);
        snprintf(d2, sizeof d2, "%s/csv/study_national.csv", dir);
        const char *outs[] = {d1, d2, NULL};
        if (up_to_date(stamp, key, outs)) {
            if (!quiet)
                printf("  skipped  tidy CSV across the study (inputs unchanged)\n");
        } else {
            rc = tidy_csv(dir, names, n, "forecast.csv", d1);
            if (rc == 0)
                rc = tidy_csv(dir, names, n, "national_year.csv", d2);
            if (rc == 0)
                pds_stamp_write(stamp, key);
            if (rc == 0 && !quiet)
                printf("  done     tidy CSV across the study (csv/study_forecast.csv, "
                       "csv/study_national.csv)\n");
        }
    }
    if (rc)
        goto done;

    /* 4. the report of each comparison */
    nt = 0;
    memset(ts, 0, sizeof ts);
    for (size_t i = 1; sd->report && i < n; i++) {
        task *t = &ts[nt];
        snprintf(t->stamp, sizeof t->stamp, "%s/.study/report-%s", dir, names[i]);
        snprintf(t->key, sizeof t->key, "%s|%s", keys[0], keys[i]);
        char *d = dupf("%s/report/%s", dir, names[i]), *cmp = dupf("%s/compare/%s.h5", dir, names[i]);
        char *idx = d ? dupf("%s/%s", d, "index.html") : NULL;
        const char *outs[] = {idx, NULL};
        if (idx && up_to_date(t->stamp, t->key, outs)) {
            if (!quiet)
                printf("  skipped  report of %s (inputs unchanged)\n", names[i]);
            free(d);
            free(cmp);
            free(idx);
            t->stamp[0] = '\0';
            continue;
        }
        free(idx);
        int na = 1;
        task_arg(t, &na, "report", 0);
        task_arg(t, &na, h5[i], 0);
        task_arg(t, &na, cmp, 1);
        task_arg(t, &na, "-o", 0);
        task_arg(t, &na, d, 1);
        task_arg(t, &na, "--replace", 0);
        task_arg(t, &na, "-q", 0);
        snprintf(t->out, sizeof t->out, "%s/logs/report-%s.out", dir, names[i]);
        snprintf(t->err, sizeof t->err, "%s/logs/report-%s.log", dir, names[i]);
        snprintf(t->label, sizeof t->label, "report of %s", names[i]);
        nt++;
    }
    if (nt)
        rc = run_pool(ts, nt, jobs, self, quiet);
    for (size_t i = 0; i < nt; i++)
        task_free(&ts[i]);
    if (rc == 0)
        rc = write_index(dir, names, n, sd->report);
    if (rc == 0 && !quiet)
        printf("study complete: open %s/index.html\n", dir);
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    pds_diag_free(&diag);
    pds_study_free(sd);
    return rc;
}
