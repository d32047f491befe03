/**
 * The model worker (a module worker): picks the backend, holds the loaded checkpoint and the live-trained
 * models, and answers the page's requests (protocol.ts). Long loops (generation, training) give the event
 * loop a turn between steps, so a stop request is seen at once.
 */
/// <reference lib="webworker" />
import { dispose, getBackend, memory, setBackend, tensor, valueAndGradsOf } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import type { TextTokenizer } from '@ssmjs/tokenizer';
import type { BackendChoice, CheckpointSource, InspectTarget, ModelSummary, Request, Response, SamplingSettings, TrainSettings } from '../protocol';
import { transferablesOf } from '../protocol';
import { DELTA_SOURCE, deltasOf, stateNormsOf } from './inspect';
import { theoryPlots } from './theory';
import { tokenizerFromJSON } from './tokenizers';
import { createLiveModels, taskBatches, trainSideBySide, type LiveModel } from './train';

declare const self: DedicatedWorkerGlobalScope;

function post(response: Response): void {
  self.postMessage(response, transferablesOf(response));
}

/** A macrotask turn (MessageChannel, not setTimeout, which is clamped to ≥ 4 ms when nested). */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

// ------------------------------------------------------------------------------------------ backend

/**
 * Runs every path the page uses (Mamba forward, loss gradient, prefill + step; the S4D baseline's forward)
 * on a throwaway model, so a backend that starts but lacks a kernel is found before the user's work is.
 */
async function selfTest(): Promise<void> {
  const model = MambaLM.create({ dModel: 8, nLayer: 1, vocabSize: 16, dState: 4 }, { seed: 1 });
  const lti = MambaLM.create({ dModel: 8, nLayer: 1, vocabSize: 16, dState: 4, mixer: 's4d' }, { seed: 1 });
  const ids = tensor(Int32Array.from({ length: 8 }, (_, i) => i), [1, 8], 'int32');
  try {
    const { loss, grads } = valueAndGradsOf(model, () => model.loss(ids));
    await loss.data();
    dispose([loss, grads]);
    const ltiLogits = lti.forward(ids);
    await ltiLogits.data();
    ltiLogits.dispose();
    for await (const _ of model.stream([1, 2, 3], { maxNewTokens: 2, temperature: 0 })) {
      // Drains the stream: prefill and one step.
    }
  } finally {
    dispose([ids]);
    model.dispose();
    lti.dispose();
  }
}

