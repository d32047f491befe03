/**
 * One normalized Mamba configuration read from either config.json form:
 * - Hugging Face `transformers` (`hidden_size`, `num_hidden_layers`, `state_size`, `conv_kernel`, …), and
 * - state-spaces/mamba (`d_model`, `n_layer`, `ssm_cfg: { d_state, d_conv, … }`, `pad_vocab_size_multiple`).
 * Sizes are checked against each other here, so a model built from a MambaConfig never meets a
 * shape surprise later.
 */
import { ConfigError } from './errors';

/** What a caller gives to build a config directly (sizes in mamba_ssm's vocabulary). */
export interface MambaConfigInit {
  dModel: number;
  nLayer: number;
  /** Rows of the embedding before padding; see `padVocabSizeMultiple`. */
  vocabSize: number;
  dState?: number;
  dConv?: number;
  expand?: number;
  /** `'auto'` = ceil(dModel / 16). */
  dtRank?: number | 'auto';
  convBias?: boolean;
  /** Bias on in_proj and out_proj. */
  bias?: boolean;
  layerNormEpsilon?: number;
  residualInFp32?: boolean;
  /** The vocabulary is rounded up to a multiple of this (mamba_ssm: 8; Hugging Face configs: 1). */
  padVocabSizeMultiple?: number;
  dtMin?: number;
  dtMax?: number;
  dtInit?: 'random' | 'constant';
  dtScale?: number;
  dtInitFloor?: number;
  /** Standard deviation of the embedding's normal init. */
  initializerRange?: number;
  /** Divide out_proj's init by sqrt(nLayer) (mamba_ssm's `rescale_prenorm_residual`). */
  rescalePrenormResidual?: boolean;
  bosTokenId?: number | null;
  eosTokenId?: number | null;
  padTokenId?: number | null;
  /**
   * The sequence mixer of each block: 'mamba' (the selective S6 scan, default) or an LTI mixer from
   * @ssmjs/s4 ('s4d' diagonal, 's4' DPLR) in the same block — the Mamba paper's S6-vs-S4 ablations.
   * Only 'mamba' with gating is a model transformers can load.
   */
  mixer?: MixerKind;
  /** Multiply the SSM output by SiLU(z) (default true). Without it in_proj makes x only: the paper's "no gate". */
  gated?: boolean;
  /** Mixer 's4' only: the longest sequence its kernel refers to (S4's C̃ is defined for this length). */
  lMax?: number;
}

export type MixerKind = 'mamba' | 's4d' | 's4';
const MIXERS: readonly MixerKind[] = ['mamba', 's4d', 's4'];

type Json = Record<string, unknown>;

export class MambaConfig {
  readonly dModel: number;
  readonly nLayer: number;
  /** Rows of the embedding and of the logits: the vocabulary after padding. */
  readonly vocabSize: number;
  /** The vocabulary size the file gave, before padding. */
  readonly unpaddedVocabSize: number;
  readonly dState: number;
  readonly dConv: number;
  readonly expand: number;
  /** expand · dModel: the channels of the mixer. */
  readonly dInner: number;
  readonly dtRank: number;
  readonly convBias: boolean;
  readonly bias: boolean;
  readonly layerNormEpsilon: number;
  readonly residualInFp32: boolean;
  readonly dtMin: number;
  readonly dtMax: number;
  readonly dtInit: 'random' | 'constant';
  readonly dtScale: number;
  readonly dtInitFloor: number;
  readonly initializerRange: number;
  readonly rescalePrenormResidual: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly mixer: MixerKind;
  readonly gated: boolean;
  /** The S4 kernel's length (mixer 's4'), null otherwise. */
  readonly lMax: number | null;

