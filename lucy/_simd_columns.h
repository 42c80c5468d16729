/*
 * LU with partial pivoting of ONE small real matrix, in place, with every
 * step vectorised down the columns (GCC/Clang vector extensions, compiled
 * for AVX + FMA like the lane kernels of _small_lanes.h, used only where the
 * CPU has them).
 *
 * Why: for 8 < n <= LUCY_COLUMNS_MAX_N the cost of a LAPACK call (argument
 * checks, OpenBLAS's buffer lock, dispatch) exceeds the arithmetic, and the
 * portable scalar getf2 of _matrix.pxd runs at baseline SSE2 width with a
 * serial pivot search. Here the pivot search, the scaling and the rank-1
 * update each work on whole registers of a column (4 doubles or 8 floats).
 *
 * The arithmetic is LAPACK ?getf2's: the pivot is the FIRST entry of largest
 * |x| (ties keep the upper row, as i?amax does), the column is scaled by the
 * reciprocal unless the pivot is below the safe minimum, and the update is
 * the rank-1 update (fused multiply-add, as OpenBLAS's ?ger on such CPUs).
 * So pivots equal LAPACK's and factors agree to rounding.
 *
 * Entry points (call only where lucy_lanes_usable() is true):
 *   lucy_columns_getf2_d / _s (m, n, a, lda, piv) -> LAPACK's info
 *   a: column-major m x n, leading dimension lda >= m; m must be a multiple
 *   of the register width (LUCY_COLUMNS_WIDTH_D = 4, _S = 8), so every
 *   register load stays inside a column; piv: min(m, n) 0-based row swaps.
 */
#ifndef LUCY_SIMD_COLUMNS_H
#define LUCY_SIMD_COLUMNS_H

#include "_small_lanes.h"

/* Largest m and n sent here: up to 64 x 64 the matrix stays in L1 (32 KiB
 * of doubles) and the unblocked update beats a LAPACK call; above it,
 * OpenBLAS's blocked getrf wins. Measured with bench/run.py. */
#define LUCY_COLUMNS_MAX_N 64
#define LUCY_COLUMNS_WIDTH_D 4
#define LUCY_COLUMNS_WIDTH_S 8

#if LUCY_LANES_AVAILABLE

/* The same registers as the lane kernels, as unaligned views of memory. */
typedef double lucy_vd_u __attribute__((vector_size(32), aligned(8)));
typedef float lucy_vs8 __attribute__((vector_size(32)));
typedef float lucy_vs8_u __attribute__((vector_size(32), aligned(4)));
typedef int32_t lucy_vs8_mask __attribute__((vector_size(32)));

#define LUCY_DEFINE_COLUMNS_GETF2(SUFFIX, T, VT, VTU, MT, W, SAFE_MIN)         \
LUCY_ALWAYS_INLINE VT lucy_columns_pick_##SUFFIX(MT take_a, VT a, VT b)        \
{                                                                              \
    return (VT)(((MT)a & take_a) | ((MT)b & ~take_a));                         \
}                                                                              \
                                                                               \
