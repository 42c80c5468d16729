/*
 * LU with partial pivoting of FOUR small square real matrices at once, one
 * matrix per SIMD lane (GCC/Clang vector extensions and a few AVX2
 * intrinsics; built for x86-64 by GCC >= 12 or Clang, see
 * LUCY_LANES_AVAILABLE).
 *
 * Why: a single n <= 8 LU is a chain of dependent steps (pivot search, row
 * swap, reciprocal, update) and runs at the latency of that chain, not at
 * the machine's throughput. Four independent matrices side by side fill the
 * pipeline. Pivoting stays per matrix: comparisons give lane masks, row
 * swaps become blends, so there is no data-dependent branch at all.
 *
 * The arithmetic is LAPACK ?getf2's (first maximum of |x| as pivot, scale by
 * the reciprocal unless the pivot is below the safe minimum, rank-1 update),
 * so pivots equal LAPACK's and factors agree to rounding.
 *
 * Call only where lucy_lanes_usable() is true.
 * Entry points (n = 2..LUCY_LANES_MAX_N; any element strides in bytes):
 *   lucy_lanes_getrf_d / _s (n, src[4], rs, cs, dst[4], piv[4], status[4],
 *                            check_finite)
 *   src[w] + i*rs + j*cs -> element (i, j) of matrix w; dst[w] column-major
 *   with leading dimension n; piv[w]: n 0-based pivots; status[w]: LAPACK
 *   info, or LUCY_LANES_NONFINITE when check_finite and the matrix holds
 *   inf/NaN.
 *   lucy_lanes_getrs_d / _s / _z (n, nrhs, lu[4], lda, piv[4], x[4], ldx)
 *   solves A X = B for four factored systems (see LUCY_DEFINE_LANES_GETRS)
 *   and returns a mask, bit w set where system w's factors or right-hand
 *   sides hold inf/NaN (checked on the registers it loads anyway).
 *   lucy_lanes_load_transposed_d / _s / _z (src, rs, m, n, dst, ldd): a
 *   row-major matrix into column-major (see LUCY_DEFINE_LOAD_TRANSPOSED);
 *   returns whether every element is finite (checked on its registers).
 */
#ifndef LUCY_SMALL_LANES_H
#define LUCY_SMALL_LANES_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

#define LUCY_LANES 4
#define LUCY_LANES_MAX_N 8
#define LUCY_LANES_NONFINITE INT32_MIN

/* GCC (12 and later) or Clang: both have vector extensions and
 * __builtin_shufflevector. x86-64 with 64-bit pointers (not x32), which
 * lucy_copy_bytes's `rep movsb` operands assume. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector) && defined(__x86_64__) && defined(__LP64__)
#define LUCY_LANES_COMPILER_OK 1
#endif
#endif
#if defined(LUCY_LANES_COMPILER_OK)
#define LUCY_LANES_AVAILABLE 1

/* The lane kernels are compiled for AVX2 + FMA (4 doubles per register) and
 * used only where the CPU has them: compiled for baseline x86-64 (SSE2),
 * the same code was slower than the one-matrix kernel. */
#define LUCY_LANES_TARGET __attribute__((target("avx2,fma")))

