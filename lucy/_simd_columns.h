/*
 * LU with partial pivoting of small real matrices, in place, with every
 * step vectorised down the columns (GCC/Clang vector extensions, compiled
 * for AVX2 + FMA like the lane kernels of _small_lanes.h, used only where
 * the CPU has them). Up to LUCY_COLUMNS_GROUP matrices go side by side
 * (lucy_columns_group), and from LUCY_COLUMNS_PAIR_MIN rows on two steps
 * share each pass of the trailing update.
 *
 * Why: for 8 < n <= LUCY_COLUMNS_MAX_N the cost of a LAPACK call (argument
 * checks, OpenBLAS's buffer lock, dispatch) exceeds the arithmetic, and the
 * portable scalar getf2 of _matrix.pxd runs at baseline SSE2 width with a
 * serial pivot search. Here the pivot search, the scaling and the rank-1
 * update each work on whole registers of a column (4 doubles or 8 floats).
 *
 * The arithmetic is LAPACK ?getf2's: the pivot is the FIRST entry of largest
 * |x| (ties keep the upper row, as i?amax does), the column is scaled by the
 * reciprocal unless the pivot is below the safe minimum, and the update
 * subtracts l * u: for real types a multiply, then a subtraction (-ffp-contract=off
 * keeps the compiler from fusing them), as the lane and scalar kernels do; for
 * complex128 as fused multiply-adds, except on the square shapes it shares
 * with the lane kernel (lucy_columns_getf2_z). So pivots equal LAPACK's and
 * factors agree to rounding.
 *
 * Entry points (call only where lucy_lanes_usable() is true):
 *   lucy_columns_getf2_d / _s (count, m, n, a[count], lda, piv[count],
 *                              info[count], ahead, ahead_bytes)
 *   lucy_columns_getf2_z: the same for complex128 (a[q] as interleaved
 *   doubles, lda in complex elements, m even; two steps per pass from
 *   LUCY_COLUMNS_PAIR_MIN_Z rows on).
 *   factors count <= LUCY_COLUMNS_GROUP matrices side by side, each
 *   a[q]: column-major m x n, leading dimension lda >= m; m must be a
 *   multiple of the register width (LUCY_COLUMNS_WIDTH_D = 4, _S = 8), so
 *   every register load stays inside a column; piv[q]: min(m, n) 0-based row
 *   swaps; info[q]: LAPACK's info; ahead: NULL, or ahead_bytes of memory
 *   the caller reads next (the next group's input), fetched into cache a
 *   slice per step (lucy_columns_fetch_ahead).
 */
#ifndef LUCY_SIMD_COLUMNS_H
#define LUCY_SIMD_COLUMNS_H

#include <string.h>

#include "_small_lanes.h"

/* Largest m and n sent here; above it OpenBLAS's blocked getrf wins. One
 * thread, ms for lu_factor of 1000 x 80 x 80 / 1000 x 96 x 96 / 500 x 128 x
 * 128, getrf -> this kernel: 45 -> 37, 94 -> 60, 68 -> 75. */
#define LUCY_COLUMNS_MAX_N 96
/* The same for complex128. lu_factor, one thread, ms, zgetrf -> this kernel
 * (since C-order inputs up to 64 kB are copied whole, see _small_lanes.h):
 * 2000 x 56 x 56 71.8 -> 53.8, 2000 x 64 x 64 98.8 -> 88.1, 1000 x 72 x 72
 * 68.5 -> 54.3, 1000 x 80 x 80 86.9 -> 71.7, 500 x 96 x 96 67.2 -> 58.3, but
 * 200 x 128 x 128 51.1 -> 61.8. (Before that copy, 64 x 64 was 114 -> 118.) */
#define LUCY_COLUMNS_MAX_N_Z 96
#define LUCY_COLUMNS_WIDTH_D 4
#define LUCY_COLUMNS_WIDTH_S 8
/* Most matrices factored side by side by one call (see lucy_columns_group). */
#define LUCY_COLUMNS_GROUP 4
/* From this many rows on, two steps share one pass of the trailing update
 * (lucy_columns_update2): ns per matrix, one step at a time -> two, n = 24:
 * 1023 -> 878, 32: 2190 -> 1724, 48: 6567 -> 4574, 64: 15923 -> 11163;
 * below it the extra bookkeeping costs more than it saves. */
#define LUCY_COLUMNS_PAIR_MIN 24
/* The same for complex128, in complex rows (16 x 16: 957 -> 874 ns per
 * matrix, 32 x 32: 6.2 -> 5.3 us; 8 x 8 unchanged). */
#define LUCY_COLUMNS_PAIR_MIN_Z 8
/* Panels of the blocked LU of medium real matrices: this many registers of
 * columns wide (16 doubles, 32 floats), see lucy_columns_trsm. */
#define LUCY_PANEL_REGS 4

/* How many m x n matrices to factor side by side. One matrix's steps are a
 * chain (search -> swap -> divide -> scale -> update -> next search) that
 * runs at its latency; several independent chains interleaved fill the
 * pipeline, as long as they fit in L1 together. Measured per matrix on AMD
 * EPYC (Zen 4), ns for 1 / 2 / 4 at a time: 16 x 16: 622 / 445 / 391;
 * 32 x 32: 2109 / 1767 / 1732; 48 x 48: 5148 / 4576 / 4997; 64 x 64: 10838 /
 * 11422 / 11680. */
static inline ptrdiff_t lucy_columns_group(ptrdiff_t m, ptrdiff_t n)
{
    return m * n <= 32 * 32 ? 4 : m * n <= 48 * 48 ? 2 : 1;
}

/* Ask the cache for the next slice of the ahead_bytes at ahead (see the
 * entry points above), so that all of it has been asked for by step k / 2
 * of k; done is how many bytes were asked for before step j, and the new
 * count is returned.
 *
 * Why: the copy of each matrix of a batch into the output stalls on its
 * loads (a third of lu_factor's time at complex128 20000 x 16 x 16, where a
 * matrix is one 4 kB page, the span a hardware prefetcher follows). Spread
 * over the factorisation, these prefetches overlap the next loads with this
 * group's arithmetic. Measured in one process, calls with and without them
 * alternating (median ratio of 30-60 pairs), two threads: complex128 20000 x
 * 16 x 16 0.965-0.974, 2000 x 64 x 64 0.985; float64 20000 x 16 x 16 0.977,
 * 20000 x 32 x 32 0.969; one thread, complex128 16 x 16: 0.985-1.003. All
 * the prefetches at once before the kernel, or a burst ahead of each copy,
 * did not help; prefetching the output for writing made it slower. */
