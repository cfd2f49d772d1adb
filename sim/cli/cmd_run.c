#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../io/backtest_setup.h"
#include "../io/csvtab.h"
#include "../io/h5out.h"
#include "../io/provenance.h"
#include "../io/inputs.h"
#include "../io/outfile.h"
#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct progress {
    int on;
    uint64_t first; /* runs already done when this process started */
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
    double eta = done > p->first ? s * (double)(total - done) / (double)(done - p->first) : 0.0;
    fprintf(stderr, "\rpdsim: %llu/%llu runs (%3.0f%%), %.1f s, about %.0f s left   ",
            (unsigned long long)done, (unsigned long long)total,
            100.0 * (double)done / (double)total, s, eta);
    if (done == total)
        fputc('\n', stderr);
}

typedef struct sink_ctx {
    pds_h5out *out;
    int failed; /* a write failed: the partial file cannot be trusted */
    /* several models: the engine's rows are P1 wide in each model's own
     * order; the file's are n_union wide, one column per distinct term */
    size_t K, P1, n_union;
    const size_t *const *map; /* [K][P1 of model k] column in the file */
    const size_t *n_coef;     /* [K] coefficients of model k */
    const double *cum;        /* [K] cumulative weights */
    uint64_t seed;
    double *row_buf;          /* [chunk x n_union] */
} sink_ctx;

static int write_chunk(void *ctx, uint64_t first, size_t n, const int16_t *u, const int16_t *s,
                       const double *coefs)
{
    sink_ctx *c = ctx;
    if (coefs && c->K > 1) {
        for (size_t i = 0; i < n; i++) {
            size_t k = pds_model_of_run(c->seed, first + i, c->cum, c->K);
            double *o = c->row_buf + i * c->n_union;
            for (size_t j = 0; j < c->n_union; j++)
                o[j] = NAN;
            for (size_t j = 0; j < c->n_coef[k]; j++)
                o[c->map[k][j]] = coefs[i * c->P1 + j];
        }
        coefs = c->row_buf;
    }
    if (pds_h5out_write_runs(c->out, first, n, u, s, coefs) != 0)
        c->failed = 1;
    return c->failed;
}

