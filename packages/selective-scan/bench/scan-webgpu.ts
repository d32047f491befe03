// WebGPU selective scan on the GPU machine: forward and backward at batch 1 and 16 (L 2048, d_inner 1536,
// N 16 by default), with and without subgroups, timed with onSubmittedWorkDone around many dispatches
// after a warm-up (median of samples). Reports ms, GB/s (bytes of u, delta, B, C, z, y in and out; the
// backward adds dy and the gradients), state updates per second (batch·dim·L·N / time), and the GB/s of
// an elementwise kernel on the same GPU next to them, and other tilings of the kernels at the largest batch. Checks the kernels against the cpu kernel first
// (a small shape). With --torch FILE (JSON of tooling/bench/scan_torch.py, same run) it prints ratios.
//
// On the GPU machine (see ../shared/device/README.md), from the repository root:
//   npx esbuild packages/selective-scan/bench/scan-webgpu.ts --bundle --platform=node --format=esm \
//     --external:webgpu --ignore-annotations --outfile=.device/scan-webgpu.mjs
//   source .device/env.sh && python3 tooling/bench/scan_torch.py > $OUT/scan-torch.json \
//     && node .device/scan-webgpu.mjs --torch $OUT/scan-torch.json --out $OUT/scan-webgpu.json
// Options: --backends, --batches, --families (tiles, channels, channels8, unstaged), --samples, --dim, --L, --chunk, --out,
// --variants (see below), --tilings 0 (skip the other tilings), --tile-tilings 0 / --channel-tilings 0 (skip only the tile scan's /
// the channel forward's and unstaged backward's).
// Here, on SwiftShader (slow; small sizes): VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
//   node .device/scan-webgpu.mjs --batches 1 --L 64 --dim 64 --samples 2 --reps 2
import { readFileSync, writeFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { abs, add, neg, randn, registerBackend, runKernel, setBackend, tensor, toBackend, WebGpuBackend, type Tensor } from '@ssmjs/core';
import { inferenceChunkSize, SCAN_BACKWARD_KERNEL, SCAN_KERNEL, selectiveScan } from '../src/index';
import type { ScanAttrs } from '../src/kernels/contract';
import { setScanTiling, type ScanTiling } from '../src/kernels/webgpu';
import { channelBackwardMemory, invocationsPerChannel } from '../src/kernels/webgpu/channels.wgsl';
import { stagedBackwardMemory } from '../src/kernels/webgpu/staged-backward.wgsl';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const batches = option('batches', '1,2,4,8,16').split(',').map(Number);
const L = Number(option('L', '2048'));
const dim = Number(option('dim', '1536'));
const N = Number(option('N', '16'));
const samples = Number(option('samples', '7'));
const reps = Number(option('reps', '20'));
const torchFile = option('torch', '');
const outFile = option('out', '');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Seconds per call of `run`: warm-up, then `samples` timings of `reps` calls each, median. Each call is
 * submitted on its own (as a training step would be), so its freed buffers serve the next call.
 */
async function time(backend: WebGpuBackend, run: () => void): Promise<number> {
  await warm(backend, run);
  const times: number[] = [];
  for (let s = 0; s < samples; s++) times.push(await sample(backend, run));
  return median(times);
}

async function warm(backend: WebGpuBackend, run: () => void): Promise<void> {
  for (let i = 0; i < 3; i++) {
    run();
    backend.flush();
  }
  await backend.sync();
}

/**
 * Seconds per call over one sample of `reps` calls, after two untimed ones: a short kernel timed right after
 * a long heavy one (the tile backward) measured up to 2.7× slower in its first milliseconds.
 */
async function sample(backend: WebGpuBackend, run: () => void): Promise<number> {
  for (let i = 0; i < 2; i++) {
    run();
    backend.flush();
  }
  await backend.sync();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) {
    run();
    backend.flush();
  }
  await backend.sync();
  return (performance.now() - t0) / 1000 / reps;
}

