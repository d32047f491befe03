// The selective scan's wasm kernels (AssemblyScript, 128-bit SIMD). Pure pointer functions over one
// linear memory: every pointer is a byte offset of float32 data; the caller owns all memory, including
// a per-thread scratch area. Built twice: plain SIMD, and with relaxed SIMD for fused multiply-add.
//
// Layout (as mamba_ssm): u, delta, z, y (batch, dim, L); A (dim, N); B, C (batch, N, L); D, deltaBias
// (dim); states (batch, dim, N). `prepare` rewrites A, B and C into the layout the scan reads: states
// padded to Np (a multiple of 4) and B, C transposed to (batch, L, Np), so the states of one time step
// are contiguous vectors. A is stored pre-multiplied by log2(e), so exp(Δ·A) = 2^(Δ·A2).
//
// Exports: prepare, scanForward (+ setTwoChannels for the lab), scanBackward + finishBC, stateUpdate.

const LOG2E: f32 = 1.4426950408889634;

export const HAS_D: i32 = 1;
export const HAS_Z: i32 = 2;
export const HAS_DELTA_BIAS: i32 = 4;
export const HAS_INITIAL_STATE: i32 = 8;
export const DELTA_SOFTPLUS: i32 = 16;

/** Pairing channels at N = 16 (on by default); the lab switches it off to time one channel per step. */
let twoChannels = true;
export function setTwoChannels(on: bool): void {
  twoChannels = on;
}

/** a·b + c, fused where relaxed SIMD is compiled in. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * 2^t for each lane: t clamped to ±126; adding 1.5·2^23 rounds it to an integer (its low mantissa bits)
 * and leaves a fraction in [−½, ½]; 2^fraction by a degree-5 polynomial fitted on that interval
 * (relative error 2.3e-7 in f32 arithmetic); the integer shifted into the exponent bits.
 * pmin/pmax and the rounding trick are one instruction each on x64, where min/max/nearest/trunc_sat
 * carry NaN and saturation fix-ups that cost several.
 */
// @ts-ignore: decorator
@inline function exp2v(t: v128): v128 {
  const magic = f32x4.splat(12582912.0);
  t = f32x4.pmin(f32x4.pmax(t, f32x4.splat(-126.0)), f32x4.splat(126.0));
  const shifted = f32x4.add(t, magic);
  const f = f32x4.sub(t, f32x4.sub(shifted, magic));
  let p = f32x4.splat(1.3266970636323094e-3);
  p = madd(p, f, f32x4.splat(9.675459936261177e-3));
  p = madd(p, f, f32x4.splat(5.550742521882057e-2));
  p = madd(p, f, f32x4.splat(0.24022121727466583));
  p = madd(p, f, f32x4.splat(0.6931469440460205));
  p = madd(p, f, f32x4.splat(1.0000001192092896));
  return i32x4.add(p, i32x4.shl(i32x4.sub(shifted, magic), 23));
}

/**
 * softplus(x) = max(x, 0) + log1p(e^−|x|). With w = e^−|x| ∈ (0, 1] and s = w / (2 + w) ∈ (0, ⅓],
 * log1p(w) = 2·atanh(s) = 2s(1 + s²/3 + s⁴/5 + …); six terms leave an error below 1e-7. Above 20 this
 * is x to f32 precision, as PyTorch's thresholded softplus.
 */
// @ts-ignore: decorator
@inline function softplusv(x: v128): v128 {
  const w = exp2v(f32x4.mul(f32x4.neg(f32x4.abs(x)), f32x4.splat(LOG2E)));
  const s = f32x4.div(w, f32x4.add(w, f32x4.splat(2.0)));
  const s2 = f32x4.mul(s, s);
  let p = f32x4.splat(<f32>(2.0 / 11.0));
  p = madd(p, s2, f32x4.splat(<f32>(2.0 / 9.0)));
  p = madd(p, s2, f32x4.splat(<f32>(2.0 / 7.0)));
  p = madd(p, s2, f32x4.splat(<f32>(2.0 / 5.0)));
  p = madd(p, s2, f32x4.splat(<f32>(2.0 / 3.0)));
  p = madd(p, s2, f32x4.splat(2.0));
  return madd(p, s, f32x4.pmax(x, f32x4.splat(0.0)));
}