static inline int lucy_lanes_usable(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

typedef double lucy_vd __attribute__((vector_size(32)));
typedef int64_t lucy_vd_mask __attribute__((vector_size(32)));
typedef float lucy_vs __attribute__((vector_size(16)));
typedef int32_t lucy_vs_mask __attribute__((vector_size(16)));

/* Every helper has the kernels' target too: Clang does not let a function
 * pass AVX vectors unless it is compiled for AVX. */
#define LUCY_ALWAYS_INLINE LUCY_LANES_TARGET static inline __attribute__((always_inline))

#include <immintrin.h>

/* The first `count` (1 to 3) elements at p and zeros, without touching the
 * memory after them, where a batch's last matrix may end: rows (or columns)
 * whose length is not a multiple of 4 load as vectors too. Element by element
 * through the stack they were two thirds of the 3 x 3 lane LU. */
LUCY_LANES_TARGET LUCY_ALWAYS_INLINE lucy_vd lucy_lanes_load_part_d(const double *p, int count)
{
    const lucy_vd_mask lane = {0, 1, 2, 3};
    return (lucy_vd)_mm256_maskload_pd(p, (__m256i)(lane < count));
}

LUCY_LANES_TARGET LUCY_ALWAYS_INLINE lucy_vs lucy_lanes_load_part_s(const float *p, int count)
{
    const lucy_vs_mask lane = {0, 1, 2, 3};
    return (lucy_vs)_mm_maskload_ps(p, (__m128i)(lane < count));
}

/* Unaligned views of the same registers, for loads and stores straight
 * from the caller's arrays. */
typedef double lucy_vd_unaligned __attribute__((vector_size(32), aligned(8)));
typedef double lucy_v2d_unaligned __attribute__((vector_size(16), aligned(8)));
typedef float lucy_vs_unaligned __attribute__((vector_size(16), aligned(4)));

#define LUCY_DEFINE_LANES_GETRF(SUFFIX, T, VT, VTU, MT, SAFE_MIN)              \
LUCY_ALWAYS_INLINE VT lucy_lanes_blend_##SUFFIX(MT take_a, VT a, VT b)         \
{                                                                              \
    return (VT)(((MT)a & take_a) | ((MT)b & ~take_a));                         \
}                                                                              \
                                                                               \
/* out[k][w] = in[w][k]: a 4 x 4 transpose in registers. Moving a matrix     \
   into (or out of) the lanes element by element goes through the stack,    \
   and each register then waits for four narrow stores to be forwarded:      \
   that was most of the time at n = 4. */                                    \
LUCY_ALWAYS_INLINE void lucy_lanes_transpose_##SUFFIX(const VT in[4], VT out[4]) \
{                                                                              \
    const VT t0 = __builtin_shufflevector(in[0], in[1], 0, 4, 2, 6);           \
    const VT t1 = __builtin_shufflevector(in[0], in[1], 1, 5, 3, 7);           \
    const VT t2 = __builtin_shufflevector(in[2], in[3], 0, 4, 2, 6);           \
    const VT t3 = __builtin_shufflevector(in[2], in[3], 1, 5, 3, 7);           \
    out[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);                      \
    out[1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);                      \
    out[2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);                      \
    out[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);                      \
}                                                                              \
                                                                               \
LUCY_ALWAYS_INLINE VT lucy_lanes_abs_##SUFFIX(VT x)                            \
{                                                                              \
    const VT zero = {0};                                                       \
    const VT neg_zero = zero * -1;                                             \
    return (VT)((MT)x & ~(MT)neg_zero);                                        \
}                                                                              \
                                                                               \
/* Elimination step j of the lanes' n x n matrices in a (column j: pivot       \
   search, row swap, multipliers; then the trailing update). */                \
LUCY_ALWAYS_INLINE void lucy_lanes_step_##SUFFIX(                              \
    const int n, const int j, VT a[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N],        \
    int32_t *const piv[LUCY_LANES], MT *const info_io)                         \
{                                                                              \
    MT info = *info_io;                                                        \
    /* 1 / every candidate, selected with the pivot: the division then         \
       runs beside the search instead of after it (same value). */             \
    VT one = (VT){0} + 1;                                                      \
    VT best = lucy_lanes_abs_##SUFFIX(a[j][j]);                                \
    VT recip_p = one / a[j][j];                                                \
    MT p = (MT){0} + j;                                                        \
    for (int i = j + 1; i < n; i++) {                                          \
        VT v = lucy_lanes_abs_##SUFFIX(a[i][j]);                               \
        VT r = one / a[i][j];                                                  \
        MT bigger = (MT)(v > best);                                            \
        p = (bigger & i) | (~bigger & p);                                      \
        best = lucy_lanes_blend_##SUFFIX(bigger, v, best);                     \
        recip_p = lucy_lanes_blend_##SUFFIX(bigger, r, recip_p);               \
    }                                                                          \
    for (int w = 0; w < LUCY_LANES; w++)                                       \
        piv[w][j] = (int32_t)p[w];                                             \
    /* row j <-> row p, per lane */                                            \
    for (int r = j + 1; r < n; r++) {                                          \
        MT here = (MT)(p == r);                                                \
        for (int c = 0; c < n; c++) {                                          \
            VT row_j = a[j][c], row_r = a[r][c];                               \
            a[j][c] = lucy_lanes_blend_##SUFFIX(here, row_r, row_j);           \
            a[r][c] = lucy_lanes_blend_##SUFFIX(here, row_j, row_r);           \
        }                                                                      \
    }                                                                          \
    /* a zero column (best == 0): U[j, j] == 0, record the first one and       \
       leave the column as it is (multipliers stay 0), as LAPACK does */       \
    MT singular = (MT)(best == 0);                                             \
    info = lucy_lanes_blend_mask_##SUFFIX(                                     \
        (MT)(info == 0) & singular, (MT){0} + (j + 1), info);                  \
    VT pivot = a[j][j];                                                        \
    VT recip = lucy_lanes_blend_##SUFFIX(singular, (VT){0}, recip_p);          \
    MT tiny = (MT)(best < SAFE_MIN) & ~singular;                               \
    int any_tiny = 0;                                                          \
    for (int w = 0; w < LUCY_LANES; w++)                                       \
        any_tiny |= tiny[w] != 0;                                              \
    for (int i = j + 1; i < n; i++) {                                          \
        VT scaled = a[i][j] * recip;                                           \
        if (any_tiny) /* divide where 1/pivot would overflow */                \
            scaled = lucy_lanes_blend_##SUFFIX(tiny, a[i][j] / pivot,          \
                                              scaled);                         \
        a[i][j] = scaled;                                                      \
    }                                                                          \
    for (int i = j + 1; i < n; i++)                                            \
        for (int c = j + 1; c < n; c++)                                        \
            a[i][c] -= a[i][j] * a[j][c];                                      \
    *info_io = info;                                                           \
}                                                                              \
                                                                               \
LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_lanes_getrf_##SUFFIX##_n(       \
    const int n, const char *const src[LUCY_LANES], const ptrdiff_t rs,        \
    const ptrdiff_t cs, T *const dst[LUCY_LANES],                              \
    int32_t *const piv[LUCY_LANES], int32_t *const status[LUCY_LANES],         \
    const int check_finite)                                                    \
{                                                                              \
    VT a[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N];                                  \
    VT finite_probe = {0};                                                     \
    MT info = {0};                                                             \
    VT in[4], out[4];                                                          \
    if (cs == sizeof(T) || rs == sizeof(T)) {                                  \
        /* 4 x 4 blocks, read along the contiguous side and transposed (the    \
           last one of a row or column masked where n is not a multiple of 4) */ \
        const int by_rows = cs == sizeof(T);                                   \
        const ptrdiff_t along = by_rows ? rs : cs;                             \
        for (int u = 0; u < n; u++)              /* row, or column */          \
            for (int v = 0; v < n; v += 4) {     /* first of 4 across it */    \
                for (int w = 0; w < LUCY_LANES; w++) {                         \
                    const char *at = src[w] + u * along + v * sizeof(T);       \
                    in[w] = v + 4 <= n ? *(const VTU *)at                      \
                        : lucy_lanes_load_part_##SUFFIX((const T *)at, n - v); \
                }                                                              \
                lucy_lanes_transpose_##SUFFIX(in, out);                        \
                for (int q = 0; q < 4 && v + q < n; q++) {                     \
                    if (by_rows)                                               \
                        a[u][v + q] = out[q];                                  \
                    else                                                       \
                        a[v + q][u] = out[q];                                  \
                    finite_probe += out[q] * 0;                                \
                }                                                              \
            }                                                                  \
    } else {                                                                   \
        for (int i = 0; i < n; i++)                                            \
            for (int j = 0; j < n; j++) {                                      \
                for (int w = 0; w < LUCY_LANES; w++)                           \
                    a[i][j][w] = *(const T *)(src[w] + i * rs + j * cs);       \
                /* x * 0 is 0 for finite x, NaN for inf and NaN */             \
                finite_probe += a[i][j] * 0;                                   \
            }                                                                  \
    }                                                                          \
    /* Unrolled over the columns from n = 3 on, so that the matrices stay      \
       in registers instead of the stack (lu_factor of 100000 4 x 4,           \
       float64, one thread: 1.95 -> 1.57 ms); at n = 2 the unrolled loop       \
       was 11% slower. */                                                      \
    if (n <= 2) {                                                              \
        for (int j = 0; j < n; j++)                                            \
            lucy_lanes_step_##SUFFIX(n, j, a, piv, &info);                     \
    } else {                                                                   \
        _Pragma("GCC unroll 8")                                                \
        for (int j = 0; j < n; j++)                                            \
            lucy_lanes_step_##SUFFIX(n, j, a, piv, &info);                     \
    }                                                                          \
    MT nonfinite = (MT)(finite_probe != 0);                                    \
    if (n % 4 == 0) {                                                          \
        /* column j, rows i..i+3 of every matrix: one transpose, 4 stores */   \
        for (int j = 0; j < n; j++)                                            \
            for (int i = 0; i < n; i += 4) {                                   \
                for (int q = 0; q < 4; q++)                                    \
                    in[q] = a[i + q][j];                                       \
                lucy_lanes_transpose_##SUFFIX(in, out);                        \
                for (int w = 0; w < LUCY_LANES; w++)                           \
                    *(VTU *)(dst[w] + i + j * n) = out[w];                     \
            }                                                                  \
    } else {                                                                   \
        /* (masked stores, vmaskmovpd, or stores of the transposed registers'  \
           elements were 10-35% slower at n = 3 on Zen 4) */                   \
        for (int w = 0; w < LUCY_LANES; w++)                                   \
            for (int j = 0; j < n; j++)                                        \
                for (int i = 0; i < n; i++)                                    \
                    dst[w][i + j * n] = a[i][j][w];                            \
    }                                                                          \
    for (int w = 0; w < LUCY_LANES; w++)                                       \
        *status[w] = (check_finite && nonfinite[w]) ? LUCY_LANES_NONFINITE     \
                                                   : (int32_t)info[w];         \
}                                                                              \
                                                                               \
