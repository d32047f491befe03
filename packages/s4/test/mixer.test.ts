import {
  checkGradients, concat, dispose, memory, mul, randn, reshape, ShapeError, slice, sum, tensor, tidy, ValueError, type Parameter, type Tensor,
} from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { LtiMixer, type LtiMixerOptions } from '../src/index';
import { relativeError } from './helpers';

/** The step path over [batch, L, dModel], stacked back to [batch, L, dModel]. */
function stepThrough(mixer: LtiMixer, x: Tensor): Tensor {
  const [batch, L, d] = x.shape;
  const state = mixer.initialState(batch);
  const out = tidy(() => {
    const ys: Tensor[] = [];
    for (let t = 0; t < L; t++) ys.push(reshape(mixer.step(reshape(slice(x, [0, t, 0], [batch, 1, d]), [batch, d]), state), [batch, 1, d]));
    return concat(ys, 1);
  });
  state.dispose();
  return out;
}

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

const variants: [string, LtiMixerOptions][] = [
  ['S4D, gated', { dModel: 4, dState: 8, seed: 1 }],
  ['S4D, no gate, bilinear', { dModel: 4, dState: 8, gated: false, method: 'bilinear', seed: 2 }],
  ['S4D, dConv 1, biases', { dModel: 4, dState: 4, dConv: 1, bias: true, seed: 5 }],
  ['S4, gated', { dModel: 4, dState: 8, kernel: 's4', lMax: 12, seed: 3 }],
];

describe.each(variants)('LtiMixer %s', (_name, options) => {
  it('the recurrent step equals the parallel path', () => {
    const mixer = new LtiMixer(options);
    const x = randn([2, 12, 4], { seed: 7 });
    const parallel = tidy(() => mixer.forward(x));
    const steps = stepThrough(mixer, x);
    expect(parallel.shape).toEqual([2, 12, 4]);
    expect(relativeError(steps.dataSync(), parallel.dataSync())).toBeLessThan(1e-5);
    dispose([x, parallel, steps]);
    mixer.dispose();
  });

  it('prefill over a prompt, then steps, equals the parallel path', () => {
    const mixer = new LtiMixer(options);
    const x = randn([2, 12, 4], { seed: 10 });
    const whole = tidy(() => mixer.forward(x));
    for (const prompt of [2, 7]) {
      const { y, state } = tidy(() => mixer.prefill(slice(x, [0, 0, 0], [2, prompt, 4])));
      const all = tidy(() => {
        const ys: Tensor[] = [y];
        for (let t = prompt; t < 12; t++) ys.push(reshape(mixer.step(reshape(slice(x, [0, t, 0], [2, 1, 4]), [2, 4]), state), [2, 1, 4]));
        return concat(ys, 1);
      });
      expect(relativeError(all.dataSync(), whole.dataSync())).toBeLessThan(1e-5);
      dispose([y, all]);
      state.dispose();
    }
    dispose([x, whole]);
    mixer.dispose();
  });

  it('a left-padded, masked prompt gives the results of the unpadded one', () => {
    const mixer = new LtiMixer(options);
    const [L, short] = [10, 6];
    const x = randn([2, L, 4], { seed: 11 }); // row 0 is a prompt of `short` tokens after L − short pad positions
    const mask = tensor(Array.from({ length: 2 * L }, (_, i) => (i < L && i < L - short ? 0 : 1)), [2, L]);
    const token = randn([2, 4], { seed: 12 });
    const padded = tidy(() => {
      const { y, state } = mixer.prefill(x, { mask });
      const next = mixer.step(token, state);
      state.dispose();
      return { last: slice(y, [0, L - 1, 0], [2, 1, 4]), next };
    });
    for (const [b, length] of [[0, short], [1, L]]) {
      const alone = tidy(() => {
        const prompt = slice(x, [b, L - length, 0], [1, length, 4]);
        const { y, state } = mixer.prefill(prompt);
        const next = mixer.step(slice(token, [b, 0], [1, 4]), state);
        state.dispose();
        return { last: slice(y, [0, length - 1, 0], [1, 1, 4]), next };
      });
      const rowOf = (t: Tensor) => Array.from(t.dataSync()).slice(b * 4, b * 4 + 4);
      expect(relativeError(rowOf(padded.last), alone.last.dataSync())).toBeLessThan(1e-5);
      expect(relativeError(rowOf(padded.next), alone.next.dataSync())).toBeLessThan(1e-5);
      dispose(alone);
    }
    dispose([x, mask, token, padded]);
    mixer.dispose();
  });

  it('passes finite-difference gradient checks in its input and parameters', async () => {
    const mixer = new LtiMixer({ ...options, dModel: 2, expand: 1.5, lMax: 6 });
    const x = randn([1, 6, 2], { seed: 8 });
    const w = randn([1, 6, 2], { seed: 9 });
    const params = mixer.parameters();
    const loss = (input: Tensor, ...values: Tensor[]) => withValues(params, values, () => sum(mul(mixer.forward(input), w)));
    const r = await checkGradients(loss, [x, ...params.map((p) => p.value)], { samples: 6, eps: 1e-3 });
    expect(r.failures).toEqual([]);
    dispose([x, w]);
    mixer.dispose();
  });
});

