#define _XOPEN_SOURCE 700
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef PDS_WITH_MPI
#include <mpi.h>
#endif

#include "../io/csvtab.h"
#include "../io/inputs.h"
#include "../io/sweep.h"
#include "../io/sweep_h5.h"
#include "cli.h"

#ifndef PDS_SCRIPTS_DIR
#define PDS_SCRIPTS_DIR "scripts"
#endif

extern char **environ;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* A non-negative integer option or environment value; -1 when bad. */
static long parse_index(const char *s)
{
    long v;
    return pds_parse_long(s, &v) != 0 || v < 0 || v > 1000000 ? -1 : v;
}

static void list_design(const pds_sweep *sw)
{
    printf("# sweep %s: design %s, %zu points x %zu parameters, %llu runs per point, seed %llu, "
           "random numbers %s, hash %s\n",
           sw->path, pds_design_names[sw->design], sw->n_points, sw->n_params,
           (unsigned long long)sw->runs_per_point, (unsigned long long)sw->seed,
           sw->common_numbers ? "common" : "per_point", sw->hash);
    printf("point\tseed");
    for (size_t p = 0; p < sw->n_params; p++)
        printf("\t%s", sw->params[p].name);
    putchar('\n');
    for (size_t i = 0; i < sw->n_points; i++) {
        printf("%zu\t%llu", i, (unsigned long long)pds_sweep_point_seed(sw, i));
        for (size_t p = 0; p < sw->n_params; p++)
            printf("\t%.17g", sw->values[i * sw->n_params + p]);
        putchar('\n');
    }
}

typedef struct task_ctx {
    pds_sweep *sw;
    pds_sweep_part *part;
    size_t task, tasks, first, end;
    int quiet;
    pds_diag *diag;
} task_ctx;

static void point_done(const task_ctx *c, size_t k)
{
    if (!c->quiet)
        fprintf(stderr, "pdsim: task %zu of %zu: point %zu done (%zu of %zu)\n", c->task, c->tasks,
                c->first + k, k + 1, c->end - c->first);
}

static size_t n_years(const pds_sweep *sw)
{
    return (size_t)(sw->setup.cfg->horizon - sw->setup.cfg->base_year);
}

/* Part points [k0, end) one after another, each over `threads` threads:
 * for fewer points than threads. */
static pds_status run_serial(const task_ctx *c, size_t k0, int threads)
{
    pds_sweep_stats st;
    if (pds_sweep_stats_init(&st, 1, n_years(c->sw), c->sw->setup.world->n_units) != 0)
        return PDS_ERR_RUNTIME;
    pds_status rc = PDS_OK;
    for (size_t k = k0; k < c->end - c->first && rc == PDS_OK; k++) {
        rc = pds_sweep_run_point(c->sw, c->first + k, threads, (volatile int *)&interrupted, &st,
                                 0, c->diag);
        if (rc == PDS_OK && pds_sweep_part_write(c->part, k, &st) != 0) {
            pds_diag_add(c->diag, c->sw->parts_dir, 0, 0,
                         "cannot write the part file (disk full?)");
            rc = PDS_ERR_RUNTIME;
        }
        if (rc == PDS_OK)
            point_done(c, k);
    }
    pds_sweep_stats_free(&st);
    return rc;
}

/* Part points [k0, end) shared among nt threads, one point per thread at a
 * time (each point's runs on one thread: no synchronisation per chunk of
 * runs). Points are prepared one at a time (they change the shared setup)
 * and written in point order as soon as every earlier one is written, so a
 * kill loses only points in progress. A point's results do not depend on
 * the threads, so the part is the same as run_serial's. */
