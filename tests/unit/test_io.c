#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <math.h>

#include "io/config.h"
#include "io/csvtab.h"
#include "io/dataset.h"
#include "io/model_io.h"
#include "core/world.h"

#ifndef PDS_TEST_DATA
#error "PDS_TEST_DATA must name tests/data"
#endif

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pdsim-test-io-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, len ? len : strlen(text), f);
    fclose(f);
    return path;
}

static int has_msg(const pds_diag *d, const char *needle)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msgs[i], needle))
            return 1;
    return 0;
}

static void csv_quotes_bom_and_lines(void **state)
{
    (void)state;
    const char *p = write_file("a.csv",
                               "\xEF\xBB\xBF"
                               "code,name,note\n"
                               "1,\"Comma, Inc\",x\n"
                               "\n"
                               "2,\"two\nlines\",y\n"
                               "3,plain,\"quoted \"\"q\"\"\"\n",
                               0);
    pds_diag d;
    pds_diag_init(&d);
    pds_csvtab *t = pds_csvtab_read(p, &d);
    assert_non_null(t);
    assert_int_equal(d.n, 0);
    assert_int_equal(t->n_cols, 3);
    assert_string_equal(t->header[0], "code");
    assert_int_equal(t->n_rows, 3);
    assert_string_equal(pds_csvtab_cell(t, 0, 1), "Comma, Inc");
    assert_string_equal(pds_csvtab_cell(t, 1, 1), "two\nlines");
    assert_string_equal(pds_csvtab_cell(t, 2, 2), "quoted \"q\"");
    assert_int_equal(t->line[0], 2);
    assert_int_equal(t->line[1], 4);
    assert_int_equal(t->line[2], 6);
    assert_int_equal(pds_csvtab_col(t, "note", 1, &d), 2);
    assert_int_equal(pds_csvtab_col(t, "missing", 1, &d), -1);
    assert_true(has_msg(&d, "a.csv:1: missing column 'missing'"));
    pds_csvtab_free(t);
    pds_diag_free(&d);
}

static void csv_errors_name_the_line(void **state)
{
    (void)state;
    pds_diag d;
    pds_diag_init(&d);
    const char *p = write_file("b.csv", "a,b\n1,2\n3\n4,5,6\n", 0);
    assert_null(pds_csvtab_read(p, &d));
    assert_true(has_msg(&d, "b.csv:3: expected 2 fields (as in the header), got 1"));
    assert_true(has_msg(&d, "b.csv:4: expected 2 fields (as in the header), got 3"));
    pds_diag_free(&d);
    pds_diag_init(&d);
    p = write_file("c.csv", "a,b\n1,\"open\n", 0);
    assert_null(pds_csvtab_read(p, &d));
    assert_true(has_msg(&d, "c.csv:2: unclosed quote"));
    pds_diag_free(&d);
    pds_diag_init(&d);
    p = write_file("e.csv", "", 0);
    assert_null(pds_csvtab_read(p, &d));
    assert_true(has_msg(&d, "e.csv:1: empty file"));
    pds_diag_free(&d);
}

static void number_parsing_is_strict(void **state)
{
    (void)state;
    long l;
    double x;
    assert_int_equal(pds_parse_long("2014", &l), 0);
    assert_int_equal(l, 2014);
    assert_int_equal(pds_parse_long("2014.0", &l), -1);
    assert_int_equal(pds_parse_long(" 12x", &l), -1);
    assert_int_equal(pds_parse_long("", &l), -1);
    assert_int_equal(pds_parse_double("1.5e3", &x), 0);
    assert_true(x == 1500.0);
    assert_int_equal(pds_parse_double("nan", &x), -1);
    assert_int_equal(pds_parse_double("inf", &x), -1);
    assert_int_equal(pds_parse_double("-Infinity", &x), -1);
    assert_int_equal(pds_parse_double("1e999", &x), -1);
    assert_int_equal(pds_parse_double("3 apples", &x), -1);
}

/* The sorted look-ups and duplicate checks of loading against the plain
 * quadratic definitions, on codes with many repeats. */
