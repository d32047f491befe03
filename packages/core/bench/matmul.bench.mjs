// Matmul GFLOP/s at n³ (default 1024): the wasm backend (1 and 2 threads, plain SIMD and relaxed-SIMD
// FMA), the cpu backend's kernel, and OpenBLAS on one thread (bench/openblas_sgemm.c, built with the
// system cc and Debian's libopenblas when present), all in one run. Median of repeats after a warm-up.
//
//   pnpm --filter @ssmjs/core build && pnpm --filter @ssmjs/core bench [-- --n 1024 --write]
//
// --write records the table in packages/core/BENCHMARKS.md; --rounds R interleaves R rounds (default 3).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const n = Number(option('n', '1024'));
const repeats = Number(option('repeats', '7'));
const flops = 2 * n * n * n;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** GFLOP/s of core's matmul on the current backend: one warm-up, then the median of `reps`. */
function timeMatmul(core, reps) {
  const a = core.randn([n, n], { seed: 1 });
  const b = core.randn([n, n], { seed: 2 });
  core.matmul(a, b).dispose();
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c = core.matmul(a, b);
    c.dataSync().length; // reads back, as a caller would (a copy; small next to the product)
    times.push(performance.now() - t0);
    c.dispose();
  }
  a.dispose();
  b.dispose();
  return flops / (median(times) / 1e3) / 1e9;
}

/** Median milliseconds of `fn` (which returns a tensor to dispose) after a warm-up. */
function timeOp(fn, reps) {
  fn().dispose();
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const y = fn();
    times.push(performance.now() - t0);
    y.dispose();
  }
  return median(times);
}

/**
 * Memory-bound kernels, GB/s of data moved: single-row x·Wᵀ (decoding; W read once), elementwise add
 * (two reads, one write) and exp (one read, one write) over 4M floats.
 */
function bandwidth(core, reps) {
  const x = core.randn([1, 768], { seed: 3 });
  const w = core.randn([3072, 768], { seed: 4 });
  const a = core.randn([1 << 22], { seed: 5 });
  const b = core.randn([1 << 22], { seed: 6 });
  const gbs = (bytes, ms) => bytes / (ms / 1e3) / 1e9;
  const result = {
    matvec: gbs(3072 * 768 * 4, timeOp(() => core.matmul(x, w, { transposeB: true }), reps * 5)),
    add: gbs(3 * 4 * (1 << 22), timeOp(() => core.add(a, b), reps)),
    exp: gbs(2 * 4 * (1 << 22), timeOp(() => core.exp(a), reps)),
  };
  for (const t of [x, w, a, b]) t.dispose();
  return result;
}

/** Copy bandwidth of this machine from JS (TypedArray.set of 16 MiB): the ceiling for elementwise ops. */
function copyBandwidth(reps) {
  const src = new Float32Array(1 << 22).fill(1);
  const dst = new Float32Array(1 << 22);
  dst.set(src);
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    dst.set(src);
    times.push(performance.now() - t0);
  }
  return (2 * src.byteLength) / (median(times) / 1e3) / 1e9;
}

/** Child mode: time the wasm backend in this process (its flags decide relaxed SIMD) and print JSON. */
async function measureWasm() {
  const core = await import('../dist/index.js');
  await core.setBackend('wasm');
  const probe = core.zeros([1]);
  const variant = probe.backend.variant; // 'simd' or 'relaxed': which build this engine runs
  probe.dispose();
  const result = {};
  for (const threads of [1, 2]) {
    await core.setWasmThreads(threads);
    result[`threads${threads}`] = timeMatmul(core, repeats);
    result[`bandwidth${threads}`] = bandwidth(core, repeats);
  }
  console.log(JSON.stringify({ ...result, variant }));
}

