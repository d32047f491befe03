import { describe, expect, it } from 'vitest';
import {
  abs, add, addRmsNorm, argmax, cast, checkGradients, computeGradients, concat, conv1d, conv1dStep, cos, crossEntropy, DisposedError, dispose, div,
  DTypeError, embedding, erf, exp, gather, gelu, irfft, keep, logSoftmax, logsumexp, matmul, max, maximum, mean,
  memory, minimum, mul, pad, pow, rand, randn, reshape, rfft, rmsNorm, rsqrt, scatterAdd, ShapeError, sigmoid, silu,
  sin, slice, softmax, softplus, split, sqrt, square, stack, sub, sum, tanh, tensor, tidy, transpose, ValueError, where,
  type Tensor,
} from '@ssmjs/core';

const values = (t: Tensor) => Array.from(t.dataSync());

/** Asserts autograd matches central differences for sum(f(...xs)·w), w fixed and random (so no gradient cancels). */
async function expectGradients(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], options: { eps?: number; rtol?: number; atol?: number } = {}) {
  const probe = tidy(() => f(...xs));
  const w = randn(probe.shape as number[], { seed: 99 });
  probe.dispose();
  const r = await checkGradients((...args) => sum(mul(f(...args), w)), xs, { samples: 40, ...options });
  w.dispose();
  expect(r.failures).toEqual([]);
  expect(r.ok).toBe(true);
}

/** Normal values pushed at least 0.3 away from zero (for ops with a kink there). */
function awayFromZero(shape: number[], seed: number): Tensor {
  const x = randn(shape, { seed });
  const shifted = Array.from(x.dataSync(), (v) => v + (v < 0 ? -0.3 : 0.3));
  x.dispose();
  return tensor(shifted, shape);
}

describe('elementwise ops', () => {
  it('forward values', () => {
    expect(values(softplus(tensor([0, 30, -30, 20.5])))).toEqual([Math.fround(Math.LN2), 30, Math.fround(Math.exp(-30)), 20.5]);
    const g = values(gelu(tensor([0, 1, -1])));
    expect(g[0]).toBe(0);
    expect(g[1]).toBeCloseTo(0.8413447460685429, 6);
    expect(g[2]).toBeCloseTo(-0.15865525393145707, 6);
    expect(values(gelu(tensor([1]), { approximate: 'tanh' }))[0]).toBeCloseTo(0.8411919906082768, 6);
    const e = values(erf(tensor([0, 0.1, 0.5, 1, -2, 4])));
    [0, 0.1124629160182849, 0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.9999999845827421].forEach((v, i) =>
      expect(e[i]).toBeCloseTo(v, 7),
    );
    expect(values(silu(tensor([0, 2])))).toEqual([0, Math.fround(2 / (1 + Math.exp(-2)))]);
    expect(values(sqrt(tensor([4, 9])))).toEqual([2, 3]);
    expect(values(rsqrt(tensor([4, 0.25])))).toEqual([0.5, 2]);
    expect(values(abs(tensor([-2, 3])))).toEqual([2, 3]);
    expect(values(square(tensor([-3])))).toEqual([9]);
    expect(values(pow(tensor([2, 3]), 3))).toEqual([8, 27]);
    expect(values(maximum(tensor([[1, 5]]), tensor([[3], [4]])))).toEqual([3, 5, 4, 5]);
    expect(values(minimum(tensor([1, 5]), 2))).toEqual([1, 2]);
    expect(values(tanh(tensor([0])))).toEqual([0]);
    expect(values(sigmoid(tensor([0])))).toEqual([0.5]);
    expect(values(sin(tensor([0, Math.PI / 2, -1])))).toEqual([0, 1, Math.fround(Math.sin(-1))]);
    expect(values(cos(tensor([0, Math.PI, 2])))).toEqual([1, -1, Math.fround(Math.cos(2))]);
  });

  it('unary gradients', async () => {
    const x = randn([3, 5], { seed: 1 });
    const positive = rand([2, 7], { seed: 2, low: 0.3, high: 3 });
    for (const f of [exp, sin, cos, tanh, sigmoid, silu, softplus, erf, square, (t: Tensor) => gelu(t), (t: Tensor) => gelu(t, { approximate: 'tanh' })]) {
      await expectGradients(f, [x]);
    }
    for (const f of [sqrt, rsqrt]) await expectGradients(f, [positive]);
    await expectGradients(abs, [awayFromZero([4, 3], 3)]);
    // softplus on both sides of its threshold 20.
    await expectGradients(softplus, [tensor([-25, -3, 0.5, 19, 21, 40])]);
  });

  it('binary gradients with broadcasting', async () => {
    const base = rand([3, 1, 4], { seed: 4, low: 0.5, high: 2 });
    const exponent = randn([5, 1], { seed: 5 });
    await expectGradients((a, b) => pow(a, b), [base, exponent]);
    await expectGradients((a) => pow(a, 2.5), [base]);
    // Values on separate grids so no pair is within the finite-difference step of a tie.
    const a = tensor([0.1, 1.3, -0.7, 2.2, -1.9, 0.55], [2, 3]);
    const b = tensor([0.4, -0.25, 1.05], [3]);
    await expectGradients((p, q) => maximum(p, q), [a, b]);
    await expectGradients((p, q) => minimum(p, q), [a, b]);
  });

  it('maximum splits the gradient at ties', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 1, 4]);
    const { value, grads } = computeGradients(() => sum(maximum(a, b)), [a, b]);
    expect(values(grads[0])).toEqual([0.5, 1, 0]);
    expect(values(grads[1])).toEqual([0.5, 0, 1]);
    dispose([value, grads]);
  });
});

