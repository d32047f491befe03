/**
 * MambaLM: embedding → n × (RMSNorm → Mamba mixer, plus the residual) → RMSNorm → head tied to the
 * embedding, with Hugging Face's parameter names, so checkpoints move between here and `transformers`.
 */
import {
  DTypeError,
  Generator,
  cast,
  Module,
  ShapeError,
  add,
  addRmsNorm,
  ValueError,
  crossEntropy,
  embedding,
  matmul,
  noGrad,
  reshape,
  rmsNorm,
  saveSafetensors,
  setBackend,
  shapeStr,
  slice,
  tensor,
  tidy,
  type BackendName,
  type Parameter,
  type Tensor,
} from '@ssmjs/core';
import { LtiMixer, type LtiMixerState } from '@ssmjs/s4';
import { MambaCache } from './cache';
import { MambaConfig, type MambaConfigInit } from './config';
import { initialWeights } from './init';
import { ltiContinue, ltiMixerOptions } from './lti';
import { CONFIG_FILE, readCheckpoint, WEIGHTS_FILE, writeFiles, type CheckpointTarget, type PretrainedSource } from './io';
import { blockForward, mixerStep, type BlockState, type BlockWeights } from './mixer';
import { sampleToken, validateSampling, type SamplingOptions } from './sampling';
import { checkWeights, EMBEDDING, layerPrefix, NORM_F, type HostWeight } from './weights';

export interface FromPretrainedOptions {
  /** Make this backend current (`setBackend`) before the weights are uploaded. */
  backend?: BackendName;
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add to each prompt. */
  maxNewTokens: number;
  /** Seed of the sampling generator (default 0); unused when greedy. */
  seed?: number;
  /** A sequence ends after producing one of these (the stop token is kept in the output). */
  stopTokens?: readonly number[];
}

/** Prompts: one as ids, several (lengths may differ: they are left-padded), or an int32 tensor [batch, L]. */
export type PromptIds = readonly number[] | readonly (readonly number[])[] | Tensor;

/** A parameter module with no behavior of its own: it only gives its tensors their dotted names. */
class ParameterGroup extends Module {
  protected add(path: readonly string[], value: Tensor): void {
    if (path.length === 1) {
      this.registerParameter(path[0], value);
      return;
    }
    const existing = this.namedChildren().get(path[0]) as ParameterGroup | undefined;
    const child = existing ?? this.registerModule(path[0], new ParameterGroup());
    child.add(path.slice(1), value);
  }

  /** Registers a module at a dotted path, making the groups above it. */
  protected addModule(path: readonly string[], module: Module): void {
    if (path.length === 1) {
      this.registerModule(path[0], module);
      return;
    }
    const existing = this.namedChildren().get(path[0]) as ParameterGroup | undefined;
    const child = existing ?? this.registerModule(path[0], new ParameterGroup());
    child.addModule(path.slice(1), module);
  }
}

/** Options of `prefill`. */
export interface PrefillOptions {
  /** [batch, L], 1 = token, 0 = left padding (prompts of different lengths). Not with `cache`. */
  attentionMask?: Tensor;
  /**
   * Continue from this cache instead of from an empty one: the ids follow the tokens it has seen, and it
   * is advanced in place (and returned). Evaluating a long sequence chunk by chunk this way keeps memory
   * at one chunk's activations plus the fixed-size state.
   */
  cache?: MambaCache;
  /** Return the logits of every position [batch, L, vocab] instead of the last one's [batch, vocab]. */
  allPositions?: boolean;
}

const NORM_WEIGHT = /^backbone\.layers\.(\d+)\.norm\.weight$/;

export class MambaLM extends ParameterGroup {
  readonly config: MambaConfig;
  /** Parameters by Hugging Face name; optimizers replace their values, the Parameter objects stay. */
  private readonly params: Map<string, Parameter>;
  /** LTI configs: the mixer of each layer (@ssmjs/s4's LtiMixer, registered as `backbone.layers.{i}.mixer`). */
  private readonly ltiMixers: LtiMixer[] = [];

