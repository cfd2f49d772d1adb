#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/h5out.h"
#include "cli.h"

/* Paired comparison of a baseline and a scenario run with the same seed:
 * run r of both used the same random numbers, so per-run differences are
 * precise. Everything is accumulated in one pass over the runs, in chunks,
 * so memory does not grow with the number of runs. */

#define ROWS 4096

typedef struct h5in {
    const char *path;
    hid_t file;
    uint64_t seed, n_runs;
    int64_t first_year, last_year, base_year;
    char dataset[4096], model[4096], uncertainty[64];
    size_t n_units;
    char **codes;
} h5in;

static int read_attr_str(hid_t f, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    if (H5Aexists(f, name) <= 0)
        return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    int rc = -1;
    if (H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
        size_t n = H5Tget_size(t);
        char *buf = calloc(n + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, n);
        if (buf && H5Aread(a, mt, buf) >= 0) {
            snprintf(out, size, "%s", buf);
            rc = 0;
        }
        H5Tclose(mt);
        free(buf);
    }
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

static int read_attr_num(hid_t f, const char *name, hid_t type, void *out)
{
    if (H5Aexists(f, name) <= 0)
        return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    herr_t e = H5Aread(a, type, out);
    H5Aclose(a);
    return e < 0 ? -1 : 0;
}

static void close_in(h5in *h)
{
    if (h->codes) {
        for (size_t i = 0; i < h->n_units; i++)
            free(h->codes[i]);
        free(h->codes);
    }
    if (h->file >= 0)
        H5Fclose(h->file);
}

/* Open a result file and read what pairing needs; 0 or -1 with a message. */
static int open_in(const char *path, h5in *h)
{
    memset(h, 0, sizeof *h);
    h->path = path;
    h->file = -1;
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "pdsim: error: %s: cannot read the file\n", path);
        return -1;
    }
    h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h->file < 0) {
        fprintf(stderr, "pdsim: error: %s: not an HDF5 file written by pdsim run\n", path);
        return -1;
    }
    unsigned char complete = 0;
    int64_t fmt = 0;
    if (read_attr_num(h->file, "complete", H5T_NATIVE_UCHAR, &complete) != 0 || complete != 1) {
        fprintf(stderr, "pdsim: error: %s: incomplete result file (attribute complete is not 1)\n",
                path);
        return -1;
    }
    if (read_attr_num(h->file, "format_version", H5T_NATIVE_INT64, &fmt) != 0 ||
        fmt != PDS_FORMAT_VERSION) {
        fprintf(stderr, "pdsim: error: %s: format version %lld, expected %d\n", path,
                (long long)fmt, PDS_FORMAT_VERSION);
        return -1;
    }
    if (read_attr_num(h->file, "seed", H5T_NATIVE_UINT64, &h->seed) ||
        read_attr_num(h->file, "n_runs", H5T_NATIVE_UINT64, &h->n_runs) ||
        read_attr_num(h->file, "first_year", H5T_NATIVE_INT64, &h->first_year) ||
        read_attr_num(h->file, "last_year", H5T_NATIVE_INT64, &h->last_year) ||
        read_attr_num(h->file, "base_year", H5T_NATIVE_INT64, &h->base_year) ||
        h->last_year < h->first_year || h->last_year - h->first_year > 10000) {
        fprintf(stderr, "pdsim: error: %s: missing or bad root attributes\n", path);
        return -1;
    }
    read_attr_str(h->file, "dataset", h->dataset, sizeof h->dataset);
    read_attr_str(h->file, "model", h->model, sizeof h->model);
    if (read_attr_str(h->file, "uncertainty", h->uncertainty, sizeof h->uncertainty) != 0)
        snprintf(h->uncertainty, sizeof h->uncertainty, "none");
    hid_t d = H5Dopen2(h->file, "/provinces/code", H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "pdsim: error: %s: no /provinces/code\n", path);
        return -1;
    }
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = -1;
    if (n > 0 && n < 10000000) {
        h->n_units = (size_t)n;
        h->codes = calloc((size_t)n, sizeof(char *));
        if (h->codes && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, h->codes) >= 0)
            rc = 0;
    }
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(d);
    if (rc)
        fprintf(stderr, "pdsim: error: %s: cannot read /provinces/code\n", path);
    return rc;
}

