/*
 * What a kernel source needs from the tier it is compiled for (meson.build
 * compiles every kernel source once per tier): the tier's name suffix, its
 * register width, GCC/Clang vector types of that width and of the lane
 * kernels' fixed four lanes, and the few operations that plain vector code
 * cannot express, each with an intrinsic where the tier has one and portable
 * code otherwise.
 *
 * Set by meson.build per tier: LUCY_TIER (the suffix: portable, avx2,
 * avx512, neon), LUCY_VBYTES (the columns kernels' register, 16, 32 or 64
 * bytes) and the ISA flags (-mavx2 -mfma ...), whose predefined macros
 * (__AVX2__, __AVX512F__, __ARM_NEON, __FMA__) select the intrinsics.
 */
#ifndef LUCY_SIMD_H
#define LUCY_SIMD_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#if !defined(LUCY_TIER) || !defined(LUCY_VBYTES)
#error "lucy/_kernels/meson.build compiles the kernels: it sets LUCY_TIER and LUCY_VBYTES"
#endif

#define LUCY_JOIN_(a, b) a##_##b
#define LUCY_JOIN(a, b) LUCY_JOIN_(a, b)
/* lucy_columns_getf2_d -> lucy_columns_getf2_d_avx2 */
#define LUCY_TIERED(name) LUCY_JOIN(name, LUCY_TIER)

#define LUCY_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

/* Fused multiply-add in hardware: complex128's columns kernel uses it
 * (see columns.c.in); tiers without it round every product. The portable
 * tier never fuses, also where the baseline has it (aarch64): so it gives
 * the same bits on every architecture. */
#if !defined(LUCY_TIER_IS_portable) && (defined(__FMA__) || defined(__ARM_FEATURE_FMA))
#define LUCY_HAVE_FMA 1
#else
#define LUCY_HAVE_FMA 0
#endif

/* ---- The lane kernels' registers: four matrices, one per lane. ---- */

typedef double lucy_d4 __attribute__((vector_size(32)));
typedef double lucy_d4_u __attribute__((vector_size(32), aligned(8)));
typedef int64_t lucy_d4_m __attribute__((vector_size(32)));
typedef uint64_t lucy_d4_b __attribute__((vector_size(32)));
typedef float lucy_s4 __attribute__((vector_size(16)));
typedef float lucy_s4_u __attribute__((vector_size(16), aligned(4)));
typedef int32_t lucy_s4_m __attribute__((vector_size(16)));
typedef uint32_t lucy_s4_b __attribute__((vector_size(16)));
/* one complex128 element */
typedef double lucy_d2 __attribute__((vector_size(16)));
typedef double lucy_d2_u __attribute__((vector_size(16), aligned(8)));

/* The first `count` (1 to 3) elements at p, zeros after them, without
 * reading past them (a batch's last matrix may end there). */
LUCY_INLINE lucy_d4 lucy_load_part_d4(const double *p, int count)
{
#if defined(__AVX2__)
    const lucy_d4_m lane = {0, 1, 2, 3};
    return (lucy_d4)_mm256_maskload_pd(p, (__m256i)(lane < count));
#else
    lucy_d4 v = {0};
    memcpy(&v, p, (size_t)count * sizeof(double));
    return v;
#endif
}

LUCY_INLINE lucy_s4 lucy_load_part_s4(const float *p, int count)
{
#if defined(__AVX2__)
    const lucy_s4_m lane = {0, 1, 2, 3};
    return (lucy_s4)_mm_maskload_ps(p, (__m128i)(lane < count));
#else
    lucy_s4 v = {0};
    memcpy(&v, p, (size_t)count * sizeof(float));
    return v;
#endif
}

/* Two 16-byte halves into one register (vinsertf128 from memory on AVX:
 * built from four 8-byte loads instead, GCC's code for a vector
 * initialiser, the complex lane kernels were slower; bench/kernels.md). */