static pds_status run_parallel(const task_ctx *c, size_t k0, int nt)
{
    const size_t K = c->end - c->first, block = 64 * (size_t)nt;
    pds_sweep_stats *slot = calloc(block, sizeof *slot);
    unsigned char *ready = calloc(block, 1);
    pds_status rc = slot && ready ? PDS_OK : PDS_ERR_RUNTIME;
    for (size_t i = 0; rc == PDS_OK && i < block; i++)
        if (pds_sweep_stats_init(&slot[i], 1, n_years(c->sw), c->sw->setup.world->n_units) != 0)
            rc = PDS_ERR_RUNTIME;
    int failed = rc != PDS_OK;
    for (size_t b0 = k0; b0 < K && !failed && !interrupted; b0 += block) {
        const size_t m = K - b0 < block ? K - b0 : block;
        size_t next = 0;
        memset(ready, 0, block);
        const long lm = (long)m;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (long i = 0; i < lm; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop || interrupted)
                continue;
            const size_t point = c->first + b0 + (size_t)i;
            pds_sweep_sims *sim = NULL;
            pds_status r;
#pragma omp critical(pds_sweep_shared)
            r = pds_sweep_prepare_point(c->sw, point, &sim, c->diag);
            if (r == PDS_OK)
                r = pds_sweep_run_prepared(c->sw, sim, point, 1, (volatile int *)&interrupted,
                                           &slot[i], 0);
            pds_sweep_sims_free(sim);
#pragma omp critical(pds_sweep_shared)
            {
                if (r != PDS_OK && rc == PDS_OK)
                    rc = r;
                ready[i] = r == PDS_OK;
                while (rc == PDS_OK && next < m && ready[next]) {
                    if (pds_sweep_part_write(c->part, b0 + next, &slot[next]) != 0) {
                        pds_diag_add(c->diag, c->sw->parts_dir, 0, 0,
                                     "cannot write the part file (disk full?)");
                        rc = PDS_ERR_RUNTIME;
                        break;
                    }
                    point_done(c, b0 + next);
                    next++;
                }
                if (rc != PDS_OK) {
#pragma omp atomic write
                    failed = 1;
                }
            }
        }
        if (rc == PDS_OK && next < m)
            rc = PDS_ERR_RUNTIME; /* interrupted */
    }
    for (size_t i = 0; slot && i < block; i++)
        pds_sweep_stats_free(&slot[i]);
    free(slot);
    free(ready);
    return rc;
}

/* Run this task's points into its part file. */
static pds_status run_task(pds_sweep *sw, size_t task, size_t tasks, int threads, int quiet,
                           pds_diag *diag)
{
    task_ctx c = {.sw = sw, .task = task, .tasks = tasks, .quiet = quiet, .diag = diag};
    size_t done = 0;
    pds_sweep_task_points(sw->n_points, task, tasks, &c.first, &c.end);
    pds_status opened = pds_sweep_part_open(sw, task, tasks, &done, &c.part, diag);
    if (opened != PDS_OK)
        return opened;
    if (!c.part) {
        if (!quiet)
            fprintf(stderr, "pdsim: task %zu of %zu: already complete in %s\n", task, tasks,
                    sw->parts_dir);
        return PDS_OK;
    }
    if (done > 0 && !quiet)
        fprintf(stderr, "pdsim: task %zu of %zu: resuming after %zu of %zu points\n", task, tasks,
                done, c.end - c.first);
    int nt = threads > 0 ? threads : 1;
#ifdef _OPENMP
    if (threads <= 0)
        nt = omp_get_max_threads();
#endif
    size_t left = c.end - c.first - done;
    pds_status rc = nt > 1 && left >= (size_t)nt ? run_parallel(&c, done, nt)
                                                 : run_serial(&c, done, nt);
    if (rc != PDS_OK || interrupted) {
        pds_sweep_part_close(c.part);
        if (interrupted)
            fprintf(stderr, "pdsim: interrupted; the finished points are kept: rerun the same "
                            "command to resume\n");
        return rc == PDS_OK ? PDS_ERR_RUNTIME : rc;
    }
    return pds_sweep_part_finish(c.part, diag) == 0 ? PDS_OK : PDS_ERR_RUNTIME;
}

static pds_status merge_all(const pds_sweep *sw, size_t tasks, int quiet, pds_diag *diag)
{
    char **paths = calloc(tasks, sizeof *paths);
    pds_status st = paths ? PDS_OK : PDS_ERR_RUNTIME;
    for (size_t t = 0; st == PDS_OK && t < tasks; t++)
        if (!(paths[t] = pds_sweep_part_path(sw->parts_dir, t, tasks)))
            st = PDS_ERR_RUNTIME;
    if (st == PDS_OK)
        st = pds_sweep_merge((const char *const *)paths, tasks, sw->merged_path, diag);
    if (st == PDS_OK && !quiet)
        pds_cli_print_sobol(sw->merged_path);
    if (st == PDS_OK && !quiet)
        printf("%zu points x %llu runs; sweep results in %s\n", sw->n_points,
               (unsigned long long)sw->runs_per_point, sw->merged_path);
    for (size_t t = 0; paths && t < tasks; t++)
        free(paths[t]);
    free(paths);
    return st;
}

