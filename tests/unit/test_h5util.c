#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "io/h5util.h"

/* The whole-dataset and string readers that summary and report use: they
 * return what was written, and refuse a wrong shape, a wrong length or a
 * missing dataset or group instead of reading past it. */

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/pdsim-test-h5util-%ld.h5", (long)getpid());
    hid_t f = pds_h5_file_create(path);
    if (f < 0)
        return -1;
    hid_t g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double m[2][3] = {{1, 2, 3}, {4.5, 0.1, -7}};
    hsize_t d2[2] = {2, 3}, d1[1] = {3}, dq[1] = {4};
    int rc = pds_h5_write_dataset(g, "m", H5T_NATIVE_DOUBLE, 2, d2, m, "a 2 x 3 matrix");
    const char *s[3] = {"11", "北京市", "x,\"y\""};
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    rc |= pds_h5_write_dataset(g, "s", t, 1, d1, s, "three strings");
    H5Tclose(t);
    /* as pdsim writes strings now: fixed-length, as long as the longest */
    rc |= pds_h5_write_strings(g, "w", s, 3, "three strings, fixed-length");
    /* fixed-length strings of another program, without terminating NULs */
    hid_t ft = H5Tcopy(H5T_C_S1);
    H5Tset_size(ft, 4);
    rc |= pds_h5_write_dataset(g, "fixed", ft, 1, dq, "abcdefghijklmnop", "fixed-length");
    H5Tclose(ft);
    H5Gclose(g);
    H5Fclose(f);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

static void whole_dataset_with_its_shape(void **state)
{
    (void)state;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    /* the format with checksummed metadata: superblock version 2 or later */
    H5F_info2_t info;
    assert_true(H5Fget_info2(f, &info) >= 0);
    assert_true(info.super.version >= 2);
    double m[6] = {0};
    hsize_t ok[2] = {2, 3}, wrong[2] = {3, 2}, flat[1] = {6};
    assert_int_equal(pds_h5_read_dataset(f, "/g/m", H5T_NATIVE_DOUBLE, 2, ok, m), 0);
    assert_true(m[0] == 1 && m[4] == 0.1 && m[5] == -7);
    H5E_BEGIN_TRY
    {
        assert_int_equal(pds_h5_read_dataset(f, "/g/m", H5T_NATIVE_DOUBLE, 2, wrong, m), -1);
        assert_int_equal(pds_h5_read_dataset(f, "/g/m", H5T_NATIVE_DOUBLE, 1, flat, m), -1);
        assert_int_equal(pds_h5_read_dataset(f, "/g/none", H5T_NATIVE_DOUBLE, 2, ok, m), -1);
        assert_int_equal(pds_h5_read_dataset(f, "/nogroup/m", H5T_NATIVE_DOUBLE, 2, ok, m), -1);
    }
    H5E_END_TRY;
    H5Fclose(f);
}

static void strings_any_or_exact_length(void **state)
{
    (void)state;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    size_t n = 0;
    char **s = NULL;
    assert_int_equal(pds_h5_read_strings(f, "/g/s", &n, &s), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[1], "北京市");
    assert_string_equal(s[2], "x,\"y\"");
    pds_h5_strings_free(s, n);
    n = 3;
    assert_int_equal(pds_h5_read_strings(f, "/g/s", &n, &s), 0);
    pds_h5_strings_free(s, n);
    n = 0;
    assert_int_equal(pds_h5_read_strings(f, "/g/w", &n, &s), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[0], "11");
    assert_string_equal(s[1], "北京市");
    assert_string_equal(s[2], "x,\"y\"");
    pds_h5_strings_free(s, n);
    hid_t d = H5Dopen2(f, "/g/w", H5P_DEFAULT), t = H5Dget_type(d);
    assert_int_equal(H5Tis_variable_str(t), 0);
    assert_int_equal(H5Tget_size(t), strlen("北京市") + 1);
    assert_int_equal(H5Tget_cset(t), H5T_CSET_UTF8);
    H5Tclose(t);
    H5Dclose(d);
    n = 0;
    assert_int_equal(pds_h5_read_strings(f, "/g/fixed", &n, &s), 0);
    assert_int_equal(n, 4);
    assert_string_equal(s[0], "abcd");
    assert_string_equal(s[3], "mnop");
    pds_h5_strings_free(s, n);
    H5E_BEGIN_TRY
    {
        n = 4;
        assert_int_equal(pds_h5_read_strings(f, "/g/s", &n, &s), -1);
        assert_null(s);
        n = 0;
        assert_int_equal(pds_h5_read_strings(f, "/g/m", &n, &s), -1);
        assert_int_equal(pds_h5_read_strings(f, "/nogroup/s", &n, &s), -1);
    }
    H5E_END_TRY;
    pds_h5_strings_free(NULL, 0);
    H5Fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_dataset_with_its_shape),
        cmocka_unit_test(strings_any_or_exact_length),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