typedef struct acc {
    double s, ss; /* sum and sum of squares */
} acc;

static void add(acc *a, double x)
{
    a->s += x;
    a->ss += x * x;
}

static double mean(const acc *a, double n)
{
    return a->s / n;
}

static double var(const acc *a, double n)
{
    if (n < 2)
        return 0.0;
    double m = a->s / n;
    double v = (a->ss - n * m * m) / (n - 1);
    return v > 0 ? v : 0.0;
}

static double half_width(const acc *a, double n)
{
    return 1.959963984540054 * sqrt(var(a, n) / n);
}

static int refuse(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "pdsim: error: the files cannot be paired: %s differs (%s vs %s)\n", what, a, b);
    return 2;
}

static int check_pairing(const h5in *b, const h5in *s, int allow_model)
{
    char x[64], y[64];
    if (b->seed != s->seed) {
        snprintf(x, sizeof x, "%llu", (unsigned long long)b->seed);
        snprintf(y, sizeof y, "%llu", (unsigned long long)s->seed);
        return refuse("seed", x, y);
    }
    if (b->n_runs != s->n_runs) {
        snprintf(x, sizeof x, "%llu", (unsigned long long)b->n_runs);
        snprintf(y, sizeof y, "%llu", (unsigned long long)s->n_runs);
        return refuse("n_runs", x, y);
    }
    if (b->first_year != s->first_year || b->last_year != s->last_year ||
        b->base_year != s->base_year) {
        snprintf(x, sizeof x, "%lld..%lld", (long long)b->first_year, (long long)b->last_year);
        snprintf(y, sizeof y, "%lld..%lld", (long long)s->first_year, (long long)s->last_year);
        return refuse("the simulated years or base year", x, y);
    }
    if (strcmp(b->dataset, s->dataset) != 0)
        return refuse("dataset", b->dataset, s->dataset);
    if (!allow_model && strcmp(b->model, s->model) != 0)
        return refuse("model (use --allow-model-change if intended)", b->model, s->model);
    if (strcmp(b->uncertainty, s->uncertainty) != 0)
        return refuse("uncertainty", b->uncertainty, s->uncertainty);
    if (b->n_units != s->n_units)
        return refuse("the number of units", "", "");
    for (size_t i = 0; i < b->n_units; i++)
        if (strcmp(b->codes[i], s->codes[i]) != 0)
            return refuse("the unit codes", b->codes[i], s->codes[i]);
    return 0;
}

