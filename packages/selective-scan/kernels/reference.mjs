// The lab's reference: the scan in plain JavaScript, float64 arithmetic, straight from the recurrence.
// Same semantics as src/kernels/cpu.ts; used to check the wasm variants and as the "plain JS" timing.
const softplus = (x) => (x > 20 ? x : Math.log1p(Math.exp(x)));

export function referenceForward({ batch, dim, N, L, softplus: useSoftplus = false }, { u, delta, A, B, C, D, z, deltaBias, initialState }) {
  const y = new Float32Array(batch * dim * L);
  const lastState = new Float32Array(batch * dim * N);
  const h = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const row = (b * dim + d) * L;
      for (let n = 0; n < N; n++) h[n] = initialState ? initialState[(b * dim + d) * N + n] : 0;
      for (let t = 0; t < L; t++) {
        const raw = delta[row + t] + (deltaBias ? deltaBias[d] : 0);
        const dt = useSoftplus ? softplus(raw) : raw;
        let acc = 0;
        for (let n = 0; n < N; n++) {
          const bc = (b * N + n) * L + t;
          h[n] = Math.exp(dt * A[d * N + n]) * h[n] + dt * B[bc] * u[row + t];
          acc += C[bc] * h[n];
        }
        if (D) acc += D[d] * u[row + t];
        if (z) acc *= z[row + t] / (1 + Math.exp(-z[row + t]));
        y[row + t] = acc;
      }
      for (let n = 0; n < N; n++) lastState[(b * dim + d) * N + n] = h[n];
    }
  }
  return { y, lastState };
}

/** Random inputs in Mamba's ranges (A negative, delta around softplus's knee), from a seeded LCG. */
export function randomInputs({ batch, dim, N, L }, seed = 1, withOptional = true) {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const make = (n, f) => Float32Array.from({ length: n }, f);
  const inputs = {
    u: make(batch * dim * L, normal),
    delta: make(batch * dim * L, () => normal() * 0.5 - 1),
    A: make(dim * N, () => -0.2 - uniform() * 2),
    B: make(batch * N * L, normal),
    C: make(batch * N * L, normal),
  };
  if (withOptional) {
    Object.assign(inputs, {
      D: make(dim, normal),
      z: make(batch * dim * L, normal),
      deltaBias: make(dim, () => normal() * 0.3),
      initialState: make(batch * dim * N, normal),
    });
  }
  return inputs;
}