/* ---- --submit: the job array and the merge job ---- */

/* Run argv (found on PATH) with stdout into buf; its exit status, or -1. */
static int spawn_capture(char *const argv[], char *buf, size_t size)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    pid_t pid;
    int started = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0;
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (started && (r = read(fd[0], buf + n, size - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
        if (n == size - 1)
            break;
    }
    buf[n] = '\0';
    close(fd[0]);
    int st = 0;
    if (!started || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

/* A word for a shell command line: quoted unless plainly safe. */
static void print_word(const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,%+@",
                    *p))
            plain = 0;
    if (plain) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*p);
    }
    putchar('\'');
}

static void print_command(char *const argv[])
{
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            putchar(' ');
        print_word(argv[i]);
    }
    putchar('\n');
}

/* The job id in sbatch --parsable output ("ID" or "ID;cluster"); 0 when none. */
static long job_id(const char *out)
{
    char *end;
    errno = 0;
    long id = strtol(out, &end, 10);
    return errno == 0 && end != out && id > 0 && (*end == '\0' || *end == ';' || *end == '\n')
               ? id
               : 0;
}

#define MAX_EXTRA 64

static int submit(const pds_sweep *sw, size_t tasks, const char *logs, int parts_given,
                  int merged_given, char **extra, int n_extra)
{
    if (n_extra > MAX_EXTRA) {
        fprintf(stderr, "pdsim: error: --submit: at most %d sbatch options after --\n",
                MAX_EXTRA);
        return 2;
    }
    const char *sdir = getenv("PDSIM_SCRIPTS");
    if (!sdir || !*sdir)
        sdir = PDS_SCRIPTS_DIR;
    char array_script[PATH_MAX], merge_script[PATH_MAX], exe[PATH_MAX], sweep[PATH_MAX],
        cwd[PATH_MAX], logdir[PATH_MAX];
    snprintf(array_script, sizeof array_script, "%s/slurm/sweep-array.sbatch", sdir);
    snprintf(merge_script, sizeof merge_script, "%s/slurm/sweep-merge.sbatch", sdir);
    for (int i = 0; i < 2; i++) {
        const char *s = i ? merge_script : array_script;
        if (access(s, R_OK) != 0) {
            fprintf(stderr,
                    "pdsim: error: %s: the job script is missing (set PDSIM_SCRIPTS to the "
                    "project's scripts folder)\n",
                    s);
            return 1;
        }
    }
    if (!realpath("/proc/self/exe", exe) || !realpath(sw->path, sweep) || !getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "pdsim: error: cannot resolve the paths of pdsim and %s\n", sw->path);
        return 1;
    }
    if (pds_cli_make_dir(logs) != 0 || !realpath(logs, logdir))
        return 1;
    /* sbatch --export separates variables by commas */
    const char *paths[] = {exe, sweep, parts_given ? sw->parts_dir : "",
                           merged_given ? sw->merged_path : ""};
    for (size_t i = 0; i < 4; i++)
        if (strchr(paths[i], ',')) {
            fprintf(stderr,
                    "pdsim: error: %s: a path with a comma cannot pass through sbatch --export\n",
                    paths[i]);
            return 2;
        }
    char exports[4 * PATH_MAX + 256];
    snprintf(exports, sizeof exports, "--export=ALL,PDSIM=%s,SWEEP=%s,TASKS=%zu%s%s%s%s", exe,
             sweep, tasks, parts_given ? ",PARTS=" : "", parts_given ? sw->parts_dir : "",
             merged_given ? ",MERGED=" : "", merged_given ? sw->merged_path : "");
    char array[64], jname[300], mname[300], out_a[PATH_MAX + 64], out_m[PATH_MAX + 64],
        chdir_opt[PATH_MAX + 16], dep[64];
    snprintf(array, sizeof array, "--array=0-%zu", tasks - 1);
    snprintf(jname, sizeof jname, "--job-name=pdsim-%s", sw->name);
    snprintf(mname, sizeof mname, "--job-name=pdsim-%s-merge", sw->name);
    snprintf(out_a, sizeof out_a, "--output=%s/%s-%%A_%%a.log", logdir, sw->name);
    snprintf(out_m, sizeof out_m, "--output=%s/%s-merge-%%j.log", logdir, sw->name);
    snprintf(chdir_opt, sizeof chdir_opt, "--chdir=%s", cwd);

    char *av[MAX_EXTRA + 16];
    int n = 0;
    av[n++] = "sbatch";
    av[n++] = "--parsable";
    av[n++] = array;
    av[n++] = jname;
    av[n++] = chdir_opt;
    av[n++] = out_a;
    av[n++] = exports;
    for (int i = 0; i < n_extra; i++)
        av[n++] = extra[i];
    av[n++] = array_script;
    av[n] = NULL;
    char out[512];
    int rc = spawn_capture(av, out, sizeof out);
    long aj = rc == 0 ? job_id(out) : 0;
    if (!aj) {
        fprintf(stderr, "pdsim: error: sbatch %s failed (%s)\n", array_script,
                rc < 0 ? "cannot run sbatch: is Slurm installed?" : "see its message above");
        return 1;
    }
    snprintf(dep, sizeof dep, "--dependency=afterok:%ld", aj);
    char *mv[MAX_EXTRA + 16];
    int k = 0;
    mv[k++] = "sbatch";
    mv[k++] = "--parsable";
    mv[k++] = dep;
    mv[k++] = mname;
    mv[k++] = chdir_opt;
    mv[k++] = out_m;
    mv[k++] = exports;
    for (int i = 0; i < n_extra; i++)
        mv[k++] = extra[i];
    mv[k++] = merge_script;
    mv[k] = NULL;
    rc = spawn_capture(mv, out, sizeof out);
    long mj = rc == 0 ? job_id(out) : 0;
    if (!mj) {
        fprintf(stderr,
                "pdsim: error: sbatch %s failed; the array job %ld is submitted: merge by hand "
                "when it has finished (pdsim sweep %s --merge)\n",
                merge_script, aj, sw->path);
        return 1;
    }
    printf("array_job\t%ld\nmerge_job\t%ld\n", aj, mj);
    printf("# sweep %s: %zu points in %zu tasks (array 0-%zu), parts in %s, merged into %s\n",
           sw->path, sw->n_points, tasks, tasks - 1, sw->parts_dir, sw->merged_path);
    printf("# the merge job %ld starts when every task of %ld has succeeded\n", mj, aj);
    printf("# watch:   squeue -j %ld,%ld\n", aj, mj);
    printf("# logs:    %s/%s-%ld_TASK.log, %s/%s-merge-%ld.log\n", logdir, sw->name, aj, logdir,
           sw->name, mj);
    printf("# rerun task I alone (it redoes only its own points, resuming its part):\n#   ");
    av[2] = "--array=I";
    print_command(av);
    printf("# a failed task leaves the merge job waiting for ever: cancel it (scancel %ld), and "
           "after the rerun merge with\n#   ",
           mj);
    mv[2] = "--dependency=afterok:RERUN_JOB";
    print_command(mv);
    printf("# or here: ");
    print_word(exe);
    printf(" sweep ");
    print_word(sweep);
    printf(" --merge");
    if (!sw->tasks)
        printf(" --tasks %zu", tasks);
    if (parts_given) {
        printf(" -o ");
        print_word(sw->parts_dir);
    }
    if (merged_given) {
        printf(" -m ");
        print_word(sw->merged_path);
    }
    putchar('\n');
    return 0;
}