LUCY_LANES_TARGET static void lucy_lanes_getrf_##SUFFIX(                       \
    int n, const char *const src[LUCY_LANES], ptrdiff_t rs, ptrdiff_t cs,      \
    T *const dst[LUCY_LANES], int32_t *const piv[LUCY_LANES],                  \
    int32_t *const status[LUCY_LANES], int check_finite)                       \
{                                                                              \
    /* one fully unrolled copy per size */                                     \
    switch (n) {                                                               \
    case 2: lucy_lanes_getrf_##SUFFIX##_n(2, src, rs, cs, dst, piv, status, check_finite); break; \
    case 3: lucy_lanes_getrf_##SUFFIX##_n(3, src, rs, cs, dst, piv, status, check_finite); break; \
    case 4: lucy_lanes_getrf_##SUFFIX##_n(4, src, rs, cs, dst, piv, status, check_finite); break; \
    case 5: lucy_lanes_getrf_##SUFFIX##_n(5, src, rs, cs, dst, piv, status, check_finite); break; \
    case 6: lucy_lanes_getrf_##SUFFIX##_n(6, src, rs, cs, dst, piv, status, check_finite); break; \
    case 7: lucy_lanes_getrf_##SUFFIX##_n(7, src, rs, cs, dst, piv, status, check_finite); break; \
    default: lucy_lanes_getrf_##SUFFIX##_n(8, src, rs, cs, dst, piv, status, check_finite); break; \
    }                                                                          \
}

/* Solve A X = B for FOUR factored n x n systems at once, one per lane:
 * the substitutions are chains of dependent divisions and multiply-adds,
 * and four independent chains side by side fill the pipeline.
 * lu[w]: column-major factors (ld lda); piv[w]: n 0-based row swaps, already
 * checked to lie in [0, n); x[w]: the right-hand sides, column-major (ld
 * ldx), overwritten by the solution. Returns the lanes whose factors or
 * right-hand sides held inf/NaN (bit w for system w), from the registers it
 * loads anyway. */
#define LUCY_DEFINE_LANES_GETRS(SUFFIX, T, VT, VTU, MT)                        \
LUCY_ALWAYS_INLINE int lucy_lanes_getrs_##SUFFIX##_n(                          \
    const int n, const ptrdiff_t nrhs, const T *const lu[LUCY_LANES],          \
    const ptrdiff_t lda, const int32_t *const piv[LUCY_LANES],                 \
    T *const x[LUCY_LANES], const ptrdiff_t ldx)                               \
{                                                                              \
    VT a[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N];                                  \
    VT in[4], out[4];                                                          \
    VT probe = {0};              /* x * 0: 0 if finite, NaN for inf/NaN */    \
    /* The loops over columns unrolled (GCC kept them as loops, the factors    \
       on the stack): 100000 systems, one thread, float64 n = 2 2.06 ->        \
       1.20 ms, n = 4 3.07 -> 2.21, n = 8 13.3 -> 8.5; float32 n = 8 6.4 ->    \
       5.1, n = 4 2.07 -> 2.16. complex128 gained nothing from it. */          \
    _Pragma("GCC unroll 8")                                                    \
    for (int j = 0; j < n; j++)                                                \
        for (int i = 0; i < n; i += 4)                                         \
            if (n % 4 == 0) {   /* column j, rows i..i+3: one transpose */     \
                for (int w = 0; w < LUCY_LANES; w++)                           \
                    in[w] = *(const VTU *)(lu[w] + i + j * lda);               \
                lucy_lanes_transpose_##SUFFIX(in, out);                        \
                for (int q = 0; q < 4; q++) {                                  \
                    a[i + q][j] = out[q];                                      \
                    probe += out[q] * 0;                                       \
                }                                                              \
            } else {                                                           \
                for (int q = i; q < n && q < i + 4; q++) {                     \
                    a[q][j] = (VT){lu[0][q + j * lda], lu[1][q + j * lda],     \
                                   lu[2][q + j * lda], lu[3][q + j * lda]};    \
                    probe += a[q][j] * 0;                                      \
                }                                                              \
            }                                                                  \
    for (ptrdiff_t c = 0; c < nrhs; c++) {                                     \
        VT b[LUCY_LANES_MAX_N];                                                \
        for (int w = 0; w < LUCY_LANES; w++) {    /* b = P^T b, per system */  \
            T *col = x[w] + c * ldx;                                           \
            for (int i = 0; i < n; i++) {                                      \
                const T t = col[i];                                            \
                col[i] = col[piv[w][i]];                                       \
                col[piv[w][i]] = t;                                            \
            }                                                                  \
        }                                                                      \
        for (int i = 0; i < n; i++) {                                          \
            b[i] = (VT){x[0][i + c * ldx], x[1][i + c * ldx],                  \
                        x[2][i + c * ldx], x[3][i + c * ldx]};                 \
            probe += b[i] * 0;                                                 \
        }                                                                      \
        _Pragma("GCC unroll 8")                                                \
        for (int j = 0; j < n; j++)               /* L y = b, unit diagonal */ \
            for (int i = j + 1; i < n; i++)                                    \
                b[i] -= a[i][j] * b[j];                                        \
        _Pragma("GCC unroll 8")                                                \
        for (int j = n - 1; j >= 0; j--) {        /* U x = y */                \
            b[j] /= a[j][j];                                                   \
            for (int i = 0; i < j; i++)                                        \
                b[i] -= a[i][j] * b[j];                                        \
        }                                                                      \
        for (int i = 0; i < n; i++)                                            \
            for (int w = 0; w < LUCY_LANES; w++)                               \
                x[w][i + c * ldx] = b[i][w];                                   \
    }                                                                          \
    const MT nonfinite = (MT)(probe != 0);                                     \
    int mask = 0;                                                              \
    for (int w = 0; w < LUCY_LANES; w++)                                       \
        mask |= (nonfinite[w] != 0) << w;                                      \
    return mask;                                                               \
}                                                                              \
                                                                               \