/** x·sigmoid(x) = x / (1 + e^−x). */
// @ts-ignore: decorator
@inline function siluv(x: v128): v128 {
  const e = exp2v(f32x4.mul(x, f32x4.splat(-LOG2E)));
  return f32x4.div(x, f32x4.add(e, f32x4.splat(1.0)));
}

/** The sum of a vector's four lanes. */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  v = f32x4.add(v, i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  v = f32x4.add(v, i8x16.shuffle(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11));
  return f32x4.extract_lane(v, 0);
}

/** A2 (dim, Np) = A·log2(e), zero-padded; Bt, Ct (batch, L, Np) = B, C transposed, zero-padded. */
export function prepare(A: usize, B: usize, C: usize, A2: usize, Bt: usize, Ct: usize, batch: i32, dim: i32, N: i32, Np: i32, L: i32): void {
  for (let d = 0; d < dim; d++) {
    for (let n = 0; n < Np; n++) {
      store<f32>(A2 + (<usize>(d * Np + n) << 2), n < N ? load<f32>(A + (<usize>(d * N + n) << 2)) * LOG2E : 0);
    }
  }
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < L; t++) {
      const to = <usize>((b * L + t) * Np) << 2;
      for (let n = 0; n < Np; n++) {
        const from = <usize>((b * N + n) * L + t) << 2;
        store<f32>(Bt + to + (<usize>n << 2), n < N ? load<f32>(B + from) : 0);
        store<f32>(Ct + to + (<usize>n << 2), n < N ? load<f32>(C + from) : 0);
      }
    }
  }
}

/** Δ_t (bias, softplus) and Δ_t·u_t of one channel's row into dtOut and duOut, four steps at a time. */
function prepareRow(u: usize, delta: usize, bias: f32, L: i32, softplus: bool, dtOut: usize, duOut: usize): void {
  const vbias = f32x4.splat(bias);
  let t = 0;
  for (; t + 4 <= L; t += 4) {
    const at = <usize>t << 2;
    let dt = f32x4.add(v128.load(delta + at), vbias);
    if (softplus) dt = softplusv(dt);
    v128.store(dtOut + at, dt);
    v128.store(duOut + at, f32x4.mul(dt, v128.load(u + at)));
  }
  for (; t < L; t++) {
    const at = <usize>t << 2;
    let dt = f32x4.splat(load<f32>(delta + at) + bias);
    if (softplus) dt = softplusv(dt);
    const value = f32x4.extract_lane(dt, 0);
    store<f32>(dtOut + at, value);
    store<f32>(duOut + at, value * load<f32>(u + at));
  }
}

/** y ← (y + D·u)·silu(z) over one row, where D or z are given. */
function finishRow(y: usize, u: usize, z: usize, Dd: f32, L: i32, flags: i32): void {
  if ((flags & (HAS_D | HAS_Z)) == 0) return;
  const vD = f32x4.splat(Dd);
  const hasZ = (flags & HAS_Z) != 0;
  let t = 0;
  for (; t + 4 <= L; t += 4) {
    const at = <usize>t << 2;
    let v = madd(vD, v128.load(u + at), v128.load(y + at));
    if (hasZ) v = f32x4.mul(v, siluv(v128.load(z + at)));
    v128.store(y + at, v);
  }
  for (; t < L; t++) {
    const at = <usize>t << 2;
    let v = load<f32>(y + at) + Dd * load<f32>(u + at);
    if (hasZ) v *= f32x4.extract_lane(siluv(f32x4.splat(load<f32>(z + at))), 0);
    store<f32>(y + at, v);
  }
}

function copyFloats(to: usize, from: usize, count: i32): void {
  for (let i = 0; i < count; i++) store<f32>(to + (<usize>i << 2), load<f32>(from + (<usize>i << 2)));
}

