/**
 * The webgpu kernels against the cpu kernel on shapes that stress their tiling: odd channel counts,
 * L = 1, L longer than a forward tile (1024 steps) and not a multiple of the chunk, N other than 16,
 * checkpoint spacings longer than a backward tile (512 steps: the backward makes denser ones), more
 * channels than one backward block sums (32 at N = 16). Outputs, lastState and every gradient; also
 * with small tiles (many tile boundaries), and through the channel-parallel kernels (which 'auto' keeps
 * for large batch × d_inner) on every shape, with and without subgroups, and with small channel blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, computeGradients, dispose, keep, mul, setBackend, sum, toBackend, type Tensor } from '@ssmjs/core';
import { selectiveScan } from '@ssmjs/selective-scan';
import { maxRelativeError, randomScanInputs, type RandomScanInputs } from './helpers';
import { useBackend } from './backends';
import { setScanTiling } from '../src/kernels/webgpu';

const TOLERANCE = 2e-5;

// [batch, dim, N, L, chunkSize]
const SHAPES: [number, number, number, number, number][] = [
  [1, 1, 3, 1, 64],
  [2, 3, 5, 13, 4],
  [1, 35, 16, 70, 64],
  [2, 2, 16, 1100, 64],
  [1, 3, 4, 600, 700],
  [1, 2, 7, 257, 1],
  // N = 6: two invocations per channel of 3 states, so with subgroups of 4 the backward's shuffle
  // reduction takes one exchange step (subgroups of 32 take three; the GPU bench checks those).
  [2, 9, 6, 40, 8],
  // Checkpoints every 32 steps, kept (a multiple of the staged backward's tile), the last tile partial.
  [3, 7, 16, 36, 32],
];

const NAMES = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias', 'initialState'] as const;

/** y, lastState and the gradients of a loss that reaches both, for the inputs as given. */
async function scanAndGradients(x: RandomScanInputs, chunkSize: number, optional: boolean): Promise<Float32Array[]> {
  const args = optional ? x : { u: x.u, delta: x.delta, A: x.A, B: x.B, C: x.C };
  // Without softplus the random Δ is often negative, and exp(Δ·A) grows: fine for a few steps, overflow
  // over hundreds. Long plain runs keep the softplus.
  const softplus = optional || x.u.shape[2] > 16;
  const sources = optional ? NAMES.map((k) => x[k]) : [x.u, x.delta, x.A, x.B, x.C];
  const outputs: Tensor[] = [];
  const { value, grads } = computeGradients(() => {
    const out = selectiveScan({ ...args, deltaSoftplus: softplus, returnLastState: true, chunkSize });
    // Kept: computeGradients frees everything but the value and the gradients.
    outputs.push(keep(out.y), keep(out.lastState!));
    return add(sum(mul(out.y, out.y)), sum(mul(out.lastState!, 0.5)));
  }, sources);
  const results: Float32Array[] = [];
  for (const t of [...outputs, ...grads]) results.push((await t.data()) as Float32Array);
  dispose([value, grads, outputs]);
  return results;
}

async function moveTo(x: RandomScanInputs, backend: string): Promise<RandomScanInputs> {
  const moved: Partial<Record<keyof RandomScanInputs, Tensor>> = {};
  for (const k of NAMES) moved[k] = await toBackend(x[k], backend);
  return moved as RandomScanInputs;
}

