#include "design.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pcg.h"

/* Joe & Kuo (2008), "Constructing Sobol sequences with better two-dimensional
 * projections", SIAM J. Sci. Comput. 30, 2635-2654: file new-joe-kuo-6.21201,
 * dimensions 2..64 (dimension 1 is the van der Corput sequence). Each row:
 * degree s of the primitive polynomial, its coefficients a, and the initial
 * direction numbers m_1..m_s. */
typedef struct jk_row {
    unsigned char s;
    unsigned char a;
    unsigned short m[9];
} jk_row;

static const jk_row joe_kuo[PDS_SOBOL_MAX_DIM - 1] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
    {7, 7, {1, 1, 3, 13, 7, 35, 63}},
    {7, 8, {1, 3, 5, 9, 1, 25, 53}},
    {7, 14, {1, 3, 1, 13, 9, 35, 107}},
    {7, 19, {1, 3, 1, 5, 27, 61, 31}},
    {7, 21, {1, 1, 5, 11, 19, 41, 61}},
    {7, 28, {1, 3, 5, 3, 3, 13, 69}},
    {7, 31, {1, 1, 7, 13, 1, 19, 1}},
    {7, 32, {1, 3, 7, 5, 13, 19, 59}},
    {7, 37, {1, 1, 3, 9, 25, 29, 41}},
    {7, 41, {1, 3, 5, 13, 23, 1, 55}},
    {7, 42, {1, 3, 7, 3, 13, 59, 17}},
    {7, 50, {1, 3, 1, 3, 5, 53, 69}},
    {7, 55, {1, 1, 5, 5, 23, 33, 13}},
    {7, 56, {1, 1, 7, 7, 1, 61, 123}},
    {7, 59, {1, 1, 7, 9, 13, 61, 49}},
    {7, 62, {1, 3, 3, 5, 3, 55, 33}},
    {8, 14, {1, 3, 1, 15, 31, 13, 49, 245}},
    {8, 21, {1, 3, 5, 15, 31, 59, 63, 97}},
    {8, 22, {1, 3, 1, 11, 11, 11, 77, 249}},
    {8, 38, {1, 3, 1, 11, 27, 43, 71, 9}},
    {8, 47, {1, 1, 7, 15, 21, 11, 81, 45}},
    {8, 49, {1, 3, 7, 3, 25, 31, 65, 79}},
    {8, 50, {1, 3, 1, 1, 19, 11, 3, 205}},
    {8, 52, {1, 1, 5, 9, 19, 21, 29, 157}},
    {8, 56, {1, 3, 7, 11, 1, 33, 89, 185}},
    {8, 67, {1, 3, 3, 3, 15, 9, 79, 71}},
    {8, 70, {1, 3, 7, 11, 15, 39, 119, 27}},
    {8, 84, {1, 1, 3, 1, 11, 31, 97, 225}},
    {8, 97, {1, 1, 1, 3, 23, 43, 57, 177}},
    {8, 103, {1, 3, 7, 7, 17, 17, 37, 71}},
    {8, 115, {1, 3, 1, 5, 27, 63, 123, 213}},
    {8, 122, {1, 1, 3, 5, 11, 43, 53, 133}},
    {9, 8, {1, 3, 5, 5, 29, 17, 47, 173, 479}},
    {9, 13, {1, 3, 3, 11, 3, 1, 109, 9, 69}},
    {9, 16, {1, 1, 1, 5, 17, 39, 23, 5, 343}},
    {9, 22, {1, 3, 1, 5, 25, 15, 31, 103, 499}},
    {9, 25, {1, 1, 1, 11, 11, 17, 63, 105, 183}},
    {9, 44, {1, 1, 5, 11, 9, 29, 97, 231, 363}},
    {9, 47, {1, 1, 5, 15, 19, 45, 41, 7, 383}},
    {9, 52, {1, 3, 7, 7, 31, 19, 83, 137, 221}},
    {9, 55, {1, 1, 1, 3, 23, 15, 111, 223, 83}},
    {9, 59, {1, 1, 5, 13, 31, 15, 55, 25, 161}},
    {9, 62, {1, 1, 3, 13, 25, 47, 39, 87, 257}},
};

#define SOBOL_BITS 32

static void direction_numbers(size_t j, uint32_t *v)
{
    if (j == 0) {
        for (int k = 0; k < SOBOL_BITS; k++)
            v[k] = 1u << (SOBOL_BITS - 1 - k);
        return;
    }
    const jk_row *r = &joe_kuo[j - 1];
    int s = r->s;
    for (int k = 0; k < s && k < SOBOL_BITS; k++)
        v[k] = (uint32_t)r->m[k] << (SOBOL_BITS - 1 - k);
    for (int k = s; k < SOBOL_BITS; k++) {
        v[k] = v[k - s] ^ (v[k - s] >> s);
        for (int l = 1; l < s; l++)
            if ((r->a >> (s - 1 - l)) & 1u)
                v[k] ^= v[k - l];
    }
}