static int parse_count(const char *opt, const char *s, double max, long *out)
{
    long v;
    if (pds_parse_long(s, &v) != 0 || v < 0 || (double)v > max) {
        fprintf(stderr, "pdsim: error: %s: expected an integer in 0..%.0f, got \"%s\"\n", opt, max,
                s);
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
        {"resume", no_argument, NULL, 'R'},       {"replace", no_argument, NULL, 'F'},
        {"no-backtest", no_argument, NULL, 'B'},  {NULL, 0, NULL, 0},
    };
    long runs = -1, threads = -1;
    const char *seed_s = NULL, *output = NULL;
    int quiet = 0, resume = 0, replace = 0, no_backtest = 0, c;
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
        case 'R':
            resume = 1;
            break;
        case 'F':
            replace = 1;
            break;
        case 'B':
            no_backtest = 1;
            break;
        default:
            return pds_cli_getopt_other(c, "run", argv);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "pdsim: error: expected one CONFIG.yaml; usage: pdsim run CONFIG.yaml "
                        "[-n RUNS] [-s SEED] [-o OUT.h5] [-j THREADS] [-q] [--resume] [--replace]\n");
        return 2;
    }
    unsigned long long seed = 0;
    if (seed_s && pds_parse_u64(seed_s, &seed) != 0) {
        fprintf(stderr, "pdsim: error: --seed: expected a non-negative integer, got \"%s\"\n",
                seed_s);
        return 2;
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
    /* no output replaces an input: the configs, models, weights, dataset */
    pds_inset in;
    pds_inset_init(&in);
    int in_rc = pds_run_inputs_add(&in, cfg);
    st = in_rc ? PDS_ERR_RUNTIME : pds_inset_check(&in, cfg->output_path, &diag);
    if (st == PDS_OK) {
        char *partial = pds_h5out_partial_name(cfg->output_path);
        st = partial ? pds_inset_check(&in, partial, &diag) : PDS_ERR_RUNTIME;
        free(partial);
    }
    pds_inset_free(&in);
    if (st != PDS_OK) {
        pds_cli_print_diag(&diag);
        pds_diag_free(&diag);
        pds_setup_free(&s);
        return pds_cli_exit(st);
    }
    if (pds_cli_make_parent(cfg->output_path) != 0) {
        pds_diag_free(&diag);
        pds_setup_free(&s);
        return 1;
    }
    /* the destination's lock before anything is created or replaced: a
     * second writer of the same output stops here (busy, exit 4) */
    pds_lock *lock = NULL;
    st = pds_lock_take(cfg->output_path, &lock, &diag);
    if (st != PDS_OK) {
        pds_cli_print_diag(&diag);
        pds_diag_free(&diag);
        pds_setup_free(&s);
        return pds_cli_exit(st);
    }
    /* a finished result is never replaced without being asked to */
    if (access(cfg->output_path, F_OK) == 0 && !replace && !cfg->replace) {
        fprintf(stderr,
                "pdsim: error: %s: the output exists; nothing was run. Add --replace (or "
                "'replace: true' in the config) to replace it, or choose another name with -o\n",
                cfg->output_path);
        pds_lock_release(lock);
        pds_diag_free(&diag);
        pds_setup_free(&s);
        return 2;
    }
    int existed = access(cfg->output_path, F_OK) == 0;
    const pds_world *w = s.world;
    int store_sub = cfg->store_subunit_years && w->n_subunits > 0;
    /* the chunk by bytes unless the config fixes it: the file's chunks and
     * the engine's buffers hold the same runs */
    cfg->chunk_runs = (long)pds_sim_chunk_runs(s.sim, (size_t)cfg->chunk_runs, store_sub);
    pds_h5meta meta = {
        .config_path = cfg->path,
        .config_text = cfg->text,
        .config_resolved = cfg->resolved,
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
    /* the file's coefficient columns: the intercept, then every distinct
     * term name of the models in order of first appearance */
    const size_t K = s.n_models;
    size_t ncoef = 0, p1max = 0, kn[PDS_MAX_MODELS];
    size_t *cmap[PDS_MAX_MODELS] = {0};
    const char *coef_names[257];
    coef_names[0] = "(intercept)";
    int map_ok = 1;
    for (size_t k = 0; k < K; k++) {
        const pds_model *mk = s.models[k];
        kn[k] = pds_sim_n_coefficients(s.sims[k]);
        if (kn[k] > p1max)
            p1max = kn[k];
        cmap[k] = calloc(kn[k] + 1, sizeof(size_t));
        if (!cmap[k]) {
            map_ok = 0;
            continue;
        }
        if (kn[k] && ncoef == 0)
            ncoef = 1;
        for (size_t j = 0; j + 1 < kn[k]; j++) {
            size_t c2 = 1;
            while (c2 < ncoef && strcmp(coef_names[c2], mk->terms[j].name) != 0)
                c2++;
            if (c2 == ncoef) {
                if (ncoef == 257) {
                    map_ok = 0;
                    break;
                }
                coef_names[ncoef++] = mk->terms[j].name;
            }
            cmap[k][j + 1] = c2;
        }
    }
    const char *unc_warning = NULL;
    for (size_t k = 0; k < K; k++) {
        if (kn[k] && !s.models[k]->cov && cfg->uncertainty == 1) {
            unc_warning = "a model file has no covariance matrix: its coefficients were drawn as "
                          "independent normals from the standard errors";
            if (!quiet)
                fprintf(stderr, "pdsim: warning: %s: %s\n",
                        K > 1 ? cfg->models_path[k] : cfg->model_path,
                        "the model file has no covariance matrix: coefficients were drawn as "
                        "independent normals from the standard errors");
        }
    }
    const char *model_names[PDS_MAX_MODELS];
    double cum[PDS_MAX_MODELS], acc = 0;
    for (size_t k = 0; k < K; k++) {
        model_names[k] = s.models[k]->name;
        acc += K > 1 ? cfg->model_weights[k] : 1.0;
        cum[k] = k + 1 == K ? 1.0 : acc;
    }
    if (K > 1) {
        meta.n_models = K;
        meta.model_names = model_names;
        meta.model_weights = cfg->model_weights;
        meta.model_cum_weights = cum;
    }
    meta.n_coefficients = map_ok && ncoef <= 257 ? ncoef : 0;
    /* the reliability note: the in-sample check of the model(s) as used
     * (recalibrated where configured) and the dataset's provenance */
    pds_insample insample;
    pds_diag qd;
    pds_diag_init(&qd);
    if (pds_insample_check(w, (const pds_model *const *)s.models, cfg->model_weights, K,
                           (int)cfg->base_year, &insample, &qd) == PDS_OK)
        meta.insample = &insample;
    pds_diag_free(&qd);
    char *provenance = pds_provenance_summary(cfg->dataset_path);
    meta.provenance = provenance;
    meta.coefficient_names = coef_names;
    size_t nsub = pds_sim_n_subunit_coefficients(s.sim);
    const char *sub_names[257];
    if (nsub && nsub <= 257) {
        sub_names[0] = "(intercept)";
        for (size_t j = 1; j < nsub; j++)
            sub_names[j] = s.sub_model->terms[j - 1].name;
        meta.subunit_sim = s.sim;
        meta.subunit_coefficient_names = sub_names;
    }
    meta.uncertainty = ncoef && nsub ? "coefficients (unit and sub-unit models)"
                       : ncoef       ? "coefficients"
                       : nsub        ? "coefficients (sub-unit model)"
                                     : "none";
    size_t post_n[PDS_MAX_MODELS];
    const char *post_paths[PDS_MAX_MODELS];
    if (cfg->uncertainty == 2) {
        /* posterior draws of the unit model (the sub-unit model's as under coefficients) */
        meta.uncertainty = nsub ? "posterior (unit model; sub-unit model: coefficients)"
                                : "posterior";
        meta.n_posterior_draws = s.models[0]->n_post_draws;
        meta.posterior_draws_path = s.models[0]->post_draws_path;
        if (K > 1) {
            for (size_t k = 0; k < K; k++) {
                post_n[k] = s.models[k]->n_post_draws;
                post_paths[k] = s.models[k]->post_draws_path ? s.models[k]->post_draws_path : "";
            }
            meta.n_posterior_draws_of = post_n;
            meta.posterior_draws_paths = post_paths;
        }
    }
    meta.uncertainty_warning = unc_warning;
    meta.scenario_name = cfg->scenario.name ? cfg->scenario.name : "";
    char hash[64];
    pds_input_hash(cfg, hash, sizeof hash);
    meta.input_hash = hash;
    char dhash[64];
    pds_dataset_hash(cfg->dataset_path, dhash, sizeof dhash);
    meta.dataset_hash = dhash;
    pds_summary *sum =
        pds_summary_create(w->n_units, pds_sim_n_years(s.sim), pds_sim_first_year(s.sim));
    /* from here on an interruption keeps what is written; a file-size limit
     * must make the write fail (EFBIG), not kill the run */
    struct sigaction sa, old_int, old_term, old_xfsz;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGXFSZ, &sa, &old_xfsz);
    pds_h5out *out = NULL;
    st = sum ? PDS_OK : PDS_ERR_RUNTIME;
    /* an empty partial file holds no runs: what a full disk leaves at create */
    if (st == PDS_OK && pds_h5out_remove_empty_partial(cfg->output_path) && !quiet)
        fprintf(stderr, "pdsim: note: removed the empty %s.partial left by an earlier start\n",
                cfg->output_path);
    if (st == PDS_OK && resume) {
        out = pds_h5out_resume(cfg->output_path, &meta, sum, &diag, &st);
        if (!quiet && st == PDS_OK)
            fprintf(stderr,
                    out ? "pdsim: resuming %s.partial at run %llu of %llu\n"
                        : "pdsim: no %s.partial to resume; starting at run %llu of %llu\n",
                    cfg->output_path, (unsigned long long)(out ? pds_h5out_written(out) : 0),
                    (unsigned long long)cfg->runs);
    }
    if (st == PDS_OK && !out) {
        char *partial = pds_h5out_partial_name(cfg->output_path);
        int there = partial ? pds_out_check_fixed(partial, &diag) : 0;
        if (!resume && there > 0 && !quiet)
            fprintf(stderr,
                    "pdsim: note: replacing %s left by an earlier run (--resume continues "
                    "it instead)\n",
                    partial);
        free(partial);
        if (there < 0) {
            st = PDS_ERR_INPUT; /* a link or a non-file at the partial name */
        } else {
            out = pds_h5out_create(cfg->output_path, &meta, &diag);
            st = out ? PDS_OK : PDS_ERR_RUNTIME;
        }
    }
    if (st != PDS_OK) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGXFSZ, &old_xfsz, NULL);
        pds_cli_print_diag(&diag);
        pds_diag_free(&diag);
        pds_summary_free(sum);
        for (size_t k = 0; k < K; k++)
            free(cmap[k]);
        free(provenance);
        pds_lock_release(lock);
        pds_setup_free(&s);
        return pds_cli_exit(st);
    }
    uint64_t first = pds_h5out_written(out);
    progress prog = {.on = !quiet && isatty(STDERR_FILENO), .first = first};
    clock_gettime(CLOCK_MONOTONIC, &prog.t0);
    sink_ctx sc = {.out = out,
                   .K = K,
                   .P1 = p1max,
                   .n_union = ncoef,
                   .map = (const size_t *const *)cmap,
                   .n_coef = kn,
                   .cum = cum,
                   .seed = cfg->seed};
    if (K > 1 && ncoef &&
        !(sc.row_buf = malloc((size_t)cfg->chunk_runs * ncoef * sizeof(double)))) {
        st = PDS_ERR_RUNTIME;
    }
    pds_run_options ro = {
        .seed = cfg->seed,
        .n_runs = cfg->runs,
        .first_run = first,
        .chunk_runs = (size_t)cfg->chunk_runs,
        .threads = (int)cfg->threads,
        .keep_subunits = store_sub,
        .sink = write_chunk,
        .sink_ctx = &sc,
        .progress = show_progress,
        .progress_ctx = &prog,
        .stop = (volatile int *)&interrupted,
        .alternatives = K > 1 ? (const pds_sim *const *)s.sims : NULL,
        .cum_weights = cum,
        .n_alternatives = K,
    };
    if (st == PDS_OK)
        st = pds_engine_run(s.sim, &ro, sum);
    double secs = seconds_since(&prog.t0); /* the runs alone, not the backtest */
    /* the rolling-origin backtest of the same config against the baselines,
     * once every run is done (an interruption here keeps the runs: --resume
     * then redoes only this and the finish) */
    pds_backtest_reliability backtest;
    const pds_backtest_reliability *bt = NULL;
    if (st == PDS_OK && cfg->reliability.origins > 0 && !no_backtest) {
        pds_diag bd;
        pds_diag_init(&bd);
        if (!quiet && prog.on)
            fprintf(stderr, "\rpdsim: all runs done; the backtest beside the forecast ...   ");
        pds_status bs = pds_backtest_config_reliability(
            cfg, s.sub_model, (int)cfg->threads, (volatile int *)&interrupted, &backtest, &bd);
        if (bs == PDS_OK)
            bt = &backtest;
        else if (interrupted)
            st = PDS_ERR_RUNTIME;
        else if (!quiet && bd.n > 0)
            fprintf(stderr, "%spdsim: note: no backtest beside the forecast: %s\n",
                    prog.on ? "\n" : "", bd.msgs[bd.n - 1]);
        pds_diag_free(&bd);
        if (bt && pds_h5out_write_backtest(out, bt) != 0)
            st = PDS_ERR_RUNTIME;
    }
    int stopped = st != PDS_OK && interrupted && !sc.failed;
    if (st == PDS_OK) {
        st = pds_h5out_finish(out, sum, &diag) == 0 ? PDS_OK : PDS_ERR_RUNTIME;
    } else if (stopped) {
        uint64_t done = pds_h5out_written(out);
        if (prog.on)
            fputc('\n', stderr);
        if (pds_h5out_suspend(out, &diag) == 0)
            fprintf(stderr,
                    "pdsim: interrupted after %llu of %llu runs; they are kept in %s.partial; "
                    "the same command with --resume completes it\n",
                    (unsigned long long)done, (unsigned long long)cfg->runs, cfg->output_path);
        else
            fprintf(stderr, "pdsim: interrupted; saving the runs failed\n");
    } else {
        /* the error first, then (for a resumed file) that its runs are kept */
        if (diag.n == 0)
            fprintf(stderr, "pdsim: error: %s: writing the results failed (disk full?)\n",
                    cfg->output_path);
        pds_h5out_fail(out, &diag);
    }
    pds_lock_release(lock);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGXFSZ, &old_xfsz, NULL);
    pds_cli_print_diag(&diag);
    if (st == PDS_OK && !quiet) {
        pds_cli_print_summary(&s, sum);
        pds_cli_print_reliability(meta.insample, bt, provenance, meta.uncertainty, K);
        printf("\n%llu runs in %.2f s (%.0f runs/s); results in %s\n",
               (unsigned long long)cfg->runs, secs,
               (double)(cfg->runs - first) / (secs > 0 ? secs : 1e-9), cfg->output_path);
    }
    if (st == PDS_OK && existed && !quiet)
        fprintf(stderr, "pdsim: note: %s: replaced the earlier result (%s)\n", cfg->output_path,
                replace ? "--replace" : "replace: true in the config");
    pds_summary_free(sum);
    pds_diag_free(&diag);
    free(sc.row_buf);
    free(provenance);
    for (size_t k = 0; k < K; k++)
        free(cmap[k]);
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
        if (s.cfg->intercept_recalibration)
            printf("%s: intercept recalibrated in-sample: %+.4f added to the model's intercept\n",
                   argv[1], s.intercept_shift);
        const pds_run_scenario *sc = &s.cfg->scenario;
        if (sc->name) {
            printf("%s: scenario '%s': %zu extra document entries, %zu forced adoptions, %zu "
                   "covariate changes; channels off:",
                   argv[1], sc->name, sc->n_documents, sc->n_forced, sc->n_shocks);
            if (sc->documents_channel && sc->neighbours_channel && sc->subunits_channel)
                printf(" none");
            if (!sc->documents_channel)
                printf(" central_documents");
            if (!sc->neighbours_channel)
                printf(" neighbours");
            if (!sc->subunits_channel)
                printf(" subunits");
            putchar('\n');
        }
        /* legal, but most likely not what was meant */
        const pds_run_scenario *ws = &s.cfg->scenario;
        for (size_t i = 0; i < ws->n_documents; i++)
            if (ws->documents[i].year > s.cfg->horizon)
                fprintf(stderr,
                        "pdsim: warning: %s: scenario.central_documents[%zu]: year %d is after the "
                        "horizon %ld: it changes nothing\n",
                        s.cfg->path, i, ws->documents[i].year, s.cfg->horizon);
        for (size_t i = 0; i < ws->n_forced; i++)
            if (ws->forced[i].year > s.cfg->horizon)
                fprintf(stderr,
                        "pdsim: warning: %s:%ld: scenario.forced_adoption: year %d is after the "
                        "horizon %ld: it changes nothing\n",
                        ws->forced[i].file ? ws->forced[i].file : s.cfg->path, ws->forced[i].line,
                        ws->forced[i].year, s.cfg->horizon);
        for (size_t i = 0; i < ws->n_shocks; i++) {
            const pds_scenario_shock *q = &ws->shocks[i];
            size_t n = strlen(q->variable);
            int pct = n > 4 && strcmp(q->variable + n - 4, "_pct") == 0;
            if (q->from > s.cfg->horizon)
                fprintf(stderr,
                        "pdsim: warning: %s:%ld: scenario.covariates: from %d is after the horizon "
                        "%ld: it changes nothing\n",
                        q->file ? q->file : s.cfg->path, q->line, q->from, s.cfg->horizon);
            if (pct && !q->add && (q->amount < 0 || q->amount > 100))
                fprintf(stderr,
                        "pdsim: warning: %s:%ld: scenario.covariates: set %g for %s, a percentage "
                        "(expected 0..100)\n",
                        q->file ? q->file : s.cfg->path, q->line, q->amount, q->variable);
        }
        char *full = pds_run_config_dump(s.cfg, 1);
        if (full)
            printf("\n# every setting%s (paths canonical):\n%s", s.cfg->n_sources > 1 ?
                   ", after extends" : "", full);
        for (size_t i = 1; i < s.cfg->n_sources; i++)
            printf("# extends %s\n", s.cfg->sources[i]);
        free(full);
    }
    pds_cli_print_diag(&diag);
    pds_diag_free(&diag);
    pds_setup_free(&s);
    return pds_cli_exit(st);
}