// Small tiles (forward 128 steps, backward 128) put many tile boundaries into short sequences.
// The channel-parallel kernels on every shape (by default they take only large batch × d_inner), also
// with small blocks of channels (several blocks, the last partly past d_inner).
const TILINGS = {
  default: {},
  small: { forwardWorkgroup: 128, forwardItems: 1, backwardWorkgroup: 128, backwardItems: 1 },
  channels: { kernels: 'channels' as const },
  'channels, one invocation per channel': { kernels: 'channels' as const, channelGroup: 1 },
  'channels, not staged': { kernels: 'channels' as const, channelStaged: false },
  // (64-step stages: SwiftShader's shader compiler ran out of time and memory on the unrolled kernel.)
  'channels, 32-step stages': { kernels: 'channels' as const, stagedTile: 32, stagedSteps: 16 },
  'channels, 4-step groups': { kernels: 'channels' as const, stagedSteps: 4 },
  // 8 invocations per channel (N / 8 states each where N allows): on SwiftShader's 4-wide subgroups y is
  // summed in workgroup memory; the GPU bench checks the three-step shuffle.
  'channels, 8 invocations per channel': { kernels: 'channels' as const, channelGroup: 8 },
  // 8-step tiles: several tiles and checkpoints inside short sequences; 2 invocations per channel (N / 2
  // states each) and 8 channels per workgroup (several blocks of channels, the last partly past d_inner).
  'channels, small tiles': { kernels: 'channels' as const, stagedWorkgroup: 16, channelGroup: 2, stagedTile: 8 },
  // (These two keep the unstaged backward: small blocks would otherwise take the staged one wherever L % 4 = 0.)
  'channels, small blocks': { kernels: 'channels' as const, channelWorkgroup: 32, channelBlock: 4, channelSteps: 16, stagedWorkgroup: 16, stagedBackward: false },
  'channels, 8-step backward blocks': { kernels: 'channels' as const, channelBlock: 16, channelBackwardSteps: 8, stagedBackward: false },
  'channels, no shuffle reduction': { kernels: 'channels' as const, channelShuffles: false, stagedShuffles: false },
  // The staged backward where L is a multiple of 4, in blocks small enough for SwiftShader's 32 KB of
  // workgroup memory: 4 invocations per channel (dB, dC summed in workgroup memory only: one channel per
  // 4-wide subgroup), with the default 8-step tiles and blocks, and with 16-step tiles of 4-step blocks and
  // the next tile's loads in flight; and 2 (one shuffle exchange between channels; 16-step tiles). The GPU
  // bench checks the default's three exchanges on 32-wide subgroups. (Longer tiles for so few invocations
  // unroll into shaders that SwiftShader's compiler does not finish.)
  'channels, staged backward': { kernels: 'channels' as const, channelBlock: 4 },
  'channels, staged backward, 16-step tiles': {
    kernels: 'channels' as const, channelBlock: 4, stagedBackwardTile: 16, stagedBackwardSteps: 4, stagedBackwardPrefetch: true,
  },
  'channels, staged backward, 2 invocations per channel': { kernels: 'channels' as const, channelBlock: 16, stagedBackwardGroup: 2, stagedBackwardTile: 16 },
};

describe.each([
  ['webgpu', 'default'],
  ['webgpu-no-subgroups', 'default'],
  ['webgpu', 'small'],
  ['webgpu', 'channels'],
  ['webgpu-no-subgroups', 'channels'],
  ['webgpu', 'channels, small blocks'],
  ['webgpu', 'channels, one invocation per channel'],
  ['webgpu', 'channels, not staged'],
  ['webgpu-no-subgroups', 'channels, not staged'],
  ['webgpu', 'channels, 32-step stages'],
  ['webgpu', 'channels, 4-step groups'],
  ['webgpu', 'channels, 8 invocations per channel'],
  ['webgpu', 'channels, small tiles'],
  ['webgpu-no-subgroups', 'channels, small tiles'],
  ['webgpu', 'channels, 8-step backward blocks'],
  ['webgpu', 'channels, no shuffle reduction'],
  ['webgpu', 'channels, staged backward'],
  ['webgpu', 'channels, staged backward, 16-step tiles'],
  ['webgpu', 'channels, staged backward, 2 invocations per channel'],
] as const)('%s kernels (%s tiling) vs cpu', (backend, tiling) => {
  beforeAll(async () => {
    await useBackend(backend);
    setScanTiling(TILINGS[tiling]);
  });
  afterAll(() => setScanTiling());

  it.each(SHAPES.filter((shape) => tiling !== 'small' || shape[3] > 100).flatMap((shape) => [true, false].map((optional) => [shape.join('×'), optional, shape] as const)))(
    'batch×dim×N×L×chunk %s, optional inputs: %s',
    async (_, optional, [batch, dim, N, L, chunkSize]) => {
      await setBackend('cpu');
      const x = randomScanInputs(batch, dim, N, L, batch * 1000 + dim * 10 + L);
      const want = await scanAndGradients(x, chunkSize, optional);
      await setBackend(backend);
      const onGpu = await moveTo(x, backend);
      const got = await scanAndGradients(onGpu, chunkSize, optional);
      const labels = ['y', 'lastState', ...(optional ? NAMES : NAMES.slice(0, 5)).map((k) => `gradient of ${k}`)];
      expect(got.length).toBe(labels.length);
      for (let i = 0; i < labels.length; i++) expect(maxRelativeError(got[i], want[i]), labels[i]).toBeLessThan(TOLERANCE);
      dispose([x, onGpu]);
    },
  );
});
