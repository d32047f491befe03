/**
 * The continuous-time side: HiPPO matrices and the S4D convolution kernels their diagonal forms give, from
 * @ssmjs/hippo's float64 numerics, plus the kernels the live-trained S4D baseline has learned.
 */
import { Generator, noGrad, tidy } from '@ssmjs/core';
import { hippo, s4dInit, s4dKernel, type S4DKind } from '@ssmjs/hippo';
import type { Theory } from '../protocol';
import type { MambaLM } from '@ssmjs/mamba';
import { ltiMixerOf } from './train';

/** Kernels of one channel with N = 16 (few enough modes to see their oscillations) and Δ = 4/L; C ~ N(0, 1), seeded. */
function initKernels(L: number): Theory['kernels'] {
  const N = 16;
  const g = new Generator(7);
  const C = { re: Float64Array.from({ length: N / 2 }, () => g.normal()), im: Float64Array.from({ length: N / 2 }, () => g.normal()) };
  const kinds: [S4DKind, string][] = [
    ['legs', 'S4D-LegS'],
    ['inv', 'S4D-Inv'],
    ['lin', 'S4D-Lin'],
  ];
  return kinds.map(([kind, name]) => {
    const { A, B } = s4dInit(kind, N);
    return { name, values: s4dKernel({ A, B, C, dt: 4 / L, L, method: 'zoh' }) };
  });
}

/** The first channels' kernels of the trained baseline's first mixer, [L] each. */
async function trainedKernels(model: MambaLM | null, L: number): Promise<Theory['trainedKernels']> {
  if (!model) return [];
  const kernel = noGrad(() => tidy(() => ltiMixerOf(model, 0).ssm.kernel(L)));
  try {
    const values = Float32Array.from(await kernel.data());
    const channels = Math.min(4, kernel.shape[0]);
    return Array.from({ length: channels }, (_, h) => ({ name: `channel ${h}`, values: values.slice(h * L, (h + 1) * L) }));
  } finally {
    kernel.dispose();
  }
}

export async function theoryPlots(hippoN: number, kernelLength: number, trained: MambaLM | null): Promise<Theory> {
  const legs = hippo('legs', hippoN);
  const legt = hippo('legt', hippoN);
  return {
    hippoN,
    legsA: legs.A,
    legsB: legs.B,
    legtA: legt.A,
    kernels: initKernels(kernelLength),
    trainedKernels: await trainedKernels(trained, kernelLength),
  };
}
