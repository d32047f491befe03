// Forward-scan timings at batch 1, d_inner 1536, N 16, L 2048 (D, z, deltaBias, softplus: Mamba's
// configuration), all contenders interleaved round by round so load on a shared machine hits them alike;
// medians over rounds, ratios from the same run.
//
//   npx tsup && node --experimental-wasm-relaxed-simd --no-liftoff bench/scan.bench.mjs [rounds]
//
// --no-liftoff: the thread count of the wasm backend changes between contenders, and a worker started
// anew would otherwise run its first calls in V8's baseline tier; optimized code from the start makes
// every call measure the steady state (the lab's workers are long-lived, so it changes nothing there).
// Needs the package built (dist/, for the cpu kernel) and a C compiler (`cc`) for the native reference.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanLab, relaxedSimdSupported } from '../kernels/harness.mjs';
import { randomInputs } from '../kernels/reference.mjs';

const rounds = Number(process.argv[2] ?? 7);
const startLoad = loadavg().map((x) => x.toFixed(2)).join(' ');
const shape = { batch: 1, dim: 1536, N: 16, L: 2048, softplus: true };
const here = fileURLToPath(new URL('.', import.meta.url));
const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(dist)) throw new Error('build the package first: npx tsup');

// ---- native reference: the same algorithm in C, 128-bit SSE only and the machine's widest vectors
const buildDir = mkdtempSync(join(tmpdir(), 'scan-bench-'));
const natives = {
  'native C, SSE4.2 only (-O3 -msse4.2 -mno-avx)': ['-O3', '-msse4.2', '-mno-avx', '-DW=4'],
  'native C, -O3 -march=native (16-wide vectors)': ['-O3', '-march=native', '-DW=16'],
};
const nativeBinaries = Object.entries(natives).map(([name, flags]) => {
  const out = join(buildDir, name.includes('SSE') ? 'scan_sse' : 'scan_native');
  execFileSync('cc', [...flags, '-o', out, join(here, 'scan_ref.c'), '-lm']);
  return [name, out];
});
const runNative = (binary) => {
  const [ms, cpuMs, checksum] = execFileSync(binary, ['1', '1536', '2048', '1']).toString().trim().split(' ').map(Number);
  return { ms, cpuMs, checksum };
};

/** Wall and CPU time of `fn` (CPU time of the whole process: the right measure for one thread only). */
const timed = (fn) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const checksum = fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, checksum };
};

// ---- the cpu kernel (plain TypeScript), through the package's public API
const { selectiveScan } = await import(dist.href);
const core = await import('@ssmjs/core');
const inputs = randomInputs(shape, 1, true);
delete inputs.initialState;
const { batch, dim, N, L } = shape;
const cpuArgs = {
  u: core.tensor(inputs.u, [batch, dim, L]), delta: core.tensor(inputs.delta, [batch, dim, L]), A: core.tensor(inputs.A, [dim, N]),
  B: core.tensor(inputs.B, [batch, N, L]), C: core.tensor(inputs.C, [batch, N, L]), D: core.tensor(inputs.D, [dim]),
  z: core.tensor(inputs.z, [batch, dim, L]), deltaBias: core.tensor(inputs.deltaBias, [dim]), deltaSoftplus: true,
};
const sum = (values) => values.reduce((a, b) => a + b, 0);
const runCpu = () => {
  let y;
  const result = timed(() => (y = selectiveScan(cpuArgs).y, 0));
  result.checksum = sum(y.dataSync());
  y.dispose();
  return result;
};

// ---- the shipped path: selectiveScan on core's wasm backend with the SIMD kernels loaded
const { loadWasmKernels } = await import(dist.href);
await core.setBackend('wasm');
await loadWasmKernels();
const wasmArgs = Object.fromEntries(Object.entries(cpuArgs).map(([k, v]) => [k, v instanceof core.Tensor ? core.tensor(v.dataSync(), v.shape) : v]));
const wasmBackend = wasmArgs.u.backend;
const packageWasm = (threads) => async () => {
  if (wasmBackend.threads !== threads) await core.setWasmThreads(threads);
  let y;
  const result = timed(() => (y = selectiveScan(wasmArgs).y, 0));
  result.checksum = sum(y.dataSync());
  y.dispose();
  return result;
};

// ---- forward + backward (gradients of every input) through autograd, on both backends
const sources = (args) => Object.values(args).filter((v) => v instanceof core.Tensor);
const trainStep = (args, backendName, threads) => async () => {
  await core.setBackend(backendName);
  if (threads && wasmBackend.threads !== threads) await core.setWasmThreads(threads);
  let out;
  const result = timed(() => (out = core.computeGradients(() => core.sum(selectiveScan(args).y), sources(args)), 0));
  result.checksum = sum(out.grads[0].dataSync());
  core.dispose(out);
  return result;
};

// ---- wasm variants (the lab runner: own shared memory, worker threads over channels)
const wasm = [];
const addLab = async (name, variant, threads, setup = () => {}) => {
  const lab = await ScanLab.create({ variant, threads });
  setup(lab);
  const problem = lab.setup(shape, inputs);
  wasm.push([name, lab, () => {
    let y;
    const result = timed(() => ((y = lab.forward(problem).y), 0));
    result.checksum = sum(y);
    return result;
  }]);
};
await addLab('wasm v1: scalar AssemblyScript, 1 thread', 'v1', 1);
await addLab('wasm v2: SIMD, one channel per step, 1 thread', 'simd', 1, (lab) => lab.exports.setTwoChannels(false));
await addLab('wasm v3: SIMD, two channels per step, 1 thread', 'simd', 1);
await addLab('wasm v3: SIMD, two channels per step, 2 threads', 'simd', 2);
const relaxed = relaxedSimdSupported();
if (relaxed) {
  await addLab('wasm v4: v3 + relaxed-SIMD FMA, 1 thread', 'relaxed', 1);
  await addLab('wasm v4: v3 + relaxed-SIMD FMA, 2 threads', 'relaxed', 2);
}

