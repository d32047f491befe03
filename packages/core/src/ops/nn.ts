import { engine } from '../engine';
import { ShapeError, ValueError, shapeStr } from '../errors';
import { normalizeAxes, sameShape } from '../shape';
import type { Tensor } from '../tensor';
import { abs, add, div, exp, mul, rsqrt, sign, sub } from './arithmetic';
import { mean, sum } from './reduce';
import { cast, gather, oneHot, pad, reshape, slice, stack } from './shape';
import { assertFloat, assertInt, run1 } from './util';

/** exp(x) normalized to sum 1 along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  assertFloat('softmax', 'x', x);
  return run1('softmax', [x], { axis: normalizeAxes('softmax', axis, x.rank)[0] });
}
engine.registerGradient('softmax', ([dy], { outputs: [y], attrs }) => {
  // dx = y·(dy − Σ dy·y) along the axis.
  return [mul(y, sub(dy, sum(mul(dy, y), attrs.axis as number, { keepDims: true })))];
});

/** x − logsumexp(x) along `axis`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  assertFloat('logSoftmax', 'x', x);
  return run1('logSoftmax', [x], { axis: normalizeAxes('logSoftmax', axis, x.rank)[0] });
}
engine.registerGradient('logSoftmax', ([dy], { outputs: [y], attrs }) => {
  // dx = dy − softmax·Σ dy along the axis.
  return [sub(dy, mul(exp(y), sum(dy, attrs.axis as number, { keepDims: true })))];
});

export interface CrossEntropyOptions {
  /** Targets equal to this are left out of the loss and of the mean (torch's default −100). */
  ignoreIndex?: number;
}

/** Mean over the non-ignored rows of −log softmax(logits)[row, target] (torch's F.cross_entropy). */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  assertFloat('crossEntropy', 'logits', logits);
  assertInt('crossEntropy', 'targets', targets);
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new ShapeError('crossEntropy', `expected logits [N, C] and targets [N], got ${shapeStr(logits.shape)} and ${shapeStr(targets.shape)}`);
  }
  if (!Number.isInteger(ignoreIndex)) throw new ValueError('crossEntropy', `ignoreIndex must be an integer, got ${ignoreIndex}`);
  return run1('crossEntropy', [logits, targets], { ignoreIndex });
}
engine.registerGradient('crossEntropy', ([dy], { inputs: [logits, targets], attrs }) => {
  // d/dlogits = (softmax − onehot(target))·valid / count, valid = (target ≠ ignoreIndex) as 0/1.
  const C = logits.shape[1];
  const valid = sign(abs(sub(cast(targets, 'float32'), attrs.ignoreIndex as number)));
  const count = sum(valid);
  const perRow = reshape(div(mul(valid, dy), count), [-1, 1]);
  return [mul(sub(softmax(logits, 1), oneHot(targets, C)), perRow), null];
});

/**
 * Mamba's causal depthwise conv: x [B, C, L], weight [C, K], bias [C] (optional);
 * y[b,c,t] = bias[c] + Σ_k weight[c,k]·x[b,c,t−K+1+k], zeros before t = 0 (K−1 zeros on the left).
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  assertFloat('conv1d', 'x', x);
  assertFloat('conv1d', 'weight', weight);
  if (bias) assertFloat('conv1d', 'bias', bias);
  const expected = () => `expected x [B, C, L], weight [C, K], bias [C], got x ${shapeStr(x.shape)}, weight ${shapeStr(weight.shape)}${bias ? `, bias ${shapeStr(bias.shape)}` : ''}`;
  if (x.rank !== 3 || weight.rank !== 2 || weight.shape[0] !== x.shape[1] || weight.shape[1] < 1) throw new ShapeError('conv1d', expected());
  if (bias && (bias.rank !== 1 || bias.shape[0] !== x.shape[1])) throw new ShapeError('conv1d', expected());
  return run1('conv1d', bias ? [x, weight, bias] : [x, weight]);
}
engine.registerGradient('conv1d', ([dy], { inputs: [x, weight, bias] }) => {
  const [B, C, L] = x.shape;
  const K = weight.shape[1];
  // dx[s] = Σ_k w[k]·dy[s+K−1−k]: the causal conv of dy padded with K−1 zeros after its end, with the taps
  // in reverse order, shifted back by K−1. Pad and slice are contiguous copies (reversing time with two
  // gathers cost 2–5× more on wasm).
  const tapOrder = new Int32Array(K);
  for (let k = 0; k < K; k++) tapOrder[k] = K - 1 - k;
  const flipped = gather(weight, engine.fromValues(tapOrder, [K], 'int32', x.backend), 1);
  const dx = slice(conv1d(pad(dy, [[0, 0], [0, 0], [0, K - 1]]), flipped), [0, 0, K - 1], [B, C, L]);
  // dw[c,k] = Σ_{b,t} dy[b,c,t]·x[b,c,t−K+1+k]: one shifted copy of x per tap.
  const padded = pad(x, [[0, 0], [0, 0], [K - 1, 0]]);
  const taps = Array.from({ length: K }, (_, k) => sum(mul(dy, slice(padded, [0, 0, k], [B, C, L])), [0, 2]));
  const dw = stack(taps, 1);
  return bias ? [dx, dw, sum(dy, [0, 2])] : [dx, dw];
});

export interface Conv1dStepOptions {
  /** Put y through SiLU (as the Mamba block does right after its conv). */
  silu?: boolean;
}

