import { Generator, ValueError } from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, argmax, sampleToken, samplingDistribution, validateSampling } from '../src/sampling';

const logits = Float32Array.from([1, 3, 2, 3, -1]);

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe('sampling', () => {
  it('greedy takes the first maximum', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, [], { temperature: 0 }, new Generator(0))).toBe(1);
  });

  it('repetition penalty divides positive and multiplies negative logits, once per distinct token', () => {
    const row = Float32Array.from(logits);
    applyRepetitionPenalty(row, [1, 1, 4], 2);
    expect([...row]).toEqual([1, 1.5, 2, 3, -2]);
    // Greedy then picks token 3 instead of the penalized token 1.
    expect(sampleToken(logits, [1], { temperature: 0, repetitionPenalty: 2 }, new Generator(0))).toBe(3);
  });

  it('temperature scales logits before softmax', () => {
    const p = samplingDistribution(logits, { temperature: 0.5 });
    const expected = softmax([...logits].map((x) => x / 0.5));
    p.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
  });

  it('top-k keeps the k largest, ties with the k-th included', () => {
    const p = samplingDistribution(logits, { topK: 1 });
    expect(p[1]).toBeCloseTo(0.5, 12);
    expect(p[3]).toBeCloseTo(0.5, 12);
    expect(p[0] + p[2] + p[4]).toBe(0);
    const p2 = samplingDistribution(logits, { topK: 3 });
    expect(p2[0]).toBe(0);
    expect(p2[4]).toBe(0);
    expect(p2[2]).toBeCloseTo(softmax([3, 2, 3])[1], 12);
  });

  it('top-p keeps the smallest most-likely set reaching p', () => {
    const full = softmax([...logits]);
    // Tokens 1 and 3 hold 2 · 0.38 ≈ 0.77 of the mass: p = 0.7 keeps both, p = 0.8 also takes token 2.
    expect(full[1] + full[3]).toBeGreaterThan(0.7);
    const p = samplingDistribution(logits, { topP: 0.7 });
    expect([...p].map((v) => v > 0)).toEqual([false, true, false, true, false]);
    const q = samplingDistribution(logits, { topP: 0.8 });
    expect([...q].map((v) => v > 0)).toEqual([false, true, true, true, false]);
    expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('draws with the distribution’s frequencies and is reproducible from a seed', () => {
    const g = new Generator(123);
    const counts = new Array(5).fill(0);
    const draws = 20000;
    for (let i = 0; i < draws; i++) counts[sampleToken(logits, [], { temperature: 1.5, topK: 4 }, g)]++;
    const p = samplingDistribution(logits, { temperature: 1.5, topK: 4 });
    expect(counts[4]).toBe(0);
    counts.forEach((c, i) => expect(Math.abs(c / draws - p[i])).toBeLessThan(0.015));
    const a = new Generator(5);
    const b = new Generator(5);
    const seqA = Array.from({ length: 20 }, () => sampleToken(logits, [], {}, a));
    const seqB = Array.from({ length: 20 }, () => sampleToken(logits, [], {}, b));
    expect(seqA).toEqual(seqB);
  });

  it('rejects bad options with ValueError', () => {
    expect(() => validateSampling({ temperature: -1 })).toThrow(ValueError);
    expect(() => validateSampling({ topK: 1.5 })).toThrow(ValueError);
    expect(() => validateSampling({ topP: 0 })).toThrow(ValueError);
    expect(() => validateSampling({ repetitionPenalty: 0 })).toThrow(ValueError);
    expect(() => validateSampling({ temperature: 0, topK: 5, topP: 0.9, repetitionPenalty: 1.2 })).not.toThrow();
  });
});
