// Quick lab check: each built variant (v1 scalar, SIMD, relaxed SIMD) against the plain-JS reference on a few shapes.
// Usage: node --experimental-wasm-relaxed-simd kernels/check.mjs
import { ScanLab, relaxedSimdSupported } from './harness.mjs';
import { randomInputs, referenceForward } from './reference.mjs';

const shapes = [
  { batch: 2, dim: 5, N: 16, L: 67, chunk: 8, softplus: true },
  { batch: 1, dim: 3, N: 3, L: 1, chunk: 64, softplus: false },
  { batch: 2, dim: 4, N: 7, L: 33, chunk: 5, softplus: true },
];
const variants = ['v1', 'simd', ...(relaxedSimdSupported() ? ['relaxed'] : [])];
for (const variant of variants) {
  for (const threads of [1, 2]) {
    const lab = await ScanLab.create({ variant, threads, pages: 64 });
    for (const shape of shapes) {
      for (const withOptional of [true, false]) {
        const inputs = randomInputs(shape, 7, withOptional);
        const want = referenceForward(shape, inputs);
        const got = lab.forward(lab.setup(shape, inputs));
        const err = (a, b) => { let s = 0, e = 0; for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i])); for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / s); return e; };
        console.log(variant, threads, JSON.stringify(shape), withOptional, 'y', err(got.y, want.y).toExponential(2), 'last', err(got.lastState, want.lastState).toExponential(2));
      }
    }
    await lab.close();
  }
}
