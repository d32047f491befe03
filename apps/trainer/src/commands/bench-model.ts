/**
 * Model-level measurements shared by `ssm bench` (cpu / wasm, this machine) and the GPU bundle
 * (tooling/bench/gpu-bench.ts, webgpu): forward / prefill, decode and one training step of a MambaLM
 * with random weights, each timed with @ssmjs/eval's harness on whatever backend is current.
 */
import { AdamW, crossEntropy, dispose, memory, reshape, tensor, tidy, valueAndGradsOf, type Tensor } from '@ssmjs/core';
import { bench, type BenchOptions, type BenchResult } from '@ssmjs/eval';
import { MambaLM } from '@ssmjs/mamba';

/** mamba-130m's shape (state-spaces/mamba-130m): what the llama.cpp and transformers anchors ran. */
export const MAMBA_130M = { dModel: 768, nLayer: 24, vocabSize: 50280 } as const;

/** Deterministic token ids (no tokenizer needed: the weights are random anyway). */
export function tokenIds(batch: number, length: number, vocab: number, seed = 1): Tensor {
  const ids = Int32Array.from({ length: batch * length }, (_, i) => ((i + 1) * 7919 * seed) % vocab);
  return tensor(ids, length === 1 ? [batch] : [batch, length], 'int32');
}

/** Reads a tensor back (waits for the backend: GPU work counts in the time). */
async function settle(t: Tensor): Promise<void> {
  await t.data();
}

/** Prefill (the parallel path) of `batch` × `length` tokens; work = tokens. */
export async function benchPrefill(model: MambaLM, name: string, batch: number, length: number, options: BenchOptions = {}): Promise<BenchResult> {
  const ids = tokenIds(batch, length, model.config.vocabSize);
  try {
    return await bench(
      name,
      async () => {
        const { logits, cache } = model.prefill(ids);
        await settle(logits);
        logits.dispose();
        cache.dispose();
      },
      { warmup: 1, repeats: 3, ...options, work: { amount: batch * length, unit: 'tok' } },
    );
  } finally {
    ids.dispose();
  }
}

/**
 * Decoding: `steps` tokens per sequence from an 8-token prompt, one `step` each, reading the logits back
 * every step as a sampler would; work = batch × steps tokens.
 */
export async function benchDecode(model: MambaLM, name: string, batch: number, steps: number, options: BenchOptions = {}): Promise<BenchResult> {
  const prompt = tokenIds(batch, 8, model.config.vocabSize);
  const next = tokenIds(batch, 1, model.config.vocabSize, 3);
  const { logits, cache } = model.prefill(prompt);
  logits.dispose();
  try {
    return await bench(
      name,
      async () => {
        for (let i = 0; i < steps; i++) {
          const out = model.step(next, cache);
          await settle(out);
          out.dispose();
        }
      },
      { warmup: 1, repeats: 3, ...options, work: { amount: batch * steps, unit: 'tok' } },
    );
  } finally {
    dispose([prompt, next]);
    cache.dispose();
  }
}

/** One AdamW step (forward, cross-entropy, backward, update) on `batch` × `length` tokens; work = tokens. */
export async function benchTrainStep(model: MambaLM, name: string, batch: number, length: number, options: BenchOptions = {}): Promise<BenchResult> {
  const vocab = model.config.vocabSize;
  const ids = tokenIds(batch, length, vocab);
  const targets = reshape(tokenIds(batch, length, vocab, 5), [batch * length]);
  const optimizer = new AdamW(model, { lr: 1e-4 });
  try {
    return await bench(
      name,
      async () => {
        const { loss, grads } = valueAndGradsOf(model, () => tidy(() => crossEntropy(reshape(model.forward(ids), [batch * length, vocab]), targets)));
        await settle(loss);
        optimizer.step(grads);
        // The updated parameters are the step's result: wait for them too.
        await settle(model.parameters()[0].value);
        dispose([loss, grads]);
      },
      { warmup: 1, repeats: 3, ...options, work: { amount: batch * length, unit: 'tok' } },
    );
  } finally {
    optimizer.dispose();
    dispose([ids, targets]);
  }
}

/** Bytes held by the current backends' tensors now (what the model and its caches occupy). */
export function backendBytes(): number {
  return Object.values(memory().backends).reduce((n, b) => n + b.bytes, 0);
}
