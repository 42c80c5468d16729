/*
 * Which tiers this build has and this CPU runs, the best of them, and each
 * tier's table (kernels.h). Compiled for the baseline, once; meson.build
 * sets LUCY_BUILT_<tier> for every tier compiled in.
 */
#include <stddef.h>

#include "kernels.h"

const lucy_kernels *lucy_active;

/* A build without vector kernels (a compiler that lacks the vector
 * extensions, see meson.build) still has the portable tier: scalar
 * kernels and LAPACK, an empty table. */
#if !defined(LUCY_BUILT_portable)
const lucy_kernels lucy_kernels_portable = {.tier = LUCY_TIER_PORTABLE, .name = "portable"};
#endif

const lucy_kernels *lucy_kernels_of(int tier)
{
    switch (tier) {
    case LUCY_TIER_PORTABLE: return &lucy_kernels_portable;
#if defined(LUCY_BUILT_avx2)
    case LUCY_TIER_AVX2: return &lucy_kernels_avx2;
#endif
#if defined(LUCY_BUILT_avx512)
    case LUCY_TIER_AVX512: return &lucy_kernels_avx512;
#endif
#if defined(LUCY_BUILT_neon)
    case LUCY_TIER_NEON: return &lucy_kernels_neon;
#endif
    default: return NULL;
    }
}

int lucy_tiers_built(void)
{
    int built = 0;
    for (int t = 0; t < LUCY_TIER_COUNT; t++)
        if (lucy_kernels_of(t) != NULL)
            built |= 1 << t;
    return built;
}

int lucy_tiers_supported(void)
{
    int tiers = 1 << LUCY_TIER_PORTABLE;
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        tiers |= 1 << LUCY_TIER_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
            tiers |= 1 << LUCY_TIER_AVX512;
    }
#elif defined(__aarch64__)
    /* Advanced SIMD (and its fused multiply-add) is part of every aarch64 CPU. */
    tiers |= 1 << LUCY_TIER_NEON;
#endif
    return tiers;
}

int lucy_tier_best(int tiers)
{
    static const int preference[] = {LUCY_TIER_AVX512, LUCY_TIER_AVX2, LUCY_TIER_NEON};
    for (size_t i = 0; i < sizeof preference / sizeof preference[0]; i++)
        if (tiers & (1 << preference[i]))
            return preference[i];
    return LUCY_TIER_PORTABLE;
}

const lucy_kernels *lucy_kernels_use(int tier)
{
    const lucy_kernels *k = lucy_kernels_of(tier);
    if (k != NULL)
        lucy_active = k;
    return k;
}

const char *lucy_tier_name(int tier)
{
    static const char *const names[LUCY_TIER_COUNT] = {"portable", "avx2", "avx512", "neon"};
    return tier >= 0 && tier < LUCY_TIER_COUNT ? names[tier] : NULL;
}
