// A page as a user would write it: the packages from node_modules, bundled by Vite with its defaults.
// It loads a checkpoint over HTTP, runs a forward and greedy generation on the wasm backend, and writes
// the numbers into #result for the test to read.
import { argmax, getBackend, setBackend, tensor } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import { ByteTokenizer } from '@ssmjs/tokenizer';

const out = document.getElementById('result')!;

/** .wasm files this page has requested so far (the wasm backend should fetch its kernels lazily). */
function wasmRequests(): string[] {
  return performance.getEntriesByType('resource').map((e) => e.name).filter((name) => /\.wasm(\?|$)/.test(name));
}

try {
  const beforeSetBackend = wasmRequests();
  await setBackend('wasm');
  const afterSetBackend = wasmRequests();

  const model = await MambaLM.fromPretrained(new URL('./tiny/', location.href));
  // Bytes of '0123' are ids 48–51, inside the tiny model's 64-token vocabulary.
  const prompt = new ByteTokenizer().encode('0123');
  const logits = model.forward(tensor(Int32Array.from(prompt), [1, prompt.length], 'int32'));
  const argmaxPerPosition = Array.from(await argmax(logits, -1).data());
  const generated = await model.generate([prompt], { maxNewTokens: 6, temperature: 0 });
  out.textContent = JSON.stringify({ backend: getBackend(), beforeSetBackend, afterSetBackend, prompt, argmaxPerPosition, generated });
} catch (e) {
  out.textContent = JSON.stringify({ error: String((e as Error)?.stack ?? e) });
}