static inline ptrdiff_t lucy_columns_fetch_ahead(const char *ahead,
                                                 ptrdiff_t ahead_bytes,
                                                 ptrdiff_t done, ptrdiff_t j,
                                                 ptrdiff_t k)
{
    ptrdiff_t until = 2 * (j + 1) * ahead_bytes / k;
    if (until > ahead_bytes)
        until = ahead_bytes;
#if defined(__GNUC__)
    for (; done < until; done += 64)
        __builtin_prefetch(ahead + done, 0, 1);
#else
    (void)ahead;
    done = until;
#endif
    return done;
}

/* Outputs of LUCY_STREAM_MIN_BYTES and more are written with streaming
 * stores, which skip reading each output line into cache before
 * overwriting it (a third of the memory traffic of a copy): a batch of
 * small matrices is factored a group at a time in a scratch buffer that
 * stays in L1 and then streamed out (factor_items in _batch.pyx), and one
 * big float64 matrix is copied in by lucy_stream_load_transposed_d.
 * Measured in one process, calls with and without the scratch alternating
 * (median ratio of 30-40 pairs), two threads, lu_factor of C-order batches:
 * complex128 20000 x 16 x 16 0.946-0.966 (one thread 0.987), 5000 x 32 x 32
 * 0.978, 10000 x 24 x 24 0.989-1.012; float64 20000 x 16 x 16 0.989, 10000
 * x 32 x 32 0.951, 5000 x 48 x 48 0.961, 2500 x 64 x 64 0.976; float32
 * 10000 x 32 x 32 0.965. With a 64 kB scratch (complex128 64 x 64, which
 * then lives in L2) it was 1.061, so the scratch is L1's size.
 *
 * The threshold: streamed outputs are left out of cache, where the caller's
 * next step would find them if they fit, hence only from the size of this
 * machine's L3 (32 MB). Below it the scratch gained too in a loop of calls
 * (float64 5000 x 16 x 16, 10 MB: 0.944; float32 20000 x 16 x 16, 20 MB:
 * 0.979; complex128 5000 x 16 x 16: 0.993), which never reads its outputs. */
#define LUCY_STREAM_MIN_BYTES ((ptrdiff_t)32 << 20)
/* Room for one group of matrices there (32 kB). */
#define LUCY_STREAM_SCRATCH_DOUBLES 4096

/* cols columns of col_bytes bytes, contiguous at src, to dst where they
 * lie ldd_bytes apart. Streaming stores only where dst is 32-byte aligned;
 * lucy_stream_fence must follow before the data is read elsewhere. */
static inline void lucy_stream_columns(char *dst, ptrdiff_t ldd_bytes,
                                       const char *src, ptrdiff_t col_bytes,
                                       ptrdiff_t cols);
static inline void lucy_stream_fence(void);

#if LUCY_LANES_AVAILABLE

LUCY_LANES_TARGET static inline void lucy_stream_columns(
    char *dst, ptrdiff_t ldd_bytes, const char *src, ptrdiff_t col_bytes,
    ptrdiff_t cols)
{
    if (ldd_bytes == col_bytes) {
        col_bytes *= cols;
        cols = 1;
    }
    for (ptrdiff_t c = 0; c < cols; c++) {
        char *d = dst + c * ldd_bytes;
        const char *s = src + c * col_bytes;
        ptrdiff_t head = (ptrdiff_t)((32 - ((uintptr_t)d & 31)) & 31), b;
        if (head > col_bytes)
            head = col_bytes;
        memcpy(d, s, (size_t)head);
        for (b = head; b + 32 <= col_bytes; b += 32)
            _mm256_stream_pd((double *)(d + b), _mm256_loadu_pd((const double *)(s + b)));
        memcpy(d + b, s + b, (size_t)(col_bytes - b));
    }
}

static inline void lucy_stream_fence(void)
{
    _mm_sfence();
}

/* lucy_lanes_load_transposed_d for one big matrix (load_parallel in
 * _batch.pyx, which has lu_factor's timings), eight rows at a time, so that
 * each line of the destination (eight doubles of a column) is written
 * whole, at once, by streaming stores. Needs m and n multiples of 8 and 4,
 * dst 32-byte aligned and ldd a multiple of 4. The copy of a 3000 x 3000
 * matrix in tiles of 128 columns took 6.6-8.6 ms on two threads, 3.2-5.0 ms
 * this way (C harness). */
LUCY_LANES_TARGET static int lucy_stream_load_transposed_d(
    const char *src, ptrdiff_t rs, ptrdiff_t m, ptrdiff_t n, double *dst,
    ptrdiff_t ldd)
{
    lucy_vd in[4], in2[4], out[4], out2[4];
    lucy_vd_bits seen = {0};
    for (ptrdiff_t i = 0; i < m; i += 8)
        for (ptrdiff_t j = 0; j < n; j += 4) {
            for (int r = 0; r < 4; r++) {
                in[r] = *(const lucy_vd_unaligned *)(src + (i + r) * rs + j * 8);
                in2[r] = *(const lucy_vd_unaligned *)(src + (i + 4 + r) * rs + j * 8);
                seen = lucy_lanes_nonfinite_d(lucy_lanes_nonfinite_d(seen, in[r]), in2[r]);
            }
            lucy_lanes_transpose_d(in, out);
            lucy_lanes_transpose_d(in2, out2);
            for (int q = 0; q < 4; q++) {
                _mm256_stream_pd(dst + i + (j + q) * ldd, (__m256d)out[q]);
                _mm256_stream_pd(dst + i + 4 + (j + q) * ldd, (__m256d)out2[q]);
            }
        }
    return lucy_lanes_all_finite_d(seen);
}

/* float32 registers of 8 (the lane kernels' hold 4), and unaligned views of
 * memory (lucy_vd_unaligned for doubles comes from _small_lanes.h). */
typedef float lucy_vs8 __attribute__((vector_size(32)));
typedef float lucy_vs8_u __attribute__((vector_size(32), aligned(4)));
typedef int32_t lucy_vs8_mask __attribute__((vector_size(32)));

/* Lane w of the result is lane w ^ half of v (half a constant power of two
 * below the width): the steps of the reductions over a register's lanes. */
LUCY_ALWAYS_INLINE lucy_vd_mask lucy_columns_xor_lanes_d(lucy_vd_mask v, int half)
{
    return half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2);
}

