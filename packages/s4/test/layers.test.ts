import {
  checkGradients, concat, dispose, memory, mul, randn, reshape, ShapeError, slice, sum, tidy, transpose, type Parameter, type Tensor,
} from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { S4DLayer, S4Layer, type LtiState } from '../src/index';
import { relativeError } from './helpers';

type Layer = S4DLayer | S4Layer;

/** Runs `fn` with the parameters' values swapped for `values` (the gradient checker perturbs copies). */
function withValues<T>(params: Parameter[], values: Tensor[], fn: () => T): T {
  type Slot = { current: Tensor };
  const saved = params.map((p) => (p as unknown as Slot).current);
  params.forEach((p, i) => ((p as unknown as Slot).current = values[i]));
  try {
    return fn();
  } finally {
    params.forEach((p, i) => ((p as unknown as Slot).current = saved[i]));
  }
}

/** The step path over a whole [batch, H, L] sequence, stacked back to [batch, H, L]. */
function stepThrough(layer: Layer, x: Tensor): Tensor {
  const [batch, H, L] = x.shape;
  const state: LtiState = layer.initialState(batch);
  const outputs = tidy(() => {
    const ys: Tensor[] = [];
    for (let t = 0; t < L; t++) {
      const xt = reshape(slice(x, [0, 0, t], [batch, H, 1]), [batch, H]);
      ys.push(reshape(layer.step(xt, state), [batch, H, 1]));
    }
    return concat(ys, 2);
  });
  state.dispose();
  return outputs;
}

const layers: [string, (H: number) => Layer][] = [
  ['S4DLayer (zoh, S4D-Lin)', (H) => new S4DLayer(H, { dState: 8, seed: 1 })],
  ['S4DLayer (bilinear, S4D-Inv)', (H) => new S4DLayer(H, { dState: 8, seed: 2, method: 'bilinear', init: 'inv' })],
  ['S4DLayer (zoh, S4D-LegS B)', (H) => new S4DLayer(H, { dState: 8, seed: 6, init: 'legs' })],
  ['S4Layer (LegS DPLR)', (H) => new S4Layer(H, { dState: 8, lMax: 16, seed: 3 })],
];

describe.each(layers)('%s', (_name, make) => {
  it('the recurrent step equals the convolution path', () => {
    const layer = make(4);
    const x = randn([2, 4, 16], { seed: 4 });
    const conv = tidy(() => layer.forward(x));
    const steps = stepThrough(layer, x);
    expect(conv.shape).toEqual([2, 4, 16]);
    expect(relativeError(steps.dataSync(), conv.dataSync())).toBeLessThan(1e-5);
    dispose([x, conv, steps]);
    layer.dispose();
  });

  it('prefill over a prompt, then steps, equals the convolution path', () => {
    const layer = make(3);
    const x = randn([2, 3, 16], { seed: 12 });
    const prompt = 9;
    const whole = tidy(() => layer.forward(x));
    const { y, state } = tidy(() => layer.prefill(slice(x, [0, 0, 0], [2, 3, prompt])));
    const rest = tidy(() => {
      const ys: Tensor[] = [y];
      for (let t = prompt; t < 16; t++) ys.push(reshape(layer.step(reshape(slice(x, [0, 0, t], [2, 3, 1]), [2, 3]), state), [2, 3, 1]));
      return concat(ys, 2);
    });
    expect(relativeError(rest.dataSync(), whole.dataSync())).toBeLessThan(1e-5);
    dispose([x, whole, y, rest]);
    state.dispose();
    layer.dispose();
  });

  it('passes finite-difference gradient checks in its input and every parameter', async () => {
    const layer = make(3);
    const x = randn([2, 3, 10], { seed: 5 });
    const w = randn([2, 3, 10], { seed: 6 });
    const params = layer.parameters();
    const loss = (input: Tensor, ...values: Tensor[]) => withValues(params, values, () => sum(mul(layer.forward(input), w)));
    const r = await checkGradients(loss, [x, ...params.map((p) => p.value)], { samples: 8, eps: 1e-3 });
    expect(r.failures).toEqual([]);
    dispose([x, w]);
    layer.dispose();
  });
});

describe('S4DLayer', () => {
  it("has the standalone S4D's parameter names and shapes", () => {
    const layer = new S4DLayer(4, { dState: 8 });
    const shapes = Object.fromEntries([...layer.namedParameters()].map(([name, p]) => [name, p.shape]));
    expect(shapes).toEqual({
      D: [4],
      'kernel.C': [4, 4, 2],
      'kernel.log_dt': [4],
      'kernel.log_A_real': [4, 4],
      'kernel.A_imag': [4, 4],
      'output_linear.0.weight': [8, 4, 1],
      'output_linear.0.bias': [8],
    });
    layer.dispose();
  });

  it('takes [batch, L, H] when not transposed, with the same result', () => {
    const a = new S4DLayer(3, { dState: 4, seed: 9 });
    const b = new S4DLayer(3, { dState: 4, seed: 9, transposed: false });
    const x = randn([2, 3, 12], { seed: 1 });
    const ya = tidy(() => a.forward(x));
    const yb = tidy(() => transpose(b.forward(transpose(x, [0, 2, 1])), [0, 2, 1]));
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    expect(() => b.forward(x)).toThrow(ShapeError);
    dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('is causal: outputs up to t do not change with later inputs', () => {
    const layer = new S4DLayer(2, { dState: 4, seed: 3 });
    const x = randn([1, 2, 12], { seed: 2 });
    const changed = tidy(() => concat([slice(x, [0, 0, 0], [1, 2, 6]), randn([1, 2, 6], { seed: 8 })], 2));
    const head = (t: Tensor) => tidy(() => slice(layer.forward(t), [0, 0, 0], [1, 2, 6]));
    const [h1, h2] = [head(x), head(changed)];
    expect(Array.from(h2.dataSync())).toEqual(Array.from(h1.dataSync()));
    dispose([x, changed, h1, h2]);
    layer.dispose();
  });

  it('steps without leaking tensors', () => {
    const layer = new S4DLayer(3, { dState: 4, seed: 1 });
    const x = randn([2, 3, 5], { seed: 1 });
    stepThrough(layer, x).dispose(); // sets up the step constants once
    const before = memory().liveTensors;
    stepThrough(layer, x).dispose();
    expect(memory().liveTensors).toBe(before);
    x.dispose();
    layer.dispose();
  });
});

describe('S4Layer', () => {
  it('refuses sequences longer than lMax', () => {
    const layer = new S4Layer(2, { dState: 4, lMax: 8 });
    const x = randn([1, 2, 9]);
    expect(() => layer.forward(x)).toThrow(/lMax = 8/);
    x.dispose();
    layer.dispose();
  });
});
