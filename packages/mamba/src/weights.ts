/**
 * The parameter names and shapes of a Mamba LM (Hugging Face state-dict names), and the checks a set of
 * checkpoint tensors must pass before any of them is handed to a model.
 */
import { CheckpointError, shapeStr } from '@ssmjs/core';
import type { MambaConfig } from './config';
import { ltiMixerShapes } from './lti';

export const EMBEDDING = 'backbone.embeddings.weight';
export const NORM_F = 'backbone.norm_f.weight';
/** mamba_ssm spells the embedding without the s. */
const MAMBA_SSM_EMBEDDING = 'backbone.embedding.weight';
const LM_HEAD = 'lm_head.weight';

export const layerPrefix = (i: number): string => `backbone.layers.${i}.`;

/** Every parameter of the model with its shape, in the order of the model (embedding, layers, norm_f). */
export function parameterShapes(config: MambaConfig, options: { mixers?: boolean } = {}): Map<string, number[]> {
  const { dModel, dInner, dState, dConv, dtRank, vocabSize, nLayer, bias, convBias } = config;
  const shapes = new Map<string, number[]>();
  shapes.set(EMBEDDING, [vocabSize, dModel]);
  // An LTI mixer's parameters are whatever @ssmjs/s4's LtiMixer registers (same for every layer).
  const lti = config.isLti ? (options.mixers === false ? new Map<string, number[]>() : ltiMixerShapes(config)) : null;
  // Without the gate, in_proj makes x only.
  const inProjRows = (config.gated ? 2 : 1) * dInner;
  for (let i = 0; i < nLayer; i++) {
    const p = layerPrefix(i);
    shapes.set(`${p}norm.weight`, [dModel]);
    if (lti) {
      for (const [name, shape] of lti) shapes.set(`${p}mixer.${name}`, shape);
      continue;
    }
    shapes.set(`${p}mixer.A_log`, [dInner, dState]);
    shapes.set(`${p}mixer.D`, [dInner]);
    shapes.set(`${p}mixer.in_proj.weight`, [inProjRows, dModel]);
    if (bias) shapes.set(`${p}mixer.in_proj.bias`, [inProjRows]);
    // PyTorch's Conv1d keeps an in-channels-per-group axis of 1 in the weight.
    shapes.set(`${p}mixer.conv1d.weight`, [dInner, 1, dConv]);
    if (convBias) shapes.set(`${p}mixer.conv1d.bias`, [dInner]);
    shapes.set(`${p}mixer.x_proj.weight`, [dtRank + 2 * dState, dInner]);
    shapes.set(`${p}mixer.dt_proj.weight`, [dInner, dtRank]);
    shapes.set(`${p}mixer.dt_proj.bias`, [dInner]);
    shapes.set(`${p}mixer.out_proj.weight`, [dModel, dInner]);
    if (bias) shapes.set(`${p}mixer.out_proj.bias`, [dModel]);
  }
  shapes.set(NORM_F, [dModel]);
  return shapes;
}

/** A tensor as a checkpoint holds it, decoded to host memory. */
export interface HostWeight {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * Checks checkpoint tensors against the config and returns them under Hugging Face names. Accepts
 * mamba_ssm's `backbone.embedding.weight`, and an explicit `lm_head.weight` only when it equals the
 * embedding (the head is tied). Every problem is collected, so one error names all missing, unexpected
 * and mis-shaped tensors at once.
 */
export function checkWeights(config: MambaConfig, weights: ReadonlyMap<string, HostWeight>): Map<string, HostWeight> {
  const renamed = new Map(weights);
  if (renamed.has(MAMBA_SSM_EMBEDDING)) {
    if (renamed.has(EMBEDDING)) {
      throw new CheckpointError(`Mamba checkpoint holds both '${EMBEDDING}' and '${MAMBA_SSM_EMBEDDING}'; expected one of them`);
    }
    renamed.set(EMBEDDING, renamed.get(MAMBA_SSM_EMBEDDING)!);
    renamed.delete(MAMBA_SSM_EMBEDDING);
  }
  const head = renamed.get(LM_HEAD);
  renamed.delete(LM_HEAD);

  const expected = parameterShapes(config);
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const w = renamed.get(name);
    if (!w) problems.push(`missing '${name}' ${shapeStr(shape)}`);
    else if (!sameShape(w.shape, shape)) problems.push(`'${name}' has shape ${shapeStr(w.shape)}, expected ${shapeStr(shape)}`);
  }
  for (const [name, w] of renamed) {
    if (!expected.has(name)) problems.push(`unexpected '${name}' ${shapeStr(w.shape)}`);
  }
  if (problems.length > 0) {
    throw new CheckpointError(`Mamba checkpoint does not fit the config (${describeConfig(config)}):\n  ${problems.join('\n  ')}`);
  }

  if (head) {
    const embedding = renamed.get(EMBEDDING)!;
    if (!sameShape(head.shape, embedding.shape)) {
      throw new CheckpointError(`'${LM_HEAD}' has shape ${shapeStr(head.shape)}, expected the embedding's ${shapeStr(embedding.shape)} (the head is tied)`);
    }
    const at = head.data.findIndex((v, i) => v !== embedding.data[i]);
    if (at >= 0) {
      throw new CheckpointError(
        `'${LM_HEAD}' differs from '${EMBEDDING}' at element ${at} (${head.data[at]} vs ${embedding.data[at]}); ssm.js ties the head to the embedding, so an untied head cannot be loaded`,
      );
    }
  }
  // In the model's own order (embedding, layers, norm_f), whatever order the files had.
  return new Map([...expected.keys()].map((name) => [name, renamed.get(name)!]));
}

function describeConfig(c: MambaConfig): string {
  const arch = c.transformersCompatible ? '' : `mixer ${c.mixer}${c.gated ? '' : ' (no gate)'}, `;
  return `${arch}d_model ${c.dModel}, n_layer ${c.nLayer}, vocab ${c.vocabSize}, d_inner ${c.dInner}, d_state ${c.dState}, d_conv ${c.dConv}, dt_rank ${c.dtRank}, bias ${c.bias}, conv_bias ${c.convBias}`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
