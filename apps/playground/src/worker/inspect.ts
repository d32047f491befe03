/**
 * Looking inside a MambaLM: Δ per token and channel, and the size of the SSM state over time.
 *
 * @ssmjs/mamba does not hand out its mixer's intermediates, so Δ is recomputed here from the model's own
 * weights with core ops, the same math as the mixer's parallel path:
 *   in_proj → x;  causal depthwise conv → SiLU;  x_proj → dt (low rank);  dt_proj + bias → softplus = Δ.
 * To reach layer i+1, each layer's full output (selective scan, gate, out_proj, residual) is computed too;
 * `hiddenAfterLayers` exposes that path so a test can check it against `model.forward`.
 * The state norms come from the model itself: its recurrent `step` with a cache, token by token.
 */
import {
  add, conv1d, embedding, exp, matmul, neg, reshape, rmsNorm, silu, slice, softplus, sqrt, square, sum, tensor, tidy, transpose, keep,
  type Tensor,
} from '@ssmjs/core';
import type { MambaLM } from '@ssmjs/mamba';
import { selectiveScan } from '@ssmjs/selective-scan';

export const DELTA_SOURCE =
  'Δ recomputed in the worker from the checkpoint weights with core ops (in_proj → conv → SiLU → x_proj → dt_proj → softplus), the mixer\u2019s own math';

/** Δ exists per token only in the selective mixer; configs with an LTI mixer (S4/S4D in the block) have none. */
function checkSelective(model: MambaLM): void {
  const mixer = (model.config as { mixer?: string }).mixer ?? 'mamba';
  if (mixer !== 'mamba') {
    throw new Error(`inspect: this model's blocks use the '${mixer}' mixer, whose Δ does not depend on the input; per-token Δ needs the selective (Mamba) mixer`);
  }
}

function weightOf(model: MambaLM, name: string): Tensor {
  const p = model.namedParameters().get(name);
  if (!p) throw new Error(`inspect: the model has no parameter '${name}'`);
  return p.value;
}

function optionalWeight(model: MambaLM, name: string): Tensor | undefined {
  return model.namedParameters().get(name)?.value;
}

/**
 * Runs the parallel path over one sequence of ids and returns, per layer, Δ as [L, dInner] tensors
 * (kept: the caller disposes them) and the hidden state after the last layer, before the final norm.
 */
export function hiddenAfterLayers(model: MambaLM, ids: readonly number[]): { deltas: Tensor[]; hidden: Tensor } {
  checkSelective(model);
  const { dInner, dState, dtRank, dConv, nLayer, layerNormEpsilon } = model.config;
  const L = ids.length;
  const deltas: Tensor[] = [];
  const hidden = tidy(() => {
    let h = embedding(weightOf(model, 'backbone.embeddings.weight'), tensor(Int32Array.from(ids), [1, L], 'int32'));
    for (let i = 0; i < nLayer; i++) {
      const p = `backbone.layers.${i}.mixer.`;
      const normed = rmsNorm(h, weightOf(model, `backbone.layers.${i}.norm.weight`), layerNormEpsilon);
      let xz = matmul(normed, weightOf(model, `${p}in_proj.weight`), { transposeB: true });
      const inBias = optionalWeight(model, `${p}in_proj.bias`);
      if (inBias) xz = add(xz, inBias);
      const channelsFirst = transpose(xz, [0, 2, 1]); // [1, 2·dInner, L]
      const x = slice(channelsFirst, [0, 0, 0], [1, dInner, L]);
      const z = slice(channelsFirst, [0, dInner, 0], [1, dInner, L]);
      const xc = silu(conv1d(x, reshape(weightOf(model, `${p}conv1d.weight`), [dInner, dConv]), optionalWeight(model, `${p}conv1d.bias`)));
      const xDbl = matmul(weightOf(model, `${p}x_proj.weight`), xc); // [1, dtRank + 2N, L]
      const dtLow = slice(xDbl, [0, 0, 0], [1, dtRank, L]);
      const B = slice(xDbl, [0, dtRank, 0], [1, dState, L]);
      const C = slice(xDbl, [0, dtRank + dState, 0], [1, dState, L]);
      const dt = matmul(weightOf(model, `${p}dt_proj.weight`), dtLow); // [1, dInner, L], bias not yet added
      const dtBias = weightOf(model, `${p}dt_proj.bias`);
      const delta = softplus(add(dt, reshape(dtBias, [dInner, 1])));
      deltas.push(keep(transpose(reshape(delta, [dInner, L]), [1, 0])));

      const { y } = selectiveScan({
        u: xc, delta: dt, A: neg(exp(weightOf(model, `${p}A_log`))), B, C, D: weightOf(model, `${p}D`), z,
        deltaBias: dtBias, deltaSoftplus: true,
      });
      let out = matmul(y, weightOf(model, `${p}out_proj.weight`), { transposeA: true, transposeB: true });
      const outBias = optionalWeight(model, `${p}out_proj.bias`);
      if (outBias) out = add(out, outBias);
      h = add(h, out);
    }
    return h;
  });
  return { deltas, hidden };
}

/** Δ of every layer for a sequence, each [L × dInner] row-major on the host. */
export async function deltasOf(model: MambaLM, ids: readonly number[]): Promise<Float32Array[]> {
  const { deltas, hidden } = hiddenAfterLayers(model, ids);
  hidden.dispose();
  try {
    return await Promise.all(deltas.map(async (d) => Float32Array.from(await d.data())));
  } finally {
    for (const d of deltas) d.dispose();
  }
}

/** ‖h_t‖ of every layer's SSM state after each token, from the model's recurrent step: [layer][t]. */
export async function stateNormsOf(model: MambaLM, ids: readonly number[]): Promise<Float32Array[]> {
  const { nLayer } = model.config;
  const norms = Array.from({ length: nLayer }, () => new Float32Array(ids.length));
  const cache = model.createCache(1);
  try {
    for (let t = 0; t < ids.length; t++) {
      const token = tensor(Int32Array.of(ids[t]), [1], 'int32');
      model.step(token, cache).dispose();
      token.dispose();
      const perLayer = tidy(() => cache.ssm.map((s) => sqrt(sum(square(s)))));
      for (let i = 0; i < nLayer; i++) {
        norms[i][t] = (await perLayer[i].data())[0];
        perLayer[i].dispose();
      }
    }
  } finally {
    cache.dispose();
  }
  return norms;
}