describe('reductions', () => {
  it('forward values', () => {
    const x = tensor([[1, 5, 2], [7, 0, 7]]);
    expect(values(mean(x))).toEqual([Math.fround(11 / 3)]);
    expect(values(mean(x, 0))).toEqual([4, 2.5, 4.5]);
    expect(values(max(x, 1))).toEqual([5, 7]);
    expect(max(x, 1, { keepDims: true }).shape).toEqual([2, 1]);
    expect(values(argmax(x, 1))).toEqual([1, 0]);
    expect(argmax(x, -1).dtype).toBe('int32');
    expect(values(argmax(tensor([1, NaN, 3]), 0))).toEqual([1]);
    expect(values(logsumexp(tensor([Math.log(1), Math.log(3)])))[0]).toBeCloseTo(Math.log(4), 6);
    expect(values(logsumexp(tensor([1000, 1000])))[0]).toBeCloseTo(1000 + Math.LN2, 3);
  });

  it('gradients over several axes, with and without keepDims', async () => {
    const x = randn([2, 3, 5], { seed: 6 });
    for (const [axes, keepDims] of [[[1], false], [[0, 2], true], [undefined, false], [[2], false]] as const) {
      await expectGradients((t) => mean(t, axes as number[] | undefined, { keepDims }), [x]);
      await expectGradients((t) => max(t, axes as number[] | undefined, { keepDims }), [x]);
      await expectGradients((t) => logsumexp(t, axes as number[] | undefined, { keepDims }), [x]);
    }
  });

  it('max sends the gradient to the first maximum only', () => {
    const x = tensor([[3, 1, 3], [0, 2, 2]]);
    const { value, grads } = computeGradients(() => sum(max(x, 1)), [x]);
    expect(values(grads[0])).toEqual([1, 0, 0, 0, 1, 0]);
    dispose([value, grads]);
  });
});

