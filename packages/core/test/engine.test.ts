import { describe, expect, it } from 'vitest';
import {
  add, checkGradients, computeGradients, DisposedError, div, exp, keep, log, matmul, memory, mul, neg, noGrad, randn,
  recordsGradients, reshape, ShapeError, sub, sum, tensor, tidy, zeros, type Tensor,
} from '@ssmjs/core';

describe('tensors and memory', () => {
  it('creates, reads and disposes', async () => {
    const before = memory().liveTensors;
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    t.dispose();
    expect(memory().liveTensors).toBe(before);
    expect(() => t.dataSync()).toThrow(DisposedError);
    expect(() => add(t, t)).toThrow(DisposedError);
  });

  it('tidy frees intermediates and keeps results', () => {
    const before = memory();
    const x = randn([4, 4], { seed: 1 });
    const y = tidy(() => add(mul(x, x), exp(x)));
    expect(memory().liveTensors).toBe(before.liveTensors + 2);
    x.dispose();
    y.dispose();
    expect(memory()).toEqual(before);
  });

  it('number operands leave no tensors behind', () => {
    using x = tensor([1, 2, 3]);
    const before = memory();
    add(x, 1).dispose();
    mul(2, x).dispose();
    expect(memory()).toEqual(before);
  });

  it('reshape shares data and frees it with the last owner', () => {
    const before = memory().backends.cpu?.bytes ?? 0;
    const x = tensor([1, 2, 3, 4, 5, 6]);
    const y = reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(memory().backends.cpu.bytes).toBe(before);
  });

  it('gives typed shape errors that name the op and shapes', () => {
    using a = zeros([2, 3]);
    using b = zeros([4, 3]);
    expect(() => add(a, b)).toThrow(ShapeError);
    expect(() => add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4, 3\]/);
    expect(() => matmul(a, b)).toThrow(/matmul: inner dimensions differ/);
  });
});

describe('arithmetic and matmul', () => {
  it('broadcasts', () => {
    const y = add(tensor([[1], [2]]), tensor([10, 20, 30]));
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.dataSync())).toEqual([11, 21, 31, 12, 22, 32]);
  });

  it('matmul with transposes agrees with the plain product', () => {
    const a = tensor([[1, 2], [3, 4], [5, 6]]); // 3×2
    const b = tensor([[1, 0, 2], [0, 1, 3]]); // 2×3
    expect(Array.from(matmul(a, b).dataSync())).toEqual([1, 2, 8, 3, 4, 18, 5, 6, 28]);
    const at = tensor([[1, 3, 5], [2, 4, 6]]);
    const bt = tensor([[1, 0], [0, 1], [2, 3]]);
    expect(Array.from(matmul(at, bt, { transposeA: true, transposeB: true }).dataSync())).toEqual([1, 2, 8, 3, 4, 18, 5, 6, 28]);
  });
});

describe('autograd', () => {
  it('says whether an op on given inputs would be recorded', () => {
    const x = tensor([1, 2, 3]);
    const other = tensor([4, 5, 6]);
    const seen: Record<string, boolean> = {};
    expect(recordsGradients([x])).toBe(false);
    const { value, grads } = computeGradients(() => {
      const y = mul(x, 2);
      seen.source = recordsGradients([x]);
      seen.derived = recordsGradients([other, y]);
      seen.unrelated = recordsGradients([other]);
      seen.paused = noGrad(() => recordsGradients([x]));
      return sum(y);
    }, [x]);
    expect(seen).toEqual({ source: true, derived: true, unrelated: false, paused: false });
    [x, other, value, ...grads].forEach((t) => t.dispose());
  });

  it('gradients of a small expression match finite differences', async () => {
    const x = randn([3, 4], { seed: 2 });
    const w = randn([1, 4], { seed: 3 });
    const f = (a: ReturnType<typeof randn>, b: ReturnType<typeof randn>) =>
      sum(div(mul(sub(a, b), exp(neg(a))), add(mul(b, b), 1)));
    const r = await checkGradients(f, [x, w]);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('matmul gradients for every transpose combination and batch broadcast', async () => {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = randn(transposeA ? [2, 1, 5, 3] : [2, 1, 3, 5], { seed: 4 });
        const b = randn(transposeB ? [4, 2, 5] : [4, 5, 2], { seed: 5 });
        const r = await checkGradients((p: Tensor, q: Tensor) => sum(mul(matmul(p, q, { transposeA, transposeB }), matmul(p, q, { transposeA, transposeB }))), [a, b]);
        expect(r.failures).toEqual([]);
      }
    }
  });

  it('a training loop does not leak', () => {
    const x = randn([16, 8], { seed: 6 });
    let w = keep(randn([8, 1], { seed: 7 }));
    const step = () => {
      const { value, grads } = computeGradients(() => sum(log(add(exp(matmul(x, w)), 1))), [w]);
      const next = keep(tidy(() => sub(w, mul(grads[0], 0.01))));
      value.dispose();
      grads[0].dispose();
      w.dispose();
      w = next;
    };
    step();
    const before = memory();
    for (let i = 0; i < 20; i++) step();
    expect(memory()).toEqual(before);
  });
});