LUCY_ALWAYS_INLINE lucy_vs8_mask lucy_columns_xor_lanes_s(lucy_vs8_mask v, int half)
{
    return half == 4 ? __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3)
         : half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
}

/* Lane `lane` of y in every lane (vpermd / vpermps; the index vector is
 * made once per step by lucy_columns_lane_index_*). */
LUCY_ALWAYS_INLINE __m256i lucy_columns_lane_index_d(ptrdiff_t lane)
{
    return _mm256_set1_epi64x((int64_t)(2 * lane + 1) << 32 | (2 * lane));
}

LUCY_ALWAYS_INLINE lucy_vd lucy_columns_broadcast_d(lucy_vd y, __m256i index)
{
    return (lucy_vd)_mm256_permutevar8x32_epi32((__m256i)y, index);
}

LUCY_ALWAYS_INLINE __m256i lucy_columns_lane_index_s(ptrdiff_t lane)
{
    return _mm256_set1_epi32((int)lane);
}

LUCY_ALWAYS_INLINE lucy_vs8 lucy_columns_broadcast_s(lucy_vs8 y, __m256i index)
{
    return (lucy_vs8)_mm256_permutevar8x32_ps((__m256)y, index);
}

#define LUCY_DEFINE_COLUMNS_GETF2(SUFFIX, T, VT, VTU, MT, W, SAFE_MIN)         \
typedef __typeof__(((MT){0})[0]) lucy_columns_et_##SUFFIX;                     \
                                                                               \
LUCY_ALWAYS_INLINE VT lucy_columns_pick_##SUFFIX(MT take_a, VT a, VT b)        \
{                                                                              \
    return (VT)(((MT)a & take_a) | ((MT)b & ~take_a));                         \
}                                                                              \
                                                                               \
LUCY_ALWAYS_INLINE MT lucy_columns_lanes_##SUFFIX(void)                        \
{                                                                              \
    MT lane;                                                                   \
    for (int w = 0; w < W; w++)                                                \
        lane[w] = w;                                                           \
    return lane;                                                               \
}                                                                              \
                                                                               \
/* Step j's pivot: the largest |x| in rows j..m-1 of column j, from the        \
   register holding row j with its rows above j masked out; strictly           \
   greater, so each lane keeps its first maximum; then the maximum over the    \
   lanes and the lowest row among the lanes holding it (row j when the         \
   column holds only NaN), as shuffle trees: branching on which lane won       \
   mispredicts on random data. Writes |pivot| to *best, returns its row. */    \
LUCY_ALWAYS_INLINE ptrdiff_t lucy_columns_search_##SUFFIX(                     \
    ptrdiff_t m, const T *col, ptrdiff_t j, T *best)                           \
{                                                                              \
    typedef lucy_columns_et_##SUFFIX ET;                                       \
    const MT lane = lucy_columns_lanes_##SUFFIX();                             \
    const VT zero = {0};                                                       \
    const MT sign = (MT)(zero * -1);          /* bits of -0.0: the sign bit */ \
    const VT below_any = zero - 1;            /* smaller than every |x| */     \
    const ptrdiff_t cj = j & -(ptrdiff_t)W;                                    \
    const MT above = (MT)(lane < (ET)(j - cj));                                \
    VT best_v = below_any;                                                     \
    MT row_v = (MT){0} + (ET)j;                                                \
    for (ptrdiff_t c = cj; c < m; c += W) {                                    \
        VT v = (VT)((MT)(*(const VTU *)(col + c)) & ~sign);                    \
        if (c == cj)                                                           \
            v = lucy_columns_pick_##SUFFIX(above, below_any, v);               \
        const MT bigger = (MT)(v > best_v);                                    \
        best_v = lucy_columns_pick_##SUFFIX(bigger, v, best_v);                \
        row_v = (bigger & (lane + (ET)c)) | (~bigger & row_v);                 \
    }                                                                          \
    VT max_v = best_v;                                                         \
    for (int half = W / 2; half >= 1; half /= 2) {                             \
        const VT other = (VT)lucy_columns_xor_lanes_##SUFFIX((MT)max_v, half); \
        max_v = lucy_columns_pick_##SUFFIX((MT)(other > max_v), other, max_v); \
    }                                                                          \
    MT first_v = (MT)(best_v == max_v);                                        \
    first_v = (first_v & row_v) | (~first_v & ((MT){0} + (ET)m));              \
    for (int half = W / 2; half >= 1; half /= 2) {                             \
        const MT other = lucy_columns_xor_lanes_##SUFFIX(first_v, half);       \
        const MT lower = (MT)(other < first_v);                                \
        first_v = (lower & other) | (~lower & first_v);                        \
    }                                                                          \
    *best = max_v[0];                                                          \
    return first_v[0] < m ? first_v[0] : j;                                    \
}                                                                              \
                                                                               \
/* Rows j <-> p in every column. (Folding the swap into the update loop, or    \
   doing it as register blends, measured slower.) */                           \
LUCY_ALWAYS_INLINE void lucy_columns_swap_##SUFFIX(                            \
    ptrdiff_t n, T *a, ptrdiff_t lda, ptrdiff_t j, ptrdiff_t p)                \
{                                                                              \
    if (p != j)                                                                \
        for (ptrdiff_t c = 0; c < n; c++) {                                    \
            const T t = a[j + c * lda];                                        \
            a[j + c * lda] = a[p + c * lda];                                   \
            a[p + c * lda] = t;                                                \
        }                                                                      \
}                                                                              \
                                                                               \
/* Column j's multipliers: rows j+1..m-1 over the pivot (by its reciprocal     \
   unless |pivot| < SAFE_MIN, as LAPACK); registers from the one holding row   \
   j+1, in which rows up to j keep their values. */                            \
LUCY_ALWAYS_INLINE void lucy_columns_scale_##SUFFIX(                           \
    ptrdiff_t m, T *col, ptrdiff_t j, T best)                                  \
{                                                                              \
    typedef lucy_columns_et_##SUFFIX ET;                                       \
    const MT lane = lucy_columns_lanes_##SUFFIX();                             \
    const ptrdiff_t c1 = (j + 1) & -(ptrdiff_t)W;                              \
    const MT keep = (MT)(lane <= (ET)(j - c1));                                \
    const T pivot = col[j];                                                    \
    if (best >= SAFE_MIN) {                                                    \
        const T r = 1 / pivot;                                                 \
        for (ptrdiff_t c = c1; c < m; c += W) {                                \
            const VT x = *(VTU *)(col + c);                                    \
            const VT y = x * r;                                                \
            *(VTU *)(col + c) = c == c1 ? lucy_columns_pick_##SUFFIX(keep, x, y) : y; \
        }                                                                      \
    } else {                                                                   \
        for (ptrdiff_t c = c1; c < m; c += W) {                                \
            const VT x = *(VTU *)(col + c);                                    \
            const VT y = x / pivot;                                            \
            *(VTU *)(col + c) = c == c1 ? lucy_columns_pick_##SUFFIX(keep, x, y) : y; \
        }                                                                      \
    }                                                                          \
}                                                                              \
                                                                               \
