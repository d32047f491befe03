import { describe, expect, it } from 'vitest';
import {
  AdamW, CheckpointError, clipGradNorm, dispose, loadSafetensors, memory, Parameter, serializeSafetensors, SGD, tensor,
  ValueError, warmupCosine, type Tensor,
} from '@ssmjs/core';

/** Relative closeness for float32 results against float64 references. */
function expectClose(got: ArrayLike<number>, want: readonly number[], tol = 2e-6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
}

const p0 = [0.5, -1.5, 2.0, 0.0];
/** Fixed gradients for three steps (independent of p, so the reference needs no model). */
const gradSteps = [
  [0.1, -0.2, 0.3, 0.0],
  [-0.05, 0.4, 0.25, 1e-3],
  [0.2, -0.1, -0.6, -2.0],
];

function setup(): { params: Map<string, Parameter>; grads: (step: number) => Map<string, Tensor> } {
  const params = new Map([['w', new Parameter(tensor(p0), 'w')]]);
  return { params, grads: (step) => new Map([['w', tensor(gradSteps[step])]]) };
}

function run(optimizer: AdamW | SGD, params: Map<string, Parameter>, grads: (step: number) => Map<string, Tensor>, steps: number[]): number[] {
  for (const s of steps) {
    const g = grads(s);
    optimizer.step(g);
    dispose(g);
  }
  return Array.from(params.get('w')!.value.dataSync());
}

describe('AdamW', () => {
  it('has torch defaults', () => {
    const opt = new AdamW(new Map());
    expect([opt.lr, opt.betas, opt.eps, opt.weightDecay]).toEqual([1e-3, [0.9, 0.999], 1e-8, 1e-2]);
  });

  it('matches torch.optim.AdamW over 3 steps', () => {
    const lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
    // The update of torch.optim.AdamW, elementwise in float64:
    //   p ← p·(1 − lr·wd); m ← b1·m + (1−b1)·g; v ← b2·v + (1−b2)·g²
    //   p ← p − lr/(1 − b1ᵗ) · m / (√v/√(1 − b2ᵗ) + eps)
    const p = [...p0], m = [0, 0, 0, 0], v = [0, 0, 0, 0];
    for (let t = 1; t <= 3; t++) {
      for (let i = 0; i < 4; i++) {
        const g = gradSteps[t - 1][i];
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        p[i] -= (lr / (1 - b1 ** t)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps);
      }
    }
    // Step 1 by hand for element 0: m̂ = 0.1, √v̂ = 0.1, so p = 0.5·0.99 − 0.1·0.1/(0.1 + 1e-8) ≈ 0.395.
    const { params, grads } = setup();
    const opt = new AdamW(params, { lr, betas: [b1, b2], eps, weightDecay: wd });
    expectClose(run(opt, params, grads, [0]).slice(0, 1), [0.5 * 0.99 - 0.1 * (0.1 / (0.1 + 1e-8))]);
    expectClose(run(opt, params, grads, [1, 2]), p);
    expect(opt.stepCount).toBe(3);
    opt.dispose();
    params.get('w')!.dispose();
  });

  it('resumes exactly from its state dict (through safetensors)', () => {
    const a = setup();
    const optA = new AdamW(a.params, { lr: 0.05 });
    run(optA, a.params, a.grads, [0, 1]);

    // Save parameters and optimizer state as a trainer would, then rebuild from them.
    const saved = optA.stateDict();
    expect(Object.keys(saved.state).sort()).toEqual(['w.exp_avg', 'w.exp_avg_sq']);
    const file = serializeSafetensors({ ...saved.state, w: a.params.get('w')!.value }, { step: String(saved.step) });
    dispose(saved);
    const loaded = loadSafetensors(file);
    const b = setup();
    b.params.get('w')!.assign(loaded.w);
    const optB = new AdamW(b.params, { lr: 0.05 });
    optB.loadStateDict({ step: 2, state: { 'w.exp_avg': loaded['w.exp_avg'], 'w.exp_avg_sq': loaded['w.exp_avg_sq'] } });
    dispose([loaded['w.exp_avg'], loaded['w.exp_avg_sq']]); // the optimizer keeps its own handles

    // A fresh optimizer from the same parameters: what a resume that dropped the state would do.
    const c = setup();
    c.params.get('w')!.assign(tensor(Array.from(b.params.get('w')!.value.dataSync())));
    const optC = new AdamW(c.params, { lr: 0.05 });

    const resumed = run(optB, b.params, b.grads, [2]);
    expect(resumed).toEqual(run(optA, a.params, a.grads, [2]));
    expect(optB.stepCount).toBe(3);
    expect(run(optC, c.params, c.grads, [2])).not.toEqual(resumed);
    for (const x of [optA, optB, optC]) x.dispose();
    for (const x of [a, b, c]) x.params.get('w')!.dispose();
  });

  it('refuses a state dict that does not fit, changing nothing', () => {
    const { params, grads } = setup();
    const opt = new AdamW(params);
    run(opt, params, grads, [0]);
    const good = opt.stateDict();
    const wrong = tensor([1, 2]);
    expect(() => opt.loadStateDict({ step: 5, state: { ...good.state, 'w.exp_avg': wrong } })).toThrow(
      /'w\.exp_avg' is float32 \[2\], expected float32 \[4\]/,
    );
    expect(() => opt.loadStateDict({ step: 5, state: { 'v.exp_avg': wrong } })).toThrow(CheckpointError);
    expect(() => opt.loadStateDict({ step: 5, state: { 'w.exp_avg': good.state['w.exp_avg'] } })).toThrow(/'w' lacks w\.exp_avg_sq/);
    expect(opt.stepCount).toBe(1);
    dispose([good, wrong]);
    opt.dispose();
    params.get('w')!.dispose();
  });

  it('a loop of steps does not grow memory', () => {
    const { params, grads } = setup();
    const opt = new AdamW(params);
    const g = grads(0);
    opt.step(g); // creates the moments
    const after = memory();
    for (let i = 0; i < 20; i++) opt.step(g);
    expect(memory()).toEqual(after);
    dispose(g);
    opt.dispose();
    params.get('w')!.dispose();
  });

  it('checks gradient names and shapes', () => {
    const { params } = setup();
    const opt = new AdamW(params);
    const bad = tensor([1]);
    expect(() => opt.step(new Map([['w', bad]]))).toThrow(/gradient of 'w' is \[1\], parameter is \[4\]/);
    expect(() => opt.step(new Map([['q', bad]]))).toThrow(ValueError);
    expect(opt.stepCount).toBe(0);
    bad.dispose();
    params.get('w')!.dispose();
  });
});

