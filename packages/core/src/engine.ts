import type { Attrs, Backend, DataId, KernelFn, TensorInfo } from './backend';
import { allocArray, type DType, type TypedArray } from './dtype';
import { BackendError, DisposedError, shapeStr } from './errors';
import { sizeOf } from './shape';
import { Tensor } from './tensor';

/** Computes the gradients of an op's inputs from the gradients of its outputs, with other ops. */
export type GradientFn = (
  dys: readonly Tensor[],
  ctx: { readonly inputs: readonly Tensor[]; readonly outputs: readonly Tensor[]; readonly attrs: Attrs },
) => (Tensor | null)[];

interface TapeNode {
  readonly kernel: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

/** The record of the ops run while gradients are being taken. */
export class Tape {
  readonly nodes: TapeNode[] = [];
  /** Ids of tensors that depend on the sources. */
  readonly tracked = new Set<number>();
  /** Tensors the backward pass will read; their disposal waits until the tape ends. */
  readonly saved = new Set<Tensor>();
  readonly deferred = new Set<Tensor>();
}

interface BackendEntry {
  readonly factory: () => Backend | Promise<Backend>;
  readonly priority: number;
}

class Engine {
  private readonly factories = new Map<string, BackendEntry>();
  private readonly instances = new Map<string, Backend>();
  private readonly starting = new Map<string, Promise<Backend>>();
  private current: Backend | null = null;
  private readonly kernels = new Map<string, Map<string, KernelFn>>();
  private readonly gradients = new Map<string, GradientFn>();
  /** Tensors sharing data (reshape) count references; the last one frees. */
  private readonly refCounts = new Map<DataId, number>();
  private readonly scopes: Tensor[][] = [];
  private nextId = 1;
  liveTensors = 0;
  tape: Tape | null = null;
  gradPaused = 0;

  // ---------------------------------------------------------------- backends

  registerBackend(name: string, factory: () => Backend | Promise<Backend>, priority = 0): void {
    this.factories.set(name, { factory, priority });
  }

  /** Makes `name` the backend new tensors go to; initializes it on first use. */
  async setBackend(name: string): Promise<Backend> {
    const backend = await this.startBackend(name);
    this.current = backend;
    return backend;
  }

  /** Initializes a backend (once) without making it current. */
  async startBackend(name: string): Promise<Backend> {
    const ready = this.instances.get(name);
    if (ready) return ready;
    // Concurrent first starts share one initialization (two instances would be two backends).
    let pending = this.starting.get(name);
    if (!pending) {
      pending = this.initBackend(name).finally(() => this.starting.delete(name));
      this.starting.set(name, pending);
    }
    return pending;
  }

  /** Synchronous switch for backends that need no async start (cpu, or one already initialized). */
  setBackendSync(name: string): Backend {
    let backend = this.instances.get(name);
    if (!backend) {
      const entry = this.factories.get(name);
      if (!entry) throw new BackendError(`unknown backend '${name}'; registered: ${[...this.factories.keys()].join(', ')}`);
      const made = entry.factory();
      if (made instanceof Promise) throw new BackendError(`backend '${name}' starts asynchronously: await setBackend('${name}')`);
      backend = made;
      this.instances.set(name, backend);
    }
    this.current = backend;
    return backend;
  }

  private async initBackend(name: string): Promise<Backend> {
    const entry = this.factories.get(name);
    if (!entry) throw new BackendError(`unknown backend '${name}'; registered: ${[...this.factories.keys()].join(', ')}`);
    const backend = await entry.factory();
    this.instances.set(name, backend);
    return backend;
  }

