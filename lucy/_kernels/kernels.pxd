# The SIMD kernels' tables and tiers (kernels.h, dispatch.c): what the
# Cython layer calls. Each entry of a table may be NULL: that tier has no
# such kernel, and the planner (plan.pxd) does not choose it.
from libc.stdint cimport int32_t

# The entry points' types (kernels.h has their contracts).
ctypedef void (*lanes_getrf_s_fn)(
    int n, Py_ssize_t count, const char** src, Py_ssize_t rs, Py_ssize_t cs, float** dst,
    int32_t** piv, int32_t** status, bint check_finite) noexcept nogil
ctypedef void (*lanes_getrf_d_fn)(
    int n, Py_ssize_t count, const char** src, Py_ssize_t rs, Py_ssize_t cs, double** dst,
    int32_t** piv, int32_t** status, bint check_finite) noexcept nogil
ctypedef void (*lanes_getrs_s_fn)(
    int n, Py_ssize_t count, Py_ssize_t nrhs, const float** lu, Py_ssize_t lda,
    const int32_t** piv, float** x, Py_ssize_t ldx, int* nonfinite) noexcept nogil
ctypedef void (*lanes_getrs_d_fn)(
    int n, Py_ssize_t count, Py_ssize_t nrhs, const double** lu, Py_ssize_t lda,
    const int32_t** piv, double** x, Py_ssize_t ldx, int* nonfinite) noexcept nogil
ctypedef void (*columns_getf2_s_fn)(
    Py_ssize_t count, Py_ssize_t m, Py_ssize_t n, float** a, Py_ssize_t lda,
    int32_t** piv, int32_t* info, const char* ahead, Py_ssize_t ahead_bytes) noexcept nogil
ctypedef void (*columns_getf2_d_fn)(
    Py_ssize_t count, Py_ssize_t m, Py_ssize_t n, double** a, Py_ssize_t lda,
    int32_t** piv, int32_t* info, const char* ahead, Py_ssize_t ahead_bytes) noexcept nogil
ctypedef void (*columns_trsm_s_fn)(
    Py_ssize_t nc, const float* l, Py_ssize_t lda, float* b, Py_ssize_t ldb) noexcept nogil
ctypedef void (*columns_trsm_d_fn)(
    Py_ssize_t nc, const double* l, Py_ssize_t lda, double* b, Py_ssize_t ldb) noexcept nogil
ctypedef bint (*load_transposed_s_fn)(
    const char* src, Py_ssize_t rs, Py_ssize_t m, Py_ssize_t n, float* dst, Py_ssize_t ldd) noexcept nogil
ctypedef bint (*load_transposed_d_fn)(
    const char* src, Py_ssize_t rs, Py_ssize_t m, Py_ssize_t n, double* dst, Py_ssize_t ldd) noexcept nogil
ctypedef void (*stream_columns_fn)(
    char* dst, Py_ssize_t ldd_bytes, const char* src, Py_ssize_t col_bytes, Py_ssize_t cols) noexcept nogil
ctypedef void (*stream_fence_fn)() noexcept nogil
ctypedef void (*getrs_f_fn)(
    int trans, Py_ssize_t n, Py_ssize_t nrhs, const float* lu, Py_ssize_t lda,
    const int32_t* piv, float* x, Py_ssize_t ldx) noexcept nogil
ctypedef void (*getrs_d_fn)(
    int trans, Py_ssize_t n, Py_ssize_t nrhs, const double* lu, Py_ssize_t lda,
    const int32_t* piv, double* x, Py_ssize_t ldx) noexcept nogil
ctypedef void (*getrs2_f_fn)(
    Py_ssize_t n, const float* lu0, const float* lu1, Py_ssize_t lda, const int32_t* piv0,
    const int32_t* piv1, float* x0, float* x1) noexcept nogil
ctypedef void (*getrs2_d_fn)(
    Py_ssize_t n, const double* lu0, const double* lu1, Py_ssize_t lda, const int32_t* piv0,
    const int32_t* piv1, double* x0, double* x1) noexcept nogil


cdef extern from "kernels.h" nogil:
    enum:
        LUCY_TIER_PORTABLE
        LUCY_TIER_AVX2
        LUCY_TIER_AVX512
        LUCY_TIER_NEON
        LUCY_TIER_COUNT
        LUCY_LANES
        LUCY_LANES_MAX_N
        LUCY_COLUMNS_GROUP
        LUCY_PANEL_MAX_COLS
        LUCY_COLUMNS_MAX_N
    const int32_t LUCY_LANES_NONFINITE

    ctypedef struct lucy_solve_f:
        getrs_f_fn getrs
        getrs2_f_fn getrs2
    ctypedef struct lucy_solve_d:
        getrs_d_fn getrs
        getrs2_d_fn getrs2

    ctypedef struct lucy_kernels:
        int tier
        const char* name
        lanes_getrf_s_fn lanes_getrf_s
        lanes_getrf_d_fn lanes_getrf_d
        lanes_getrf_d_fn lanes_getrf_z
        lanes_getrs_s_fn lanes_getrs_s
        lanes_getrs_d_fn lanes_getrs_d
        lanes_getrs_d_fn lanes_getrs_z
        int lanes_getrf_max_n_s
        int lanes_getrf_max_n_d
        int lanes_getrf_max_n_z
        int lanes_getrs_max_n_s
        int lanes_getrs_max_n_d
        int lanes_getrs_max_n_z
        Py_ssize_t columns_rows_s
        Py_ssize_t columns_rows_d
        Py_ssize_t columns_rows_z
        Py_ssize_t columns_min_m_s
        Py_ssize_t columns_min_m_d
        Py_ssize_t columns_min_m_z
        Py_ssize_t columns_max_n_s
        Py_ssize_t columns_max_n_d
        Py_ssize_t columns_max_n_z
        columns_getf2_s_fn columns_getf2_s
        columns_getf2_d_fn columns_getf2_d
        columns_getf2_d_fn columns_getf2_z
        Py_ssize_t panel_cols_s
        Py_ssize_t panel_cols_d
        columns_trsm_s_fn columns_trsm_s
        columns_trsm_d_fn columns_trsm_d
        const lucy_kernels* narrower
        load_transposed_s_fn load_transposed_s
        load_transposed_d_fn load_transposed_d
        load_transposed_d_fn load_transposed_z
        stream_columns_fn stream_columns
        load_transposed_d_fn stream_load_transposed_d
        stream_fence_fn stream_fence
        lucy_solve_f solve_s
        lucy_solve_f solve_c
        lucy_solve_d solve_d
        lucy_solve_d solve_z
        Py_ssize_t solve_min_n_s
        Py_ssize_t solve_min_n_d

    const lucy_kernels* lucy_kernels_of(int tier)
    int lucy_tiers_built()
    int lucy_tiers_supported()
    int lucy_tier_best(int tiers)
    const char* lucy_tier_name(int tier)
    const lucy_kernels* lucy_active
    const lucy_kernels* lucy_kernels_use(int tier)
