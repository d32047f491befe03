#!/usr/bin/env bash
# Third GPU run, after buffers freed inside a batch became reusable: elementwise GB/s and matmul, and the model.
set -u
source .device/env.sh
R=$OUT/results; mkdir -p "$R"
step() { local name=$1 limit=$2; shift 2; echo "=== $name"; timeout "$limit" bash -c "$*" > "$R/$name.log" 2>&1; echo "exit $? ($name)"; tail -n 14 "$R/$name.log"; }
step model 150 "node .device/gpu-bench.mjs --torch tooling/bench/results/mamba-torch.json --out $R/gpu-bench.json"
step matmul 150 "node .device/webgpu-bench.mjs --torch tooling/bench/results/torch-matmul.json"
tar czf "$OUT/results.tgz" -C "$OUT" results && rm -rf "$R"
