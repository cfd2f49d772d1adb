#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/calibrate.h"
#include "../io/csvtab.h"
#include "cli.h"

static volatile sig_atomic_t interrupted;
static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    stop_flag = 1;
}

static void progress(void *ctx, size_t t, const pds_calib_gen *g, int resumed)
{
    const pds_calib *c = ctx;
    (void)c;
    fprintf(stderr,
            "pdsim: generation %zu %s: tolerance %.4g, %llu proposals (%llu simulated), "
            "acceptance %.3f, ESS %.0f\n",
            t, resumed ? "read back" : "done", g->tolerance, (unsigned long long)g->proposals,
            (unsigned long long)g->simulated, (double)g->n / (double)g->proposals, g->ess);
}

static void print_posterior(const pds_calib *c, const pds_calib_gen *g, size_t n_gens)
{
    size_t P = c->n_params;
    double mean[PDS_ABC_MAX_PARAMS], cov[PDS_ABC_MAX_PARAMS * PDS_ABC_MAX_PARAMS];
    pds_abc_weighted_moments(g->n, P, g->theta, g->weight, mean, cov);
    printf("# calibration %s: %zu generations, %zu particles, final tolerance %.4g, hash %s\n",
           c->path, n_gens, g->n, g->tolerance, c->hash);
    printf("parameter\tmean\tsd\tq05\tq50\tq95\n");
    double *x = malloc(g->n * sizeof *x);
    for (size_t p = 0; x && p < P; p++) {
        for (size_t i = 0; i < g->n; i++)
            x[i] = g->theta[i * P + p];
        printf("%s\t%.6g\t%.4g\t%.6g\t%.6g\t%.6g\n", c->sw->params[p].name, mean[p],
               sqrt(cov[p * P + p]), pds_abc_weighted_quantile(g->n, x, g->weight, 0.05),
               pds_abc_weighted_quantile(g->n, x, g->weight, 0.5),
               pds_abc_weighted_quantile(g->n, x, g->weight, 0.95));
    }
    free(x);
}

static char *join(const char *a, const char *b)
{
    return pds_strfmt("%s%s", a, b);
}

/* --simulate V1,V2,...: the statistics of one history at those values. */
static int simulate_at(pds_calib *c, const char *values, unsigned long long seed, int threads)
{
    size_t P = c->n_params, T = c->n_targets, k = 0;
    double theta[PDS_ABC_MAX_PARAMS];
    const char *s = values;
    while (*s && k < P + 1) {
        char *e;
        double v = strtod(s, &e);
        if (e == s || !isfinite(v) || (*e && *e != ',')) {
            fprintf(stderr, "pdsim: error: --simulate: expected %zu numbers separated by commas, "
                            "got \"%s\"\n",
                    P, values);
            return 2;
        }
        if (k < P)
            theta[k] = v;
        k++;
        s = *e ? e + 1 : e;
    }
    if (k != P) {
        fprintf(stderr,
                "pdsim: error: --simulate: expected %zu values (the parameters in the file's "
                "order), got %zu\n",
                P, k);
        return 2;
    }
    double *st = malloc(T * sizeof *st);
    pds_diag d;
    pds_diag_init(&d);
    c->seed = seed;
    /* generation 2^64 - 1: a history the calibration itself never simulates */
    pds_status rc = st ? pds_calib_simulate(c, UINT64_MAX, 0, 1, theta, threads, st, &d)
                       : PDS_ERR_RUNTIME;
    if (rc != PDS_OK) {
        pds_cli_print_diag(&d);
        pds_diag_free(&d);
        free(st);
        return pds_cli_exit(rc);
    }
    for (size_t i = 0; i < T; i++)
        printf("%s\t%.17g\n", c->targets[i].label, st[i]);
    printf("distance\t%.17g\n", pds_calib_distance(c, st));
    pds_diag_free(&d);
    free(st);
    return 0;
}

/* The results of a finished calibration: generations.csv, posterior.csv,
 * the model file and the summary on stdout. rc: the calibration's status
 * so far (generations.csv is written for whatever is finished). */
static pds_status write_results(pds_calib *cal, pds_calib_gen *gens, size_t n_gens,
                                pds_status rc, const char *model_out, int quiet, pds_diag *d)
{
    if (rc == PDS_OK && n_gens == 0)
        rc = PDS_ERR_RUNTIME;
    char *post = rc == PDS_OK ? join(cal->out_dir, "/posterior.csv") : NULL;
    char *gen = n_gens ? join(cal->out_dir, "/generations.csv") : NULL;
    if (gen && pds_calib_write_generations(cal, gens, n_gens, gen, d) != PDS_OK && rc == PDS_OK)
        rc = PDS_ERR_RUNTIME;
    if (rc == PDS_OK)
        rc = post ? pds_calib_write_posterior(cal, &gens[n_gens - 1], post, d) : PDS_ERR_RUNTIME;
    if (rc == PDS_OK && model_out) {
        rc = pds_calib_write_model(cal, &gens[n_gens - 1], model_out, d);
        size_t len = strlen(model_out);
        char *stem = strdup(model_out);
        if (stem && len > 5 && strcmp(stem + len - 5, ".yaml") == 0)
            stem[len - 5] = 0;
        char *beside = stem ? join(stem, ".posterior.csv") : NULL;
        if (rc == PDS_OK)
            rc = beside ? pds_calib_write_posterior(cal, &gens[n_gens - 1], beside, d)
                        : PDS_ERR_RUNTIME;
        free(stem);
        free(beside);
    }
    if (rc == PDS_OK && !quiet)
        print_posterior(cal, &gens[n_gens - 1], n_gens);
    if (!quiet && post && rc == PDS_OK)
        fprintf(stderr, "pdsim: posterior sample %s; generations %s%s%s\n", post, gen,
                model_out ? "; model " : "", model_out ? model_out : "");
    free(post);
    free(gen);
    return rc;
}

