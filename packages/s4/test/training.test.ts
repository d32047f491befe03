import { AdamW, dispose, mean, memory, randn, square, sub, tensor, valueAndGradsOf, type Module, type Tensor } from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { LtiMixer, S4DLayer } from '../src/index';

/**
 * A delay task over [batch, L, channels] (or [batch, channels, L] when `channelsFirst`): the target of each
 * channel is its own input `delay` steps earlier (zeros before the start).
 */
function delayBatch(seed: number, batch: number, L: number, channels: number, channelsFirst: boolean, delay = 3): { x: Tensor; y: Tensor } {
  const shape = channelsFirst ? [batch, channels, L] : [batch, L, channels];
  const x = randn(shape, { seed });
  const values = x.dataSync();
  const target = new Float32Array(values.length);
  const at = (b: number, t: number, c: number) => (channelsFirst ? (b * channels + c) * L + t : (b * L + t) * channels + c);
  for (let b = 0; b < batch; b++) for (let t = delay; t < L; t++) for (let c = 0; c < channels; c++) target[at(b, t, c)] = values[at(b, t - delay, c)];
  return { x, y: tensor(target, shape) };
}

/** AdamW on fresh batches with a mean squared error; the loss and the live-tensor count after each step. */
function train(model: Module & { forward(x: Tensor): Tensor }, steps: number, lr: number, batchOf: (i: number) => { x: Tensor; y: Tensor }) {
  const optimizer = new AdamW(model, { lr, weightDecay: 0 });
  const losses: number[] = [];
  const live: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { x, y } = batchOf(i);
    const { loss, grads } = valueAndGradsOf(model, () => mean(square(sub(model.forward(x), y))));
    optimizer.step(grads);
    losses.push(loss.dataSync()[0]);
    dispose([x, y, loss, [...grads.values()]]);
    live.push(memory().liveTensors);
  }
  optimizer.dispose();
  return { losses, live };
}

const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('training', () => {
  it('a tiny S4D layer learns a 3-step delay in 50 AdamW steps, without leaking tensors', () => {
    const layer = new S4DLayer(4, { dState: 16, seed: 0, dtMin: 0.1, dtMax: 1 });
    const { losses, live } = train(layer, 50, 2e-2, (i) => delayBatch(100 + i, 4, 24, 4, true));
    const [first, last] = [average(losses.slice(0, 5)), average(losses.slice(-5))];
    expect(last).toBeLessThan(0.5 * first);
    // Once the optimizer's moments exist (after step 1), every step frees all it makes.
    expect(new Set(live.slice(1)).size).toBe(1);
    layer.dispose();
  });

  it('an LtiMixer with the S4 kernel learns it too, moving every DPLR parameter', () => {
    const mixer = new LtiMixer({ dModel: 4, dState: 8, kernel: 's4', lMax: 24, seed: 1, dtMin: 0.1, dtMax: 1 });
    const before = new Map([...mixer.namedParameters()].map(([name, p]) => [name, Array.from(p.value.dataSync())]));
    const { losses } = train(mixer, 50, 5e-2, (i) => delayBatch(200 + i, 8, 24, 4, false));
    expect(average(losses.slice(-5))).toBeLessThan(0.75 * average(losses.slice(0, 5)));
    for (const name of ['kernel.inv_dt', 'kernel.A_real', 'kernel.A_imag', 'kernel.B', 'kernel.P', 'kernel.C']) {
      expect(Array.from(mixer.namedParameters().get(name)!.value.dataSync())).not.toEqual(before.get(name));
    }
    mixer.dispose();
  });
});
