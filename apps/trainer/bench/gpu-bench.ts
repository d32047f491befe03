// The model on WebGPU, on the GPU machine (one H200, Dawn/Vulkan), next to transformers' MambaForCausalLM
// measured in the same run by tooling/bench/mamba_torch.py:
//   - 130m-shaped forward at L 2048, batch 1 (all logits; goal ≤ 100 ms; transformers' reference path 3,449 ms)
//   - decode tokens/s at batch 1 (goal ≥ 300) and 64, logits read back every step as a sampler would
//   - one AdamW training step of a d_model 256 × 4-layer model, vocab 4096, batch 8, L 512
// Every measurement reports what it could not run (and why) instead of stopping the others.
//
// Bundle here, from the repository root (after the packages are built):
//   node_modules/.pnpm/node_modules/.bin/esbuild apps/trainer/bench/gpu-bench.ts --bundle --platform=node \
//     --format=esm --external:webgpu --ignore-annotations --outfile=.device/gpu-bench.mjs
// Run there: source .device/env.sh && python3 tooling/bench/mamba_torch.py --out $OUT/mamba-torch.json;
//   node .device/gpu-bench.mjs --torch $OUT/mamba-torch.json --out $OUT/gpu-bench.json
// Here, on SwiftShader (slow; tiny sizes, checks that everything runs):
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node .device/gpu-bench.mjs --tiny
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { registerBackend, setBackend, tidy, WebGpuBackend } from '@ssmjs/core';
import { bench, type BenchResult } from '@ssmjs/eval';
import { MambaLM } from '@ssmjs/mamba';
import '@ssmjs/selective-scan';
import { MAMBA_130M, benchDecode, benchTrainStep, tokenIds } from '../src/commands/bench-model';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const tiny = args.includes('--tiny');
const torchFile = option('torch', '');
const outFile = option('out', '');

/** Sizes: the issue's, or tiny ones that a software adapter gets through in a minute. */
const big = tiny ? { dModel: 64, nLayer: 2, vocabSize: 512 } : MAMBA_130M;
const forwardLength = tiny ? 64 : 2048;
const decodeBatches = tiny ? [1, 4] : [1, 64];
const decodeSteps = tiny ? 4 : 32;
const small = tiny ? { dModel: 32, nLayer: 2, vocabSize: 256 } : { dModel: 256, nLayer: 4, vocabSize: 4096 };
const [trainBatch, trainLength] = tiny ? [2, 32] : [8, 512];

/** transformers on the same GPU (NOTES.md), used when no --torch file from this run is given. */
const NOTED_TORCH = { forward_ms: 3449, decode_tok_s: { 1: 74, 64: 4115 } as Record<string, number>, train_step_ms: 817 };
const GOALS = { forward_ms: 100, decode1_tok_s: 300 };

Object.assign(globalThis, globals);
// Dawn toggles from the environment (e.g. DAWN_TOGGLES=enable-dawn-features=allow_unsafe_apis,disable_robustness).
const gpu = create(process.env.DAWN_TOGGLES ? [process.env.DAWN_TOGGLES] : []);
registerBackend('webgpu', () => WebGpuBackend.create({ gpu, powerPreference: 'high-performance' }), 2);

interface Line {
  measure: string;
  ours?: number;
  theirs?: number;
  unit: string;
  higherIsBetter: boolean;
  goal?: string;
  error?: string;
}
const lines: Line[] = [];

/** Runs one measurement; a failure is recorded with its reason and the next measurement goes on. */
async function measure(line: Omit<Line, 'ours'>, run: () => Promise<number>): Promise<void> {
  try {
    lines.push({ ...line, ours: await run() });
  } catch (e) {
    const err = e as Error;
    lines.push({ ...line, error: `${err.name}: ${err.message}`.slice(0, 400) });
  }
  const last = lines[lines.length - 1];
  console.log(last.error ? `${line.measure}: could not run (${last.error})` : `${line.measure}: ${last.ours!.toFixed(2)} ${line.unit}`);
}

const torch = torchFile && existsSync(torchFile) ? JSON.parse(readFileSync(torchFile, 'utf8')) : null;
// The tiny sizes have no counterpart: no comparison then.
const theirs = (key: string, fallback: number): number | undefined => (tiny ? undefined : (torch?.[key] ?? fallback));
const source = torch ? `transformers, this run (${torch.device ?? 'GPU'})` : 'transformers, NOTES.md (earlier run)';