/**
 * The forward scan for channels [dStart, dEnd) of every batch entry: y, lastState, and the state at the
 * start of each chunk of `chunk` steps into checkpoints (batch, dim, chunks, N). Threads run disjoint
 * channel ranges with their own scratch of 4·Lp + Np floats (Lp = L rounded up to 4).
 * Np = 16 runs two channels at a time with the states in registers; other sizes one channel at a time.
 */
export function scanForward(
  u: usize, delta: usize, A2: usize, Bt: usize, Ct: usize, D: usize, z: usize, deltaBias: usize, h0: usize,
  y: usize, lastState: usize, checkpoints: usize, scratch: usize,
  batch: i32, dim: i32, N: i32, Np: i32, L: i32, chunk: i32, flags: i32, dStart: i32, dEnd: i32,
): void {
  const Lp = (L + 3) & ~3;
  const dtA = scratch;
  const duA = dtA + (<usize>Lp << 2);
  const dtB = duA + (<usize>Lp << 2);
  const duB = dtB + (<usize>Lp << 2);
  const states = duB + (<usize>Lp << 2);
  const softplus = (flags & DELTA_SOFTPLUS) != 0;
  const chunks = (L + chunk - 1) / chunk;
  for (let b = 0; b < batch; b++) {
    const BtRow = Bt + (<usize>(b * L * Np) << 2);
    const CtRow = Ct + (<usize>(b * L * Np) << 2);
    let d = dStart;
    if (twoChannels && Np == 16 && N == 16) {
      for (; d + 1 < dEnd; d += 2) {
        const rowA = <usize>((b * dim + d) * L) << 2;
        const rowB = rowA + (<usize>L << 2);
        const biasA: f32 = (flags & HAS_DELTA_BIAS) != 0 ? load<f32>(deltaBias + (<usize>d << 2)) : 0;
        const biasB: f32 = (flags & HAS_DELTA_BIAS) != 0 ? load<f32>(deltaBias + (<usize>(d + 1) << 2)) : 0;
        prepareRow(u + rowA, delta + rowA, biasA, L, softplus, dtA, duA);
        prepareRow(u + rowB, delta + rowB, biasB, L, softplus, dtB, duB);
        scanPair16(A2 + (<usize>(d * 16) << 2), BtRow, CtRow, h0, y + rowA, lastState, checkpoints, dtA, duA, dtB, duB, b * dim + d, L, chunk, chunks, flags);
        finishRow(y + rowA, u + rowA, z + rowA, (flags & HAS_D) != 0 ? load<f32>(D + (<usize>d << 2)) : 0, L, flags);
        finishRow(y + rowB, u + rowB, z + rowB, (flags & HAS_D) != 0 ? load<f32>(D + (<usize>(d + 1) << 2)) : 0, L, flags);
      }
    }
    for (; d < dEnd; d++) {
      const row = <usize>((b * dim + d) * L) << 2;
      const bias: f32 = (flags & HAS_DELTA_BIAS) != 0 ? load<f32>(deltaBias + (<usize>d << 2)) : 0;
      prepareRow(u + row, delta + row, bias, L, softplus, dtA, duA);
      scanOne(A2 + (<usize>(d * Np) << 2), BtRow, CtRow, h0, y + row, lastState, checkpoints, dtA, duA, states, b * dim + d, N, Np, L, chunk, chunks, flags);
      finishRow(y + row, u + row, z + row, (flags & HAS_D) != 0 ? load<f32>(D + (<usize>d << 2)) : 0, L, flags);
    }
  }
}

