// WebGPU backend throughput: matmul GFLOP/s at n³ (default 4096) for each matmul tiling, and GB/s of
// elementwise kernels next to the device's buffer copy, timed with onSubmittedWorkDone around many
// dispatches after a warm-up (median of samples). Checks the kernels against the cpu backend first.
// With --torch FILE (the JSON of tooling/bench/matmul_torch.py from the same machine) it prints ratios.
//
// Runs in Node with the `webgpu` package (Dawn). On the GPU machine (see ../shared/device/README.md):
//   bash ../shared/device/prepare.sh
//   npx esbuild packages/core/bench/webgpu.bench.ts --bundle --platform=node --format=esm \
//     --external:webgpu --ignore-annotations --outfile=.device/webgpu-bench.mjs
// (--ignore-annotations: package.json's "sideEffects" names only dist/, so a bundle of src/ would
// otherwise drop the modules that register the backends.)
//   source .device/env.sh && python3 tooling/bench/matmul_torch.py > $OUT/torch.json \
//     && node .device/webgpu-bench.mjs --torch $OUT/torch.json
// Here, on SwiftShader (slow; small sizes): VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
//   node .device/webgpu-bench.mjs --n 256 --elements 1048576 --samples 3 --reps 2
import { readFileSync } from 'node:fs';
import {
  add, argmax, cast, crossEntropy, exp, logsumexp, mean, rfft, scatterAdd, MATMUL_LARGE, MATMUL_SMALL, matmul, randn, registerBackend, rmsNorm, runKernel, setBackend, softmax, sum, toBackend,
  WebGpuBackend, type MatmulTiling, type Tensor,
} from '../src/index';
import { engine } from '../src/engine';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const n = Number(option('n', '4096'));
const elements = Number(option('elements', String(2 ** 26)));
const samples = Number(option('samples', '7'));
const reps = Number(option('reps', '10'));
const torchFile = option('torch', '');

const TILINGS: Record<string, MatmulTiling> = {
  '128x128x8/8x8': MATMUL_LARGE,
  '128x128x16/8x8': { ...MATMUL_LARGE, BK: 16 },
  '64x128x8/4x8': { BM: 64, BN: 128, BK: 8, TM: 4, TN: 8 },
  '128x64x8/8x4': { BM: 128, BN: 64, BK: 8, TM: 8, TN: 4 },
  '64x64x8/4x4': MATMUL_SMALL,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds per call of `run`: warm-up, then `samples` timings of `reps` calls each, median. */
async function time(backend: WebGpuBackend, run: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) run();
  await backend.sync();
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    await backend.sync();
    times.push((performance.now() - t0) / 1000 / reps);
  }
  return median(times);
}

async function maxError(gpuResult: Tensor, cpuResult: Tensor): Promise<number> {
  const [g, c] = [await gpuResult.data(), await cpuResult.data()];
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]) / (1 + Math.abs(c[i])));
  return worst;
}

/** The kernels on this GPU against the cpu backend (relative error, max over elements). */
async function check(name: string): Promise<Record<string, number>> {
  await setBackend('cpu');
  const errors: Record<string, number> = {};
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const A = randn(tA ? [3, 77, 130] : [3, 130, 77], { seed: 1 });
    const B = randn(tB ? [200, 77] : [77, 200], { seed: 2 });
    const options = { transposeA: tA, transposeB: tB };
    const got = matmul(await toBackend(A, name), await toBackend(B, name), options);
    errors[`matmul${tA ? 'ᵀ' : ''}·${tB ? 'ᵀ' : ''}`] = await maxError(got, matmul(A, B, options));
    // Whole tiles: the aligned (vec4) variant.
    const A2 = randn(tA ? [64, 256] : [256, 64], { seed: 3 });
    const B2 = randn(tB ? [256, 64] : [64, 256], { seed: 4 });
    const got2 = matmul(await toBackend(A2, name), await toBackend(B2, name), options);
    errors[`aligned matmul${tA ? 'ᵀ' : ''}·${tB ? 'ᵀ' : ''}`] = await maxError(got2, matmul(A2, B2, options));
  }
  const x = randn([37, 1000], { seed: 3 });
  const w = randn([1000], { seed: 4 });
  const [gx, gw] = [await toBackend(x, name), await toBackend(w, name)];
  errors.sum = await maxError(sum(gx, [1]), sum(x, [1]));
  errors.softmax = await maxError(softmax(gx), softmax(x));
  errors.rmsNorm = await maxError(rmsNorm(gx, gw), rmsNorm(x, w));
  errors.add = await maxError(add(gx, 1), add(x, 1));
  errors.logsumexp = await maxError(logsumexp(gx, [0]), logsumexp(x, [0]));
  errors.mean = await maxError(mean(gx), mean(x));
  errors.argmax = await maxError(cast(argmax(gx, 1), 'float32'), cast(argmax(x, 1), 'float32'));
  const targets = cast(argmax(x, 1), 'int32');
  errors.crossEntropy = await maxError(crossEntropy(gx, await toBackend(targets, name)), crossEntropy(x, targets));
  errors.rfft = await maxError(rfft(gx, 1024), rfft(x, 1024));
  errors.scatterAdd = await maxError(scatterAdd(gx, await toBackend(targets, name), [1000, 1000], 0), scatterAdd(x, targets, [1000, 1000], 0));
  return errors;
}

