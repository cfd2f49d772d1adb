#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "core/design.h"

/* Points of the unscrambled Joe-Kuo sequence as given by an independent
 * implementation (SciPy's scipy.stats.qmc.Sobol, scramble=False), whose
 * point i is our row i - 1 (we skip the origin). */
static void sobol_known_points(void **state)
{
    (void)state;
    static const size_t cols[] = {0, 1, 2, 9, 31, 40, 63};
    static const struct {
        size_t i;
        double v[7];
    } known[] = {
        {1, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}},
        {7, {0.125, 0.625, 0.375, 0.875, 0.875, 0.125, 0.375}},
        {100, {0.4140625, 0.2578125, 0.7734375, 0.6953125, 0.4140625, 0.7109375, 0.6484375}},
        {1000,
         {0.2197265625, 0.0966796875, 0.5185546875, 0.0693359375, 0.1455078125, 0.9130859375,
          0.4462890625}},
    };
    size_t n = 1000, d = PDS_SOBOL_MAX_DIM;
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    assert_int_equal(pds_design_sobol(d, n, x), PDS_OK);
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        for (size_t c = 0; c < 7; c++)
            assert_true(x[(known[k].i - 1) * d + cols[c]] == known[k].v[c]);
    free(x);
    assert_int_equal(pds_design_sobol(PDS_SOBOL_MAX_DIM + 1, 4, NULL), PDS_ERR_INPUT);
    assert_int_equal(pds_design_sobol(0, 4, NULL), PDS_ERR_INPUT);
}

/* The defining property: points 0..2^k - 1 put exactly one point in each
 * interval [i / 2^k, (i + 1) / 2^k) of every coordinate; without the origin,
 * every interval but the first. */
static void sobol_stratified(void **state)
{
    (void)state;
    size_t k = 10, n = ((size_t)1 << k) - 1, d = PDS_SOBOL_MAX_DIM;
    double *x = malloc(n * d * sizeof *x);
    int *hits = calloc(n + 1, sizeof *hits);
    assert_non_null(x);
    assert_non_null(hits);
    assert_int_equal(pds_design_sobol(d, n, x), PDS_OK);
    for (size_t j = 0; j < d; j++) {
        for (size_t i = 0; i <= n; i++)
            hits[i] = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x[i * d + j];
            assert_true(v >= 0.0 && v < 1.0);
            hits[(size_t)(v * (double)(n + 1))]++;
        }
        assert_int_equal(hits[0], 0);
        for (size_t i = 1; i <= n; i++)
            assert_int_equal(hits[i], 1);
    }
    free(hits);
    free(x);
}

static void lhs_one_point_per_stratum(void **state)
{
    (void)state;
    size_t n = 37, d = 5;
    double a[37 * 5], b[37 * 5], c[37 * 5];
    pds_design_lhs(d, n, 11, a);
    pds_design_lhs(d, n, 11, b);
    pds_design_lhs(d, n, 12, c);
    int differ = 0;
    for (size_t j = 0; j < d; j++) {
        int hits[37] = {0};
        for (size_t i = 0; i < n; i++) {
            assert_true(a[i * d + j] >= 0.0 && a[i * d + j] < 1.0);
            hits[(size_t)(a[i * d + j] * (double)n)]++;
            assert_true(a[i * d + j] == b[i * d + j]);
            differ += a[i * d + j] != c[i * d + j];
        }
        for (size_t i = 0; i < n; i++)
            assert_int_equal(hits[i], 1);
    }
    assert_true(differ > (int)(n * d) / 2);
}

static void saltelli_arrangement(void **state)
{
    (void)state;
    size_t P = 3, N = 8, R = P + 2;
    double ab[8 * 6], x[8 * 5 * 3];
    assert_int_equal(pds_design_sobol(2 * P, N, ab), PDS_OK);
    assert_int_equal(pds_design_saltelli(P, N, x), PDS_OK);
    for (size_t j = 0; j < N; j++)
        for (size_t r = 0; r < R; r++)
            for (size_t i = 0; i < P; i++) {
                double a = ab[j * 2 * P + i], b = ab[j * 2 * P + P + i];
                double want = r == R - 1 ? b : (r >= 1 && r - 1 == i) ? b : a;
                assert_true(x[(j * R + r) * P + i] == want);
            }
}

/* Run f on the Saltelli design (points from seq, NULL = the unscrambled
 * points 1..N) over [lo, hi]^P and estimate the indices. */
