#!/usr/bin/env bash
# Cross-machine determinism: trains several configs at several thread counts and prints a hash of
# each run's weights (model.json without provenance) and of metrics.csv.
set -u
B=${B:-target/release/backprop}
W=${TMPDIR:-/tmp}/det.$$
mkdir -p "$W"
wh() { python3 - "$1" <<'PY'
import json,sys,hashlib
m=json.load(open(sys.argv[1]+'/model.json')); m.pop('provenance',None)
print(hashlib.sha256(json.dumps(m,sort_keys=True).encode()).hexdigest()[:16],
      hashlib.sha256(open(sys.argv[1]+'/metrics.csv','rb').read()).hexdigest()[:16])
PY
}
run() { # name threads args...
  local name=$1 t=$2; shift 2
  local d=$W/$name.$t
  if RAYON_NUM_THREADS=$t "$B" train "$@" --out "$d" >/dev/null 2>"$d.err"; then
    echo "det $name threads=$t $(wh "$d")"
  else echo "det $name threads=$t FAILED rc=$? $(tail -c 300 "$d.err")"; fi
}
for t in 1 2 16; do
  run half_adder $t configs/half_adder.toml
  run moons $t configs/moons.toml
  run xor_tanh_adam $t configs/xor_tanh_adam.toml
  run spirals $t configs/spirals.toml --set train.epochs=60
  run wide_f32 $t configs/spirals.toml --set 'model.hidden=[1024,1024]' --set data.samples=3000 --set train.batch_size=512 --set train.epochs=2 --set experiment.dtype='"f32"'
  run wide_f64 $t configs/spirals.toml --set 'model.hidden=[1024,1024]' --set data.samples=3000 --set train.batch_size=512 --set train.epochs=2 --set experiment.dtype='"f64"' --set 'optim.kind="sgd"' --set optim.lr=0.05
done
grep -o 'flags.*' /proc/cpuinfo | head -1 | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512vl|avx512dq|amx_tile)$' | tr '\n' ' '; echo
grep -m1 'model name' /proc/cpuinfo