const PKG1 = 'selectiveScan on the wasm backend, 1 thread';
const PKG2 = 'selectiveScan on the wasm backend, 2 threads';
const TRAIN = ['forward+backward, cpu', 'forward+backward, wasm backend, 1 thread', 'forward+backward, wasm backend, 2 threads'];
const contenders = [
  ['cpu kernel (plain TypeScript)', runCpu], [PKG1, packageWasm(1)], [PKG2, packageWasm(2)],
  [TRAIN[0], trainStep(cpuArgs, 'cpu')], [TRAIN[1], trainStep(wasmArgs, 'wasm', 1)], [TRAIN[2], trainStep(wasmArgs, 'wasm', 2)],
  ...wasm.map(([name, , run]) => [name, run]), ...nativeBinaries.map(([name, bin]) => [name, () => runNative(bin)])];
const times = new Map(contenders.map(([name]) => [name, []]));
const cpuTimes = new Map(contenders.map(([name]) => [name, []]));
const checksums = new Map();
for (const [, run] of contenders) await run(); // warm-up (JIT, page faults)
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of contenders) {
    const { ms, cpuMs, checksum } = await run();
    times.get(name).push(ms);
    cpuTimes.get(name).push(cpuMs);
    checksums.set(name, checksum);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = Object.fromEntries([...times].map(([name, xs]) => [name, median(xs)]));
const cpuMs = Object.fromEntries([...cpuTimes].map(([name, xs]) => [name, median(xs)]));
// The fastest round: on a shared machine, the best estimate of the time with the cores to itself.
const minMs = Object.fromEntries([...times].map(([name, xs]) => [name, Math.min(...xs)]));
const reference = checksums.get('cpu kernel (plain TypeScript)');

console.log(`| kernel | median wall ms | fastest wall ms | median CPU ms | checksum |\n|---|---|---|---|---|`);
for (const [name] of contenders) console.log(`| ${name} | ${ms[name].toFixed(1)} | ${minMs[name].toFixed(1)} | ${cpuMs[name].toFixed(1)} | ${checksums.get(name).toFixed(3)} |`);
const sse = nativeBinaries[0][0];
const ratios = (label, one, two) => {
  console.log(`\n${label}`);
  const CPU = 'cpu kernel (plain TypeScript)';
  console.log(`  cpu / wasm(1 thread)             = ${(ms[CPU] / ms[one]).toFixed(2)}× wall, ${(cpuMs[CPU] / cpuMs[one]).toFixed(2)}× CPU time  (goal ≥ 12)`);
  console.log(`  wasm(1 thread) / native SSE      = ${(ms[one] / ms[sse]).toFixed(2)}× wall, ${(cpuMs[one] / cpuMs[sse]).toFixed(2)}× CPU time  (goal ≤ 1.15)`);
  console.log(`  wasm(1 thread) / wasm(2 threads) = ${(ms[one] / ms[two]).toFixed(2)}× median wall, ${(minMs[one] / minMs[two]).toFixed(2)}× fastest round  (goal ≥ 1.6)`);
};
ratios(`shipped path (core wasm backend, ${wasmBackend.variant} build)`, PKG1, PKG2);
if (relaxed) ratios('lab, v4 (relaxed-SIMD FMA)', 'wasm v4: v3 + relaxed-SIMD FMA, 1 thread', 'wasm v4: v3 + relaxed-SIMD FMA, 2 threads');
ratios('lab, v3 (SIMD)', 'wasm v3: SIMD, two channels per step, 1 thread', 'wasm v3: SIMD, two channels per step, 2 threads');
console.log(`\nbackward ≈ (forward+backward) − forward: cpu ${(ms[TRAIN[0]] - ms['cpu kernel (plain TypeScript)']).toFixed(1)} ms, ` +
  `wasm 1 thread ${(ms[TRAIN[1]] - ms[PKG1]).toFixed(1)} ms, 2 threads ${(ms[TRAIN[2]] - ms[PKG2]).toFixed(1)} ms`);
const forwardOnly = [...checksums].filter(([name]) => !name.startsWith('forward+backward'));
const worstChecksum = Math.max(...forwardOnly.map(([, c]) => Math.abs(c - reference) / Math.abs(reference)));
const gradCheck = Math.max(...TRAIN.slice(1).map((name) => Math.abs(checksums.get(name) - checksums.get(TRAIN[0])) / Math.abs(checksums.get(TRAIN[0]))));
console.log(`Σ du relative difference, wasm vs cpu: ${gradCheck.toExponential(2)}`);
console.log(`largest relative checksum difference from the cpu kernel: ${worstChecksum.toExponential(2)}`);
console.log(`rounds ${rounds}, ${new Date().toISOString()}, node ${process.version}, relaxed SIMD ${relaxed ? 'on' : 'off'}, load average at start ${startLoad}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await Promise.all(wasm.map(([, lab]) => lab.close()));
await core.setWasmThreads(1);
