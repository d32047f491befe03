import { computeGradients } from './autograd';
import { engine } from './engine';
import { ValueError } from './errors';
import { Generator } from './random';
import type { Tensor } from './tensor';

export interface GradientCheckOptions {
  /** Step of the central difference (f32 arithmetic wants ~1e-2…1e-3). */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Elements checked per input, chosen at random (all when the input is smaller). */
  samples?: number;
  seed?: number;
}

export interface GradientCheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| / (atol + rtol·|numeric|) over the checked elements (≤ 1 passes). */
  worst: number;
  failures: { input: number; index: number; analytic: number; numeric: number }[];
}

/**
 * Compares the gradients autograd gives for a scalar-valued `f(...xs)` with central finite
 * differences, element by element. Float inputs only.
 */
export async function checkGradients(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], options: GradientCheckOptions = {}): Promise<GradientCheckResult> {
  const { eps = 1e-2, rtol = 2e-2, atol = 2e-3, samples = 24, seed = 0 } = options;
  const { value, grads } = computeGradients(() => f(...xs), xs);
  if (value.size !== 1) throw new ValueError('checkGradients', `f must return one element, got ${value.size}`);
  value.dispose();
  const analytic = await Promise.all(grads.map((g) => g.data()));
  grads.forEach((g) => g.dispose());
  const base = await Promise.all(xs.map((x) => x.data()));
  const rng = new Generator(seed);
  const evaluate = async (k: number, values: Float32Array): Promise<number> => {
    const out = engine.tidy(() => {
      const args = xs.map((x, i) => (i === k ? engine.fromValues(values, x.shape, 'float32', x.backend) : x));
      return f(...args);
    });
    const [v] = await out.data();
    out.dispose();
    return v;
  };
  const result: GradientCheckResult = { ok: true, worst: 0, failures: [] };
  for (let k = 0; k < xs.length; k++) {
    if (xs[k].dtype !== 'float32') continue;
    const n = xs[k].size;
    const indices = n <= samples ? [...Array(n).keys()] : Array.from({ length: samples }, () => rng.int(n));
    for (const index of indices) {
      const values = Float32Array.from(base[k]);
      const x0 = values[index];
      values[index] = x0 + eps;
      const fPlus = await evaluate(k, values);
      values[index] = x0 - eps;
      const fMinus = await evaluate(k, values);
      const numeric = (fPlus - fMinus) / (2 * eps);
      const got = analytic[k][index];
      const err = Math.abs(got - numeric) / (atol + rtol * Math.abs(numeric));
      if (!(err <= 1)) {
        result.ok = false;
        result.failures.push({ input: k, index, analytic: got, numeric });
      }
      result.worst = Math.max(result.worst, Number.isNaN(err) ? Infinity : err);
    }
  }
  return result;
}