LUCY_INLINE lucy_d4 lucy_load_halves_d4(const double *lo, const double *hi)
{
#if defined(__AVX__)
    return (lucy_d4)_mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(lo)),
                                         _mm_loadu_pd(hi), 1);
#else
    const lucy_d2 a = *(const lucy_d2_u *)lo, b = *(const lucy_d2_u *)hi;
    return __builtin_shufflevector(a, b, 0, 1, 2, 3);
#endif
}

/* ---- The columns kernels' registers: LUCY_VBYTES wide. ---- */

#define LUCY_WIDTH_D (LUCY_VBYTES / 8)
/* Registers of columns per panel of the blocked LU (columns.c.in's trsm). */
#if !defined(LUCY_PANEL_REGS)
#define LUCY_PANEL_REGS 4
#endif
#define LUCY_WIDTH_S (LUCY_VBYTES / 4)
typedef double lucy_vd __attribute__((vector_size(LUCY_VBYTES)));
typedef double lucy_vd_u __attribute__((vector_size(LUCY_VBYTES), aligned(8)));
typedef int64_t lucy_vd_m __attribute__((vector_size(LUCY_VBYTES)));
typedef float lucy_vs __attribute__((vector_size(LUCY_VBYTES)));
typedef float lucy_vs_u __attribute__((vector_size(LUCY_VBYTES), aligned(4)));
typedef int32_t lucy_vs_m __attribute__((vector_size(LUCY_VBYTES)));

/* Lane w of the result is lane w ^ half of v (half a power of two below
 * the width): the steps of the reductions over a register's lanes. */
LUCY_INLINE lucy_vd_m lucy_xor_lanes_vd(lucy_vd_m v, int half)
{
#if LUCY_WIDTH_D == 2
    (void)half;
    return __builtin_shufflevector(v, v, 1, 0);
#elif LUCY_WIDTH_D == 4
    return half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2);
#else
    return half == 4 ? __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3)
         : half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
#endif
}

LUCY_INLINE lucy_vs_m lucy_xor_lanes_vs(lucy_vs_m v, int half)
{
#if LUCY_WIDTH_S == 4
    return half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2);
#elif LUCY_WIDTH_S == 8
    return half == 4 ? __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3)
         : half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
#else
    return half == 8 ? __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15,
                                               0, 1, 2, 3, 4, 5, 6, 7)
         : half == 4 ? __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3,
                                               12, 13, 14, 15, 8, 9, 10, 11)
         : half == 2 ? __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5,
                                               10, 11, 8, 9, 14, 15, 12, 13)
                     : __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6,
                                               9, 8, 11, 10, 13, 12, 15, 14);
#endif
}

/* (re, im) pairs swapped: the other half of a complex product. */
LUCY_INLINE lucy_vd lucy_swap_pairs_vd(lucy_vd v)
{
#if LUCY_WIDTH_D == 2
    return __builtin_shufflevector(v, v, 1, 0);
#elif LUCY_WIDTH_D == 4
    return __builtin_shufflevector(v, v, 1, 0, 3, 2);
#else
    return __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
#endif
}

LUCY_INLINE lucy_vs lucy_swap_pairs_vs(lucy_vs v)
{
#if LUCY_WIDTH_S == 4
    return __builtin_shufflevector(v, v, 1, 0, 3, 2);
#elif LUCY_WIDTH_S == 8
    return __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
#else
    return __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
#endif
}

/* Lane `lane` of a register in every lane, the lane known only at run time:
 * a selector made once (lucy_select_*), applied to many registers
 * (lucy_broadcast_*). x86 permutes by an index register (vpermd / vpermps /
 * vpermpd); 16-byte registers switch over fixed shuffles. (Picking the
 * lane out as y[lane] went through memory, which made the columns
 * kernel's two-step update slower: bench/kernels.md.) */