static void sorted_lookups_match_linear_search(void **state)
{
    (void)state;
    enum { N = 600, PAIRS = 900 };
    char buf[N][8];
    const char *codes[N];
    char dup[N];
    unsigned x = 12345u;
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        snprintf(buf[i], sizeof buf[i], "%u", (x >> 16) % 400u);
        codes[i] = buf[i];
    }
    assert_int_equal(pds_find_duplicates(codes, N, dup), 0);
    size_t n_dup = 0;
    for (size_t i = 0; i < N; i++) {
        int earlier = 0;
        for (size_t j = 0; j < i; j++)
            earlier |= strcmp(codes[i], codes[j]) == 0;
        assert_int_equal(dup[i], earlier);
        n_dup += (size_t)earlier;
    }
    assert_true(n_dup > 100); /* the check above saw repeats */

    /* a world of the unique codes: indexed look-up = linear look-up */
    pds_world *w = pds_world_create();
    w->units = calloc(N, sizeof *w->units);
    for (size_t i = 0; i < N; i++)
        if (!dup[i])
            w->units[w->n_units++].code = strdup(codes[i]);
    long linear[N];
    for (size_t i = 0; i < N; i++)
        linear[i] = pds_world_unit_index(w, codes[i]);
    assert_int_equal(pds_world_unit_index(w, "nope"), -1);
    assert_int_equal(pds_world_index_codes(w), PDS_OK);
    assert_non_null(w->unit_by_code);
    for (size_t i = 0; i < N; i++) {
        assert_true(linear[i] >= 0);
        assert_int_equal(pds_world_unit_index(w, codes[i]), linear[i]);
    }
    assert_int_equal(pds_world_unit_index(w, "nope"), -1);

    /* neighbour pairs: repeats either way round and self-pairs count once */
    size_t a[PAIRS], b[PAIRS], U = w->n_units;
    for (size_t i = 0; i < PAIRS; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = (x >> 16) % 30u;
        x = x * 1103515245u + 12345u;
        b[i] = (x >> 16) % 30u;
    }
    assert_int_equal(pds_world_index(w, a, b, NULL, PAIRS), PDS_OK);
    for (size_t u = 0; u < U; u++)
        for (size_t v = 0; v < U; v++) {
            int want = 0;
            for (size_t i = 0; i < PAIRS; i++)
                want |= u != v && ((a[i] == u && b[i] == v) || (a[i] == v && b[i] == u));
            int got = 0;
            for (size_t j = w->nbr_start[u]; j < w->nbr_start[u + 1]; j++)
                got += w->nbr[j] == v;
            assert_int_equal(got, want);
        }
    pds_world_free(w);
}

static void dataset_small_loads(void **state)
{
    (void)state;
    pds_diag d;
    pds_diag_init(&d);
    pds_dataset_options o = {0};
    pds_world *w = pds_dataset_load(PDS_TEST_DATA "/small", &o, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.msgs[i]);
    assert_non_null(w);
    assert_int_equal(w->n_units, 6);
    assert_int_equal(w->units[0].adoption_year, 2012);
    assert_int_equal(w->units[1].adoption_year, 0);
    /* A borders B and C by land; F-A is a sea link, off by default */
    assert_int_equal(w->nbr_start[1] - w->nbr_start[0], 2);
    assert_int_equal(w->n_subunits, 12);
    assert_int_equal(w->sub_start[2] - w->sub_start[1], 3);
    assert_int_equal(w->n_subunit_counts, 1);
    assert_true(pds_world_documents_through(w, 2012) == 2.0);
    assert_true(pds_world_documents_through(w, 2013) == 4.0);
    assert_true(pds_world_documents_through(w, 2020) == 5.0);
    assert_int_equal(w->n_vars, 2); /* share_provenance is text */
    long share = pds_world_var_index(w, "share");
    assert_true(share >= 0);
    assert_true(isnan(pds_world_panel(w, 4, 2015, (size_t)share)));
    assert_true(pds_world_panel(w, 0, 2013, (size_t)share) == 13.0);
    pds_world_free(w);
    o.sea_links = 1;
    w = pds_dataset_load(PDS_TEST_DATA "/small", &o, &d);
    assert_non_null(w);
    assert_int_equal(w->nbr_start[1] - w->nbr_start[0], 3);
    pds_world_free(w);
    pds_diag_free(&d);
}

