import { BackendError } from '../../errors';
import { importNode, isNode } from './loader';

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
/** The watchdog's default: far beyond any one kernel call (the biggest take well under a second). */
export const DEFAULT_JOB_TIMEOUT_MS = 60_000;
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

// The same loop for a browser Worker (a classic script from a Blob). Messages arrive only through the
// event loop, so on LOAD the loop returns to it; onmessage instantiates the module and resumes the loop.
const BROWSER_WORKER_SOURCE = `
let ctl, args, env, seq = 0;
const modules = [];
function done(status) {
  ctl[${STATUS}] = status;
  Atomics.store(ctl, ${DONE}, seq);
  Atomics.notify(ctl, ${DONE});
}
function loop() {
  for (;;) {
    Atomics.wait(ctl, ${SEQ}, seq);
    seq = Atomics.load(ctl, ${SEQ});
    const kind = ctl[${KIND}];
    if (kind === ${EXIT}) return close();
    if (kind === ${LOAD}) return;
    try {
      modules[ctl[${MODULE}]][ctl[${EXPORT}]](...Array.from(args.subarray(0, ctl[${NARGS}])));
      done(0);
    } catch (e) {
      postMessage(String((e && e.stack) || e));
      done(1);
    }
  }
}
onmessage = (event) => {
  const m = event.data;
  if (m.control) {
    ctl = new Int32Array(m.control);
    args = new Float64Array(m.control, ${ARGS_BYTE_OFFSET}, ${MAX_ARGS});
    env = { memory: m.memory, abort() { throw new Error('wasm kernel aborted'); } };
    postMessage('ready');
  } else {
    try {
      const instance = new WebAssembly.Instance(m.module, { env });
      modules.push(m.names.map((name) => instance.exports[name]));
      done(0);
    } catch (e) {
      postMessage(String((e && e.stack) || e));
      done(1);
    }
  }
  loop();
};
`;

/** One started worker, however the platform makes it. */
interface Spawned {
  /** Starts when the worker is ready to take jobs. */
  readonly ready: Promise<void>;
  /** Sends a message the worker takes on its next LOAD job. */
  send(message: { module: WebAssembly.Module; names: string[] }): void;
  /** The worker's report of its last failure, where it can be read synchronously (Node). */
  report(): string | undefined;
  stop(): void;
}

type Spawner = (memory: WebAssembly.Memory, control: SharedArrayBuffer) => Spawned;

async function nodeSpawner(): Promise<Spawner> {
  const threads = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
  return (memory, control) => {
    const { port1, port2 } = new threads.MessageChannel();
    const worker = new threads.Worker(WORKER_SOURCE, { eval: true, workerData: { memory, control, port: port2 }, transferList: [port2] });
    port1.unref();
    const ready = new Promise<void>((resolve, reject) => {
      // Unreferenced only once online: until then the pending start must keep Node's loop alive;
      // afterwards idle workers must not keep the process from exiting.
      worker.once('online', () => {
        worker.unref();
        resolve();
      });
      worker.once('error', reject);
    });
    return {
      ready,
      send: (message) => port1.postMessage(message),
      report: () => threads.receiveMessageOnPort(port1)?.message as string | undefined,
      stop: () => {
        void worker.terminate();
        port1.close();
      },
    };
  };
}

function browserSpawner(): Spawner {
  const url = URL.createObjectURL(new Blob([BROWSER_WORKER_SOURCE], { type: 'text/javascript' }));
  return (memory, control) => {
    const worker = new Worker(url);
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent) => {
        if (event.data === 'ready') resolve();
        // Later messages are failure reports; the failing call has already thrown on this side.
        else console.error(`wasm worker: ${String(event.data)}`);
      };
      worker.onerror = (event) => reject(new BackendError(`wasm worker failed to start: ${event.message}`));
    });
    worker.postMessage({ memory, control });
    return { ready, send: (message) => worker.postMessage(message), report: () => undefined, stop: () => worker.terminate() };
  };
}

/** True in a browser Worker (where Atomics.wait may block) rather than on a page's main thread. */
export function inBrowserWorker(): boolean {
  const scope = (globalThis as { WorkerGlobalScope?: new () => unknown }).WorkerGlobalScope;
  return scope !== undefined && globalThis instanceof scope;
}

interface PoolWorker {
  spawned: Spawned;
  ctl: Int32Array;
  args: Float64Array;
  seq: number;
}

