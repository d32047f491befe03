import { bench, formatBenchTable, type BenchResult } from '@ssmjs/eval';
import { dispose, matmul, randn, setBackend, tidy } from '@ssmjs/core';

/**
 * The quick in-process benchmarks: matmul per backend, and model forward/decode. Each table compares
 * variants timed in this run; `docs/benchmarks.md` has the full set with their commands.
 */
export async function runBench(flags: { quick: boolean }): Promise<void> {
  const n = flags.quick ? 128 : 256;
  const results: BenchResult[] = [];
  for (const backend of ['cpu', 'wasm']) {
    try {
      await setBackend(backend);
    } catch (e) {
      console.log(`${backend}: not available (${(e as Error).message})`);
      continue;
    }
    const a = randn([n, n], { seed: 1 });
    const b = randn([n, n], { seed: 2 });
    results.push(
      await bench(`matmul ${n}³ ${backend}`, () => tidy(() => matmul(a, b).dataSync()), { work: { amount: 2 * n ** 3, unit: 'FLOP' }, repeats: 10 }),
    );
    dispose([a, b]);
  }
  console.log(formatBenchTable(results, `matmul ${n}³ cpu`));
}
