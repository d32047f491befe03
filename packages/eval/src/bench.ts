/**
 * The benchmark harness every package's `bench` script uses: warm-up, repeats, the median, and ratios
 * between variants timed in the same run (absolute times vary with the machine; ratios travel).
 */
export interface BenchOptions {
  warmup?: number;
  repeats?: number;
  /** Stop repeating after this many milliseconds (at least `minRepeats` runs). */
  maxTimeMs?: number;
  minRepeats?: number;
}

export interface BenchResult {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samples: number[];
  /**
   * Median CPU time of the whole process per run (Node only): steadier than wall time on a shared machine,
   * but it adds up every thread, so compare it only between single-threaded variants.
   */
  cpuMedianMs?: number;
  /** Work per run (e.g. FLOPs, bytes, tokens) and its unit, for throughput. */
  work?: { amount: number; unit: string };
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Process CPU time in ms where the runtime exposes it (Node's `process.cpuUsage`), else undefined. */
function cpuNow(): number | undefined {
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!proc?.cpuUsage) return undefined;
  const { user, system } = proc.cpuUsage();
  return (user + system) / 1000;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `fn` (sync or async): `warmup` untimed runs, then up to `repeats` timed runs. */
export async function bench(
  name: string,
  fn: () => unknown | Promise<unknown>,
  options: BenchOptions & { work?: { amount: number; unit: string } } = {},
): Promise<BenchResult> {
  const { warmup = 2, repeats = 10, maxTimeMs = 10_000, minRepeats = 3 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  const start = now();
  while (samples.length < repeats && (samples.length < minRepeats || now() - start < maxTimeMs)) {
    const c0 = cpuNow();
    const t0 = now();
    await fn();
    samples.push(now() - t0);
    const c1 = cpuNow();
    if (c0 !== undefined && c1 !== undefined) cpuSamples.push(c1 - c0);
  }
  const result: BenchResult = { name, medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), samples, work: options.work };
  if (cpuSamples.length === samples.length) result.cpuMedianMs = median(cpuSamples);
  return result;
}

/** Throughput of a result in its work unit per second. */
export function throughput(r: BenchResult): number | undefined {
  return r.work ? r.work.amount / (r.medianMs / 1000) : undefined;
}

/** How many times faster `a` is than `b` (median over median). */
export function speedup(a: BenchResult, b: BenchResult): number {
  return b.medianMs / a.medianMs;
}

function fmt(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)} k`;
  return x.toFixed(2);
}

/** A markdown table of results, each with its ratio against `baseline` (by name) when given. */
export function formatBenchTable(results: readonly BenchResult[], baseline?: string): string {
  const base = results.find((r) => r.name === baseline);
  const lines = ['| variant | median ms | min ms | median CPU ms | throughput | × baseline |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of results) {
    const tp = throughput(r);
    const ratio = base ? `${speedup(r, base).toFixed(2)}×` : '';
    const cpu = r.cpuMedianMs !== undefined ? r.cpuMedianMs.toFixed(3) : '';
    lines.push(`| ${r.name} | ${r.medianMs.toFixed(3)} | ${r.minMs.toFixed(3)} | ${cpu} | ${tp !== undefined ? `${fmt(tp)}${r.work!.unit}/s` : ''} | ${ratio} |`);
  }
  return lines.join('\n');
}