LUCY_LANES_TARGET static int lucy_lanes_getrs_##SUFFIX(                        \
    int n, ptrdiff_t nrhs, const T *const lu[LUCY_LANES], ptrdiff_t lda,       \
    const int32_t *const piv[LUCY_LANES], T *const x[LUCY_LANES],              \
    ptrdiff_t ldx)                                                             \
{                                                                              \
    switch (n) {                                                               \
    case 2: return lucy_lanes_getrs_##SUFFIX##_n(2, nrhs, lu, lda, piv, x, ldx); \
    case 3: return lucy_lanes_getrs_##SUFFIX##_n(3, nrhs, lu, lda, piv, x, ldx); \
    case 4: return lucy_lanes_getrs_##SUFFIX##_n(4, nrhs, lu, lda, piv, x, ldx); \
    case 5: return lucy_lanes_getrs_##SUFFIX##_n(5, nrhs, lu, lda, piv, x, ldx); \
    case 6: return lucy_lanes_getrs_##SUFFIX##_n(6, nrhs, lu, lda, piv, x, ldx); \
    case 7: return lucy_lanes_getrs_##SUFFIX##_n(7, nrhs, lu, lda, piv, x, ldx); \
    default: return lucy_lanes_getrs_##SUFFIX##_n(8, nrhs, lu, lda, piv, x, ldx); \
    }                                                                          \
}

/* A square C-order matrix of 4 to 64 kB into a column-major one: copied
 * as it is, then transposed in place (lucy_lanes_transpose_square_*).
 * Why: the transposing copy fills each destination line piecemeal, 32 bytes
 * at a time across many lines that are not in cache yet, and stalls on
 * them; a plain copy fills line after line (in a harness an element-wise
 * copy did as well as memcpy), and the transpose then runs in L1.
 * lu_factor, one thread, ms, transposing copy -> copy then transpose:
 * complex128 20000 x 16 x 16 32.3 -> 29.6, 1000 x 48 x 48 21.2 -> 18.3;
 * float64 5000 x 32 x 32 17.4 -> 15.2, 2000 x 64 x 64 36.0 -> 30.9; float32
 * 2000 x 64 x 64 22.0 -> 19.2. Below 4 kB it was slower (float64 16 x 16
 * 11.9 -> 12.7 ms); at 96 x 96 float64 (72 kB) equal. The copy is a string
 * copy (`rep movsb`), not memcpy: glibc's memcpy copies with vector moves
 * below 4 kB, which made float64 16 x 16 17.8 ms; other C libraries differ. */
#define LUCY_COPY_THEN_TRANSPOSE(m, n, rs, ldd, size)                          \
    ((m) == (n) && (ldd) == (m) && (rs) == (n) * (ptrdiff_t)(size)             \
     && (m) * (n) * (ptrdiff_t)(size) >= 4096                                  \
     && (m) * (n) * (ptrdiff_t)(size) <= 65536)

static inline void lucy_copy_bytes(void *dst, const void *src, size_t bytes)
{
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(bytes) : : "memory");
}

/* Copy a row-major m x n matrix (rows src + i*rs, contiguous) into
 * column-major dst (ld ldd), m and n multiples of 4, in 4 x 4 register
 * transposes, 8 x 8 tiles at a time (32 x 32 tiles thrashed L1's sets at
 * n = 256: 40% slower). The element-by-element transposing copy was 15% of
 * lu_factor's time at 200 x 256 x 256. */
#define LUCY_DEFINE_LOAD_TRANSPOSED(SUFFIX, T, VT, VTU, BT)                    \
/* A square n x n matrix, row-major at a, becomes column-major in place: the  \
   4 x 4 blocks (i, j) and (j, i) trade places, each transposed. Every        \
   element passes through a register: returns whether all are finite. */      \
LUCY_LANES_TARGET static int lucy_lanes_transpose_square_##SUFFIX(T *a, ptrdiff_t n) \
{                                                                              \
    VT in[4], out[4], in2[4], out2[4];                                         \
    BT seen = {0};                                                             \
    for (ptrdiff_t i = 0; i < n; i += 4)                                       \
        for (ptrdiff_t j = i; j < n; j += 4) {                                 \
            for (int r = 0; r < 4; r++) {                                      \
                in[r] = *(const VTU *)(a + (i + r) * n + j);                   \
                in2[r] = *(const VTU *)(a + (j + r) * n + i);                  \
                seen = lucy_lanes_nonfinite_##SUFFIX(seen, in[r]);             \
                seen = lucy_lanes_nonfinite_##SUFFIX(seen, in2[r]);            \
            }                                                                  \
            lucy_lanes_transpose_##SUFFIX(in, out);                            \
            lucy_lanes_transpose_##SUFFIX(in2, out2);                          \
            for (int r = 0; r < 4; r++) {                                      \
                *(VTU *)(a + (j + r) * n + i) = out[r];                        \
                if (j != i)                                                    \
                    *(VTU *)(a + (i + r) * n + j) = out2[r];                   \
            }                                                                  \
        }                                                                      \
    return lucy_lanes_all_finite_##SUFFIX(seen);                               \
}                                                                              \
                                                                               \
