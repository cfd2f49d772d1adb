#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PDS_WITH_MPI
#include <mpi.h>
#endif

#include "../io/csvtab.h"
#include "../io/sweep.h"
#include "../io/sweep_h5.h"
#include "cli.h"

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

/* Run this task's points into its part file. */
static pds_status run_task(pds_sweep *sw, size_t task, size_t tasks, int threads, int quiet,
                           pds_diag *diag)
{
    size_t first, end, done = 0;
    pds_sweep_task_points(sw->n_points, task, tasks, &first, &end);
    pds_sweep_part *part;
    pds_status opened = pds_sweep_part_open(sw, task, tasks, &done, &part, diag);
    if (opened != PDS_OK)
        return opened;
    if (!part) {
        if (!quiet)
            fprintf(stderr, "pdsim: task %zu of %zu: already complete in %s\n", task, tasks,
                    sw->parts_dir);
        return PDS_OK;
    }
    if (done > 0 && !quiet)
        fprintf(stderr, "pdsim: task %zu of %zu: resuming after %zu of %zu points\n", task, tasks,
                done, end - first);
    pds_sweep_stats st;
    if (pds_sweep_stats_init(&st, 1, (size_t)(sw->setup.cfg->horizon - sw->setup.cfg->base_year),
                             sw->setup.world->n_units) != 0) {
        pds_sweep_part_close(part);
        return PDS_ERR_RUNTIME;
    }
    pds_status rc = PDS_OK;
    for (size_t k = done; k < end - first && rc == PDS_OK; k++) {
        rc =
            pds_sweep_run_point(sw, first + k, threads, (volatile int *)&interrupted, &st, 0, diag);
        if (rc == PDS_OK && pds_sweep_part_write(part, k, &st) != 0) {
            pds_diag_add(diag, sw->parts_dir, 0, 0, "cannot write the part file (disk full?)");
            rc = PDS_ERR_RUNTIME;
        }
        if (rc == PDS_OK && !quiet)
            fprintf(stderr, "pdsim: task %zu of %zu: point %zu done (%zu of %zu)\n", task, tasks,
                    first + k, k + 1, end - first);
    }
    pds_sweep_stats_free(&st);
    if (rc != PDS_OK || interrupted) {
        pds_sweep_part_close(part);
        if (interrupted)
            fprintf(stderr, "pdsim: interrupted; the finished points are kept: rerun the same "
                            "command to resume\n");
        return rc == PDS_OK ? PDS_ERR_RUNTIME : rc;
    }
    return pds_sweep_part_finish(part, diag) == 0 ? PDS_OK : PDS_ERR_RUNTIME;
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

int pds_cmd_sweep(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"task", required_argument, NULL, 'i'},
        {"tasks", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"merged", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'j'},
        {"list", no_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long task = -1, tasks = -1, threads = -1;
    const char *out = NULL, *merged = NULL;
    int list = 0, quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:m:j:lqh", longopts, NULL)) != -1) {
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
        case 'q':
            quiet = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "sweep", argv);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr,
                "pdsim: error: expected one SWEEP.yaml; usage: pdsim sweep SWEEP.yaml "
                "[--task I --tasks N] [-o DIR] [-m MERGED.h5] [-j THREADS] [--list] [-q]\n");
        return 2;
    }
    if ((task < 0) != (tasks < 0)) {
        fprintf(stderr, "pdsim: error: give --task and --tasks together\n");
        return 2;
    }
    /* a Slurm job array: SLURM_ARRAY_TASK_ID counts from SLURM_ARRAY_TASK_MIN */
    const char *sid = getenv("SLURM_ARRAY_TASK_ID"), *scount = getenv("SLURM_ARRAY_TASK_COUNT");
    const char *smin = getenv("SLURM_ARRAY_TASK_MIN");
    if (task < 0 && sid && scount && !list) {
        long id = parse_index(sid), n = parse_index(scount), lo = smin ? parse_index(smin) : 0;
        if (id < 0 || n <= 0 || lo < 0 || id < lo) {
            fprintf(stderr,
                    "pdsim: error: SLURM_ARRAY_TASK_ID=%s, SLURM_ARRAY_TASK_COUNT=%s, "
                    "SLURM_ARRAY_TASK_MIN=%s: expected integers with MIN <= ID\n",
                    sid, scount, smin ? smin : "");
            return 2;
        }
        task = id - lo;
        tasks = n;
    }
    if (tasks > 0 && task >= tasks) {
        fprintf(stderr,
                "pdsim: error: --task %ld: expected a task index below --tasks %ld (tasks "
                "count from 0)\n",
                task, tasks);
        return 2;
    }
    int rank = 0, size = 1;
#ifdef PDS_WITH_MPI
    int mpi = 0;
    if (!list) {
        MPI_Init(&argc, &argv);
        mpi = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        if (size > 1 && tasks > 0) {
            if (rank == 0)
                fprintf(stderr, "pdsim: error: under MPI the ranks share the points: give no "
                                "--task/--tasks\n");
            MPI_Finalize();
            return 2;
        }
    }
#endif
    if (size > 1) {
        task = rank;
        tasks = size;
    }
    if (tasks < 0) {
        task = 0;
        tasks = 1;
    }
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
    if (st == PDS_OK && list) {
        list_design(sw);
    } else if (st == PDS_OK) {
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        if (!quiet && rank == 0)
            fprintf(stderr,
                    "pdsim: sweep %s: %zu points, %llu runs each, %zu task%s; parts in %s\n",
                    sw->path, sw->n_points, (unsigned long long)sw->runs_per_point, (size_t)tasks,
                    tasks > 1 ? "s" : "", sw->parts_dir);
        st = run_task(sw, (size_t)task, (size_t)tasks,
                      threads >= 0 ? (int)threads : (int)sw->threads, quiet, &diag);
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
        if (all_ok && rank == 0 && (tasks == 1 || size > 1))
            st = merge_all(sw, (size_t)tasks, quiet, &diag);
        else if (!all_ok && st == PDS_OK)
            st = PDS_ERR_RUNTIME; /* another rank failed; it said why */
        else if (st == PDS_OK && !quiet && size == 1)
            fprintf(stderr,
                    "pdsim: task %ld of %ld done; merge the parts with: pdsim merge %s -o "
                    "%s\n",
                    task, tasks, sw->parts_dir, sw->merged_path);
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
    return pds_cli_exit(st);
}
