import * as core from '@ssmjs/core';
import { work } from './work.js';

try {
  await core.setBackend('wasm');
  const probe = core.tensor([1]);
  const backend = probe.backend;
  probe.dispose();
  const shared = backend.shared;
  await core.setWasmThreads(1);
  const one = work(core);
  let two = null;
  if (shared) {
    await core.setWasmThreads(2);
    two = work(core);
  }
  postMessage({ one, two, shared, threads: backend.threads, variant: backend.variant });
} catch (e) {
  postMessage({ error: String(e && e.stack || e) });
}
