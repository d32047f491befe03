import { computeGradients, memory, setBackend, type Tensor } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, fixtureDir, idsTensor, loadExpected, maxAbsDiff, positions, relativeError } from './helpers';


describe.each(BACKENDS)('MambaLM on %s', (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });
  afterAll(async () => {
    await setBackend('cpu');
  });

  describe.each(['tiny', 'small'])('fixture %s', (name) => {
    const expected = loadExpected(name);
    let model: MambaLM;
    beforeAll(async () => {
      model = await MambaLM.fromPretrained(fixtureDir(name));
    });
    afterAll(() => model.dispose());

    it('logits match the float64 reference to 1e-4', async () => {
      const ids = idsTensor(expected.get('input_ids')!);
      const logits = model.forward(ids);
      expect(logits.shape).toEqual(expected.get('logits_f64')!.shape);
      expect(logits.backend.name).toBe(backend);
      const diff = maxAbsDiff(await logits.data(), expected.get('logits_f64')!.data);
      dispose(ids, logits);
      expect(diff).toBeLessThanOrEqual(1e-4);
    });

    it('loss and every parameter gradient match the float64 reference', async () => {
      const ids = idsTensor(expected.get('input_ids')!);
      const params = model.namedParameters();
      const names = [...params.keys()];
      expect(names.sort()).toEqual([...expected.keys()].filter((k) => k.startsWith('grad_f64.')).map((k) => k.slice(9)).sort());
      const { value, grads } = computeGradients(() => model.loss(ids), names.map((n) => params.get(n)!.value));
      expect(Math.abs((await value.data())[0] - expected.get('loss_f64')!.data[0])).toBeLessThanOrEqual(1e-5);
      for (let i = 0; i < names.length; i++) {
        const err = relativeError(await grads[i].data(), expected.get(`grad_f64.${names[i]}`)!.data);
        expect(err, names[i]).toBeLessThanOrEqual(1e-3);
      }
      dispose(ids, value, ...grads);
    });
  });
});

function dispose(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}
