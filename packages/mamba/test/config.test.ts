import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, MambaConfig } from '@ssmjs/mamba';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}/config.json`, import.meta.url), 'utf8'));

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('MambaConfig', () => {
  it('reads a Hugging Face config.json', () => {
    const c = MambaConfig.fromJSON(fixture('small'));
    expect(c).toMatchObject({ dModel: 64, nLayer: 3, vocabSize: 256, dState: 16, dConv: 4, expand: 2, dInner: 128, dtRank: 4 });
    expect(c).toMatchObject({ convBias: true, bias: false, layerNormEpsilon: 1e-5, residualInFp32: true, initializerRange: 0.1 });
  });

  it('reads a mamba_ssm config.json: dt_rank "auto" and vocabulary padded to the multiple', () => {
    const ssm = MambaConfig.fromJSON(fixture('tiny-mamba-ssm'));
    const hf = MambaConfig.fromJSON(fixture('tiny'));
    expect(ssm.unpaddedVocabSize).toBe(60);
    expect(ssm.vocabSize).toBe(64);
    expect(ssm.dtRank).toBe(1);
    for (const key of ['dModel', 'nLayer', 'vocabSize', 'dState', 'dConv', 'dInner', 'dtRank', 'convBias', 'bias'] as const) {
      expect(ssm[key], key).toBe(hf[key]);
    }
  });

  it('"auto" dt rank is ceil(d_model / 16); HF configs are not padded', () => {
    expect(new MambaConfig({ dModel: 768, nLayer: 1, vocabSize: 10 }).dtRank).toBe(48);
    expect(new MambaConfig({ dModel: 33, nLayer: 1, vocabSize: 10 }).dtRank).toBe(3);
    expect(MambaConfig.fromHF({ hidden_size: 16, num_hidden_layers: 1, vocab_size: 50277 }).vocabSize).toBe(50277);
    expect(MambaConfig.fromMambaSsm({ d_model: 16, n_layer: 1, vocab_size: 50277 }).vocabSize).toBe(50280);
    expect(MambaConfig.fromMambaSsm({ d_model: 16, n_layer: 1, vocab_size: 50280 }).vocabSize).toBe(50280);
  });

  it('toHF round-trips through fromHF, with the integers transformers writes', () => {
    const c = MambaConfig.fromJSON(fixture('tiny-mamba-ssm'));
    const hf = c.toHF();
    expect(hf).toMatchObject({ model_type: 'mamba', vocab_size: 64, time_step_rank: 1, intermediate_size: 32, hidden_size: 16 });
    const back = MambaConfig.fromJSON(JSON.parse(JSON.stringify(hf)));
    expect(back.toHF()).toEqual(hf);
    // The fixture written by transformers agrees on every field we write.
    const written = fixture('tiny');
    const ours = MambaConfig.fromJSON(written).toHF();
    for (const [k, v] of Object.entries(ours)) if (k in written) expect(v, k).toEqual(written[k]);
  });

  it('never asks transformers to rescale the saved out_proj again', () => {
    // transformers 5.17 applies rescale_prenorm_residual on load, dividing trained weights by sqrt(n_layer):
    // the logits of a model saved with `true` differed by 0.59 there (tooling/fixtures/check_roundtrip.py).
    const c = new MambaConfig({ dModel: 16, nLayer: 4, vocabSize: 8, rescalePrenormResidual: true });
    expect(c.toHF().rescale_prenorm_residual).toBe(false);
  });

  it('writes float fields as floats (transformers 5 refuses time_step_scale: 1)', () => {
    const c = new MambaConfig({ dModel: 16, nLayer: 1, vocabSize: 8, dtScale: 1, dtMax: 1, layerNormEpsilon: 1e-5 });
    const text = c.toHFJson();
    expect(JSON.parse(text)).toEqual(c.toHF());
    for (const key of ['layer_norm_epsilon', 'initializer_range', 'time_step_min', 'time_step_max', 'time_step_scale', 'time_step_floor']) {
      const written = text.match(new RegExp(`"${key}": ([^,\\n]+)`))![1];
      expect(written, key).toMatch(/[.eE]/);
    }
    expect(text).toContain('"time_step_scale": 1.0');
    expect(text).toContain('"hidden_size": 16,');
  });

  it('names the missing field', () => {
    const e = configError(() => MambaConfig.fromJSON({ hidden_size: 16, vocab_size: 10 }));
    expect(e.field).toBe('num_hidden_layers');
    expect(e.message).toContain('num_hidden_layers');
    expect(e.message).toContain('missing');
    expect(configError(() => MambaConfig.fromJSON({ d_model: 16, n_layer: 2 })).field).toBe('vocab_size');
    expect(configError(() => MambaConfig.fromJSON({ foo: 1 })).field).toBe('hidden_size');
    expect(configError(() => MambaConfig.fromJSON([])).field).toBe('config.json');
  });

  it('rejects inconsistent sizes, saying what was expected and what came', () => {
    const e = configError(() => MambaConfig.fromHF({ ...fixture('small'), intermediate_size: 100 }));
    expect(e.field).toBe('intermediate_size');
    expect(e.message).toContain('128');
    expect(e.message).toContain('100');
    expect(configError(() => MambaConfig.fromHF({ ...fixture('small'), state_size: 0 })).field).toBe('state_size');
    expect(configError(() => MambaConfig.fromHF({ ...fixture('small'), time_step_rank: 2.5 })).field).toBe('time_step_rank');
    expect(configError(() => MambaConfig.fromHF({ ...fixture('small'), expand: 1.01 })).field).toBe('expand');
    expect(configError(() => MambaConfig.fromHF({ ...fixture('small'), use_bias: 'yes' })).field).toBe('use_bias');
    expect(configError(() => MambaConfig.fromHF({ ...fixture('small'), model_type: 'mamba2' })).field).toBe('model_type');
    expect(configError(() => MambaConfig.fromMambaSsm({ ...fixture('tiny-mamba-ssm'), ssm_cfg: { layer: 'Mamba2' } })).field).toBe('ssm_cfg.layer');
    expect(configError(() => MambaConfig.fromMambaSsm({ ...fixture('tiny-mamba-ssm'), ssm_cfg: { d_state: -4 } })).field).toBe('ssm_cfg.d_state');
    expect(configError(() => MambaConfig.fromMambaSsm({ ...fixture('tiny-mamba-ssm'), d_intermediate: 64 })).field).toBe('d_intermediate');
    expect(configError(() => new MambaConfig({ dModel: 16, nLayer: 1, vocabSize: 8, dtMin: 0.1, dtMax: 0.01 })).field).toBe('dtMax');
  });
});
