/**
 * `ssm bench`: everything the project compares on a CPU, measured side by side in this process, ending in
 * one table of ratios. Each row names the two things compared. The llama.cpp figures cannot run here (no
 * llama.cpp on npm): they are the anchors measured on this machine class (ANCHORS below), marked as such.
 * docs/benchmarks.md keeps the latest figures with the machine, date and command.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  dispose, exp, getBackend, matmul, mul, neg, randn, setBackend, setWasmThreads, tidy, type WasmBackend,
} from '@ssmjs/core';
import { bench, formatBenchTable, throughput, type BenchResult } from '@ssmjs/eval';
import { MambaLM } from '@ssmjs/mamba';
import { loadWasmKernels, selectiveScan } from '@ssmjs/selective-scan';
import { Tokenizer } from '@ssmjs/tokenizer';
import { brownDocuments } from '../../../../packages/tokenizer/bench/brown.mjs';
import { MAMBA_130M, backendBytes, benchDecode, benchPrefill, benchTrainStep } from './bench-model';

const require = createRequire(import.meta.url);

/** llama.cpp on this machine class (../shared/NOTES.md): random mamba-130m-shaped model, f32, midpoints of 4 runs. */
const ANCHORS = {
  decode1: { label: 'llama.cpp f32, 1 thread (anchor)', rate: 23, range: '21–25' },
  decode2: { label: 'llama.cpp f32, 2 threads (anchor)', rate: 40.5, range: '38–43' },
  prefill1: { label: 'llama.cpp f32, 1 thread (anchor)', rate: 127, range: '113–141' },
  prefill2: { label: 'llama.cpp f32, 2 threads (anchor)', rate: 238, range: '228–248' },
  peakMiB: 542,
};

/** One side of a comparison: a label and a rate (higher is better) in `unit`. */
interface Figure {
  label: string;
  rate: number;
  unit: string;
  /** Shown instead of the rate (e.g. a time). */
  text?: string;
}

interface Comparison {
  measure: string;
  a: Figure;
  b: Figure;
  /** What the ratio is computed on, when not the rates shown. */
  basis?: string;
}

const fmt = (x: number, digits = 1): string => (x >= 100 ? x.toFixed(0) : x.toFixed(digits));

/** A harness result as a rate: its throughput, or runs per second when it has no work unit. */
function rate(r: BenchResult, useCpu = false): number {
  const ms = useCpu && r.cpuMedianMs !== undefined ? r.cpuMedianMs : r.medianMs;
  return r.work ? r.work.amount / (ms / 1000) : 1000 / ms;
}

/** A result's throughput, by wall time or (`cpu`) by the process's CPU time: single-threaded variants only. */
function figure(label: string, r: BenchResult, unit: string, cpu = false): Figure {
  if (cpu && r.cpuMedianMs !== undefined) return { label: `${label} (CPU time)`, rate: rate(r, true), unit };
  return { label, rate: throughput(r) ?? 1000 / r.medianMs, unit };
}

/** A time figure (ms), as a rate of runs per second so that ratios read "A is N× faster". */
function timeFigure(label: string, ms: number, note = ''): Figure {
  return { label, rate: 1000 / ms, unit: 'ms', text: `${fmt(ms)} ms${note}` };
}

function printTable(rows: readonly Comparison[]): void {
  console.log('\n| measure | A | A | B | B | A / B |');
  console.log('|---|---|---:|---|---:|---:|');
  for (const { measure, a, b, basis } of rows) {
    const show = (f: Figure) => f.text ?? `${fmt(f.rate)} ${f.unit}`;
    const ratio = a.rate / b.rate;
    console.log(`| ${measure} | ${a.label} | ${show(a)} | ${b.label} | ${show(b)} | ${ratio.toFixed(2)}×${basis ? ` (${basis})` : ''} |`);
  }
}

async function useWasm(threads: number): Promise<void> {
  await setBackend('wasm');
  await setWasmThreads(threads);
  await loadWasmKernels();
}

// ---- selective scan ------------------------------------------------------------------------------------

/** The forward scan in Mamba's configuration (D, z, delta bias, softplus), inputs on the current backend. */
function scanInputs(dim: number, N: number, L: number) {
  return tidy(() => ({
    u: randn([1, dim, L], { seed: 1 }),
    delta: mul(randn([1, dim, L], { seed: 2 }), 0.5),
    A: neg(exp(mul(randn([dim, N], { seed: 3 }), 0.5))),
    B: randn([1, N, L], { seed: 4 }),
    C: randn([1, N, L], { seed: 5 }),
    D: randn([dim], { seed: 6 }),
    z: randn([1, dim, L], { seed: 7 }),
    deltaBias: mul(randn([dim], { seed: 8 }), 0.1),
  }));
}