/** Mamba-like inputs: A negative, Δ through softplus, with D, z and deltaBias (the full fused path). */
function inputs(batch: number, d: number, n: number, l: number, seed: number): Tensor[] {
  const magnitude = abs(randn([d, n], { seed: seed + 2 }));
  const A = neg(add(magnitude, 0.2));
  magnitude.dispose();
  return [
    randn([batch, d, l], { seed }),
    randn([batch, d, l], { seed: seed + 1, mean: -1, std: 0.5 }),
    A,
    randn([batch, n, l], { seed: seed + 3 }),
    randn([batch, n, l], { seed: seed + 4 }),
    randn([d], { seed: seed + 5 }),
    randn([batch, d, l], { seed: seed + 6 }),
    randn([d], { seed: seed + 7, std: 0.3 }),
  ];
}

// --chunk: the checkpoint spacing of the forward the backward reads (selectiveScan's chunkSize; default 64).
const ATTRS: ScanAttrs = { hasD: true, hasZ: true, hasDeltaBias: true, hasInitialState: false, deltaSoftplus: true, chunkSize: Number(option('chunk', '64')) };

async function maxError(got: Tensor, want: Tensor): Promise<number> {
  const [g, w] = [await got.data(), await want.data()];
  let scale = 0;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]));
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]) / (scale || 1));
  return Number.isNaN(worst) ? Infinity : worst;
}

/**
 * Forward and backward outputs on `name` against cpu, on a shape with two forward tiles and two channel
 * blocks; `l` a multiple of 4 takes the vec4 forward, another the scalar one.
 */
async function check(name: string, l: number): Promise<Record<string, number>> {
  await setBackend('cpu');
  const small = inputs(2, 40, N, l, 11);
  const dy = randn([2, 40, l], { seed: 99 });
  const dLast = randn([2, 40, N], { seed: 98 });
  const forward = (xs: Tensor[]) => runKernel(SCAN_KERNEL, xs, ATTRS);
  const backward = (xs: Tensor[], f: Tensor[], g: Tensor, s: Tensor) => runKernel(SCAN_BACKWARD_KERNEL, [...xs, f[2], g, s], ATTRS);
  const want = forward(small);
  const wantGrads = backward(small, want, dy, dLast);
  await setBackend(name);
  const moved: Tensor[] = [];
  for (const t of [...small, dy, dLast]) moved.push(await toBackend(t, name));
  const got = forward(moved.slice(0, 8));
  const gotGrads = backward(moved.slice(0, 8), got, moved[8], moved[9]);
  const labels = ['du', 'ddelta', 'dA', 'dB', 'dC', 'dD', 'dz', 'dDeltaBias'];
  const errors: Record<string, number> = { y: await maxError(got[0], want[0]), lastState: await maxError(got[1], want[1]) };
  for (let i = 0; i < labels.length; i++) errors[labels[i]] = await maxError(gotGrads[i], wantGrads[i]);
  for (const t of [...small, dy, dLast, ...want, ...wantGrads, ...moved, ...got, ...gotGrads]) t.dispose();
  return errors;
}

Object.assign(globalThis, globals);
const gpu = create([]);
// Both on the same GPU object (Dawn in Node tears a device down when its GPU object is collected). A pool
// large enough to keep the backward's scratch (~1 GB at batch 16): new buffers would be zeroed by Dawn
// on first use, which is not the scan's cost.
const options = { gpu, powerPreference: 'high-performance', poolLimitBytes: 32 * 2 ** 30 } as const;
registerBackend('webgpu', () => WebGpuBackend.create(options), 2);
registerBackend('webgpu-no-subgroups', () => WebGpuBackend.create({ ...options, subgroups: false }), -10);

