/**
 * The SSM parts of the S4 and S4D layers as modules: trainable parameters (state-spaces/s4's names, under
 * `kernel.`), the convolution kernel of any length for whole sequences, and a recurrent step for generation.
 */
import {
  add, BackendError, dispose, exp, Generator, globalGenerator, keep, Module, mul, neg, noGrad, reshape, ShapeError, shapeStr, slice, sum, tensor,
  tidy, ValueError, zeros, type InitOptions, type Parameter, type Tensor,
} from '@ssmjs/core';
import { dplrCFromTilde, dplrCTilde, dplrToDense, nplr, s4dInit, type ComplexArray, type S4DKind } from '@ssmjs/hippo';
import { cmatmul, cmul, complexConstant, fromPairs, type Complex } from './complex';
import { discretizeDiagonal, dplrKernel, s4dFinalState, s4dKernel, type Discretization } from './kernels';

/** What a layer needs from its SSM: kernels for the convolution path, a state and a step for the recurrent one. */
export interface SsmKernel extends Module {
  /** Channels (independent SSMs). */
  readonly H: number;
  /** State size N of each channel's real system (N/2 complex modes). */
  readonly N: number;
  /** The convolution kernel K [H, L]. */
  kernel(L: number): Tensor;
  /** A zero state for `batch` sequences. */
  initialState(batch: number): Complex;
  /** One input u [batch, H] → output y [batch, H] (without the D skip) and the next state. */
  step(u: Tensor, state: Complex): { y: Tensor; state: Complex };
  /**
   * Sets up the step's constants ahead of time, reading parameters asynchronously where that matters (S4 on
   * webgpu, which cannot read synchronously). `step` does it on demand otherwise.
   */
  prepareStep(): Promise<void>;
  /** The state after the inputs u [batch, H, L] from a zero state (to continue with `step` after a prompt). */
  finalState(u: Tensor): Complex;
}

export interface SsmInitOptions extends InitOptions {
  /** Δ starts log-uniform in [dtMin, dtMax] per channel (defaults 0.001, 0.1 as in state-spaces/s4). */
  dtMin?: number;
  dtMax?: number;
}

export function generatorOf(options: InitOptions): Generator {
  return options.generator ?? (options.seed !== undefined ? new Generator(options.seed) : globalGenerator);
}

function checkSizes(who: string, H: number, N: number): void {
  if (!Number.isInteger(H) || H < 1) throw new ValueError(who, `H must be a positive integer, got ${H}`);
  if (!Number.isInteger(N) || N < 2 || N % 2 !== 0) throw new ValueError(who, `N (the state size) must be an even integer ≥ 2, got ${N}`);
}

/** log Δ, log-uniform in [dtMin, dtMax] (host values: made before any tensor, so no read-back is needed). */
function initialLogDt(H: number, options: SsmInitOptions, g: Generator): Float32Array {
  const { dtMin = 0.001, dtMax = 0.1 } = options;
  if (!(dtMin > 0 && dtMax >= dtMin)) throw new ValueError('SSM init', `need 0 < dtMin ≤ dtMax, got ${dtMin}, ${dtMax}`);
  const [lo, hi] = [Math.log(dtMin), Math.log(dtMax)];
  return Float32Array.from({ length: H }, () => lo + g.uniform() * (hi - lo));
}

/** Complex normal values (variance 1 in total, as torch.randn with a complex dtype), as [count, 2] pairs. */
function complexNormals(count: number, g: Generator): Float64Array {
  return Float64Array.from({ length: 2 * count }, () => g.normal() * Math.SQRT1_2);
}

/** The same N/2 values for every channel: [H, n]. */
function repeatChannels(values: ArrayLike<number>, H: number): Float32Array {
  const n = values.length;
  const out = new Float32Array(H * n);
  for (let h = 0; h < H; h++) for (let k = 0; k < n; k++) out[h * n + k] = values[k];
  return out;
}

function pairs(re: ArrayLike<number>, im: ArrayLike<number>): Float32Array {
  const out = new Float32Array(2 * re.length);
  for (let k = 0; k < re.length; k++) {
    out[2 * k] = re[k];
    out[2 * k + 1] = im[k];
  }
  return out;
}

/**
 * Recurrent-step constants derived from parameters, recomputed when any parameter value changes (optimizers
 * swap in new tensors) and kept out of `tidy` until then.
 */
class StepCache<T extends Record<string, Complex>> {
  private sources: Tensor[] = [];
  private value: T | null = null;

  /** The cached constants if they were made from exactly these parameter values. */
  lookup(current: Tensor[]): T | null {
    const fresh = this.value && current.length === this.sources.length && current.every((t, i) => t === this.sources[i]);
    return fresh ? this.value : null;
  }