describe('LtiMixer', () => {
  it('names its parameters like the Mamba mixer, with the SSM under kernel.', () => {
    const shapes = (m: LtiMixer) => Object.fromEntries([...m.namedParameters()].map(([name, p]) => [name, p.shape]));
    const s4d = new LtiMixer({ dModel: 4, dState: 8 });
    expect(shapes(s4d)).toEqual({
      'in_proj.weight': [16, 4],
      'conv1d.weight': [8, 1, 4],
      'conv1d.bias': [8],
      'kernel.C': [8, 4, 2],
      'kernel.log_dt': [8],
      'kernel.log_A_real': [8, 4],
      'kernel.A_imag': [8, 4],
      D: [8],
      'out_proj.weight': [4, 8],
    });
    const s4 = new LtiMixer({ dModel: 4, dState: 8, kernel: 's4', lMax: 16, gated: false });
    expect(shapes(s4)).toEqual({
      'in_proj.weight': [8, 4],
      'conv1d.weight': [8, 1, 4],
      'conv1d.bias': [8],
      'kernel.inv_dt': [8],
      'kernel.C': [8, 4, 2],
      'kernel.B': [8, 4, 2],
      'kernel.P': [8, 4, 2],
      'kernel.A_real': [8, 4],
      'kernel.A_imag': [8, 4],
      D: [8],
      'out_proj.weight': [4, 8],
    });
    s4d.dispose();
    s4.dispose();
  });

  it('is deterministic for a seed', () => {
    const [a, b] = [new LtiMixer({ dModel: 3, dState: 4, seed: 4 }), new LtiMixer({ dModel: 3, dState: 4, seed: 4 })];
    for (const [name, p] of a.namedParameters()) expect(Array.from(b.namedParameters().get(name)!.value.dataSync())).toEqual(Array.from(p.value.dataSync()));
    a.dispose();
    b.dispose();
  });

  it('says what it expected', () => {
    const mixer = new LtiMixer({ dModel: 4, dState: 4 });
    const x = randn([2, 5, 3]);
    expect(() => mixer.forward(x)).toThrow(ShapeError);
    expect(() => mixer.forward(x)).toThrow(/\[batch, L, 4\]/);
    const state = mixer.initialState(1);
    const token = randn([2, 4]);
    expect(() => mixer.step(token, state)).toThrow(/differ in batch/);
    expect(() => new LtiMixer({ dModel: 4, kernel: 's5' as 's4' })).toThrow(ValueError);
    expect(() => new LtiMixer({ dModel: 4, kernel: 's4' })).toThrow(/lMax/);
    expect(() => new LtiMixer({ dModel: 4, dState: 5 })).toThrow(/even/);
    dispose([x, token]);
    state.dispose();
    mixer.dispose();
  });

  it('decodes without leaking tensors', () => {
    const mixer = new LtiMixer({ dModel: 4, dState: 4, kernel: 's4', lMax: 8, seed: 2 });
    const x = randn([2, 6, 4], { seed: 1 });
    stepThrough(mixer, x).dispose();
    const before = memory().liveTensors;
    stepThrough(mixer, x).dispose();
    expect(memory().liveTensors).toBe(before);
    x.dispose();
    mixer.dispose();
  });
});