static void free_gens(pds_calib_gen *gens, size_t n_gens)
{
    for (size_t i = 0; i < n_gens; i++)
        pds_calib_gen_free(&gens[i]);
    free(gens);
}

/* --step: combine the parts of the current generation. Prints "continue"
 * with the plan, or "finished" and the results. */
static pds_status step(pds_calib *cal, size_t tasks, const char *model_out, int quiet,
                       int announce, int *finished, pds_diag *d)
{
    pds_calib_gen *gens = NULL;
    size_t n_gens = 0;
    pds_calib_split sp;
    pds_status rc =
        pds_calib_step(cal, tasks, quiet ? NULL : progress, cal, &gens, &n_gens, &sp, d);
    *finished = rc == PDS_OK && sp.finished;
    if (rc == PDS_OK && !sp.finished && announce) {
        printf("continue\tgeneration=%zu\tround=%zu\tproposals=%llu\ttasks=%zu\n",
               sp.generation, sp.round, (unsigned long long)sp.target, tasks);
        if (!quiet)
            fprintf(stderr,
                    "pdsim: step: generation %zu, round %zu: tasks 0..%zu make their proposals "
                    "below %llu%s\n",
                    sp.generation, sp.round, tasks - 1, (unsigned long long)sp.target,
                    sp.round > 0 || sp.missing ? " (the parts so far did not hold enough)" : "");
    } else if (rc == PDS_OK && sp.finished) {
        if (announce)
            printf("finished\tgenerations=%zu\n", n_gens);
        fflush(stdout);
        rc = write_results(cal, gens, n_gens, rc, model_out, quiet, d);
    }
    free_gens(gens, n_gens);
    return rc;
}

static pds_status task_run(pds_calib *cal, size_t task, size_t tasks, int threads, int quiet,
                           pds_diag *d)
{
    pds_calib_split sp;
    pds_status rc = pds_calib_task(cal, task, tasks, threads, &stop_flag, &sp, d);
    if (rc == PDS_OK && !quiet) {
        if (sp.finished)
            fprintf(stderr, "pdsim: task %zu of %zu: the calibration is finished (%zu "
                            "generations): nothing to do\n",
                    task, tasks, sp.generation);
        else
            fprintf(stderr,
                    "pdsim: task %zu of %zu: generation %zu, round %zu: proposals below %llu "
                    "made (%s %llu), %zu accepted\n",
                    task, tasks, sp.generation, sp.round, (unsigned long long)sp.covered,
                    sp.resumed ? "resumed at" : "from", (unsigned long long)sp.resumed,
                    sp.accepted);
    }
    return rc;
}

