/*
 * A C-level test of lucy's SIMD kernels (lucy/_kernels), for builds where
 * Python cannot run them, such as a cross-compiled aarch64 build run under
 * qemu-user (.ci/aarch64.sh). Linked with the kernel sources of the tiers
 * compiled in (LUCY_BUILT_<tier>), it runs every kernel family of one tier
 * on fixed pseudo-random inputs:
 *
 *     kernel_test TIER OUTDIR
 *
 * It checks each factorization itself (P A == L U to rounding, pivots
 * within range, LAPACK's first maximum as pivot) and exits 1 on a failure;
 * and it writes every output's bytes to OUTDIR/<family>.bin (lanes,
 * columns_real, columns_complex, trsm, copies, solve), so that the outputs of
 * two builds can be compared bit for bit: docs/kernels.md says which
 * tiers round alike.
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static int failures;

static void fail(const char *what, const char *detail, int a, int b)
{
    fprintf(stderr, "FAIL %s: %s (%d, %d)\n", what, detail, a, b);
    failures++;
}

/* xorshift64*: the same numbers on every platform; each family starts
 * from its own seed, so that its inputs do not depend on the others'. */
static unsigned long long rng_state;
static void seed(unsigned long long s)
{
    rng_state = 88172645463325252ULL ^ (s * 0x9E3779B97F4A7C15ULL);
}
static double next_uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0 - 0.5;
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    return f;
}

/* Check a factorization: lu column-major (leading dimension m; complex:
 * (re, im) pairs), a0 the matrix row-major, piv the row swaps. Checks |P A - L U| <= tol * max|A| and that
 * each pivot is the first largest candidate in its column of the partly
 * factored matrix (the final L's column times U's pivot, up to rounding:
 * checked through the multipliers, |l| <= 1). */
static void check_lu(const char *what, const double *a0, const double *lu, const int32_t *piv,
                     int m, int n, int cplx, double tol)
{
    const int k = m < n ? m : n, e = cplx ? 2 : 1;
    double *pa = malloc(sizeof(double) * e * m * n), scale = 0, err = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            for (int c = 0; c < e; c++)
                pa[(i * n + j) * e + c] = a0[(i * n + j) * e + c];
    for (int i = 0; i < k; i++) {
        if (piv[i] < i || piv[i] >= m) {
            fail(what, "pivot out of range", i, piv[i]);
            free(pa);
            return;
        }
        for (int j = 0; j < n * e; j++) {
            double t = pa[i * n * e + j];
            pa[i * n * e + j] = pa[piv[i] * n * e + j];
            pa[piv[i] * n * e + j] = t;
        }
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sr = 0, si = 0;
            for (int q = 0; q < k && q <= i && q <= j; q++) {
                double lr = q == i ? 1 : lu[(i + q * m) * e], li = q == i || !cplx ? 0 : lu[(i + q * m) * e + 1];
                double ur = lu[(q + j * m) * e], ui = cplx ? lu[(q + j * m) * e + 1] : 0;
                /* the largest pivot makes every multiplier at most 1 (complex:
                 * of modulus at most sqrt 2, the pivot's size being |re| + |im|) */
                if (q < i && hypot(lr, li) > (cplx ? 1.4142136 : 1.0) + 1e-12)
                    fail(what, "multiplier above 1: not the largest pivot", i, q);
                sr += lr * ur - li * ui;
                si += lr * ui + li * ur;
            }
            double dr = sr - pa[(i * n + j) * e], di = cplx ? si - pa[(i * n + j) * e + 1] : 0;
            err = fmax(err, fabs(dr) + fabs(di));
            scale = fmax(scale, fabs(pa[(i * n + j) * e]) + (cplx ? fabs(pa[(i * n + j) * e + 1]) : 0));
        }
    if (!(err <= tol * scale * (m + n)))
        fail(what, "P A != L U", m, n);
    free(pa);
}

