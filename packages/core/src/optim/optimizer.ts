import { noGrad } from '../autograd';
import { CheckpointError, shapeStr, ValueError } from '../errors';
import { keep, tidy } from '../memory';
import { Module, type Parameter } from '../nn/module';
import { reshape } from '../ops/shape';
import { sameShape } from '../shape';
import type { Tensor } from '../tensor';

/** What an optimizer saves to resume exactly: the step count and its per-parameter state tensors. */
export interface OptimizerState {
  step: number;
  /** `${parameterName}.${slot}` → tensor, e.g. `layers.0.weight.exp_avg`. */
  state: Record<string, Tensor>;
}

/**
 * Shared machinery: the parameters by name, per-parameter state slots (moment tensors), step
 * counting, leak-free updates and state dicts. Subclasses give the update rule.
 */
export abstract class Optimizer {
  protected readonly params: Map<string, Parameter>;
  /** Per parameter name, its state tensors by slot (kept; replaced and disposed at each step). */
  protected readonly slots = new Map<string, Map<string, Tensor>>();
  /**
   * Steps taken so far (torch's `state['step']`). One count serves all parameters; torch counts per
   * parameter, which differs only for a parameter that had no gradient on some steps.
   */
  stepCount = 0;
  /** The learning rate of the next step; schedules set it. */
  lr: number;

  protected constructor(params: Module | Map<string, Parameter>, lr: number) {
    this.params = new Map(params instanceof Module ? params.namedParameters() : params);
    if (!(lr >= 0)) throw new ValueError(this.constructor.name, `lr must be ≥ 0, got ${lr}`);
    this.lr = lr;
  }

  /** The slot names the update keeps per parameter. */
  protected abstract readonly slotNames: readonly string[];

  /**
   * New value and new slot tensors for one parameter, from its value, gradient and current slots
   * (absent on the first step). Runs inside `tidy`; `this.stepCount` is already incremented.
   */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    slots: ReadonlyMap<string, Tensor>,
  ): { param: Tensor; slots: Record<string, Tensor> };

  /**
   * One step for every parameter that has a gradient in `grads` (others are left alone, like torch
   * with `grad = None`). The gradients stay the caller's.
   */
  step(grads: Map<string, Tensor>): void {
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new ValueError(`${this.constructor.name}.step`, `gradient for '${name}', which is not one of its parameters`);
      if (!sameShape(g.shape, p.shape)) {
        throw new ValueError(`${this.constructor.name}.step`, `gradient of '${name}' is ${shapeStr(g.shape)}, parameter is ${shapeStr(p.shape)}`);
      }
    }
    this.stepCount++;
    noGrad(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g || !p.requiresGrad) continue;
        const old = this.slots.get(name) ?? new Map<string, Tensor>();
        const next = tidy(() => this.update(p.value, g, old));
        p.assign(next.param);
        const kept = new Map<string, Tensor>();
        for (const slot of this.slotNames) kept.set(slot, keep(next.slots[slot]));
        for (const t of old.values()) if (![...kept.values()].includes(t)) t.dispose();
        this.slots.set(name, kept);
      }
    });
  }

  /** Step count and state tensors (new handles sharing the data; the caller disposes them). */
  stateDict(): OptimizerState {
    const state: Record<string, Tensor> = {};
    noGrad(() => {
      for (const [name, slots] of this.slots) for (const [slot, t] of slots) state[`${name}.${slot}`] = reshape(t, t.shape);
    });
    return { step: this.stepCount, state };
  }

  /**
   * Restores what `stateDict` gave. Names and shapes are checked against the parameters before any
   * state changes; the tensors stay the caller's.
   */
  loadStateDict(saved: OptimizerState): void {
    const who = `${this.constructor.name}.loadStateDict`;
    if (!Number.isInteger(saved.step) || saved.step < 0) throw new CheckpointError(`${who}: step must be a non-negative integer, got ${saved.step}`);
    const restored = new Map<string, Map<string, Tensor>>();
    const problems: string[] = [];
    for (const [key, t] of Object.entries(saved.state)) {
      const slot = this.slotNames.find((s) => key.endsWith(`.${s}`));
      const name = slot ? key.slice(0, -slot.length - 1) : '';
      const p = this.params.get(name);
      if (!slot || !p) problems.push(`unexpected '${key}'`);
      else if (t.disposed) problems.push(`'${key}' was disposed`);
      else if (!sameShape(t.shape, p.shape) || t.dtype !== 'float32') problems.push(`'${key}' is ${t.dtype} ${shapeStr(t.shape)}, expected float32 ${shapeStr(p.shape)}`);
      else {
        if (!restored.has(name)) restored.set(name, new Map());
        restored.get(name)!.set(slot, t);
      }
    }
    for (const [name, slots] of restored) {
      const absent = this.slotNames.filter((s) => !slots.has(s));
      if (absent.length) problems.push(`'${name}' lacks ${absent.map((s) => `${name}.${s}`).join(', ')}`);
    }
    if (problems.length) throw new CheckpointError(`${who}: ${problems.join('; ')}`);

    for (const slots of this.slots.values()) for (const t of slots.values()) t.dispose();
    this.slots.clear();
    noGrad(() => {
      for (const [name, slots] of restored) {
        this.slots.set(name, new Map([...slots].map(([slot, t]) => [slot, keep(reshape(t, t.shape))])));
      }
    });
    this.stepCount = saved.step;
  }

  /** Frees the state tensors (not the parameters). */
  dispose(): void {
    for (const slots of this.slots.values()) for (const t of slots.values()) t.dispose();
    this.slots.clear();
  }
}