  /** Builds (without gradients), keeps and caches the constants for these parameter values. */
  store(current: Tensor[], build: () => T): T {
    this.clear();
    const built = noGrad(() => tidy(() => build()));
    for (const part of Object.values(built)) for (const t of Object.values(part)) keep(t);
    this.value = built;
    this.sources = current;
    return built;
  }

  get(current: Tensor[], build: () => T): T {
    return this.lookup(current) ?? this.store(current, build);
  }

  clear(): void {
    if (this.value) dispose(this.value);
    this.value = null;
    this.sources = [];
  }
}

export interface S4DKernelOptions extends SsmInitOptions {
  /** Initialization of A (hippo's `s4dInit`): 'lin' (S4D-Lin, the default and the standalone S4D's), 'inv', 'real', 'legs'. */
  init?: S4DKind;
  /** 'zoh' (default, as the standalone S4D) or 'bilinear'. */
  method?: Discretization;
}

/**
 * Diagonal SSMs (S4D): A = −exp(log_A_real) + i·A_imag, Δ = exp(log_dt), trainable C [H, N/2, 2] (re, im
 * pairs, torch's view_as_real). B is fixed at its initialization (ones, or LegS's B̃ for 'legs'), as in the
 * standalone S4D whose B is folded into C. A_imag keeps hippo's sign (negative imaginary parts).
 */
export class S4DKernel extends Module implements SsmKernel {
  readonly C: Parameter;
  readonly logDt: Parameter;
  readonly logAReal: Parameter;
  readonly AImag: Parameter;
  readonly method: Discretization;
  private readonly B: Complex;
  private readonly stepCache = new StepCache<{ dA: Complex; dB: Complex; C: Complex }>();

  constructor(
    readonly H: number,
    readonly N: number,
    options: S4DKernelOptions = {},
  ) {
    super();
    checkSizes('S4DKernel', H, N);
    this.method = options.method ?? 'zoh';
    if (this.method !== 'zoh' && this.method !== 'bilinear') {
      throw new ValueError('S4DKernel', `method must be 'zoh' or 'bilinear', got '${this.method as string}'`);
    }
    const g = generatorOf(options);
    const half = N / 2;
    const init = s4dInit(options.init ?? 'lin', N);
    const logDt = initialLogDt(H, options, g);
    this.C = this.registerParameter('C', tensor(Float32Array.from(complexNormals(H * half, g)), [H, half, 2]));
    this.logDt = this.registerParameter('log_dt', tensor(logDt, [H]));
    this.logAReal = this.registerParameter('log_A_real', tensor(repeatChannels(init.A.re.map((v) => Math.log(-v)), H), [H, half]));
    this.AImag = this.registerParameter('A_imag', tensor(repeatChannels(init.A.im, H), [H, half]));
    this.B = {
      re: keep(tensor(repeatChannels(init.B.re, H), [H, half])),
      im: keep(tensor(repeatChannels(init.B.im, H), [H, half])),
    };
  }

  /** A, B, C, log Δ as the kernel functions take them (differentiable in the parameters). */
  params(): { A: Complex; B: Complex; C: Complex; logDt: Tensor } {
    return {
      A: { re: neg(exp(this.logAReal.value)), im: this.AImag.value },
      B: this.B,
      C: fromPairs(this.C.value),
      logDt: this.logDt.value,
    };
  }

  kernel(L: number): Tensor {
    return s4dKernel({ ...this.params(), L, method: this.method });
  }

  initialState(batch: number): Complex {
    const shape = [batch, this.H, this.N / 2];
    return { re: zeros(shape), im: zeros(shape) };
  }

  /** Ā, B̄ and C for stepping: tensor ops only, so no read-back on any backend. */
  private stepSystem() {
    return this.stepCache.get(this.parameters().map((p) => p.value), () => {
      const p = this.params();
      const { dA, dB } = discretizeDiagonal({ ...p, method: this.method });
      return { dA, dB, C: p.C };
    });
  }

  async prepareStep(): Promise<void> {
    this.stepSystem();
  }

  /** x' = Ā ⊙ x + B̄ u, y = 2·Re Σ_n C_n x'_n. */
  step(u: Tensor, state: Complex): { y: Tensor; state: Complex } {
    const { dA, dB, C } = this.stepSystem();
    const [batch] = u.shape;
    const input = reshape(u, [batch, this.H, 1]);
    const moved = cmul(dA, state);
    const next = { re: add(moved.re, mul(dB.re, input)), im: add(moved.im, mul(dB.im, input)) };
    const y = mul(sum(cmul(C, next).re, 2), 2);
    return { y, state: next };
  }

