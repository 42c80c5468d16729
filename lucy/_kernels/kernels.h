/*
 * lucy's single-matrix SIMD kernels, as the Cython layer sees them: one
 * table of entry points per CPU tier, and the choice of the tier.
 *
 * Each kernel family is one source (lanes.c.in, columns.c.in, copies.c.in,
 * solve.c.in: Tempita templates that generate its float32, float64 and complex128
 * variants) compiled once per tier with that tier's compiler flags
 * (meson.build); the functions of a tier carry its name as a suffix
 * (lucy_lanes_getrf_d_avx2) and dispatch.c gathers them into its table.
 * The planner (plan.pxd) reads the active table to decide which kernel
 * factors a matrix; a NULL entry means that tier has no such kernel.
 *
 * Storage conventions, shared by all kernels: matrices column-major with a
 * leading dimension in elements; complex128 as interleaved (re, im) doubles
 * with the leading dimension in complex elements; pivots 0-based int32 row
 * swaps; info as LAPACK's.
 */
#ifndef LUCY_KERNELS_H
#define LUCY_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Tiers, in the order dispatch.c prefers them on their architecture. */
enum lucy_tier {
    LUCY_TIER_PORTABLE = 0,     /* the build's baseline ISA, no intrinsics */
    LUCY_TIER_AVX2 = 1,         /* x86-64: AVX2 + FMA */
    LUCY_TIER_AVX512 = 2,       /* x86-64: AVX-512 F/VL/DQ/BW + AVX2 + FMA */
    LUCY_TIER_NEON = 3,         /* aarch64: Advanced SIMD with its FMA */
    LUCY_TIER_COUNT = 4
};

enum {
    LUCY_LANES = 4,             /* matrices per call of the lane kernels */
    LUCY_LANES_MAX_N = 8,       /* their largest n */
    LUCY_COLUMNS_GROUP = 4,     /* most matrices per call of a columns kernel */
    LUCY_COLUMNS_MAX_N = 96,    /* largest m and n of the columns kernels */
    LUCY_PANEL_MAX_COLS = 64    /* widest panel of any tier (scratch size) */
};
#define LUCY_LANES_NONFINITE INT32_MIN

/* count n x n matrices (count a multiple of LUCY_LANES, 2 <= n <=
 * LUCY_LANES_MAX_N), four at a time in SIMD lanes: src[w] + i*rs + j*cs
 * (bytes) is element (i, j) of matrix w, any strides; dst[w] column-major
 * with leading dimension n; piv[w] n pivots; *status[w] LAPACK's info, or
 * LUCY_LANES_NONFINITE when check_finite and the matrix holds inf/NaN. */
typedef void lucy_lanes_getrf_s_t(int n, ptrdiff_t count, const char *const *src, ptrdiff_t rs,
                                  ptrdiff_t cs, float *const *dst, int32_t *const *piv,
                                  int32_t *const *status, int check_finite);
typedef void lucy_lanes_getrf_d_t(int n, ptrdiff_t count, const char *const *src, ptrdiff_t rs,
                                  ptrdiff_t cs, double *const *dst, int32_t *const *piv,
                                  int32_t *const *status, int check_finite);
/* A X = B for count factored systems (a multiple of LUCY_LANES), four at a
 * time: lu[w] (leading dimension lda), piv[w] (checked to lie in [0, n)),
 * x[w] the right-hand sides (ldx), overwritten. nonfinite[g], for each four
 * systems 4g..4g+3: a mask, bit w set where system 4g + w's right-hand
 * sides hold inf/NaN (lu_solve's check_finite looks at b only). */
typedef void lucy_lanes_getrs_s_t(int n, ptrdiff_t count, ptrdiff_t nrhs, const float *const *lu,
                                  ptrdiff_t lda, const int32_t *const *piv, float *const *x,
                                  ptrdiff_t ldx, int *nonfinite);
typedef void lucy_lanes_getrs_d_t(int n, ptrdiff_t count, ptrdiff_t nrhs, const double *const *lu,
                                  ptrdiff_t lda, const int32_t *const *piv, double *const *x,
                                  ptrdiff_t ldx, int *nonfinite);
/* count <= LUCY_COLUMNS_GROUP m x n matrices side by side, in place (a[q],
 * leading dimension lda >= m, m a multiple of the kernel's rows); piv[q]
 * min(m, n) pivots; info[q]; meanwhile ahead_bytes at ahead (what the
 * caller reads next, or NULL) are fetched into cache a slice per step. */
typedef void lucy_columns_getf2_s_t(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                        float *const *a, ptrdiff_t lda, int32_t *const *piv,
                                        int32_t *info, const char *ahead, ptrdiff_t ahead_bytes);
typedef void lucy_columns_getf2_d_t(ptrdiff_t count, ptrdiff_t m, ptrdiff_t n,
                                        double *const *a, ptrdiff_t lda, int32_t *const *piv,
                                        int32_t *info, const char *ahead, ptrdiff_t ahead_bytes);
/* B := L^-1 B for the blocked LU: L the unit lower triangle of the panel's
 * top panel_cols x panel_cols block at l (leading dimension lda), B those
 * rows of nc columns at b (ldb). */
typedef void lucy_columns_trsm_s_t(ptrdiff_t nc, const float *l, ptrdiff_t lda,
                                       float *b, ptrdiff_t ldb);
typedef void lucy_columns_trsm_d_t(ptrdiff_t nc, const double *l, ptrdiff_t lda,
                                       double *b, ptrdiff_t ldb);
/* A row-major m x n matrix (rows src + i*rs bytes, contiguous) into
 * column-major dst (ldd), m and n multiples of 4 (complex128: of 2);
 * returns whether every element is finite. */
