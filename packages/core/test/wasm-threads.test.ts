import { describe, expect, it } from 'vitest';
import { WasmBackendClass } from './wasm-helpers';

/**
 * A kernel module written out byte by byte (no toolchain needed): it imports a shared `env.memory`
 * and exports `put(ptr, value)`, which stores one int32, and `spin()`, which never returns.
 */
function testKernelModule(): Uint8Array<ArrayBuffer> {
  const text = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const putBody = [0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b]; // local.get 0, local.get 1, i32.store, end
  const spinBody = [0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]; // loop, br 0, end, end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, 0x60, 2, 0x7f, 0x7f, 0, 0x60, 0, 0]), // types: (i32, i32) -> (), () -> ()
    ...section(2, [1, ...text('env'), ...text('memory'), 0x02, 0x03, 0x00, 0x80, 0x80, 0x04]), // shared, 0..65536 pages
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...text('put'), 0x00, 0, ...text('spin'), 0x00, 1]),
    ...section(10, [2, putBody.length, ...putBody, spinBody.length, ...spinBody]),
  ]);
}

/** Before the fix, the calling thread fell asleep for good, on a busy 2-core machine, after 0.1–1.5 M such jobs. */
const JOBS = 1_500_000;
const TIME_BUDGET_MS = 15_000;

describe('wasm worker pool', () => {
  // The calling thread used to take the value to sleep on from a second read of the worker's DONE
  // word: a worker finishing between the check and that read left it asleep for good (seen as
  // `ssm train --backend wasm` stopping at ~5% CPU after some 20 000 jobs). Many tiny jobs, from core
  // and from a second module, with the memory growing in between, make that window come up.
  it('finishes hundreds of thousands of tiny jobs of two modules while the memory grows', async () => {
    const be = await WasmBackendClass.create({ threads: 2, jobTimeoutMs: 20_000 });
    try {
      const mod = await be.loadKernelModule(testKernelModule());
      const cell = be.ptr(be.output([64]));
      const workerCell = cell + 128;
      const stopAt = performance.now() + TIME_BUDGET_MS;
      let i = 0;
      for (; i < JOBS && (i % 1000 !== 0 || performance.now() < stopAt); i++) {
        // Parts of equal size: the calling thread reaches its wait just as the worker finishes.
        if (i % 2 === 0) be.parallel('fill32', 2, (part) => (part === 0 ? [cell, i, 32] : [workerCell, i, 32]));
        else mod.parallel('put', 2, (part) => (part === 0 ? [cell, i] : [workerCell, i]));
        if (i % 100_000 === 0 && i <= 400_000) {
          // The memory grows while the worker runs its part (part 0's arguments are made after the
          // workers' jobs are posted), and then the worker writes into the new part of it.
          const before = be.wasmMemory.buffer.byteLength;
          let big = 0;
          mod.parallel('put', 2, (part) => (part === 1 ? [workerCell, i] : [(big = be.ptr(be.output([before / 4]))) + before - 4, i + 7]));
          expect(be.wasmMemory.buffer.byteLength).toBeGreaterThan(before);
          mod.parallel('put', 2, (part) => (part === 0 ? null : [big, i + 8]));
          const grown = new Int32Array(be.wasmMemory.buffer, big, before / 4);
          expect([grown[0], grown[before / 4 - 1]]).toEqual([i + 8, i + 7]);
        }
      }
      // The worker's half holds the last job's value.
      expect(new Int32Array(be.wasmMemory.buffer, workerCell, 1)[0]).toBe(i - 1);
    } finally {
      await be.dispose();
    }
  });

  it('a job that never finishes throws a BackendError naming the kernel, then runs single-threaded', async () => {
    const be = await WasmBackendClass.create({ threads: 2, jobTimeoutMs: 300 });
    try {
      const mod = await be.loadKernelModule(testKernelModule());
      const started = performance.now();
      // Part 0 (the calling thread) is skipped; the worker spins.
      expect(() => mod.parallel('spin', 2, (part) => (part === 0 ? null : []))).toThrow(
        /wasm worker 0: kernel 'spin' of module 1 did not finish within 300 ms/,
      );
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(be.threads).toBe(1);
      const cell = be.ptr(be.output([4]));
      mod.parallel('put', 2, () => [cell, 42]);
      expect(new Int32Array(be.wasmMemory.buffer, cell, 1)[0]).toBe(42);
    } finally {
      await be.dispose();
    }
  });
});
