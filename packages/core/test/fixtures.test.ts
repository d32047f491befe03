/**
 * Outputs and gradients against PyTorch (float64 references from tooling/fixtures/core_ops.py):
 * each case runs the op on the fixture's inputs, seeds the backward pass with the fixture's upstream
 * gradient w, and compares the output and d sum(output·w)/d input for every float input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from '@ssmjs/core';
import { computeGradients, memory, tensor, type Tensor } from '@ssmjs/core';

interface FixtureTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'float64';
  data: number[];
}

interface FixtureCase {
  op: string;
  name: string;
  attrs: Record<string, any>;
  inputs: FixtureTensor[];
  output: FixtureTensor;
  upstream: FixtureTensor;
  grads: (FixtureTensor | null)[];
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/ops.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

type Call = (xs: Tensor[], attrs: Record<string, any>) => Tensor;
const reduceCall =
  (f: (x: Tensor, axes: number[], options: { keepDims: boolean }) => Tensor): Call =>
  ([x], a) =>
    f(x, a.axes, { keepDims: a.keepDims });

/** Each fixture op name → the @ssmjs/core call with the fixture's attrs. */
const calls: Record<string, Call> = {
  add: ([a, b]) => core.add(a, b),
  sub: ([a, b]) => core.sub(a, b),
  mul: ([a, b]) => core.mul(a, b),
  div: ([a, b]) => core.div(a, b),
  pow: ([a, b]) => core.pow(a, b),
  neg: ([x]) => core.neg(x),
  exp: ([x]) => core.exp(x),
  log: ([x]) => core.log(x),
  sqrt: ([x]) => core.sqrt(x),
  rsqrt: ([x]) => core.rsqrt(x),
  abs: ([x]) => core.abs(x),
  tanh: ([x]) => core.tanh(x),
  sigmoid: ([x]) => core.sigmoid(x),
  silu: ([x]) => core.silu(x),
  softplus: ([x]) => core.softplus(x),
  gelu: ([x], a) => core.gelu(x, { approximate: a.approximate ?? 'none' }),
  sum: reduceCall(core.sum),
  mean: reduceCall(core.mean),
  max: reduceCall(core.max),
  logsumexp: reduceCall(core.logsumexp),
  matmul: ([a, b], at) => core.matmul(a, b, { transposeA: at.transposeA, transposeB: at.transposeB }),
  reshape: ([x], a) => core.reshape(x, a.shape),
  transpose: ([x], a) => core.transpose(x, a.perm),
  slice: ([x], a) => core.slice(x, a.begin, a.size),
  concat: (xs, a) => core.concat(xs, a.axis),
  stack: (xs, a) => core.stack(xs, a.axis),
  pad: ([x], a) => core.pad(x, a.paddings, a.value),
  gather: ([x, i], a) => core.gather(x, i, a.axis),
  where: ([c, a, b]) => core.where(c, a, b),
  softmax: ([x], a) => core.softmax(x, a.axis),
  logSoftmax: ([x], a) => core.logSoftmax(x, a.axis),
  crossEntropy: ([l, t], a) => core.crossEntropy(l, t, { ignoreIndex: a.ignoreIndex }),
  conv1d: ([x, w, b]) => core.conv1d(x, w, b),
  rmsNorm: ([x, w], a) => core.rmsNorm(x, w, a.eps),
  rfft: ([x], a) => core.rfft(x, a.n),
  irfft: ([x], a) => core.irfft(x, a.n),
};

/** f32 tolerance against a float64 reference: relative 1e-5 plus an absolute floor scaled to the data. */
function expectClose(got: ArrayLike<number>, want: FixtureTensor, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.data.length);
  const scale = Math.max(1, ...want.data.map(Math.abs));
  for (let i = 0; i < want.data.length; i++) {
    const tolerance = 1e-5 * Math.abs(want.data[i]) + 2e-6 * scale;
    if (!(Math.abs(got[i] - want.data[i]) <= tolerance)) {
      expect.fail(`${what}[${i}]: got ${got[i]}, want ${want.data[i]} (tolerance ${tolerance.toExponential(1)})`);
    }
  }
}

describe('ops against PyTorch fixtures', () => {
  it('covers every op that has a fixture', () => {
    const missing = [...new Set(fixtures.cases.map((c) => c.op))].filter((op) => !calls[op]);
    expect(missing).toEqual([]);
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const before = memory().liveTensors;
    const inputs = c.inputs.map((t) => tensor(t.data, t.shape, t.dtype as 'float32' | 'int32'));
    const upstream = tensor(c.upstream.data, c.upstream.shape);
    const sources = inputs.filter((t) => t.dtype === 'float32');
    const { value, grads } = computeGradients(() => calls[c.op](inputs, c.attrs), sources, upstream);
    expect(value.shape).toEqual(c.output.shape);
    expectClose(value.dataSync(), c.output, `${c.name} output`);
    let k = 0;
    c.inputs.forEach((t, i) => {
      if (t.dtype !== 'float32') return;
      const want = c.grads[i];
      const got = grads[k++];
      expect(got.shape, `${c.name} grad ${i} shape`).toEqual(t.shape);
      if (want) expectClose(got.dataSync(), want, `${c.name} grad ${i}`);
    });
    core.dispose([value, grads, inputs, upstream]);
    expect(memory().liveTensors).toBe(before);
  });
});
