#!/usr/bin/env bash
# The whole team's GPU run, on the GPU machine: transformers round trip, then each WebGPU benchmark beside its
# PyTorch counterpart. Needs .device/ (see ../shared/device/README.md) with the bundles named below; writes
# everything under $R. Each step has its own time limit so one failure does not lose the others.
set -u
source .device/env.sh
export PYTHONUNBUFFERED=1
# Results gather in one folder that comes back as one archive (the transfer takes few files).
R=$OUT/results; mkdir -p "$R"
step() { local name=$1 limit=$2; shift 2; echo "=== $name"; timeout "$limit" bash -c "$*" > "$R/$name.log" 2>&1; echo "exit $? ($name)"; tail -n 40 "$R/$name.log"; }
step roundtrip 120 "python3 tooling/fixtures/check_roundtrip.py --dir packages/mamba/test/fixtures/roundtrip --out $R"
step matmul 150 "python3 tooling/bench/matmul_torch.py > $R/torch-matmul.json && node .device/webgpu-bench.mjs --torch $R/torch-matmul.json"
step scan 150 "python3 tooling/bench/scan_torch.py > $R/scan-torch.json && node .device/scan-webgpu.mjs --torch $R/scan-torch.json --out $R/scan-webgpu.json"
step model 200 "python3 tooling/bench/mamba_torch.py --out $R/mamba-torch.json && node .device/gpu-bench.mjs --torch $R/mamba-torch.json --out $R/gpu-bench.json"
tar czf "$OUT/results.tgz" -C "$OUT" results && rm -rf "$R"