describe('SGD', () => {
  /** torch.optim.SGD in float64: d = g + wd·p; b = d (first) or μ·b + (1−τ)·d; p ← p − lr·(nesterov ? d + μ·b : b). */
  function reference(lr: number, mu: number, tau: number, wd: number, nesterov: boolean): number[] {
    const p = [...p0];
    let b: number[] | null = null;
    for (const g of gradSteps) {
      const d = g.map((gi, i) => gi + wd * p[i]);
      b = b === null ? d : b.map((bi, i) => mu * bi + (1 - tau) * d[i]);
      for (let i = 0; i < 4; i++) p[i] -= lr * (mu === 0 ? d[i] : nesterov ? d[i] + mu * b[i] : b[i]);
    }
    return p;
  }

  const cases: [string, { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }][] = [
    ['plain', { lr: 0.1 }],
    ['momentum', { lr: 0.1, momentum: 0.9 }],
    ['momentum, dampening and weight decay', { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }],
    ['nesterov', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 }],
  ];
  for (const [label, options] of cases) {
    it(`matches torch over 3 steps: ${label}`, () => {
      const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
      const want = reference(lr, momentum, dampening, weightDecay, nesterov);
      const { params, grads } = setup();
      const opt = new SGD(params, options);
      expectClose(run(opt, params, grads, [0, 1, 2]), want);
      opt.dispose();
      params.get('w')!.dispose();
    });
  }

  it('hand-computed momentum steps for one element', () => {
    // p = 0.5, lr 0.1, μ 0.9, grads 0.1, −0.05, 0.2: b = 0.1, 0.04, 0.236; p = 0.49, 0.486, 0.4624.
    const { params, grads } = setup();
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
    expectClose([run(opt, params, grads, [0])[0]], [0.49]);
    expectClose([run(opt, params, grads, [1])[0]], [0.486]);
    expectClose([run(opt, params, grads, [2])[0]], [0.4624]);
    expect(Object.keys(opt.stateDict().state)).toEqual(['w.momentum_buffer']);
    opt.dispose();
    params.get('w')!.dispose();
  });

  it('refuses nesterov without momentum', () => {
    expect(() => new SGD(new Map(), { nesterov: true })).toThrow(/nesterov needs momentum > 0/);
  });
});

describe('clipGradNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) when the global norm is larger', () => {
    const before = memory().liveTensors;
    const grads = new Map([['a', tensor([3, 4])], ['b', tensor([[12]])]]); // global norm 13
    const norm = clipGradNorm(grads, 6.5);
    expect(norm.dataSync()[0]).toBe(13);
    const scale = 6.5 / (13 + 1e-6);
    expectClose(grads.get('a')!.dataSync(), [3 * scale, 4 * scale]);
    expectClose(grads.get('b')!.dataSync(), [12 * scale]);
    expect(grads.get('b')!.shape).toEqual([1, 1]);
    dispose([grads, norm]);
    expect(memory().liveTensors).toBe(before);
  });

  it('leaves gradients under the limit as they are and works on arrays', () => {
    const grads = [tensor([3, 4]), tensor([12])];
    const norm = clipGradNorm(grads, 20);
    expect(norm.dataSync()[0]).toBe(13);
    expect(Array.from(grads[0].dataSync())).toEqual([3, 4]);
    expect(Array.from(grads[1].dataSync())).toEqual([12]);
    dispose([grads, norm]);
  });
});

describe('warmupCosine', () => {
  it('warms up linearly, then follows a half cosine to minLr', () => {
    const lr = warmupCosine({ lr: 1, warmupSteps: 10, totalSteps: 110, minLr: 0.1 });
    expect(lr(0)).toBe(0);
    expect(lr(5)).toBeCloseTo(0.5, 12);
    expect(lr(10)).toBeCloseTo(1, 12);
    // Halfway through the decay: minLr + (lr − minLr)·½(1 + cos(π/2)) = 0.55.
    expect(lr(60)).toBeCloseTo(0.55, 12);
    // A quarter through: 0.1 + 0.9·½(1 + cos(π/4)).
    expect(lr(35)).toBeCloseTo(0.1 + 0.45 * (1 + Math.SQRT1_2), 12);
    expect(lr(110)).toBe(0.1);
    expect(lr(500)).toBe(0.1);
    expect(warmupCosine({ lr: 3e-4, warmupSteps: 0, totalSteps: 10 })(0)).toBeCloseTo(3e-4, 15);
    expect(() => warmupCosine({ lr: 1, warmupSteps: 20, totalSteps: 10 })).toThrow(/warmupSteps ≤ totalSteps/);
  });
});