/** The adapter's name when the browser's WebGPU runs on the CPU (SwiftShader, a fallback adapter); null otherwise. */
async function softwareAdapter(): Promise<string | null> {
  if (!('gpu' in navigator)) return null;
  const adapter = await navigator.gpu.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed';
  return info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description} ${info.device}`) ? name : null;
}

/** The requested backend if it starts and passes the self-test, else the next one down (webgpu → wasm → cpu). */
async function startBackend(requested: BackendChoice): Promise<void> {
  const notes: string[] = [];
  const order: BackendChoice[] = ['webgpu', 'wasm', 'cpu'];
  const candidates = requested === 'auto' ? order : order.slice(order.indexOf(requested));
  if (!('gpu' in navigator)) notes.push('this browser exposes no WebGPU (navigator.gpu is missing in workers)');
  for (const candidate of candidates) {
    if (candidate === 'webgpu' && requested === 'auto') {
      const software = await softwareAdapter();
      if (software) {
        notes.push(`the WebGPU adapter is a software fallback (${software}), slower than WASM here; pick webgpu above to use it anyway`);
        continue;
      }
    }
    try {
      const name = await setBackend(candidate);
      await selfTest();
      if (candidate !== requested && requested !== 'auto') notes.unshift(`${requested} was asked for`);
      post({ type: 'ready', backend: name, requested, notes });
      return;
    } catch (e) {
      notes.push(`${candidate} skipped: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no backend passed the self-test: ${notes.join('; ')}`);
}

// ------------------------------------------------------------------------------------------ loaded checkpoint

interface Loaded {
  model: MambaLM;
  tokenizer: TextTokenizer | null;
  summary: ModelSummary;
}

let loaded: Loaded | null = null;

async function fetchText(url: string, optional: boolean): Promise<string | null> {
  const response = await fetch(url);
  if (response.status === 404 && optional) return null;
  if (!response.ok) throw new Error(`fetching ${url} gave HTTP ${response.status}`);
  return response.text();
}

async function load(source: CheckpointSource): Promise<void> {
  let configText: string;
  let weights: Uint8Array;
  let tokenizerText: string | null;
  let label: string;
  if (source.kind === 'url') {
    const resolved = source.baseUrl.endsWith('/') ? source.baseUrl : `${source.baseUrl}/`;
    configText = (await fetchText(`${resolved}config.json`, false))!;
    const response = await fetch(`${resolved}model.safetensors`);
    if (!response.ok) throw new Error(`fetching ${resolved}model.safetensors gave HTTP ${response.status}`);
    weights = new Uint8Array(await response.arrayBuffer());
    tokenizerText = await fetchText(`${resolved}tokenizer.json`, true);
    label = source.baseUrl;
  } else {
    configText = source.config;
    weights = new Uint8Array(source.weights);
    tokenizerText = source.tokenizer;
    label = source.label;
  }
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (e) {
    throw new Error(`config.json is not JSON: ${(e as Error).message}`);
  }
  const model = await MambaLM.fromPretrained({ config, weights });
  const tok = tokenizerText === null ? null : tokenizerFromJSON(tokenizerText);
  if (tok && tok.tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`tokenizer.json has ${tok.tokenizer.vocabSize} tokens but the model's vocabulary is ${model.config.vocabSize}`);
  }
  if (generation) {
    stopGeneration = true;
    await generation.catch(() => undefined);
  }
  loaded?.model.dispose();
  const c = model.config;
  loaded = {
    model,
    tokenizer: tok?.tokenizer ?? null,
    summary: {
      label,
      mixer: c.mixer,
      parameters: model.parameters().reduce((n, p) => n + p.value.size, 0),
      dModel: c.dModel,
      nLayer: c.nLayer,
      dState: c.dState,
      vocabSize: c.vocabSize,
      tokenizer: tok?.kind ?? 'none (prompt and output are token ids)',
    },
  };
  post({ type: 'loaded', summary: loaded.summary });
}

/** Prompt text → ids: with the tokenizer, or space-separated ids for a checkpoint without one. */
function encodePrompt(tokenizer: TextTokenizer | null, prompt: string): number[] {
  if (tokenizer) return tokenizer.encode(prompt);
  const ids = prompt.trim().split(/[\s,]+/).filter(Boolean).map(Number);
  if (ids.some((id) => !Number.isInteger(id))) throw new Error(`without a tokenizer.json the prompt must be token ids separated by spaces, got '${prompt}'`);
  return ids;
}

// ------------------------------------------------------------------------------------------ generation

/** The end-of-text tokens a tokenizer knows (ssm train's `<|endoftext|>`, GPT-NeoX's too): generation stops there. */
function stopTokensOf(tokenizer: TextTokenizer | null): number[] {
  if (!tokenizer) return [];
  return ['<|endoftext|>', '</s>'].map((t) => tokenizer.tokenToId(t)).filter((id): id is number => id !== undefined);
}

let stopGeneration = false;
/** The generation in progress: loading another checkpoint stops it and waits, since it frees the model. */
let generation: Promise<void> | null = null;

async function generate(prompt: string, sampling: SamplingSettings): Promise<void> {
  if (!loaded) throw new Error('load a checkpoint first');
  const { model, tokenizer } = loaded;
  const ids = encodePrompt(tokenizer, prompt);
  if (ids.length === 0) throw new Error('the prompt is empty: type at least one character');
  stopGeneration = false;
  const decoder = tokenizer?.decoder();
  const started = performance.now();
  let generated = 0;
  const rate = () => (generated * 1000) / Math.max(1, performance.now() - started);
  for await (const [token] of model.stream(ids, {
    maxNewTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    repetitionPenalty: sampling.repetitionPenalty,
    seed: sampling.seed,
    stopTokens: stopTokensOf(tokenizer),
  })) {
    generated++;
    const text = decoder ? decoder.push(token) : ` ${token}`;
    post({ type: 'token', text, generated, tokensPerSecond: rate() });
    await yieldToEvents();
    if (stopGeneration) break;
  }
  const tail = decoder?.flush() ?? '';
  if (tail) post({ type: 'token', text: tail, generated, tokensPerSecond: rate() });
  post({ type: 'generate-done', generated, tokensPerSecond: rate(), stopped: stopGeneration });
}