/* Step j's rank-1 update of columns [c_begin, c_end): rows j+1..m-1. */       \
LUCY_ALWAYS_INLINE void lucy_columns_update1_##SUFFIX(                         \
    ptrdiff_t m, T *a, ptrdiff_t lda, ptrdiff_t j, ptrdiff_t c_begin,          \
    ptrdiff_t c_end)                                                           \
{                                                                              \
    typedef lucy_columns_et_##SUFFIX ET;                                       \
    const MT lane = lucy_columns_lanes_##SUFFIX();                             \
    const ptrdiff_t c1 = (j + 1) & -(ptrdiff_t)W;                              \
    const MT keep = (MT)(lane <= (ET)(j - c1));                                \
    const T *col = a + j * lda;                                                \
    const VT l1 = *(const VTU *)(col + c1);                                    \
    for (ptrdiff_t cc = c_begin; cc < c_end; cc++) {                           \
        T *other = a + cc * lda;                                               \
        const T t = other[j];                                                  \
        const VT x = *(VTU *)(other + c1);                                     \
        *(VTU *)(other + c1) = lucy_columns_pick_##SUFFIX(keep, x, x - l1 * t); \
        for (ptrdiff_t c = c1 + W; c < m; c += W)                              \
            *(VTU *)(other + c) = *(VTU *)(other + c) - *(const VTU *)(col + c) * t; \
    }                                                                          \
}                                                                              \
                                                                               \
/* Steps j and j+1's updates of columns [c_begin, c_end) in one pass (the      \
   multipliers of both columns ready): row j+1 takes step j's update and       \
   becomes U's, rows j+2..m-1 take both. Per element the same operations in    \
   the same order as two rank-1 updates, so the same bits; one load and one    \
   store per element instead of two. */                                        \
LUCY_ALWAYS_INLINE void lucy_columns_update2_##SUFFIX(                         \
    ptrdiff_t m, T *a, ptrdiff_t lda, ptrdiff_t j, ptrdiff_t c_begin,          \
    ptrdiff_t c_end)                                                           \
{                                                                              \
    typedef lucy_columns_et_##SUFFIX ET;                                       \
    const MT lane = lucy_columns_lanes_##SUFFIX();                             \
    const ptrdiff_t c1 = (j + 1) & -(ptrdiff_t)W;   /* register of row j+1 */  \
    const ptrdiff_t c2 = (j + 2) & -(ptrdiff_t)W;   /* register of row j+2 */  \
    const MT keep0 = (MT)(lane <= (ET)(j - c1));     /* rows <= j, in c1 */    \
    const MT keep1 = (MT)(lane <= (ET)(j + 1 - c2)); /* rows <= j+1, in c2 */  \
    const __m256i at_row1 = lucy_columns_lane_index_##SUFFIX(j + 1 - c1);      \
    const T *col0 = a + j * lda, *col1 = a + (j + 1) * lda;                    \
    const VT l0_1 = *(const VTU *)(col0 + c1);                                 \
    const VT l0_2 = *(const VTU *)(col0 + c2), l1_2 = *(const VTU *)(col1 + c2); \
    for (ptrdiff_t cc = c_begin; cc < c_end; cc++) {                           \
        T *other = a + cc * lda;                                               \
        const VT u0 = (VT){0} + other[j];                                      \
        VT x = *(VTU *)(other + c1);                                           \
        VT y = lucy_columns_pick_##SUFFIX(keep0, x, x - l0_1 * u0);            \
        const VT u1 = lucy_columns_broadcast_##SUFFIX(y, at_row1);             \
        if (c2 != c1) {                                                        \
            *(VTU *)(other + c1) = y;                                          \
            x = *(VTU *)(other + c2);                                          \
            y = x - l0_2 * u0;                                                 \
        }                                                                      \
        *(VTU *)(other + c2) = lucy_columns_pick_##SUFFIX(keep1, y, y - l1_2 * u1); \
        for (ptrdiff_t c = c2 + W; c < m; c += W)                              \
            *(VTU *)(other + c) = (*(VTU *)(other + c) - *(const VTU *)(col0 + c) * u0) \
                                  - *(const VTU *)(col1 + c) * u1;             \
    }                                                                          \
}                                                                              \
                                                                               \
