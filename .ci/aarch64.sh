#!/usr/bin/env bash
# CI: lucy's SIMD kernels cross-compiled for aarch64 with Debian's
# gcc-aarch64-linux-gnu and run under qemu-user: tests/c/kernel_test.c
# checks every kernel family of the portable and neon tiers, and their
# outputs must equal, bit for bit, those of the same test built for this
# x86-64 host (docs/kernels.md: which tiers round alike). No Python runs on
# aarch64; the host generates the kernel sources from their templates.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user >/dev/null
fi

WORK="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
# Tempita ships with Cython.
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet Cython
for family in lanes columns copies solve; do
    "$WORK/venv/bin/python" lucy/_kernels/tempita.py "lucy/_kernels/$family.c.in" -o "$WORK/$family.c"
done

# The flags of lucy/_kernels/meson.build.
COMMON=(-O3 -std=c11 -ffp-contract=off -fno-version-loops-for-strides -Wall -Wno-psabi
        -Ilucy/_kernels)

# build CC OUTPUT EXTRA_LINK_FLAGS -- TIER:ID:VBYTES[:FLAGS...] ...
build() {
    local cc="$1" out="$2" link="$3"; shift 4
    local built=() objs=() spec name id vbytes flags
    for spec in "$@"; do built+=("-DLUCY_BUILT_${spec%%:*}"); done
    for spec in "$@"; do
        IFS=: read -r name id vbytes flags <<<"$spec"
        local args=("${COMMON[@]}" "${built[@]}" -DLUCY_TIER="$name" -DLUCY_TIER_IS_"$name"
                    -DLUCY_TIER_ID="$id" -DLUCY_VBYTES="$vbytes" $flags)
        for src in columns copies; do
            "$cc" "${args[@]}" -c "$WORK/$src.c" -o "$WORK/$out-$name-$src.o"
            objs+=("$WORK/$out-$name-$src.o")
        done
        "$cc" "${args[@]}" -fno-tree-slp-vectorize -c "$WORK/solve.c" -o "$WORK/$out-$name-solve.o"
        objs+=("$WORK/$out-$name-solve.o")
        "$cc" "${args[@]}" -c lucy/_kernels/table.c -o "$WORK/$out-$name-table.o"
        "$cc" "${args[@]}" -fno-ivopts $LANES_FLAGS -c "$WORK/lanes.c" -o "$WORK/$out-$name-lanes.o"
        objs+=("$WORK/$out-$name-table.o" "$WORK/$out-$name-lanes.o")
    done
    "$cc" "${COMMON[@]}" "${built[@]}" -c lucy/_kernels/dispatch.c -o "$WORK/$out-dispatch.o"
    "$cc" "${COMMON[@]}" tests/c/kernel_test.c "$WORK/$out-dispatch.o" "${objs[@]}" $link -lm \
        -o "$WORK/$out"
}

start=$SECONDS
LANES_FLAGS=""
HOST_TIERS=("portable:0:16")
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    HOST_TIERS+=("avx2:1:32:-mavx2 -mfma")
fi
build gcc host "" -- "${HOST_TIERS[@]}"
# (the lane kernels at -O2 on aarch64, as lucy/_kernels/meson.build has it)
LANES_FLAGS="-O2" build aarch64-linux-gnu-gcc arm64 "-static" -- "portable:0:16" "neon:3:16"
echo "aarch64: built in $((SECONDS - start)) s"

run() {   # run LABEL BINARY TIER [RUNNER...]
    local label="$1" bin="$2" tier="$3"; shift 3
    mkdir -p "$WORK/out/$label"
    "$@" "$WORK/$bin" "$tier" "$WORK/out/$label"
}
run host-portable host portable
[ "${#HOST_TIERS[@]}" -gt 1 ] && run host-avx2 host avx2
run arm-portable arm64 portable qemu-aarch64
run arm-neon arm64 neon qemu-aarch64

same() {   # same FAMILY A B: A's output of FAMILY equals B's, bit for bit
    if cmp -s "$WORK/out/$2/$1.bin" "$WORK/out/$3/$1.bin"; then
        echo "  $1: $2 == $3"
    else
        echo "  $1: $2 != $3 (bits differ)" >&2
        exit 1
    fi
}
echo "aarch64: the kernels' bits against the host's"
for family in lanes columns_real columns_complex trsm copies solve; do
    same "$family" arm-portable host-portable
done
# NEON's registers are 16 bytes, as portable's: the same panels (trsm) and
# the same real arithmetic; complex128's columns kernel fuses its products
# on neon as on avx2.
for family in lanes columns_real trsm copies solve; do
    same "$family" arm-neon host-portable
done
if [ "${#HOST_TIERS[@]}" -gt 1 ]; then
    for family in lanes columns_real columns_complex copies solve; do
        same "$family" arm-neon host-avx2
    done
fi
echo "aarch64: passed in $((SECONDS - start)) s"