/**
 * Worker threads over the backend's shared memory (Node worker_threads, or browser Workers when the
 * backend itself runs in a Worker). Jobs are posted and awaited with Atomics on a small shared
 * control block, so a kernel call stays synchronous: the calling thread takes one part of the work
 * itself and then blocks (Atomics.wait) until the workers are done.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly modules: { module: WebAssembly.Module; names: string[] }[] = [];
  /** Set when a job missed the watchdog's deadline: the pool takes no more jobs. */
  stalled: BackendError | null = null;

  private constructor(
    private readonly spawn: Spawner,
    private readonly memory: WebAssembly.Memory,
    private readonly jobTimeoutMs: number,
  ) {}

  /** `jobTimeoutMs`: how long the calling thread waits for a worker's job before throwing instead of hanging. */
  static async create(memory: WebAssembly.Memory, jobTimeoutMs = DEFAULT_JOB_TIMEOUT_MS): Promise<WorkerPool> {
    return new WorkerPool(isNode ? await nodeSpawner() : browserSpawner(), memory, jobTimeoutMs);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Starts or stops workers until there are `count`; new workers load every registered module. */
  async resize(count: number): Promise<void> {
    while (this.workers.length > count) this.stop(this.workers.pop()!);
    const fresh: PoolWorker[] = [];
    while (this.workers.length < count) {
      const control = new SharedArrayBuffer(CONTROL_BYTES);
      const w: PoolWorker = { spawned: this.spawn(this.memory, control), ctl: new Int32Array(control), args: new Float64Array(control, ARGS_BYTE_OFFSET, MAX_ARGS), seq: 0 };
      this.workers.push(w);
      fresh.push(w);
    }
    await Promise.all(fresh.map((w) => w.spawned.ready));
    // One module per LOAD job: a browser worker takes one message each time it returns to its loop.
    for (const m of this.modules) {
      for (const w of fresh) this.load(w, m);
      for (const w of fresh) this.wait(w);
    }
  }

  /** Instantiates a module in every worker (now and in workers started later); returns its index. */
  addModule(module: WebAssembly.Module, names: string[]): number {
    const m = { module, names };
    this.modules.push(m);
    for (const w of this.workers) this.load(w, m);
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

  private load(w: PoolWorker, m: { module: WebAssembly.Module; names: string[] }): void {
    w.spawned.send(m);
    this.post(w, LOAD, 0, 0, []);
  }

  private post(w: PoolWorker, kind: number, moduleIndex: number, exportIndex: number, args: readonly number[]): void {
    if (this.stalled && kind !== EXIT) throw this.stalled;
    w.ctl[KIND] = kind;
    w.ctl[MODULE] = moduleIndex;
    w.ctl[EXPORT] = exportIndex;
    w.ctl[NARGS] = args.length;
    for (let i = 0; i < args.length; i++) w.args[i] = args[i];
    w.seq++;
    Atomics.store(w.ctl, SEQ, w.seq);
    Atomics.notify(w.ctl, SEQ);
  }

  /**
   * Blocks until worker `w` reports its current job done. The value handed to Atomics.wait must be
   * the one just checked: re-reading DONE for it would sleep on the finished value if the worker
   * finished (and notified) in between, and nothing would ever wake this thread again.
   */
  private wait(w: PoolWorker): void {
    const deadline = performance.now() + this.jobTimeoutMs;
    for (;;) {
      const done = Atomics.load(w.ctl, DONE);
      if (done === w.seq) break;
      const left = deadline - performance.now();
      if (left <= 0) this.timedOut(w);
      Atomics.wait(w.ctl, DONE, done, left);
    }
    if (w.ctl[STATUS] !== 0) {
      w.ctl[STATUS] = 0;
      throw new BackendError(`wasm worker: kernel ${this.jobName(w)} failed: ${w.spawned.report() ?? 'see the console for its message'}`);
    }
  }

  /** The watchdog: a job past its time leaves the pool unusable (its worker is still busy or gone). */
  private timedOut(w: PoolWorker): never {
    this.stalled = new BackendError(
      `wasm worker ${this.workers.indexOf(w)}: kernel ${this.jobName(w)} did not finish within ${this.jobTimeoutMs} ms ` +
        `(job ${w.seq}, last finished ${Atomics.load(w.ctl, DONE)}); the worker threads were stopped`,
    );
    throw this.stalled;
  }

  /** What worker `w` was last asked to do, for messages. */
  private jobName(w: PoolWorker): string {
    if (w.ctl[KIND] === LOAD) return '(loading a kernel module)';
    const names = this.modules[w.ctl[MODULE]]?.names;
    return `'${names?.[w.ctl[EXPORT]] ?? `#${w.ctl[EXPORT]}`}' of module ${w.ctl[MODULE]}`;
  }

  private stop(w: PoolWorker): void {
    this.post(w, EXIT, 0, 0, []);
    w.spawned.stop();
  }
}