const results: Record<string, unknown> = { shape: { L, dim, N, chunkSize: ATTRS.chunkSize }, runs: [] as unknown[] };
// Kernel families at every batch: the tile scan, and the channel-parallel kernels ('auto' picks between the
// two by size); 'channels8' checks and times the staged forward with 8 invocations per channel, 'unstaged'
// the channel-parallel kernels without staging.
const FAMILY_TILINGS = {
  tiles: { kernels: 'tiles' },
  channels: { kernels: 'channels' },
  channels8: { kernels: 'channels', channelGroup: 8 },
  unstaged: { kernels: 'channels', stagedBackward: false, channelStaged: false },
} as Record<string, Partial<ScanTiling>>;
// --variants 'name={"stagedBackwardTile":16};…': more channel-kernel families (kernel variants timed
// sample by sample against the default in the same run).
const VARIANTS = option('variants', '').split(';').filter(Boolean).map((entry) => entry.split(/=(.*)/s));
for (const [family, json] of VARIANTS) FAMILY_TILINGS[family] = { kernels: 'channels', ...JSON.parse(json) };
const FAMILIES = [...option('families', 'tiles,channels').split(','), ...VARIANTS.map(([family]) => family)];
for (const name of option('backends', 'webgpu,webgpu-no-subgroups').split(',')) {
  await setBackend(name);
  const backend = await selectiveScanBackend(name);
  if (name === 'webgpu') {
    const { maxComputeWorkgroupStorageSize, maxStorageBuffersPerShaderStage, maxComputeInvocationsPerWorkgroup } = backend.limits;
    results.limits = { maxComputeWorkgroupStorageSize, maxStorageBuffersPerShaderStage, maxComputeInvocationsPerWorkgroup };
    console.log('device limits', results.limits);
  }
  for (const kernels of FAMILIES) {
    setScanTiling(FAMILY_TILINGS[kernels]);
    for (const l of [1504, 1501]) {
      const errors = await check(name, l);
      console.log(`${name} ${kernels}: subgroups ${backend.subgroups}; max error vs cpu at L=${l}`, Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', '));
      results[`errors ${name} ${kernels} L=${l}`] = errors;
    }
  }
  // Per batch the families run interleaved, sample by sample (and the elementwise reference with them),
  // so a slow spell of the GPU (seen here: single measurements 2–3× off) hits all of them alike.
  for (const batch of batches) {
    const families = name === 'webgpu-no-subgroups' ? FAMILIES.filter((k) => k === 'tiles') : FAMILIES;
    await setBackend(name);
    const xs = inputs(batch, dim, N, L, 1);
    const dy = randn([batch, dim, L], { seed: 20 });
    const dLast = randn([batch, dim, N], { seed: 21 });
    const saved = runKernel(SCAN_KERNEL, xs, ATTRS);
    const forward = () => runKernel(SCAN_KERNEL, xs, ATTRS).forEach((t) => t.dispose());
    // The forward as selectiveScan runs it where no gradient is recorded: no checkpoints but the first.
    const inference = () => runKernel(SCAN_KERNEL, xs, { ...ATTRS, chunkSize: inferenceChunkSize(L) }).forEach((t) => t.dispose());
    const backward = () => runKernel(SCAN_BACKWARD_KERNEL, [...xs, saved[2], dy, dLast], ATTRS).forEach((t) => t.dispose());
    // Memory-bound reference on the same GPU: one read and one write of u's size.
    const copy = () => neg(xs[0]).dispose();
    const times = new Map<string, number[]>();
    const add = (key: string, t: number) => times.set(key, [...(times.get(key) ?? []), t]);
    for (const kernels of families) {
      setScanTiling(FAMILY_TILINGS[kernels]);
      await warm(backend, forward);
      await warm(backend, inference);
      await warm(backend, backward);
    }
    await warm(backend, copy);
    for (let s = 0; s < samples; s++) {
      for (const kernels of families) {
        setScanTiling(FAMILY_TILINGS[kernels]);
        add(`${kernels} forward`, await sample(backend, forward));
        add(`${kernels} inference`, await sample(backend, inference));
        add(`${kernels} backward`, await sample(backend, backward));
      }
      add('copy', await sample(backend, copy));
    }
    const big = batch * dim * L * 4;
    const small = batch * N * L * 4;
    const forwardBytes = 4 * big + 2 * small; // u, delta, z in; y out; B, C in
    const backwardBytes = 7 * big + 4 * small; // u, delta, z, dy in; du, ddelta, dz out; B, C in; dB, dC out
    const updates = batch * dim * L * N;
    const copyS = median(times.get('copy')!);
    for (const kernels of families) {
      const forwardS = median(times.get(`${kernels} forward`)!);
      const backwardS = median(times.get(`${kernels} backward`)!);
      const inferenceS = median(times.get(`${kernels} inference`)!);
      const run = {
        backend: name,
        kernels,
        batch,
        forwardMs: forwardS * 1e3,
        backwardMs: backwardS * 1e3,
        forwardMinMs: Math.min(...times.get(`${kernels} forward`)!) * 1e3,
        inferenceMs: inferenceS * 1e3,
        inferenceMinMs: Math.min(...times.get(`${kernels} inference`)!) * 1e3,
        backwardMinMs: Math.min(...times.get(`${kernels} backward`)!) * 1e3,
        forwardGBs: forwardBytes / forwardS / 1e9,
        backwardGBs: backwardBytes / backwardS / 1e9,
        forwardUpdatesPerS: updates / forwardS,
        backwardUpdatesPerS: updates / backwardS,
        backwardOverForward: backwardS / forwardS,
        elementwiseGBs: (2 * big) / copyS / 1e9,
        samplesMs: Object.fromEntries([...times].map(([k, v]) => [k, v.map((x) => +(x * 1e3).toFixed(4))])),
      };
      (results.runs as unknown[]).push(run);
      console.log(
        `${name} ${kernels} B=${batch}: forward ${run.forwardMs.toFixed(3)} ms (fastest ${run.forwardMinMs.toFixed(3)}; ${run.forwardGBs.toFixed(0)} GB/s, ${(run.forwardUpdatesPerS / 1e9).toFixed(1)} G updates/s), ` +
          `without checkpoints ${run.inferenceMs.toFixed(3)} ms (fastest ${run.inferenceMinMs.toFixed(3)}), ` +
          `backward ${run.backwardMs.toFixed(3)} ms (fastest ${run.backwardMinMs.toFixed(3)}; ${run.backwardGBs.toFixed(0)} GB/s, ×${run.backwardOverForward.toFixed(2)} forward); ` +
          `elementwise neg ${run.elementwiseGBs.toFixed(0)} GB/s`,
      );
    }
    for (const t of [...xs, dy, dLast, ...saved]) t.dispose();
  }
  setScanTiling();
}