LUCY_LANES_TARGET static void lucy_columns_getf2_##SUFFIX(                     \
    ptrdiff_t count, ptrdiff_t m, ptrdiff_t n, T *const *aa, ptrdiff_t lda,    \
    int32_t *const *pivs, int32_t *infos, const char *ahead,                   \
    ptrdiff_t ahead_bytes)                                                     \
{                                                                              \
    const ptrdiff_t k = m < n ? m : n;                                         \
    T best[LUCY_COLUMNS_GROUP], best1[LUCY_COLUMNS_GROUP];                     \
    ptrdiff_t ps[LUCY_COLUMNS_GROUP], fetched = 0;                             \
    for (ptrdiff_t q = 0; q < count; q++)                                      \
        infos[q] = 0;                                                          \
    /* Each phase runs over the whole group before the next one starts, so     \
       the matrices' independent chains interleave. */                         \
    for (ptrdiff_t j = 0; j < k; j++) {                                        \
        int all_nonzero = 1;                                                   \
        fetched = lucy_columns_fetch_ahead(ahead, ahead_bytes, fetched, j, k); \
        for (ptrdiff_t q = 0; q < count; q++) {   /* step j's pivots */        \
            ps[q] = lucy_columns_search_##SUFFIX(m, aa[q] + j * lda, j, &best[q]); \
            pivs[q][j] = (int32_t)ps[q];                                       \
            if (best[q] == 0) {                                                \
                /* An exactly zero column below the diagonal: U[j, j] == 0.    \
                   LAPACK records the first such column and carries on. */     \
                if (infos[q] == 0)                                             \
                    infos[q] = (int32_t)(j + 1);                               \
                all_nonzero = 0;                                               \
            }                                                                  \
        }                                                                      \
        for (ptrdiff_t q = 0; q < count; q++)     /* swaps and multipliers */  \
            if (best[q] != 0) {                                                \
                lucy_columns_swap_##SUFFIX(n, aa[q], lda, j, ps[q]);           \
                if (j + 1 < m)                                                 \
                    lucy_columns_scale_##SUFFIX(m, aa[q] + j * lda, j, best[q]); \
            }                                                                  \
        if (!(all_nonzero && m >= LUCY_COLUMNS_PAIR_MIN && j + 2 < m && j + 1 < k)) { \
            /* One step: its rank-1 update of every column right of j. */      \
            for (ptrdiff_t q = 0; q < count; q++)                              \
                if (best[q] != 0 && j + 1 < m)                                 \
                    lucy_columns_update1_##SUFFIX(m, aa[q], lda, j, j + 1, n); \
            continue;                                                          \
        }                                                                      \
        /* Two steps: column j+1 alone takes step j's update, then step j+1's  \
           pivot, swap and multipliers; the columns right of j+1 take both     \
           updates in one pass. The swap of rows j+1 and p lands on those      \
           columns before step j's update: both rows are below j and column    \
           j's multipliers are swapped with them, so nothing changes. */       \
        j += 1;                                                                \
        for (ptrdiff_t q = 0; q < count; q++)                                  \
            lucy_columns_update1_##SUFFIX(m, aa[q], lda, j - 1, j, j + 1);     \
        for (ptrdiff_t q = 0; q < count; q++) {                                \
            ps[q] = lucy_columns_search_##SUFFIX(m, aa[q] + j * lda, j, &best1[q]); \
            pivs[q][j] = (int32_t)ps[q];                                       \
            if (best1[q] == 0 && infos[q] == 0)                                \
                infos[q] = (int32_t)(j + 1);                                   \
        }                                                                      \
        for (ptrdiff_t q = 0; q < count; q++)                                  \
            if (best1[q] != 0) {                                               \
                lucy_columns_swap_##SUFFIX(n, aa[q], lda, j, ps[q]);           \
                lucy_columns_scale_##SUFFIX(m, aa[q] + j * lda, j, best1[q]);  \
            }                                                                  \
        for (ptrdiff_t q = 0; q < count; q++)                                  \
            if (best1[q] != 0)                                                 \
                lucy_columns_update2_##SUFFIX(m, aa[q], lda, j - 1, j + 1, n); \
            else   /* step j has nothing to subtract: step j-1's alone */      \
                lucy_columns_update1_##SUFFIX(m, aa[q], lda, j - 1, j + 1, n); \
    }                                                                          \
}

/* B := L^-1 B for the blocked LU of medium real matrices (factor_panels in
 * _matrix.pxd): L the unit lower triangle of a panel's top LUCY_PANEL_REGS
 * registers of rows (16 doubles, 32 floats), B those rows of nc columns
 * right of the panel. Each column of B stays in registers through all of
 * L's steps, and two columns go together: one alone is a chain of dependent
 * steps. float32 256 x 256, the whole blocked LU (one thread): 277 us with
 * OpenBLAS's strsm, 259 with one column at a time, 237 with two; sgetrf 300.
 * The same operations as the columns kernel's update (a multiply, then a
 * subtraction). */