static void test_lanes(const lucy_kernels *kt, const char *dir)
{
    seed(1);
    FILE *out = open_out(dir, "lanes");
    for (int n = 2; n <= LUCY_LANES_MAX_N; n++) {
        enum { COUNT = 2 * LUCY_LANES };
        double a[COUNT][2 * 64], fa[COUNT][2 * 64], x[COUNT][2 * 8 * 3], b0[COUNT][2 * 8 * 3];
        float as[COUNT][64], fs[COUNT][64], xs[COUNT][8 * 3];
        int32_t piv[COUNT][8], status[COUNT];
        const char *src[COUNT];
        double *dst[COUNT], *xd[COUNT];
        const double *lud[COUNT];
        float *dsts[COUNT], *xsp[COUNT];
        const float *lus[COUNT];
        int32_t *pv[COUNT], *st[COUNT];
        const int32_t *cpv[COUNT];
        int nonfinite[COUNT / LUCY_LANES];
        char name[64];
        for (int cplx = 0; cplx < 2; cplx++) {
            const int e = cplx ? 2 : 1;
            for (int w = 0; w < COUNT; w++) {
                for (int i = 0; i < n * n * e; i++)
                    a[w][i] = next_uniform();
                for (int i = 0; i < n * 3 * e; i++)
                    b0[w][i] = x[w][i] = next_uniform();
                src[w] = (const char *)a[w];
                dst[w] = fa[w];
                lud[w] = fa[w];
                xd[w] = x[w];
                pv[w] = piv[w];
                cpv[w] = piv[w];
                st[w] = &status[w];
            }
            (cplx ? kt->lanes_getrf_z : kt->lanes_getrf_d)(n, COUNT, src, n * 8 * e, 8 * e, dst,
                                                           pv, st, 1);
            for (int w = 0; w < COUNT; w++) {
                snprintf(name, sizeof name, "lanes getrf %s n=%d", cplx ? "z" : "d", n);
                check_lu(name, a[w], fa[w], piv[w], n, n, cplx, 1e-13);
                if (status[w] != 0)
                    fail(name, "info", w, status[w]);
                fwrite(fa[w], sizeof(double), n * n * e, out);
                fwrite(piv[w], sizeof(int32_t), n, out);
            }
            (cplx ? kt->lanes_getrs_z : kt->lanes_getrs_d)(n, COUNT, 3, lud, n, cpv, xd, n,
                                                           nonfinite);
            for (int w = 0; w < COUNT; w++)
                fwrite(x[w], sizeof(double), n * 3 * e, out);
            (void)b0;
        }
        for (int w = 0; w < COUNT; w++) {
            for (int i = 0; i < n * n; i++)
                as[w][i] = (float)next_uniform();
            for (int i = 0; i < n * 3; i++)
                xs[w][i] = (float)next_uniform();
            src[w] = (const char *)as[w];
            dsts[w] = fs[w];
            lus[w] = fs[w];
            xsp[w] = xs[w];
        }
        kt->lanes_getrf_s(n, COUNT, src, n * 4, 4, dsts, pv, st, 1);
        kt->lanes_getrs_s(n, COUNT, 3, lus, n, cpv, xsp, n, nonfinite);
        for (int w = 0; w < COUNT; w++) {
            fwrite(fs[w], sizeof(float), n * n, out);
            fwrite(piv[w], sizeof(int32_t), n, out);
            fwrite(xs[w], sizeof(float), n * 3, out);
        }
    }
    fclose(out);
}

/* Shapes every tier's columns kernels take (m a multiple of 8: the rows of
 * a float32 register of 32 bytes). */
static const int SHAPES[][2] = {{8, 8}, {16, 16}, {24, 24}, {32, 20}, {8, 40}, {40, 24},
                                {64, 64}, {96, 96}};

static void test_columns(const lucy_kernels *kt, const char *dir)
{
    seed(2);
    FILE *real = open_out(dir, "columns_real"), *cplx_out = open_out(dir, "columns_complex");
    char name[64];
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++) {
        const int m = SHAPES[s][0], n = SHAPES[s][1];
        for (int count = 1; count <= LUCY_COLUMNS_GROUP; count += 3) {
            double *a0[LUCY_COLUMNS_GROUP], *a[LUCY_COLUMNS_GROUP];
            float *s0[LUCY_COLUMNS_GROUP], *sa[LUCY_COLUMNS_GROUP];
            int32_t *piv[LUCY_COLUMNS_GROUP], info[LUCY_COLUMNS_GROUP];
            for (int cplx = 0; cplx < 2; cplx++) {
                const int e = cplx ? 2 : 1;
                for (int q = 0; q < count; q++) {
                    a0[q] = malloc(sizeof(double) * m * n * e);
                    a[q] = malloc(sizeof(double) * m * n * e);
                    piv[q] = malloc(sizeof(int32_t) * n);
                    for (int i = 0; i < m * n * e; i++)
                        a0[q][i] = next_uniform();
                    for (int i = 0; i < m; i++)        /* row-major -> column-major */
                        for (int j = 0; j < n; j++)
                            for (int c = 0; c < e; c++)
                                a[q][(i + j * m) * e + c] = a0[q][(i * n + j) * e + c];
                }
                (cplx ? kt->columns_getf2_z : kt->columns_getf2_d)(count, m, n, a, m, piv, info,
                                                                   NULL, 0);
                for (int q = 0; q < count; q++) {
                    snprintf(name, sizeof name, "columns %s %dx%d", cplx ? "z" : "d", m, n);
                    check_lu(name, a0[q], a[q], piv[q], m, n, cplx, 1e-13);
                    fwrite(a[q], sizeof(double), m * n * e, cplx ? cplx_out : real);
                    fwrite(piv[q], sizeof(int32_t), m < n ? m : n, cplx ? cplx_out : real);
                    free(a0[q]);
                    free(a[q]);
                }
            }
            for (int q = 0; q < count; q++) {
                s0[q] = malloc(sizeof(float) * m * n);
                sa[q] = malloc(sizeof(float) * m * n);
                for (int i = 0; i < m * n; i++)
                    s0[q][i] = (float)next_uniform();
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        sa[q][i + j * m] = s0[q][i * n + j];
            }
            kt->columns_getf2_s(count, m, n, sa, m, piv, info, NULL, 0);
            for (int q = 0; q < count; q++) {
                fwrite(sa[q], sizeof(float), m * n, real);
                fwrite(piv[q], sizeof(int32_t), m < n ? m : n, real);
                free(s0[q]);
                free(sa[q]);
                free(piv[q]);
            }
        }
    }
    fclose(real);
    fclose(cplx_out);
}