LUCY_LANES_TARGET static int lucy_lanes_load_transposed_##SUFFIX(              \
    const char *src, ptrdiff_t rs, ptrdiff_t m, ptrdiff_t n, T *dst,           \
    ptrdiff_t ldd)                                                             \
{                                                                              \
    VT in[4], out[4];                                                          \
    BT seen = {0};                                                             \
    if (LUCY_COPY_THEN_TRANSPOSE(m, n, rs, ldd, sizeof(T))) {                  \
        lucy_copy_bytes(dst, src, (size_t)(m * n) * sizeof(T));                \
        return lucy_lanes_transpose_square_##SUFFIX(dst, n);                   \
    }                                                                          \
    for (ptrdiff_t i0 = 0; i0 < m; i0 += 8)                                   \
        for (ptrdiff_t j0 = 0; j0 < n; j0 += 8)                               \
            for (ptrdiff_t i = i0; i < m && i < i0 + 8; i += 4)               \
                for (ptrdiff_t j = j0; j < n && j < j0 + 8; j += 4) {         \
                    for (int r = 0; r < 4; r++) {                              \
                        in[r] = *(const VTU *)(src + (i + r) * rs + j * sizeof(T)); \
                        seen = lucy_lanes_nonfinite_##SUFFIX(seen, in[r]);     \
                    }                                                          \
                    lucy_lanes_transpose_##SUFFIX(in, out);                    \
                    for (int q = 0; q < 4; q++)                                \
                        *(VTU *)(dst + i + (j + q) * ldd) = out[q];            \
                }                                                              \
    return lucy_lanes_all_finite_##SUFFIX(seen);                               \
}

#define LUCY_DEFINE_MASK_BLEND(SUFFIX, MT)                                     \
LUCY_ALWAYS_INLINE MT lucy_lanes_blend_mask_##SUFFIX(MT take_a, MT a, MT b)    \
{                                                                              \
    return (a & take_a) | (b & ~take_a);                                       \
}

LUCY_DEFINE_MASK_BLEND(d, lucy_vd_mask)
LUCY_DEFINE_MASK_BLEND(s, lucy_vs_mask)
LUCY_DEFINE_LANES_GETRF(d, double, lucy_vd, lucy_vd_unaligned, lucy_vd_mask, DBL_MIN)
LUCY_DEFINE_LANES_GETRF(s, float, lucy_vs, lucy_vs_unaligned, lucy_vs_mask, FLT_MIN)
LUCY_DEFINE_LANES_GETRS(d, double, lucy_vd, lucy_vd_unaligned, lucy_vd_mask)
LUCY_DEFINE_LANES_GETRS(s, float, lucy_vs, lucy_vs_unaligned, lucy_vs_mask)
/* The finite check of the copies, on their registers: an element is inf or
 * NaN when its exponent bits are all ones, and adding one unit of the
 * exponent then carries into the sign bit (all_finite of _matrix.pxd makes
 * the same test). Checked on the way, the separate pass over each
 * complex128 16 x 16 matrix cost 7% of lu_factor (27.4 against 25.3 ms). */
/* (Unsigned, so that the carry into the top bit is defined arithmetic.) */
typedef uint64_t lucy_vd_bits __attribute__((vector_size(32)));
typedef uint32_t lucy_vs_bits __attribute__((vector_size(16)));

#define LUCY_DEFINE_FINITE_CHECK(SUFFIX, VT, BT, EXPONENT, UNIT, TOP)          \
LUCY_ALWAYS_INLINE BT lucy_lanes_nonfinite_##SUFFIX(BT seen, VT v)             \
{                                                                              \
    return seen | (((BT)v & (EXPONENT)) + (UNIT));                             \
}                                                                              \
                                                                               \
LUCY_ALWAYS_INLINE int lucy_lanes_all_finite_##SUFFIX(BT seen)                 \
{                                                                              \
    for (int w = 1; w < (int)(sizeof(BT) / sizeof(seen[0])); w++)             \
        seen[0] |= seen[w];                                                    \
    return (seen[0] & (TOP)) == 0;                                             \
}

LUCY_DEFINE_FINITE_CHECK(d, lucy_vd, lucy_vd_bits, 0x7FF0000000000000ULL,
                         0x0010000000000000ULL, 0x8000000000000000ULL)
LUCY_DEFINE_FINITE_CHECK(s, lucy_vs, lucy_vs_bits, 0x7F800000U, 0x00800000U, 0x80000000U)
LUCY_DEFINE_LOAD_TRANSPOSED(d, double, lucy_vd, lucy_vd_unaligned, lucy_vd_bits)
LUCY_DEFINE_LOAD_TRANSPOSED(s, float, lucy_vs, lucy_vs_unaligned, lucy_vs_bits)

/* A 2 x 2 block of complex128 elements transposed in registers: rows r0, r1
 * (two elements each) in, columns out (*c0 the first, *c1 the second). */
LUCY_ALWAYS_INLINE void lucy_lanes_transpose2_z(lucy_vd r0, lucy_vd r1,
                                                lucy_vd *c0, lucy_vd *c1)
{
    *c0 = __builtin_shufflevector(r0, r1, 0, 1, 4, 5);
    *c1 = __builtin_shufflevector(r0, r1, 2, 3, 6, 7);
}

/* lucy_lanes_transpose_square_d for complex128 (n even): 2 x 2 blocks, a
 * register holding two complex elements. */
LUCY_LANES_TARGET static int lucy_lanes_transpose_square_z(double *a, ptrdiff_t n)
{
    lucy_vd_bits seen = {0};
    for (ptrdiff_t i = 0; i < n; i += 2)
        for (ptrdiff_t j = i; j < n; j += 2) {
            lucy_vd_unaligned *p0 = (lucy_vd_unaligned *)(a + 2 * (i * n + j));
            lucy_vd_unaligned *p1 = (lucy_vd_unaligned *)(a + 2 * ((i + 1) * n + j));
            lucy_vd_unaligned *q0 = (lucy_vd_unaligned *)(a + 2 * (j * n + i));
            lucy_vd_unaligned *q1 = (lucy_vd_unaligned *)(a + 2 * ((j + 1) * n + i));
            const lucy_vd r0 = *p0, r1 = *p1, s0 = *q0, s1 = *q1;
            seen = lucy_lanes_nonfinite_d(lucy_lanes_nonfinite_d(seen, r0), r1);
            seen = lucy_lanes_nonfinite_d(lucy_lanes_nonfinite_d(seen, s0), s1);
            lucy_vd c0, c1;
            lucy_lanes_transpose2_z(r0, r1, &c0, &c1);
            *q0 = c0;
            *q1 = c1;
            if (j != i) {
                lucy_lanes_transpose2_z(s0, s1, &c0, &c1);
                *p0 = c0;
                *p1 = c1;
            }
        }
    return lucy_lanes_all_finite_d(seen);
}

