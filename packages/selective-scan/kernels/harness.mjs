// The lab's standalone runner for the wasm scan kernels: its own shared WebAssembly.Memory, a bump
// allocator, and worker threads that instantiate the same module over the same memory. Used by the
// bench and by the kernel tests until core's wasm backend hosts the kernels.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export const FLAGS = { D: 1, z: 2, deltaBias: 4, initialState: 8, softplus: 16 };

const PAGE = 65536;

/** Whether this engine accepts the relaxed-SIMD build (Node 20 needs --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported() {
  return WebAssembly.validate(readFileSync(kernelPath('relaxed')));
}

export function kernelPath(variant) {
  const names = { simd: 'scan-simd', relaxed: 'scan-relaxed', v1: 'lab-v1-scalar' };
  return new URL(`../assembly/build/${names[variant]}.wasm`, import.meta.url);
}

/** A module instance over a shared memory, plus `threads - 1` workers running the same module. */
export class ScanLab {
  static async create({ variant = 'simd', threads = 1, pages = 2048 } = {}) {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
    const bytes = readFileSync(kernelPath(variant));
    const module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort() { throw new Error('wasm abort'); } } });
    const workers = [];
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { module, memory } });
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      workers.push(worker);
    }
    return new ScanLab(memory, instance.exports, workers);
  }

  constructor(memory, exports, workers) {
    this.memory = memory;
    this.exports = exports;
    this.workers = workers;
    this.top = PAGE;
    this.done = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, workers.length)));
  }

  /** Byte offset of `count` new floats (16-byte aligned). */
  alloc(count) {
    const at = this.top;
    this.top += Math.ceil((count * 4) / 16) * 16;
    const needed = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) this.memory.grow(needed);
    return at;
  }

  floats(ptr, count) {
    return new Float32Array(this.memory.buffer, ptr, count);
  }

  put(values) {
    const ptr = this.alloc(values.length);
    this.floats(ptr, values.length).set(values);
    return ptr;
  }

  /**
   * Sets up one forward problem: copies the inputs in, allocates outputs and per-thread scratch.
   * `inputs`: { u, delta, A, B, C, D?, z?, deltaBias?, initialState? } as Float32Arrays.
   */
  setup({ batch, dim, N, L, chunk = 64, softplus = false }, inputs) {
    const Np = Math.ceil(N / 4) * 4;
    const Lp = Math.ceil(L / 4) * 4;
    const chunks = Math.ceil(L / chunk);
    let flags = softplus ? FLAGS.softplus : 0;
    for (const k of ['D', 'z', 'deltaBias', 'initialState']) if (inputs[k]) flags |= FLAGS[k];
    const p = {
      u: this.put(inputs.u), delta: this.put(inputs.delta), A: this.put(inputs.A), B: this.put(inputs.B), C: this.put(inputs.C),
      D: inputs.D ? this.put(inputs.D) : 0, z: inputs.z ? this.put(inputs.z) : 0,
      deltaBias: inputs.deltaBias ? this.put(inputs.deltaBias) : 0, h0: inputs.initialState ? this.put(inputs.initialState) : 0,
      A2: this.alloc(dim * Np), Bt: this.alloc(batch * L * Np), Ct: this.alloc(batch * L * Np),
      y: this.alloc(batch * dim * L), lastState: this.alloc(batch * dim * N), checkpoints: this.alloc(batch * dim * chunks * N),
      scratch: Array.from({ length: this.workers.length + 1 }, () => this.alloc(4 * Lp + Np)),
    };
    return { batch, dim, N, Np, L, chunk, chunks, flags, p };
  }

  /** Runs prepare + forward, channels split evenly over the threads (even split points keep pairs). */
  forward(problem) {
    const { batch, dim, N, Np, L, chunk, flags, p } = problem;
    this.exports.prepare(p.A, p.B, p.C, p.A2, p.Bt, p.Ct, batch, dim, N, Np, L);
    const threads = this.workers.length + 1;
    const bounds = Array.from({ length: threads + 1 }, (_, i) => Math.min(dim, 2 * Math.round((i * dim) / threads / 2)));
    bounds[threads] = dim;
    const args = (i) => [p.u, p.delta, p.A2, p.Bt, p.Ct, p.D, p.z, p.deltaBias, p.h0, p.y, p.lastState, p.checkpoints, p.scratch[i], batch, dim, N, Np, L, chunk, flags, bounds[i], bounds[i + 1]];
    Atomics.store(this.done, 0, 0);
    this.done.fill(0);
    this.workers.forEach((w, k) => w.postMessage({ fn: 'scanForward', args: args(k + 1), done: this.done, slot: k }));
    this.exports.scanForward(...args(0));
    for (let k = 0; k < this.workers.length; k++) Atomics.wait(this.done, k, 0);
    return {
      y: this.floats(p.y, batch * dim * L),
      lastState: this.floats(p.lastState, batch * dim * N),
      checkpoints: this.floats(p.checkpoints, batch * dim * problem.chunks * N),
    };
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