let backend: WebGpuBackend;
try {
  await setBackend('webgpu');
  const probe = tokenIds(1, 1, 8);
  backend = probe.backend as WebGpuBackend;
  probe.dispose();
  const info = (backend.device as { adapterInfo?: { vendor?: string; architecture?: string; device?: string; description?: string } }).adapterInfo;
  console.log(`webgpu adapter: ${[info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' / ') || 'unknown'}; subgroups ${backend.subgroups}; maxStorageBufferBindingSize ${backend.limits.maxStorageBufferBindingSize}`);
} catch (e) {
  console.log(`webgpu: no backend (${(e as Error).message}); nothing measured`);
  if (outFile) writeFileSync(outFile, JSON.stringify({ error: (e as Error).message }, null, 2));
  process.exit(1);
}

let model: MambaLM | undefined;
try {
  const t0 = performance.now();
  model = MambaLM.create(big, { seed: 0 });
  await backend.sync();
  console.log(`model ${JSON.stringify(big)}: ${(model.parameterCount() / 1e6).toFixed(1)}M parameters, made and uploaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  console.log(`model: could not be made (${(e as Error).message})`);
}

if (model) {
  const m = model;
  // The forward pass with every position's logits, as transformers' forward returns them; GPU done = done.
  await measure(
    { measure: `forward L${forwardLength} batch 1 (all logits)`, unit: 'ms', higherIsBetter: false, theirs: theirs('forward_ms', NOTED_TORCH.forward_ms), goal: `≤ ${GOALS.forward_ms} ms` },
    async () => {
      const ids = tokenIds(1, forwardLength, big.vocabSize);
      const r: BenchResult = await bench('forward', async () => {
        tidy(() => m.forward(ids)).dispose();
        await backend.sync();
      }, { warmup: 2, repeats: 7, maxTimeMs: 60_000 });
      ids.dispose();
      return r.medianMs;
    },
  );
  for (const batch of decodeBatches) {
    await measure(
      {
        measure: `decode batch ${batch} (${decodeSteps} steps, logits read back each step)`, unit: 'tok/s', higherIsBetter: true,
        theirs: theirs(`decode_b${batch}_tok_s`, NOTED_TORCH.decode_tok_s[batch]), goal: batch === 1 ? `≥ ${GOALS.decode1_tok_s} tok/s` : undefined,
      },
      async () => {
        const r = await benchDecode(m, 'decode', batch, decodeSteps, { warmup: 1, repeats: 5, maxTimeMs: 60_000 });
        return (batch * decodeSteps) / (r.medianMs / 1000);
      },
    );
  }
  m.dispose();
}

await measure(
  { measure: `training step d${small.dModel}×${small.nLayer} vocab ${small.vocabSize} B${trainBatch} L${trainLength} AdamW`, unit: 'ms', higherIsBetter: false, theirs: theirs('train_step_ms', NOTED_TORCH.train_step_ms) },
  async () => {
    const trainee = MambaLM.create(small, { seed: 0 });
    try {
      const r = await benchTrainStep(trainee, 'train', trainBatch, trainLength, { warmup: 2, repeats: 7, maxTimeMs: 60_000 });
      return r.medianMs;
    } finally {
      trainee.dispose();
    }
  },
);

console.log(`\n| measure | ssm.js webgpu | ${source} | ssm.js speed ÷ transformers' | goal |`);
console.log('|---|---:|---:|---:|---|');
for (const l of lines) {
  const ratio = l.ours === undefined || !(l.theirs! > 0) ? '' : l.higherIsBetter ? l.ours / l.theirs! : l.theirs! / l.ours;
  const their = l.theirs === undefined ? '' : `${l.theirs.toFixed(1)} ${l.unit}`;
  const verdict = !l.goal || l.ours === undefined ? '' : (l.higherIsBetter ? l.ours >= parseFloat(l.goal.slice(2)) : l.ours <= parseFloat(l.goal.slice(2))) ? 'met' : 'missed';
  const ours = l.error ? `not run: ${l.error}` : `${l.ours!.toFixed(1)} ${l.unit}`;
  const goal = l.goal && !tiny ? `${l.goal}: ${verdict}${verdict === 'missed' ? ` (${l.higherIsBetter ? `${(parseFloat(l.goal.slice(2)) / l.ours!).toFixed(2)}× short` : `${(l.ours! / parseFloat(l.goal.slice(2))).toFixed(2)}× over`})` : ''}` : '';
  console.log(`| ${l.measure} | ${ours} | ${their} | ${ratio === '' ? '' : `${ratio.toFixed(2)}×`} | ${goal} |`);
}
if (outFile) writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), tiny, torch, lines }, null, 2));
process.exit(0);