  constructor(init: MambaConfigInit) {
    const o = init as unknown as Json;
    this.dModel = positiveInt(o, 'dModel');
    this.nLayer = positiveInt(o, 'nLayer');
    this.unpaddedVocabSize = positiveInt(o, 'vocabSize');
    const multiple = positiveInt(o, 'padVocabSizeMultiple', 1);
    this.vocabSize = Math.ceil(this.unpaddedVocabSize / multiple) * multiple;
    this.dState = positiveInt(o, 'dState', 16);
    this.dConv = positiveInt(o, 'dConv', 4);
    this.expand = positiveNumber(o, 'expand', 2);
    this.dInner = this.expand * this.dModel;
    if (!Number.isInteger(this.dInner)) {
      throw new ConfigError('expand', `a value with expand · dModel (${this.dModel}) a whole number of channels`, this.expand);
    }
    const dtRank = o.dtRank ?? 'auto';
    this.dtRank = dtRank === 'auto' ? Math.ceil(this.dModel / 16) : positiveInt(o, 'dtRank');
    this.convBias = bool(o, 'convBias', true);
    this.bias = bool(o, 'bias', false);
    this.layerNormEpsilon = positiveNumber(o, 'layerNormEpsilon', 1e-5);
    this.residualInFp32 = bool(o, 'residualInFp32', true);
    this.dtMin = positiveNumber(o, 'dtMin', 0.001);
    this.dtMax = positiveNumber(o, 'dtMax', 0.1);
    if (this.dtMax < this.dtMin) throw new ConfigError('dtMax', `at least dtMin (${this.dtMin})`, this.dtMax);
    const dtInit = o.dtInit ?? 'random';
    if (dtInit !== 'random' && dtInit !== 'constant') throw new ConfigError('dtInit', `'random' or 'constant'`, dtInit);
    this.dtInit = dtInit;
    this.dtScale = positiveNumber(o, 'dtScale', 1);
    this.dtInitFloor = positiveNumber(o, 'dtInitFloor', 1e-4);
    this.initializerRange = positiveNumber(o, 'initializerRange', 0.02);
    this.rescalePrenormResidual = bool(o, 'rescalePrenormResidual', true);
    this.bosTokenId = tokenId(o, 'bosTokenId');
    this.eosTokenId = tokenId(o, 'eosTokenId');
    this.padTokenId = tokenId(o, 'padTokenId');
    const mixer = o.mixer ?? 'mamba';
    if (!MIXERS.includes(mixer as MixerKind)) throw new ConfigError('mixer', `one of ${MIXERS.map((m) => `'${m}'`).join(', ')}`, mixer);
    this.mixer = mixer as MixerKind;
    this.gated = bool(o, 'gated', true);
    if (this.mixer === 's4') this.lMax = positiveInt(o, 'lMax');
    else if (o.lMax !== undefined && o.lMax !== null) throw new ConfigError('lMax', `absent (it is for mixer 's4'; this config's mixer is '${this.mixer}')`, o.lMax);
    else this.lMax = null;
  }

  /** An LTI (S4/S4D) mixer in place of the selective scan. */
  get isLti(): boolean {
    return this.mixer !== 'mamba';
  }

  /** Whether transformers' MambaForCausalLM can load this model: the selective mixer with its gate. */
  get transformersCompatible(): boolean {
    return this.mixer === 'mamba' && this.gated;
  }

  /** Reads either config.json form (told apart by `d_model` vs `hidden_size`). */
  static fromJSON(json: unknown): MambaConfig {
    const o = asObject(json, 'config.json');
    if ('d_model' in o || 'n_layer' in o || 'ssm_cfg' in o) return MambaConfig.fromMambaSsm(o);
    if ('hidden_size' in o || 'num_hidden_layers' in o || o.model_type === 'mamba') return MambaConfig.fromHF(o);
    throw new ConfigError(
      'hidden_size',
      'present (a Hugging Face Mamba config), or d_model (a state-spaces/mamba config)',
      `an object with keys ${JSON.stringify(Object.keys(o))}`,
    );
  }

  /** A transformers `MambaConfig` config.json. transformers does not pad the vocabulary. */
  static fromHF(json: unknown): MambaConfig {
    const o = asObject(json, 'config.json');
    if (o.model_type !== undefined && o.model_type !== 'mamba' && o.model_type !== SSMJS_MODEL_TYPE) {
      throw new ConfigError('model_type', `'mamba' (or '${SSMJS_MODEL_TYPE}', an ssm.js ablation)`, o.model_type);
    }
    if (o.hidden_act !== undefined && o.hidden_act !== 'silu') throw new ConfigError('hidden_act', `'silu' (the only activation Mamba uses)`, o.hidden_act);
    if (o.tie_word_embeddings === false) throw new ConfigError('tie_word_embeddings', 'true (ssm.js ties the head to the embedding)', false);
    const hiddenSize = positiveInt(o, 'hidden_size');
    const expand = positiveNumber(o, 'expand', 2);
    const timeStepRank = o.time_step_rank ?? 'auto';
    if (timeStepRank !== 'auto') positiveInt(o, 'time_step_rank');
    const init = o.time_step_init_scheme ?? 'random';
    if (init !== 'random' && init !== 'constant') throw new ConfigError('time_step_init_scheme', `'random' or 'constant'`, init);
    const config = MambaConfig.build(
      {
        dModel: hiddenSize,
        nLayer: positiveInt(o, 'num_hidden_layers'),
        vocabSize: positiveInt(o, 'vocab_size'),
        dState: positiveInt(o, 'state_size', 16),
        dConv: positiveInt(o, 'conv_kernel', 4),
        expand,
        dtRank: timeStepRank as number | 'auto',
        convBias: bool(o, 'use_conv_bias', true),
        bias: bool(o, 'use_bias', false),
        layerNormEpsilon: positiveNumber(o, 'layer_norm_epsilon', 1e-5),
        residualInFp32: bool(o, 'residual_in_fp32', true),
        padVocabSizeMultiple: 1,
        dtMin: positiveNumber(o, 'time_step_min', 0.001),
        dtMax: positiveNumber(o, 'time_step_max', 0.1),
        dtInit: init,
        dtScale: positiveNumber(o, 'time_step_scale', 1),
        dtInitFloor: positiveNumber(o, 'time_step_floor', 1e-4),
        initializerRange: positiveNumber(o, 'initializer_range', 0.1),
        rescalePrenormResidual: bool(o, 'rescale_prenorm_residual', false),
        bosTokenId: tokenId(o, 'bos_token_id'),
        eosTokenId: tokenId(o, 'eos_token_id'),
        padTokenId: tokenId(o, 'pad_token_id'),
        // ssm.js's own fields (written only for the ablation architectures).
        mixer: o.mixer as MixerKind | undefined,
        gated: o.gated as boolean | undefined,
        lMax: o.l_max as number | undefined,
      },
      { dModel: 'hidden_size', expand: 'expand', dtMax: 'time_step_max', lMax: 'l_max' },
    );
    if (o.intermediate_size !== undefined && o.intermediate_size !== config.dInner) {
      throw new ConfigError('intermediate_size', `expand · hidden_size = ${expand} · ${hiddenSize} = ${config.dInner}`, o.intermediate_size);
    }
    return config;
  }