#if defined(__AVX512F__) && LUCY_VBYTES == 64
typedef __m512i lucy_sel_vd;
typedef __m512i lucy_sel_vs;
LUCY_INLINE lucy_sel_vd lucy_select_vd(ptrdiff_t lane) { return _mm512_set1_epi64(lane); }
LUCY_INLINE lucy_vd lucy_broadcast_vd(lucy_vd v, lucy_sel_vd s)
{
    return (lucy_vd)_mm512_permutexvar_pd(s, (__m512d)v);
}
LUCY_INLINE lucy_sel_vs lucy_select_vs(ptrdiff_t lane) { return _mm512_set1_epi32((int)lane); }
LUCY_INLINE lucy_vs lucy_broadcast_vs(lucy_vs v, lucy_sel_vs s)
{
    return (lucy_vs)_mm512_permutexvar_ps(s, (__m512)v);
}
#elif defined(__AVX2__) && LUCY_VBYTES == 32
typedef __m256i lucy_sel_vd;
typedef __m256i lucy_sel_vs;
LUCY_INLINE lucy_sel_vd lucy_select_vd(ptrdiff_t lane)
{
    return _mm256_set1_epi64x((int64_t)(2 * lane + 1) << 32 | (2 * lane));
}
LUCY_INLINE lucy_vd lucy_broadcast_vd(lucy_vd v, lucy_sel_vd s)
{
    return (lucy_vd)_mm256_permutevar8x32_epi32((__m256i)v, s);
}
LUCY_INLINE lucy_sel_vs lucy_select_vs(ptrdiff_t lane) { return _mm256_set1_epi32((int)lane); }
LUCY_INLINE lucy_vs lucy_broadcast_vs(lucy_vs v, lucy_sel_vs s)
{
    return (lucy_vs)_mm256_permutevar8x32_ps((__m256)v, s);
}
#elif LUCY_VBYTES == 16
typedef int lucy_sel_vd;
typedef int lucy_sel_vs;
LUCY_INLINE lucy_sel_vd lucy_select_vd(ptrdiff_t lane) { return (int)lane; }
LUCY_INLINE lucy_vd lucy_broadcast_vd(lucy_vd v, lucy_sel_vd s)
{
    return s ? __builtin_shufflevector(v, v, 1, 1) : __builtin_shufflevector(v, v, 0, 0);
}
LUCY_INLINE lucy_sel_vs lucy_select_vs(ptrdiff_t lane) { return (int)lane; }
LUCY_INLINE lucy_vs lucy_broadcast_vs(lucy_vs v, lucy_sel_vs s)
{
    switch (s) {
    case 0: return __builtin_shufflevector(v, v, 0, 0, 0, 0);
    case 1: return __builtin_shufflevector(v, v, 1, 1, 1, 1);
    case 2: return __builtin_shufflevector(v, v, 2, 2, 2, 2);
    default: return __builtin_shufflevector(v, v, 3, 3, 3, 3);
    }
}
#else
#error "no lane broadcast for this register width and ISA"
#endif

/* c - a * b and a * b + c in one rounding, where LUCY_HAVE_FMA. */
LUCY_INLINE lucy_vd lucy_fnmadd_vd(lucy_vd a, lucy_vd b, lucy_vd c)
{
#if defined(__AVX512F__) && LUCY_VBYTES == 64
    return (lucy_vd)_mm512_fnmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(__FMA__) && LUCY_VBYTES == 32
    return (lucy_vd)_mm256_fnmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#elif LUCY_HAVE_FMA && defined(__aarch64__) && LUCY_VBYTES == 16
    return (lucy_vd)vfmsq_f64((float64x2_t)c, (float64x2_t)a, (float64x2_t)b);
#else
    return c - a * b;
#endif
}

LUCY_INLINE lucy_vd lucy_fmadd_vd(lucy_vd a, lucy_vd b, lucy_vd c)
{
#if defined(__AVX512F__) && LUCY_VBYTES == 64
    return (lucy_vd)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(__FMA__) && LUCY_VBYTES == 32
    return (lucy_vd)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#elif LUCY_HAVE_FMA && defined(__aarch64__) && LUCY_VBYTES == 16
    return (lucy_vd)vfmaq_f64((float64x2_t)c, (float64x2_t)a, (float64x2_t)b);
#else
    return a * b + c;
#endif
}

