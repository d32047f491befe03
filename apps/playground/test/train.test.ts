import { memory } from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { createLiveModels, heldOutAccuracy, ltiMixerOf, taskBatches, trainStep } from '../src/worker/train';
import type { TrainSettings } from '../src/protocol';

const settings: TrainSettings = { models: ['mamba', 's4d'], seqLen: 12, numTokens: 3, dModel: 16, nLayer: 1, batch: 8, lr: 0.01, evalEvery: 5, maxSteps: 0, seed: 0 };

describe('live training', () => {
  it('builds Mamba and the S4D-mixer block; only the latter has an LtiMixer', () => {
    const [mamba, s4d] = createLiveModels(settings);
    expect([mamba.model.config.mixer, s4d.model.config.mixer]).toEqual(['mamba', 's4d']);
    expect(ltiMixerOf(s4d.model, 0).kernelKind).toBe('s4d');
    expect(() => ltiMixerOf(mamba.model, 0)).toThrow(/no LtiMixer at backbone.layers.0.mixer \(its mixer is 'mamba'\)/);
    for (const m of [mamba, s4d]) {
      m.optimizer.dispose();
      m.model.dispose();
    }
  });

  it('steps both on the same batches with the loss falling and no tensors left behind', async () => {
    const models = createLiveModels(settings);
    const data = taskBatches(settings);
    const losses: number[][] = models.map(() => []);
    let liveAfterFirst = 0;
    for (let step = 0; step < 30; step++) {
      const batch = data.train(step);
      for (const [i, m] of models.entries()) losses[i].push(await trainStep(m, batch));
      if (step === 0) liveAfterFirst = memory().liveTensors;
    }
    expect(memory().liveTensors).toBe(liveAfterFirst);
    for (const l of losses) {
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(l.slice(-5))).toBeLessThan(mean(l.slice(0, 5)) - 0.05);
    }
    const { accuracy, example } = await heldOutAccuracy(models[0], data.heldOut);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
    // The example's expected tokens are the data tokens of its noise region, in order.
    expect(example.inputs).toHaveLength(settings.seqLen + settings.numTokens);
    expect(example.expected).toEqual(example.inputs.slice(0, settings.seqLen).filter((t) => t !== 0));
    expect(example.predicted).toHaveLength(settings.numTokens);
    for (const m of models) {
      m.optimizer.dispose();
      m.model.dispose();
    }
  });
});