  /** A state-spaces/mamba (mamba_ssm) `MambaConfig` config.json: Mamba-1 layers only. */
  static fromMambaSsm(json: unknown): MambaConfig {
    const o = asObject(json, 'config.json');
    const ssm = o.ssm_cfg === undefined ? {} : asObject(o.ssm_cfg, 'ssm_cfg');
    if (ssm.layer !== undefined && ssm.layer !== 'Mamba1') throw new ConfigError('ssm_cfg.layer', `'Mamba1' (Mamba-2 is not supported)`, ssm.layer);
    if (o.d_intermediate !== undefined && o.d_intermediate !== 0) {
      throw new ConfigError('d_intermediate', '0 (blocks with an MLP are not supported)', o.d_intermediate);
    }
    if (Array.isArray(o.attn_layer_idx) && o.attn_layer_idx.length > 0) {
      throw new ConfigError('attn_layer_idx', '[] (attention layers are not supported)', o.attn_layer_idx);
    }
    if (o.rms_norm === false) throw new ConfigError('rms_norm', 'true (LayerNorm blocks are not supported)', false);
    if (o.tie_embeddings === false) throw new ConfigError('tie_embeddings', 'true (ssm.js ties the head to the embedding)', false);
    const dtRank = ssm.dt_rank ?? 'auto';
    if (dtRank !== 'auto') positiveInt(ssm, 'dt_rank', undefined, 'ssm_cfg.');
    const dtInit = ssm.dt_init ?? 'random';
    if (dtInit !== 'random' && dtInit !== 'constant') throw new ConfigError('ssm_cfg.dt_init', `'random' or 'constant'`, dtInit);
    return MambaConfig.build(
      {
        dModel: positiveInt(o, 'd_model'),
        nLayer: positiveInt(o, 'n_layer'),
        vocabSize: positiveInt(o, 'vocab_size'),
        padVocabSizeMultiple: positiveInt(o, 'pad_vocab_size_multiple', 8),
        dState: positiveInt(ssm, 'd_state', 16, 'ssm_cfg.'),
        dConv: positiveInt(ssm, 'd_conv', 4, 'ssm_cfg.'),
        expand: positiveNumber(ssm, 'expand', 2, 'ssm_cfg.'),
        dtRank: dtRank as number | 'auto',
        convBias: bool(ssm, 'conv_bias', true, 'ssm_cfg.'),
        bias: bool(ssm, 'bias', false, 'ssm_cfg.'),
        residualInFp32: bool(o, 'residual_in_fp32', true),
        dtMin: positiveNumber(ssm, 'dt_min', 0.001, 'ssm_cfg.'),
        dtMax: positiveNumber(ssm, 'dt_max', 0.1, 'ssm_cfg.'),
        dtInit,
        dtScale: positiveNumber(ssm, 'dt_scale', 1, 'ssm_cfg.'),
        dtInitFloor: positiveNumber(ssm, 'dt_init_floor', 1e-4, 'ssm_cfg.'),
        layerNormEpsilon: 1e-5,
        initializerRange: 0.02,
        rescalePrenormResidual: true,
      },
      { dModel: 'd_model', expand: 'ssm_cfg.expand', dtMax: 'ssm_cfg.dt_max' },
    );
  }

