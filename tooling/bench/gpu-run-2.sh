#!/usr/bin/env bash
# Second GPU run: the transformers round trip with the corrected config, Dawn's bandwidth with and without its
# robustness checks, and the model benchmark (deep matmul tiling) with Dawn's defaults and without robustness.
set -u
source .device/env.sh
export PYTHONUNBUFFERED=1
R=$OUT/results; mkdir -p "$R"
step() { local name=$1 limit=$2; shift 2; echo "=== $name"; timeout "$limit" bash -c "$*" > "$R/$name.log" 2>&1; echo "exit $? ($name)"; tail -n 25 "$R/$name.log"; }
step roundtrip 120 "python3 tooling/fixtures/check_roundtrip.py --dir packages/mamba/test/fixtures/roundtrip --out $R"
step bandwidth 120 "cp tooling/bench/dawn-bandwidth.mjs .device/ && node .device/dawn-bandwidth.mjs"
step model 150 "node .device/gpu-bench.mjs --torch tooling/bench/results/mamba-torch.json --out $R/gpu-bench.json"
step model-norobust 150 "DAWN_TOGGLES=enable-dawn-features=allow_unsafe_apis,disable_robustness node .device/gpu-bench.mjs --torch tooling/bench/results/mamba-torch.json --out $R/gpu-bench-norobust.json"
tar czf "$OUT/results.tgz" -C "$OUT" results && rm -rf "$R"