// ------------------------------------------------------------------------------------------ live training

let live: LiveModel[] | null = null;
let liveSettings: TrainSettings | null = null;
let training = false;
let stopTraining = false;

async function train(settings: TrainSettings): Promise<void> {
  if (training) throw new Error('training is already running; stop it first');
  for (const m of live ?? []) {
    m.optimizer.dispose();
    m.model.dispose();
  }
  live = createLiveModels(settings);
  liveSettings = settings;
  training = true;
  stopTraining = false;
  post({
    type: 'train-started',
    models: live.map((m) => ({ name: m.name, parameters: m.parameters, description: m.description })),
  });
  try {
    const steps = await trainSideBySide(live, settings, (points) => post({ type: 'train-progress', points }), () => stopTraining, yieldToEvents);
    post({ type: 'train-stopped', steps });
  } finally {
    training = false;
  }
}

// ------------------------------------------------------------------------------------------ looking inside

function inspectedModel(target: InspectTarget): { model: MambaLM; tokenizer: TextTokenizer | null } {
  if (target === 'loaded') {
    if (!loaded) throw new Error('load a checkpoint first (Generate panel), or inspect the Mamba trained live');
    return loaded;
  }
  const mamba = live?.find((m) => m.name === 'mamba');
  if (!mamba) throw new Error('train first: the live-trained Mamba does not exist yet');
  return { model: mamba.model, tokenizer: null };
}

async function inspect(target: InspectTarget, text: string): Promise<void> {
  const { model, tokenizer } = inspectedModel(target);
  // The task model reads ids 0…15; unless it is given ids, it gets a fresh sequence of its task.
  const ids =
    target === 'trained' && !/^[\d\s,]+$/.test(text) && liveSettings
      ? Array.from(taskBatches({ ...liveSettings, seed: liveSettings.seed + 7 }).heldOut.inputs.subarray(0, liveSettings.seqLen + liveSettings.numTokens))
      : encodePrompt(tokenizer, text).slice(0, 256);
  if (ids.length === 0) throw new Error('nothing to inspect: type some text');
  const tokens = tokenizer ? ids.map((id) => tokenizer.decode([id])) : ids.map(String);
  const deltas = await deltasOf(model, ids);
  const norms = await stateNormsOf(model, ids);
  post({
    type: 'inspection',
    inspection: {
      target,
      tokens,
      dInner: model.config.dInner,
      layers: deltas.map((delta, i) => ({ delta, stateNorm: norms[i] })),
      deltaSource: DELTA_SOURCE,
    },
  });
}

// ------------------------------------------------------------------------------------------ dispatch

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'init':
      return startBackend(request.backend);
    case 'load':
      return load(request.source);
    case 'generate': {
      if (generation) throw new Error('a generation is already running; stop it first');
      generation = generate(request.prompt, request.sampling).finally(() => (generation = null));
      return generation;
    }
    case 'stop-generate':
      stopGeneration = true;
      return;
    case 'train-start':
      return train(request.settings);
    case 'train-stop':
      stopTraining = true;
      return;
    case 'inspect':
      return inspect(request.target, request.text);
    case 'theory': {
      const s4d = live?.find((m) => m.name === 's4d');
      post({ type: 'theory', theory: await theoryPlots(request.hippoN, request.kernelLength, s4d ? s4d.model : null) });
      return;
    }
  }
}

/** Settles when the backend has started: requests that come earlier wait for it. */
let backendStarted: Promise<void> | null = null;

self.onmessage = (event: MessageEvent<Request>) => {
  const request = event.data;
  let work: Promise<void>;
  if (request.type === 'init') work = backendStarted = handle(request);
  else work = (backendStarted ?? Promise.resolve()).catch(() => undefined).then(() => handle(request));
  work.catch((e: unknown) => {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    console.error(`[worker] ${request.type} failed on ${getBackend()}:`, e, memory());
    post({ type: 'error', during: request.type, message });
  });
};