typedef int lucy_load_transposed_s_t(const char *src, ptrdiff_t rs, ptrdiff_t m,
                                         ptrdiff_t n, float *dst, ptrdiff_t ldd);
typedef int lucy_load_transposed_d_t(const char *src, ptrdiff_t rs, ptrdiff_t m,
                                         ptrdiff_t n, double *dst, ptrdiff_t ldd);
/* cols columns of col_bytes at src (contiguous) to dst, ldd_bytes apart, by
 * streaming stores where dst allows; lucy_stream_fence before the data is
 * read elsewhere. */
typedef void lucy_stream_columns_t(char *dst, ptrdiff_t ldd_bytes, const char *src,
                                       ptrdiff_t col_bytes, ptrdiff_t cols);
typedef void lucy_stream_fence_t(void);

/* lu_solve's substitutions (solve.c.in), for one system: lu column-major
 * (lda), piv 0-based row swaps in [0, n), x the right-hand sides (ldx),
 * overwritten; complex types as (re, im) pairs of the real type, lda and
 * ldx in complex elements. getrs solves op(A) X = B (trans 0: A, 1: A^T,
 * 2: A^H); getrs2 (real types only, else NULL) A x = b for two systems of
 * one right-hand side side by side, lu0 and lu1 sharing lda, with getrs's
 * bits. */
#define LUCY_SOLVE_TYPES(R, r)                                                               \
    typedef void lucy_getrs_##r##_t(int trans, ptrdiff_t n, ptrdiff_t nrhs, const R *lu,     \
                                    ptrdiff_t lda, const int32_t *piv, R *x, ptrdiff_t ldx);  \
    typedef void lucy_getrs2_##r##_t(ptrdiff_t n, const R *lu0, const R *lu1, ptrdiff_t lda, \
                                     const int32_t *piv0, const int32_t *piv1, R *x0, R *x1);\
    typedef struct {                                                                         \
        lucy_getrs_##r##_t *getrs;                                                           \
        lucy_getrs2_##r##_t *getrs2;                                                         \
    } lucy_solve_##r;
LUCY_SOLVE_TYPES(float, f)
LUCY_SOLVE_TYPES(double, d)
#undef LUCY_SOLVE_TYPES

typedef struct lucy_kernels lucy_kernels;
struct lucy_kernels {
    int tier;
    const char *name;
    /* Lane kernels (float32, float64, complex128), used for square
     * matrices up to the max_n of the dtype (0: not at all). */
    lucy_lanes_getrf_s_t *lanes_getrf_s;
    lucy_lanes_getrf_d_t *lanes_getrf_d, *lanes_getrf_z;
    lucy_lanes_getrs_s_t *lanes_getrs_s;
    lucy_lanes_getrs_d_t *lanes_getrs_d, *lanes_getrs_z;
    int lanes_getrf_max_n_s, lanes_getrf_max_n_d, lanes_getrf_max_n_z;
    int lanes_getrs_max_n_s, lanes_getrs_max_n_d, lanes_getrs_max_n_z;
    /* Columns kernels: m a multiple of columns_rows_* (the rows a register
     * holds), from columns_min_m_* to columns_max_n_*, n up to
     * columns_max_n_*; real matrices with min(m, n) above that take the
     * blocked LU on panels of panel_cols_* columns (0: none). Where this
     * tier's kernels do not take a shape, those of `narrower` (a tier every
     * CPU that runs this one runs too) may. */
    ptrdiff_t columns_rows_s, columns_rows_d, columns_rows_z;
    ptrdiff_t columns_min_m_s, columns_min_m_d, columns_min_m_z;
    ptrdiff_t columns_max_n_s, columns_max_n_d, columns_max_n_z;
    lucy_columns_getf2_s_t *columns_getf2_s;
    lucy_columns_getf2_d_t *columns_getf2_d, *columns_getf2_z;
    ptrdiff_t panel_cols_s, panel_cols_d;
    lucy_columns_trsm_s_t *columns_trsm_s;
    lucy_columns_trsm_d_t *columns_trsm_d;
    const lucy_kernels *narrower;
    /* Transposing and streaming copies. */
    lucy_load_transposed_s_t *load_transposed_s;
    lucy_load_transposed_d_t *load_transposed_d, *load_transposed_z;
    lucy_stream_columns_t *stream_columns;
    lucy_load_transposed_d_t *stream_load_transposed_d;
    lucy_stream_fence_t *stream_fence;
    /* lu_solve's substitutions (all NULL where the tier lacks them), for
     * systems of at least solve_min_n_* rows (below, `narrower`'s). */
    lucy_solve_f solve_s, solve_c;
    lucy_solve_d solve_d, solve_z;
    ptrdiff_t solve_min_n_s, solve_min_n_d;
};

/* Each tier's table (table.c), where that tier was built. */
extern const lucy_kernels lucy_kernels_portable, lucy_kernels_avx2, lucy_kernels_avx512,
    lucy_kernels_neon;

/* The table of a tier, NULL if this build has none (dispatch.c). */
const lucy_kernels *lucy_kernels_of(int tier);
/* Bit t set: tier t was compiled in / this CPU can run it. */
int lucy_tiers_built(void);
int lucy_tiers_supported(void);
/* lucy's choice among the tiers of a bit set (portable if none). */
int lucy_tier_best(int tiers);
const char *lucy_tier_name(int tier);

/* The table the kernels run with: each module that links the kernels has
 * its own, set at its import (plan.pxd, select_kernels) by
 * lucy_kernels_use, which returns it (NULL, and no change, for a tier this
 * build lacks). */
extern const lucy_kernels *lucy_active;
const lucy_kernels *lucy_kernels_use(int tier);

#endif  /* LUCY_KERNELS_H */