/* dataset.yaml maps roles to other file names; roles it leaves out keep the
 * generic name and stay optional. */
static void dataset_manifest_renames_files(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/renamed", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file("renamed/dataset.yaml", "units: provinces.csv\nsubunits: cities.csv\n", 0);
    write_file("renamed/provinces.csv",
               "code,name,region,adoption_year\nA,Alpha,e,2001\nB,Beta,w,\n", 0);
    write_file("renamed/cities.csv",
               "code,name,parent,adoption_year\na1,a1,A,\nb1,b1,B,\nb2,b2,B,\n", 0);
    write_file("renamed/units.csv", "not,a,dataset\n", 0); /* ignored: the manifest names another */
    pds_diag d;
    pds_diag_init(&d);
    pds_world *w = pds_dataset_load(dir, NULL, &d);
    assert_non_null(w);
    assert_int_equal(w->n_units, 2);
    assert_int_equal(w->n_subunits, 3);
    assert_int_equal(w->sub_start[2] - w->sub_start[1], 2);
    pds_world_free(w);
    char *panel = pds_dataset_file(dir, PDS_DATASET_PANEL, &d);
    char *units = pds_dataset_file(dir, PDS_DATASET_UNITS, &d);
    assert_non_null(strstr(panel, "/renamed/panel.csv"));
    assert_non_null(strstr(units, "/renamed/provinces.csv"));
    free(panel);
    free(units);
    assert_int_equal(d.n, 0);
    pds_diag_free(&d);
}

static void model_loads(void **state)
{
    (void)state;
    pds_diag d;
    pds_diag_init(&d);
    pds_model *m = pds_model_load(PDS_TEST_DATA "/model.yaml", &d);
    assert_non_null(m);
    assert_string_equal(m->name, "small-full");
    assert_int_equal(m->link, PDS_LINK_LOGIT);
    assert_int_equal(m->lag, 1);
    assert_true(m->intercept == -4.0 && m->intercept_se == 1.0);
    assert_int_equal(m->n_terms, 5);
    assert_int_equal(m->terms[0].kind, PDS_TERM_DOCUMENTS);
    assert_int_equal(m->terms[1].kind, PDS_TERM_NEIGHBOURS_PCT);
    assert_int_equal(m->terms[2].kind, PDS_TERM_SUBUNITS_PCT);
    assert_int_equal(m->terms[3].kind, PDS_TERM_PANEL);
    assert_int_equal(m->terms[3].transform, PDS_TRANSFORM_LOG);
    assert_string_equal(m->terms[3].variable, "size");
    assert_true(m->terms[4].coef == 0.05 && m->terms[4].se == 0.02);
    assert_null(m->cov);
    pds_model_free(m);
    pds_diag_free(&d);
}

static void model_covariance_and_errors(void **state)
{
    (void)state;
    pds_diag d;
    pds_diag_init(&d);
    const char *p = write_file("m.yaml",
                               "name: m\nlink: cloglog\nintercept: {coef: 1, se: 0.5}\n"
                               "terms:\n  - {name: a, variable: x, coef: 2, se: 0.1}\n"
                               "covariance: [[0.25, 0.01], [0.01, 0.01]]\n",
                               0);
    pds_model *m = pds_model_load(p, &d);
    assert_non_null(m);
    assert_int_equal(m->link, PDS_LINK_CLOGLOG);
    assert_non_null(m->cov);
    assert_true(m->cov[1] == 0.01 && m->cov[3] == 0.01);
    pds_model_free(m);
    p = write_file("bad.yaml",
                   "name: m\nintercept: {coef: 1}\nterms:\n"
                   "  - {name: a, variable: x, coef: two}\n"
                   "  - {name: b, dynamic: gossip, coef: 1}\n"
                   "  - {name: c, coef: 1}\n"
                   "colour: blue\n",
                   0);
    assert_null(pds_model_load(p, &d));
    assert_true(has_msg(&d, "bad.yaml:4:"));
    assert_true(has_msg(&d, "terms[0].coef: expected a number"));
    assert_true(has_msg(&d, "bad.yaml:5:"));
    assert_true(has_msg(&d, "unknown dynamic variable \"gossip\""));
    assert_true(has_msg(&d, "bad.yaml:6:"));
    assert_true(has_msg(&d, "exactly one of 'dynamic', 'variable'"));
    assert_true(has_msg(&d, "bad.yaml:7:1: unknown key 'colour'"));
    pds_diag_free(&d);
}