  finalState(u: Tensor): Complex {
    const { A, B, logDt } = this.params();
    return s4dFinalState({ A, B, logDt, u, method: this.method });
  }

  override dispose(): void {
    super.dispose();
    dispose(this.B);
    this.stepCache.clear();
  }
}

export interface S4KernelOptions extends SsmInitOptions {
  /** Length the trained C̃ = (I − Ā^L)ᵀ C refers to; kernels of any length up to it are truncations. */
  lMax: number;
}

/** A channel's float64 DPLR parameters, read back from the tensors. */
interface HostDplr {
  A: ComplexArray;
  P: ComplexArray;
  B: ComplexArray;
  C: ComplexArray;
  dt: number;
}

/**
 * DPLR SSMs (S4): A = diag(Λ) − P P* with Λ = −exp(A_real) − i·A_imag, Δ = exp(inv_dt), complex B, P and C̃
 * as [H, N/2, 2] pairs, initialized from LegS (hippo's `nplr`, rank 1) and a random C turned into C̃ for
 * lMax (state-spaces/s4's SSMKernelDPLR with init 'legs', bilinear). The recurrent step runs the dense
 * N×N discrete system with C recovered from C̃ (hippo's `dplrCFromTilde`), set up in float64.
 */
export class S4Kernel extends Module implements SsmKernel {
  readonly logDt: Parameter;
  readonly C: Parameter;
  readonly B: Parameter;
  readonly P: Parameter;
  readonly AReal: Parameter;
  readonly AImag: Parameter;
  readonly lMax: number;
  private readonly stepCache = new StepCache<{ dA: Complex; dB: Complex; C: Complex }>();

  constructor(
    readonly H: number,
    readonly N: number,
    options: S4KernelOptions,
  ) {
    super();
    checkSizes('S4Kernel', H, N);
    this.lMax = options?.lMax;
    if (!Number.isInteger(this.lMax) || this.lMax < 1) throw new ValueError('S4Kernel', `lMax must be a positive integer, got ${this.lMax}`);
    const g = generatorOf(options);
    const half = N / 2;
    const form = nplr('legs', N);
    const dts = initialLogDt(H, options, g);
    const P: ComplexArray = { re: form.P.re.slice(0, half), im: form.P.im.slice(0, half) };
    const cTilde = new Float32Array(2 * H * half);
    const outputs = complexNormals(H * half, g);
    for (let h = 0; h < H; h++) {
      const C: ComplexArray = {
        re: Float64Array.from({ length: half }, (_, k) => outputs[2 * (h * half + k)]),
        im: Float64Array.from({ length: half }, (_, k) => outputs[2 * (h * half + k) + 1]),
      };
      const t = dplrCTilde({ A: form.W, P, B: form.B, C, dt: Math.exp(dts[h]) }, this.lMax);
      cTilde.set(pairs(t.re, t.im), 2 * h * half);
    }
    this.logDt = this.registerParameter('inv_dt', tensor(dts, [H]));
    this.C = this.registerParameter('C', tensor(cTilde, [H, half, 2]));
    this.B = this.registerParameter('B', tensor(repeatChannels(pairs(form.B.re, form.B.im), H), [H, half, 2]));
    this.P = this.registerParameter('P', tensor(repeatChannels(pairs(P.re, P.im), H), [H, half, 2]));
    this.AReal = this.registerParameter('A_real', tensor(repeatChannels(form.W.re.map((v) => Math.log(-v)), H), [H, half]));
    this.AImag = this.registerParameter('A_imag', tensor(repeatChannels(form.W.im.map((v) => -v), H), [H, half]));
  }

  params(): { A: Complex; P: Complex; B: Complex; C: Complex; logDt: Tensor } {
    return {
      A: { re: neg(exp(this.AReal.value)), im: neg(this.AImag.value) },
      P: fromPairs(this.P.value),
      B: fromPairs(this.B.value),
      C: fromPairs(this.C.value),
      logDt: this.logDt.value,
    };
  }

  /** K [H, L] for L ≤ lMax: the length-lMax kernel (which C̃ refers to), truncated. */
  kernel(L: number): Tensor {
    if (!Number.isInteger(L) || L < 1 || L > this.lMax) {
      throw new ValueError('S4Kernel.kernel', `L must be an integer in [1, lMax = ${this.lMax}], got ${L}`);
    }
    const K = dplrKernel({ ...this.params(), L: this.lMax });
    return L === this.lMax ? K : slice(K, [0, 0], [this.H, L]);
  }

  initialState(batch: number): Complex {
    const shape = [batch, this.H, this.N];
    return { re: zeros(shape), im: zeros(shape) };
  }

  /** The parameters the step's dense system is made of, in the order `hostChannels` reads them. */
  private stepSources(): Parameter[] {
    return [this.logDt, this.AReal, this.AImag, this.B, this.P, this.C];
  }