// Other tilings at the largest batch (webgpu with subgroups): where the default stands (--tilings 0 skips).
const FORWARD_TILINGS: Partial<ScanTiling>[] = [{ forwardWorkgroup: 128, forwardItems: 16 }, { forwardWorkgroup: 256, forwardItems: 8 }, { forwardWorkgroup: 64, forwardItems: 16 }, { forwardWorkgroup: 256, forwardItems: 4 }];
const BACKWARD_TILINGS: Partial<ScanTiling>[] = [{ backwardWorkgroup: 128, backwardItems: 4 }, { backwardWorkgroup: 256, backwardItems: 4 }, { backwardWorkgroup: 128, backwardItems: 2 }];
const CHANNEL_TILINGS: Partial<ScanTiling>[] = [
  { channelBlock: 16 }, { channelBlock: 64 }, { channelBlock: 64, channelShuffles: false }, { channelBlock: 32, channelBackwardSteps: 8 },
  { stagedWorkgroup: 128 }, { stagedTile: 32 }, { stagedSteps: 4 }, { stagedSteps: 16 }, { stagedSteps: 16, stagedTile: 32 },
  { stagedSteps: 16, stagedWorkgroup: 128 }, { stagedSteps: 16, channelGroup: 8 }, { stagedSteps: 16, channelGroup: 2, stagedWorkgroup: 32 },
  { stagedSteps: 16, stagedTile: 32, stagedWorkgroup: 128 }, { stagedSteps: 16, stagedTile: 32, stagedWorkgroup: 32 }, { stagedSteps: 16, stagedTile: 64 },
  { stagedSteps: 16, stagedTile: 64, stagedWorkgroup: 32 }, { stagedSteps: 8, stagedTile: 64 },
  { channelGroup: 2, stagedTile: 32, stagedSteps: 16 }, { channelGroup: 2, stagedTile: 32 }, { channelGroup: 2, stagedWorkgroup: 128 },
  { channelGroup: 2, stagedTile: 32, stagedSteps: 16, stagedWorkgroup: 128 }, { stagedSteps: 16, stagedTile: 32, stagedWorkgroup: 256 },
  { stagedSteps: 16, stagedTile: 32, stagedWorkgroup: 128, channelGroup: 8 },
  { stagedShuffles: false }, { channelGroup: 2 }, { channelStaged: false },
];
// The staged backward's knobs, one at a time (the memory each needs is checked: over the limit, the
// unstaged backward would run under the label).
const STAGED_BACKWARD_TILINGS: Partial<ScanTiling>[] = [
  { stagedBackwardPrefetch: true }, { channelBlock: 16 }, { stagedBackwardSteps: 4 }, { stagedBackwardTile: 16 }, { stagedBackwardTile: 16, stagedBackwardSteps: 16 },
  { channelBlock: 64 }, { stagedBackwardGroup: 2 }, { stagedBackwardTile: 4, stagedBackwardSteps: 4 },
  { stagedBackwardTile: 16, stagedBackwardSteps: 16, channelBlock: 16 }, { stagedBackwardTile: 16, channelBlock: 16 },
  { channelBlock: 16, stagedBackwardPrefetch: true }, { stagedBackwardTile: 16, stagedBackwardSteps: 16, stagedBackwardPrefetch: true },
  { channelBlock: 16, stagedBackwardSteps: 4 }, { stagedBackwardTile: 16, stagedBackwardSteps: 16, stagedBackwardGroup: 2 },
];
/** A tiling's settings, as a label. */
const describeTiling = (t: Partial<ScanTiling>) => Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ');
if (option('tilings', '1') !== '0') {
  const batch = Math.max(...batches);
  await setBackend('webgpu');
  const backend = await selectiveScanBackend('webgpu');
  const xs = inputs(batch, dim, N, L, 1);
  const dy = randn([batch, dim, L], { seed: 20 });
  const dLast = randn([batch, dim, N], { seed: 21 });
  const saved = runKernel(SCAN_KERNEL, xs, ATTRS);
  const tilings: Record<string, number> = {};
  // A tiling the device cannot run (a pipeline that fails to build) is recorded as NaN, not timed as if it had run.
  const timeTiling = async (b: WebGpuBackend, run: () => void) => {
    try {
      return await time(b, run);
    } catch (e) {
      console.log(`a tiling failed: ${(e as Error).message.split('\n')[0]}`);
      return NaN;
    }
  };
  for (const t of option('channel-tilings', '1') === '0' ? [] : CHANNEL_TILINGS) {
    setScanTiling({ ...t, kernels: 'channels' });
    tilings[`channels forward: ${describeTiling(t)}`] = 1e3 * (await timeTiling(backend, () => runKernel(SCAN_KERNEL, xs, ATTRS).forEach((o) => o.dispose())));
    // A block of channels whose workgroup memory exceeds the device's limit falls back to the tile backward.
    if (!t.channelBlock) continue;
    // (Sized without the shuffle reduction, which needs less.)
    if (channelBackwardMemory({ channels: t.channelBlock, G: invocationsPerChannel(N), N, T: t.channelBackwardSteps ?? 4, subgroupSize: 0 }) > backend.limits.maxComputeWorkgroupStorageSize) continue;
    setScanTiling({ ...t, kernels: 'channels', stagedBackward: false });
    tilings[`unstaged backward: ${describeTiling(t)}`] = 1e3 * (await timeTiling(backend, () => runKernel(SCAN_BACKWARD_KERNEL, [...xs, saved[2], dy, dLast], ATTRS).forEach((o) => o.dispose())));
  }
  for (const t of STAGED_BACKWARD_TILINGS) {
    setScanTiling({ ...t, kernels: 'channels' });
    const G = invocationsPerChannel(N, t.stagedBackwardGroup ?? 4);
    const memory = stagedBackwardMemory({ channels: t.channelBlock ?? 32, G, N, tile: t.stagedBackwardTile ?? 8, lanes: 32, hasZ: ATTRS.hasZ });
    if (memory > backend.limits.maxComputeWorkgroupStorageSize) continue;
    tilings[`staged backward: ${describeTiling(t)}`] = 1e3 * (await timeTiling(backend, () => runKernel(SCAN_BACKWARD_KERNEL, [...xs, saved[2], dy, dLast], ATTRS).forEach((o) => o.dispose())));
  }
  for (const t of option('tile-tilings', '1') === '0' ? [] : FORWARD_TILINGS) {
    setScanTiling({ ...t, kernels: 'tiles' });
    tilings[`forward ${t.forwardWorkgroup}x${t.forwardItems}`] = 1e3 * (await timeTiling(backend, () => runKernel(SCAN_KERNEL, xs, ATTRS).forEach((o) => o.dispose())));
  }
  for (const t of option('tile-tilings', '1') === '0' ? [] : BACKWARD_TILINGS) {
    setScanTiling({ ...t, kernels: 'tiles' });
    tilings[`backward ${t.backwardWorkgroup}x${t.backwardItems}`] = 1e3 * (await timeTiling(backend, () => runKernel(SCAN_BACKWARD_KERNEL, [...xs, saved[2], dy, dLast], ATTRS).forEach((o) => o.dispose())));
  }
  setScanTiling();
  results.tilingsMs = { batch, ...tilings };
  console.log(`other tilings at B=${batch} (ms; defaults: tiles forward 128x8, backward 256x2; channels forward workgroup 128, backward block 32):`, Object.entries(tilings).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '));
  for (const t of [...xs, dy, dLast, ...saved]) t.dispose();
}

/** The backend instance behind `name`, through the public API (a probe tensor). */
async function selectiveScanBackend(name: string): Promise<WebGpuBackend> {
  const probe = tensor([0], [1]);
  const moved = await toBackend(probe, name);
  const backend = moved.backend as WebGpuBackend;
  probe.dispose();
  moved.dispose();
  return backend;
}

type TorchResults = { runs: { batch: number; forwardMs: number; backwardMs?: number }[] };
let torch: TorchResults | null = null;
try {
  if (torchFile) torch = JSON.parse(readFileSync(torchFile, 'utf8')) as TorchResults;
} catch (e) {
  console.log(`no PyTorch numbers (${torchFile}: ${(e as Error).message})`);
}
if (torch) {
  results.torch = torch;
  for (const run of results.runs as { backend: string; kernels: string; batch: number; forwardMs: number; backwardMs: number }[]) {
    const ref = torch.runs.find((r) => r.batch === run.batch);
    if (!ref) continue;
    const line = `${run.backend} ${run.kernels} B=${run.batch}: ×${(ref.forwardMs / run.forwardMs).toFixed(0)} PyTorch's sequential forward` +
      (ref.backwardMs ? `, ×${(ref.backwardMs / run.backwardMs).toFixed(0)} its backward` : '');
    console.log(line);
  }
}
void selectiveScan; // the public op the kernels serve; imported so the bundle registers them
if (outFile) writeFileSync(outFile, JSON.stringify(results, null, 2));
console.log(JSON.stringify(results));
process.exit(0);
