/*
 * One tier's table of kernels (kernels.h), compiled with that tier's flags
 * like the kernel sources, so that its widths come from the same simd.h:
 * which kernel families the tier has, and the shapes they take.
 * meson.build sets LUCY_TIER_ID and LUCY_TIER_IS_<tier>, and LUCY_BUILT_<tier>
 * for every tier of the build.
 */
#include "simd.h"

/* The lane kernels hold four matrices in 32-byte registers on every tier
 * from avx2 up; compiled for avx512 they were slower (bench/kernels.md), so
 * that tier takes avx2's. */
#if defined(LUCY_TIER_IS_avx512)
#define LUCY_LANES_TIER avx2
#else
#define LUCY_LANES_TIER LUCY_TIER
#endif
#define LUCY_LANES_FN(name) LUCY_JOIN(name, LUCY_LANES_TIER)

lucy_lanes_getrf_s_t LUCY_LANES_FN(lucy_lanes_getrf_s);
lucy_lanes_getrf_d_t LUCY_LANES_FN(lucy_lanes_getrf_d);
lucy_lanes_getrf_d_t LUCY_LANES_FN(lucy_lanes_getrf_z);
lucy_lanes_getrs_s_t LUCY_LANES_FN(lucy_lanes_getrs_s);
lucy_lanes_getrs_d_t LUCY_LANES_FN(lucy_lanes_getrs_d);
lucy_lanes_getrs_d_t LUCY_LANES_FN(lucy_lanes_getrs_z);
lucy_columns_getf2_s_t LUCY_TIERED(lucy_columns_getf2_s);
lucy_columns_getf2_d_t LUCY_TIERED(lucy_columns_getf2_d);
lucy_columns_getf2_d_t LUCY_TIERED(lucy_columns_getf2_z);
lucy_columns_trsm_s_t LUCY_TIERED(lucy_columns_trsm_s);
lucy_columns_trsm_d_t LUCY_TIERED(lucy_columns_trsm_d);
lucy_load_transposed_s_t LUCY_TIERED(lucy_load_transposed_s);
lucy_load_transposed_d_t LUCY_TIERED(lucy_load_transposed_d);
lucy_load_transposed_d_t LUCY_TIERED(lucy_load_transposed_z);
#define LUCY_SOLVE_DECLARE(R, r, p)                                                          \
    lucy_getrs_##r##_t LUCY_TIERED(lucy_getrs_##p);
