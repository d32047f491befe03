import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { dispose, mul, randn, reshape, setBackend, slice, sum, tidy, valueAndGradsOf, type Module, type Tensor } from '@ssmjs/core';
import { LtiMixer, S4DLayer, S4Layer } from '../src/index';
import { relativeError } from './helpers';

interface Model extends Module {
  forward(x: Tensor): Tensor;
  prepareStep(): Promise<void>;
}

// WebGPU in Node comes from the `webgpu` package (Dawn); without a GPU it runs on SwiftShader (Debian's chromium).
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const BACKENDS = existsSync(process.env.VK_ICD_FILENAMES) ? ['wasm', 'webgpu'] : ['wasm'];

/** Output, gradients of sum(y·w) and one recurrent step, read back to host arrays. */
async function run(make: () => Model, inputShape: number[], stepOf: (m: Model, x: Tensor) => Tensor) {
  const model = make();
  const x = randn(inputShape, { seed: 1 });
  const w = randn(inputShape, { seed: 2 });
  const y = tidy(() => model.forward(x));
  const { loss, grads } = valueAndGradsOf(model, () => sum(mul(model.forward(x), w)));
  await model.prepareStep();
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

describe.each(cases)('%s', (_name, make, shape, stepOf) => {
  afterAll(async () => {
    await setBackend('cpu');
  });

  it.each(BACKENDS)('gives the cpu results on %s (forward, every gradient, recurrent path)', async (backend) => {
    await setBackend('cpu');
    const want = await run(make, shape, stepOf);
    await setBackend(backend as 'wasm' | 'webgpu');
    const got = await run(make, shape, stepOf);
    expect([want.backend, got.backend]).toEqual(['cpu', backend]);
    // WGSL's exp, sin and cos are looser than float32 libm (its spec allows 2⁻¹¹ absolute error for sin/cos).
    const tolerance = backend === 'webgpu' ? 3e-4 : 1e-5;
    expect(relativeError(got.y, want.y)).toBeLessThan(tolerance);
    expect(relativeError(got.step, want.step)).toBeLessThan(tolerance);
    for (const [name, g] of want.grads) expect(relativeError(got.grads.get(name)!, g), name).toBeLessThan(10 * tolerance);
  });
});

describe.runIf(BACKENDS.includes('webgpu'))('S4 on webgpu', () => {
  afterAll(async () => {
    await setBackend('cpu');
  });

  it('asks for prepareStep when the step constants would need a synchronous read', async () => {
    await setBackend('webgpu');
    const layer = new S4Layer(2, { dState: 4, lMax: 8, seed: 1 });
    const state = layer.initialState(1);
    const x = randn([1, 2]);
    expect(() => layer.step(x, state)).toThrow(/await prepareStep\(\)/);
    await layer.prepareStep();
    const y = layer.step(x, state);
    expect(y.shape).toEqual([1, 2]);
    dispose([x, y]);
    state.dispose();
    layer.dispose();
  });
});