int pds_cmd_sweep(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"task", required_argument, NULL, 'i'},
        {"tasks", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"merged", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'j'},
        {"list", no_argument, NULL, 'l'},
        {"merge", no_argument, NULL, 'M'},
        {"submit", no_argument, NULL, 'S'},
        {"logs", required_argument, NULL, 'L'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long task = -1, tasks = -1, threads = -1;
    const char *out = NULL, *merged = NULL, *logs = "logs";
    int list = 0, quiet = 0, merge_only = 0, submit_jobs = 0, c;
    /* --submit passes what follows -- to sbatch */
    int n_opts = argc, n_extra = 0;
    char **extra = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            n_opts = i;
            extra = argv + i + 1;
            n_extra = argc - i - 1;
            break;
        }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(n_opts, argv, ":o:m:j:lqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
        case 'n':
        case 'j': {
            long v = parse_index(optarg);
            const char *name = c == 'i' ? "--task" : c == 'n' ? "--tasks" : "--threads";
            if (v < 0 || (c == 'n' && v == 0) || (c == 'j' && v > 1024)) {
                fprintf(stderr, "pdsim: error: %s: expected %s, got \"%s\"\n", name,
                        c == 'n' ? "a positive integer" : "a non-negative integer", optarg);
                return 2;
            }
            *(c == 'i' ? &task : c == 'n' ? &tasks : &threads) = v;
            break;
        }
        case 'o':
            out = optarg;
            break;
        case 'm':
            merged = optarg;
            break;
        case 'l':
            list = 1;
            break;
        case 'M':
            merge_only = 1;
            break;
        case 'S':
            submit_jobs = 1;
            break;
        case 'L':
            logs = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "sweep", argv);
        }
    }
    if (optind != n_opts - 1) {
        fprintf(stderr,
                "pdsim: error: expected one SWEEP.yaml; usage: pdsim sweep SWEEP.yaml "
                "[--task I] [--tasks N] [-o DIR] [-m MERGED.h5] [-j THREADS] [--list] [--merge] "
                "[--submit [--logs DIR] [-- SBATCH_OPTIONS...]] [-q]\n");
        return 2;
    }
    if (extra && !submit_jobs) {
        fprintf(stderr, "pdsim: error: options after -- go to sbatch: they need --submit\n");
        return 2;
    }
    if (list + merge_only + submit_jobs > 1) {
        fprintf(stderr, "pdsim: error: give at most one of --list, --merge and --submit\n");
        return 2;
    }
    if (task >= 0 && (merge_only || submit_jobs)) {
        fprintf(stderr, "pdsim: error: --task runs one task: not with --merge or --submit\n");
        return 2;
    }
    /* a Slurm job array task: its ID is the task (the array must count from 0) */
    const char *sid = getenv("SLURM_ARRAY_TASK_ID");
    long slurm_task = -1;
    if (task < 0 && sid && !list && !merge_only && !submit_jobs) {
        slurm_task = parse_index(sid);
        if (slurm_task < 0) {
            fprintf(stderr,
                    "pdsim: error: SLURM_ARRAY_TASK_ID=%s: expected a non-negative integer\n",
                    sid);
            return 2;
        }
    }
    int rank = 0, size = 1;
