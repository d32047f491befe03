import { BackendError } from '../../errors';
import { importNode } from './loader';

// Control block of one worker, an Int32Array over a SharedArrayBuffer; arguments as float64 from ARGS.
const SEQ = 0; // bumped by the main thread to post a job
const DONE = 1; // set to SEQ by the worker when the job is finished
const KIND = 2; // CALL, LOAD or EXIT
const MODULE = 3;
const EXPORT = 4;
const NARGS = 5;
const STATUS = 6; // 0 ok, 1 failed (the message follows on the port)
const CALL = 0;
const LOAD = 1;
const EXIT = 2;
const ARGS_BYTE_OFFSET = 64;
export const MAX_ARGS = 24;
const CONTROL_BYTES = ARGS_BYTE_OFFSET + MAX_ARGS * 8;

// The worker: waits on its control block, runs the export it is told with the arguments there, and
// reports back through the same block. Kernel modules arrive as messages, read synchronously.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, port } = workerData;
const ctl = new Int32Array(control);
const args = new Float64Array(control, ${ARGS_BYTE_OFFSET}, ${MAX_ARGS});
const env = { memory, abort() { throw new Error('wasm kernel aborted'); } };
const modules = [];
let seq = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seq);
  seq = Atomics.load(ctl, ${SEQ});
  const kind = ctl[${KIND}];
  if (kind === ${EXIT}) break;
  try {
    if (kind === ${LOAD}) {
      for (let m; (m = receiveMessageOnPort(port)); ) {
        const instance = new WebAssembly.Instance(m.message.module, { env });
        modules.push(m.message.names.map((name) => instance.exports[name]));
      }
    } else {
      const fn = modules[ctl[${MODULE}]][ctl[${EXPORT}]];
      const a = Array.from(args.subarray(0, ctl[${NARGS}]));
      fn(...a);
    }
    ctl[${STATUS}] = 0;
  } catch (e) {
    ctl[${STATUS}] = 1;
    port.postMessage(String((e && e.stack) || e));
  }
  Atomics.store(ctl, ${DONE}, seq);
  Atomics.notify(ctl, ${DONE});
}
`;

type NodeWorkerThreads = typeof import('node:worker_threads');

interface PoolWorker {
  worker: import('node:worker_threads').Worker;
  port: import('node:worker_threads').MessagePort;
  ctl: Int32Array;
  args: Float64Array;
  seq: number;
}

/**
 * Node worker threads over the backend's shared memory. Jobs are posted and awaited with Atomics on
 * a small shared control block, so a kernel call stays synchronous: the main thread takes one part
 * of the work itself and then blocks (Atomics.wait) until the workers are done.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly modules: { module: WebAssembly.Module; names: string[] }[] = [];

  private constructor(
    private readonly threads: NodeWorkerThreads,
    private readonly memory: WebAssembly.Memory,
  ) {}

  static async create(memory: WebAssembly.Memory): Promise<WorkerPool> {
    return new WorkerPool(await importNode<NodeWorkerThreads>('node:worker_threads'), memory);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Starts or stops workers until there are `count`; new workers load every registered module. */
  async resize(count: number): Promise<void> {
    while (this.workers.length > count) this.stop(this.workers.pop()!);
    const started: Promise<void>[] = [];
    while (this.workers.length < count) {
      const { port1, port2 } = new this.threads.MessageChannel();
      const control = new SharedArrayBuffer(CONTROL_BYTES);
      const worker = new this.threads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { memory: this.memory, control, port: port2 },
        transferList: [port2],
      });
      port1.unref();
      const entry: PoolWorker = { worker, port: port1, ctl: new Int32Array(control), args: new Float64Array(control, ARGS_BYTE_OFFSET, MAX_ARGS), seq: 0 };
      this.workers.push(entry);
      started.push(new Promise((resolve, reject) => {
        // Unreferenced only once online: until then the pending start must keep Node's loop alive;
        // afterwards idle workers must not keep the process from exiting.
        worker.once('online', () => {
          worker.unref();
          resolve();
        });
        worker.once('error', reject);
      }));
      for (const m of this.modules) port1.postMessage(m);
      if (this.modules.length > 0) this.post(entry, LOAD, 0, 0, []);
    }
    await Promise.all(started);
    for (const w of this.workers) this.wait(w);
  }

  /** Instantiates a module in every worker (now and in workers started later); returns its index. */
  addModule(module: WebAssembly.Module, names: string[]): number {
    this.modules.push({ module, names });
    for (const w of this.workers) {
      w.port.postMessage({ module, names });
      this.post(w, LOAD, 0, 0, []);
    }
    for (const w of this.workers) this.wait(w);
    return this.modules.length - 1;
  }

  /** Posts export `exportIndex` of module `moduleIndex` to worker `w` (does not wait). */
  start(w: number, moduleIndex: number, exportIndex: number, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new BackendError(`wasm threads: at most ${MAX_ARGS} kernel arguments, got ${args.length}`);
    this.post(this.workers[w], CALL, moduleIndex, exportIndex, args);
  }

  /** Blocks until worker `w` has finished its job; rethrows its failure. */
  finish(w: number): void {
    this.wait(this.workers[w]);
  }

  async terminate(): Promise<void> {
    await this.resize(0);
  }

  private post(w: PoolWorker, kind: number, moduleIndex: number, exportIndex: number, args: readonly number[]): void {
    w.ctl[KIND] = kind;
    w.ctl[MODULE] = moduleIndex;
    w.ctl[EXPORT] = exportIndex;
    w.ctl[NARGS] = args.length;
    for (let i = 0; i < args.length; i++) w.args[i] = args[i];
    w.seq++;
    Atomics.store(w.ctl, SEQ, w.seq);
    Atomics.notify(w.ctl, SEQ);
  }

  private wait(w: PoolWorker): void {
    while (Atomics.load(w.ctl, DONE) !== w.seq) Atomics.wait(w.ctl, DONE, Atomics.load(w.ctl, DONE));
    if (w.ctl[STATUS] !== 0) {
      w.ctl[STATUS] = 0;
      const report = this.threads.receiveMessageOnPort(w.port)?.message;
      throw new BackendError(`wasm worker: kernel failed: ${String(report ?? 'no message')}`);
    }
  }

  private stop(w: PoolWorker): void {
    this.post(w, EXIT, 0, 0, []);
    void w.worker.terminate();
    w.port.close();
  }
}