static void config_defaults_and_paths(void **state)
{
    (void)state;
    pds_diag d;
    pds_diag_init(&d);
    pds_run_config *c = pds_run_config_load(PDS_TEST_DATA "/run.yaml", &d);
    assert_non_null(c);
    assert_int_equal(c->base_year, 2015);
    assert_int_equal(c->horizon, 2025);
    assert_int_equal(c->runs, 2000);
    assert_int_equal(c->seed, 7);
    assert_int_equal(c->threads, 0);
    assert_int_equal(c->store_subunit_years, 1);
    assert_int_equal(c->sea_links, 0);
    assert_string_equal(c->dataset_path, PDS_TEST_DATA "/small");
    assert_string_equal(c->model_path, PDS_TEST_DATA "/model.yaml");
    assert_int_equal(c->n_report_years, 3);
    assert_int_equal(c->report_years[2], 2025);
    assert_int_equal(c->n_proj, 1);
    assert_string_equal(c->proj[0].variable, "size");
    assert_int_equal(c->proj[0].rule, PDS_PROJ_TREND);
    assert_int_equal(c->proj[0].years, 3);
    assert_true(isnan(c->proj[0].min));
    pds_run_config_free(c);

    const char *p = write_file("r.yaml", "dataset: d\nmodel: m.yaml\nbase_year: 2020\nhorizon: 2030\n", 0);
    c = pds_run_config_load(p, &d);
    assert_non_null(c);
    assert_int_equal(c->runs, 10000);
    assert_string_equal(c->output_path, "output/r.h5");
    assert_int_equal(c->n_report_years, 3);
    assert_int_equal(c->report_years[0], 2024);
    assert_int_equal(c->report_years[2], 2030);
    pds_run_config_free(c);
    pds_diag_free(&d);
}

static void config_errors_name_line_and_column(void **state)
{
    (void)state;
    pds_diag d;
    pds_diag_init(&d);
    const char *p = write_file("bad-run.yaml",
                               "dataset: d\nmodel: m.yaml\nbase_year: 2020\nhorizon: 2030\n"
                               "runs: ten\nthreads: -1\nspeed: 11\n",
                               0);
    assert_null(pds_run_config_load(p, &d));
    assert_true(has_msg(&d, "bad-run.yaml:5:7: runs: expected an integer in 1..1000000000"));
    assert_true(has_msg(&d, "got \"ten\""));
    assert_true(has_msg(&d, "bad-run.yaml:6:10: threads: expected an integer in 0..1024"));
    assert_true(has_msg(&d, "bad-run.yaml:7:1: unknown key 'speed'"));
    pds_diag_free(&d);
    pds_diag_init(&d);
    p = write_file("syntax.yaml", "dataset: [d\nmodel: x\n", 0);
    assert_null(pds_run_config_load(p, &d));
    assert_true(has_msg(&d, "syntax.yaml:"));
    assert_true(has_msg(&d, "YAML syntax error"));
    pds_diag_free(&d);
    pds_diag_init(&d);
    p = write_file("missing.yaml", "dataset: d\nhorizon: 2030\n", 0);
    assert_null(pds_run_config_load(p, &d));
    assert_true(has_msg(&d, "missing required key 'model'"));
    assert_true(has_msg(&d, "missing required key 'base_year'"));
    pds_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_quotes_bom_and_lines),
        cmocka_unit_test(csv_errors_name_the_line),
        cmocka_unit_test(number_parsing_is_strict),
        cmocka_unit_test(sorted_lookups_match_linear_search),
        cmocka_unit_test(dataset_small_loads),
        cmocka_unit_test(dataset_manifest_renames_files),
        cmocka_unit_test(model_loads),
        cmocka_unit_test(model_covariance_and_errors),
        cmocka_unit_test(config_defaults_and_paths),
        cmocka_unit_test(config_errors_name_line_and_column),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
