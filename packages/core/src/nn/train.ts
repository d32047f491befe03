import { computeGradients } from '../autograd';
import type { Tensor } from '../tensor';
import type { Module, Parameter } from './module';

/**
 * Runs `lossFn` and takes the gradient of its (scalar) result with respect to every parameter of
 * `module` that requires one. Intermediates are freed; the caller owns (and disposes) `loss` and
 * the gradients, which are keyed by the parameters' dotted names.
 */
export function valueAndGradsOf(module: Module | Map<string, Parameter>, lossFn: () => Tensor): { loss: Tensor; grads: Map<string, Tensor> } {
  const params = [...(module instanceof Map ? module : module.namedParameters())].filter(([, p]) => p.requiresGrad);
  const { value, grads } = computeGradients(lossFn, params.map(([, p]) => p.value));
  return { loss: value, grads: new Map(params.map(([name], i) => [name, grads[i]])) };
}