/** Compiles packages/selective-scan/bench/scan_ref.c (the same algorithm in C) twice and runs both. */
function nativeScans(dim: number, L: number, repeats: number): { sse?: number[]; native?: number[]; why?: string } {
  let source: string;
  try {
    source = join(dirname(require.resolve('@ssmjs/selective-scan/package.json')), 'bench', 'scan_ref.c');
  } catch {
    return { why: '@ssmjs/selective-scan not found' };
  }
  if (!existsSync(source)) return { why: `${source} not found (needs the repository checkout)` };
  const dir = mkdtempSync(join(tmpdir(), 'ssm-bench-'));
  try {
    const run = (flags: string[], name: string): number[] => {
      const out = join(dir, name);
      execFileSync('cc', [...flags, '-o', out, source, '-lm']);
      // Prints median wall ms, median CPU ms, checksum over `repeats` runs.
      return execFileSync(out, ['1', String(dim), String(L), String(repeats)]).toString().trim().split(' ').map(Number);
    };
    return { sse: run(['-O3', '-msse4.2', '-mno-avx', '-DW=4'], 'sse'), native: run(['-O3', '-march=native', '-DW=16'], 'native') };
  } catch (e) {
    return { why: `C compiler: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function scanSection(quick: boolean, rows: Comparison[]): Promise<void> {
  const [dim, N, L] = [1536, 16, quick ? 512 : 2048];
  const shape = `B1 D${dim} N${N} L${L}`;
  const results: BenchResult[] = [];
  const run = async (name: string) => {
    const x = scanInputs(dim, N, L);
    results.push(await bench(name, () => tidy(() => selectiveScan({ ...x, deltaSoftplus: true }).y.dataSync()), { warmup: 1, repeats: quick ? 3 : 5 }));
    dispose(x);
  };
  await setBackend('cpu');
  await run('cpu kernel');
  await useWasm(1);
  await run('wasm, 1 thread');
  await setWasmThreads(2);
  await run('wasm, 2 threads');
  const [cpu, w1, w2] = results;
  console.log(`\nselective scan forward, ${shape}\n${formatBenchTable(results, 'cpu kernel')}`);
  const cpuTime = (r: BenchResult) => r.cpuMedianMs ?? r.medianMs;
  const measure = `selective scan fwd ${shape}`;
  rows.push({ measure, a: timeFigure('wasm 1 thread', cpuTime(w1), ' CPU'), b: timeFigure('cpu kernel (TS)', cpuTime(cpu), ' CPU'), basis: 'CPU time' });
  rows.push({ measure, a: timeFigure('wasm 2 threads', w2.medianMs), b: timeFigure('wasm 1 thread', w1.medianMs), basis: 'wall' });
  const native = nativeScans(dim, L, quick ? 3 : 5);
  if (native.why) {
    console.log(`native C scan: not run (${native.why})`);
    return;
  }
  console.log(`native C: SSE4.2 ${native.sse![0].toFixed(1)} ms (${native.sse![1].toFixed(1)} CPU), -march=native ${native.native![0].toFixed(1)} ms (${native.native![1].toFixed(1)} CPU)`);
  rows.push({ measure, a: timeFigure('wasm 1 thread', cpuTime(w1), ' CPU'), b: timeFigure('native C SSE4.2 (128-bit)', native.sse![1], ' CPU'), basis: 'CPU time' });
  rows.push({ measure, a: timeFigure('wasm 1 thread', cpuTime(w1), ' CPU'), b: timeFigure('native C -march=native', native.native![1], ' CPU'), basis: 'CPU time' });
}

// ---- matmul ----------------------------------------------------------------------------------------------

async function matmulSection(quick: boolean, rows: Comparison[]): Promise<void> {
  const n = quick ? 256 : 512;
  const results: BenchResult[] = [];
  const run = async (name: string, repeats: number) => {
    const a = randn([n, n], { seed: 1 });
    const b = randn([n, n], { seed: 2 });
    results.push(await bench(name, () => tidy(() => matmul(a, b).dataSync()), { warmup: 1, repeats, work: { amount: 2 * n ** 3 / 1e9, unit: 'GFLOP' } }));
    dispose([a, b]);
  };
  await setBackend('cpu');
  await run('cpu', 3);
  await useWasm(1);
  await run('wasm, 1 thread', 10);
  await setWasmThreads(2);
  await run('wasm, 2 threads', 10);
  console.log(`\nmatmul ${n}×${n}·${n}×${n}\n${formatBenchTable(results, 'cpu')}`);
  const [cpu, w1, w2] = results;
  const measure = `matmul ${n}³ f32`;
  rows.push({ measure, a: figure('wasm 1 thread', w1, 'GFLOP/s', true), b: figure('cpu backend (TS)', cpu, 'GFLOP/s', true) });
  rows.push({ measure, a: figure('wasm 2 threads', w2, 'GFLOP/s'), b: figure('wasm 1 thread', w1, 'GFLOP/s') });
}

// ---- Mamba 130m shape: prefill, decode, memory -------------------------------------------------------------

async function modelSection(quick: boolean, rows: Comparison[]): Promise<void> {
  await useWasm(1);
  const created = performance.now();
  const model = MambaLM.create(MAMBA_130M, { seed: 0 });
  console.log(`\nMamba 130m shape (d_model 768, 24 layers, vocab 50280, random weights): ${(model.parameterCount() / 1e6).toFixed(1)}M parameters, made in ${((performance.now() - created) / 1000).toFixed(1)} s`);
  const weightBytes = backendBytes();
  const L = quick ? 64 : 512;
  const steps = quick ? 4 : 16;
  const results: BenchResult[] = [];
  let peakBackend = weightBytes;
  const track = (r: BenchResult) => {
    results.push(r);
    peakBackend = Math.max(peakBackend, backendBytes());
    return r;
  };
  const p1 = track(await benchPrefill(model, `prefill L${L}, wasm 1 thread`, 1, L, { repeats: 2 }));
  const d1 = track(await benchDecode(model, 'decode batch 1, wasm 1 thread', 1, steps));
  const d8 = track(await benchDecode(model, 'decode batch 8, wasm 1 thread', 8, steps));
  await setWasmThreads(2);
  const p2 = track(await benchPrefill(model, `prefill L${L}, wasm 2 threads`, 1, L, { repeats: 2 }));
  const d1t2 = track(await benchDecode(model, 'decode batch 1, wasm 2 threads', 1, steps));
  const d8t2 = track(await benchDecode(model, 'decode batch 8, wasm 2 threads', 8, steps));
  console.log(formatBenchTable(results));
  console.log(`  by CPU time: prefill ${fmt(rate(p1, true))} tok/s, decode b1 ${fmt(rate(d1, true))} tok/s, b8 ${fmt(rate(d8, true))} tok/s (1 thread)`);
  const anchor = (a: { label: string; rate: number; range: string }): Figure => ({ label: a.label, rate: a.rate, unit: 'tok/s', text: `${a.range} tok/s` });
  const m = '130m';
  rows.push({ measure: `${m} prefill L${L}`, a: figure('wasm 1 thread', p1, 'tok/s'), b: anchor(ANCHORS.prefill1), basis: 'anchor midpoint, L512' });
  rows.push({ measure: `${m} prefill L${L}`, a: figure('wasm 1 thread', p1, 'tok/s', true), b: anchor(ANCHORS.prefill1), basis: 'anchor midpoint, L512' });
  rows.push({ measure: `${m} prefill L${L}`, a: figure('wasm 2 threads', p2, 'tok/s'), b: anchor(ANCHORS.prefill2), basis: 'anchor midpoint, L512' });
  rows.push({ measure: `${m} decode batch 1`, a: figure('wasm 1 thread', d1, 'tok/s'), b: anchor(ANCHORS.decode1), basis: 'anchor midpoint' });
  rows.push({ measure: `${m} decode batch 1`, a: figure('wasm 1 thread', d1, 'tok/s', true), b: anchor(ANCHORS.decode1), basis: 'anchor midpoint' });
  rows.push({ measure: `${m} decode batch 1`, a: figure('wasm 2 threads', d1t2, 'tok/s'), b: anchor(ANCHORS.decode2), basis: 'anchor midpoint' });
  rows.push({ measure: `${m} decode`, a: figure('batch 8, 1 thread', d8, 'tok/s', true), b: figure('batch 1, 1 thread', d1, 'tok/s', true) });
  rows.push({ measure: `${m} decode`, a: figure('batch 8, 2 threads', d8t2, 'tok/s'), b: figure('batch 8, 1 thread', d8, 'tok/s') });
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  const MiB = 1024 * 1024;
  const wasmMemory = (model.parameters()[0].value.backend as WasmBackend).wasmMemory.buffer.byteLength;
  console.log(
    `  memory: weights ${fmt(weightBytes / MiB)} MiB on the backend, peak live tensors ${fmt(peakBackend / MiB)} MiB, wasm memory ${fmt(wasmMemory / MiB)} MiB ` +
      `(grows, never shrinks: tensors + kernel scratch + free blocks), peak process RSS ${fmt(rssMiB)} MiB (the whole process so far: \`--only model\` for the model alone)`,
  );
  // Lower is better for memory: the ratio is A's MiB over B's.
  rows.push({
    measure: `${m} peak memory`,
    a: { label: 'process RSS, this run', rate: rssMiB, unit: 'MiB', text: `${fmt(rssMiB)} MiB (tensors ${fmt(peakBackend / MiB)})` },
    b: { label: 'llama.cpp f32 (anchor, mmap)', rate: ANCHORS.peakMiB, unit: 'MiB', text: `${ANCHORS.peakMiB} MiB` },
    basis: 'MiB over MiB: lower is better',
  });
  model.dispose();
}

// ---- training ----------------------------------------------------------------------------------------------

async function trainSection(quick: boolean, rows: Comparison[]): Promise<void> {
  const [batch, L] = quick ? [2, 64] : [8, 256];
  const config = { dModel: 128, nLayer: 4, vocabSize: 4096 };
  const results: BenchResult[] = [];
  const run = async (name: string, repeats: number) => {
    const model = MambaLM.create(config, { seed: 0 });
    results.push(await benchTrainStep(model, name, batch, L, { repeats, warmup: 1 }));
    model.dispose();
  };
  await useWasm(1);
  await run('wasm, 1 thread', 5);
  await setWasmThreads(2);
  await run('wasm, 2 threads', 5);
  await setBackend('cpu');
  await run('cpu', quick ? 2 : 1);
  console.log(`\ntraining step, d_model 128, 4 layers, vocab 4096, batch ${batch}, L ${L}, AdamW\n${formatBenchTable(results, 'cpu')}`);
  const [w1, w2, cpu] = results;
  const measure = `train d128×4 B${batch} L${L}`;
  rows.push({ measure, a: figure('wasm 1 thread', w1, 'tok/s', true), b: figure('cpu backend', cpu, 'tok/s', true) });
  rows.push({ measure, a: figure('wasm 2 threads', w2, 'tok/s'), b: figure('wasm 1 thread', w1, 'tok/s') });
}

// ---- tokenizer ---------------------------------------------------------------------------------------------

async function tokenizerSection(quick: boolean, rows: Comparison[]): Promise<void> {
  let json: Record<string, unknown>;
  let Reference: new (json: unknown, config: unknown) => { encode(text: string, options: unknown): { ids: number[] } };
  try {
    const path = join(dirname(require.resolve('@ssmjs/tokenizer/package.json')), 'test', 'fixtures', 'gpt-neox-20b.tokenizer.json');
    json = JSON.parse(readFileSync(path, 'utf8'));
    Reference = (await import('@huggingface/tokenizers')).Tokenizer as unknown as typeof Reference;
  } catch (e) {
    console.log(`\ntokenizer: not run (${(e as Error).message.split('\n')[0]}; needs the repository checkout)`);
    return;
  }
  const documents = brownDocuments(quick ? 15 : 3);
  const megabytes = documents.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0) / 1e6;
  const ours = Tokenizer.fromJSON(json);
  const theirs = new Reference(json, {});
  const differing = documents.filter((d) => ours.encode(d).join() !== theirs.encode(d, { add_special_tokens: false }).ids.join()).length;
  const work = { amount: megabytes, unit: 'MB' };
  const results = [
    await bench('@ssmjs/tokenizer', () => documents.forEach((d) => ours.encode(d)), { warmup: 1, repeats: 3, work }),
    await bench('@huggingface/tokenizers', () => documents.forEach((d) => theirs.encode(d, { add_special_tokens: false })), { warmup: 1, repeats: 3, work }),
  ];
  console.log(`\ntokenizer encode, GPT-NeoX-20B, ${documents.length} Brown documents (${megabytes.toFixed(2)} MB), ids differing: ${differing}\n${formatBenchTable(results, '@huggingface/tokenizers')}`);
  rows.push({ measure: 'tokenizer encode (GPT-NeoX)', a: figure('@ssmjs/tokenizer', results[0], 'MB/s', true), b: figure('@huggingface/tokenizers (JS)', results[1], 'MB/s', true) });
}

/** Runs every section (each reports what it could not run), then prints the table of ratios. */
export async function runBench(flags: { quick: boolean; only?: string }): Promise<void> {
  const started = new Date();
  const sections: [string, (quick: boolean, rows: Comparison[]) => Promise<void>][] = [
    ['scan', scanSection], ['matmul', matmulSection], ['model', modelSection], ['train', trainSection], ['tokenizer', tokenizerSection],
  ];
  const chosen = flags.only ? flags.only.split(',') : sections.map(([name]) => name);
  console.log(`ssm bench${flags.quick ? ' --quick' : ''}: ${started.toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
  const rows: Comparison[] = [];
  for (const [name, section] of sections) {
    if (!chosen.includes(name)) continue;
    try {
      await section(flags.quick, rows);
    } catch (e) {
      console.log(`\n${name}: failed (${(e as Error).message})`);
    }
  }
  printTable(rows);
  console.log(`\n${((Date.now() - started.getTime()) / 1000).toFixed(0)} s, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' / ')}; backend at the end: ${getBackend()}`);
}
