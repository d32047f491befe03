/**
 * The cpu kernels: plain TypeScript, one channel at a time, arithmetic in float64. The reference every
 * other backend is tested against, so it is written to be read, not to be fast.
 */
import { registerKernel, type CpuBackend, type KernelFn, type TensorInfo } from '@ssmjs/core';
import {
  SCAN_BACKWARD_KERNEL,
  SCAN_KERNEL,
  STATE_UPDATE_KERNEL,
  optionalSlots,
  scanDims,
  softplus,
  softplusGrad,
  type ScanAttrs,
  type StateUpdateAttrs,
} from './contract';

type CpuKernel = KernelFn<CpuBackend>;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Forward: inputs u, delta, A, B, C, [D], [z], [deltaBias], [initialState];
 * outputs y (batch, dim, L), lastState (batch, dim, N) and checkpoints (batch, dim, chunks, N), the state
 * before the first step of every chunk, which is all the backward needs to recompute the rest.
 */
const scanForward: CpuKernel = (inputs, rawAttrs, be) => {
  const attrs = rawAttrs as ScanAttrs;
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L, chunks } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  const [u, delta, A, B, C] = inputs.slice(0, 5).map((t) => be.values(t));
  const D = slots.D >= 0 ? be.values(inputs[slots.D]) : null;
  const z = slots.z >= 0 ? be.values(inputs[slots.z]) : null;
  const deltaBias = slots.deltaBias >= 0 ? be.values(inputs[slots.deltaBias]) : null;
  const initialState = slots.initialState >= 0 ? be.values(inputs[slots.initialState]) : null;

  const y = new Float32Array(batch * dim * L);
  const lastState = new Float32Array(batch * dim * N);
  const checkpoints = new Float32Array(batch * dim * chunks * N);
  const h = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const row = (b * dim + d) * L; // offset of (b, d, 0) in u, delta, z, y
      const stateAt = (b * dim + d) * N;
      for (let n = 0; n < N; n++) h[n] = initialState ? initialState[stateAt + n] : 0;
      for (let t = 0; t < L; t++) {
        if (t % attrs.chunkSize === 0) {
          const at = ((b * dim + d) * chunks + t / attrs.chunkSize) * N;
          for (let n = 0; n < N; n++) checkpoints[at + n] = h[n];
        }
        const raw = delta[row + t] + (deltaBias ? deltaBias[d] : 0);
        const dt = attrs.deltaSoftplus ? softplus(raw) : raw;
        const ut = u[row + t];
        let acc = 0;
        for (let n = 0; n < N; n++) {
          const bc = (b * N + n) * L + t; // offset of (b, n, t) in B and C
          h[n] = Math.exp(dt * A[d * N + n]) * h[n] + dt * B[bc] * ut;
          acc += C[bc] * h[n];
        }
        if (D) acc += D[d] * ut;
        if (z) acc *= z[row + t] * sigmoid(z[row + t]);
        y[row + t] = acc;
      }
      for (let n = 0; n < N; n++) lastState[stateAt + n] = h[n];
    }
  }
  return [
    be.output([batch, dim, L], 'float32', y),
    be.output([batch, dim, N], 'float32', lastState),
    be.output([batch, dim, chunks, N], 'float32', checkpoints),
  ];
};

/**
 * Backward: inputs as the forward's, then checkpoints, dy (batch, dim, L) and dLastState (batch, dim, N).
 * Outputs the gradients of u, delta, A, B, C and of each optional input that was given, in input order.
 *
 * Chunks are visited last to first. Each chunk's states are recomputed from its checkpoint, then the
 * reverse recurrence runs over the chunk: with a_t = exp(Δ_t A) and h_t = a_t h_{t-1} + Δ_t B_t u_t,
 * the state gradient g (dL/dh_t) collects C_t·dy_t, feeds the gradients of Δ_t, A, B_t, u_t, and
 * becomes a_t·g for step t−1. What is left at t = 0 is the gradient of the initial state.
 */
