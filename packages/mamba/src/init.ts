/**
 * The reference initialization of a fresh Mamba LM (state-spaces/mamba: `Mamba.__init__` in
 * mamba_simple.py and `_init_weights` in mixer_seq_simple.py), computed on the host from a seeded
 * generator so a seed gives the same model everywhere.
 */
import { Generator } from '@ssmjs/core';
import type { MambaConfig } from './config';
import { layerPrefix, parameterShapes, type HostWeight } from './weights';

export function initialWeights(config: MambaConfig, seed: number): Map<string, HostWeight> {
  const g = new Generator(seed);
  const shapes = parameterShapes(config, { mixers: !config.isLti });
  const out = new Map<string, HostWeight>();
  const put = (name: string, fill: (data: Float32Array) => void): void => {
    const shape = shapes.get(name)!;
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(data);
    out.set(name, { shape, data });
  };
  const uniform = (bound: number) => (d: Float32Array) => {
    for (let i = 0; i < d.length; i++) d[i] = (2 * g.uniform() - 1) * bound;
  };
  const constant = (v: number) => (d: Float32Array) => d.fill(v);
  // PyTorch's default Linear / Conv1d init, kaiming_uniform(a = √5): U(±1/√fan_in).
  const torchDefault = (fanIn: number) => uniform(1 / Math.sqrt(fanIn));

  const { dInner, dState, dConv, dtRank, dModel, nLayer } = config;
  put('backbone.embeddings.weight', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = config.initializerRange * g.normal();
  });
  for (let layer = 0; layer < nLayer; layer++) {
    const p = layerPrefix(layer);
    put(`${p}norm.weight`, constant(1));
    // An LTI mixer (@ssmjs/s4's LtiMixer) initializes itself when the model builds it.
    if (config.isLti) continue;
    // S4D-real: A = −(1, 2, …, N) in every channel, stored as log.
    put(`${p}mixer.A_log`, (d) => {
      for (let c = 0; c < dInner; c++) for (let n = 0; n < dState; n++) d[c * dState + n] = Math.log(n + 1);
    });
    put(`${p}mixer.D`, constant(1));
    put(`${p}mixer.in_proj.weight`, torchDefault(dModel));
    // mixer_seq_simple zeroes Linear biases (all but dt_proj's).
    if (config.bias) put(`${p}mixer.in_proj.bias`, constant(0));
    put(`${p}mixer.conv1d.weight`, torchDefault(dConv));
    if (config.convBias) put(`${p}mixer.conv1d.bias`, torchDefault(dConv));
    put(`${p}mixer.x_proj.weight`, torchDefault(dInner));
    const dtStd = config.dtScale / Math.sqrt(dtRank);
    put(`${p}mixer.dt_proj.weight`, config.dtInit === 'constant' ? constant(dtStd) : uniform(dtStd));
    // Δ = softplus(bias) starts log-uniform in [dtMin, dtMax] (floored): store softplus⁻¹(Δ).
    put(`${p}mixer.dt_proj.bias`, (d) => {
      const [lo, hi] = [Math.log(config.dtMin), Math.log(config.dtMax)];
      for (let i = 0; i < d.length; i++) {
        const dt = Math.max(Math.exp(lo + g.uniform() * (hi - lo)), config.dtInitFloor);
        d[i] = dt + Math.log(-Math.expm1(-dt));
      }
    });
    // GPT-2's scheme: the residual branch's last projection shrinks with depth (one residual per layer).
    const outScale = config.rescalePrenormResidual ? 1 / Math.sqrt(nLayer) : 1;
    put(`${p}mixer.out_proj.weight`, uniform(outScale / Math.sqrt(dInner)));
    if (config.bias) put(`${p}mixer.out_proj.bias`, constant(0));
  }
  put('backbone.norm_f.weight', constant(1));
  return out;
}
