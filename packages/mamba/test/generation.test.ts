import { memory, setBackend, tensor, type Tensor } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, fixtureDir, idsTensor, loadExpected, maxAbsDiff, positions } from './helpers';


/** Values of a tensor, read the way every backend allows. */
async function values(t: Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

describe.each(BACKENDS)('recurrent path and generation on %s', (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });
  afterAll(async () => {
    await setBackend('cpu');
  });

  describe.each(['tiny', 'small'])('fixture %s', (name) => {
    const expected = loadExpected(name);
    const prompt = expected.get('prompt_ids')!;
    const greedy = expected.get('greedy')!;
    const [batch, promptLen] = prompt.shape;
    const V = expected.get('step_logits')!.shape[2];
    let model: MambaLM;
    beforeAll(async () => {
      model = await MambaLM.fromPretrained(fixtureDir(name));
    });
    afterAll(() => model.dispose());

    it('greedy generation reproduces transformers’ tokens exactly (batched)', async () => {
      const prompts = Array.from({ length: batch }, (_, b) => Array.from(prompt.data.subarray(b * promptLen, (b + 1) * promptLen)));
      const out = await model.generate(prompts, { maxNewTokens: 10, temperature: 0 });
      expect(out.flat()).toEqual(Array.from(greedy.data));
    });

    it('prefill + step reproduce transformers’ cached step logits and our parallel logits, position by position', async () => {
      const stepLogits = expected.get('step_logits')!;
      const ids = idsTensor(prompt);
      const { logits: first, cache } = model.prefill(ids);
      ids.dispose();
      const steps = [await values(first)];
      for (let i = 1; i < stepLogits.shape[1]; i++) {
        const column = Int32Array.from({ length: batch }, (_, b) => greedy.data[b * greedy.shape[1] + promptLen + i - 1]);
        const next = tensor(column, [batch], 'int32');
        steps.push(await values(model.step(next, cache)));
        next.dispose();
      }
      cache.dispose();
      // steps[i] is [batch, V]; put them in the fixture's [batch, 10, V] layout.
      const ours = new Float32Array(batch * steps.length * V);
      steps.forEach((s, i) => {
        for (let b = 0; b < batch; b++) ours.set(s.subarray(b * V, (b + 1) * V), (b * steps.length + i) * V);
      });
      expect(maxAbsDiff(ours, stepLogits.data)).toBeLessThanOrEqual(1e-4);

      const all = idsTensor(greedy);
      const parallel = await values(model.forward(all));
      all.dispose();
      const window = positions(parallel, [batch, greedy.shape[1], V], promptLen - 1, promptLen - 1 + steps.length);
      expect(maxAbsDiff(ours, window)).toBeLessThanOrEqual(1e-5);
    });

    it('stepping from an empty cache equals the parallel path, including prompts shorter than the conv', async () => {
      const L = 7;
      const all = idsTensor(greedy);
      const parallel = await values(model.forward(all));
      all.dispose();
      const column = (t: number) => Int32Array.from({ length: batch }, (_, b) => greedy.data[b * greedy.shape[1] + t]);
      // From zeros, one token at a time.
      const cache = model.createCache(batch);
      for (let t = 0; t < L; t++) {
        const ids = tensor(column(t), [batch], 'int32');
        const got = await values(model.step(ids, cache));
        ids.dispose();
        expect(maxAbsDiff(got, positions(parallel, [batch, greedy.shape[1], V], t, t + 1)), `position ${t}`).toBeLessThanOrEqual(1e-5);
      }
      cache.dispose();
      // A 2-token prefill (shorter than d_conv = 4) then steps.
      const head = tensor(Int32Array.from({ length: batch * 2 }, (_, i) => greedy.data[Math.floor(i / 2) * greedy.shape[1] + (i % 2)]), [batch, 2], 'int32');
      const { logits, cache: c2 } = model.prefill(head);
      head.dispose();
      expect(maxAbsDiff(await values(logits), positions(parallel, [batch, greedy.shape[1], V], 1, 2))).toBeLessThanOrEqual(1e-5);
      for (let t = 2; t < L; t++) {
        const ids = tensor(column(t), [batch], 'int32');
        const got = await values(model.step(ids, c2));
        ids.dispose();
        expect(maxAbsDiff(got, positions(parallel, [batch, greedy.shape[1], V], t, t + 1)), `position ${t}`).toBeLessThanOrEqual(1e-5);
      }
      expect(c2.seqLen).toBe(L);
      c2.dispose();
    });
  });

  describe('sampling, streaming, stopping and memory', () => {
    let model: MambaLM;
    beforeAll(() => {
      model = MambaLM.create({ dModel: 32, nLayer: 2, vocabSize: 50, dState: 8 }, { seed: 3 });
    });
    afterAll(() => model.dispose());

    it('memory stays flat over 50 generated tokens (state only, no growing cache)', async () => {
      const before = memory();
      const live: number[] = [];
      const bytes: number[] = [];
      let count = 0;
      for await (const tokens of model.stream([[1, 2, 3], [4, 5, 6]], { maxNewTokens: 50, temperature: 0.8, seed: 1 })) {
        expect(tokens).toHaveLength(2);
        const m = memory();
        live.push(m.liveTensors);
        bytes.push(m.backends[backend].bytes);
        count++;
      }
      expect(count).toBe(50);
      // After the first step every step holds exactly the same tensors and bytes.
      expect(new Set(live.slice(1)).size).toBe(1);
      expect(new Set(bytes.slice(1)).size).toBe(1);
      const after = memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      expect(after.backends[backend].bytes).toBe(before.backends[backend].bytes);
    });

    it('step memory is flat: 50 steps on one cache allocate nothing that stays', async () => {
      const ids = tensor(Int32Array.from([1, 2, 3]), [1, 3], 'int32');
      const { logits, cache } = model.prefill(ids);
      ids.dispose();
      logits.dispose();
      const start = memory();
      for (let i = 0; i < 50; i++) {
        const next = tensor(Int32Array.from([i % 50]), [1], 'int32');
        model.step(next, cache).dispose();
        next.dispose();
      }
      const end = memory();
      expect(end.liveTensors).toBe(start.liveTensors);
      expect(end.backends[backend].bytes).toBe(start.backends[backend].bytes);
      expect(cache.bytes).toBe(4 * 2 * (1 * 64 * 4 + 1 * 64 * 8));
      cache.dispose();
    });

    it("the cache's A = −exp(A_log) follows a replaced A_log (an optimizer step between tokens)", async () => {
      // Two steps from zeros (the first does not see A): on a cache made before the replacement, on one
      // made after it, and before the replacement, for a result that must differ.
      const twoSteps = async (cache: ReturnType<MambaLM['createCache']>) => {
        for (const id of [4, 9]) {
          const ids = tensor(Int32Array.from([id]), [1], 'int32');
          const logits = model.step(ids, cache);
          ids.dispose();
          if (id === 9) {
            cache.dispose();
            return values(logits);
          }
          logits.dispose();
        }
        throw new Error('unreachable');
      };
      const ALog = model.namedParameters().get('backbone.layers.0.mixer.A_log')!;
      const original = await ALog.value.data();
      const early = model.createCache(1);
      const before = await twoSteps(model.createCache(1));
      ALog.assign(tensor(Float32Array.from(original as Float32Array, (v) => v + 3), ALog.value.shape));
      const got = await twoSteps(early);
      const fresh = await twoSteps(model.createCache(1));
      ALog.assign(tensor(Float32Array.from(original as Float32Array), ALog.value.shape));
      expect(maxAbsDiff(got, fresh)).toBe(0);
      // Without the replacement reaching the step, got would equal before exactly (the same computation).
      expect(maxAbsDiff(got, before)).toBeGreaterThan(1e-6);
    });

    it('sampling is reproducible from a seed and differs across seeds', async () => {
      const opts = { maxNewTokens: 12, temperature: 1.5, topK: 20, topP: 0.95, repetitionPenalty: 1.1 };
      const a = await model.generate([7, 8], { ...opts, seed: 42 });
      const b = await model.generate([7, 8], { ...opts, seed: 42 });
      const c = await model.generate([7, 8], { ...opts, seed: 43 });
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
      expect(a[0].slice(0, 2)).toEqual([7, 8]);
      expect(a[0]).toHaveLength(14);
    });

    it('stream yields what generate returns; stop tokens end a sequence (kept in the output)', async () => {
      const greedy = await model.generate([[1, 2], [3, 4]], { maxNewTokens: 8, temperature: 0 });
      const streamed: number[][] = [];
      for await (const t of model.stream([[1, 2], [3, 4]], { maxNewTokens: 8, temperature: 0 })) streamed.push(t);
      expect(streamed.map((t) => t[0])).toEqual(greedy[0].slice(2));
      expect(streamed.map((t) => t[1])).toEqual(greedy[1].slice(2));
      // Stop the first sequence at its third token: the second runs on, the first reports −1.
      const stop = greedy[0][4];
      const firstStop = greedy[0].indexOf(stop, 2);
      const stopped = await model.generate([[1, 2], [3, 4]], { maxNewTokens: 8, temperature: 0, stopTokens: [stop] });
      expect(stopped[0]).toEqual(greedy[0].slice(0, firstStop + 1));
      const secondStop = greedy[1].indexOf(stop, 2);
      expect(stopped[1]).toEqual(secondStop >= 0 ? greedy[1].slice(0, secondStop + 1) : greedy[1]);
    });

    it('prompts of different lengths are left-padded and give what each gives alone', async () => {
      const prompts = [[9, 8, 7, 6, 5, 4, 3], [1, 2], [30]];
      const together = await model.generate(prompts, { maxNewTokens: 6, temperature: 0 });
      for (const [b, p] of prompts.entries()) {
        expect(together[b]).toEqual((await model.generate([p], { maxNewTokens: 6, temperature: 0 }))[0]);
      }
      // The logits agree too, not only the argmax: prefill a padded batch and compare row by row.
      const ids = tensor(Int32Array.from([0, 0, 0, 1, 2, 9, 8, 7, 6, 5]), [2, 5], 'int32');
      const mask = tensor(Int32Array.from([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]), [2, 5], 'int32');
      const { logits, cache } = model.prefill(ids, { attentionMask: mask });
      const alone = tensor(Int32Array.from([1, 2]), [1, 2], 'int32');
      const single = model.prefill(alone);
      expect(maxAbsDiff((await values(logits)).subarray(0, 50), await values(single.logits))).toBeLessThanOrEqual(1e-5);
      for (const t of [ids, mask, alone]) t.dispose();
      cache.dispose();
      single.cache.dispose();
    });

    it('leaving a stream early frees its cache', async () => {
      const before = memory().liveTensors;
      let n = 0;
      for await (const _ of model.stream([1, 2, 3], { maxNewTokens: 20, temperature: 0 })) if (++n === 3) break;
      expect(n).toBe(3);
      expect(memory().liveTensors).toBe(before);
    });

    it('one prompt as a flat array or a tensor gives the same result', async () => {
      const flat = await model.generate([5, 6, 7], { maxNewTokens: 4, temperature: 0 });
      const ids = tensor(Int32Array.from([5, 6, 7]), [1, 3], 'int32');
      const fromTensor = await model.generate(ids, { maxNewTokens: 4, temperature: 0 });
      ids.dispose();
      expect(fromTensor).toEqual(flat);
    });
  });
});
