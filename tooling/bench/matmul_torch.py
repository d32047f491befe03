"""PyTorch side of the WebGPU benchmark (packages/core/bench/webgpu.bench.ts), run on the same GPU.

fp32 matmul at n³ with TF32 off (true fp32 FMA, what the WGSL kernels do), timed with CUDA events over
`reps` calls per sample after a warm-up, median of samples; plus the GB/s of an elementwise add and of a
device copy of the same sizes as the WebGPU run. Prints one JSON object.

    python3 tooling/bench/matmul_torch.py [--n 4096] [--elements 67108864] > torch.json
"""
import argparse
import json
import statistics

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=4096)
parser.add_argument("--elements", type=int, default=2**26)
parser.add_argument("--samples", type=int, default=7)
parser.add_argument("--reps", type=int, default=10)
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")


def seconds_per_call(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(args.samples):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(args.reps):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000 / args.reps)
    return statistics.median(times)


n = args.n
g = torch.Generator(device="cuda").manual_seed(0)
a = torch.randn(n, n, device="cuda", generator=g)
b = torch.randn(n, n, device="cuda", generator=g)
c = torch.empty(n, n, device="cuda")
matmul_s = seconds_per_call(lambda: torch.matmul(a, b, out=c))

m = args.elements
x = torch.randn(m, device="cuda", generator=g)
y = torch.randn(m, device="cuda", generator=g)
z = torch.empty(m, device="cuda")
add_s = seconds_per_call(lambda: torch.add(x, y, out=z))
copy_s = seconds_per_call(lambda: z.copy_(x))

print(json.dumps({
    "device": torch.cuda.get_device_name(),
    "torch": torch.__version__,
    "n": n,
    "matmulGflops": 2 * n**3 / matmul_s / 1e9,
    "matmulMs": matmul_s * 1e3,
    "elements": m,
    "addGBs": 12 * m / add_s / 1e9,
    "copyGBs": 8 * m / copy_s / 1e9,
}))
