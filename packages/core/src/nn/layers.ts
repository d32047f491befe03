import { ShapeError, shapeStr, ValueError } from '../errors';
import { add } from '../ops/arithmetic';
import { ones, rand, randn } from '../ops/creation';
import { matmul } from '../ops/matmul';
import { conv1d, rmsNorm } from '../ops/nn';
import { embedding, reshape } from '../ops/shape';
import { Generator, globalGenerator } from '../random';
import type { Tensor } from '../tensor';
import { Module, type Parameter } from './module';

/** Where initial values come from: a generator, a seed, or (neither) the global generator. */
export interface InitOptions {
  generator?: Generator;
  seed?: number;
}

function generatorOf(options: InitOptions): Generator {
  return options.generator ?? (options.seed !== undefined ? new Generator(options.seed) : globalGenerator);
}

/** Uniform in [-bound, bound): torch's kaiming_uniform_(a=√5) for layers comes down to bound = 1/√fan_in. */
function uniform(shape: number[], bound: number, generator: Generator): Tensor {
  return rand(shape, { low: -bound, high: bound, generator });
}

/** y = x·Wᵀ + b over the last axis. Weight [out, in] and init as torch.nn.Linear. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    const generator = generatorOf(options);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter('weight', uniform([outFeatures, inFeatures], bound, generator));
    this.bias = options.bias === false ? null : this.registerParameter('bias', uniform([outFeatures], bound, generator));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError('Linear', `input ${shapeStr(x.shape)} must end in ${this.inFeatures} features`);
    }
    // matmul wants rank ≥ 2: a single vector goes through as one row.
    const rows = x.rank === 1 ? reshape(x, [1, this.inFeatures]) : x;
    let y = matmul(rows, this.weight.value, { transposeB: true });
    if (this.bias) y = add(y, this.bias.value);
    return x.rank === 1 ? reshape(y, [this.outFeatures]) : y;
  }
}

/** Rows of a [num, dim] table looked up by int32 ids. Init: normal with std 1 (torch) or as given (Mamba: 0.02). */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: InitOptions & { std?: number } = {},
  ) {
    super();
    const generator = generatorOf(options);
    this.weight = this.registerParameter('weight', randn([numEmbeddings, embeddingDim], { std: options.std ?? 1, generator }));
  }

  forward(ids: Tensor): Tensor {
    return embedding(this.weight.value, ids);
  }
}

/** x·rsqrt(mean(x²) + eps)·weight over the last axis; weight starts at ones. */
export class RMSNorm extends Module {
  readonly weight: Parameter;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.registerParameter('weight', ones([dim]));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight.value, this.eps);
  }
}

/**
 * Mamba's causal depthwise convolution over [B, C, L]. The weight is stored [C, 1, K] as in PyTorch
 * state dicts (nn.Conv1d with groups = C) and viewed as [C, K] for the conv1d op. Init as torch:
 * uniform ±1/√K for weight and bias (fan_in = K for a depthwise kernel).
 */
export class Conv1d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly channels: number,
    readonly kernelSize: number,
    options: InitOptions & { bias?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new ValueError('Conv1d', `kernelSize must be a positive integer, got ${kernelSize}`);
    const generator = generatorOf(options);
    const bound = 1 / Math.sqrt(kernelSize);
    this.weight = this.registerParameter('weight', uniform([channels, 1, kernelSize], bound, generator));
    this.bias = options.bias === false ? null : this.registerParameter('bias', uniform([channels], bound, generator));
  }

  forward(x: Tensor): Tensor {
    const w = reshape(this.weight.value, [this.channels, this.kernelSize]);
    return conv1d(x, w, this.bias?.value);
  }
}