/* The same for complex128 (dst and ldd in interleaved doubles and complex
 * elements), m and n even: a register holds two complex elements, so 2 x 2
 * transposes, 8 x 8 tiles. Element by element it was as slow as the LU at
 * 20000 x 16 x 16. */
LUCY_LANES_TARGET static int lucy_lanes_load_transposed_z(
    const char *src, ptrdiff_t rs, ptrdiff_t m, ptrdiff_t n, double *dst,
    ptrdiff_t ldd)
{
    lucy_vd_bits seen = {0};
    if (LUCY_COPY_THEN_TRANSPOSE(m, n, rs, ldd, 16)) {
        lucy_copy_bytes(dst, src, (size_t)(m * n) * 16);
        return lucy_lanes_transpose_square_z(dst, n);
    }
    for (ptrdiff_t i0 = 0; i0 < m; i0 += 8)
        for (ptrdiff_t j0 = 0; j0 < n; j0 += 8)
            for (ptrdiff_t i = i0; i < m && i < i0 + 8; i += 2)
                for (ptrdiff_t j = j0; j < n && j < j0 + 8; j += 2) {
                    const lucy_vd r0 = *(const lucy_vd_unaligned *)(src + i * rs + j * 16);
                    const lucy_vd r1 = *(const lucy_vd_unaligned *)(src + (i + 1) * rs + j * 16);
                    seen = lucy_lanes_nonfinite_d(lucy_lanes_nonfinite_d(seen, r0), r1);
                    lucy_vd c0, c1;
                    lucy_lanes_transpose2_z(r0, r1, &c0, &c1);
                    *(lucy_vd_unaligned *)(dst + 2 * (i + j * ldd)) = c0;
                    *(lucy_vd_unaligned *)(dst + 2 * (i + (j + 1) * ldd)) = c1;
                }
    return lucy_lanes_all_finite_d(seen);
}

/* The same for complex128: four matrices, real and imaginary parts in two
 * registers per element. Pivot size |re| + |im| (LAPACK's izamax); the
 * reciprocal of the pivot by Smith's division (Fortran's, no overflow for
 * any finite pivot); dst[w] holds n*n interleaved (re, im) pairs. */

/* One complex128 element of each of four matrices, (re, im) in memory, into
 * a register of real parts and one of imaginary parts (and back): two
 * registers of two elements, unpacked. Element by element through the
 * stack, the complex lane kernels spent more time moving data than in the
 * LU: 4 x 4 LU, 80 -> 37 ns per matrix. Each register is a 16-byte load and
 * a vinsertf128 from memory: built from 8-byte halves (what GCC made of a
 * vector initialiser) lu_solve 100000 x 4 x 4 took 4.89 ms against 4.37,
 * 20000 x 8 x 8 4.52 against 3.89, lu_factor 20000 x 8 x 8 8.39 against 7.50
 * (one thread). */
typedef struct { lucy_vd re, im; } lucy_lanes_z;

LUCY_LANES_TARGET LUCY_ALWAYS_INLINE lucy_lanes_z lucy_lanes_gather_z(
    const double *e0, const double *e1, const double *e2, const double *e3)
{
    const lucy_vd x = (lucy_vd)_mm256_insertf128_pd(
        _mm256_castpd128_pd256(_mm_loadu_pd(e0)), _mm_loadu_pd(e2), 1);
    const lucy_vd y = (lucy_vd)_mm256_insertf128_pd(
        _mm256_castpd128_pd256(_mm_loadu_pd(e1)), _mm_loadu_pd(e3), 1);
    return (lucy_lanes_z){__builtin_shufflevector(x, y, 0, 4, 2, 6),
                          __builtin_shufflevector(x, y, 1, 5, 3, 7)};
}

LUCY_ALWAYS_INLINE void lucy_lanes_scatter_z(double *e0, double *e1, double *e2,
                                             double *e3, lucy_vd re, lucy_vd im)
{
    const lucy_vd x = __builtin_shufflevector(re, im, 0, 4, 2, 6);
    const lucy_vd y = __builtin_shufflevector(re, im, 1, 5, 3, 7);
    *(lucy_v2d_unaligned *)e0 = (lucy_v2d_unaligned){x[0], x[1]};
    *(lucy_v2d_unaligned *)e1 = (lucy_v2d_unaligned){y[0], y[1]};
    *(lucy_v2d_unaligned *)e2 = (lucy_v2d_unaligned){x[2], x[3]};
    *(lucy_v2d_unaligned *)e3 = (lucy_v2d_unaligned){y[2], y[3]};
}

/* (xr + i xi) / (yr + i yi) by Smith's method, per lane. */
LUCY_ALWAYS_INLINE void lucy_lanes_div_z(lucy_vd xr, lucy_vd xi, lucy_vd yr,
                                         lucy_vd yi, lucy_vd *qr, lucy_vd *qi)
{
    const lucy_vd_mask real_big = (lucy_vd_mask)(lucy_lanes_abs_d(yr) >= lucy_lanes_abs_d(yi));
    const lucy_vd big = lucy_lanes_blend_d(real_big, yr, yi);
    const lucy_vd small = lucy_lanes_blend_d(real_big, yi, yr);
    const lucy_vd r = small / big, d = big + small * r;
    /* real_big: ((xr + xi r) + i (xi - xr r)) / d; else ((xr r + xi) + i (xi r - xr)) / d */
    *qr = lucy_lanes_blend_d(real_big, xr + xi * r, xr * r + xi) / d;
    *qi = lucy_lanes_blend_d(real_big, xi - xr * r, xi * r - xr) / d;
}

LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_lanes_getrf_z_n(
    const int n, const char *const src[LUCY_LANES], const ptrdiff_t rs,
    const ptrdiff_t cs, double *const dst[LUCY_LANES],
    int32_t *const piv[LUCY_LANES], int32_t *const status[LUCY_LANES],
    const int check_finite)
{
    typedef lucy_vd VT;
    typedef lucy_vd_mask MT;
    VT ar[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N], ai[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N];
    VT finite_probe = {0};
    MT info = {0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const ptrdiff_t at = i * rs + j * cs;
            const lucy_lanes_z e = lucy_lanes_gather_z(
                (const double *)(src[0] + at), (const double *)(src[1] + at),
                (const double *)(src[2] + at), (const double *)(src[3] + at));
            ar[i][j] = e.re;
            ai[i][j] = e.im;
            finite_probe += ar[i][j] * 0 + ai[i][j] * 0;
        }
    _Pragma("GCC unroll 8")
    for (int j = 0; j < n; j++) {
        /* Up to n = 4, 1 / every candidate, selected with the pivot: the long
           complex division runs beside the search instead of after it (the
           same value). Beyond, the extra divisions cost more than it saves. */
        const int speculate = n <= 4;
        const VT one = (VT){0} + 1, zero = {0};
        VT best = lucy_lanes_abs_d(ar[j][j]) + lucy_lanes_abs_d(ai[j][j]);
        VT rr = zero, ri = zero;
        if (speculate)
            lucy_lanes_div_z(one, zero, ar[j][j], ai[j][j], &rr, &ri);
        MT p = (MT){0} + j;
        for (int i = j + 1; i < n; i++) {
            const VT v = lucy_lanes_abs_d(ar[i][j]) + lucy_lanes_abs_d(ai[i][j]);
            const MT bigger = (MT)(v > best);
            p = (bigger & i) | (~bigger & p);
            best = lucy_lanes_blend_d(bigger, v, best);
            if (speculate) {
                VT cr, ci;
                lucy_lanes_div_z(one, zero, ar[i][j], ai[i][j], &cr, &ci);
                rr = lucy_lanes_blend_d(bigger, cr, rr);
                ri = lucy_lanes_blend_d(bigger, ci, ri);
            }
        }
        for (int w = 0; w < LUCY_LANES; w++)
            piv[w][j] = (int32_t)p[w];
        for (int r = j + 1; r < n; r++) {
            const MT here = (MT)(p == r);
            for (int c = 0; c < n; c++) {
                const VT jr = ar[j][c], ji = ai[j][c], rr = ar[r][c], ri = ai[r][c];
                ar[j][c] = lucy_lanes_blend_d(here, rr, jr);
                ai[j][c] = lucy_lanes_blend_d(here, ri, ji);
                ar[r][c] = lucy_lanes_blend_d(here, jr, rr);
                ai[r][c] = lucy_lanes_blend_d(here, ji, ri);
            }
        }
        const MT singular = (MT)(best == 0);
        info = lucy_lanes_blend_mask_d((MT)(info == 0) & singular, (MT){0} + (j + 1), info);
        const VT pr = ar[j][j], pi = ai[j][j];
        if (!speculate)                  /* 1 / pivot (1 where singular) */
            lucy_lanes_div_z(one, zero, lucy_lanes_blend_d(singular, one, pr),
                             lucy_lanes_blend_d(singular, zero, pi), &rr, &ri);
        rr = lucy_lanes_blend_d(singular, zero, rr);     /* 0 where singular */
        ri = lucy_lanes_blend_d(singular, zero, ri);
        const MT tiny = (MT)(best < DBL_MIN) & ~singular;
        int any_tiny = 0;
        for (int w = 0; w < LUCY_LANES; w++)
            any_tiny |= tiny[w] != 0;
        for (int i = j + 1; i < n; i++) {
            const VT xr = ar[i][j], xi = ai[i][j];
            VT lr = xr * rr - xi * ri, li = xr * ri + xi * rr;
            if (any_tiny) {   /* divide where 1/pivot would overflow */
                VT qr, qi;
                lucy_lanes_div_z(xr, xi, lucy_lanes_blend_d(tiny, pr, one),
                                 lucy_lanes_blend_d(tiny, pi, zero), &qr, &qi);
                lr = lucy_lanes_blend_d(tiny, qr, lr);
                li = lucy_lanes_blend_d(tiny, qi, li);
            }
            ar[i][j] = lr;
            ai[i][j] = li;
        }
        for (int i = j + 1; i < n; i++)
            for (int c = j + 1; c < n; c++) {
                const VT lr = ar[i][j], li = ai[i][j], ur = ar[j][c], ui = ai[j][c];
                ar[i][c] -= lr * ur - li * ui;
                ai[i][c] -= lr * ui + li * ur;
            }
    }
    const MT nonfinite = (MT)(finite_probe != 0);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            const ptrdiff_t at = 2 * (i + j * n);
            lucy_lanes_scatter_z(dst[0] + at, dst[1] + at, dst[2] + at, dst[3] + at,
                                 ar[i][j], ai[i][j]);
        }
    for (int w = 0; w < LUCY_LANES; w++)
        *status[w] = (check_finite && nonfinite[w]) ? LUCY_LANES_NONFINITE
                                                   : (int32_t)info[w];
}

LUCY_LANES_TARGET static void lucy_lanes_getrf_z(
    int n, const char *const src[LUCY_LANES], ptrdiff_t rs, ptrdiff_t cs,
    double *const dst[LUCY_LANES], int32_t *const piv[LUCY_LANES],
    int32_t *const status[LUCY_LANES], int check_finite)
{
    switch (n) {
    case 2: lucy_lanes_getrf_z_n(2, src, rs, cs, dst, piv, status, check_finite); break;
    case 3: lucy_lanes_getrf_z_n(3, src, rs, cs, dst, piv, status, check_finite); break;
    case 4: lucy_lanes_getrf_z_n(4, src, rs, cs, dst, piv, status, check_finite); break;
    default: lucy_lanes_getrf_z_n(n, src, rs, cs, dst, piv, status, check_finite); break;
    }
}

/* A X = B for four factored complex128 systems (see LUCY_DEFINE_LANES_GETRS;
 * lu[w] and x[w] as interleaved doubles, lda and ldx in complex elements);
 * x / u by Smith's division. */
