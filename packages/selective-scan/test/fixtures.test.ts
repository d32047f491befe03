/** Every backend against the float64 PyTorch reference: outputs, lastState and all gradients. */
import { describe, expect, it, beforeAll } from 'vitest';
import { add, computeGradients, dispose, keep, mul, sum, type Tensor } from '@ssmjs/core';
import { selectiveScan, selectiveStateUpdate, type SelectiveScanArgs } from '@ssmjs/selective-scan';
import { fromFixture, loadFixtures, maxRelativeError } from './helpers';
import { testedBackends, useBackend } from './backends';

const { cases, stepCases } = loadFixtures();
const OPTIONAL = ['D', 'z', 'deltaBias', 'initialState'] as const;

describe.each(testedBackends())('fixtures on %s', (backend, tolerance) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // chunkSize 3 puts chunk boundaries inside every sequence longer than 3, so the backward's
  // recomputation from checkpoints is exercised by the same fixtures.
  describe.each([64, 3])('chunkSize %i', (chunkSize) => {
    it.each(cases.map((c) => [`${c.name}`, c] as const))('%s', async (_, c) => {
      const present = (['u', 'delta', 'A', 'B', 'C', ...OPTIONAL] as const).filter((k) => c.inputs[k] !== null);
      const tensors = Object.fromEntries(present.map((k) => [k, fromFixture(c.inputs[k]!)])) as Record<string, Tensor>;
      const wy = fromFixture(c.upstream.y);
      const ws = fromFixture(c.upstream.lastState);
      let y: Tensor | undefined;
      let lastState: Tensor | undefined;
      const { value, grads } = computeGradients(() => {
        const out = selectiveScan({ ...(tensors as unknown as SelectiveScanArgs), deltaSoftplus: c.deltaSoftplus, returnLastState: true, chunkSize });
        // Kept: computeGradients frees everything but the value and the gradients.
        y = keep(out.y);
        lastState = keep(out.lastState!);
        return add(sum(mul(out.y, wy)), sum(mul(out.lastState!, ws)));
      }, present.map((k) => tensors[k]));
      expect(maxRelativeError(await y!.data(), c.outputs.y.data)).toBeLessThan(tolerance);
      expect(maxRelativeError(await lastState!.data(), c.outputs.lastState.data)).toBeLessThan(tolerance);
      for (const [i, k] of present.entries()) {
        const err = maxRelativeError(await grads[i].data(), c.grads[k]!.data);
        expect(err, `gradient of ${k}`).toBeLessThan(tolerance);
      }
      dispose([value, grads, tensors, wy, ws, y, lastState]);
    });
  });

  it.each(stepCases.map((c) => [c.name, c] as const))('step %s', async (_, c) => {
    const t = (k: keyof typeof c.inputs) => (c.inputs[k] ? fromFixture(c.inputs[k]!) : undefined);
    const state = t('state')!;
    const args = { x: t('x')!, dt: t('dt')!, A: t('A')!, B: t('B')!, C: t('C')!, D: t('D'), z: t('z'), dtBias: t('dtBias') };
    const out = selectiveStateUpdate({ state, ...args, dtSoftplus: c.dtSoftplus });
    expect(maxRelativeError(await out.data(), c.outputs.out.data)).toBeLessThan(tolerance);
    // The state tensor itself now holds the new state.
    expect(maxRelativeError(await state.data(), c.outputs.newState.data)).toBeLessThan(tolerance);
    dispose([out, state, args]);
  });
});
