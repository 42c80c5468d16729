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
 *   lucy_columns_getf2_d / _s (count, m, n, a[count], lda, piv[count],
 *                              info[count])
 *   factors count <= LUCY_COLUMNS_GROUP matrices side by side, each
 *   a[q]: column-major m x n, leading dimension lda >= m; m must be a
 *   multiple of the register width (LUCY_COLUMNS_WIDTH_D = 4, _S = 8), so
 *   every register load stays inside a column; piv[q]: min(m, n) 0-based row
 *   swaps; info[q]: LAPACK's info.
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
/* Most matrices factored side by side by one call (see lucy_columns_group). */
#define LUCY_COLUMNS_GROUP 4

/* How many m x n matrices to factor side by side. One matrix's steps are a
 * chain (search -> swap -> divide -> scale -> update -> next search) that
 * runs at its latency; several independent chains interleaved fill the
 * pipeline, as long as they fit in L1 together. Measured per matrix on AMD
 * EPYC (Zen 4), ns for 1 / 2 / 4 at a time: 16 x 16: 761 / 508 / 456;
 * 32 x 32: 2214 / 1973 / 1974; 48 x 48: 5467 / 5175 / 5687; 64 x 64: 11615 /
 * 12633 / 17217. */
static inline ptrdiff_t lucy_columns_group(ptrdiff_t m, ptrdiff_t n)
{
    return m * n <= 32 * 32 ? 4 : m * n <= 48 * 48 ? 2 : 1;
}

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
LUCY_LANES_TARGET static void lucy_columns_getf2_##SUFFIX(                     \
    ptrdiff_t count, ptrdiff_t m, ptrdiff_t n, T *const *aa, ptrdiff_t lda,    \
    int32_t *const *pivs, int32_t *infos)                                      \
{                                                                              \
    const ptrdiff_t k = m < n ? m : n;                                         \
    const VT zero = {0};                                                       \
    const MT sign = (MT)(zero * -1);          /* bits of -0.0: the sign bit */ \
    const VT below_any = zero - 1;            /* smaller than every |x| */     \
    typedef __typeof__(((MT){0})[0]) ET;                                       \
    MT lane;                                                                   \
    for (int w = 0; w < W; w++)                                                \
        lane[w] = w;                                                           \
    for (ptrdiff_t q = 0; q < count; q++)                                      \
        infos[q] = 0;                                                          \
    for (ptrdiff_t j = 0; j < k; j++) {                                        \
        const ptrdiff_t cj = j & -(ptrdiff_t)W;                                \
        const ptrdiff_t c1 = (j + 1) & -(ptrdiff_t)W;                          \
        const MT keep = (MT)(lane <= (ET)(j - c1));                            \
        const MT above = (MT)(lane < (ET)(j - cj));                            \
        T best[LUCY_COLUMNS_GROUP];                                            \
        ptrdiff_t ps[LUCY_COLUMNS_GROUP];                                      \
        /* Pivot: the largest |x| in rows j..m-1, from the register holding   \
           row j with its rows above j masked out; strictly greater, so each  \
           lane keeps its first maximum; then the maximum over the lanes and  \
           the lowest row among the lanes holding it (row j when the column   \
           holds only NaN), as shuffle trees: branching on which lane won     \
           mispredicts on random data. */                                     \
        for (ptrdiff_t q = 0; q < count; q++) {                                \
            const T *col = aa[q] + j * lda;                                    \
            VT best_v = below_any;                                             \
            MT row_v = (MT){0} + (ET)j;                                        \
            for (ptrdiff_t c = cj; c < m; c += W) {                            \
                VT v = (VT)((MT)(*(const VTU *)(col + c)) & ~sign);            \
                if (c == cj)                                                   \
                    v = lucy_columns_pick_##SUFFIX(above, below_any, v);       \
                const MT bigger = (MT)(v > best_v);                            \
                best_v = lucy_columns_pick_##SUFFIX(bigger, v, best_v);        \
                row_v = (bigger & (lane + (ET)c)) | (~bigger & row_v);         \
            }                                                                  \
            VT max_v = best_v;                                                 \
            for (int half = W / 2; half >= 1; half /= 2) {                     \
                const VT other = __builtin_shuffle(max_v, lane ^ half);        \
                max_v = lucy_columns_pick_##SUFFIX((MT)(other > max_v), other, max_v); \
            }                                                                  \
            MT first_v = (MT)(best_v == max_v);                                \
            first_v = (first_v & row_v) | (~first_v & ((MT){0} + (ET)m));      \
            for (int half = W / 2; half >= 1; half /= 2) {                     \
                const MT other = __builtin_shuffle(first_v, lane ^ half);      \
                const MT lower = (MT)(other < first_v);                        \
                first_v = (lower & other) | (~lower & first_v);                \
            }                                                                  \
            best[q] = max_v[0];                                                \
            ps[q] = first_v[0] < m ? first_v[0] : j;                           \
            pivs[q][j] = (int32_t)ps[q];                                       \
        }                                                                      \
        for (ptrdiff_t q = 0; q < count; q++) {                                \
            T *a = aa[q];                                                      \
            T *col = a + j * lda;                                              \
            const ptrdiff_t p = ps[q];                                         \
            if (best[q] == 0) {                                                \
                /* An exactly zero column below the diagonal: U[j, j] == 0.   \
                   LAPACK records the first such column and carries on. */    \
                if (infos[q] == 0)                                             \
                    infos[q] = (int32_t)(j + 1);                               \
                continue;                                                      \
            }                                                                  \
            /* (Folding the swap into the update loop, or doing it as         \
               register blends, measured slower.) */                          \
            if (p != j)                                                        \
                for (ptrdiff_t c = 0; c < n; c++) {                            \
                    T t = a[j + c * lda];                                      \
                    a[j + c * lda] = a[p + c * lda];                           \
                    a[p + c * lda] = t;                                        \
                }                                                              \
            /* Rows j+1..m-1 from here on: registers from the one holding     \
               row j+1; in the first, rows up to j keep their values. */      \
            if (c1 >= m)                  /* j == m - 1, so p == j: done */    \
                continue;                                                      \
            const T pivot = col[j];                                            \
            if (best[q] >= SAFE_MIN) {                                         \
                const T r = 1 / pivot;                                         \
                for (ptrdiff_t c = c1; c < m; c += W) {                        \
                    VT x = *(VTU *)(col + c);                                  \
                    VT y = x * r;                                              \
                    *(VTU *)(col + c) = c == c1 ? lucy_columns_pick_##SUFFIX(keep, x, y) : y; \
                }                                                              \
            } else {                                                           \
                for (ptrdiff_t c = c1; c < m; c += W) {                        \
                    VT x = *(VTU *)(col + c);                                  \
                    VT y = x / pivot;                                          \
                    *(VTU *)(col + c) = c == c1 ? lucy_columns_pick_##SUFFIX(keep, x, y) : y; \
                }                                                              \
            }                                                                  \
        }                                                                      \
        if (c1 >= m)                                                           \
            continue;                                                          \
        for (ptrdiff_t q = 0; q < count; q++) {   /* rank-1 update, right of j */ \
            if (best[q] == 0)                                                  \
                continue;                                                      \
            T *col = aa[q] + j * lda;                                          \
            const VT l1 = *(const VTU *)(col + c1);                            \
            for (ptrdiff_t cc = j + 1; cc < n; cc++) {                         \
                T *other = aa[q] + cc * lda;                                   \
                const T t = other[j];                                          \
                VT x = *(VTU *)(other + c1);                                   \
                *(VTU *)(other + c1) = lucy_columns_pick_##SUFFIX(keep, x, x - l1 * t); \
                for (ptrdiff_t c = c1 + W; c < m; c += W)                      \
                    *(VTU *)(other + c) = *(VTU *)(other + c)                  \
                                          - *(const VTU *)(col + c) * t;      \
            }                                                                  \
        }                                                                      \
    }                                                                          \
}

LUCY_DEFINE_COLUMNS_GETF2(d, double, lucy_vd, lucy_vd_u, lucy_vd_mask,
                          LUCY_COLUMNS_WIDTH_D, DBL_MIN)
LUCY_DEFINE_COLUMNS_GETF2(s, float, lucy_vs8, lucy_vs8_u, lucy_vs8_mask,
                          LUCY_COLUMNS_WIDTH_S, FLT_MIN)

#else  /* not x86-64 GCC/Clang: callers use the scalar kernel */
static void lucy_columns_getf2_d(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                 double *const *a, ptrdiff_t lda,
                                 int32_t *const *piv, int32_t *info)
{ (void)count; (void)m; (void)n; (void)a; (void)lda; (void)piv; (void)info; }
static void lucy_columns_getf2_s(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                 float *const *a, ptrdiff_t lda,
                                 int32_t *const *piv, int32_t *info)
{ (void)count; (void)m; (void)n; (void)a; (void)lda; (void)piv; (void)info; }
#endif

#endif  /* LUCY_SIMD_COLUMNS_H */
