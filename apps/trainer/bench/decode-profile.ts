// Where a WebGPU decoding step's time goes, for the mamba-130m shape at batch 1 (random weights):
//   - read: the round trip of reading one value back after one tiny dispatch (the floor of any step that
//     reads its logits);
//   - record: the time `model.step` takes to record a token's dispatches (CPU);
//   - step with read: record + GPU + read back, per token, as a sampler runs it (median, mean, 90th
//     percentile; tokens/s from the mean);
//   - steps without reads: 32 tokens recorded back to back and read once at the end (what the GPU and the
//     recording take without the round trips; the tokens fed are fixed, so no sampling is needed).
// All of it on a fresh model, then again after `--forwards` (3) forwards at L 2048 have filled the buffer
// pool, then gpu-bench's own `benchDecode` in this process. `--as-gpu-bench` runs gpu-bench's order only
// (nine forwards, then its decode benchmark three times): how the pool's eviction was found.
// Medians over rounds. Bundle and run as gpu-bench.ts (its header), with this file instead:
//   node .device/decode-profile.mjs [--tiny] [--rounds 5] [--forwards 3] [--as-gpu-bench]
import { create, globals } from 'webgpu';
import { add, registerBackend, setBackend, tensor, tidy, WebGpuBackend } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import '@ssmjs/selective-scan';
import { benchDecode, MAMBA_130M, tokenIds } from '../src/commands/bench-model';

const args = process.argv.slice(2);
const tiny = args.includes('--tiny');
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 5) || 5;
const forwards = Number(args[args.indexOf('--forwards') + 1] ?? 3) || 3;
Object.assign(globalThis, globals);
const gpu = create(process.env.DAWN_TOGGLES ? [process.env.DAWN_TOGGLES] : []);
registerBackend('webgpu', () => WebGpuBackend.create({ gpu, powerPreference: 'high-performance' }), 2);
await setBackend('webgpu');
const backend = tensor([0]).backend as WebGpuBackend;
// Buffers made on the device per decoded token (0 when the pool serves every allocation).
const createBuffer = backend.device.createBuffer;
let buffersMade = 0;
backend.device.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
  buffersMade++;
  return createBuffer.call(this, d);
};

// --as-gpu-bench: gpu-bench.ts's order (forward benchmark, then its decode benchmark) before anything else,
// then the same decode benchmark twice more.
if (args.includes('--as-gpu-bench')) {
  const m = MambaLM.create(tiny ? { dModel: 64, nLayer: 2, vocabSize: 512 } : MAMBA_130M, { seed: 0 });
  const be = tensor([0]).backend as WebGpuBackend;
  await be.sync();
  const ids = tokenIds(1, tiny ? 64 : 2048, m.config.vocabSize);
  for (let i = 0; i < 9; i++) {
    tidy(() => m.forward(ids)).dispose();
    await be.sync();
  }
  ids.dispose();
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(32 / ((await benchDecode(m, 'decode', 1, 32, { warmup: 1, repeats: 5 })).medianMs / 1000));
  console.log(JSON.stringify({ benchDecodeTokPerS: runs }));
  process.exit(0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const model = MambaLM.create(tiny ? { dModel: 64, nLayer: 2, vocabSize: 512 } : MAMBA_130M, { seed: 1 });
const steps = 32;
const result: Record<string, unknown> = {};

const one = tensor([1]);
const reads: number[] = [];
for (let i = 0; i < 20 * rounds; i++) {
  const t0 = performance.now();
  const y = add(one, 1);
  await y.data();
  y.dispose();
  reads.push(performance.now() - t0);
}
result.readMs = median(reads.slice(10));

async function profileDecode(): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  const { logits, cache } = model.prefill(tokenIds(1, 8, model.config.vocabSize));
  logits.dispose();
  const next = tokenIds(1, 1, model.config.vocabSize, 3);
  const record: number[] = [];
  const withRead: number[] = [];
  const withoutReads: number[] = [];
  let made = 0;
  for (let r = 0; r < rounds + 1; r++) {
    for (let i = 0; i < steps; i++) {
      const s0 = performance.now();
      const before = buffersMade;
      const out = model.step(next, cache);
      const s1 = performance.now();
      await out.data();
      out.dispose();
      if (r > 0) {
        made += buffersMade - before;
        record.push(s1 - s0);
        withRead.push(performance.now() - s0);
      }
    }
    const t1 = performance.now();
    const outs = [];
    for (let i = 0; i < steps; i++) {
      const out = model.step(next, cache);
      if (i < steps - 1) out.dispose();
      else outs.push(out);
    }
    await outs[0].data();
    outs[0].dispose();
    if (r > 0) withoutReads.push((performance.now() - t1) / steps);
  }
  times.buffersMadePerToken = made / record.length;
  times.recordMs = median(record);
  times.stepWithReadMs = median(withRead);
  // The mean and the 90th percentile show the slow steps a median hides (what a sampler's tokens/s sees).
  times.stepWithReadMeanMs = withRead.reduce((a, b) => a + b, 0) / withRead.length;
  times.stepWithReadP90Ms = [...withRead].sort((a, b) => a - b)[Math.floor(withRead.length * 0.9)];
  times.recordMeanMs = record.reduce((a, b) => a + b, 0) / record.length;
  times.stepWithoutReadsMs = median(withoutReads);
  times.tokPerSWithRead = 1000 / times.stepWithReadMeanMs;
  times.tokPerSWithoutReads = 1000 / times.stepWithoutReadsMs;
  cache.dispose();
  next.dispose();
  return times;
}
result.fresh = await profileDecode();
// As gpu-bench.ts runs it: after a forward at L 2048 over the same model (its pool and caches then full).
const ids = tokenIds(1, tiny ? 64 : 2048, model.config.vocabSize);
for (let i = 0; i < forwards; i++) {
  tidy(() => model.forward(ids)).dispose();
  await backend.sync();
}
ids.dispose();
result.poolAfterForward = backend.poolMemory();
result.afterForward = await profileDecode();
// gpu-bench.ts's own decode measurement, in this process: tokens/s over whole 32-step runs.
const harness = await benchDecode(model, 'decode', 1, steps, { warmup: 1, repeats: 5 });
result.benchDecodeTokPerS = steps / (harness.medianMs / 1000);
result.benchDecodeSamplesMs = harness.samples;
console.log(JSON.stringify(result, null, 2));
process.exit(0);