const results: Record<string, unknown> = {};
const first = await WebGpuBackend.create();
const info = (first.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
results.adapter = info ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim() : 'unknown';
results.subgroups = first.subgroups;
first.dispose();

console.log(`adapter: ${results.adapter}; subgroups: ${results.subgroups}; n=${n}, elements=${elements}`);

// The operands, made once on the cpu backend and copied to each tiling's device.
await setBackend('cpu');
const matA = randn([n, n], { seed: 5 });
const matB = randn([n, n], { seed: 6 });
const matmulGflops: Record<string, number> = {};
results.check = {};
// One failing tiling (a driver that rejects a shader) is reported and the others still run.
for (const [label, tiling] of Object.entries(TILINGS)) {
  const name = `webgpu ${label}`;
  try {
    registerBackend(name, () => WebGpuBackend.create({ matmulTiling: tiling }), -1);
    const backend = (await engine.startBackend(name)) as WebGpuBackend;
    const errors = await check(name);
    console.log(`${label}: max relative error vs cpu ${JSON.stringify(errors)}`);
    (results.check as Record<string, unknown>)[label] = errors;
    const a = await toBackend(matA, name);
    const b = await toBackend(matB, name);
    const seconds = await time(backend, () => matmul(a, b).dispose());
    matmulGflops[label] = (2 * n ** 3) / seconds / 1e9;
    console.log(`matmul ${n}³ ${label}: ${matmulGflops[label].toFixed(0)} GFLOP/s (${(seconds * 1e3).toFixed(2)} ms)`);
    a.dispose();
    b.dispose();
    backend.dispose();
  } catch (e) {
    console.log(`matmul ${label} failed: ${(e as Error).message}`);
    (results.check as Record<string, unknown>)[label] = `failed: ${(e as Error).message}`;
  }
}
results.matmulGflops = matmulGflops;
const bestLabel = Object.entries(matmulGflops).sort((x, y) => y[1] - x[1])[0][0];
results.matmulBest = { tiling: bestLabel, gflops: matmulGflops[bestLabel] };

// Elementwise bandwidth on the default backend: bytes read + written per call.
await setBackend('webgpu');
const backend = (await engine.startBackend('webgpu')) as WebGpuBackend;
const x = randn([elements], { seed: 7 });
const y = randn([elements], { seed: 8 });
const bandwidth: Record<string, number> = {};
const gbps = (bytes: number, seconds: number) => bytes / seconds / 1e9;
bandwidth.add = gbps(12 * elements, await time(backend, () => add(x, y).dispose()));
bandwidth.exp = gbps(8 * elements, await time(backend, () => exp(x).dispose()));
// The strided-copy kernel (transpose, slice, concat…) on a contiguous copy: the cast kernel to the same dtype.
bandwidth.copyKernel = gbps(8 * elements, await time(backend, () => runKernel('cast', [x], { dtype: 'float32' })[0].dispose()));
// The device's own buffer copy, the ceiling the kernels are compared with.
const src = backend.createBuffer(4 * elements);
const dst = backend.createBuffer(4 * elements);
bandwidth.bufferCopy = gbps(
  8 * elements,
  await time(backend, () => {
    const encoder = backend.device.createCommandEncoder();
    encoder.copyBufferToBuffer(src, 0, dst, 0, 4 * elements);
    backend.device.queue.submit([encoder.finish()]);
  }),
);
results.bandwidthGBs = bandwidth;
for (const [k, v] of Object.entries(bandwidth)) console.log(`${k}: ${v.toFixed(0)} GB/s (${((100 * v) / bandwidth.bufferCopy).toFixed(0)}% of buffer copy)`);

if (torchFile) {
  const torch = JSON.parse(readFileSync(torchFile, 'utf8')) as { matmulGflops: number; addGBs?: number; copyGBs?: number };
  results.torch = torch;
  results.ratioMatmulVsTorch = matmulGflops[bestLabel] / torch.matmulGflops;
  console.log(
    `matmul vs PyTorch fp32 (TF32 off): ${matmulGflops[bestLabel].toFixed(0)} / ${torch.matmulGflops.toFixed(0)} GFLOP/s = ${(100 * (results.ratioMatmulVsTorch as number)).toFixed(1)}%`,
  );
  if (torch.copyGBs) console.log(`buffer copy vs torch copy: ${((100 * bandwidth.bufferCopy) / torch.copyGBs).toFixed(0)}%; add vs torch add: ${((100 * bandwidth.add) / (torch.addGBs ?? NaN)).toFixed(0)}%`);
}
console.log(JSON.stringify(results));
process.exit(0);
