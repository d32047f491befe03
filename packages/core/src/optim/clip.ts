import { noGrad } from '../autograd';
import { tidy } from '../memory';
import { add, div, minimum, mul, sqrt } from '../ops/arithmetic';
import { scalar } from '../ops/creation';
import { sum } from '../ops/reduce';
import type { Tensor } from '../tensor';

/**
 * torch.nn.utils.clip_grad_norm_: scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), where
 * ‖g‖ is the L2 norm of all gradients together. The gradients are replaced in place in the map or
 * array (the old tensors are disposed). Returns the norm before clipping as a scalar tensor, which
 * the caller disposes. The scale is computed as a tensor, so nothing waits for the GPU.
 */
export function clipGradNorm(grads: Map<string, Tensor> | Tensor[], maxNorm: number): Tensor {
  return noGrad(() => {
    const list = grads instanceof Map ? [...grads.values()] : grads;
    const norm = tidy(() => {
      if (list.length === 0) return scalar(0);
      let total = sum(mul(list[0], list[0]));
      for (const g of list.slice(1)) total = add(total, sum(mul(g, g)));
      return sqrt(total);
    });
    const scale = tidy(() => minimum(div(maxNorm, add(norm, 1e-6)), 1));
    const scaled = (g: Tensor): Tensor => {
      const out = mul(g, scale);
      g.dispose();
      return out;
    };
    if (grads instanceof Map) for (const [name, g] of grads) grads.set(name, scaled(g));
    else for (let i = 0; i < grads.length; i++) grads[i] = scaled(grads[i]);
    scale.dispose();
    return norm;
  });
}
