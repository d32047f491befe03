// Run by wasm.test.ts with `node --experimental-wasm-relaxed-simd`: the relaxed-SIMD (FMA) build must
// agree with the plain SIMD build on the kernels madd touches. Prints the largest relative error per kernel as JSON.
import { readFileSync } from 'node:fs';

const load = async (file) => {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
  const bytes = readFileSync(new URL(`../wasm/${file}`, import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, abort() {} } });
  return { k: instance.exports, memory };
};
const simd = await load('core-simd.wasm');
const relaxed = await load('core-relaxed.wasm');

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2;
const X = 1 << 16; // inputs
const W = 1 << 20;
const OUT = 1 << 22;
const SCRATCH = 1 << 23;
for (const { memory } of [simd, relaxed]) {
  const f = new Float32Array(memory.buffer);
  seed = 7;
  for (let i = 0; i < 60000; i++) f[X / 4 + i] = random();
  for (let i = 0; i < 60000; i++) f[W / 4 + i] = random();
}

// name: [kernel call, output length]
const cases = {
  matmul: [(k) => k.matmul(X, W, OUT, 67, 45, 129, 129, 1, 45, 1, SCRATCH), 67 * 45],
  matmulThin: [(k) => k.matmul(X, W, OUT, 2, 45, 129, 129, 1, 45, 1, SCRATCH), 2 * 45],
  exp: [(k) => k.unary(1, X, OUT, 999), 999],
  log: [(k) => k.unary(2, W, OUT, 999), 999], // negative inputs give NaN in both
  tanh: [(k) => k.unary(6, X, OUT, 999), 999],
  softplus: [(k) => k.unary(10, X, OUT, 999), 999],
  rmsNorm: [(k) => k.rmsNorm(X, W, OUT, 9, 37, 1e-5), 9 * 37],
  conv1d: [(k) => k.conv1d(X, W, 0, OUT, 2, 5, 33, 4, 0, 5), 2 * 5 * 33],
  logsumexp: [(k) => k.reduce(3, X, OUT, 13, 31, 1), 13],
};
const result = {};
for (const [name, [run, length]] of Object.entries(cases)) {
  const a = new Float32Array(simd.memory.buffer, OUT, length);
  const b = new Float32Array(relaxed.memory.buffer, OUT, length);
  a.fill(12345);
  b.fill(-12345);
  run(simd.k);
  run(relaxed.k);
  let worst = 0;
  for (let i = 0; i < length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
  }
  result[name] = worst;
}
console.log(JSON.stringify({ relaxedValidates: WebAssembly.validate(readFileSync(new URL('../wasm/core-relaxed.wasm', import.meta.url))), result }));