function runChild(flags) {
  const out = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', '--n', String(n), '--repeats', String(repeats)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`wasm bench child failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

function openblas() {
  const dir = mkdtempSync(join(os.tmpdir(), 'ssmjs-openblas-'));
  const exe = join(dir, 'sgemm');
  try {
    execFileSync('cc', ['-O2', join(here, 'openblas_sgemm.c'), '-lopenblas', '-o', exe], { stdio: 'pipe' });
  } catch (e) {
    return { skipped: `cannot build the OpenBLAS program (${String(e.message).split('\n')[0]}); install cc and libopenblas-dev` };
  }
  const out = execFileSync(exe, [String(n), String(repeats)], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8' });
  return { gflops: Number(out.trim()) };
}

async function main() {
  if (args.includes('--child')) return measureWasm();
  // The machine may be shared: rounds interleave OpenBLAS and the wasm builds, and each figure is the
  // median over rounds, so a busy moment does not land on one side only.
  const rounds = Number(option('rounds', '3'));
  const samples = { blas: [], simd1: [], simd2: [], relaxed1: [], relaxed2: [] };
  let blas = null;
  let simd = null;
  let relaxed = null;
  for (let r = 0; r < rounds; r++) {
    blas = openblas();
    if (blas.gflops) samples.blas.push(blas.gflops);
    simd = runChild([]);
    samples.simd1.push(simd.threads1);
    samples.simd2.push(simd.threads2);
    relaxed = runChild(['--experimental-wasm-relaxed-simd']);
    samples.relaxed1.push(relaxed.threads1);
    samples.relaxed2.push(relaxed.threads2);
  }
  const core = await import('../dist/index.js');
  await core.setBackend('cpu');
  const cpu = timeMatmul(core, Math.min(3, repeats));
  const cpuBandwidth = bandwidth(core, Math.min(3, repeats));
  const copy = copyBandwidth(repeats * 3);
  const ref = samples.blas.length > 0 ? median(samples.blas) : undefined;
  const ratio = (x) => (ref ? `${((100 * x) / ref).toFixed(0)}%` : '—');
  const rows = [
    ['OpenBLAS sgemm, 1 thread', ref],
    [`wasm ${simd.variant}, 1 thread`, median(samples.simd1)],
    [`wasm ${simd.variant}, 2 threads`, median(samples.simd2)],
    [`wasm ${relaxed.variant}, 1 thread`, median(samples.relaxed1)],
    [`wasm ${relaxed.variant}, 2 threads`, median(samples.relaxed2)],
    ['cpu backend (plain TypeScript)', cpu],
  ];
  const table = [
    `| kernel | GFLOP/s | × OpenBLAS 1 thread |`,
    `|---|---|---|`,
    ...rows.map(([name, g]) => `| ${name} | ${g === undefined ? `skipped: ${blas.skipped}` : g.toFixed(1)} | ${g === undefined ? '—' : ratio(g)} |`),
  ].join('\n');
  const gb = (x) => x.toFixed(1);
  const bandwidthTable = [
    `| kernel | wasm ${relaxed.variant}, 1 thread | wasm ${relaxed.variant}, 2 threads | wasm ${simd.variant}, 1 thread | cpu backend |`,
    `|---|---|---|---|---|`,
    ...[
      ['x·Wᵀ, x [1, 768], W [3072, 768] (decoding; GB/s of W)', 'matvec'],
      ['add, 4M floats (GB/s of 2 reads + 1 write)', 'add'],
      ['exp, 4M floats (GB/s of 1 read + 1 write)', 'exp'],
    ].map(([label, key]) => `| ${label} | ${gb(relaxed.bandwidth1[key])} | ${gb(relaxed.bandwidth2[key])} | ${gb(simd.bandwidth1[key])} | ${gb(cpuBandwidth[key])} |`),
    `| copy (TypedArray.set, 16 MiB; the ceiling) | ${gb(copy)} | | | |`,
  ].join('\n');
  // A shared machine's load decides how much a second thread can add: say what it was.
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' / ');
  const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, Node ${process.version}, load average ${load} (1/5/15 min) at the end`;
  console.log(`matmul f32 ${n}×${n}×${n}, median of ${repeats} after a warm-up, median over ${rounds} interleaved rounds — ${machine}\n\n${table}`);
  console.log(`\nmemory-bound kernels, GB/s (last round)\n\n${bandwidthTable}`);
  if (args.includes('--write')) {
    const doc = `# @ssmjs/core benchmarks

## matmul (wasm backend)

f32 ${n}×${n}·${n}×${n}, GFLOP/s = 2n³ / median time of ${repeats} runs after one warm-up (the cpu backend: 3 runs);
OpenBLAS and the two wasm builds run in ${rounds} interleaved rounds and each row is the median over rounds;
wasm timed through the public op (\`matmul\` + \`dataSync\`), OpenBLAS through \`cblas_sgemm\` with
\`OPENBLAS_NUM_THREADS=1\`, all in one run on one machine.

- Command: \`npx -y pnpm@12.4.2 --filter @ssmjs/core build && npx -y pnpm@12.4.2 --filter @ssmjs/core bench -- --write\`
- Date: ${new Date().toISOString().slice(0, 10)}
- Machine: ${machine}
- "simd" is the default build on Node 20; "relaxed" (relaxed-SIMD FMA) is what Node 20 runs with
  \`--experimental-wasm-relaxed-simd\` and what current browsers run.

${table}

## Memory-bound kernels (wasm backend)

GB/s of data each op must move, median of the runs after a warm-up (last round of the same run), next to
the machine's JS copy bandwidth measured in the same run.

${bandwidthTable}
`;
    writeFileSync(join(here, '..', 'BENCHMARKS.md'), doc);
    console.log('\nwrote packages/core/BENCHMARKS.md');
  }
}

await main();