/* Transposes in registers of LUCY_VBYTES = 64 (the avx512 tier's copies):
 * 8 x 8 doubles, and 4 x 4 complex128 elements (pairs of lanes). out[k] is
 * column k of the block whose rows are in[]. */
#if LUCY_VBYTES == 64
LUCY_INLINE void lucy_transpose8_vd(const lucy_vd in[8], lucy_vd out[8])
{
    lucy_vd t[8], u[8];
    for (int p = 0; p < 8; p += 2) {     /* 1 x 1 blocks of row pairs */
        t[p] = __builtin_shufflevector(in[p], in[p + 1], 0, 8, 2, 10, 4, 12, 6, 14);
        t[p + 1] = __builtin_shufflevector(in[p], in[p + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    }
    for (int p = 0; p < 8; p += 4)       /* 2 x 2 blocks */
        for (int q = 0; q < 2; q++) {
            u[p + q] = __builtin_shufflevector(t[p + q], t[p + q + 2],
                                               0, 1, 8, 9, 4, 5, 12, 13);
            u[p + q + 2] = __builtin_shufflevector(t[p + q], t[p + q + 2],
                                                   2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int c = 0; c < 4; c++) {        /* 4 x 4 blocks */
        out[c] = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        out[c + 4] = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

LUCY_INLINE void lucy_transpose4_pairs_vd(const lucy_vd in[4], lucy_vd out[4])
{
    lucy_vd t[4];
    for (int p = 0; p < 4; p += 2) {
        t[p] = __builtin_shufflevector(in[p], in[p + 1], 0, 1, 8, 9, 4, 5, 12, 13);
        t[p + 1] = __builtin_shufflevector(in[p], in[p + 1], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int c = 0; c < 2; c++) {
        out[c] = __builtin_shufflevector(t[c], t[c + 2], 0, 1, 2, 3, 8, 9, 10, 11);
        out[c + 2] = __builtin_shufflevector(t[c], t[c + 2], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}
#endif

/* ---- Finite checks on registers ---- */

/* An element is inf or NaN when its exponent bits are all ones; adding one
 * unit of the exponent then carries into the sign bit (all_finite of
 * matrix.pxd makes the same test). Unsigned, so that the carry into the top
 * bit is defined arithmetic. */
LUCY_INLINE lucy_d4_b lucy_nonfinite_d4(lucy_d4_b seen, lucy_d4 v)
{
    return seen | (((lucy_d4_b)v & 0x7FF0000000000000ULL) + 0x0010000000000000ULL);
}

LUCY_INLINE int lucy_all_finite_d4(lucy_d4_b seen)
{
    return ((seen[0] | seen[1] | seen[2] | seen[3]) & 0x8000000000000000ULL) == 0;
}

LUCY_INLINE lucy_s4_b lucy_nonfinite_s4(lucy_s4_b seen, lucy_s4 v)
{
    return seen | (((lucy_s4_b)v & 0x7F800000U) + 0x00800000U);
}

LUCY_INLINE int lucy_all_finite_s4(lucy_s4_b seen)
{
    return ((seen[0] | seen[1] | seen[2] | seen[3]) & 0x80000000U) == 0;
}

typedef uint64_t lucy_vd_b __attribute__((vector_size(LUCY_VBYTES)));

LUCY_INLINE lucy_vd_b lucy_nonfinite_vd(lucy_vd_b seen, lucy_vd v)
{
    return seen | (((lucy_vd_b)v & 0x7FF0000000000000ULL) + 0x0010000000000000ULL);
}

LUCY_INLINE int lucy_all_finite_vd(lucy_vd_b seen)
{
    uint64_t any = 0;
    for (int w = 0; w < LUCY_WIDTH_D; w++)
        any |= seen[w];
    return (any & 0x8000000000000000ULL) == 0;
}

#endif  /* LUCY_SIMD_H */