  /**
   * Use `MambaLM.create` or `MambaLM.fromPretrained`. Weights must already be checked (`checkWeights`).
   * An LTI config builds its mixers here (their own initialization, seeded from `seed`) and loads their
   * weights when `weights` has them.
   */
  private constructor(config: MambaConfig, weights: ReadonlyMap<string, HostWeight>, seed = 0) {
    super();
    this.config = config;
    const made: Tensor[] = [];
    const mixerSeeds = new Generator(seed + 0x4c7149);
    try {
      for (const [name, w] of weights) {
        if (config.isLti && name.includes('.mixer.')) continue;
        const t = tensor(w.data, w.shape);
        made.push(t);
        this.add(name.split('.'), t);
        // The mixer follows its layer's norm, so parameters keep the model's order.
        const layer = config.isLti ? NORM_WEIGHT.exec(name) : null;
        if (layer) {
          const mixer = new LtiMixer(ltiMixerOptions(config, mixerSeeds.nextUint32()));
          this.ltiMixers.push(mixer);
          this.addModule(['backbone', 'layers', layer[1], 'mixer'], mixer);
        }
      }
      this.ltiMixers.forEach((mixer, i) => loadMixer(mixer, `${layerPrefix(i)}mixer.`, weights));
    } catch (e) {
      for (const t of made) t.dispose();
      for (const m of this.ltiMixers) m.dispose();
      throw e;
    }
    this.params = this.namedParameters();
  }

  /**
   * A new model, deterministic for a seed: the reference initialization (state-spaces/mamba) for the
   * embedding, norms and Mamba mixers; an LTI mixer's own (@ssmjs/s4) for LTI configs.
   */
  static create(config: MambaConfig | MambaConfigInit, options: { seed?: number } = {}): MambaLM {
    const c = config instanceof MambaConfig ? config : new MambaConfig(config);
    const seed = options.seed ?? 0;
    const weights = initialWeights(c, seed);
    return new MambaLM(c, c.isLti ? weights : checkWeights(c, weights), seed);
  }

  /**
   * Loads a checkpoint: a directory (Node), a base URL, or `{ config, weights }` in memory. config.json
   * may be in Hugging Face or mamba_ssm form; weights are model.safetensors or the shards of
   * model.safetensors.index.json. Every weight is checked (names and shapes) before any is uploaded.
   */
  static async fromPretrained(source: PretrainedSource, options: FromPretrainedOptions = {}): Promise<MambaLM> {
    if (options.backend) await setBackend(options.backend);
    const { config: json, weights } = await readCheckpoint(source);
    const config = json instanceof MambaConfig ? json : MambaConfig.fromJSON(json);
    return new MambaLM(config, checkWeights(config, weights));
  }

  /** Writes config.json (Hugging Face form) and model.safetensors, which `transformers` loads. */
  async save(target: CheckpointTarget): Promise<void> {
    const record: Record<string, Tensor> = {};
    for (const [name, p] of this.params) record[name] = p.value;
    const weights = await saveSafetensors(record, { format: 'pt' });
    await writeFiles(target, {
      [CONFIG_FILE]: this.config.toHFJson(),
      [WEIGHTS_FILE]: weights,
    });
  }

  // ------------------------------------------------------------------------------------------ parallel path

  /** Logits [batch, L, vocab] for int32 ids [batch, L]. */
  forward(inputIds: Tensor): Tensor {
    this.checkIds('forward', inputIds, 2);
    return tidy(() => this.head(this.backbone(inputIds, false).hidden));
  }

  /**
   * Mean cross-entropy of next-token prediction, as transformers computes it: logits at positions
   * 0…L−2 against labels at 1…L−1 (labels default to the inputs; −100 is ignored).
   */
  loss(inputIds: Tensor, labels: Tensor = inputIds): Tensor {
    this.checkIds('loss', inputIds, 2);
    const [batch, L] = inputIds.shape;
    if (L < 2) throw new ValueError('loss', `needs at least 2 tokens per sequence to predict one, got shape ${shapeStr(inputIds.shape)}`);
    if (labels.dtype !== 'int32') throw new DTypeError('loss', `labels must be int32, got ${labels.dtype}`);
    if (labels.rank !== 2 || labels.shape[0] !== batch || labels.shape[1] !== L) {
      throw new ShapeError('loss', `labels ${shapeStr(labels.shape)} must match inputIds ${shapeStr(inputIds.shape)}`);
    }
    return tidy(() => {
      const logits = this.head(this.backbone(inputIds, false).hidden);
      const V = this.config.vocabSize;
      const predicted = reshape(slice(logits, [0, 0, 0], [batch, L - 1, V]), [batch * (L - 1), V]);
      const targets = reshape(slice(labels, [0, 1], [batch, L - 1]), [batch * (L - 1)]);
      return crossEntropy(predicted, targets, { ignoreIndex: -100 });
    });
  }

