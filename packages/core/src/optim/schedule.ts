import { ValueError } from '../errors';

export interface WarmupCosineOptions {
  /** The peak learning rate, reached at the end of the warm-up. */
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** The floor the cosine decays to (default 0). */
  minLr?: number;
}

/**
 * Linear warm-up from 0 to `lr` over `warmupSteps`, then a half cosine from `lr` down to `minLr` at
 * `totalSteps`, and `minLr` after (Hugging Face's get_cosine_schedule_with_warmup, with a floor).
 * Returns the learning rate for a 0-based step: `optimizer.lr = schedule(step)` before each step.
 */
export function warmupCosine(options: WarmupCosineOptions): (step: number) => number {
  const { lr, warmupSteps, totalSteps, minLr = 0 } = options;
  if (!(lr >= 0) || !(minLr >= 0) || minLr > lr) throw new ValueError('warmupCosine', `need 0 ≤ minLr ≤ lr, got lr ${lr}, minLr ${minLr}`);
  if (!Number.isInteger(warmupSteps) || !Number.isInteger(totalSteps) || warmupSteps < 0 || totalSteps < warmupSteps) {
    throw new ValueError('warmupCosine', `need integers 0 ≤ warmupSteps ≤ totalSteps, got ${warmupSteps} and ${totalSteps}`);
  }
  return (step) => {
    if (step < warmupSteps) return (lr * step) / warmupSteps;
    if (step >= totalSteps) return minLr;
    const progress = (step - warmupSteps) / (totalSteps - warmupSteps);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