#define LUCY_DEFINE_COLUMNS_TRSM(SUFFIX, T, VT, VTU, MT, W)                    \
LUCY_LANES_TARGET static void lucy_columns_trsm_##SUFFIX(                      \
    ptrdiff_t nc, const T *l, ptrdiff_t lda, T *b, ptrdiff_t ldb)              \
{                                                                              \
    enum { R = LUCY_PANEL_REGS, NB = LUCY_PANEL_REGS * W };                     \
    const MT lane = lucy_columns_lanes_##SUFFIX();                             \
    for (ptrdiff_t c = 0; c < nc; c += 2) {                                    \
        /* An odd last column is taken twice (the same values twice). */       \
        T *x = b + c * ldb, *y = c + 1 < nc ? x + ldb : x;                     \
        VT r[R], s[R];                                                         \
        for (int q = 0; q < R; q++) {                                          \
            r[q] = *(const VTU *)(x + q * W);                                  \
            s[q] = *(const VTU *)(y + q * W);                                  \
        }                                                                      \
        _Pragma("GCC unroll 32")                                               \
        for (int i = 0; i < NB; i++) {                                         \
            const VT t = (VT){0} + r[i / W][i % W];                            \
            const VT u = (VT){0} + s[i / W][i % W];                            \
            const T *li = l + i * lda;                                         \
            for (int q = i / W; q < R; q++) {                                  \
                const VT lv = *(const VTU *)(li + q * W);                      \
                VT r1 = r[q] - lv * t, s1 = s[q] - lv * u;                     \
                if (q == i / W) {      /* rows up to i keep their values */    \
                    const MT below = (MT)(lane > (lucy_columns_et_##SUFFIX)(i % W)); \
                    r1 = lucy_columns_pick_##SUFFIX(below, r1, r[q]);          \
                    s1 = lucy_columns_pick_##SUFFIX(below, s1, s[q]);          \
                }                                                              \
                r[q] = r1;                                                     \
                s[q] = s1;                                                     \
            }                                                                  \
        }                                                                      \
        for (int q = 0; q < R; q++) {                                          \
            *(VTU *)(y + q * W) = s[q];                                        \
            *(VTU *)(x + q * W) = r[q];                                        \
        }                                                                      \
    }                                                                          \
}

LUCY_DEFINE_COLUMNS_GETF2(d, double, lucy_vd, lucy_vd_unaligned, lucy_vd_mask,
                          LUCY_COLUMNS_WIDTH_D, DBL_MIN)
LUCY_DEFINE_COLUMNS_GETF2(s, float, lucy_vs8, lucy_vs8_u, lucy_vs8_mask,
                          LUCY_COLUMNS_WIDTH_S, FLT_MIN)
LUCY_DEFINE_COLUMNS_TRSM(d, double, lucy_vd, lucy_vd_unaligned, lucy_vd_mask,
                         LUCY_COLUMNS_WIDTH_D)
LUCY_DEFINE_COLUMNS_TRSM(s, float, lucy_vs8, lucy_vs8_u, lucy_vs8_mask,
                         LUCY_COLUMNS_WIDTH_S)

/* complex128: the same one-step algorithm on interleaved (re, im) pairs,
 * two complex rows per register. Pivot size |re| + |im| (izamax); the
 * reciprocal of the pivot by Smith's division; products written out as
 * (ar br - ai bi, ar bi + ai br), which is how the scalar kernel rounds. */
LUCY_ALWAYS_INLINE lucy_vd lucy_columns_swap_pairs_z(lucy_vd v)
{
    return __builtin_shufflevector(v, v, 1, 0, 3, 2);
}

/* x - l t for complex t, two rows a register; sr holds tr in every lane, si
 * (-ti, ti, -ti, ti). Unfused: x - (l tr + swap(l) si), how LAPACK's
 * reference and lucy's other kernels round. Fused: (x - l tr) - swap(l) si,
 * each a fused multiply-subtract: 16 x 16 complex128 matrices, 787 -> 627
 * ns each (the update's chains are half as long and it issues half the
 * arithmetic); see lucy_columns_getf2_z for where each is used. */
LUCY_LANES_TARGET LUCY_ALWAYS_INLINE lucy_vd lucy_columns_msub_z(
    lucy_vd x, lucy_vd l, lucy_vd sr, lucy_vd si, const int fused)
{
    if (!fused)
        return x - (l * sr + lucy_columns_swap_pairs_z(l) * si);
    const __m256d t = _mm256_fnmadd_pd((__m256d)l, (__m256d)sr, (__m256d)x);
    return (lucy_vd)_mm256_fnmadd_pd((__m256d)lucy_columns_swap_pairs_z(l), (__m256d)si, t);
}

/* (xr + i xi) / (yr + i yi), Smith's method. */
LUCY_ALWAYS_INLINE void lucy_columns_div_z(double xr, double xi, double yr,
                                           double yi, double *qr, double *qi)
{
    if ((yr < 0 ? -yr : yr) >= (yi < 0 ? -yi : yi)) {
        const double r = yi / yr, d = yr + yi * r;
        *qr = (xr + xi * r) / d;
        *qi = (xi - xr * r) / d;
    } else {
        const double r = yr / yi, d = yi + yr * r;
        *qr = (xr * r + xi) / d;
        *qi = (xi * r - xr) / d;
    }
}

LUCY_ALWAYS_INLINE ptrdiff_t lucy_columns_search_z(
    ptrdiff_t m, const double *col, ptrdiff_t j, double *best)
{
    const lucy_vd_mask row_of_lane = {0, 0, 1, 1};
    const lucy_vd zero = {0};
    const lucy_vd_mask sign = (lucy_vd_mask)(zero * -1);
    const lucy_vd below_any = zero - 1;
    const ptrdiff_t cj = j & -2;
    const lucy_vd_mask above = (lucy_vd_mask)(row_of_lane < (int64_t)(j - cj));
    lucy_vd best_v = below_any;
    lucy_vd_mask row_v = (lucy_vd_mask){0} + (int64_t)j;
    for (ptrdiff_t c = cj; c < m; c += 2) {
        lucy_vd v = (lucy_vd)((lucy_vd_mask)(*(const lucy_vd_unaligned *)(col + 2 * c)) & ~sign);
        v = v + lucy_columns_swap_pairs_z(v);          /* |re| + |im|, twice */
        if (c == cj)
            v = lucy_columns_pick_d(above, below_any, v);
        const lucy_vd_mask bigger = (lucy_vd_mask)(v > best_v);
        best_v = lucy_columns_pick_d(bigger, v, best_v);
        row_v = (bigger & (row_of_lane + (int64_t)c)) | (~bigger & row_v);
    }
    lucy_vd max_v = best_v;
    for (int half = 2; half >= 1; half /= 2) {
        const lucy_vd other = (lucy_vd)lucy_columns_xor_lanes_d((lucy_vd_mask)max_v, half);
        max_v = lucy_columns_pick_d((lucy_vd_mask)(other > max_v), other, max_v);
    }
    lucy_vd_mask first_v = (lucy_vd_mask)(best_v == max_v);
    first_v = (first_v & row_v) | (~first_v & ((lucy_vd_mask){0} + (int64_t)m));
    for (int half = 2; half >= 1; half /= 2) {
        const lucy_vd_mask other = lucy_columns_xor_lanes_d(first_v, half);
        const lucy_vd_mask lower = (lucy_vd_mask)(other < first_v);
        first_v = (lower & other) | (~lower & first_v);
    }
    *best = max_v[0];
    return first_v[0] < m ? first_v[0] : j;
}

/* Column j's multipliers, rows j+1..m-1: times 1/pivot, or divided by the
   pivot where |pivot| (|re| + |im|) is below the safe minimum. */
LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_columns_scale_z(ptrdiff_t m, double *col,
                                                               ptrdiff_t j, double best,
                                                               const int fused)
{
    const lucy_vd_mask row_of_lane = {0, 0, 1, 1};
    const ptrdiff_t c1 = (j + 1) & -2;
    const lucy_vd_mask keep = (lucy_vd_mask)(row_of_lane <= (int64_t)(j - c1));
    const double pr = col[2 * j], pi = col[2 * j + 1];
    if (best >= DBL_MIN) {
        double rr, ri;
        lucy_columns_div_z(1, 0, pr, pi, &rr, &ri);
        const lucy_vd sr = (lucy_vd){0} + rr, si = (lucy_vd){-ri, ri, -ri, ri};
        for (ptrdiff_t c = c1; c < m; c += 2) {
            const lucy_vd x = *(lucy_vd_unaligned *)(col + 2 * c);
            const lucy_vd y = fused
                ? (lucy_vd)_mm256_fmadd_pd((__m256d)x, (__m256d)sr,
                                           (__m256d)(lucy_columns_swap_pairs_z(x) * si))
                : x * sr + lucy_columns_swap_pairs_z(x) * si;
            *(lucy_vd_unaligned *)(col + 2 * c) = c == c1 ? lucy_columns_pick_d(keep, x, y) : y;
        }
    } else {
        for (ptrdiff_t i = j + 1; i < m; i++)
            lucy_columns_div_z(col[2 * i], col[2 * i + 1], pr, pi, &col[2 * i], &col[2 * i + 1]);
    }
}

LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_columns_update1_z(
    ptrdiff_t m, double *a, ptrdiff_t lda, ptrdiff_t j, ptrdiff_t c_begin,
    ptrdiff_t c_end, const int fused)
{
    const lucy_vd_mask row_of_lane = {0, 0, 1, 1};
    const ptrdiff_t c1 = (j + 1) & -2;
    const lucy_vd_mask keep = (lucy_vd_mask)(row_of_lane <= (int64_t)(j - c1));
    const double *col = a + 2 * j * lda;
    for (ptrdiff_t cc = c_begin; cc < c_end; cc++) {
        double *other = a + 2 * cc * lda;
        const double tr = other[2 * j], ti = other[2 * j + 1];
        const lucy_vd sr = (lucy_vd){0} + tr, si = (lucy_vd){-ti, ti, -ti, ti};
        for (ptrdiff_t c = c1; c < m; c += 2) {
            const lucy_vd l = *(const lucy_vd_unaligned *)(col + 2 * c);
            const lucy_vd x = *(lucy_vd_unaligned *)(other + 2 * c);
            const lucy_vd y = lucy_columns_msub_z(x, l, sr, si, fused);
            *(lucy_vd_unaligned *)(other + 2 * c) = c == c1 ? lucy_columns_pick_d(keep, x, y) : y;
        }
    }
}

/* Steps j and j+1's updates of columns [c_begin, c_end) in one pass, as
 * lucy_columns_update2_d: row j+1 takes step j's update and becomes U's, rows
 * j+2..m-1 take both, with the same operations in the same order as two
 * rank-1 updates (the same bits), one load and one store per element.
 * j_even (a constant at each call) says where rows j and j+1 sit: j even,
 * both in one register (row j+1 in its upper half); j odd, row j+1 opens the
 * next register. With it known, the masks and the broadcasts of row j+1 are
 * constants: taken from the parity at run time, GCC rebuilt a vpermd index
 * per column (about 3% of the kernel's time at 16 x 16). */
LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_columns_update2_z_at(
    ptrdiff_t m, double *a, ptrdiff_t lda, ptrdiff_t j, ptrdiff_t c_begin,
    ptrdiff_t c_end, const int j_even, const int fused)
{
    const lucy_vd sign = {-1, 1, -1, 1};
    const ptrdiff_t c1 = j_even ? j : j + 1;    /* register of row j+1 */
    const ptrdiff_t c2 = j_even ? j + 2 : j + 1;/* register of row j+2 */
    /* Lanes of register c1 that hold row j (already U's) when j is even. */
    const lucy_vd_mask row_j_lanes = {-(int64_t)j_even, -(int64_t)j_even, 0, 0};
    const double *col0 = a + 2 * j * lda, *col1 = a + 2 * (j + 1) * lda;
    const lucy_vd l0_1 = *(const lucy_vd_unaligned *)(col0 + 2 * c1);
    const lucy_vd l0_2 = *(const lucy_vd_unaligned *)(col0 + 2 * c2);
    const lucy_vd l1_2 = *(const lucy_vd_unaligned *)(col1 + 2 * c2);
    for (ptrdiff_t cc = c_begin; cc < c_end; cc++) {
        double *other = a + 2 * cc * lda;
        const double tr = other[2 * j], ti = other[2 * j + 1];
        const lucy_vd sr0 = (lucy_vd){0} + tr, si0 = (lucy_vd){-ti, ti, -ti, ti};
        const lucy_vd x = *(lucy_vd_unaligned *)(other + 2 * c1);
        lucy_vd y = lucy_columns_msub_z(x, l0_1, sr0, si0, fused);
        lucy_vd sr1, si1;
        if (j_even) {
            y = lucy_columns_pick_d(row_j_lanes, x, y);
            sr1 = __builtin_shufflevector(y, y, 2, 2, 2, 2);
            si1 = __builtin_shufflevector(y, y, 3, 3, 3, 3) * sign;
            *(lucy_vd_unaligned *)(other + 2 * c1) = y;
            const lucy_vd v = *(lucy_vd_unaligned *)(other + 2 * c2);
            *(lucy_vd_unaligned *)(other + 2 * c2) =
                lucy_columns_msub_z(lucy_columns_msub_z(v, l0_2, sr0, si0, fused),
                                    l1_2, sr1, si1, fused);
        } else {
            /* Row j+1 is the lower half of register c1 = c2 and keeps step
               j's update alone. */
            sr1 = __builtin_shufflevector(y, y, 0, 0, 0, 0);
            si1 = __builtin_shufflevector(y, y, 1, 1, 1, 1) * sign;
            const lucy_vd both = lucy_columns_msub_z(y, l1_2, sr1, si1, fused);
            *(lucy_vd_unaligned *)(other + 2 * c2) =
                lucy_columns_pick_d((lucy_vd_mask){-1, -1, 0, 0}, y, both);
        }
        for (ptrdiff_t c = c2 + 2; c < m; c += 2) {
            const lucy_vd l0 = *(const lucy_vd_unaligned *)(col0 + 2 * c);
            const lucy_vd l1 = *(const lucy_vd_unaligned *)(col1 + 2 * c);
            const lucy_vd v = *(lucy_vd_unaligned *)(other + 2 * c);
            *(lucy_vd_unaligned *)(other + 2 * c) =
                lucy_columns_msub_z(lucy_columns_msub_z(v, l0, sr0, si0, fused),
                                    l1, sr1, si1, fused);
        }
    }
}

LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_columns_update2_z(
    ptrdiff_t m, double *a, ptrdiff_t lda, ptrdiff_t j, ptrdiff_t c_begin,
    ptrdiff_t c_end, const int fused)
{
    if (j % 2 == 0)
        lucy_columns_update2_z_at(m, a, lda, j, c_begin, c_end, 1, fused);
    else
        lucy_columns_update2_z_at(m, a, lda, j, c_begin, c_end, 0, fused);
}

/* Rows j and p of all n columns, each element as one 16-byte (re, im)
 * move. Part by part, the kernel took 800 ns a matrix at 16 x 16 against
 * 778, and 4605 ns at 32 x 32 against 4420. */
LUCY_ALWAYS_INLINE void lucy_columns_swap_z(ptrdiff_t n, double *a, ptrdiff_t lda,
                                            ptrdiff_t j, ptrdiff_t p)
{
    if (p == j)
        return;
    for (ptrdiff_t c = 0; c < n; c++) {
        lucy_v2d_unaligned *row_j = (lucy_v2d_unaligned *)(a + 2 * (j + c * lda));
        lucy_v2d_unaligned *row_p = (lucy_v2d_unaligned *)(a + 2 * (p + c * lda));
        const lucy_v2d_unaligned t = *row_j;
        *row_j = *row_p;
        *row_p = t;
    }
}

LUCY_LANES_TARGET LUCY_ALWAYS_INLINE void lucy_columns_getf2_z_with(
    ptrdiff_t count, ptrdiff_t m, ptrdiff_t n, double *const *aa,
    ptrdiff_t lda, int32_t *const *pivs, int32_t *infos, const char *ahead,
    ptrdiff_t ahead_bytes, const int fused)
{
    const ptrdiff_t k = m < n ? m : n;
    double best[LUCY_COLUMNS_GROUP], best1[LUCY_COLUMNS_GROUP];
    ptrdiff_t ps[LUCY_COLUMNS_GROUP], fetched = 0;
    for (ptrdiff_t q = 0; q < count; q++)
        infos[q] = 0;
    for (ptrdiff_t j = 0; j < k; j++) {
        int all_nonzero = 1;
        fetched = lucy_columns_fetch_ahead(ahead, ahead_bytes, fetched, j, k);
        for (ptrdiff_t q = 0; q < count; q++) {
            ps[q] = lucy_columns_search_z(m, aa[q] + 2 * j * lda, j, &best[q]);
            pivs[q][j] = (int32_t)ps[q];
            if (best[q] == 0) {
                if (infos[q] == 0)
                    infos[q] = (int32_t)(j + 1);
                all_nonzero = 0;
            }
        }
        for (ptrdiff_t q = 0; q < count; q++)
            if (best[q] != 0) {
                lucy_columns_swap_z(n, aa[q], lda, j, ps[q]);
                if (j + 1 < m)
                    lucy_columns_scale_z(m, aa[q] + 2 * j * lda, j, best[q], fused);
            }
        if (!(all_nonzero && m >= LUCY_COLUMNS_PAIR_MIN_Z && j + 2 < m && j + 1 < k)) {
            for (ptrdiff_t q = 0; q < count; q++)
                if (best[q] != 0 && j + 1 < m)
                    lucy_columns_update1_z(m, aa[q], lda, j, j + 1, n, fused);
            continue;
        }
        /* Two steps, as in lucy_columns_getf2_d. */
        j += 1;
        for (ptrdiff_t q = 0; q < count; q++)
            lucy_columns_update1_z(m, aa[q], lda, j - 1, j, j + 1, fused);
        for (ptrdiff_t q = 0; q < count; q++) {
            ps[q] = lucy_columns_search_z(m, aa[q] + 2 * j * lda, j, &best1[q]);
            pivs[q][j] = (int32_t)ps[q];
            if (best1[q] == 0 && infos[q] == 0)
                infos[q] = (int32_t)(j + 1);
        }
        for (ptrdiff_t q = 0; q < count; q++)
            if (best1[q] != 0) {
                lucy_columns_swap_z(n, aa[q], lda, j, ps[q]);
                lucy_columns_scale_z(m, aa[q] + 2 * j * lda, j, best1[q], fused);
            }
        for (ptrdiff_t q = 0; q < count; q++)
            if (best1[q] != 0)
                lucy_columns_update2_z(m, aa[q], lda, j - 1, j + 1, n, fused);
            else
                lucy_columns_update1_z(m, aa[q], lda, j - 1, j + 1, n, fused);
    }
}

/* Square complex128 matrices up to LUCY_LANES_MAX_N go four at a time
 * through the lane kernel of _small_lanes.h, and the rest of the batch (or
 * an in-place call) through this one: there both must round alike, so this
 * one keeps the lane kernel's unfused products. Every other shape comes
 * only here, and takes the fused ones. OpenBLAS's kernels fuse too: of 400
 * rank-deficient complex128 matrices (n 10 to 64, a row repeated or
 * doubled), SciPy found an exactly zero pivot in 39, this kernel unfused in
 * 171 and fused in none; lucy's singular flag agreed with SciPy's on 248
 * unfused and 361 fused, and the factors agreed to rounding either way. */
LUCY_LANES_TARGET static void lucy_columns_getf2_z(
    ptrdiff_t count, ptrdiff_t m, ptrdiff_t n, double *const *aa,
    ptrdiff_t lda, int32_t *const *pivs, int32_t *infos, const char *ahead,
    ptrdiff_t ahead_bytes)
{
    if (m == n && n <= LUCY_LANES_MAX_N)
        lucy_columns_getf2_z_with(count, m, n, aa, lda, pivs, infos, ahead,
                                  ahead_bytes, 0);
    else
        lucy_columns_getf2_z_with(count, m, n, aa, lda, pivs, infos, ahead,
                                  ahead_bytes, 1);
}

#else  /* not x86-64 GCC >= 12 / Clang: callers use the scalar kernel */
static inline void lucy_stream_columns(char *dst, ptrdiff_t ldd_bytes,
                                       const char *src, ptrdiff_t col_bytes,
                                       ptrdiff_t cols)
{
    for (ptrdiff_t c = 0; c < cols; c++)
        memcpy(dst + c * ldd_bytes, src + c * col_bytes, (size_t)col_bytes);
}
static inline void lucy_stream_fence(void) {}
static int lucy_stream_load_transposed_d(const char *src, ptrdiff_t rs,
                                         ptrdiff_t m, ptrdiff_t n, double *dst,
                                         ptrdiff_t ldd) { (void)src; return 1; }
static void lucy_columns_getf2_d(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                 double *const *a, ptrdiff_t lda,
                                 int32_t *const *piv, int32_t *info,
                                 const char *ahead, ptrdiff_t ahead_bytes)
{ (void)count; (void)m; (void)n; (void)a; (void)lda; (void)piv; (void)info;
  (void)ahead; (void)ahead_bytes; }
static void lucy_columns_getf2_s(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                 float *const *a, ptrdiff_t lda,
                                 int32_t *const *piv, int32_t *info,
                                 const char *ahead, ptrdiff_t ahead_bytes)
{ (void)count; (void)m; (void)n; (void)a; (void)lda; (void)piv; (void)info;
  (void)ahead; (void)ahead_bytes; }
static void lucy_columns_getf2_z(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                 double *const *a, ptrdiff_t lda,
                                 int32_t *const *piv, int32_t *info,
                                 const char *ahead, ptrdiff_t ahead_bytes)
{ (void)count; (void)m; (void)n; (void)a; (void)lda; (void)piv; (void)info;
  (void)ahead; (void)ahead_bytes; }
static void lucy_columns_trsm_d(ptrdiff_t nc, const double *l, ptrdiff_t lda,
                                double *b, ptrdiff_t ldb)
{ (void)nc; (void)l; (void)lda; (void)b; (void)ldb; }
static void lucy_columns_trsm_s(ptrdiff_t nc, const float *l, ptrdiff_t lda,
                                float *b, ptrdiff_t ldb)
{ (void)nc; (void)l; (void)lda; (void)b; (void)ldb; }
#endif

#endif  /* LUCY_SIMD_COLUMNS_H */
