import { engine, Tape } from './engine';
import { BackendError, ShapeError, shapeStr } from './errors';
import { sameShape } from './shape';
import type { Tensor } from './tensor';
import { add } from './ops/arithmetic';
import { onesLike, zerosLike } from './ops/creation';

/**
 * Runs `f` while recording the ops that depend on `sources`, then walks the record backwards.
 * Returns f's value and d(value)/d(source) for each source (zeros where it does not depend).
 * Everything made in between is freed. `dy` seeds a non-scalar value (default: ones).
 */
export function computeGradients(f: () => Tensor, sources: readonly Tensor[], dy?: Tensor): { value: Tensor; grads: Tensor[] } {
  if (engine.tape) throw new BackendError('gradients: nested gradient computation is not supported');
  const tape = new Tape();
  for (const s of sources) {
    s.assertLive('gradients');
    tape.tracked.add(s.id);
  }
  engine.tape = tape;
  let result: { value: Tensor; grads: Tensor[] } | undefined;
  try {
    result = engine.tidy(() => {
      const value = f();
      const grads = noGrad(() => backward(tape, value, sources, dy));
      return { value, grads };
    });
    return result;
  } finally {
    engine.tape = null;
    // Tensors that were disposed while the tape needed them go now, unless they are the result.
    const keepers = new Set<Tensor>(result ? [result.value, ...result.grads] : []);
    for (const t of tape.deferred) if (!keepers.has(t)) t.dispose();
  }
}

function backward(tape: Tape, value: Tensor, sources: readonly Tensor[], seed?: Tensor): Tensor[] {
  const grads = new Map<number, Tensor>();
  if (seed && !sameShape(seed.shape, value.shape)) {
    throw new ShapeError('gradients', `dy ${shapeStr(seed.shape)} must have the value's shape ${shapeStr(value.shape)}`);
  }
  grads.set(value.id, seed ?? onesLike(value));
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i];
    if (!node.outputs.some((o) => grads.has(o.id))) continue;
    const gradFn = engine.gradientOf(node.kernel);
    if (!gradFn) throw new BackendError(`gradients: op '${node.kernel}' has no registered gradient`);
    const dys = node.outputs.map((o) => grads.get(o.id) ?? zerosLike(o));
    const dxs = gradFn(dys, node);
    node.inputs.forEach((x, k) => {
      const dx = dxs[k];
      if (!dx || !tape.tracked.has(x.id)) return;
      if (!sameShape(dx.shape, x.shape)) {
        throw new ShapeError(`gradient of ${node.kernel}`, `input ${k} has shape ${shapeStr(x.shape)} but its gradient ${shapeStr(dx.shape)}`);
      }
      const prev = grads.get(x.id);
      grads.set(x.id, prev ? add(prev, dx) : dx);
    });
  }
  return sources.map((s) => grads.get(s.id) ?? zerosLike(s));
}

/** `x ↦ df/dx` for a scalar-valued f of one tensor. */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const { value, grads } = computeGradients(() => f(x), [x]);
    value.dispose();
    return grads[0];
  };
}

/** `xs ↦ [df/dx…]` for a scalar-valued f of several tensors. */
export function grads(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  return (...xs) => {
    const { value, grads: gs } = computeGradients(() => f(...xs), xs);
    value.dispose();
    return gs;
  };
}

export function valueAndGrad(f: (x: Tensor) => Tensor): (x: Tensor) => { value: Tensor; grad: Tensor } {
  return (x) => {
    const { value, grads: gs } = computeGradients(() => f(x), [x]);
    return { value, grad: gs[0] };
  };
}

export function valueAndGrads(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  return (...xs) => computeGradients(() => f(...xs), xs);
}

/**
 * Whether an op on `inputs` run now would be recorded for gradients (inside a gradient computation, not
 * under `noGrad`, and depending on a source): ops may skip saving what only their backward reads.
 */
export function recordsGradients(inputs: readonly Tensor[]): boolean {
  return engine.records(inputs);
}

/** Runs `fn` without recording gradients. */
export function noGrad<T>(fn: () => T): T {
  engine.gradPaused++;
  try {
    return fn();
  } finally {
    engine.gradPaused--;
  }
}
