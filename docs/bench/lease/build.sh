#!/usr/bin/env bash
# Builds the kit for a lease of a device machine (x86-64, likely AVX-512): run here, from the
# repository root, then on the lease run `bash docs/bench/lease/run.sh` with `.lease` carried
# (device tool: carry [".lease"], timeout_s 600). That machine has no Rust toolchain and no
# network, so the kit holds what it needs, built here: the release `xtask` (the benchmarks), the
# `backprop-tensor` unit-test binary (the fixed-order GEMM tests), `pg-compare` (each workload
# product timed, docs/bench/pg_compare.rs, built in a scratch project outside the repository;
# NO_PG=1 skips it), the two W1 bounds (w1_fixed_sizes, w1_lanes_const) and the peer harness of
# ../shared/bench without its candle sources. About 16 MiB; the device tool carries up to 64.
# The binaries need glibc 2.34 or later there.
set -euo pipefail
cd "$(dirname "$0")/../../.."
kit=.lease
rm -rf "$kit"
mkdir -p "$kit/bench"
cargo build --release -p xtask
cp target/release/xtask "$kit/xtask"
# `cargo test --no-run` names the test binary on stderr: "Executable unittests src/lib.rs (PATH)".
tests=$(cargo test -p backprop-tensor --lib --no-run 2>&1 | sed -n 's/.*Executable unittests src\/lib.rs (\(.*\))/\1/p')
[ -x "$tests" ] || { echo "no backprop-tensor test binary found" >&2; exit 1; }
cp "$tests" "$kit/tensor-tests"
if [ -z "${NO_PG:-}" ]; then
    pg=${TMPDIR:-/tmp}/backprop-pg-compare
    mkdir -p "$pg/src"
    cp docs/bench/pg_compare.rs "$pg/src/main.rs"
    cat >"$pg/Cargo.toml" <<'TOML'
[package]
name = "pg-compare"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
gemm = { version = "0.19", default-features = false, features = ["std", "rayon", "x86-v4"] }
private-gemm-x86 = { version = "=0.1.22", default-features = false, features = ["std"] }
rayon = "1"

[workspace]
TOML
    cargo build --release --manifest-path "$pg/Cargo.toml" --target-dir "$pg/target"
    cp "$pg/target/release/pg-compare" "$kit/pg-compare"
fi
# The two W1 bounds (docs/bench/w1_fixed_sizes.rs, w1_lanes_const.rs), built as examples of
# backprop-tensor for the while: copies in crates/tensor/examples, removed again.
examples=crates/tensor/examples
[ -e "$examples" ] && { echo "$examples exists: not overwriting it" >&2; exit 1; }
trap 'rm -rf "$examples"' EXIT
mkdir -p "$examples"
for w1 in w1_fixed_sizes w1_lanes_const; do
    cp "docs/bench/$w1.rs" "$examples/"
    cargo build --release -p backprop-tensor --example "$w1"
    cp "target/release/examples/$w1" "$kit/$w1"
done
rm -rf "$examples"
strip "$kit"/xtask "$kit"/tensor-tests "$kit"/w1_* $([ -x "$kit/pg-compare" ] && echo "$kit/pg-compare")
shared=${BACKPROP_SHARED_BENCH:-../shared/bench}
cp "$shared"/*.py "$shared"/*.sh "$shared/README.md" "$kit/bench/"
git describe --always --dirty --abbrev=40 >"$kit/commit"
du -sh "$kit"
