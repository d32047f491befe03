// GPU dispatches per decoded token on webgpu, 24 layers (d_model 64: the count does not depend on the width).
// Decoding on the GPU is bound by per-dispatch cost (docs/benchmarks.md), so this count is its budget.
// Runs anywhere Dawn does (SwiftShader without a GPU), after building the packages:
//   npx esbuild packages/mamba/bench/dispatch-count.ts --bundle --platform=node --format=esm \
//     --external:webgpu --outfile=packages/core/dispatch-count.mjs && node packages/core/dispatch-count.mjs
// (the bundle sits in packages/core so that Node finds the 'webgpu' package).
import { setBackend, tensor, WebGpuBackend } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
await setBackend('webgpu');
const model = MambaLM.create({ dModel: 64, nLayer: 24, vocabSize: 256 }, { seed: 1 });
const proto = WebGpuBackend.prototype as unknown as { dispatch: (...a: unknown[]) => unknown };
const original = proto.dispatch;
let count = 0;
const byProgram = new Map<string, number>();
proto.dispatch = function (this: unknown, ...a: unknown[]) {
  count++;
  const key = (a[0] as { program: { key: string } }).program.key;
  byProgram.set(key, (byProgram.get(key) ?? 0) + 1);
  return original.apply(this, a);
};
const { logits, cache } = model.prefill(tensor(new Int32Array([1, 2, 3]), [1, 3], 'int32'));
logits.dispose();
count = 0;
byProgram.clear();
const steps = 8;
for (let i = 0; i < steps; i++) {
  const out = model.step(tensor(new Int32Array([5]), [1], 'int32'), cache);
  await out.data();
  out.dispose();
}
console.log(`${(count / steps).toFixed(1)} dispatches per token (24 layers)`);
for (const [key, n] of [...byProgram].sort((a, b) => b[1] - a[1])) console.log(`  ${(n / steps).toFixed(1).padStart(6)}  ${key.slice(0, 110)}`);
process.exit(0);