int pds_cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},  {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},      {"allow-model-change", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *csv = NULL, *out = NULL;
    int quiet = 0, allow_model = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            csv = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'm':
            allow_model = 1;
            break;
        case 'h': {
            char *topic[] = {"compare"};
            return pds_cmd_help(1, topic);
        }
        default:
            fprintf(stderr, "pdsim: error: bad option '%s'; see 'pdsim help compare'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "pdsim: error: usage: pdsim compare BASE.h5 SCENARIO.h5 [--csv OUT.csv] "
                        "[-o OUT.h5] [-q] [--allow-model-change]\n");
        return 2;
    }
    h5in b = {.file = -1}, s = {.file = -1};
    int rc = 0;
    H5E_BEGIN_TRY
    {
        rc = open_in(argv[optind], &b) != 0 ? 2 : 0;
        if (rc == 0)
            rc = open_in(argv[optind + 1], &s) != 0 ? 2 : 0;
    }
    H5E_END_TRY;
    if (rc == 0)
        rc = check_pairing(&b, &s, allow_model);
    size_t U = b.n_units, Y = (size_t)(b.last_year - b.first_year + 1);
    double R = (double)b.n_runs;
    acc *nb = NULL, *ns = NULL, *nd = NULL, *pd = NULL, *yd = NULL;
    acc gained = {0, 0};
    double *pb = NULL, *ps = NULL;
    int16_t *bb = NULL, *sb = NULL;
    if (rc == 0) {
        nb = calloc(Y, sizeof *nb);
        ns = calloc(Y, sizeof *ns);
        nd = calloc(Y, sizeof *nd);
        pd = calloc(U * Y, sizeof *pd);
        yd = calloc(U, sizeof *yd);
        pb = calloc(U * Y, sizeof *pb);
        ps = calloc(U * Y, sizeof *ps);
        bb = malloc(ROWS * U * sizeof *bb);
        sb = malloc(ROWS * U * sizeof *sb);
        if (!nb || !ns || !nd || !pd || !yd || !pb || !ps || !bb || !sb)
            rc = 1;
    }
    hid_t db = -1, ds = -1;
    if (rc == 0) {
        H5E_BEGIN_TRY
        {
            db = H5Dopen2(b.file, "/runs/province_adoption_year", H5P_DEFAULT);
            ds = H5Dopen2(s.file, "/runs/province_adoption_year", H5P_DEFAULT);
        }
        H5E_END_TRY;
        if (db < 0 || ds < 0) {
            fprintf(stderr, "pdsim: error: no /runs/province_adoption_year in the files\n");
            rc = 2;
        }
    }
    int last = (int)b.last_year, first = (int)b.first_year;
    for (uint64_t r0 = 0; rc == 0 && r0 < b.n_runs; r0 += ROWS) {
        size_t n = (size_t)(b.n_runs - r0 < ROWS ? b.n_runs - r0 : ROWS);
        int e;
        H5E_BEGIN_TRY
        {
            e = pds_h5_rows(db, H5T_NATIVE_INT16, r0, n, U, bb, 0) |
                pds_h5_rows(ds, H5T_NATIVE_INT16, r0, n, U, sb, 0);
        }
        H5E_END_TRY;
        if (e) {
            fprintf(stderr, "pdsim: error: cannot read the runs (damaged file?)\n");
            rc = 2;
            break;
        }
        for (size_t r = 0; r < n; r++) {
            const int16_t *x = bb + r * U, *z = sb + r * U;
            double g = 0;
            for (size_t u = 0; u < U; u++) {
                /* not adopted counts as the year after the horizon (censored) */
                int yb = x[u] == 0 ? last + 1 : x[u] < 0 ? (int)b.base_year : x[u];
                int ys = z[u] == 0 ? last + 1 : z[u] < 0 ? (int)b.base_year : z[u];
                g += yb - ys;
                add(&yd[u], (double)(ys - yb));
            }
            add(&gained, g);
            for (size_t k = 0; k < Y; k++) {
                int year = first + (int)k;
                int cb = 0, cs = 0;
                for (size_t u = 0; u < U; u++) {
                    int ab = x[u] != 0 && (x[u] < 0 || x[u] <= year);
                    int as = z[u] != 0 && (z[u] < 0 || z[u] <= year);
                    cb += ab;
                    cs += as;
                    pb[u * Y + k] += ab;
                    ps[u * Y + k] += as;
                    add(&pd[u * Y + k], (double)(as - ab));
                }
                add(&nb[k], cb);
                add(&ns[k], cs);
                add(&nd[k], cs - cb);
            }
        }
    }
    if (db >= 0)
        H5Dclose(db);
    if (ds >= 0)
        H5Dclose(ds);
    int any_diff = 0;
    for (size_t k = 0; rc == 0 && k < Y; k++)
        any_diff |= nd[k].ss > 0;
    for (size_t u = 0; rc == 0 && u < U; u++)
        any_diff |= yd[u].ss > 0;
    if (rc == 0 && !quiet) {
        printf("paired comparison of %s (scenario) with %s (baseline): %llu runs, seed %llu\n",
               argv[optind + 1], argv[optind], (unsigned long long)b.n_runs,
               (unsigned long long)b.seed);
        if (!any_diff) {
            printf("no difference in any run\n");
        } else {
            printf("\nunits adopted by the end of each year (means; difference with 95%% interval)\n");
            printf("%-6s %9s %9s %9s %21s %12s\n", "year", "baseline", "scenario", "diff",
                   "95% interval", "var. ratio");
            for (size_t k = 0; k < Y; k++) {
                double vi = var(&nb[k], R) + var(&ns[k], R), vp = var(&nd[k], R);
                char ratio[32];
                if (vp > 0)
                    snprintf(ratio, sizeof ratio, "%.1f", vi / vp);
                else
                    snprintf(ratio, sizeof ratio, "%s", vi > 0 ? "inf" : "-");
                double m = mean(&nd[k], R), h = half_width(&nd[k], R);
                printf("%-6d %9.3f %9.3f %+9.3f [%+8.3f, %+8.3f] %12s\n", first + (int)k,
                       mean(&nb[k], R), mean(&ns[k], R), m, m - h, m + h, ratio);
            }
            printf("\nunits whose P(adopted by %d) or mean adoption year changed\n", last);
            printf("%-8s %8s %8s %21s %14s\n", "code", "P base", "P scen", "P diff 95% interval",
                   "mean yr diff");
            for (size_t u = 0; u < U; u++) {
                const acc *a = &pd[u * Y + Y - 1];
                if (a->ss == 0 && yd[u].ss == 0)
                    continue;
                double m = mean(a, R), h = half_width(a, R);
                printf("%-8s %8.3f %8.3f [%+8.3f, %+8.3f] %+14.3f\n", b.codes[u],
                       pb[u * Y + Y - 1] / R, ps[u * Y + Y - 1] / R, m - h, m + h,
                       mean(&yd[u], R));
            }
            double m = mean(&gained, R), h = half_width(&gained, R);
            printf("\nunit-years gained (adoption earlier in the scenario, not-adopted counted as "
                   "%d): %.3f [%.3f, %.3f]\n",
                   last + 1, m, m - h, m + h);
            printf("(variance ratio: variance of the difference with independent seeds over "
                   "that with paired runs)\n");
        }
    }
    if (rc == 0 && csv) {
        FILE *f = fopen(csv, "w");
        if (!f) {
            fprintf(stderr, "pdsim: error: %s: cannot write\n", csv);
            rc = 1;
        } else {
            fputs("quantity,province,year,base,scenario,difference,ci_low,ci_high\n", f);
            for (size_t k = 0; k < Y; k++) {
                double m = mean(&nd[k], R), h = half_width(&nd[k], R);
                fprintf(f, "national_adopted,,%d,%.10g,%.10g,%.10g,%.10g,%.10g\n", first + (int)k,
                        mean(&nb[k], R), mean(&ns[k], R), m, m - h, m + h);
                double vi = var(&nb[k], R) + var(&ns[k], R), vp = var(&nd[k], R);
                fprintf(f, "variance_reduction,,%d,%.10g,%.10g,%.10g,,\n", first + (int)k, vi, vp,
                        vp > 0 ? vi / vp : (vi > 0 ? INFINITY : NAN));
            }
            for (size_t u = 0; u < U; u++) {
                for (size_t k = 0; k < Y; k++) {
                    const acc *a = &pd[u * Y + k];
                    double m = mean(a, R), h = half_width(a, R);
                    fprintf(f, "p_adopted_by_year,%s,%d,%.10g,%.10g,%.10g,%.10g,%.10g\n", b.codes[u],
                            first + (int)k, pb[u * Y + k] / R, ps[u * Y + k] / R, m, m - h, m + h);
                }
                double m = mean(&yd[u], R), h = half_width(&yd[u], R);
                fprintf(f, "mean_adoption_year,%s,,,,%.10g,%.10g,%.10g\n", b.codes[u], m, m - h, m + h);
            }
            double m = mean(&gained, R), h = half_width(&gained, R);
            fprintf(f, "province_years_gained,,,,,%.10g,%.10g,%.10g\n", m, m - h, m + h);
            if (fclose(f) != 0)
                rc = 1;
        }
    }
    if (rc == 0 && out) {
        char *tmp = malloc(strlen(out) + 32);
        hid_t f = -1;
        if (tmp) {
            sprintf(tmp, "%s.tmp.%ld", out, (long)getpid());
            H5E_BEGIN_TRY
            {
                f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            }
            H5E_END_TRY;
        }
        int e = f < 0;
        if (!e) {
            hid_t g = H5Gcreate2(f, "compare", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            double *nat = malloc(3 * Y * sizeof(double)), *pp = malloc(3 * U * Y * sizeof(double));
            double *vr = malloc(Y * sizeof(double)), pg[3];
            e = !nat || !pp || !vr || g < 0;
            for (size_t k = 0; !e && k < Y; k++) {
                double m = mean(&nd[k], R), h = half_width(&nd[k], R);
                nat[k] = m, nat[Y + k] = m - h, nat[2 * Y + k] = m + h;
                double vi = var(&nb[k], R) + var(&ns[k], R), vp = var(&nd[k], R);
                vr[k] = vp > 0 ? vi / vp : (vi > 0 ? INFINITY : NAN);
                for (size_t u = 0; u < U; u++) {
                    const acc *a = &pd[u * Y + k];
                    double pm = mean(a, R), ph = half_width(a, R);
                    pp[u * Y + k] = pm, pp[U * Y + u * Y + k] = pm - ph;
                    pp[2 * U * Y + u * Y + k] = pm + ph;
                }
            }
            pg[0] = mean(&gained, R);
            pg[1] = pg[0] - half_width(&gained, R);
            pg[2] = pg[0] + half_width(&gained, R);
            hsize_t d2[2] = {3, Y}, d3[3] = {3, U, Y}, d1[1] = {3}, dy[1] = {Y};
            struct {
                const char *name;
                int rank;
                hsize_t *dims;
                double *data;
                const char *desc;
            } sets[] = {
                {"national_adopted_diff", 2, d2, nat,
                 "[mean, 95% low, 95% high] x year: scenario minus baseline, units adopted"},
                {"p_adopted_by_year_diff", 3, d3, pp,
                 "[mean, 95% low, 95% high] x unit x year: paired difference in P(adopted by year)"},
                {"province_years_gained", 1, d1, pg,
                 "[mean, 95% low, 95% high]: unit-years of adoption gained per run"},
                {"variance_reduction", 1, dy, vr,
                 "per year: variance of the national difference with independent seeds over "
                 "paired"},
            };
            for (size_t i = 0; !e && i < 4; i++) {
                hid_t sp = H5Screate_simple(sets[i].rank, sets[i].dims, NULL);
                hid_t d = H5Dcreate2(g, sets[i].name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT);
                e |= d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                       sets[i].data) < 0;
                hid_t at = H5Tcopy(H5T_C_S1);
                H5Tset_size(at, strlen(sets[i].desc));
                hid_t as = H5Screate(H5S_SCALAR);
                hid_t a = H5Acreate2(d, "description", at, as, H5P_DEFAULT, H5P_DEFAULT);
                e |= a < 0 || H5Awrite(a, at, sets[i].desc) < 0;
                H5Aclose(a);
                H5Sclose(as);
                H5Tclose(at);
                H5Dclose(d);
                H5Sclose(sp);
            }
            const char *names[] = {"base_file", "scenario_file"};
            for (int i = 0; !e && i < 2; i++) {
                const char *v = argv[optind + i];
                hid_t at = H5Tcopy(H5T_C_S1);
                H5Tset_size(at, strlen(v) + 1);
                hid_t as = H5Screate(H5S_SCALAR);
                hid_t a = H5Acreate2(f, names[i], at, as, H5P_DEFAULT, H5P_DEFAULT);
                e |= a < 0 || H5Awrite(a, at, v) < 0;
                H5Aclose(a);
                H5Sclose(as);
                H5Tclose(at);
            }
            unsigned char one = 1;
            hid_t as = H5Screate(H5S_SCALAR);
            hid_t a = H5Acreate2(f, "complete", H5T_NATIVE_UCHAR, as, H5P_DEFAULT, H5P_DEFAULT);
            e |= a < 0 || H5Awrite(a, H5T_NATIVE_UCHAR, &one) < 0;
            H5Aclose(a);
            H5Sclose(as);
            if (g >= 0)
                H5Gclose(g);
            free(nat);
            free(pp);
            free(vr);
            e |= H5Fclose(f) < 0;
            if (!e && rename(tmp, out) != 0)
                e = 1;
            if (e)
                unlink(tmp);
        }
        if (e) {
            fprintf(stderr, "pdsim: error: %s: cannot write the comparison\n", out);
            rc = 1;
        }
        free(tmp);
    }
    free(nb);
    free(ns);
    free(nd);
    free(pd);
    free(yd);
    free(pb);
    free(ps);
    free(bb);
    free(sb);
    close_in(&b);
    close_in(&s);
    return rc;
}