int pds_cmd_calibrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 'j'},
        {"check", no_argument, NULL, 'c'},
        {"simulate", required_argument, NULL, 'S'},
        {"seed", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {"task", required_argument, NULL, 'i'},
        {"tasks", required_argument, NULL, 'n'},
        {"step", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_out = NULL, *dir = NULL, *sim_values = NULL;
    long threads = -1, seed = -1, task = -1, tasks = -1;
    int check = 0, quiet = 0, do_step = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:d:j:s:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
        case 's': {
            long v;
            if (pds_parse_long(optarg, &v) != 0 || v < 0 || (c == 'j' && v > 1024)) {
                fprintf(stderr, "pdsim: error: %s: expected a non-negative integer, got \"%s\"\n",
                        c == 'j' ? "--threads" : "--seed", optarg);
                return 2;
            }
            *(c == 'j' ? &threads : &seed) = v;
            break;
        }
        case 'i':
        case 'n': {
            long v;
            if (pds_parse_long(optarg, &v) != 0 || v < (c == 'n') || v > 1000000) {
                fprintf(stderr, "pdsim: error: %s: expected %s integer, got \"%s\"\n",
                        c == 'i' ? "--task" : "--tasks",
                        c == 'i' ? "a non-negative" : "a positive", optarg);
                return 2;
            }
            *(c == 'i' ? &task : &tasks) = v;
            break;
        }
        case 'p':
            do_step = 1;
            break;
        case 'o':
            model_out = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'c':
            check = 1;
            break;
        case 'S':
            sim_values = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "calibrate", argv);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "pdsim: error: expected one CALIBRATE.yaml; usage: pdsim calibrate "
                        "CALIBRATE.yaml [-o MODEL.yaml] [-d DIR] [-j THREADS] (pdsim help "
                        "calibrate)\n");
        return 2;
    }
    /* a Slurm job array task: its ID is the task (the array counts from 0);
     * the number of tasks never comes from the array */
    const char *sid = getenv("SLURM_ARRAY_TASK_ID");
    if (task < 0 && sid && *sid && !check && !sim_values && !do_step) {
        long v;
        if (pds_parse_long(sid, &v) != 0 || v < 0) {
            fprintf(stderr, "pdsim: error: SLURM_ARRAY_TASK_ID=%s: expected a non-negative "
                            "integer\n",
                    sid);
            return 2;
        }
        if (tasks < 0) {
            fprintf(stderr, "pdsim: error: a Slurm array task needs the number of tasks fixed: "
                            "give --tasks N (SLURM_ARRAY_TASK_COUNT changes when a task is "
                            "resubmitted alone)\n");
            return 2;
        }
        task = v;
    }
    if ((task >= 0 || do_step) && tasks < 0) {
        fprintf(stderr, "pdsim: error: %s needs --tasks N, the number of tasks\n",
                do_step ? "--step" : "--task");
        return 2;
    }
    if (task >= 0 && task >= tasks) {
        fprintf(stderr, "pdsim: error: task %ld: expected a task 0..%ld of the %ld%s\n", task,
                tasks - 1, tasks, sid && *sid ? " (submit the array as --array=0-(N-1))" : "");
        return 2;
    }
    if (task >= 0 && (do_step || model_out)) {
        fprintf(stderr, "pdsim: error: --task makes one task's share: not with --step or -o\n");
        return 2;
    }
    if (tasks > 0 && (check || sim_values)) {
        fprintf(stderr, "pdsim: error: --tasks, --task and --step are not for --check or "
                        "--simulate\n");
        return 2;
    }
    pds_diag d;
    pds_diag_init(&d);
    pds_calib *cal = pds_calib_load(argv[optind], &d);
    if (!cal) {
        pds_cli_print_diag(&d);
        pds_diag_free(&d);
        return 2;
    }
    if (dir) {
        free(cal->out_dir);
        cal->out_dir = strdup(dir);
    }
    int nthreads = threads >= 0 ? (int)threads : (int)cal->threads;
    int status = 0;
    if (check) {
        printf("# calibration %s: %zu parameters, %zu targets, %llu particles, at most %llu "
               "generations, hash %s, output %s\n",
               cal->path, cal->n_params, cal->n_targets, (unsigned long long)cal->particles,
               (unsigned long long)cal->generations, cal->hash, cal->out_dir);
        for (size_t p = 0; p < cal->n_params; p++)
            printf("parameter\t%s\t%s\t%g\t%g\n", cal->sw->params[p].name,
                   cal->prior[p].kind == PDS_PRIOR_UNIFORM ? "uniform" : "normal",
                   cal->prior[p].a, cal->prior[p].b);
        for (size_t i = 0; i < cal->n_targets; i++)
            printf("target\t%s\t%g\t%g\n", cal->targets[i].label, cal->targets[i].observed,
                   cal->targets[i].scale);
    } else if (sim_values) {
        status = simulate_at(cal, sim_values, seed >= 0 ? (unsigned long long)seed : cal->seed,
                             nthreads);
    } else {
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        pds_status rc = PDS_OK;
        if (task >= 0) {
            rc = task_run(cal, (size_t)task, (size_t)tasks, nthreads, quiet, &d);
        } else if (do_step) {
            int finished;
            rc = step(cal, (size_t)tasks, model_out, quiet, 1, &finished, &d);
        } else if (tasks > 0) {
            /* every task here, one after another, with a step after each round */
            int finished = 0;
            while (rc == PDS_OK && !finished && !stop_flag) {
                rc = step(cal, (size_t)tasks, model_out, quiet, 0, &finished, &d);
                for (long i = 0; rc == PDS_OK && !finished && i < tasks; i++)
                    rc = task_run(cal, (size_t)i, (size_t)tasks, nthreads, 1, &d);
            }
            if (rc == PDS_OK && !finished)
                rc = PDS_ERR_RUNTIME;
        } else {
            pds_calib_gen *gens = NULL;
            size_t n_gens = 0;
            rc = pds_calib_run(cal, nthreads, &stop_flag, quiet ? NULL : progress, cal, &gens,
                               &n_gens, &d);
            rc = write_results(cal, gens, n_gens, rc, model_out, quiet, &d);
            free_gens(gens, n_gens);
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        pds_cli_print_diag(&d);
        status = pds_cli_exit(rc);
        if (interrupted && status == 0)
            status = 1;
    }
    pds_diag_free(&d);
    pds_calib_free(cal);
    return status;
}
