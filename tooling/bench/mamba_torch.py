"""transformers' MambaForCausalLM on the GPU, at the shapes of apps/trainer/bench/gpu-bench.ts (same run).

- 130m shape (d_model 768, 24 layers, vocab 50280, random weights, fp32): forward at L 2048, batch 1
  (all logits), and decode tokens/s at batch 1 and 64: greedy `generate` of 8 + n tokens minus 8 + 0,
  so the prompt's cost cancels and what is left is n steps with the cache (the sampler included, as in
  the JS bench, which reads the logits back every step).
- One AdamW step (forward, loss, backward, update) of a d_model 256 × 4-layer model, vocab 4096, B 8,
  L 512, with PyTorch autograd.

Without mamba_ssm / causal_conv1d installed, transformers runs its reference PyTorch path (the slow path).
TF32 is off: fp32 against fp32. Prints a JSON object (and writes it with --out FILE).

  python3 tooling/bench/mamba_torch.py --out $OUT/mamba-torch.json
"""
import argparse
import importlib.util
import json
import traceback
import statistics
import time

import torch
import transformers
from transformers import MambaConfig, MambaForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="")
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, repeats, warmup=2):
    """Median seconds of `fn` over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_of(d_model, n_layer, vocab):
    config = MambaConfig(
        vocab_size=vocab, hidden_size=d_model, num_hidden_layers=n_layer, state_size=16, expand=2, conv_kernel=4,
        use_bias=False, use_conv_bias=True, tie_word_embeddings=True, pad_token_id=0, eos_token_id=0, bos_token_id=0,
    )
    torch.manual_seed(0)
    return MambaForCausalLM(config).to(device=device, dtype=torch.float32)


def ids(batch, length, vocab, seed=1):
    n = torch.arange(batch * length, dtype=torch.int64)
    return (((n + 1) * 7919 * seed) % vocab).reshape(batch, length).to(device)


result = {
    "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
    "torch": torch.__version__,
    "transformers": transformers.__version__,
}

result["mamba_ssm_installed"] = importlib.util.find_spec("mamba_ssm") is not None
errors = {}


def attempt(name, fn):
    """Runs one measurement; a failure is recorded under `errors` and the others still run."""
    try:
        result[name] = fn()
    except Exception:  # noqa: BLE001 - the run must report every measurement it can
        errors[name] = traceback.format_exc(limit=3)


big = model_of(768, 24, 50280).eval()
with torch.no_grad():
    prompt = ids(1, 2048, 50280)
    attempt("forward_ms", lambda: 1000 * timed(lambda: big(prompt).logits, args.repeats))

    steps = 32

    def generate(batch, new_tokens):
        prompt = ids(batch, 8, 50280)
        return lambda: big.generate(prompt, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, use_cache=True)

    def decode_rate(batch):
        long_run = timed(generate(batch, steps), args.repeats, warmup=1)
        short_run = timed(generate(batch, 1), args.repeats, warmup=1)
        return batch * (steps - 1) / (long_run - short_run)

    for batch in (1, 64):
        attempt(f"decode_b{batch}_tok_s", lambda: decode_rate(batch))
del big
if device.type == "cuda":
    torch.cuda.empty_cache()

small = model_of(256, 4, 4096).train()
optimizer = torch.optim.AdamW(small.parameters(), lr=1e-4)
batch_ids = ids(8, 512, 4096)


def train_step():
    loss = small(batch_ids, labels=batch_ids).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


attempt("train_step_ms", lambda: 1000 * timed(train_step, args.repeats + 2))
if errors:
    result["errors"] = errors

print(json.dumps(result, indent=2))
if args.out:
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