static void estimate_seq(size_t P, size_t N, double lo, double hi, double (*f)(const double *),
                         const pds_sobol_seq *seq, double *first, double *total)
{
    size_t R = P + 2;
    double *x = malloc(N * R * P * sizeof *x), *y = malloc(N * R * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    if (seq)
        assert_int_equal(pds_design_saltelli_seq(P, N, seq, x), PDS_OK);
    else
        assert_int_equal(pds_design_saltelli(P, N, x), PDS_OK);
    for (size_t k = 0; k < N * R; k++) {
        double v[8];
        for (size_t i = 0; i < P; i++)
            v[i] = lo + (hi - lo) * x[k * P + i];
        y[k] = f(v);
    }
    pds_design_sobol_indices(P, N, y, 500, 3, first, total);
    free(x);
    free(y);
}

static void estimate(size_t P, size_t N, double lo, double hi, double (*f)(const double *),
                     double *first, double *total)
{
    pds_sobol_seq seq = {.scramble = 1, .seed = 20231231};
    estimate_seq(P, N, lo, hi, f, &seq, first, total);
}

/* The estimate lies within 4 bootstrap standard errors (interval width /
 * 3.92) of the exact value, plus a floor for indices that are exactly 0;
 * and the interval is not absurdly wide. */
static void near(const double *e, double exact)
{
    double se = (e[2] - e[1]) / 3.92;
    assert_true(e[1] <= e[0] && e[0] <= e[2]);
    assert_true(se < 0.05);
    if (fabs(e[0] - exact) > 4.0 * se + 0.005)
        fail_msg("estimate %.4f [%.4f, %.4f], exact %.4f", e[0], e[1], e[2], exact);
}

static double ishigami(const double *x)
{
    return sin(x[0]) + 7.0 * sin(x[1]) * sin(x[1]) + 0.1 * pow(x[2], 4) * sin(x[0]);
}

static void ishigami_indices(void **state)
{
    (void)state;
    const double a = 7.0, b = 0.1, pi4 = pow(M_PI, 4), pi8 = pi4 * pi4;
    double v1 = 0.5 * pow(1.0 + b * pi4 / 5.0, 2), v2 = a * a / 8.0;
    double v13 = b * b * pi8 * 8.0 / 225.0;
    double d = v1 + v2 + v13;
    double s[3] = {v1 / d, v2 / d, 0.0}, st[3] = {(v1 + v13) / d, v2 / d, v13 / d};
    double first[9], total[9];
    estimate(3, 4096, -M_PI, M_PI, ishigami, first, total);
    for (size_t i = 0; i < 3; i++) {
        near(first + 3 * i, s[i]);
        near(total + 3 * i, st[i]);
    }
    /* the exact values for a = 7, b = 0.1 as published */
    assert_true(fabs(s[0] - 0.3139) < 1e-4 && fabs(s[1] - 0.4424) < 1e-4);
    assert_true(fabs(st[0] - 0.5576) < 1e-4 && fabs(st[2] - 0.2437) < 1e-4);
}

static double linear(const double *x)
{
    return x[0] + 2.0 * x[1];
}

static double constant(const double *x)
{
    (void)x;
    return 3.0;
}

static void linear_and_constant(void **state)
{
    (void)state;
    double first[6], total[6];
    /* additive: first-order and total agree, Var = 1/12 + 4/12 */
    estimate(2, 1024, 0.0, 1.0, linear, first, total);
    near(first, 0.2);
    near(first + 3, 0.8);
    near(total, 0.2);
    near(total + 3, 0.8);
    estimate(2, 64, 0.0, 1.0, constant, first, total);
    for (size_t i = 0; i < 6; i++)
        assert_true(isnan(first[i]) && isnan(total[i]));
}

/* Points first.. of the plain sequence are rows of the full sequence. */
static void sobol_from(void **state)
{
    (void)state;
    size_t d = 7, n = 200;
    double full[201 * 7], part[50 * 7];
    assert_int_equal(pds_design_sobol_from(d, 0, n + 1, full), PDS_OK);
    for (size_t j = 0; j < d; j++)
        assert_true(full[j] == 0.0); /* the origin */
    assert_int_equal(pds_design_sobol_from(d, 137, 50, part), PDS_OK);
    for (size_t i = 0; i < 50 && 137 + i <= n; i++)
        for (size_t j = 0; j < d; j++)
            assert_true(part[i * d + j] == full[(137 + i) * d + j]);
    double one[7];
    assert_int_equal(pds_design_sobol(d, 1, one), PDS_OK);
    for (size_t j = 0; j < d; j++)
        assert_true(one[j] == full[d + j]);
}

/* The base matrices of a Saltelli design: every A_j differs from B_j in every
 * column (so that each AB_j^(i) differs from A_j and every base sample adds
 * to every numerator), and each of the N equal strata of each of the 2P
 * columns holds exactly one A (and one B) value. Returns the number of
 * violations; without per_column, only rows A_j = B_j count as repeats (the
 * plain sequence's early points share values across dimensions). */
static int base_matrix_faults(size_t P, size_t N, const double *x, int per_column)
{
    size_t R = P + 2;
    int faults = 0;
    int *hits = calloc(N, sizeof *hits);
    assert_non_null(hits);
    for (size_t c = 0; c < 2 * P; c++) {
        for (size_t k = 0; k < N; k++)
            hits[k] = 0;
        for (size_t j = 0; j < N; j++) {
            double v = x[(j * R + (c < P ? 0 : R - 1)) * P + c % P];
            if (!(v >= 0.0 && v < 1.0))
                faults++;
            else
                hits[(size_t)(v * (double)N)]++;
        }
        for (size_t k = 0; k < N; k++)
            faults += hits[k] != 1;
    }
    for (size_t j = 0; j < N; j++) {
        int same = 0;
        for (size_t i = 0; i < P; i++)
            same += x[(j * R) * P + i] == x[(j * R + R - 1) * P + i];
        faults += per_column ? same : same == (int)P;
    }
    free(hits);
    return faults;
}

static void scrambled_design(void **state)
{
    (void)state;
    size_t P = 4, R = P + 2;
    for (size_t N = 2; N <= 1024; N *= 4) {
        double *x = malloc(N * R * P * sizeof *x), *y = malloc(N * R * P * sizeof *y);
        assert_non_null(x);
        assert_non_null(y);
        pds_sobol_seq owen = {.scramble = 1, .seed = 99}, plain = {.scramble = 0};
        assert_int_equal(pds_design_saltelli_seq(P, N, &owen, x), PDS_OK);
        assert_int_equal(base_matrix_faults(P, N, x, 1), 0);
        /* reproducible from the seed; another seed gives other points */
        assert_int_equal(pds_design_saltelli_seq(P, N, &owen, y), PDS_OK);
        int differ = 0;
        for (size_t i = 0; i < N * R * P; i++) {
            assert_true(x[i] == y[i]);
        }
        owen.seed = 100;
        assert_int_equal(pds_design_saltelli_seq(P, N, &owen, y), PDS_OK);
        for (size_t i = 0; i < N * R * P; i++)
            differ += x[i] != y[i];
        assert_true(differ > (int)(N * R * P) / 2);
        /* the plain sequence skipping the smallest power of 2 >= N, as SALib */
        assert_int_equal(pds_design_saltelli_seq(P, N, &plain, x), PDS_OK);
        assert_int_equal(base_matrix_faults(P, N, x, 0), 0);
        assert_true(pds_design_sobol_default_skip(N) == N);
        free(x);
        free(y);
    }
    /* the points 1..N of the plain sequence (the old design) fail both: A_1 = B_1 =
     * (1/2, ...), and point 2^m is missing from the first stratum */
    double x[8 * 6 * 4];
    assert_int_equal(pds_design_saltelli(P, 8, x), PDS_OK);
    assert_true(base_matrix_faults(P, 8, x, 0) > 0);
    /* the first base samples do not depend on N */
    double a[16 * 6 * 4], b[64 * 6 * 4];
    pds_sobol_seq owen = {.scramble = 1, .seed = 5};
    assert_int_equal(pds_design_saltelli_seq(P, 16, &owen, a), PDS_OK);
    assert_int_equal(pds_design_saltelli_seq(P, 64, &owen, b), PDS_OK);
    for (size_t i = 0; i < 16 * 6 * 4; i++)
        assert_true(a[i] == b[i]);
}

/* Ishigami indices at equal cost (N base samples, N (P + 2) evaluations) on
 * the old design (plain points 1..N), the plain design skipping N points and
 * the Owen-scrambled design (over 20 seeds): mean width of the 95% intervals
 * and root mean square error against the exact indices, summed over the six
 * indices. The scrambled design's intervals are no wider than the old ones
 * (within 10%: the widths of one design are themselves bootstrap estimates). */
static void interval_widths(void **state)
{
    (void)state;
    const double a = 7.0, b = 0.1, pi4 = pow(M_PI, 4), pi8 = pi4 * pi4;
    double v1 = 0.5 * pow(1.0 + b * pi4 / 5.0, 2), v2 = a * a / 8.0, v13 = b * b * pi8 * 8.0 / 225.0;
    double d = v1 + v2 + v13;
    double exact[6] = {v1 / d, v2 / d, 0.0, (v1 + v13) / d, v2 / d, v13 / d};
    for (size_t N = 256; N <= 1024; N *= 4) {
        double width[3] = {0}, sq[3] = {0}, first[9], total[9];
        int reps[3] = {1, 1, 20};
        for (int kind = 0; kind < 3; kind++)
            for (int r = 0; r < reps[kind]; r++) {
                pds_sobol_seq seq = {.scramble = kind == 2, .seed = 1000 + (uint64_t)r};
                estimate_seq(3, N, -M_PI, M_PI, ishigami, kind ? &seq : NULL, first, total);
                for (size_t i = 0; i < 3; i++) {
                    width[kind] += (first[3 * i + 2] - first[3 * i + 1]) / reps[kind];
                    width[kind] += (total[3 * i + 2] - total[3 * i + 1]) / reps[kind];
                    sq[kind] += pow(first[3 * i] - exact[i], 2) / reps[kind];
                    sq[kind] += pow(total[3 * i] - exact[3 + i], 2) / reps[kind];
                }
            }
        print_message("Ishigami, N = %zu: summed 95%% interval width: old %.4f, plain skip N "
                      "%.4f, Owen-scrambled %.4f (mean of 20); root summed squared error: "
                      "old %.4f, plain skip N %.4f, Owen-scrambled %.4f (RMS over 20)\n",
                      N, width[0], width[1], width[2], sqrt(sq[0]), sqrt(sq[1]), sqrt(sq[2]));
        assert_true(width[2] <= 1.1 * width[0]);
    }
}

/* Resamples in which the output does not vary give NaN and are counted out:
 * with N = 4 base samples of which only the first varies, a resample misses
 * it with probability (3/4)^4 = 0.32. */
static void resamples_counted(void **state)
{
    (void)state;
    size_t P = 2, N = 4, R = P + 2, B = 2000;
    double y[16], first[6], total[6];
    uint64_t used[4];
    for (size_t k = 0; k < N * R; k++)
        y[k] = 1.0;
    y[0] = 2.0;     /* f(A_1) */
    y[R - 1] = 3.0; /* f(B_1) */
    pds_design_sobol_indices_used(P, N, y, B, 9, first, total, used);
    for (size_t i = 0; i < 4; i++) {
        double missed = (double)(B - used[i]) / (double)B;
        if (fabs(missed - pow(0.75, 4)) > 4 * sqrt(pow(0.75, 4) * (1 - pow(0.75, 4)) / (double)B))
            fail_msg("%llu of %zu resamples used", (unsigned long long)used[i], B);
    }
    /* an output that varies everywhere: every resample counts */
    for (size_t k = 0; k < N * R; k++)
        y[k] = (double)(k * k % 7);
    pds_design_sobol_indices_used(P, N, y, B, 9, first, total, used);
    for (size_t i = 0; i < 4; i++)
        assert_true(used[i] == B);
}

static void point_seeds_distinct(void **state)
{
    (void)state;
    uint64_t s[1000];
    for (uint64_t p = 0; p < 1000; p++) {
        s[p] = pds_design_point_seed(7, p);
        for (uint64_t q = 0; q < p; q++)
            assert_true(s[p] != s[q]);
    }
    assert_true(pds_design_point_seed(7, 0) != pds_design_point_seed(8, 0));
    assert_true(pds_design_hash(PDS_HASH_INIT, "a", 1) != pds_design_hash(PDS_HASH_INIT, "b", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sobol_known_points),        cmocka_unit_test(sobol_stratified),
        cmocka_unit_test(lhs_one_point_per_stratum), cmocka_unit_test(saltelli_arrangement),
        cmocka_unit_test(ishigami_indices),          cmocka_unit_test(linear_and_constant),
        cmocka_unit_test(point_seeds_distinct),      cmocka_unit_test(sobol_from),
        cmocka_unit_test(scrambled_design),          cmocka_unit_test(interval_widths),
        cmocka_unit_test(resamples_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