describe('shape ops', () => {
  it('forward values', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(values(transpose(x))).toEqual([1, 4, 2, 5, 3, 6]);
    const cube = tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const t = transpose(cube, [2, 0, 1]);
    expect(t.shape).toEqual([4, 2, 3]);
    expect(values(t).slice(0, 6)).toEqual([0, 4, 8, 12, 16, 20]);
    expect(values(slice(x, [0, 1], [2, -1]))).toEqual([2, 3, 5, 6]);
    expect(values(concat([x, tensor([[7], [8]])], 1))).toEqual([1, 2, 3, 7, 4, 5, 6, 8]);
    expect(values(concat([x, tensor([[7, 8, 9]])], 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const pieces = split(x, [1, 0, 2], 1);
    expect(pieces.map((p) => p.shape)).toEqual([[2, 1], [2, 0], [2, 2]]);
    expect(pieces.map(values)).toEqual([[1, 4], [], [2, 3, 5, 6]]);
    expect(split(x, [1, 1], 0).map(values)).toEqual([[1, 2, 3], [4, 5, 6]]);
    const s = stack([tensor([1, 2]), tensor([3, 4])], 1);
    expect(s.shape).toEqual([2, 2]);
    expect(values(s)).toEqual([1, 3, 2, 4]);
    expect(values(pad(tensor([[1, 2]]), [[1, 0], [0, 1]], 9))).toEqual([9, 9, 9, 1, 2, 9]);
    const ids = tensor([[2, 0], [2, 1]], undefined, 'int32');
    const e = embedding(tensor([[0, 0], [1, 1], [2, 2]]), ids);
    expect(e.shape).toEqual([2, 2, 2]);
    expect(values(e)).toEqual([2, 2, 0, 0, 2, 2, 1, 1]);
    expect(values(gather(x, tensor([2, 2, 0], undefined, 'int32'), 1))).toEqual([3, 3, 1, 6, 6, 4]);
    expect(values(scatterAdd(tensor([1, 2, 3]), tensor([1, 1, 0], undefined, 'int32'), [3]))).toEqual([3, 3, 0]);
    const cond = tensor([[1], [0]], undefined, 'int32');
    expect(values(where(cond, x, -1))).toEqual([1, 2, 3, -1, -1, -1]);
    const c = cast(tensor([-1.7, 2.9, 0.2]), 'int32');
    expect(c.dtype).toBe('int32');
    expect(values(c)).toEqual([-1, 2, 0]);
    expect(values(cast(c, 'float32'))).toEqual([-1, 2, 0]);
  });

  it('gradients', async () => {
    const x = randn([2, 3, 4], { seed: 7 });
    await expectGradients((t) => transpose(t, [1, 2, 0]), [x]);
    await expectGradients((t) => transpose(t), [x]);
    await expectGradients((t) => slice(t, [1, 0, 1], [1, -1, 2]), [x]);
    await expectGradients((a, b, c) => concat([a, b, c], 1), [x, randn([2, 1, 4], { seed: 8 }), randn([2, 2, 4], { seed: 9 })]);
    // Each piece weighted differently (and one left unused: its gradient is zero).
    await expectGradients((t) => {
      const [a, , c] = split(t, [1, 1, 2], 2);
      return concat([mul(a, 3), c], 2);
    }, [x]);
    await expectGradients((a, b) => stack([a, b], 2), [x, randn([2, 3, 4], { seed: 10 })]);
    await expectGradients((t) => pad(t, [[0, 1], [2, 0], [1, 1]], 0.5), [x]);
    const idx = tensor([[3, 0, 3], [1, 1, 2]], undefined, 'int32');
    await expectGradients((t) => gather(t, idx, 2), [x]);
    await expectGradients((t) => embedding(t, idx), [randn([5, 3], { seed: 11 })]);
    await expectGradients((u) => scatterAdd(u, tensor([2, 0, 2], undefined, 'int32'), [4, 2], 0), [randn([3, 2], { seed: 12 })]);
    const cond = tensor([1, 0, 0, 1], [4], 'int32');
    await expectGradients((a, b) => where(cond, a, b), [randn([3, 1], { seed: 13 }), randn([2, 3, 4], { seed: 14 })]);
  });
});

describe('nn ops', () => {
  it('forward values', () => {
    const p = values(softmax(tensor([[0, Math.log(3)]])));
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[1]).toBeCloseTo(0.75, 6);
    expect(values(logSoftmax(tensor([[0, Math.log(3)]]), 1))[0]).toBeCloseTo(Math.log(0.25), 6);
    // Uniform logits: loss log C on every row; the ignored row does not count.
    const loss = crossEntropy(tensor([[0, 0, 0, 0], [5, 1, 2, 3]]), tensor([1, -100], undefined, 'int32'));
    expect(loss.shape).toEqual([]);
    expect(values(loss)[0]).toBeCloseTo(Math.log(4), 6);
    expect(values(crossEntropy(tensor([[1, 2]]), tensor([0], undefined, 'int32'), { ignoreIndex: 0 }))[0]).toBeNaN();
    // x = [1, 2, 3], w = [10, 1], bias 0.5: y_t = 0.5 + 10·x_{t−1} + x_t.
    const y = conv1d(tensor([[[1, 2, 3]]]), tensor([[10, 1]]), tensor([0.5]));
    expect(values(y)).toEqual([1.5, 12.5, 23.5]);
    expect(values(conv1d(tensor([[[1, 2, 3]]]), tensor([[10, 1]])))).toEqual([1, 12, 23]);
    // The decoding step equals conv1d's last output over the window's inputs and x, and moves the window on.
    for (const [B, C, K, withBias] of [[2, 5, 4, true], [1, 3, 1, false], [3, 2, 3, true]] as [number, number, number, boolean][]) {
      const [win, x, w, b] = [randn([B, C, K], { seed: 30 }), randn([B, C], { seed: 31 }), randn([C, K], { seed: 32 }), randn([C], { seed: 33 })];
      const seq = concat([win, reshape(x, [B, C, 1])], 2);
      const full = conv1d(seq, w, withBias ? b : undefined);
      const last = values(slice(full, [0, 0, K], [B, C, 1]));
      for (const act of [false, true]) {
        const step = conv1dStep(win, x, w, withBias ? b : undefined, { silu: act });
        expect(step.y.shape).toEqual([B, C]);
        const want = act ? last.map((v) => v / (1 + Math.exp(-v))) : last;
        values(step.y).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
        expect(values(step.window)).toEqual(values(slice(seq, [0, 0, 1], [B, C, K])));
      }
    }
    // addRmsNorm: the sum and its norm, as add and rmsNorm give them.
    {
      const [x, r, w] = [randn([3, 5], { seed: 34 }), randn([3, 5], { seed: 35 }), randn([5], { seed: 36 })];
      const fused = addRmsNorm(x, r, w, 1e-3);
      expect(values(fused.sum)).toEqual(values(add(x, r)));
      values(fused.normed).forEach((v, k) => expect(v).toBeCloseTo(values(rmsNorm(add(x, r), w, 1e-3))[k], 6));
    }
    // rms of [3, 4] is √12.5.
    const n = values(rmsNorm(tensor([[3, 4]]), tensor([1, 2]), 0));
    expect(n[0]).toBeCloseTo(3 / Math.sqrt(12.5), 6);
    expect(n[1]).toBeCloseTo((2 * 4) / Math.sqrt(12.5), 6);
  });

  it('gradients', async () => {
    const x = randn([2, 4, 3], { seed: 15 });
    await expectGradients((t) => softmax(t, 1), [x]);
    await expectGradients((t) => softmax(t), [x]);
    await expectGradients((t) => logSoftmax(t, 0), [x]);
    await expectGradients((t) => logSoftmax(t, -1), [x]);
    const logits = randn([5, 7], { seed: 16 });
    await expectGradients((l) => crossEntropy(l, tensor([3, -100, 0, 6, 3], undefined, 'int32')), [logits]);
    await expectGradients((l) => crossEntropy(l, tensor([3, 2, 0, 6, 3], undefined, 'int32'), { ignoreIndex: 3 }), [logits]);
    const input = randn([2, 3, 6], { seed: 17 });
    await expectGradients((a, w, b) => conv1d(a, w, b), [input, randn([3, 4], { seed: 18 }), randn([3], { seed: 19 })]);
    await expectGradients((a, w) => conv1d(a, w), [randn([1, 2, 3], { seed: 20 }), randn([2, 5], { seed: 21 })]);
    await expectGradients((a, w) => rmsNorm(a, w), [randn([2, 3, 5], { seed: 22 }), randn([5], { seed: 23 })]);
    await expectGradients((a, r, w) => {
      const { sum: total, normed } = addRmsNorm(a, r, w);
      return concat([mul(total, 0.5), normed], -1);
    }, [randn([2, 3, 5], { seed: 26 }), randn([2, 3, 5], { seed: 27 }), randn([5], { seed: 28 })]);
    await expectGradients((a, w) => rmsNorm(a, w, 1e-3), [randn([7], { seed: 24 }), randn([7], { seed: 25 })]);
  });
});

/** The DFT straight from its definition, in float64. */
function directDft(x: number[], n: number): [number, number][] {
  return Array.from({ length: Math.floor(n / 2) + 1 }, (_, k) => {
    let re = 0;
    let im = 0;
    for (let t = 0; t < Math.min(n, x.length); t++) {
      re += x[t] * Math.cos((2 * Math.PI * k * t) / n);
      im -= x[t] * Math.sin((2 * Math.PI * k * t) / n);
    }
    return [re, im];
  });
}

describe('fft', () => {
  it('hand-computed transforms', () => {
    expect(values(rfft(tensor([1, 0, 0, 0])))).toEqual([1, 0, 1, 0, 1, 0]);
    expect(values(rfft(tensor([1, 2, 3, 4])))).toEqual([10, 0, -2, 2, -2, 0]);
    expect(values(irfft(tensor([[10, 0], [-2, 2], [-2, 0]]), 4))).toEqual([1, 2, 3, 4]);
  });

  it('matches the direct DFT for powers of two and other lengths (Bluestein), and irfft inverts it', () => {
    for (const [L, n] of [[64, 64], [15, 15], [100, 100], [37, 50], [20, 12], [1, 1]]) {
      const x = randn([2, L], { seed: L + n });
      const X = rfft(x, n);
      expect(X.shape).toEqual([2, Math.floor(n / 2) + 1, 2]);
      const got = values(X);
      const xs = values(x);
      const bins = Math.floor(n / 2) + 1;
      for (let r = 0; r < 2; r++) {
        const want = directDft(xs.slice(r * L, (r + 1) * L), n);
        want.forEach(([re, im], k) => {
          expect(got[(r * bins + k) * 2]).toBeCloseTo(re, 3);
          expect(got[(r * bins + k) * 2 + 1]).toBeCloseTo(im, 3);
        });
      }
      const back = values(irfft(X, n));
      for (let r = 0; r < 2; r++) {
        for (let t = 0; t < n; t++) expect(back[r * n + t]).toBeCloseTo(t < L ? xs[r * L + t] : 0, 4);
      }
    }
  });

  it('gradients of rfft and irfft (cut, padded, odd and even lengths)', async () => {
    for (const [L, n] of [[8, 8], [7, 7], [6, 12], [10, 6], [5, 9]]) {
      await expectGradients((t) => rfft(t, n), [randn([2, L], { seed: 30 + L })]);
    }
    for (const [m, n] of [[5, 8], [4, 7], [3, 8], [7, 6], [4, 6]]) {
      await expectGradients((t) => irfft(t, n), [randn([2, m, 2], { seed: 40 + m })]);
    }
  });
});

describe('typed errors', () => {
  const f = (shape: number[]) => randn(shape, { seed: 50 });
  const i = (v: number[]) => tensor(v, undefined, 'int32');

  it('shape errors name the op and the shapes', () => {
    expect(() => concat([f([2, 3]), f([3, 3])], 1)).toThrow(ShapeError);
    expect(() => concat([f([2, 3]), f([3, 3])], 1)).toThrow(/concat: input 1 \[3, 3\] does not match input 0 \[2, 3\]/);
    expect(() => slice(f([2, 3]), [1, 2], [2, 1])).toThrow(/slice: .*\[2, 3\]/);
    expect(() => transpose(f([2, 3]), [0, 0])).toThrow(/transpose: perm \[0,0\] is not a permutation/);
    expect(() => stack([f([2]), f([3])])).toThrow(ShapeError);
    expect(() => pad(f([2]), [[1, -1]])).toThrow(ShapeError);
    expect(() => conv1d(f([1, 3, 5]), f([2, 4]))).toThrow(/conv1d: expected x \[B, C, L\], weight \[C, K\].*got x \[1, 3, 5\], weight \[2, 4\]/);
    expect(() => conv1dStep(f([2, 3, 4]), f([2, 3]), f([3, 3]))).toThrow(/conv1dStep: expected window \[B, C, K\], x \[B, C\], weight \[C, K\].*got window \[2, 3, 4\], x \[2, 3\], weight \[3, 3\]/);
    expect(() => conv1dStep(f([2, 3, 4]), f([3, 2]), f([3, 4]))).toThrow(ShapeError);
    expect(() => conv1dStep(f([2, 3, 4]), f([2, 3]), f([3, 4]), f([2]))).toThrow(ShapeError);
    expect(() => split(f([2, 5]), [2, 2], 1)).toThrow(/split: sizes \[2,2\] must be non-negative integers adding up to axis 1 of x \[2, 5\] \(5\)/);
    expect(() => split(f([2, 5]), [6, -1], 1)).toThrow(ShapeError);
    expect(() => split(f([2, 5]), [5], 2)).toThrow(/split: axis 2 is out of range for rank 2/);
    expect(() => addRmsNorm(f([2, 4]), f([2, 3]), f([4]))).toThrow(/addRmsNorm: expected x and residual \[..., D\] of one shape and weight \[D\], got \[2, 4\], \[2, 3\] and \[4\]/);
    expect(() => addRmsNorm(f([2, 4]), f([2, 4]), f([3]))).toThrow(ShapeError);
    expect(() => rmsNorm(f([2, 4]), f([3]))).toThrow(/rmsNorm: expected x \[..., D\] and weight \[D\], got \[2, 4\] and \[3\]/);
    expect(() => crossEntropy(f([3, 4]), i([1, 2]))).toThrow(/crossEntropy: expected logits \[N, C\] and targets \[N\], got \[3, 4\] and \[2\]/);
    expect(() => irfft(f([3, 4]), 6)).toThrow(/irfft: X must be \[..., bins, 2\]/);
    expect(() => where(i([1, 0, 1]), f([2]), f([3]))).toThrow(ShapeError);
    expect(() => mean(f([2, 3]), 2)).toThrow(/mean: axis 2 is out of range for rank 2/);
    expect(() => scatterAdd(f([2, 2]), i([0, 1, 1]), [4, 2])).toThrow(ShapeError);
  });

  it('dtype errors', () => {
    expect(() => gather(f([3, 2]), f([2]))).toThrow(DTypeError);
    expect(() => gather(f([3, 2]), f([2]))).toThrow(/gather: indices must be int32, got float32 \[2\]/);
    expect(() => crossEntropy(f([2, 3]), f([2]))).toThrow(DTypeError);
    expect(() => where(f([2]), f([2]), f([2]))).toThrow(/where: cond must be int32/);
    expect(() => where(i([1]), f([2]), i([2, 3]))).toThrow(DTypeError);
    expect(() => exp(i([1]))).toThrow(/exp: x must be float32, got int32/);
    expect(() => softmax(i([1, 2]))).toThrow(DTypeError);
    expect(() => cast(f([1]), 'float64' as 'float32')).toThrow(DTypeError);
  });

  it('value errors for data the op layer cannot check', () => {
    expect(() => gather(f([3, 2]), i([0, 3]))).toThrow(ValueError);
    expect(() => gather(f([3, 2]), i([-1]))).toThrow(/gather: index -1 at position 0 is out of range \[0, 3\)/);
    expect(() => crossEntropy(f([2, 3]), i([0, 5]))).toThrow(/crossEntropy: target 5 at row 1 is out of range \[0, 3\)/);
    expect(() => gelu(f([2]), { approximate: 'fast' as 'tanh' })).toThrow(ValueError);
    expect(() => rfft(f([4]), 0)).toThrow(ValueError);
  });

  it('use after dispose', () => {
    const x = f([2, 3]);
    const idx = i([0]);
    x.dispose();
    expect(() => gather(x, idx)).toThrow(DisposedError);
    expect(() => transpose(x)).toThrow(DisposedError);
    expect(() => conv1d(reshape(f([6]), [1, 2, 3]), x)).toThrow(DisposedError);
    expect(() => softmax(x)).toThrow(DisposedError);
  });
});

describe('memory', () => {
  it('a training loop over embedding, rmsNorm, conv1d, matmul and crossEntropy does not leak', () => {
    const [V, D, B, L, K] = [11, 6, 2, 5, 4];
    const ids = tensor(Array.from({ length: B * L }, (_, k) => (k * 7) % V), [B, L], 'int32');
    const targets = tensor(Array.from({ length: B * L }, (_, k) => (k % 4 === 3 ? -100 : (k * 3) % V)), [B * L], 'int32');
    let params = [randn([V, D], { seed: 60 }), randn([D], { seed: 61, mean: 1, std: 0.1 }), randn([D, K], { seed: 62 }), randn([D], { seed: 63 }), randn([D, V], { seed: 64 })].map(keep);
    const loss = ([table, normWeight, convWeight, convBias, head]: Tensor[]) => {
      const h = rmsNorm(embedding(table, ids), normWeight); // [B, L, D]
      const c = silu(conv1d(transpose(h, [0, 2, 1]), convWeight, convBias)); // [B, D, L]
      const logits = matmul(reshape(transpose(c, [0, 2, 1]), [B * L, D]), head);
      return crossEntropy(logits, targets);
    };
    const losses: number[] = [];
    const step = () => {
      const { value, grads } = computeGradients(() => loss(params), params);
      losses.push(value.dataSync()[0]);
      const next = params.map((p, k) => keep(tidy(() => sub(p, mul(grads[k], 0.1)))));
      dispose([value, grads, params]);
      params = next;
    };
    step();
    const before = memory();
    for (let k = 0; k < 20; k++) step();
    expect(memory()).toEqual(before);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    dispose([params, ids, targets]);
  });
});
