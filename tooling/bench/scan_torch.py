"""PyTorch side of the WebGPU selective-scan benchmark (packages/selective-scan/bench/scan-webgpu.ts), run on
the same GPU: the sequential scan as mamba_ssm's `selective_scan_ref` writes it (a Python loop over L, fp32,
on cuda), forward and backward (autograd through the loop), at the benchmark's shapes (D, z, deltaBias,
softplus; L 2048, d_inner 1536, N 16, batch 1 and 16). Timed with CUDA events after a warm-up, median of
samples. Prints one JSON object.

    python3 tooling/bench/scan_torch.py [--batches 1,16] [--L 2048] [--dim 1536] [--N 16] > scan-torch.json
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--batches", default="1,16")
parser.add_argument("--L", type=int, default=2048)
parser.add_argument("--dim", type=int, default=1536)
parser.add_argument("--N", type=int, default=16)
parser.add_argument("--samples", type=int, default=3)
parser.add_argument("--backward", type=int, default=1, help="also time the backward (0: forward only)")
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def sequential_scan(u, delta, A, B, C, D, z, delta_bias):
    """h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t; y_t = <C_t, h_t> + D u_t; y·silu(z). One step per iteration."""
    delta = F.softplus(delta + delta_bias[None, :, None])
    decay = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    inputs = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    h = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for t in range(u.shape[2]):
        h = decay[:, :, t] * h + inputs[:, :, t]
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, :, t]))
    y = torch.stack(ys, dim=2) + u * D[None, :, None]
    return y * F.silu(z)


def seconds(fn, samples):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(samples):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return statistics.median(times)


runs = []
for batch in [int(b) for b in args.batches.split(",")]:
    g = torch.Generator(device="cuda").manual_seed(0)
    shape = (batch, args.dim, args.L)
    dev = dict(device="cuda", generator=g)
    u = torch.randn(shape, **dev)
    delta = torch.randn(shape, **dev) * 0.5 - 1
    A = -(torch.randn(args.dim, args.N, **dev).abs() + 0.2)
    B = torch.randn(batch, args.N, args.L, **dev)
    C = torch.randn(batch, args.N, args.L, **dev)
    D = torch.randn(args.dim, **dev)
    z = torch.randn(shape, **dev)
    delta_bias = torch.randn(args.dim, **dev) * 0.3
    tensors = [u, delta, A, B, C, D, z, delta_bias]

    with torch.no_grad():
        forward_s = seconds(lambda: sequential_scan(*tensors), args.samples)
    run = {"batch": batch, "forwardMs": forward_s * 1e3}

    if args.backward:
        leaves = [t.clone().requires_grad_(True) for t in tensors]
        dy = torch.randn(shape, **dev)

        def forward_backward():
            y = sequential_scan(*leaves)
            torch.autograd.grad(y, leaves, dy)

        both_s = seconds(forward_backward, args.samples)
        run["forwardBackwardMs"] = both_s * 1e3
        # Autograd's backward alone: the forward with the graph recorded, subtracted.
        recorded_s = seconds(lambda: sequential_scan(*leaves), args.samples)
        run["backwardMs"] = (both_s - recorded_s) * 1e3
        del leaves, dy
    runs.append(run)
    del tensors, u, delta, A, B, C, D, z, delta_bias
    torch.cuda.empty_cache()

print(json.dumps({
    "device": torch.cuda.get_device_name(),
    "torch": torch.__version__,
    "shape": {"L": args.L, "dim": args.dim, "N": args.N},
    "method": "selective_scan_ref-style Python loop over L, fp32, CUDA events, median of samples",
    "runs": runs,
}))