/** One channel, any Np: states live in scratch memory, one vector of four states at a time. */
function scanOne(
  A2: usize, Bt: usize, Ct: usize, h0: usize, y: usize, lastState: usize, checkpoints: usize,
  dt: usize, du: usize, states: usize, channel: i32, N: i32, Np: i32, L: i32, chunk: i32, chunks: i32, flags: i32,
): void {
  const stateAt = <usize>(channel * N) << 2;
  for (let n = 0; n < Np; n++) {
    const initial: f32 = n < N && (flags & HAS_INITIAL_STATE) != 0 ? load<f32>(h0 + stateAt + (<usize>n << 2)) : 0;
    store<f32>(states + (<usize>n << 2), initial);
  }
  let checkpoint = checkpoints + (<usize>(channel * chunks * N) << 2);
  let untilCheckpoint = 0;
  for (let t = 0; t < L; t++) {
    if (untilCheckpoint == 0) {
      copyFloats(checkpoint, states, N);
      checkpoint += <usize>N << 2;
      untilCheckpoint = chunk;
    }
    untilCheckpoint--;
    const vdt = f32x4.splat(load<f32>(dt + (<usize>t << 2)));
    const vdu = f32x4.splat(load<f32>(du + (<usize>t << 2)));
    const bt = Bt + (<usize>(t * Np) << 2);
    const ct = Ct + (<usize>(t * Np) << 2);
    let acc = f32x4.splat(0);
    for (let k = 0; k < Np; k += 4) {
      const at = <usize>k << 2;
      const decay = exp2v(f32x4.mul(vdt, v128.load(A2 + at)));
      const h = madd(decay, v128.load(states + at), f32x4.mul(vdu, v128.load(bt + at)));
      v128.store(states + at, h);
      acc = madd(v128.load(ct + at), h, acc);
    }
    store<f32>(y + (<usize>t << 2), hsum(acc));
  }
  copyFloats(lastState + stateAt, states, N);
}

/**
 * Two neighbouring channels, N = 16: both channels' 16 states stay in eight vector registers, and each
 * step's B and C vectors are loaded once for both.
 */
function scanPair16(
  A2: usize, Bt: usize, Ct: usize, h0: usize, y: usize, lastState: usize, checkpoints: usize,
  dtA: usize, duA: usize, dtB: usize, duB: usize, channel: i32, L: i32, chunk: i32, chunks: i32, flags: i32,
): void {
  const stateA = h0 + (<usize>(channel * 16) << 2);
  const stateB = stateA + 64;
  const zero = f32x4.splat(0);
  const init = (flags & HAS_INITIAL_STATE) != 0;
  let a0 = init ? v128.load(stateA) : zero;
  let a1 = init ? v128.load(stateA, 16) : zero;
  let a2 = init ? v128.load(stateA, 32) : zero;
  let a3 = init ? v128.load(stateA, 48) : zero;
  let b0 = init ? v128.load(stateB) : zero;
  let b1 = init ? v128.load(stateB, 16) : zero;
  let b2 = init ? v128.load(stateB, 32) : zero;
  let b3 = init ? v128.load(stateB, 48) : zero;
  const AA = A2;
  const AB = A2 + 64;
  const yA = y;
  const yB = y + (<usize>L << 2);
  let checkpointA = checkpoints + (<usize>(channel * chunks * 16) << 2);
  let checkpointB = checkpointA + (<usize>(chunks * 16) << 2);
  let untilCheckpoint = 0;
  for (let t = 0; t < L; t++) {
    if (untilCheckpoint == 0) {
      v128.store(checkpointA, a0); v128.store(checkpointA, a1, 16); v128.store(checkpointA, a2, 32); v128.store(checkpointA, a3, 48);
      v128.store(checkpointB, b0); v128.store(checkpointB, b1, 16); v128.store(checkpointB, b2, 32); v128.store(checkpointB, b3, 48);
      checkpointA += 64;
      checkpointB += 64;
      untilCheckpoint = chunk;
    }
    untilCheckpoint--;
    const at = <usize>t << 2;
    const dta = f32x4.splat(load<f32>(dtA + at));
    const dua = f32x4.splat(load<f32>(duA + at));
    const dtb = f32x4.splat(load<f32>(dtB + at));
    const dub = f32x4.splat(load<f32>(duB + at));
    const bt = Bt + (<usize>t << 6);
    const ct = Ct + (<usize>t << 6);

    let Bk = v128.load(bt);
    let Ck = v128.load(ct);
    a0 = madd(exp2v(f32x4.mul(dta, v128.load(AA))), a0, f32x4.mul(dua, Bk));
    b0 = madd(exp2v(f32x4.mul(dtb, v128.load(AB))), b0, f32x4.mul(dub, Bk));
    let accA = f32x4.mul(Ck, a0);
    let accB = f32x4.mul(Ck, b0);

    Bk = v128.load(bt, 16);
    Ck = v128.load(ct, 16);
    a1 = madd(exp2v(f32x4.mul(dta, v128.load(AA, 16))), a1, f32x4.mul(dua, Bk));
    b1 = madd(exp2v(f32x4.mul(dtb, v128.load(AB, 16))), b1, f32x4.mul(dub, Bk));
    accA = madd(Ck, a1, accA);
    accB = madd(Ck, b1, accB);

    Bk = v128.load(bt, 32);
    Ck = v128.load(ct, 32);
    a2 = madd(exp2v(f32x4.mul(dta, v128.load(AA, 32))), a2, f32x4.mul(dua, Bk));
    b2 = madd(exp2v(f32x4.mul(dtb, v128.load(AB, 32))), b2, f32x4.mul(dub, Bk));
    accA = madd(Ck, a2, accA);
    accB = madd(Ck, b2, accB);

    Bk = v128.load(bt, 48);
    Ck = v128.load(ct, 48);
    a3 = madd(exp2v(f32x4.mul(dta, v128.load(AA, 48))), a3, f32x4.mul(dua, Bk));
    b3 = madd(exp2v(f32x4.mul(dtb, v128.load(AB, 48))), b3, f32x4.mul(dub, Bk));
    accA = madd(Ck, a3, accA);
    accB = madd(Ck, b3, accB);

    store<f32>(yA + at, hsum(accA));
    store<f32>(yB + at, hsum(accB));
  }
  const lastA = lastState + (<usize>(channel * 16) << 2);
  const lastB = lastA + 64;
  v128.store(lastA, a0); v128.store(lastA, a1, 16); v128.store(lastA, a2, 32); v128.store(lastA, a3, 48);
  v128.store(lastB, b0); v128.store(lastB, b1, 16); v128.store(lastB, b2, 32); v128.store(lastB, b3, 48);
}