pds_status pds_design_sobol(size_t dim, size_t n, double *out)
{
    return pds_design_sobol_from(dim, 1, n, out);
}

/* Coordinate j of Sobol point i as 32 bits: the Gray-code construction,
 * x_i = XOR of v[c] over the bits c set in gray(i) = i ^ (i >> 1), which
 * equals the recursive x_i = x_{i-1} ^ v[lowest zero bit of i - 1]. */
static uint32_t sobol_gray(const uint32_t *v, uint64_t i)
{
    uint64_t g = i ^ (i >> 1);
    uint32_t x = 0;
    for (int c = 0; g; c++, g >>= 1)
        if (g & 1u)
            x ^= v[c];
    return x;
}

pds_status pds_design_sobol_from(size_t dim, uint64_t first, size_t n, double *out)
{
    if (dim == 0 || dim > PDS_SOBOL_MAX_DIM || first >= PDS_SOBOL_MAX_POINTS ||
        (uint64_t)n >= PDS_SOBOL_MAX_POINTS - first)
        return PDS_ERR_INPUT;
    for (size_t j = 0; j < dim; j++) {
        uint32_t v[SOBOL_BITS];
        direction_numbers(j, v);
        uint32_t x = n ? sobol_gray(v, first) : 0;
        /* Gray-code order: point i differs from point i-1 in the direction
         * number of the lowest zero bit of i-1 */
        for (size_t k = 0; k < n; k++) {
            if (k > 0) {
                uint64_t b = first + k - 1;
                size_t c = 0;
                while (b & 1u) {
                    b >>= 1;
                    c++;
                }
                x ^= v[c];
            }
            out[k * dim + j] = (double)x / 4294967296.0;
        }
    }
    return PDS_OK;
}

/* Owen's nested uniform scramble of the 32 bits of x in dimension j. */
static uint32_t owen_scramble(uint32_t x, uint64_t seed, size_t j)
{
    uint32_t y = 0;
    for (int k = 0; k < SOBOL_BITS; k++) {
        uint32_t prefix = k ? x >> (SOBOL_BITS - k) : 0;
        pds_pcg32 g;
        pds_pcg32_stream(&g, seed, (uint64_t)j,
                         PDS_SOBOL_OWEN_PURPOSE ^ ((uint64_t)k << 32 | prefix));
        uint32_t flip = pds_pcg32_next(&g) >> 31;
        y |= (((x >> (SOBOL_BITS - 1 - k)) & 1u) ^ flip) << (SOBOL_BITS - 1 - k);
    }
    return y;
}

pds_status pds_design_sobol_owen(size_t dim, size_t n, uint64_t seed, double *out)
{
    pds_status st = pds_design_sobol_from(dim, 0, n, out);
    if (st != PDS_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++) {
            uint32_t x = (uint32_t)(out[i * dim + j] * 4294967296.0);
            out[i * dim + j] = (double)owen_scramble(x, seed, j) / 4294967296.0;
        }
    return PDS_OK;
}

uint64_t pds_design_sobol_default_skip(size_t N)
{
    uint64_t s = 1;
    while (s < (uint64_t)N)
        s <<= 1;
    return s;
}

void pds_design_lhs(size_t dim, size_t n, uint64_t seed, double *out)
{
    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, 0, 0x1a7e4c0bull);
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!perm) {
        for (size_t i = 0; i < n * dim; i++)
            out[i] = NAN;
        return;
    }
    for (size_t j = 0; j < dim; j++) {
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = 0; i + 1 < n; i++) {
            size_t k = i + pds_pcg32_bounded(&g, (uint32_t)(n - i));
            size_t t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        for (size_t i = 0; i < n; i++)
            out[i * dim + j] = ((double)perm[i] + pds_pcg32_uniform(&g)) / (double)n;
    }
    free(perm);
}

pds_status pds_design_saltelli(size_t n_params, size_t N, double *out)
{
    pds_sobol_seq seq = {.scramble = 0, .skip = 1};
    return pds_design_saltelli_seq(n_params, N, &seq, out);
}

pds_status pds_design_saltelli_seq(size_t n_params, size_t N, const pds_sobol_seq *seq,
                                   double *out)
{
    size_t P = n_params, R = pds_design_saltelli_rows(P);
    if (P == 0 || 2 * P > PDS_SOBOL_MAX_DIM)
        return PDS_ERR_INPUT;
    double *ab = malloc((N ? N : 1) * 2 * P * sizeof *ab);
    if (!ab)
        return PDS_ERR_RUNTIME;
    pds_status st =
        seq->scramble
            ? pds_design_sobol_owen(2 * P, N, seq->seed, ab)
            : pds_design_sobol_from(2 * P, seq->skip ? seq->skip : pds_design_sobol_default_skip(N),
                                    N, ab);
    if (st != PDS_OK) {
        free(ab);
        return st;
    }
    for (size_t j = 0; j < N; j++) {
        const double *a = ab + j * 2 * P, *b = a + P;
        double *rows = out + j * R * P;
        memcpy(rows, a, P * sizeof *a);
        for (size_t i = 0; i < P; i++) {
            memcpy(rows + (1 + i) * P, a, P * sizeof *a);
            rows[(1 + i) * P + i] = b[i];
        }
        memcpy(rows + (R - 1) * P, b, P * sizeof *b);
    }
    free(ab);
    return PDS_OK;
}

