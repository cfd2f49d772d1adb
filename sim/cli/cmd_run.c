#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../io/csvtab.h"
#include "../io/h5out.h"
#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct progress {
    int on;
    struct timespec t0;
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;
    if (!p->on)
        return;
    double s = seconds_since(&p->t0);
    double eta = done ? s * (double)(total - done) / (double)done : 0.0;
    fprintf(stderr, "\rpdsim: %llu/%llu runs (%3.0f%%), %.1f s, about %.0f s left   ",
            (unsigned long long)done, (unsigned long long)total, 100.0 * (double)done / (double)total,
            s, eta);
    if (done == total)
        fputc('\n', stderr);
}

typedef struct sink_ctx {
    pds_h5out *out;
} sink_ctx;

static int write_chunk(void *ctx, uint64_t first, size_t n, const int16_t *u, const int16_t *s,
                       const double *coefs)
{
    sink_ctx *c = ctx;
    return pds_h5out_write_runs(c->out, first, n, u, s, coefs);
}

static int parse_count(const char *opt, const char *s, double max, long *out)
{
    long v;
    if (pds_parse_long(s, &v) != 0 || v < 0 || (double)v > max) {
        fprintf(stderr, "pdsim: error: %s: expected an integer in 0..%.0f, got \"%s\"\n", opt, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int pds_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'n'},   {"seed", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'}, {"threads", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long runs = -1, threads = -1;
    const char *seed_s = NULL, *output = NULL;
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:s:o:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_count("--runs", optarg, 1e9, &runs) != 0)
                return 2;
            if (runs == 0) {
                fprintf(stderr, "pdsim: error: --runs: expected at least 1 run\n");
                return 2;
            }
            break;
        case 's':
            seed_s = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'j':
            if (parse_count("--threads", optarg, 1024, &threads) != 0)
                return 2;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h': {
            char *topic[] = {"run"};
            return pds_cmd_help(1, topic);
        }
        case ':':
            fprintf(stderr, "pdsim: error: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "pdsim: error: unknown option '%s'; see 'pdsim help run'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "pdsim: error: expected one CONFIG.yaml; usage: pdsim run CONFIG.yaml "
                        "[-n RUNS] [-s SEED] [-o OUT.h5] [-j THREADS] [-q]\n");
        return 2;
    }
    uint64_t seed = 0;
    if (seed_s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed_s, &end, 10);
        if (!*seed_s || *end || errno || seed_s[0] == '-') {
            fprintf(stderr, "pdsim: error: --seed: expected a non-negative integer, got \"%s\"\n",
                    seed_s);
            return 2;
        }
        seed = (uint64_t)v;
    }

    pds_diag diag;
    pds_diag_init(&diag);
    pds_setup s;
    pds_status st = pds_setup_load(argv[optind], &s, &diag);
    if (st != PDS_OK) {
        pds_cli_print_diag(&diag);
        pds_diag_free(&diag);
        return pds_cli_exit(st);
    }
    pds_run_config *cfg = s.cfg;
    if (runs > 0)
        cfg->runs = (uint64_t)runs;
    if (seed_s)
        cfg->seed = seed;
    if (threads >= 0)
        cfg->threads = threads;
    if (output) {
        free(cfg->output_path);
        cfg->output_path = strdup(output);
    }
    const pds_world *w = s.world;
    int store_sub = cfg->store_subunit_years && w->n_subunits > 0;
    pds_h5meta meta = {
        .config_path = cfg->path,
        .config_text = cfg->text,
        .dataset_path = cfg->dataset_path,
        .model_path = cfg->model_path,
        .model_name = s.unit_model->name,
        .subunit_model_path = cfg->subunit_model_path,
        .subunit_model_name = s.sub_model ? s.sub_model->name : NULL,
        .seed = cfg->seed,
        .n_runs = cfg->runs,
        .base_year = (int)cfg->base_year,
        .first_year = (int)cfg->base_year + 1,
        .last_year = (int)cfg->horizon,
        .chunk_runs = (size_t)cfg->chunk_runs,
        .store_subunits = store_sub,
        .w = w,
    };
    size_t ncoef = pds_sim_n_coefficients(s.sim);
    const char *coef_names[257];
    coef_names[0] = "(intercept)";
    for (size_t j = 0; j + 1 < ncoef && j < 256; j++)
        coef_names[j + 1] = s.unit_model->terms[j].name;
    const char *unc_warning = NULL;
    if (ncoef && !s.unit_model->cov) {
        unc_warning = "the model file has no covariance matrix: coefficients were drawn as "
                      "independent normals from the standard errors";
        if (!quiet)
            fprintf(stderr, "pdsim: warning: %s: %s\n", cfg->model_path, unc_warning);
    }
    meta.n_coefficients = ncoef <= 257 ? ncoef : 0;
    meta.coefficient_names = coef_names;
    meta.uncertainty = ncoef ? "coefficients" : "none";
    meta.uncertainty_warning = unc_warning;
    meta.scenario_name = cfg->scenario.name ? cfg->scenario.name : "";
    pds_h5out *out = pds_h5out_create(cfg->output_path, &meta, &diag);
    if (!out) {
        pds_cli_print_diag(&diag);
        pds_diag_free(&diag);
        pds_setup_free(&s);
        return 1;
    }
    pds_summary *sum = pds_summary_create(w->n_units, pds_sim_n_years(s.sim), pds_sim_first_year(s.sim));
    progress prog = {.on = !quiet && isatty(STDERR_FILENO)};
    clock_gettime(CLOCK_MONOTONIC, &prog.t0);
    sink_ctx sc = {.out = out};
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    pds_run_options ro = {
        .seed = cfg->seed,
        .n_runs = cfg->runs,
        .chunk_runs = (size_t)cfg->chunk_runs,
        .threads = (int)cfg->threads,
        .keep_subunits = store_sub,
        .sink = write_chunk,
        .sink_ctx = &sc,
        .progress = show_progress,
        .progress_ctx = &prog,
        .stop = (volatile int *)&interrupted,
    };
    st = sum ? pds_engine_run(s.sim, &ro, sum) : PDS_ERR_RUNTIME;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (st == PDS_OK)
        st = pds_h5out_finish(out, sum, &diag) == 0 ? PDS_OK : PDS_ERR_RUNTIME;
    else
        pds_h5out_abort(out);
    if (interrupted) {
        if (prog.on)
            fputc('\n', stderr);
        fprintf(stderr, "pdsim: interrupted; no output written\n");
    } else if (st != PDS_OK && diag.n == 0) {
        fprintf(stderr, "pdsim: error: %s: writing the results failed (disk full?)\n",
                cfg->output_path);
    }
    pds_cli_print_diag(&diag);
    if (st == PDS_OK && !quiet) {
        double secs = seconds_since(&prog.t0);
        pds_cli_print_summary(&s, sum);
        printf("\n%llu runs in %.2f s (%.0f runs/s); results in %s\n",
               (unsigned long long)cfg->runs, secs, (double)cfg->runs / (secs > 0 ? secs : 1e-9),
               cfg->output_path);
    }
    pds_summary_free(sum);
    pds_diag_free(&diag);
    pds_setup_free(&s);
    return pds_cli_exit(st);
}

int pds_cmd_validate(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            char *topic[] = {"validate"};
            return pds_cmd_help(1, topic);
        }
        fprintf(stderr, "pdsim: error: usage: pdsim validate CONFIG.yaml\n");
        return 2;
    }
    pds_diag diag;
    pds_diag_init(&diag);
    pds_setup s;
    pds_status st = pds_setup_load(argv[1], &s, &diag);
    if (st == PDS_OK) {
        const pds_world *w = s.world;
        printf("%s: ok: %zu units, %zu sub-units, %zu panel variables (%d..%d), %zu document "
               "entries; model '%s' (%zu terms)%s%s; simulating %ld..%ld\n",
               argv[1], w->n_units, w->n_subunits, w->n_vars, w->panel_first_year,
               w->panel_last_year, w->n_documents, s.unit_model->name, s.unit_model->n_terms,
               s.sub_model ? ", sub-unit model " : "", s.sub_model ? s.sub_model->name : "",
               s.cfg->base_year + 1, s.cfg->horizon);
    }
    pds_cli_print_diag(&diag);
    pds_diag_free(&diag);
    pds_setup_free(&s);
    return pds_cli_exit(st);
}