  /** Each channel's parameters in float64 (from the values of `stepSources`), as hippo's DPLR functions take them. */
  private hostChannels(values: ArrayLike<number>[]): HostDplr[] {
    const half = this.N / 2;
    const [dtLog, aRe, aIm, b, pp, c] = values.map((v) => Float64Array.from(v));
    const channelPairs = (data: Float64Array, h: number): ComplexArray => ({
      re: Float64Array.from({ length: half }, (_, k) => data[2 * (h * half + k)]),
      im: Float64Array.from({ length: half }, (_, k) => data[2 * (h * half + k) + 1]),
    });
    return Array.from({ length: this.H }, (_, h) => ({
      A: {
        re: Float64Array.from({ length: half }, (_, k) => -Math.exp(aRe[h * half + k])),
        im: Float64Array.from({ length: half }, (_, k) => -aIm[h * half + k]),
      },
      P: channelPairs(pp, h),
      B: channelPairs(b, h),
      C: channelPairs(c, h),
      dt: Math.exp(dtLog[h]),
    }));
  }

  /** The dense N×N bilinear system of every channel, with C recovered from C̃, as constants [H, N, N], [H, N], [H, N]. */
  private denseSystem(values: ArrayLike<number>[]): { dA: Complex; dB: Complex; C: Complex } {
    const n = this.N;
    const [aRe, aIm, bRe, bIm, cRe, cIm] = Array.from({ length: 6 }, (_, i) => new Float64Array(this.H * (i < 2 ? n * n : n)));
    this.hostChannels(values).forEach((ssm, h) => {
      const dense = dplrToDense({ ...ssm, C: dplrCFromTilde(ssm, this.lMax) });
      aRe.set(dense.dA.re, h * n * n);
      aIm.set(dense.dA.im, h * n * n);
      bRe.set(dense.dB.re, h * n);
      bIm.set(dense.dB.im, h * n);
      cRe.set(dense.C.re, h * n);
      cIm.set(dense.C.im, h * n);
    });
    return {
      dA: complexConstant(aRe, aIm, [this.H, n, n]),
      dB: complexConstant(bRe, bIm, [this.H, n]),
      C: complexConstant(cRe, cIm, [this.H, n]),
    };
  }

  async prepareStep(): Promise<void> {
    const sources = this.stepSources().map((p) => p.value);
    if (this.stepCache.lookup(sources)) return;
    const values = await Promise.all(sources.map((t) => t.data()));
    this.stepCache.store(sources, () => this.denseSystem(values));
  }

  /** x' = Ā x + B̄ u over the full (conjugate-extended) state, y = Re Σ C x'. */
  step(u: Tensor, state: Complex): { y: Tensor; state: Complex } {
    const sources = this.stepSources().map((p) => p.value);
    const { dA, dB, C } = this.stepCache.lookup(sources) ?? this.stepCache.store(sources, () => this.denseSystem(this.readNow(sources)));
    const [batch] = u.shape;
    const rows = { re: reshape(state.re, [batch, this.H, 1, this.N]), im: reshape(state.im, [batch, this.H, 1, this.N]) };
    const moved = cmatmul(rows, dA, { transposeB: true }); // (Ā x)ᵀ = xᵀ Āᵀ
    const input = reshape(u, [batch, this.H, 1]);
    const next = {
      re: add(reshape(moved.re, [batch, this.H, this.N]), mul(dB.re, input)),
      im: add(reshape(moved.im, [batch, this.H, this.N]), mul(dB.im, input)),
    };
    return { y: sum(cmul(C, next).re, 2), state: next };
  }

  /** Parameter values read synchronously, with a way out for backends that cannot. */
  private readNow(sources: Tensor[]): ArrayLike<number>[] {
    try {
      return sources.map((t) => t.dataSync());
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
      throw new BackendError(`S4Kernel.step: the ${sources[0].backend.name} backend cannot read parameters synchronously; call \`await prepareStep()\` after changing them (${e.message})`);
    }
  }

  /** By stepping: the dense DPLR system has no cheaper closed form here. */
  finalState(u: Tensor): Complex {
    const [batch, H, L] = u.shape;
    if (u.rank !== 3 || H !== this.H) throw new ShapeError('S4Kernel.finalState', `u must be [batch, ${this.H}, L], got ${shapeStr(u.shape)}`);
    return tidy(() => {
      let state = this.initialState(batch);
      for (let t = 0; t < L; t++) state = this.step(reshape(slice(u, [0, 0, t], [batch, H, 1]), [batch, H]), state).state;
      return state;
    });
  }

  override dispose(): void {
    super.dispose();
    this.stepCache.clear();
  }
}
