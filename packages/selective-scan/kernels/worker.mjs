// A lab worker: instantiates the scan module over the main thread's shared memory and runs the kernel
// calls it is sent, flagging each as done through a shared Int32Array.
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm abort'); } } });
parentPort.on('message', ({ fn, args, done, slot }) => {
  instance.exports[fn](...args);
  Atomics.store(done, slot, 1);
  Atomics.notify(done, slot);
});
parentPort.postMessage('ready');