#ifdef PDS_WITH_MPI
    int mpi = 0;
    if (!list && !merge_only && !submit_jobs) {
        MPI_Init(&argc, &argv);
        mpi = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        if (size > 1 && (task >= 0 || slurm_task >= 0)) {
            if (rank == 0)
                fprintf(stderr, "pdsim: error: under MPI the ranks share the tasks: give no "
                                "--task (and run no MPI job as a Slurm array)\n");
            MPI_Finalize();
            return 2;
        }
    }
#endif
    pds_diag diag;
    pds_diag_init(&diag);
    pds_sweep *sw = pds_sweep_load(argv[optind], &diag);
    pds_status st = sw ? PDS_OK : PDS_ERR_INPUT;
    if (sw && out) {
        free(sw->parts_dir);
        sw->parts_dir = strdup(out);
    }
    if (sw && merged) {
        free(sw->merged_path);
        sw->merged_path = strdup(merged);
    }
    if (sw && (!sw->parts_dir || !sw->merged_path))
        st = PDS_ERR_RUNTIME;
    if (st == PDS_OK) {
        /* neither the merged file nor the parts replace the sweep file or
         * anything its run config reads */
        pds_inset in;
        pds_inset_init(&in);
        if (pds_inset_add(&in, sw->path) != 0 || pds_run_inputs_add(&in, sw->setup.cfg) != 0)
            st = PDS_ERR_RUNTIME;
        if (st == PDS_OK)
            st = pds_inset_check(&in, sw->merged_path, &diag);
        if (st == PDS_OK)
            st = pds_inset_check(&in, sw->parts_dir, &diag);
        pds_inset_free(&in);
    }
    /* the split: --tasks, the sweep file's tasks, the MPI ranks, or one */
    long n_tasks = tasks > 0 ? tasks : sw && sw->tasks > 0 ? sw->tasks : size;
    if (st == PDS_OK && slurm_task >= 0) {
        if (tasks < 0 && sw->tasks == 0) {
            pds_diag_add(&diag, sw->path, 0, 0,
                         "a Slurm array task needs the number of tasks fixed: set tasks: N in the "
                         "sweep file or give --tasks N (SLURM_ARRAY_TASK_COUNT changes when a "
                         "task is resubmitted alone)");
            st = PDS_ERR_INPUT;
        } else if (slurm_task >= n_tasks) {
            pds_diag_add(&diag, sw->path, 0, 0,
                         "SLURM_ARRAY_TASK_ID=%ld: expected a task 0..%ld: submit the array as "
                         "--array=0-%ld",
                         slurm_task, n_tasks - 1, n_tasks - 1);
            st = PDS_ERR_INPUT;
        }
        task = slurm_task;
    }
    if (st == PDS_OK && task >= 0 && slurm_task < 0 && tasks < 0 && sw->tasks == 0) {
        pds_diag_add(&diag, sw->path, 0, 0,
                     "--task %ld needs the number of tasks: give --tasks N or set tasks: N in "
                     "the sweep file",
                     task);
        st = PDS_ERR_INPUT;
    }
    if (st == PDS_OK && task >= n_tasks) {
        pds_diag_add(&diag, sw->path, 0, 0,
                     "--task %ld: expected a task index below %ld, the number of tasks (tasks "
                     "count from 0)",
                     task, n_tasks);
        st = PDS_ERR_INPUT;
    }
    if (st == PDS_OK && submit_jobs && n_tasks == 1 && tasks < 0 && sw->tasks == 0) {
        pds_diag_add(&diag, sw->path, 0, 0,
                     "--submit: set tasks: N in the sweep file or give --tasks N (the size of "
                     "the job array)");
        st = PDS_ERR_INPUT;
    }
    int loaded_here = st == PDS_OK;