/**
 * One decoding step for channels [dStart, dEnd) of every batch entry: state (batch, dim, N) is updated in
 * place; out (batch, dim). A is the plain (dim, N) matrix here; B, C are (batch, N). Flags as the scan's:
 * HAS_DELTA_BIAS means dtBias is given, DELTA_SOFTPLUS applies softplus to dt.
 */
export function stateUpdate(
  state: usize, x: usize, dt: usize, A: usize, B: usize, C: usize, D: usize, z: usize, dtBias: usize, out: usize,
  batch: i32, dim: i32, N: i32, flags: i32, dStart: i32, dEnd: i32,
): void {
  const vlog2e = f32x4.splat(LOG2E);
  for (let b = 0; b < batch; b++) {
    const Bb = B + (<usize>(b * N) << 2);
    const Cb = C + (<usize>(b * N) << 2);
    for (let d = dStart; d < dEnd; d++) {
      const i = <usize>(b * dim + d) << 2;
      let vdt = f32x4.splat(load<f32>(dt + i) + ((flags & HAS_DELTA_BIAS) != 0 ? load<f32>(dtBias + (<usize>d << 2)) : 0));
      if ((flags & DELTA_SOFTPLUS) != 0) vdt = softplusv(vdt);
      const xi = load<f32>(x + i);
      const vdu = f32x4.mul(vdt, f32x4.splat(xi));
      const h = state + (<usize>(b * dim + d) * N << 2);
      const Ad = A + (<usize>(d * N) << 2);
      let acc = f32x4.splat(0);
      let n = 0;
      for (; n + 4 <= N; n += 4) {
        const at = <usize>n << 2;
        const decay = exp2v(f32x4.mul(vdt, f32x4.mul(v128.load(Ad + at), vlog2e)));
        const hn = madd(decay, v128.load(h + at), f32x4.mul(vdu, v128.load(Bb + at)));
        v128.store(h + at, hn);
        acc = madd(v128.load(Cb + at), hn, acc);
      }
      let y = hsum(acc);
      for (; n < N; n++) {
        const at = <usize>n << 2;
        const decay = f32x4.extract_lane(exp2v(f32x4.mul(vdt, f32x4.splat(load<f32>(Ad + at) * LOG2E))), 0);
        const hn = decay * load<f32>(h + at) + f32x4.extract_lane(vdu, 0) * load<f32>(Bb + at);
        store<f32>(h + at, hn);
        y += hn * load<f32>(Cb + at);
      }
      if ((flags & HAS_D) != 0) y += load<f32>(D + (<usize>d << 2)) * xi;
      if ((flags & HAS_Z) != 0) y *= f32x4.extract_lane(siluv(f32x4.splat(load<f32>(z + i))), 0);
      store<f32>(out + i, y);
    }
  }
}

