import { noGrad } from '../autograd';
import { CheckpointError, shapeStr, ValueError } from '../errors';
import { keep } from '../memory';
import { reshape } from '../ops/shape';
import { sameShape } from '../shape';
import type { Tensor } from '../tensor';

/**
 * One trainable tensor of a module. The parameter owns its value (kept out of `tidy` scopes);
 * `assign` swaps in a new value and disposes the old one, which is how optimizers update it.
 */
export class Parameter {
  private current: Tensor;
  /** Optimizers and `valueAndGradsOf` skip parameters with `requiresGrad` false. */
  requiresGrad: boolean;

  constructor(
    value: Tensor,
    /** The local name under which its module registered it (the full name comes from `namedParameters`). */
    public name = '',
    options: { requiresGrad?: boolean } = {},
  ) {
    value.assertLive('Parameter');
    this.current = keep(value);
    this.requiresGrad = options.requiresGrad ?? true;
  }

  get value(): Tensor {
    return this.current;
  }

  get shape(): readonly number[] {
    return this.current.shape;
  }

  /** Replaces the value (same shape and dtype) and disposes the old one; the parameter takes ownership of `t`. */
  assign(t: Tensor): void {
    t.assertLive(`Parameter ${this.name}.assign`);
    if (!sameShape(t.shape, this.current.shape) || t.dtype !== this.current.dtype) {
      throw new ValueError(
        `Parameter ${this.name}.assign`,
        `expected ${this.current.dtype} ${shapeStr(this.current.shape)}, got ${t.dtype} ${shapeStr(t.shape)}`,
      );
    }
    if (t === this.current) return;
    const old = this.current;
    this.current = keep(t);
    old.dispose();
  }

  dispose(): void {
    this.current.dispose();
  }
}

/** What `loadStateDict` found wrong; strict loading throws it before anything is assigned. */
export class StateDictError extends CheckpointError {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: { name: string; expected: string; got: string }[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${unexpected.join(', ')}`);
    if (mismatched.length) {
      parts.push(`mismatched ${mismatched.length}: ${mismatched.map((m) => `${m.name} (expected ${m.expected}, got ${m.got})`).join(', ')}`);
    }
    super(`loadStateDict: ${parts.join('; ')}`);
  }
}

export interface LoadStateDictOptions {
  /** Missing and unexpected names are errors (default). Shape mismatches are errors either way, as in torch. */
  strict?: boolean;
}

/**
 * Base class of layers and models: a tree of named parameters and child modules whose dotted names
 * (`layers.0.mixer.in_proj.weight`) are the PyTorch state-dict names.
 */
export abstract class Module {
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter (or a tensor, wrapped in one) under a local name. */
  protected registerParameter(name: string, value: Parameter | Tensor): Parameter {
    this.checkName(name);
    const p = value instanceof Parameter ? value : new Parameter(value, name);
    p.name = name;
    this.ownParameters.set(name, p);
    return p;
  }

  /** Registers a child module; its parameters appear as `name.…`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.children.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new ValueError('Module.register', `a name must be non-empty and have no '.', got '${name}'`);
    if (this.ownParameters.has(name) || this.children.has(name)) throw new ValueError('Module.register', `'${name}' is already registered`);
  }

  /**
   * Parameters by full dotted name, in registration order (own parameters before children's). A
   * parameter shared by several modules (tied weights) appears once, under its first name, as in
   * torch's named_parameters: optimizers then update it once per step.
   */
  namedParameters(prefix = ''): Map<string, Parameter> {
    const out = new Map<string, Parameter>();
    this.collectParameters(prefix, out, new Set());
    return out;
  }

  private collectParameters(prefix: string, out: Map<string, Parameter>, seen: Set<Parameter>): void {
    for (const [name, p] of this.ownParameters) {
      if (seen.has(p)) continue;
      seen.add(p);
      out.set(prefix + name, p);
    }
    for (const [name, child] of this.children) child.collectParameters(`${prefix}${name}.`, out, seen);
  }

  parameters(): Parameter[] {
    return [...this.namedParameters().values()];
  }

  /** Child modules by local name. */
  namedChildren(): Map<string, Module> {
    return new Map(this.children);
  }

  /** Number of parameter elements. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /**
   * The parameters' values by dotted name (shared parameters once, see `namedParameters`). Each entry is a new tensor handle sharing the parameter's
   * data (no copy): it stays valid after the parameter is updated, and the caller disposes it.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    noGrad(() => {
      for (const [name, p] of this.namedParameters()) out[name] = reshape(p.value, p.value.shape);
    });
    return out;
  }

  /**
   * Sets parameters from a state dict. Every name, shape and dtype is checked before the first
   * parameter changes, so a failed load leaves the module as it was. The dict's tensors stay the
   * caller's (the parameters take handles sharing their data). Returns the names that were skipped.
   */
  loadStateDict(dict: Record<string, Tensor>, options: LoadStateDictOptions = {}): { missing: string[]; unexpected: string[] } {
    const strict = options.strict ?? true;
    const params = this.namedParameters();
    const missing = [...params.keys()].filter((name) => !Object.hasOwn(dict, name));
    const unexpected = Object.keys(dict).filter((name) => !params.has(name));
    const mismatched: { name: string; expected: string; got: string }[] = [];
    for (const [name, p] of params) {
      const t = dict[name];
      if (!Object.hasOwn(dict, name)) continue;
      if (t.disposed || !sameShape(t.shape, p.shape) || t.dtype !== p.value.dtype) {
        mismatched.push({
          name,
          expected: `${p.value.dtype} ${shapeStr(p.shape)}`,
          got: t.disposed ? 'a disposed tensor' : `${t.dtype} ${shapeStr(t.shape)}`,
        });
      }
    }
    if (mismatched.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      throw new StateDictError(missing, unexpected, mismatched);
    }
    noGrad(() => {
      for (const [name, p] of params) if (Object.hasOwn(dict, name)) p.assign(reshape(dict[name], p.shape));
    });
    return { missing, unexpected };
  }

  /** Frees every parameter of the tree (shared ones once). */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

/** An indexable list of modules, registered as `0`, `1`, … (torch's ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: readonly M[];

  constructor(modules: Iterable<M>) {
    super();
    this.items = [...modules];
    this.items.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items.at(i);
    if (!m) throw new ValueError('ModuleList.at', `index ${i} is out of range for ${this.items.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