  /** Builds, reporting cross-field errors under the file's own field names. */
  private static build(init: MambaConfigInit, names: Record<string, string>): MambaConfig {
    try {
      return new MambaConfig(init);
    } catch (e) {
      if (e instanceof ConfigError && names[e.field]) throw new ConfigError(names[e.field], e.expected, e.got);
      throw e;
    }
  }

  /**
   * The Hugging Face config.json (what `save` writes and `transformers` reads). A model transformers
   * cannot load (an LTI mixer, or no gate) gets model_type 'ssmjs_mamba' and ssm.js's fields `mixer`,
   * `gated`, `l_max`, which only ssm.js reads; `{ transformers: true }` asks for a config transformers
   * loads and throws a ConfigError for those instead.
   */
  toHF(options: { transformers?: boolean } = {}): Record<string, unknown> {
    if (options.transformers && !this.transformersCompatible) {
      const what = this.isLti ? `mixer '${this.mixer}'` : 'gated false';
      throw new ConfigError(
        this.isLti ? 'mixer' : 'gated',
        `'mamba' with gating for a config transformers' MambaForCausalLM can load (${what} is an ssm.js-only architecture: its weights have other names and shapes)`,
        this.isLti ? this.mixer : this.gated,
      );
    }
    const extras: Record<string, unknown> = this.transformersCompatible
      ? {}
      : { mixer: this.mixer, gated: this.gated, ...(this.lMax !== null ? { l_max: this.lMax } : {}) };
    return {
      architectures: this.transformersCompatible ? ['MambaForCausalLM'] : [],
      model_type: this.transformersCompatible ? 'mamba' : SSMJS_MODEL_TYPE,
      bos_token_id: this.bosTokenId,
      eos_token_id: this.eosTokenId,
      pad_token_id: this.padTokenId,
      vocab_size: this.vocabSize,
      hidden_size: this.dModel,
      num_hidden_layers: this.nLayer,
      state_size: this.dState,
      expand: this.expand,
      intermediate_size: this.dInner,
      conv_kernel: this.dConv,
      time_step_rank: this.dtRank,
      use_bias: this.bias,
      use_conv_bias: this.convBias,
      hidden_act: 'silu',
      layer_norm_epsilon: this.layerNormEpsilon,
      residual_in_fp32: this.residualInFp32,
      tie_word_embeddings: true,
      initializer_range: this.initializerRange,
      // The saved weights are final: transformers 5.17 re-applies this init-time rescale of out_proj on load,
      // which would divide trained weights by sqrt(n_layer) again. It is an init rule, so it is written false.
      rescale_prenorm_residual: false,
      time_step_min: this.dtMin,
      time_step_max: this.dtMax,
      time_step_init_scheme: this.dtInit,
      time_step_scale: this.dtScale,
      time_step_floor: this.dtInitFloor,
      use_cache: true,
      dtype: 'float32',
      ...extras,
    };
  }

  toJSON(): Record<string, unknown> {
    return this.toHF();
  }

  /**
   * config.json text for `transformers`. Its config classes check field types strictly (5.x): a float
   * field must not hold an integer, so `time_step_scale: 1` is refused where `1.0` loads. JSON.stringify
   * cannot tell them apart, hence this writer.
   */
  toHFJson(): string {
    const lines = Object.entries(this.toHF()).map(([key, value]) => {
      const text = HF_FLOAT_FIELDS.has(key) && Number.isInteger(value) ? `${value}.0` : JSON.stringify(value);
      return `  ${JSON.stringify(key)}: ${text}`;
    });
    return `{\n${lines.join(',\n')}\n}\n`;
  }
}

/** model_type of configs only ssm.js loads, so transformers' AutoConfig refuses them rather than misreading them. */
const SSMJS_MODEL_TYPE = 'ssmjs_mamba';

/** The fields transformers' MambaConfig types as float. */
const HF_FLOAT_FIELDS = new Set(['layer_norm_epsilon', 'initializer_range', 'time_step_min', 'time_step_max', 'time_step_scale', 'time_step_floor']);

// ------------------------------------------------------------------------------------------ field readers

function asObject(value: unknown, field: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(field, 'a JSON object', value);
  return value as Json;
}

function positiveInt(o: Json, key: string, fallback?: number, prefix = ''): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(prefix + key, 'a positive integer', o[key]);
  return v;
}

function positiveNumber(o: Json, key: string, fallback?: number, prefix = ''): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(prefix + key, 'a positive number', o[key]);
  return v;
}

function bool(o: Json, key: string, fallback: boolean, prefix = ''): boolean {
  const v = o[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(prefix + key, 'true or false', o[key]);
  return v;
}

function tokenId(o: Json, key: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(key, 'a non-negative integer or null', v);
  return v;
}