// ---------------------------------------------------------------- backward

// Slots of the backward's descriptor: an i32 array in memory (there are more arguments than the
// worker pool passes), filled by the caller.
const BW_U = 0, BW_DELTA = 1, BW_A2 = 2, BW_BT = 3, BW_CT = 4, BW_D = 5, BW_Z = 6, BW_BIAS = 7;
const BW_CHECKPOINTS = 8, BW_DY = 9, BW_DLAST = 10;
const BW_DU = 11, BW_DDELTA = 12, BW_DA = 13, BW_DD = 14, BW_DZ = 15, BW_DBIAS = 16, BW_DH0 = 17;
const BW_DBT = 18, BW_DCT = 19, BW_PARTIAL_STRIDE = 20;
const BW_BATCH = 21, BW_DIM = 22, BW_N = 23, BW_NP = 24, BW_L = 25, BW_CHUNK = 26, BW_FLAGS = 27;

// @ts-ignore: decorator
@inline function slot(desc: usize, i: i32): usize {
  return <usize>load<i32>(desc + (<usize>i << 2));
}

/** silu(z) and its derivative s·(1 + z·(1 − s)) for one row, into gate and gateGrad. */
function gateRow(z: usize, L: i32, gate: usize, gateGrad: usize): void {
  for (let t = 0; t < L; t++) {
    const zt = load<f32>(z + (<usize>t << 2));
    const sig: f32 = 1 / (1 + f32x4.extract_lane(exp2v(f32x4.splat(-zt * LOG2E)), 0));
    store<f32>(gate + (<usize>t << 2), zt * sig);
    store<f32>(gateGrad + (<usize>t << 2), sig * (1 + zt * (1 - sig)));
  }
}

/**
 * Gradients for channels [dStart, dEnd) of every batch entry. Chunks are visited last to first; each
 * chunk's states (and decays) are recomputed from its checkpoint into scratch, then the reverse
 * recurrence runs over it with the state gradient g in scratch. dB and dC (sums over channels) go to
 * this thread's partial buffers (batch, L, Np), part `part`; `finishBC` adds the parts up.
 * Scratch: 5·Lp + (2·chunk + 3)·Np floats.
 */