/* The estimates over base samples idx[0..N): first[P], total[P]. */
static void indices_once(size_t P, size_t N, const double *y, const size_t *idx, double centre,
                         double *first, double *total)
{
    size_t R = pds_design_saltelli_rows(P);
    double s = 0.0, ss = 0.0;
    for (size_t k = 0; k < N; k++) {
        const double *r = y + idx[k] * R;
        double fa = r[0] - centre, fb = r[R - 1] - centre;
        s += fa + fb;
        ss += fa * fa + fb * fb;
    }
    double m = s / (double)(2 * N);
    double var = ss / (double)(2 * N) - m * m;
    for (size_t i = 0; i < P; i++) {
        double f = 0.0, t = 0.0;
        for (size_t k = 0; k < N; k++) {
            const double *r = y + idx[k] * R;
            double fa = r[0], fab = r[1 + i], fb = r[R - 1];
            f += (fb - centre) * (fab - fa);
            t += (fa - fab) * (fa - fab);
        }
        first[i] = var > 0.0 ? f / (double)N / var : NAN;
        total[i] = var > 0.0 ? t / (double)(2 * N) / var : NAN;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile p of sorted v[n] by linear interpolation between order statistics. */
static double sorted_quantile(const double *v, size_t n, double p)
{
    double h = p * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

void pds_design_sobol_indices(size_t n_params, size_t N, const double *y, size_t n_boot,
                              uint64_t seed, double *first, double *total)
{
    pds_design_sobol_indices_used(n_params, N, y, n_boot, seed, first, total, NULL);
}

void pds_design_sobol_indices_used(size_t n_params, size_t N, const double *y, size_t n_boot,
                                   uint64_t seed, double *first, double *total, uint64_t *used)
{
    size_t P = n_params, R = pds_design_saltelli_rows(P);
    for (size_t i = 0; i < 3 * P; i++)
        first[i] = total[i] = NAN;
    for (size_t i = 0; used && i < 2 * P; i++)
        used[i] = 0;
    size_t *idx = malloc((N ? N : 1) * sizeof *idx);
    double *f = malloc(P * 2 * sizeof *f);
    double *bf = malloc((n_boot ? n_boot : 1) * P * 2 * sizeof *bf);
    double *col = malloc((n_boot ? n_boot : 1) * sizeof *col);
    if (N == 0 || !idx || !f || !bf || !col)
        goto done;
    /* centring keeps the products small where the outputs are large */
    double centre = 0.0;
    for (size_t k = 0; k < N; k++)
        centre += y[k * R] + y[k * R + R - 1];
    centre /= (double)(2 * N);
    for (size_t k = 0; k < N; k++)
        idx[k] = k;
    indices_once(P, N, y, idx, centre, f, f + P);
    for (size_t i = 0; i < P; i++) {
        first[3 * i] = f[i];
        total[3 * i] = f[P + i];
    }
    pds_pcg32 g;
    pds_pcg32_stream(&g, seed, 0, 0x5a17e111ull);
    for (size_t b = 0; b < n_boot; b++) {
        for (size_t k = 0; k < N; k++)
            idx[k] = pds_pcg32_bounded(&g, (uint32_t)N);
        indices_once(P, N, y, idx, centre, bf + b * 2 * P, bf + b * 2 * P + P);
    }
    for (size_t q = 0; n_boot > 0 && q < 2 * P; q++) {
        size_t n = 0;
        for (size_t b = 0; b < n_boot; b++)
            if (!isnan(bf[b * 2 * P + q]))
                col[n++] = bf[b * 2 * P + q];
        if (used)
            used[q < P ? 2 * q : 2 * (q - P) + 1] = n;
        if (n == 0)
            continue;
        qsort(col, n, sizeof *col, cmp_double);
        double *dst = q < P ? first + 3 * q : total + 3 * (q - P);
        dst[1] = sorted_quantile(col, n, 0.025);
        dst[2] = sorted_quantile(col, n, 0.975);
    }
done:
    free(idx);
    free(f);
    free(bf);
    free(col);
}

uint64_t pds_design_point_seed(uint64_t seed, uint64_t point)
{
    return pds_mix64(seed ^ pds_mix64(point));
}

uint64_t pds_design_hash(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
