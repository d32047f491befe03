import { ValueError } from '../errors';
import type { Module, Parameter } from '../nn/module';
import { add, mul, sub } from '../ops/arithmetic';
import { reshape } from '../ops/shape';
import type { Tensor } from '../tensor';
import { Optimizer } from './optimizer';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD (defaults lr 1e-3, momentum 0, dampening 0, weight decay 0):
 *   d = g + wd·p
 *   b ← d on the first step, else μ·b + (1−dampening)·d
 *   p ← p − lr·(nesterov ? d + μ·b : b)        (p ← p − lr·d without momentum)
 */
export class SGD extends Optimizer {
  protected readonly slotNames: readonly string[];
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Module | Map<string, Parameter>, options: SGDOptions = {}) {
    super(params, options.lr ?? 1e-3);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new ValueError('SGD', `momentum must be ≥ 0, got ${this.momentum}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ValueError('SGD', `nesterov needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
    this.slotNames = this.momentum !== 0 ? ['momentum_buffer'] : [];
  }

  protected update(param: Tensor, grad: Tensor, slots: ReadonlyMap<string, Tensor>): { param: Tensor; slots: Record<string, Tensor> } {
    const d = this.weightDecay !== 0 ? add(grad, mul(param, this.weightDecay)) : grad;
    if (this.momentum === 0) return { param: sub(param, mul(d, this.lr)), slots: {} };
    const previous = slots.get('momentum_buffer');
    // torch starts the buffer as a copy of d (no dampening on the first step); a handle sharing d's data will do.
    const buffer = previous ? add(mul(previous, this.momentum), mul(d, 1 - this.dampening)) : reshape(d, d.shape);
    const direction = this.nesterov ? add(d, mul(buffer, this.momentum)) : buffer;
    return { param: sub(param, mul(direction, this.lr)), slots: { momentum_buffer: buffer } };
  }
}
