import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBench } from '../src/commands/bench';

describe('ssm bench', () => {
  afterEach(() => vi.restoreAllMocks());

  it('times matmul on cpu and wasm in one run and prints the ratio table with measured figures', async () => {
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void printed.push(parts.join(' ')));
    await runBench({ quick: true, only: 'matmul' });
    const rows = printed.join('\n').split('\n').filter((line) => line.startsWith('| matmul 256³ f32 |'));
    expect(rows).toHaveLength(2);
    // | measure | A | A's figure | B | B's figure | ratio |
    const [measure, a, aFigure, b, bFigure, ratio] = rows[0].split('|').slice(1, -1).map((cell) => cell.trim());
    expect(measure).toBe('matmul 256³ f32');
    expect(a).toMatch(/^wasm 1 thread/);
    expect(b).toMatch(/^cpu backend/);
    const gflops = (cell: string) => Number(cell.replace(' GFLOP/s', ''));
    expect(gflops(aFigure)).toBeGreaterThan(0);
    expect(gflops(bFigure)).toBeGreaterThan(0);
    // The ratio is the two figures' quotient (shown rounded to 0.1, hence the tolerance); the wasm kernel
    // is far faster than plain TypeScript.
    const shown = Number(ratio.split('×')[0]);
    expect(Math.abs(shown / (gflops(aFigure) / gflops(bFigure)) - 1)).toBeLessThan(0.15);
    expect(shown).toBeGreaterThan(2);
  }, 120_000);
});