const scanBackward: CpuKernel = (inputs, rawAttrs, be) => {
  const attrs = rawAttrs as ScanAttrs;
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L, chunks } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  const chunkSize = attrs.chunkSize;
  const [u, delta, A, B, C] = inputs.slice(0, 5).map((t) => be.values(t));
  const D = slots.D >= 0 ? be.values(inputs[slots.D]) : null;
  const z = slots.z >= 0 ? be.values(inputs[slots.z]) : null;
  const deltaBias = slots.deltaBias >= 0 ? be.values(inputs[slots.deltaBias]) : null;
  const checkpoints = be.values(inputs[slots.next]);
  const dy = be.values(inputs[slots.next + 1]);
  const dLastState = be.values(inputs[slots.next + 2]);

  const du = new Float32Array(batch * dim * L);
  const ddelta = new Float32Array(batch * dim * L);
  const dA = new Float64Array(dim * N);
  const dB = new Float64Array(batch * N * L);
  const dC = new Float64Array(batch * N * L);
  const dD = new Float64Array(dim);
  const dz = new Float32Array(batch * dim * L);
  const dDeltaBias = new Float64Array(dim);
  const dInitialState = new Float32Array(batch * dim * N);

  // states[i*N + n]: the state after i steps of the current chunk (i = 0 is the checkpoint).
  const states = new Float64Array((chunkSize + 1) * N);
  const g = new Float64Array(N);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const row = (b * dim + d) * L;
      const stateAt = (b * dim + d) * N;
      const deltaAt = (t: number) => delta[row + t] + (deltaBias ? deltaBias[d] : 0);
      for (let n = 0; n < N; n++) g[n] = dLastState[stateAt + n];
      for (let k = chunks - 1; k >= 0; k--) {
        const start = k * chunkSize;
        const steps = Math.min(chunkSize, L - start);
        const checkpointAt = ((b * dim + d) * chunks + k) * N;
        for (let n = 0; n < N; n++) states[n] = checkpoints[checkpointAt + n];
        for (let i = 0; i < steps; i++) {
          const t = start + i;
          const dt = attrs.deltaSoftplus ? softplus(deltaAt(t)) : deltaAt(t);
          for (let n = 0; n < N; n++) {
            const bc = (b * N + n) * L + t;
            states[(i + 1) * N + n] = Math.exp(dt * A[d * N + n]) * states[i * N + n] + dt * B[bc] * u[row + t];
          }
        }
        for (let i = steps - 1; i >= 0; i--) {
          const t = start + i;
          const raw = deltaAt(t);
          const dt = attrs.deltaSoftplus ? softplus(raw) : raw;
          const ut = u[row + t];
          // Output gate: y = (⟨C_t, h_t⟩ + D u_t) · silu(z_t).
          let dOut = dy[row + t];
          if (z) {
            let pre = D ? D[d] * ut : 0;
            for (let n = 0; n < N; n++) pre += C[(b * N + n) * L + t] * states[(i + 1) * N + n];
            const zt = z[row + t];
            const s = sigmoid(zt);
            dz[row + t] = dOut * pre * s * (1 + zt * (1 - s));
            dOut *= zt * s;
          }
          let dut = 0;
          if (D) {
            dD[d] += dOut * ut;
            dut += dOut * D[d];
          }
          let ddt = 0;
          for (let n = 0; n < N; n++) {
            const bc = (b * N + n) * L + t;
            const hNow = states[(i + 1) * N + n];
            const hPrev = states[i * N + n];
            dC[bc] += dOut * hNow;
            const gn = g[n] + dOut * C[bc];
            const decay = Math.exp(dt * A[d * N + n]);
            ddt += gn * (A[d * N + n] * decay * hPrev + B[bc] * ut);
            dA[d * N + n] += gn * dt * decay * hPrev;
            dB[bc] += gn * dt * ut;
            dut += gn * dt * B[bc];
            g[n] = gn * decay;
          }
          du[row + t] = dut;
          const dRaw = attrs.deltaSoftplus ? ddt * softplusGrad(raw) : ddt;
          ddelta[row + t] = dRaw;
          dDeltaBias[d] += dRaw;
        }
      }
      for (let n = 0; n < N; n++) dInitialState[stateAt + n] = g[n];
    }
  }
  const f32 = (x: Float64Array) => Float32Array.from(x);
  const outputs: TensorInfo[] = [
    be.output([batch, dim, L], 'float32', du),
    be.output([batch, dim, L], 'float32', ddelta),
    be.output([dim, N], 'float32', f32(dA)),
    be.output([batch, N, L], 'float32', f32(dB)),
    be.output([batch, N, L], 'float32', f32(dC)),
  ];
  if (attrs.hasD) outputs.push(be.output([dim], 'float32', f32(dD)));
  if (attrs.hasZ) outputs.push(be.output([batch, dim, L], 'float32', dz));
  if (attrs.hasDeltaBias) outputs.push(be.output([dim], 'float32', f32(dDeltaBias)));
  if (attrs.hasInitialState) outputs.push(be.output([batch, dim, N], 'float32', dInitialState));
  return outputs;
};

/**
 * One decoding step: inputs state (batch, dim, N), x, dt (batch, dim), A, B, C (batch, N), [D], [z], [dtBias].
 * Writes the new state over the old one (in place) and returns out (batch, dim).
 */
const stateUpdate: CpuKernel = (inputs, rawAttrs, be) => {
  const attrs = rawAttrs as StateUpdateAttrs;
  const [batch, dim, N] = inputs[0].shape;
  const [state, x, dtIn, A, B, C] = inputs.slice(0, 6).map((t) => be.values(t));
  let next = 6;
  const D = attrs.hasD ? be.values(inputs[next++]) : null;
  const z = attrs.hasZ ? be.values(inputs[next++]) : null;
  const dtBias = attrs.hasDtBias ? be.values(inputs[next++]) : null;
  const out = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const i = b * dim + d;
      const raw = dtIn[i] + (dtBias ? dtBias[d] : 0);
      const dt = attrs.dtSoftplus ? softplus(raw) : raw;
      let acc = 0;
      for (let n = 0; n < N; n++) {
        const h = Math.exp(dt * A[d * N + n]) * state[i * N + n] + dt * B[b * N + n] * x[i];
        state[i * N + n] = h;
        acc += h * C[b * N + n];
      }
      if (D) acc += D[d] * x[i];
      if (z) acc *= z[i] * sigmoid(z[i]);
      out[i] = acc;
    }
  }
  return be.output([batch, dim], 'float32', out);
};

export function registerCpuKernels(): void {
  registerKernel(SCAN_KERNEL, 'cpu', scanForward as KernelFn);
  registerKernel(SCAN_BACKWARD_KERNEL, 'cpu', scanBackward as KernelFn);
  registerKernel(STATE_UPDATE_KERNEL, 'cpu', stateUpdate as KernelFn);
}