LUCY_LANES_TARGET LUCY_ALWAYS_INLINE int lucy_lanes_getrs_z_n(
    const int n, const ptrdiff_t nrhs, const double *const lu[LUCY_LANES],
    const ptrdiff_t lda, const int32_t *const piv[LUCY_LANES],
    double *const x[LUCY_LANES], const ptrdiff_t ldx)
{
    typedef lucy_vd VT;
    VT ar[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N], ai[LUCY_LANES_MAX_N][LUCY_LANES_MAX_N];
    VT probe = {0};
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            const ptrdiff_t e = 2 * (i + j * lda);
            const lucy_lanes_z v = lucy_lanes_gather_z(lu[0] + e, lu[1] + e, lu[2] + e, lu[3] + e);
            ar[i][j] = v.re;
            ai[i][j] = v.im;
            probe += v.re * 0 + v.im * 0;
        }
    for (ptrdiff_t c = 0; c < nrhs; c++) {
        VT br[LUCY_LANES_MAX_N], bi[LUCY_LANES_MAX_N];
        for (int w = 0; w < LUCY_LANES; w++) {    /* b = P^T b, per system */
            double *col = x[w] + 2 * c * ldx;
            for (int i = 0; i < n; i++) {
                const ptrdiff_t p = piv[w][i];
                const double tr = col[2 * i], ti = col[2 * i + 1];
                col[2 * i] = col[2 * p];
                col[2 * i + 1] = col[2 * p + 1];
                col[2 * p] = tr;
                col[2 * p + 1] = ti;
            }
        }
        for (int i = 0; i < n; i++) {
            const ptrdiff_t e = 2 * (i + c * ldx);
            const lucy_lanes_z v = lucy_lanes_gather_z(x[0] + e, x[1] + e, x[2] + e, x[3] + e);
            br[i] = v.re;
            bi[i] = v.im;
            probe += v.re * 0 + v.im * 0;
        }
        for (int j = 0; j < n; j++)               /* L y = b, unit diagonal */
            for (int i = j + 1; i < n; i++) {
                br[i] -= ar[i][j] * br[j] - ai[i][j] * bi[j];
                bi[i] -= ar[i][j] * bi[j] + ai[i][j] * br[j];
            }
        for (int j = n - 1; j >= 0; j--) {        /* U x = y */
            lucy_lanes_div_z(br[j], bi[j], ar[j][j], ai[j][j], &br[j], &bi[j]);
            for (int i = 0; i < j; i++) {
                br[i] -= ar[i][j] * br[j] - ai[i][j] * bi[j];
                bi[i] -= ar[i][j] * bi[j] + ai[i][j] * br[j];
            }
        }
        for (int i = 0; i < n; i++) {
            const ptrdiff_t e = 2 * (i + c * ldx);
            lucy_lanes_scatter_z(x[0] + e, x[1] + e, x[2] + e, x[3] + e, br[i], bi[i]);
        }
    }
    const lucy_vd_mask nonfinite = (lucy_vd_mask)(probe != 0);
    int mask = 0;
    for (int w = 0; w < LUCY_LANES; w++)
        mask |= (nonfinite[w] != 0) << w;
    return mask;
}

LUCY_LANES_TARGET static int lucy_lanes_getrs_z(
    int n, ptrdiff_t nrhs, const double *const lu[LUCY_LANES], ptrdiff_t lda,
    const int32_t *const piv[LUCY_LANES], double *const x[LUCY_LANES],
    ptrdiff_t ldx)
{
    switch (n) {
    case 2: return lucy_lanes_getrs_z_n(2, nrhs, lu, lda, piv, x, ldx);
    case 3: return lucy_lanes_getrs_z_n(3, nrhs, lu, lda, piv, x, ldx);
    case 4: return lucy_lanes_getrs_z_n(4, nrhs, lu, lda, piv, x, ldx);
    default: return lucy_lanes_getrs_z_n(n, nrhs, lu, lda, piv, x, ldx);
    }
}

#else  /* not x86-64 GCC >= 12 / Clang: callers use the one-matrix kernel */
#define LUCY_LANES_AVAILABLE 0
static inline int lucy_lanes_usable(void) { return 0; }
static void lucy_lanes_getrf_d(int n, const char *const src[4], ptrdiff_t rs,
                               ptrdiff_t cs, double *const dst[4],
                               int32_t *const piv[4], int32_t *const status[4],
                               int check_finite) { (void)n; }
static void lucy_lanes_getrf_s(int n, const char *const src[4], ptrdiff_t rs,
                               ptrdiff_t cs, float *const dst[4],
                               int32_t *const piv[4], int32_t *const status[4],
                               int check_finite) { (void)n; }
static int lucy_lanes_load_transposed_d(const char *src, ptrdiff_t rs,
                                        ptrdiff_t m, ptrdiff_t n, double *dst,
                                        ptrdiff_t ldd) { (void)src; return 1; }
static int lucy_lanes_load_transposed_s(const char *src, ptrdiff_t rs,
                                        ptrdiff_t m, ptrdiff_t n, float *dst,
                                        ptrdiff_t ldd) { (void)src; return 1; }
static int lucy_lanes_load_transposed_z(const char *src, ptrdiff_t rs,
                                        ptrdiff_t m, ptrdiff_t n, double *dst,
                                        ptrdiff_t ldd) { (void)src; return 1; }
static void lucy_lanes_getrf_z(int n, const char *const src[4], ptrdiff_t rs,
                               ptrdiff_t cs, double *const dst[4],
                               int32_t *const piv[4], int32_t *const status[4],
                               int check_finite) { (void)n; }
static int lucy_lanes_getrs_z(int n, ptrdiff_t nrhs, const double *const lu[4],
                               ptrdiff_t lda, const int32_t *const piv[4],
                               double *const x[4], ptrdiff_t ldx) { (void)n; return 0; }
static int lucy_lanes_getrs_d(int n, ptrdiff_t nrhs, const double *const lu[4],
                               ptrdiff_t lda, const int32_t *const piv[4],
                               double *const x[4], ptrdiff_t ldx) { (void)n; return 0; }
static int lucy_lanes_getrs_s(int n, ptrdiff_t nrhs, const float *const lu[4],
                               ptrdiff_t lda, const int32_t *const piv[4],
                               float *const x[4], ptrdiff_t ldx) { (void)n; return 0; }
#endif

#endif  /* LUCY_SMALL_LANES_H */