export function scanBackward(desc: usize, scratch: usize, part: i32, dStart: i32, dEnd: i32): void {
  const batch = <i32>slot(desc, BW_BATCH), dim = <i32>slot(desc, BW_DIM), N = <i32>slot(desc, BW_N), Np = <i32>slot(desc, BW_NP);
  const L = <i32>slot(desc, BW_L), chunk = <i32>slot(desc, BW_CHUNK), flags = <i32>slot(desc, BW_FLAGS);
  const u = slot(desc, BW_U), delta = slot(desc, BW_DELTA), A2 = slot(desc, BW_A2), Bt = slot(desc, BW_BT), Ct = slot(desc, BW_CT);
  const D = slot(desc, BW_D), z = slot(desc, BW_Z), bias = slot(desc, BW_BIAS), checkpoints = slot(desc, BW_CHECKPOINTS);
  const dy = slot(desc, BW_DY), dLast = slot(desc, BW_DLAST);
  const du = slot(desc, BW_DU), ddelta = slot(desc, BW_DDELTA), dA = slot(desc, BW_DA), dD = slot(desc, BW_DD), dz = slot(desc, BW_DZ);
  const dBias = slot(desc, BW_DBIAS), dh0 = slot(desc, BW_DH0);
  const partialStride = slot(desc, BW_PARTIAL_STRIDE);
  const dBt = slot(desc, BW_DBT) + <usize>part * partialStride;
  const dCt = slot(desc, BW_DCT) + <usize>part * partialStride;
  const hasD = (flags & HAS_D) != 0, hasZ = (flags & HAS_Z) != 0, softplus = (flags & DELTA_SOFTPLUS) != 0;
  const chunks = (L + chunk - 1) / chunk;
  const Lp = (L + 3) & ~3;
  const rowBytes = <usize>Lp << 2;
  const dt = scratch, dtu = dt + rowBytes, gate = dtu + rowBytes, gateGrad = gate + rowBytes, ddt = gateGrad + rowBytes;
  const g = ddt + rowBytes;
  const dAacc = g + (<usize>Np << 2);
  const states = dAacc + (<usize>Np << 2); // (chunk + 1) rows of Np
  const decays = states + (<usize>((chunk + 1) * Np) << 2); // chunk rows of Np
  const npBytes = <usize>Np << 2;
  const LN2: f32 = 0.6931471805599453;

  for (let b = 0; b < batch; b++) {
    for (let d = dStart; d < dEnd; d++) {
      const channel = b * dim + d;
      const row = <usize>(channel * L) << 2;
      const biasD: f32 = (flags & HAS_DELTA_BIAS) != 0 ? load<f32>(bias + (<usize>d << 2)) : 0;
      const Dd: f32 = hasD ? load<f32>(D + (<usize>d << 2)) : 0;
      prepareRow(u + row, delta + row, biasD, L, softplus, dt, dtu);
      if (hasZ) gateRow(z + row, L, gate, gateGrad);
      const Ad = A2 + (<usize>(d * Np) << 2);
      const dAd = dA + (<usize>(d * N) << 2);
      for (let n = 0; n < Np; n++) {
        store<f32>(g + (<usize>n << 2), n < N ? load<f32>(dLast + (<usize>(channel * N + n) << 2)) : 0);
        store<f32>(dAacc + (<usize>n << 2), 0);
      }
      let dDsum: f32 = 0;
      for (let k = chunks - 1; k >= 0; k--) {
        const start = k * chunk;
        const steps = min(chunk, L - start);
        // Recompute this chunk's states from its checkpoint.
        const checkpoint = checkpoints + (<usize>((channel * chunks + k) * N) << 2);
        for (let n = 0; n < Np; n++) store<f32>(states + (<usize>n << 2), n < N ? load<f32>(checkpoint + (<usize>n << 2)) : 0);
        for (let i = 0; i < steps; i++) {
          const t = start + i;
          const vdt = f32x4.splat(load<f32>(dt + (<usize>t << 2)));
          const vdu = f32x4.splat(load<f32>(dtu + (<usize>t << 2)));
          const bt = Bt + (<usize>((b * L + t) * Np) << 2);
          const prev = states + <usize>i * npBytes;
          for (let n = 0; n < Np; n += 4) {
            const at = <usize>n << 2;
            const decay = exp2v(f32x4.mul(vdt, v128.load(Ad + at)));
            v128.store(decays + <usize>i * npBytes + at, decay);
            v128.store(prev + npBytes + at, madd(decay, v128.load(prev + at), f32x4.mul(vdu, v128.load(bt + at))));
          }
        }
        // The reverse recurrence over the chunk.
        for (let i = steps - 1; i >= 0; i--) {
          const t = start + i;
          const at = <usize>t << 2;
          const dtT = load<f32>(dt + at);
          const uT = load<f32>(u + row + at);
          const bt = Bt + (<usize>((b * L + t) * Np) << 2);
          const ct = Ct + (<usize>((b * L + t) * Np) << 2);
          const dbt = dBt + (<usize>((b * L + t) * Np) << 2);
          const dct = dCt + (<usize>((b * L + t) * Np) << 2);
          const now = states + <usize>(i + 1) * npBytes;
          const prev = states + <usize>i * npBytes;
          const decayRow = decays + <usize>i * npBytes;
          let dOut = load<f32>(dy + row + at);
          if (hasZ) {
            let pre = f32x4.splat(0);
            for (let n = 0; n < Np; n += 4) pre = madd(v128.load(ct + (<usize>n << 2)), v128.load(now + (<usize>n << 2)), pre);
            const yPre = hsum(pre) + Dd * uT;
            store<f32>(dz + row + at, dOut * yPre * load<f32>(gateGrad + at));
            dOut *= load<f32>(gate + at);
          }
          dDsum += dOut * uT;
          const vOut = f32x4.splat(dOut);
          const vdt = f32x4.splat(dtT);
          const vdu = f32x4.splat(load<f32>(dtu + at));
          let sumGB = f32x4.splat(0);
          let sumGA = f32x4.splat(0);
          for (let n = 0; n < Np; n += 4) {
            const o = <usize>n << 2;
            const Bn = v128.load(bt + o);
            const gn = madd(vOut, v128.load(ct + o), v128.load(g + o));
            const decay = v128.load(decayRow + o);
            const w = f32x4.mul(f32x4.mul(gn, decay), v128.load(prev + o));
            sumGB = madd(gn, Bn, sumGB);
            sumGA = madd(v128.load(Ad + o), w, sumGA);
            v128.store(dAacc + o, madd(vdt, w, v128.load(dAacc + o)));
            v128.store(dbt + o, madd(gn, vdu, v128.load(dbt + o)));
            v128.store(dct + o, madd(vOut, v128.load(now + o), v128.load(dct + o)));
            v128.store(g + o, f32x4.mul(gn, decay));
          }
          const sB = hsum(sumGB);
          store<f32>(du + row + at, dOut * Dd + dtT * sB);
          store<f32>(ddt + at, LN2 * hsum(sumGA) + uT * sB);
        }
      }
      // Δ's gradient through bias and softplus: d softplus(x)/dx = sigmoid(x).
      let dBiasSum: f32 = 0;
      for (let t = 0; t < L; t++) {
        const at = <usize>t << 2;
        let v = load<f32>(ddt + at);
        if (softplus) {
          const x = load<f32>(delta + row + at) + biasD;
          if (x <= 20) v /= 1 + f32x4.extract_lane(exp2v(f32x4.splat(-x * LOG2E)), 0);
        }
        store<f32>(ddelta + row + at, v);
        dBiasSum += v;
      }
      if (hasD) store<f32>(dD + (<usize>d << 2), load<f32>(dD + (<usize>d << 2)) + dDsum);
      if ((flags & HAS_DELTA_BIAS) != 0) store<f32>(dBias + (<usize>d << 2), load<f32>(dBias + (<usize>d << 2)) + dBiasSum);
      for (let n = 0; n < N; n++) {
        store<f32>(dh0 + (<usize>(channel * N + n) << 2), load<f32>(g + (<usize>n << 2)));
        // dA is (dim, N) and this thread owns channel d: no other thread adds to this row.
        store<f32>(dAd + (<usize>n << 2), load<f32>(dAd + (<usize>n << 2)) + load<f32>(dAacc + (<usize>n << 2)));
      }
    }
  }
}

/** dB, dC (batch, N, L) = the sum of the threads' partials (batch, L, Np), transposed back. */
export function finishBC(partialB: usize, partialC: usize, parts: i32, partStride: usize, dB: usize, dC: usize, batch: i32, N: i32, Np: i32, L: i32): void {
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < L; t++) {
      const from = <usize>((b * L + t) * Np) << 2;
      for (let n = 0; n < N; n++) {
        let sumB: f32 = 0;
        let sumC: f32 = 0;
        for (let p = 0; p < parts; p++) {
          const at = from + <usize>p * partStride + (<usize>n << 2);
          sumB += load<f32>(partialB + at);
          sumC += load<f32>(partialC + at);
        }
        const to = <usize>((b * N + n) * L + t) << 2;
        store<f32>(dB + to, sumB);
        store<f32>(dC + to, sumC);
      }
    }
  }
}
