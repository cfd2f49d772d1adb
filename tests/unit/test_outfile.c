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

#include "io/outfile.h"

/* The output helper: CSV text cells, the lock (busy between two holders,
 * also within one process), the input check, and commit/abort. */

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pdsim-test-outfile-%ld", (long)getpid());
    return mkdir(dir, 0777);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *csv_of(const char *s)
{
    static char buf[256];
    memset(buf, 0, sizeof buf);
    FILE *f = fmemopen(buf, sizeof buf, "w");
    pds_csv_text(f, s);
    fclose(f);
    return buf;
}

static void csv_cells(void **state)
{
    (void)state;
    assert_string_equal(csv_of("Beijing"), "Beijing");
    assert_string_equal(csv_of("a,b"), "\"a,b\"");
    assert_string_equal(csv_of("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_string_equal(csv_of("=1+2"), "\"'=1+2\"");
    assert_string_equal(csv_of("@SUM(A1)"), "\"'@SUM(A1)\"");
    assert_string_equal(csv_of("-2+3"), "\"'-2+3\"");
    assert_string_equal(csv_of("+cmd|x"), "\"'+cmd|x\"");
    assert_string_equal(csv_of("\tx"), "\"'\tx\"");
    /* plain numbers stay numbers */
    assert_string_equal(csv_of("-1.5"), "-1.5");
    assert_string_equal(csv_of("+86"), "+86");
    assert_string_equal(csv_of("-2e3"), "-2e3");
    assert_string_equal(csv_of("-0x10"), "\"'-0x10\"");
    assert_string_equal(csv_of("-inf"), "\"'-inf\"");
    assert_string_equal(csv_of(""), "");
}

static void lock_busy(void **state)
{
    (void)state;
    char dest[300];
    snprintf(dest, sizeof dest, "%s/out.h5", dir);
    pds_diag d;
    pds_diag_init(&d);
    pds_lock *a = NULL, *b = NULL;
    assert_int_equal(pds_lock_take(dest, &a, &d), PDS_OK);
    assert_non_null(a);
    assert_int_equal(pds_lock_take(dest, &b, &d), PDS_ERR_BUSY);
    assert_null(b);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.msgs[0], "busy"));
    pds_lock_release(a);
    char lockname[320];
    snprintf(lockname, sizeof lockname, "%s.lock", dest);
    assert_int_not_equal(access(lockname, F_OK), 0); /* removed when released */
    assert_int_equal(pds_lock_take(dest, &b, &d), PDS_OK);
    pds_lock_release(b);
    /* a file at the lock name that pdsim did not write is refused, kept */
    FILE *f = fopen(lockname, "w");
    fputs("mine\n", f);
    fclose(f);
    assert_int_equal(pds_lock_take(dest, &b, &d), PDS_ERR_INPUT);
    assert_int_equal(access(lockname, F_OK), 0);
    pds_diag_free(&d);
}

static void inputs_refused(void **state)
{
    (void)state;
    char in[300], other[300], link[300], rel[300];
    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(other, sizeof other, "%s/other.csv", dir);
    snprintf(link, sizeof link, "%s/alias.csv", dir);
    snprintf(rel, sizeof rel, "%s/../%s/in.csv", dir, strrchr(dir, '/') + 1);
    FILE *f = fopen(in, "w");
    fputs("x\n", f);
    fclose(f);
    assert_int_equal(symlink("in.csv", link), 0);
    pds_inset s;
    pds_inset_init(&s);
    assert_int_equal(pds_inset_add(&s, in), 0);
    pds_diag d;
    pds_diag_init(&d);
    assert_int_equal(pds_inset_check(&s, other, &d), PDS_OK);
    assert_int_equal(pds_inset_check(&s, in, &d), PDS_ERR_INPUT);
    assert_int_equal(pds_inset_check(&s, link, &d), PDS_ERR_INPUT);
    assert_int_equal(pds_inset_check(&s, rel, &d), PDS_ERR_INPUT);
    pds_inset_free(&s);
    /* a folder: the files in it */
    pds_inset_init(&s);
    assert_int_equal(pds_inset_add(&s, dir), 0);
    assert_int_equal(pds_inset_check(&s, in, &d), PDS_ERR_INPUT);
    assert_int_equal(pds_inset_check(&s, other, &d), PDS_OK);
    pds_inset_free(&s);
    pds_diag_free(&d);
}

static void commit_and_abort(void **state)
{
    (void)state;
    char dest[300];
    snprintf(dest, sizeof dest, "%s/t.csv", dir);
    pds_diag d;
    pds_diag_init(&d);
    pds_outfile o;
    assert_int_equal(pds_outfile_begin(&o, dest, NULL, PDS_OUT_LOCK, &d), PDS_OK);
    fputs("a\n", o.f);
    assert_int_not_equal(access(dest, F_OK), 0); /* not there before the commit */
    assert_int_equal(pds_outfile_commit(&o, &d), PDS_OK);
    assert_int_equal(access(dest, F_OK), 0);
    assert_int_equal(pds_outfile_begin(&o, dest, NULL, 0, &d), PDS_OK);
    char *tmp = strdup(o.tmp);
    fputs("b\n", o.f);
    pds_outfile_abort(&o);
    assert_int_not_equal(access(tmp, F_OK), 0);
    free(tmp);
    FILE *f = fopen(dest, "r");
    char line[8] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "a\n"); /* the aborted write changed nothing */
    assert_int_equal(d.n, 0);
    pds_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_cells),
        cmocka_unit_test_setup_teardown(lock_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(inputs_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_and_abort, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
