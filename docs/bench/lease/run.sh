#!/usr/bin/env bash
# What a lease of a device machine checks, in one command of about 3 minutes (run from the
# repository root with the kit of docs/bench/lease/build.sh carried as `.lease`):
#   1. the processor, and whether it has AVX-512;
#   2. the fixed-order GEMM tests (`linalg::packed`): on an AVX-512 processor they check the
#      AVX-512 kernels, and the AVX2 ones beside them, against the definition bit for bit;
#   3. `pg-compare` (when the kit has it): each workload product, the gemm crate against the
#      kernels we use, on one and two threads, with and without copying a column-major `a`;
#   4. the two W1 bounds (docs/bench/w1_fixed_sizes.rs, w1_lanes_const.rs: what W1 costs
#      without the trainer's generic machinery), five runs each;
#   5. `xtask bench` and the peers (numpy, jax, torch, and the sgemm/dgemm limit) with two
#      threads each, as the issue's table was measured.
# Steps 3 to 5 are pinned to two cores (`taskset -c 0,1`; the W1 programs use one). The time
# limits add up to 570 s, so a device call with timeout_s 600 returns the log even when a step
# hangs.
# Everything goes to $OUT/lease.log (the device tool brings $OUT back), or /tmp/lease-out here.
set -u
out=${OUT:-/tmp/lease-out}
mkdir -p "$out"
kit=$PWD/.lease
{
    echo "# kit built from $(cat "$kit/commit"), run $(date -u +%FT%TZ)"
    grep -m1 'model name' /proc/cpuinfo
    echo "cores: $(nproc); flags: $(grep -m1 -o -w -E 'avx2|fma|avx512f|avx512vl|avx512dq|avx512bw' /proc/cpuinfo | sort -u | tr '\n' ' ')"
    echo "## fixed-order GEMM tests"
    timeout 120 "$kit/tensor-tests" linalg::packed --nocapture --test-threads 2
    echo "tests exit status: $?"
    pin=(taskset -c 0,1)
    "${pin[@]}" true 2>/dev/null || { echo "(taskset failed: not pinned)"; pin=(); }
    export RAYON_NUM_THREADS=2
    if [ -x "$kit/pg-compare" ]; then
        echo "## each product (pg-compare), two cores"
        timeout 100 "${pin[@]}" "$kit/pg-compare"
        echo "pg-compare exit status: $?"
    fi
    echo "## W1 bounds, one core: the constant-size program, then the loop over per-layer functions"
    for w1 in w1_fixed_sizes w1_lanes_const; do
        [ -x "$kit/$w1" ] && timeout 15 "${pin[@]}" "$kit/$w1" 5
        echo "$w1 exit status: $?"
    done
    echo "## bench and peers, two cores"
    export BACKPROP_PEER_DIR=$kit/bench BACKPROP_PEER_PY=${PEER_PY:-python3} RUN_BUDGET_S=240
    timeout 320 "${pin[@]}" "$kit/xtask" bench --peers --peer limit --peer numpy --peer jax --peer torch
    echo "bench exit status: $?"
} 2>&1 | tee "$out/lease.log"