  /**
   * Embedding and blocks; with `captureState`, each block's state for decoding. With `from`, the
   * sequence continues from that cache, which is advanced in place.
   */
  private backbone(
    inputIds: Tensor,
    captureState: boolean,
    mask?: Tensor,
    from?: MambaCache,
  ): { hidden: Tensor; states: BlockState[]; ltiStates: LtiMixerState[] } {
    let hidden = embedding(this.weight(EMBEDDING), inputIds);
    const states: BlockState[] = [];
    const ltiStates: LtiMixerState[] = [];
    for (let i = 0; i < this.config.nLayer; i++) {
      if (this.config.isLti) {
        const mixer = this.ltiMixers[i];
        const normed = rmsNorm(hidden, this.weight(`${layerPrefix(i)}norm.weight`), this.config.layerNormEpsilon);
        let y: Tensor;
        if (from) y = ltiContinue(mixer, normed, from.lti[i]);
        else if (captureState) {
          const out = mixer.prefill(normed, { mask });
          ltiStates.push(out.state);
          y = out.y;
        } else y = mixer.forward(normed, { mask });
        hidden = add(hidden, y);
        continue;
      }
      const previous = from ? { conv: from.conv[i], ssm: from.ssm[i] } : undefined;
      const out = blockForward(this.config, this.block(i), hidden, captureState || !!from, mask, previous);
      hidden = out.hidden;
      if (from) {
        from.replaceConv(i, out.state!.conv);
        from.replaceSsm(i, out.state!.ssm);
      } else if (out.state) states.push(out.state);
    }
    return { hidden, states, ltiStates };
  }

  /** Final norm and the tied head: [..., dModel] → [..., vocab]. */
  private head(hidden: Tensor): Tensor {
    return this.logits(rmsNorm(hidden, this.weight(NORM_F), this.config.layerNormEpsilon));
  }

  /** The tied head on the final norm's output. */
  private logits(normed: Tensor): Tensor {
    return matmul(normed, this.weight(EMBEDDING), { transposeB: true });
  }

  // ------------------------------------------------------------------------------------------ recurrent path

  /** An empty cache for `batch` sequences. */
  createCache(batch: number): MambaCache {
    if (!this.config.isLti) return this.withDecayRates(MambaCache.zeros(this.config, batch));
    return new MambaCache(batch, [], [], this.ltiMixers.map((m) => m.initialState(batch)));
  }

  /** Fills the cache's A = −exp(A_log) per layer now, so that decoding steps allocate nothing that stays. */
  private withDecayRates(cache: MambaCache): MambaCache {
    if (this.config.isLti) return cache;
    noGrad(() => {
      for (let i = 0; i < this.config.nLayer; i++) cache.decayRates(i, this.weight(`${layerPrefix(i)}mixer.A_log`));
    });
    return cache;
  }

  /**
   * Runs the prompt through the parallel path and returns the logits of its last position [batch, vocab]
   * and the cache to continue from with `step`. Prompts of different lengths are left-padded, with
   * `attentionMask` [batch, L] (int32 or float32; 1 = token, 0 = padding) saying where: padded sequences
   * then give what they would alone. `cache` continues a sequence (chunked evaluation; see
   * `PrefillOptions`), `allPositions` returns every position's logits [batch, L, vocab].
   */
  prefill(inputIds: Tensor, options: PrefillOptions = {}): { logits: Tensor; cache: MambaCache } {
    this.checkIds('prefill', inputIds, 2);
    const [batch, L] = inputIds.shape;
    const { attentionMask, cache: from } = options;
    if (attentionMask && (attentionMask.rank !== 2 || attentionMask.shape[0] !== batch || attentionMask.shape[1] !== L)) {
      throw new ShapeError('prefill', `attentionMask ${shapeStr(attentionMask.shape)} must match inputIds ${shapeStr(inputIds.shape)}`);
    }
    if (from) {
      if (attentionMask) throw new ValueError('prefill', 'attentionMask (left padding) only applies to the start of a sequence, not with a cache to continue');
      if (from.disposed) throw new ValueError('prefill', 'the cache was disposed');
      if (from.batch !== batch) throw new ShapeError('prefill', `ids ${shapeStr(inputIds.shape)} must have the cache's batch ${from.batch}`);
    }
    return noGrad(() =>
      tidy(() => {
        const mask = attentionMask ? reshape(attentionMask.dtype === 'float32' ? attentionMask : cast(attentionMask, 'float32'), [batch, 1, L]) : undefined;
        const { hidden, states, ltiStates } = this.backbone(inputIds, true, mask, from);
        const d = this.config.dModel;
        const logits = options.allPositions ? this.head(hidden) : this.head(reshape(slice(hidden, [0, L - 1, 0], [batch, 1, d]), [batch, d]));
        let cache = from;
        if (!cache) {
          cache = this.withDecayRates(new MambaCache(batch, states.map((s) => s.conv), states.map((s) => s.ssm), ltiStates));
          cache.seqLen = 0;
        }
        cache.seqLen += L;
        return { logits, cache };
      }),
    );
  }