LUCY_LANES_TARGET static int32_t lucy_columns_getf2_##SUFFIX(                  \
    ptrdiff_t m, ptrdiff_t n, T *a, ptrdiff_t lda, int32_t *piv)               \
{                                                                              \
    const ptrdiff_t k = m < n ? m : n;                                         \
    const VT zero = {0};                                                       \
    const MT sign = (MT)(zero * -1);          /* bits of -0.0: the sign bit */ \
    const VT below_any = zero - 1;            /* smaller than every |x| */     \
    MT lane;                                                                   \
    int32_t info = 0;                                                          \
    for (int w = 0; w < W; w++)                                                \
        lane[w] = w;                                                           \
    for (ptrdiff_t j = 0; j < k; j++) {                                        \
        T *col = a + j * lda;                                                  \
        /* Largest |x| in rows j..m-1: registers from the one holding row j, \
           its rows above j masked out. */                                     \
        const ptrdiff_t cj = j & -(ptrdiff_t)W;                                \
        VT best_v = below_any;                                                 \
        MT row_v = (MT){0} + (__typeof__(lane[0]))j;                           \
        for (ptrdiff_t c = cj; c < m; c += W) {                                \
            VT v = (VT)((MT)(*(const VTU *)(col + c)) & ~sign);                \
            if (c == cj)                                                       \
                v = lucy_columns_pick_##SUFFIX((MT)(lane < (__typeof__(lane[0]))(j - c)), below_any, v); \
            /* strictly greater: each lane keeps its first maximum */         \
            const MT bigger = (MT)(v > best_v);                                \
            best_v = lucy_columns_pick_##SUFFIX(bigger, v, best_v);            \
            row_v = (bigger & (lane + (__typeof__(lane[0]))c)) | (~bigger & row_v); \
        }                                                                      \
        /* the first row among the lanes holding the maximum (row j when the  \
           column holds only NaN) */                                           \
        T best = best_v[0];                                                    \
        for (int w = 1; w < W; w++)                                            \
            best = best_v[w] > best ? best_v[w] : best;                        \
        ptrdiff_t p = m;                                                       \
        for (int w = 0; w < W; w++)                                            \
            if (best_v[w] == best && row_v[w] < p)                             \
                p = row_v[w];                                                  \
        if (p == m)                                                            \
            p = j;                                                             \
        piv[j] = (int32_t)p;                                                   \
        if (best == 0) {                                                       \
            /* An exactly zero column below the diagonal: U[j, j] == 0.       \
               LAPACK records the first such column and carries on. */        \
            if (info == 0)                                                     \
                info = (int32_t)(j + 1);                                       \
            continue;                                                          \
        }                                                                      \
        if (p != j)                                                            \
            for (ptrdiff_t c = 0; c < n; c++) {                                \
                T t = a[j + c * lda];                                          \
                a[j + c * lda] = a[p + c * lda];                               \
                a[p + c * lda] = t;                                            \
            }                                                                  \
        /* Rows j+1..m-1 from here on: registers from the one holding row     \
           j+1; in the first, rows up to j keep their values. */              \
        const ptrdiff_t c1 = (j + 1) & -(ptrdiff_t)W;                          \
        if (c1 >= m)                   /* j == m - 1, so p == j: done */       \
            continue;                                                          \
        const MT keep = (MT)(lane <= (__typeof__(lane[0]))(j - c1));                                  \
        const T pivot = col[j];                                                \
        if (best >= SAFE_MIN) {                                                \
            const T r = 1 / pivot;                                             \
            for (ptrdiff_t c = c1; c < m; c += W) {                            \
                VT x = *(VTU *)(col + c);                                      \
                VT y = x * r;                                                  \
                *(VTU *)(col + c) = c == c1 ? lucy_columns_pick_##SUFFIX(keep, x, y) : y; \
            }                                                                  \
        } else {                                                               \
            for (ptrdiff_t c = c1; c < m; c += W) {                            \
                VT x = *(VTU *)(col + c);                                      \
                VT y = x / pivot;                                              \
                *(VTU *)(col + c) = c == c1 ? lucy_columns_pick_##SUFFIX(keep, x, y) : y; \
            }                                                                  \
        }                                                                      \
        /* Rank-1 update of the columns right of j. */                        \
        const VT l1 = *(const VTU *)(col + c1);                                \
        for (ptrdiff_t cc = j + 1; cc < n; cc++) {                             \
            T *other = a + cc * lda;                                           \
            const T t = other[j];                                              \
            VT x = *(VTU *)(other + c1);                                       \
            *(VTU *)(other + c1) = lucy_columns_pick_##SUFFIX(keep, x, x - l1 * t); \
            for (ptrdiff_t c = c1 + W; c < m; c += W)                          \
                *(VTU *)(other + c) = *(VTU *)(other + c)                      \
                                      - *(const VTU *)(col + c) * t;          \
        }                                                                      \
    }                                                                          \
    return info;                                                               \
}

LUCY_DEFINE_COLUMNS_GETF2(d, double, lucy_vd, lucy_vd_u, lucy_vd_mask,
                          LUCY_COLUMNS_WIDTH_D, DBL_MIN)
LUCY_DEFINE_COLUMNS_GETF2(s, float, lucy_vs8, lucy_vs8_u, lucy_vs8_mask,
                          LUCY_COLUMNS_WIDTH_S, FLT_MIN)

#else  /* not x86-64 GCC/Clang: callers use the scalar kernel */
static int32_t lucy_columns_getf2_d(ptrdiff_t m, ptrdiff_t n, double *a,
                                    ptrdiff_t lda, int32_t *piv)
{ (void)m; (void)n; (void)a; (void)lda; (void)piv; return 0; }
static int32_t lucy_columns_getf2_s(ptrdiff_t m, ptrdiff_t n, float *a,
                                    ptrdiff_t lda, int32_t *piv)
{ (void)m; (void)n; (void)a; (void)lda; (void)piv; return 0; }
#endif

#endif  /* LUCY_SIMD_COLUMNS_H */
