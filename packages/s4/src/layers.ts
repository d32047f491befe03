/**
 * S4D and S4 layers as in state-spaces/s4's standalone S4D (models/s4/s4d.py): per channel an LTI SSM applied
 * as a long convolution, the D skip, GELU, then a position-wise linear map to 2H channels and a GLU back to H.
 * Dropout is left out. Input and output are [batch, H, L] (`transposed`, the repository's default) or
 * [batch, L, H].
 */
import {
  add, dispose, gelu, keep, matmul, Module, ModuleList, mul, rand, randn, reshape, ShapeError, shapeStr, sigmoid, slice,
  transpose, type Parameter, type Tensor,
} from '@ssmjs/core';
import type { Complex } from './complex';
import { fftConv } from './fftconv';
import { generatorOf, S4DKernel, S4Kernel, type S4DKernelOptions, type S4KernelOptions, type SsmKernel } from './ssm';

/** a ⊙ sigmoid(b), where a and b are the two halves of `x` along `axis` (torch's GLU). */
export function glu(x: Tensor, axis: number): Tensor {
  const half = x.shape[axis] / 2;
  if (!Number.isInteger(half)) throw new ShapeError('glu', `axis ${axis} of ${shapeStr(x.shape)} must have even size`);
  const begin = x.shape.map(() => 0);
  const size = x.shape.map((d, i) => (i === axis ? half : d));
  const a = slice(x, begin, size);
  const b = slice(x, begin.map((_, i) => (i === axis ? half : 0)), size);
  return mul(a, sigmoid(b));
}

/** torch's Conv1d with kernel size 1 (a linear map over channels, axis 1): weight [out, in, 1], bias [out]. */
class PointwiseConv extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    options: { generator: ReturnType<typeof generatorOf> },
  ) {
    super();
    const bound = 1 / Math.sqrt(inChannels);
    const uniform = (shape: number[]) => rand(shape, { low: -bound, high: bound, generator: options.generator });
    this.weight = this.registerParameter('weight', uniform([outChannels, inChannels, 1]));
    this.bias = this.registerParameter('bias', uniform([outChannels]));
  }

  /** [batch, in, L] → [batch, out, L], or [batch, in] → [batch, out]. */
  forward(x: Tensor): Tensor {
    const w = reshape(this.weight.value, [this.outChannels, this.inChannels]);
    if (x.rank === 2) return add(matmul(x, w, { transposeB: true }), this.bias.value);
    return add(matmul(w, x), reshape(this.bias.value, [this.outChannels, 1]));
  }
}

/** The recurrent state of a layer: the SSM state of each sequence. Free it with `dispose()`. */
export class LtiState {
  constructor(public ssm: Complex) {
    keep(ssm.re);
    keep(ssm.im);
  }

  /** Takes ownership of the next state and frees the previous one. */
  advance(next: Complex): void {
    const old = this.ssm;
    this.ssm = { re: keep(next.re), im: keep(next.im) };
    dispose(old);
  }

  dispose(): void {
    dispose(this.ssm);
  }
}

export interface LtiLayerOptions {
  /** Input and output [batch, H, L] (true, the default, as the repository) or [batch, L, H]. */
  transposed?: boolean;
}

/** What S4DLayer and S4Layer share: everything but the SSM kernel. */
abstract class LtiLayer extends Module {
  readonly D: Parameter;
  readonly kernel: SsmKernel;
  readonly transposed: boolean;
  private readonly outputLinear: PointwiseConv;

  protected constructor(
    readonly H: number,
    makeKernel: () => SsmKernel,
    options: LtiLayerOptions & { generator: ReturnType<typeof generatorOf> },
  ) {
    super();
    this.transposed = options.transposed ?? true;
    this.D = this.registerParameter('D', randn([H], { generator: options.generator }));
    this.kernel = this.registerModule('kernel', makeKernel());
    this.outputLinear = new PointwiseConv(H, 2 * H, options);
    this.registerModule('output_linear', new ModuleList([this.outputLinear]));
  }

  /** x [batch, H, L] (or [batch, L, H] when not transposed) → the same shape. */
  forward(x: Tensor): Tensor {
    const who = this.constructor.name;
    const channelAxis = this.transposed ? 1 : 2;
    if (x.rank !== 3 || x.shape[channelAxis] !== this.H) {
      const expected = this.transposed ? `[batch, ${this.H}, L]` : `[batch, L, ${this.H}]`;
      throw new ShapeError(who, `input must be ${expected}, got ${shapeStr(x.shape)}`);
    }
    const u = this.transposed ? x : transpose(x, [0, 2, 1]);
    const L = u.shape[2];
    const K = this.kernel.kernel(L);
    let y = add(fftConv(u, K), mul(u, reshape(this.D.value, [this.H, 1])));
    y = glu(this.outputLinear.forward(gelu(y)), 1);
    return this.transposed ? y : transpose(y, [0, 2, 1]);
  }

  /** `forward` over a prompt, plus the state that `step` continues from. */
  prefill(x: Tensor): { y: Tensor; state: LtiState } {
    const y = this.forward(x);
    const u = this.transposed ? x : transpose(x, [0, 2, 1]);
    return { y, state: new LtiState(this.kernel.finalState(u)) };
  }

  /** Sets up the step's constants ahead of time (needed for S4 on backends without synchronous reads, webgpu). */
  prepareStep(): Promise<void> {
    return this.kernel.prepareStep();
  }

  /** A zero state for `batch` sequences. */
  initialState(batch: number): LtiState {
    return new LtiState(this.kernel.initialState(batch));
  }

  /**
   * One time step: x [batch, H] → y [batch, H], advancing `state`. Equals `forward` on the sequence so far,
   * at its last position. For inference (the step constants are set up without gradients).
   */
  step(x: Tensor, state: LtiState): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.H) throw new ShapeError(`${this.constructor.name}.step`, `x must be [batch, ${this.H}], got ${shapeStr(x.shape)}`);
    if (state.ssm.re.shape[0] !== x.shape[0]) {
      throw new ShapeError(`${this.constructor.name}.step`, `x ${shapeStr(x.shape)} and the state (batch ${state.ssm.re.shape[0]}) differ in batch`);
    }
    const { y: ssmOut, state: next } = this.kernel.step(x, state.ssm);
    state.advance(next);
    const y = add(ssmOut, mul(x, this.D.value));
    return glu(this.outputLinear.forward(gelu(y)), 1);
  }
}

export interface S4DLayerOptions extends LtiLayerOptions, S4DKernelOptions {
  /** State size N (N/2 complex modes per channel); default 64 as the repository. */
  dState?: number;
}

/** The standalone S4D layer: diagonal SSM kernels by Vandermonde products (parameters `D`, `kernel.*`, `output_linear.0.*`). */
export class S4DLayer extends LtiLayer {
  declare readonly kernel: S4DKernel;

  constructor(H: number, options: S4DLayerOptions = {}) {
    const generator = generatorOf(options);
    super(H, () => new S4DKernel(H, options.dState ?? 64, { ...options, generator }), { ...options, generator });
  }
}

export interface S4LayerOptions extends LtiLayerOptions, S4KernelOptions {
  dState?: number;
}

/** The S4 layer: DPLR (LegS) SSM kernels by the Cauchy kernel and Woodbury identity; sequences up to `lMax`. */
export class S4Layer extends LtiLayer {
  declare readonly kernel: S4Kernel;

  constructor(H: number, options: S4LayerOptions) {
    const generator = generatorOf(options);
    super(H, () => new S4Kernel(H, options.dState ?? 64, { ...options, generator }), { ...options, generator });
  }
}