/**
 * One decoding step of `conv1d` (mamba_ssm's `causal_conv1d_update`): `window` [B, C, K] holds the conv's
 * last K inputs, oldest first, and x [B, C] is the next one. Returns the window moved on by one input,
 * (window[..., 1:], x), and y[b,c] = bias[c] + Σ_k weight[c,k]·window′[b,c,k] (through SiLU with `silu`):
 * the last output of `conv1d` over the inputs so far. One kernel where the step would otherwise take a
 * slice, a concat, a product, a sum, the bias and the activation. Not differentiable: train with `conv1d`.
 */
export function conv1dStep(window: Tensor, x: Tensor, weight: Tensor, bias?: Tensor, options: Conv1dStepOptions = {}): { y: Tensor; window: Tensor } {
  for (const [name, t] of Object.entries({ window, x, weight, bias })) if (t) assertFloat('conv1dStep', name, t);
  const expected = () =>
    `expected window [B, C, K], x [B, C], weight [C, K], bias [C], got window ${shapeStr(window.shape)}, x ${shapeStr(x.shape)}, weight ${shapeStr(weight.shape)}${bias ? `, bias ${shapeStr(bias.shape)}` : ''}`;
  const [B, C, K] = window.shape;
  if (window.rank !== 3 || K < 1 || x.rank !== 2 || x.shape[0] !== B || x.shape[1] !== C) throw new ShapeError('conv1dStep', expected());
  if (weight.rank !== 2 || weight.shape[0] !== C || weight.shape[1] !== K) throw new ShapeError('conv1dStep', expected());
  if (bias && (bias.rank !== 1 || bias.shape[0] !== C)) throw new ShapeError('conv1dStep', expected());
  const [y, next] = engine.runKernel('conv1dStep', bias ? [window, x, weight, bias] : [window, x, weight], { silu: options.silu ?? false });
  return { y, window: next };
}

/** x·rsqrt(mean(x², last axis) + eps)·weight, with x [..., D] and weight [D]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-5): Tensor {
  assertFloat('rmsNorm', 'x', x);
  assertFloat('rmsNorm', 'weight', weight);
  if (x.rank < 1 || weight.rank !== 1 || weight.shape[0] !== x.shape[x.rank - 1]) {
    throw new ShapeError('rmsNorm', `expected x [..., D] and weight [D], got ${shapeStr(x.shape)} and ${shapeStr(weight.shape)}`);
  }
  if (!(eps >= 0)) throw new ValueError('rmsNorm', `eps must be ≥ 0, got ${eps}`);
  return run1('rmsNorm', [x, weight], { eps });
}
/** rmsNorm's gradients at x for dy: [dx, dweight]. */
function rmsNormGradients(dy: Tensor, x: Tensor, weight: Tensor, eps: number): [Tensor, Tensor] {
  // With r = rsqrt(mean(x²) + eps) and g = dy·w: dx = r·g − x·r³·mean(g·x); dw = Σ over rows of dy·x·r.
  const last = x.rank - 1;
  const r = rsqrt(add(mean(mul(x, x), last, { keepDims: true }), eps));
  const g = mul(dy, weight);
  const dx = sub(mul(g, r), mul(mul(x, mul(r, mul(r, r))), mean(mul(g, x), last, { keepDims: true })));
  const leading = x.shape.map((_, i) => i).slice(0, last);
  const dw = leading.length > 0 ? sum(mul(dy, mul(x, r)), leading) : mul(dy, mul(x, r));
  return [dx, dw];
}
engine.registerGradient('rmsNorm', ([dy], { inputs: [x, weight], attrs }) => rmsNormGradients(dy, x, weight, attrs.eps as number));

/**
 * The residual add of a pre-norm block and the next block's RMSNorm in one kernel (mamba_ssm's fused
 * add-norm): s = x + residual and rmsNorm(s, weight, eps), x and residual [..., D], weight [D].
 */
export function addRmsNorm(x: Tensor, residual: Tensor, weight: Tensor, eps = 1e-5): { sum: Tensor; normed: Tensor } {
  for (const [name, t] of Object.entries({ x, residual, weight })) assertFloat('addRmsNorm', name, t);
  if (x.rank < 1 || !sameShape(x.shape, residual.shape) || weight.rank !== 1 || weight.shape[0] !== x.shape[x.rank - 1]) {
    throw new ShapeError('addRmsNorm', `expected x and residual [..., D] of one shape and weight [D], got ${shapeStr(x.shape)}, ${shapeStr(residual.shape)} and ${shapeStr(weight.shape)}`);
  }
  if (!(eps >= 0)) throw new ValueError('addRmsNorm', `eps must be ≥ 0, got ${eps}`);
  const [total, normed] = engine.runKernel('addRmsNorm', [x, residual, weight], { eps });
  return { sum: total, normed };
}
engine.registerGradient('addRmsNorm', ([dSum, dNormed], { inputs: [, , weight], outputs: [s], attrs }) => {
  // Both inputs reach the output only through s = x + residual.
  const [ds, dw] = rmsNormGradients(dNormed, s, weight, attrs.eps as number);
  const dx = add(dSum, ds);
  return [dx, dx, dw];
});
