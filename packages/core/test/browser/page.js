// On the page's main thread: the wasm backend single-threaded; then the same work in a Worker
// with two threads. Results go to window.results for the test to read.
import * as core from '@ssmjs/core';
import { work } from './work.js';

const results = {};
try {
  await core.setBackend('wasm');
  const probe = core.tensor([1]);
  results.page = { ...work(core), shared: probe.backend.shared, threads: probe.backend.threads, variant: probe.backend.variant };
  probe.dispose();
} catch (e) {
  results.page = { error: String(e && e.stack || e) };
}
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
results.worker = await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
  worker.onerror = (e) => resolve({ error: e.message });
});
window.results = results;
