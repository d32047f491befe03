// Lab variant 1: the scan in scalar AssemblyScript (Mathf.exp, one state at a time). Same ABI as
// assembly/scan.ts's scanForward; D, z epilogue and checkpoints included so timings compare like for like.
export { prepare } from '../assembly/scan';

const HAS_D: i32 = 1;
const HAS_Z: i32 = 2;
const HAS_DELTA_BIAS: i32 = 4;
const HAS_INITIAL_STATE: i32 = 8;
const DELTA_SOFTPLUS: i32 = 16;
const LN2: f32 = 0.6931471805599453;

// @ts-ignore: decorator
@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

export function scanForward(
  u: usize, delta: usize, A2: usize, Bt: usize, Ct: usize, D: usize, z: usize, deltaBias: usize, h0: usize,
  y: usize, lastState: usize, checkpoints: usize, scratch: usize,
  batch: i32, dim: i32, N: i32, Np: i32, L: i32, chunk: i32, flags: i32, dStart: i32, dEnd: i32,
): void {
  const h = scratch;
  const chunks = (L + chunk - 1) / chunk;
  for (let b = 0; b < batch; b++) {
    for (let d = dStart; d < dEnd; d++) {
      const channel = b * dim + d;
      for (let n = 0; n < N; n++) store<f32>(h + (<usize>n << 2), (flags & HAS_INITIAL_STATE) != 0 ? f(h0, channel * N + n) : 0);
      for (let t = 0; t < L; t++) {
        if (t % chunk == 0) for (let n = 0; n < N; n++) store<f32>(checkpoints + (<usize>((channel * chunks + t / chunk) * N + n) << 2), f(h, n));
        let dt = f(delta, channel * L + t) + ((flags & HAS_DELTA_BIAS) != 0 ? f(deltaBias, d) : 0);
        if ((flags & DELTA_SOFTPLUS) != 0 && dt <= 20) dt = Mathf.log(1 + Mathf.exp(dt));
        const ut = f(u, channel * L + t);
        let acc: f32 = 0;
        for (let n = 0; n < N; n++) {
          // A2 holds A·log2(e): exp(Δ·A) = exp(Δ·A2·ln 2).
          const hn = Mathf.exp(dt * f(A2, d * Np + n) * LN2) * f(h, n) + dt * f(Bt, (b * L + t) * Np + n) * ut;
          store<f32>(h + (<usize>n << 2), hn);
          acc += f(Ct, (b * L + t) * Np + n) * hn;
        }
        if ((flags & HAS_D) != 0) acc += f(D, d) * ut;
        if ((flags & HAS_Z) != 0) {
          const zt = f(z, channel * L + t);
          acc *= zt / (1 + Mathf.exp(-zt));
        }
        store<f32>(y + (<usize>(channel * L + t) << 2), acc);
      }
      for (let n = 0; n < N; n++) store<f32>(lastState + (<usize>(channel * N + n) << 2), f(h, n));
    }
  }
}