static void test_trsm(const lucy_kernels *kt, const char *dir)
{
    seed(3);
    FILE *out = open_out(dir, "trsm");
    const ptrdiff_t nb = kt->panel_cols_d > 0 ? kt->panel_cols_d : 8, nc = 7, ld = nb + 3;
    double *l = malloc(sizeof(double) * ld * nb), *b = malloc(sizeof(double) * ld * nc);
    for (ptrdiff_t i = 0; i < ld * nb; i++)
        l[i] = next_uniform();
    for (ptrdiff_t i = 0; i < ld * nc; i++)
        b[i] = next_uniform();
    kt->columns_trsm_d(nc, l, ld, b, ld);
    fwrite(&nb, sizeof nb, 1, out);
    fwrite(b, sizeof(double), ld * nc, out);
    free(l);
    free(b);
    fclose(out);
}

static void test_copies(const lucy_kernels *kt, const char *dir)
{
    seed(4);
    FILE *out = open_out(dir, "copies");
    static const int sizes[][2] = {{8, 8}, {16, 12}, {64, 64}, {96, 96}, {128, 64}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int m = sizes[s][0], n = sizes[s][1];
        double *src = malloc(sizeof(double) * 2 * m * n), *dst = malloc(sizeof(double) * 2 * m * n);
        for (int i = 0; i < 2 * m * n; i++)
            src[i] = next_uniform();
        int finite = kt->load_transposed_d((const char *)src, n * 8, m, n, dst, m);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                if (dst[i + j * m] != src[i * n + j])
                    fail("copy d", "element", i, j);
        if (!finite)
            fail("copy d", "finite", m, n);
        fwrite(dst, sizeof(double), m * n, out);
        src[5] = INFINITY;
        if (kt->load_transposed_z((const char *)src, n * 16, m, n, dst, m))
            fail("copy z", "missed an inf", m, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                if (dst[2 * (i + j * m)] != src[2 * (i * n + j)]
                    || dst[2 * (i + j * m) + 1] != src[2 * (i * n + j) + 1])
                    fail("copy z", "element", i, j);
        fwrite(dst, sizeof(double), 2 * m * n, out);
        free(src);
        free(dst);
    }
    fclose(out);
}

/* b = op(A) x0 for A = P L U (lu column-major, n x n, complex if cplx;
 * trans 0: A, 1: A^T, 2: A^H), in complex arithmetic throughout. */
static void apply_lu(const double complex *lu, const int32_t *piv, int n, int trans,
                     const double complex *x0, double complex *b)
{
    double complex *t = malloc(sizeof *t * n);
    for (int i = 0; i < n; i++)
        t[i] = x0[i];
    if (trans == 0) {   /* P (L (U x0)) */
        for (int i = 0; i < n; i++) {
            b[i] = 0;
            for (int j = i; j < n; j++)
                b[i] += lu[i + j * n] * t[j];
        }
        for (int i = n - 1; i >= 0; i--)
            for (int j = 0; j < i; j++)
                b[i] += lu[i + j * n] * b[j];
        for (int i = n - 1; i >= 0; i--) {
            double complex s = b[i];
            b[i] = b[piv[i]];
            b[piv[i]] = s;
        }
    } else {            /* U^op (L^op (P^T x0)) */
        for (int i = 0; i < n; i++) {
            double complex s = t[i];
            t[i] = t[piv[i]];
            t[piv[i]] = s;
        }
        for (int i = 0; i < n; i++) {          /* L^op t, unit diagonal */
            b[i] = t[i];
            for (int j = i + 1; j < n; j++)
                b[i] += (trans == 2 ? conj(lu[j + i * n]) : lu[j + i * n]) * t[j];
        }
        for (int i = 0; i < n; i++)
            t[i] = b[i];
        for (int i = n - 1; i >= 0; i--) {     /* U^op t */
            b[i] = 0;
            for (int j = 0; j <= i; j++)
                b[i] += (trans == 2 ? conj(lu[j + i * n]) : lu[j + i * n]) * t[j];
        }
    }
    free(t);
}

/* lu_solve's substitutions (solve.c.in), float64 and complex128: factors of
 * a well-conditioned matrix, op(A) x = b for a known x. */
static void test_solve(const lucy_kernels *kt, const char *dir)
{
    seed(5);
    FILE *out = open_out(dir, "solve");
    static const int sizes[] = {1, 2, 5, 9, 33, 100, 1030};     /* 1030: passes of 8 */
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int n = sizes[s], nrhs = 2;
        double complex *lu = malloc(sizeof *lu * n * n), *x0 = malloc(sizeof *x0 * n * nrhs),
                       *b = malloc(sizeof *b * n * nrhs);
        double *real_lu = malloc(sizeof(double) * n * n), *real_b = malloc(sizeof(double) * n * nrhs);
        int32_t *piv = malloc(sizeof *piv * n);
        for (int cplx = 0; cplx < 2; cplx++) {
            for (int i = 0; i < n; i++) {
                piv[i] = i + (int32_t)((next_uniform() + 0.5) * (n - i));
                if (piv[i] >= n)
                    piv[i] = n - 1;
                for (int j = 0; j < n; j++) {   /* |L| <= 1/2, U's diagonal >= 1 */
                    double complex v = next_uniform() + (cplx ? I * next_uniform() : 0);
                    lu[i + j * n] = i == j ? 1.5 + (cplx ? 0.5 * I : 0) + v : v / n;
                    real_lu[i + j * n] = creal(lu[i + j * n]);
                }
            }
            for (int i = 0; i < n * nrhs; i++)
                x0[i] = next_uniform() + (cplx ? I * next_uniform() : 0);
            for (int trans = 0; trans < 3; trans++) {
                for (int c = 0; c < nrhs; c++)
                    apply_lu(lu, piv, n, trans, x0 + c * n, b + c * n);
                for (int i = 0; i < n * nrhs; i++)
                    real_b[i] = creal(b[i]);
                if (cplx)
                    kt->solve_z.getrs(trans, n, nrhs, (const double *)lu, n, piv, (double *)b, n);
                else
                    kt->solve_d.getrs(trans, n, nrhs, real_lu, n, piv, real_b, n);
                double err = 0;
                for (int i = 0; i < n * nrhs; i++) {
                    const double complex x = cplx ? b[i] : real_b[i];
                    if (!(cabs(x - x0[i]) <= err))
                        err = cabs(x - x0[i]);
                }
                if (!(err <= 1e-12))
                    fail(cplx ? "solve z" : "solve d", "x differs", n, trans);
                if (cplx)
                    fwrite(b, sizeof *b, n * nrhs, out);
                else
                    fwrite(real_b, sizeof(double), n * nrhs, out);
            }
        }
        free(lu);
        free(x0);
        free(b);
        free(real_lu);
        free(real_b);
        free(piv);
    }
    fclose(out);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s TIER OUTDIR\n", argv[0]);
        return 2;
    }
    int tier = -1;
    for (int t = 0; t < LUCY_TIER_COUNT; t++)
        if (strcmp(argv[1], lucy_tier_name(t)) == 0)
            tier = t;
    const lucy_kernels *kt = tier >= 0 ? lucy_kernels_of(tier) : NULL;
    if (kt == NULL || kt->columns_getf2_d == NULL) {
        fprintf(stderr, "%s: no %s kernels in this build\n", argv[0], argv[1]);
        return 2;
    }
    if (!(lucy_tiers_supported() & (1 << tier))) {
        fprintf(stderr, "%s: this CPU cannot run %s\n", argv[0], argv[1]);
        return 2;
    }
    test_lanes(kt, argv[2]);
    test_columns(kt, argv[2]);
    test_trsm(kt, argv[2]);
    test_copies(kt, argv[2]);
    test_solve(kt, argv[2]);
    printf("%s: %s kernels, %d failures\n", argv[0], kt->name, failures);
    return failures ? 1 : 0;
}
