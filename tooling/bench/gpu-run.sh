#!/usr/bin/env bash
# The GPU machine's run: the transformers round trip, then each WebGPU benchmark beside its PyTorch side.
# Usage (with the run tool, carry [".device"]): bash tooling/bench/gpu-run.sh [step …]
#   steps: roundtrip matmul scan model bandwidth model-norobust (default: roundtrip matmul scan model bandwidth)
# Needs .device/ (bash ../shared/device/prepare.sh) with the bundles webgpu-bench.mjs, scan-webgpu.mjs and
# gpu-bench.mjs (esbuild commands in docs/benchmarks.md). Results come back as $OUT/results.tgz; each step has
# its own time limit so one failure does not lose the others.
set -u
source .device/env.sh
export PYTHONUNBUFFERED=1
R=$OUT/results; mkdir -p "$R"
run_step() { local name=$1 limit=$2; shift 2; echo "=== $name"; timeout "$limit" bash -c "$*" > "$R/$name.log" 2>&1; echo "exit $? ($name)"; tail -n 25 "$R/$name.log"; }
torch_model="python3 tooling/bench/mamba_torch.py --out $R/mamba-torch.json || cp tooling/bench/results/mamba-torch.json $R/"
for step in "${@:-roundtrip matmul scan model bandwidth}"; do for s in $step; do case $s in
  roundtrip) run_step roundtrip 120 "python3 tooling/fixtures/check_roundtrip.py --dir packages/mamba/test/fixtures/roundtrip --out $R" ;;
  matmul) run_step matmul 150 "python3 tooling/bench/matmul_torch.py > $R/torch-matmul.json; node .device/webgpu-bench.mjs --torch $R/torch-matmul.json" ;;
  scan) run_step scan 300 "python3 tooling/bench/scan_torch.py > $R/scan-torch.json; node .device/scan-webgpu.mjs --torch $R/scan-torch.json --out $R/scan-webgpu.json" ;;
  model) run_step model 240 "$torch_model; node .device/gpu-bench.mjs --torch $R/mamba-torch.json --out $R/gpu-bench.json" ;;
  bandwidth) run_step bandwidth 120 "cp tooling/bench/dawn-bandwidth.mjs .device/ && node .device/dawn-bandwidth.mjs" ;;
  model-norobust) run_step model-norobust 200 "$torch_model; DAWN_TOGGLES=enable-dawn-features=allow_unsafe_apis,disable_robustness node .device/gpu-bench.mjs --torch $R/mamba-torch.json --out $R/gpu-bench-norobust.json" ;;
  *) echo "unknown step '$s'"; exit 2 ;;
esac; done; done
tar czf "$OUT/results.tgz" -C "$OUT" results && rm -rf "$R"