  /** One token per sequence (int32 [batch]) → logits [batch, vocab]; advances the cache. */
  step(ids: Tensor, cache: MambaCache): Tensor {
    this.checkIds('step', ids, 1);
    if (cache.disposed) throw new ValueError('step', 'the cache was disposed');
    if (ids.shape[0] !== cache.batch) throw new ShapeError('step', `ids ${shapeStr(ids.shape)} must have the cache's batch ${cache.batch}`);
    return noGrad(() =>
      tidy(() => {
        const { nLayer, layerNormEpsilon: eps } = this.config;
        // Each block's residual add is fused with the next norm (the last with the final norm).
        const normOf = (i: number) => this.weight(i < nLayer ? `${layerPrefix(i)}norm.weight` : NORM_F);
        let hidden = embedding(this.weight(EMBEDDING), ids);
        let normed = rmsNorm(hidden, normOf(0), eps);
        for (let i = 0; i < nLayer; i++) {
          let out: Tensor;
          if (this.config.isLti) out = this.ltiMixers[i].step(normed, cache.lti[i]);
          else {
            const w = this.block(i);
            const step = mixerStep(this.config, w, normed, { conv: cache.conv[i], ssm: cache.ssm[i] }, cache.decayRates(i, w.ALog));
            cache.replaceConv(i, step.conv);
            out = step.out;
          }
          ({ sum: hidden, normed } = addRmsNorm(hidden, out, normOf(i + 1), eps));
        }
        cache.seqLen++;
        return this.logits(normed);
      }),
    );
  }

  /** Prompts plus up to `maxNewTokens` generated ids each. */
  async generate(prompt: PromptIds, options: GenerateOptions): Promise<number[][]> {
    const prompts = await this.readPrompts(prompt);
    const sequences = prompts.map((p) => [...p]);
    for await (const tokens of this.stream(prompts, options)) {
      tokens.forEach((t, b) => {
        if (t >= 0) sequences[b].push(t);
      });
    }
    return sequences;
  }

