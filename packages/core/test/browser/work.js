// Sizes above the thresholds where matmul and the elementwise ops split across threads.
export function work(core) {
  return core.tidy(() => {
    const a = core.randn([301, 257], { seed: 5 });
    const b = core.randn([257, 520], { seed: 6 });
    const y = core.softmax(core.silu(core.add(core.matmul(a, b), core.randn([520], { seed: 7 }))));
    const values = y.dataSync();
    let checksum = 0;
    for (let i = 0; i < values.length; i++) checksum += values[i] * ((i % 7) + 1);
    return { checksum, first: Array.from(values.subarray(0, 4)) };
  });
}