  /** Backends by priority, best first. */
  backendNames(): string[] {
    return [...this.factories.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
  }

  findBackend(name: string): Backend | undefined {
    return this.instances.get(name);
  }

  get backend(): Backend {
    return this.current ?? this.setBackendSync('cpu');
  }

  // ---------------------------------------------------------------- kernels

  registerKernel(name: string, backendName: string, fn: KernelFn): void {
    let perBackend = this.kernels.get(name);
    if (!perBackend) this.kernels.set(name, (perBackend = new Map()));
    perBackend.set(backendName, fn);
  }

  registerGradient(name: string, fn: GradientFn): void {
    this.gradients.set(name, fn);
  }

  getKernel(name: string, backendName: string): KernelFn | undefined {
    return this.kernels.get(name)?.get(backendName);
  }

  hasKernel(name: string, backendName: string): boolean {
    return this.kernels.get(name)?.has(backendName) ?? false;
  }

  /** Runs one op: checks its inputs, calls the backend's kernel, wraps the outputs, records the tape. */
  runKernel(name: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[] {
    for (const t of inputs) if (t.disposed) throw new DisposedError(`${name}: input #${t.id} ${shapeStr(t.shape)}`);
    const backend = inputs.length > 0 ? inputs[0].backend : this.backend;
    for (const t of inputs) {
      if (t.backend !== backend) {
        throw new BackendError(`${name}: inputs live on different backends (${backend.name} and ${t.backend.name}); move them with toBackend()`);
      }
    }
    // '*' kernels only rearrange metadata (reshape) and serve every backend.
    // A backend may offer a fallback for ops it has no kernel of its own for (wasm: the cpu kernel on views).
    const kernel = this.kernels.get(name)?.get(backend.name) ?? this.kernels.get(name)?.get('*') ?? backend.fallbackKernel?.(name);
    if (!kernel) throw new BackendError(`${name}: no kernel registered for backend '${backend.name}'`);
    const result = kernel(inputs, attrs, backend);
    const outputs = (Array.isArray(result) ? result : [result]).map((info) => this.wrap(info, backend));
    this.record(name, inputs, outputs, attrs);
    return outputs;
  }

  /** Whether an op on `inputs` run now would be recorded for gradients. */
  records(inputs: readonly Tensor[]): boolean {
    const tape = this.tape;
    return !!tape && this.gradPaused === 0 && inputs.some((t) => tape.tracked.has(t.id));
  }

  private record(name: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: Attrs): void {
    const tape = this.tape;
    if (!tape || !this.records(inputs)) return;
    tape.nodes.push({ kernel: name, inputs, outputs, attrs });
    for (const t of inputs) tape.saved.add(t);
    for (const t of outputs) {
      tape.saved.add(t);
      if (t.dtype === 'float32') tape.tracked.add(t.id);
    }
  }

  gradientOf(name: string): GradientFn | undefined {
    return this.gradients.get(name);
  }

  // ---------------------------------------------------------------- tensors

  /** Wraps data a kernel produced; the new tensor joins the innermost `tidy` scope. */
  wrap(info: TensorInfo, backend: Backend): Tensor {
    const t = new Tensor(this.nextId++, info.shape, info.dtype, backend, info.dataId, sizeOf(info.shape));
    this.refCounts.set(info.dataId, (this.refCounts.get(info.dataId) ?? 0) + 1);
    this.liveTensors++;
    this.scopes[this.scopes.length - 1]?.push(t);
    return t;
  }

  /** A new tensor holding a copy of `values`, on the given (or current) backend. */
  fromValues(values: TypedArray, shape: readonly number[], dtype: DType, backend = this.backend): Tensor {
    const dataId = backend.allocate(dtype, values.length);
    backend.write(dataId, values);
    return this.wrap({ dataId, shape, dtype }, backend);
  }

  empty(shape: readonly number[], dtype: DType, backend = this.backend): Tensor {
    const values = allocArray(dtype, sizeOf(shape));
    return this.fromValues(values, shape, dtype, backend);
  }

  disposeTensor(t: Tensor): void {
    if (t.disposed) return;
    if (this.tape?.saved.has(t)) {
      this.tape.deferred.add(t);
      return;
    }
    t.disposed = true;
    this.liveTensors--;
    const refs = (this.refCounts.get(t.dataId) ?? 1) - 1;
    if (refs > 0) this.refCounts.set(t.dataId, refs);
    else {
      this.refCounts.delete(t.dataId);
      t.backend.free(t.dataId);
    }
  }

  // ---------------------------------------------------------------- scopes

  /** Runs `fn`; disposes every tensor made inside it that is neither returned nor kept. */
  tidy<T>(fn: () => T): T {
    const scope: Tensor[] = [];
    this.scopes.push(scope);
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    if (result instanceof Promise) throw new BackendError('tidy: the function must be synchronous');
    const survivors = new Set<Tensor>();
    collectTensors(result, survivors);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of scope) {
      if (survivors.has(t) || t.kept) {
        if (!t.kept) parent?.push(t);
      } else t.dispose();
    }
    return result;
  }

  keep<T extends Tensor>(t: T): T {
    t.kept = true;
    return t;
  }
}

/** Finds tensors in a result: a tensor, or arrays / plain objects / maps holding them. */
export function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  }
}

export const engine = new Engine();
