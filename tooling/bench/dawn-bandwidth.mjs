// Memory bandwidth of plain WebGPU through Dawn, with Dawn's default toggles and with robustness off:
// a WGSL copy kernel (vec4) and the queue's copyBufferToBuffer over 256 MiB, medians of 20 after warm-up.
// Tells whether the bounds checks Dawn adds to every storage access limit memory-bound kernels.
// Run: node tooling/bench/dawn-bandwidth.mjs (needs the `webgpu` package; on the GPU machine via .device/).
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);

const BYTES = Number(process.env.BYTES ?? 256 * 1024 * 1024);
const SHADER = `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = id.x + id.y * n.x * 256u;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}`;

async function measure(label, toggles) {
  const gpu = create(toggles);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: BYTES, maxBufferSize: BYTES } });
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = device.createBuffer({ size: BYTES, usage });
  const dst = device.createBuffer({ size: BYTES, usage });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
  const groups = BYTES / 16 / 256;
  const gx = Math.min(groups, 65535);
  const gy = Math.ceil(groups / gx);
  const kernel = () => {
    const e = device.createCommandEncoder();
    const p = e.beginComputePass();
    p.setPipeline(pipeline);
    p.setBindGroup(0, bind);
    p.dispatchWorkgroups(gx, gy);
    p.end();
    device.queue.submit([e.finish()]);
  };
  const copy = () => {
    const e = device.createCommandEncoder();
    e.copyBufferToBuffer(src, 0, dst, 0, BYTES);
    device.queue.submit([e.finish()]);
  };
  const time = async (fn) => {
    for (let i = 0; i < 5; i++) fn();
    await device.queue.onSubmittedWorkDone();
    const samples = [];
    for (let s = 0; s < 20; s++) {
      const t0 = performance.now();
      for (let r = 0; r < 10; r++) fn();
      await device.queue.onSubmittedWorkDone();
      samples.push((performance.now() - t0) / 10);
    }
    samples.sort((a, b) => a - b);
    return samples[10];
  };
  const kMs = await time(kernel);
  const cMs = await time(copy);
  const gbs = (ms) => ((2 * BYTES) / (ms / 1000) / 1e9).toFixed(0);
  console.log(`${label}: copy kernel ${kMs.toFixed(3)} ms = ${gbs(kMs)} GB/s; copyBufferToBuffer ${cMs.toFixed(3)} ms = ${gbs(cMs)} GB/s`);
  device.destroy();
}

await measure('Dawn defaults', []);
await measure('robustness off', ['enable-dawn-features=allow_unsafe_apis,disable_robustness']);
