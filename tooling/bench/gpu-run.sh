#!/usr/bin/env bash
# The whole team's GPU run, on the GPU machine: transformers round trip, then each WebGPU benchmark beside its
# PyTorch counterpart. Needs .device/ (see ../shared/device/README.md) with the bundles named below; writes
# everything under $OUT. Each step has its own time limit so one failure does not lose the others.
set -u
source .device/env.sh
export PYTHONUNBUFFERED=1
step() { local name=$1 limit=$2; shift 2; echo "=== $name"; timeout "$limit" bash -c "$*" > "$OUT/$name.log" 2>&1; echo "exit $? ($name)"; tail -n 40 "$OUT/$name.log"; }
step roundtrip 120 "python3 tooling/fixtures/check_roundtrip.py --dir packages/mamba/test/fixtures/roundtrip --out $OUT"
step matmul 150 "python3 tooling/bench/matmul_torch.py > $OUT/torch-matmul.json && node .device/webgpu-bench.mjs --torch $OUT/torch-matmul.json"
step scan 150 "python3 tooling/bench/scan_torch.py > $OUT/scan-torch.json && node .device/scan-webgpu.mjs --torch $OUT/scan-torch.json --out $OUT/scan-webgpu.json"
step model 200 "python3 tooling/bench/mamba_torch.py --out $OUT/mamba-torch.json && node .device/gpu-bench.mjs --torch $OUT/mamba-torch.json --out $OUT/gpu-bench.json"