LUCY_SOLVE_DECLARE(float, f, s)
LUCY_SOLVE_DECLARE(double, d, d)
LUCY_SOLVE_DECLARE(float, f, c)
LUCY_SOLVE_DECLARE(double, d, z)
lucy_getrs2_f_t LUCY_TIERED(lucy_getrs2_s);
lucy_getrs2_d_t LUCY_TIERED(lucy_getrs2_d);
#define LUCY_SOLVE_TABLE(p, two)                                                             \
    {LUCY_TIERED(lucy_getrs_##p), two}
#if defined(__AVX__)
lucy_stream_columns_t LUCY_TIERED(lucy_stream_columns);
lucy_load_transposed_d_t LUCY_TIERED(lucy_stream_load_transposed_d);
lucy_stream_fence_t LUCY_TIERED(lucy_stream_fence);
#endif

/* The largest n each lane kernel takes (bench/kernels.md). With 16-byte
 * registers, which hold all four lanes of float32 but split float64's and
 * complex128's, the float64 LU lanes lost to the columns and scalar
 * kernels from n = 5 on, the complex128 ones from n = 3, and the complex128
 * solve at every n (x86-64's SSE2 baseline, measured; NEON has registers of
 * the same width and takes the same limits). */
#if LUCY_VBYTES == 16
enum { GETRF_MAX_N_D = 4, GETRF_MAX_N_Z = 2, GETRS_MAX_N_Z = 0 };
#else
enum { GETRF_MAX_N_D = 8, GETRF_MAX_N_Z = 8, GETRS_MAX_N_Z = 8 };
#endif

/* The largest sides the columns kernels take, and the panels of the
 * blocked LU (bench/kernels.md): with 16-byte registers the columns kernels
 * beat the scalar kernel and LAPACK up to 64 (float32), 48 (float64) and 40
 * (complex128), and the blocked LU on their 8-column panels did no better
 * than LAPACK's getrf. */
#if LUCY_VBYTES == 16
enum { COLUMNS_MAX_N_S = 64, COLUMNS_MAX_N_D = 48, COLUMNS_MAX_N_Z = 40 };
#else
enum { COLUMNS_MAX_N_S = LUCY_COLUMNS_MAX_N, COLUMNS_MAX_N_D = LUCY_COLUMNS_MAX_N,
       COLUMNS_MAX_N_Z = LUCY_COLUMNS_MAX_N };
#endif

/* With 64-byte registers the columns kernels won over the 32-byte ones
 * (the narrower tier's, avx2) only from these many rows on: fewer rows are
 * fewer registers a column, and the steps' fixed costs (the search's
 * reduction over twice the lanes) weigh more (bench/kernels.md). The
 * float32 panels of 64 columns were slower too; float32 takes avx2's. */
#if LUCY_VBYTES == 64
enum { COLUMNS_MIN_M_S = 96, COLUMNS_MIN_M_D = 40, COLUMNS_MIN_M_Z = 24,
       PANEL_REGS_S = 0, PANEL_REGS_D = LUCY_PANEL_REGS };
#elif LUCY_VBYTES == 16
enum { COLUMNS_MIN_M_S = 0, COLUMNS_MIN_M_D = 0, COLUMNS_MIN_M_Z = 0,
       PANEL_REGS_S = 0, PANEL_REGS_D = 0 };
#else
enum { COLUMNS_MIN_M_S = 0, COLUMNS_MIN_M_D = 0, COLUMNS_MIN_M_Z = 0,
       PANEL_REGS_S = LUCY_PANEL_REGS, PANEL_REGS_D = LUCY_PANEL_REGS };
#endif

/* With 64-byte registers the substitutions of small real systems were
 * slower than avx2's 32-byte ones (their chain of dependent steps goes
 * through lane broadcasts, slower across 64 bytes): float64 below 32 rows
 * (0.80x at 16, 1.04x at 32, 1.31x at 64), float32 up to 64 (0.81x to
 * 0.94x), where avx2's take them (bench/kernels.md). */
#if LUCY_VBYTES == 64
enum { SOLVE_MIN_N_S = 65, SOLVE_MIN_N_D = 32 };
#else
enum { SOLVE_MIN_N_S = 0, SOLVE_MIN_N_D = 0 };
#endif

#define LUCY_STRING_(x) #x
#define LUCY_STRING(x) LUCY_STRING_(x)

const lucy_kernels LUCY_TIERED(lucy_kernels) = {
    .tier = LUCY_TIER_ID,
    .name = LUCY_STRING(LUCY_TIER),
    .lanes_getrf_s = LUCY_LANES_FN(lucy_lanes_getrf_s),
    .lanes_getrf_d = LUCY_LANES_FN(lucy_lanes_getrf_d),
    .lanes_getrf_z = LUCY_LANES_FN(lucy_lanes_getrf_z),
    .lanes_getrs_s = LUCY_LANES_FN(lucy_lanes_getrs_s),
    .lanes_getrs_d = LUCY_LANES_FN(lucy_lanes_getrs_d),
    .lanes_getrs_z = LUCY_LANES_FN(lucy_lanes_getrs_z),
    .lanes_getrf_max_n_s = LUCY_LANES_MAX_N,
    .lanes_getrf_max_n_d = GETRF_MAX_N_D,
    .lanes_getrf_max_n_z = GETRF_MAX_N_Z,
    .lanes_getrs_max_n_s = LUCY_LANES_MAX_N,
    .lanes_getrs_max_n_d = LUCY_LANES_MAX_N,
    .lanes_getrs_max_n_z = GETRS_MAX_N_Z,
    .columns_rows_s = LUCY_WIDTH_S,
    .columns_rows_d = LUCY_WIDTH_D,
    .columns_rows_z = LUCY_WIDTH_D / 2,
    .columns_min_m_s = COLUMNS_MIN_M_S,
    .columns_min_m_d = COLUMNS_MIN_M_D,
    .columns_min_m_z = COLUMNS_MIN_M_Z,
    .columns_max_n_s = COLUMNS_MAX_N_S,
    .columns_max_n_d = COLUMNS_MAX_N_D,
    .columns_max_n_z = COLUMNS_MAX_N_Z,
    .columns_getf2_s = LUCY_TIERED(lucy_columns_getf2_s),
    .columns_getf2_d = LUCY_TIERED(lucy_columns_getf2_d),
    .columns_getf2_z = LUCY_TIERED(lucy_columns_getf2_z),
    .panel_cols_s = PANEL_REGS_S * LUCY_WIDTH_S,
    .panel_cols_d = PANEL_REGS_D * LUCY_WIDTH_D,
    .columns_trsm_s = LUCY_TIERED(lucy_columns_trsm_s),
    .columns_trsm_d = LUCY_TIERED(lucy_columns_trsm_d),
#if defined(LUCY_TIER_IS_avx512) && defined(LUCY_BUILT_avx2)
    .narrower = &lucy_kernels_avx2,
#endif
    .load_transposed_s = LUCY_TIERED(lucy_load_transposed_s),
    .load_transposed_d = LUCY_TIERED(lucy_load_transposed_d),
    .load_transposed_z = LUCY_TIERED(lucy_load_transposed_z),
#if defined(__AVX__)
    .stream_columns = LUCY_TIERED(lucy_stream_columns),
    .stream_load_transposed_d = LUCY_TIERED(lucy_stream_load_transposed_d),
    .stream_fence = LUCY_TIERED(lucy_stream_fence),
#endif
    .solve_min_n_s = SOLVE_MIN_N_S,
    .solve_min_n_d = SOLVE_MIN_N_D,
    .solve_s = LUCY_SOLVE_TABLE(s, LUCY_TIERED(lucy_getrs2_s)),
    .solve_d = LUCY_SOLVE_TABLE(d, LUCY_TIERED(lucy_getrs2_d)),
    .solve_c = LUCY_SOLVE_TABLE(c, NULL),
    .solve_z = LUCY_SOLVE_TABLE(z, NULL),
};
