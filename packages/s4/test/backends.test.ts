import { afterAll, describe, expect, it } from 'vitest';
import { dispose, mul, randn, reshape, setBackend, slice, sum, tidy, valueAndGradsOf, type Module, type Tensor } from '@ssmjs/core';
import { LtiMixer, S4DLayer, S4Layer } from '../src/index';
import { relativeError } from './helpers';

interface Model extends Module {
  forward(x: Tensor): Tensor;
}

/** Output, gradients of sum(y·w) and one recurrent step, read back to host arrays. */
async function run(make: () => Model, inputShape: number[], stepOf: (m: Model, x: Tensor) => Tensor) {
  const model = make();
  const x = randn(inputShape, { seed: 1 });
  const w = randn(inputShape, { seed: 2 });
  const y = tidy(() => model.forward(x));
  const { loss, grads } = valueAndGradsOf(model, () => sum(mul(model.forward(x), w)));
  const stepped = tidy(() => stepOf(model, x));
  const out = {
    backend: y.backend.name,
    y: await y.data(),
    grads: new Map(await Promise.all([...grads].map(async ([name, g]) => [name, await g.data()] as const))),
    step: await stepped.data(),
  };
  dispose([x, w, y, loss, [...grads.values()], stepped]);
  model.dispose();
  return out;
}

const cases: [string, () => Model, number[], (m: Model, x: Tensor) => Tensor][] = [
  ['S4DLayer', () => new S4DLayer(4, { dState: 8, seed: 3 }), [2, 4, 16], (m, x) => {
    const layer = m as S4DLayer;
    const state = layer.initialState(2);
    const y = layer.step(reshape(slice(x, [0, 0, 0], [2, 4, 1]), [2, 4]), state);
    state.dispose();
    return y;
  }],
  ['S4Layer', () => new S4Layer(4, { dState: 8, lMax: 16, seed: 4 }), [2, 4, 16], (m, x) => {
    const layer = m as S4Layer;
    const state = layer.initialState(2);
    const y = layer.step(reshape(slice(x, [0, 0, 0], [2, 4, 1]), [2, 4]), state);
    state.dispose();
    return y;
  }],
  ['LtiMixer (S4D, bilinear)', () => new LtiMixer({ dModel: 4, dState: 8, method: 'bilinear', seed: 5 }), [2, 16, 4], (m, x) => {
    const mixer = m as LtiMixer;
    const { y, state } = mixer.prefill(x);
    state.dispose();
    return y;
  }],
];

describe.each(cases)('%s on the wasm backend', (_name, make, shape, stepOf) => {
  afterAll(async () => {
    await setBackend('cpu');
  });

  it('gives the cpu results (forward, every gradient, recurrent path)', async () => {
    await setBackend('cpu');
    const want = await run(make, shape, stepOf);
    await setBackend('wasm');
    const got = await run(make, shape, stepOf);
    expect([want.backend, got.backend]).toEqual(['cpu', 'wasm']);
    expect(relativeError(got.y, want.y)).toBeLessThan(1e-5);
    expect(relativeError(got.step, want.step)).toBeLessThan(1e-5);
    for (const [name, g] of want.grads) expect(relativeError(got.grads.get(name)!, g), name).toBeLessThan(1e-4);
  });
});