#ifdef PDS_WITH_MPI
    /* every rank must have the sweep before any waits for the others */
    if (mpi && size > 1) {
        int mine = st == PDS_OK, all = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
        if (!all && st == PDS_OK) {
            pds_diag_add(&diag, sw->path, 0, 0, "another MPI rank could not load the sweep");
            st = PDS_ERR_RUNTIME;
        }
    }
#endif
    int exit_code = -1;
    if (st == PDS_OK && list) {
        list_design(sw);
    } else if (st == PDS_OK && merge_only) {
        st = merge_all(sw, (size_t)n_tasks, quiet, &diag);
    } else if (st == PDS_OK && submit_jobs) {
        exit_code = submit(sw, (size_t)n_tasks, logs, out != NULL, merged != NULL, extra, n_extra);
    } else if (st == PDS_OK) {
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        /* one task, or every task: this process's share of them */
        long t0 = task >= 0 ? task : rank, step = task >= 0 ? n_tasks : size;
        if (!quiet && rank == 0)
            fprintf(stderr,
                    "pdsim: sweep %s: %zu points, %llu runs each, %ld task%s%s; parts in %s\n",
                    sw->path, sw->n_points, (unsigned long long)sw->runs_per_point, n_tasks,
                    n_tasks > 1 ? "s" : "", task >= 0 ? "" : n_tasks > 1 ? ", all here" : "",
                    sw->parts_dir);
        for (long t = t0; st == PDS_OK && t < n_tasks && !interrupted; t += step)
            st = run_task(sw, (size_t)t, (size_t)n_tasks,
                          threads >= 0 ? (int)threads : (int)sw->threads, quiet, &diag);
        if (st == PDS_OK && interrupted)
            st = PDS_ERR_RUNTIME;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        int all_ok = st == PDS_OK;
#ifdef PDS_WITH_MPI
        if (mpi && size > 1) {
            int mine = all_ok;
            MPI_Allreduce(&mine, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
        }
#endif
        /* the whole sweep ran here: merge it */
        if (all_ok && rank == 0 && task < 0)
            st = merge_all(sw, (size_t)n_tasks, quiet, &diag);
        else if (!all_ok && st == PDS_OK)
            st = PDS_ERR_RUNTIME; /* another rank failed; it said why */
        else if (st == PDS_OK && !quiet && task >= 0)
            fprintf(stderr,
                    "pdsim: task %ld of %ld done; when every task is, merge the parts with: "
                    "pdsim sweep %s --merge%s%.0ld, or pdsim merge %s -o %s\n",
                    task, n_tasks, sw->path, sw->tasks ? "" : " --tasks ",
                    sw->tasks ? 0L : n_tasks, sw->parts_dir, sw->merged_path);
    }
    /* a bad sweep file is the same for every rank: rank 0 says so */
    if (rank == 0 || (st != PDS_OK && loaded_here))
        pds_cli_print_diag(&diag);
    pds_diag_free(&diag);
    pds_sweep_free(sw);
#ifdef PDS_WITH_MPI
    if (mpi)
        MPI_Finalize();
#endif
    return exit_code >= 0 && st == PDS_OK ? exit_code : pds_cli_exit(st);
}
