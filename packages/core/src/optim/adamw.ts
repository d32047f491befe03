import { ValueError } from '../errors';
import type { Module, Parameter } from '../nn/module';
import { add, div, mul, sqrt, sub } from '../ops/arithmetic';
import type { Tensor } from '../tensor';
import { Optimizer } from './optimizer';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * torch.optim.AdamW (defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2):
 *   p ← p − lr·wd·p
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
 *   p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
 */
export class AdamW extends Optimizer {
  protected readonly slotNames = ['exp_avg', 'exp_avg_sq'] as const;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Module | Map<string, Parameter>, options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new ValueError('AdamW', `betas must be in [0, 1), got [${b1}, ${b2}]`);
    if (!(this.eps >= 0)) throw new ValueError('AdamW', `eps must be ≥ 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new ValueError('AdamW', `weightDecay must be ≥ 0, got ${this.weightDecay}`);
  }

  protected update(param: Tensor, grad: Tensor, slots: ReadonlyMap<string, Tensor>): { param: Tensor; slots: Record<string, Tensor> } {
    const [b1, b2] = this.betas;
    const t = this.stepCount;
    const decayed = this.weightDecay === 0 ? param : mul(param, 1 - this.lr * this.weightDecay);
    const m0 = slots.get('exp_avg');
    const v0 = slots.get('exp_avg_sq');
    // On the first step the moments are zero, so only the gradient terms remain.
    const gradTerm = mul(grad, 1 - b1);
    const squareTerm = mul(mul(grad, grad), 1 - b2);
    const m = m0 ? add(mul(m0, b1), gradTerm) : gradTerm;
    const v = v0 ? add(mul(v0, b2), squareTerm) : squareTerm;
    const stepSize = this.lr / (1 - b1 ** t);
    const denom = add(div(sqrt(v), Math.sqrt(1 - b2 ** t)), this.eps);
    return { param: sub(decayed, mul(div(m, denom), stepSize)), slots: { exp_avg: m, exp_avg_sq: v } };
  }
}