  /**
   * Generates token by token: yields one id per sequence at each step, −1 for a sequence that has
   * already stopped. The cache lives only inside the iteration and is freed when it ends.
   */
  async *stream(prompt: PromptIds, options: GenerateOptions): AsyncGenerator<number[]> {
    validateSampling(options);
    const { maxNewTokens } = options;
    if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0)) throw new ValueError('generate', `maxNewTokens must be an integer ≥ 0, got ${maxNewTokens}`);
    const prompts = await this.readPrompts(prompt);
    const batch = prompts.length;
    const stops = new Set(options.stopTokens ?? []);
    const generator = new Generator(options.seed ?? 0);
    const history = prompts.map((p) => [...p]);
    const finished = new Array<boolean>(batch).fill(false);
    if (maxNewTokens === 0) return;

    // Prompts of different lengths are left-padded (with id 0) and masked, so every one ends at the last column.
    const L = Math.max(...prompts.map((p) => p.length));
    const padded = new Int32Array(batch * L);
    const maskValues = new Float32Array(batch * L);
    prompts.forEach((p, b) => {
      padded.set(p, b * L + L - p.length);
      maskValues.fill(1, b * L + L - p.length, (b + 1) * L);
    });
    const ragged = prompts.some((p) => p.length !== L);
    const ids = tensor(padded, [batch, L], 'int32');
    const mask = ragged ? tensor(maskValues, [batch, L]) : null;
    let logits: Tensor | null = null;
    let cache: MambaCache | null = null;
    try {
      ({ logits, cache } = this.prefill(ids, { attentionMask: mask ?? undefined }));
      ids.dispose();
      mask?.dispose();
      for (let t = 0; ; t++) {
        const rows = (await logits.data()) as Float32Array;
        logits.dispose();
        logits = null;
        const V = this.config.vocabSize;
        const next = history.map((seen, b) => {
          if (finished[b]) return -1;
          const token = sampleToken(rows.subarray(b * V, (b + 1) * V), seen, options, generator);
          seen.push(token);
          if (stops.has(token)) finished[b] = true;
          return token;
        });
        yield next;
        if (t + 1 >= maxNewTokens || finished.every(Boolean)) return;
        // A finished sequence is fed its last token; its outputs are ignored.
        const fed = tensor(Int32Array.from(history.map((seen) => seen[seen.length - 1])), [batch], 'int32');
        try {
          logits = this.step(fed, cache);
        } finally {
          fed.dispose();
        }
      }
    } finally {
      if (!ids.disposed) ids.dispose();
      if (mask && !mask.disposed) mask.dispose();
      logits?.dispose();
      cache?.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------ helpers

  private weight(name: string): Tensor {
    return this.params.get(name)!.value;
  }

  private block(i: number): BlockWeights {
    const p = layerPrefix(i);
    const opt = (name: string) => this.params.get(p + name)?.value;
    return {
      norm: this.weight(`${p}norm.weight`),
      inProj: this.weight(`${p}mixer.in_proj.weight`),
      inProjBias: opt('mixer.in_proj.bias'),
      conv: this.weight(`${p}mixer.conv1d.weight`),
      convBias: opt('mixer.conv1d.bias'),
      xProj: this.weight(`${p}mixer.x_proj.weight`),
      dtProj: this.weight(`${p}mixer.dt_proj.weight`),
      dtProjBias: this.weight(`${p}mixer.dt_proj.bias`),
      ALog: this.weight(`${p}mixer.A_log`),
      D: this.weight(`${p}mixer.D`),
      outProj: this.weight(`${p}mixer.out_proj.weight`),
      outProjBias: opt('mixer.out_proj.bias'),
    };
  }

  /** int32, the expected rank, no empty axis, every id inside the vocabulary. */
  private checkIds(op: string, ids: Tensor, rank: number): void {
    const layout = rank === 2 ? '[batch, L]' : '[batch]';
    if (ids.dtype !== 'int32') throw new DTypeError(op, `token ids must be int32 ${layout}, got ${ids.dtype} ${shapeStr(ids.shape)}`);
    if (ids.rank !== rank) throw new ShapeError(op, `token ids must be ${layout}, got ${shapeStr(ids.shape)}`);
    if (ids.size === 0) throw new ValueError(op, `token ids are empty (${shapeStr(ids.shape)}); expected at least one token per sequence`);
    const values = readIfSynchronous(ids);
    if (values) checkRange(op, values, this.config.vocabSize);
  }

  /** Prompts as id arrays, checked: non-empty, ids in the vocabulary. */
  private async readPrompts(prompt: PromptIds): Promise<number[][]> {
    let rows: number[][];
    if (Array.isArray(prompt)) {
      const list = prompt as readonly (number | readonly number[])[];
      rows = list.length > 0 && list.every((x) => typeof x === 'number') ? [[...(list as number[])]] : (list as number[][]).map((r) => [...r]);
    } else {
      const t = prompt as Tensor;
      if (t.dtype !== 'int32' || t.rank !== 2) throw new ShapeError('generate', `prompt tensor must be int32 [batch, L], got ${t.dtype} ${shapeStr(t.shape)}`);
      const data = await t.data();
      const [batch, L] = t.shape;
      rows = Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * L, (b + 1) * L)));
    }
    if (rows.length === 0 || rows.some((r) => !Array.isArray(r) || r.length === 0)) {
      throw new ValueError('generate', 'the prompt is empty: give at least one token per sequence');
    }
    for (const r of rows) {
      if (r.some((v) => !Number.isInteger(v))) throw new ValueError('generate', `token ids must be integers, got ${JSON.stringify(r)}`);
      checkRange('generate', r, this.config.vocabSize);
    }
    return rows;
  }
}

function checkRange(op: string, ids: ArrayLike<number>, vocab: number): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= vocab) throw new ValueError(op, `token id ${ids[i]} at position ${i} is outside the vocabulary [0, ${vocab})`);
  }
}

/**
 * The ids' values where the backend reads synchronously (cpu, wasm). A GPU tensor cannot be read
 * without waiting, so `forward`/`loss`/`step` take its ids on trust; `generate` checks them anyway.
 */
function readIfSynchronous(ids: Tensor): ArrayLike<number> | null {
  try {
    return ids.dataSync();
  } catch {
    return null;
  }
}

/** Loads an LTI mixer's weights (names under `prefix`) when the checkpoint has them; a fresh model keeps the mixer's init. */
function loadMixer(mixer: LtiMixer, prefix: string, weights: ReadonlyMap<string, HostWeight>): void {
  const dict: Record<string, Tensor> = {};
  for (const [name, w] of weights) if (name.startsWith(prefix)) dict[name.slice(prefix.length)] = tensor(w.data, w.shape);
  if (Object.keys(dict).length === 0) return;
  try {
    mixer.loadStateDict(dict);
  } finally {
    for (const t of Object.values(dict)) t.dispose();
  }
}
