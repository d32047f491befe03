/**
 * The messages between the page (main.ts) and the model worker (worker.ts). Every model, tensor and
 * backend lives in the worker; the page only sends requests and draws what comes back.
 */

export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export type TrainedModelName = 'mamba' | 's4d';

/** A checkpoint as the page hands it over: file contents, or a base URL the worker fetches from. */
export type CheckpointSource =
  | { kind: 'files'; config: string; weights: ArrayBuffer; tokenizer: string | null; label: string }
  /** An absolute URL of the folder holding config.json, model.safetensors and (optionally) tokenizer.json. */
  | { kind: 'url'; baseUrl: string };

export interface SamplingSettings {
  temperature: number;
  topK: number;
  topP: number;
  maxTokens: number;
  /** > 1 discourages tokens already in the text (1: off). */
  repetitionPenalty: number;
  seed: number;
}

export interface TrainSettings {
  /** The models this worker trains; the page runs Mamba and the S4D baseline in two workers, in parallel. */
  models: TrainedModelName[];
  /** Noise region of Selective Copying; sequences are seqLen + numTokens long. */
  seqLen: number;
  /** Data tokens to memorize. */
  numTokens: number;
  dModel: number;
  nLayer: number;
  batch: number;
  lr: number;
  /** Held-out accuracy every this many steps. */
  evalEvery: number;
  /** Stop by itself after this many steps (0: until stopped). */
  maxSteps: number;
  seed: number;
}

/** Which model "Look inside" reads: the loaded checkpoint or the Mamba trained live. */
export type InspectTarget = 'loaded' | 'trained';

export type Request =
  | { type: 'init'; backend: BackendChoice }
  | { type: 'load'; source: CheckpointSource }
  | { type: 'generate'; prompt: string; sampling: SamplingSettings }
  | { type: 'stop-generate' }
  | { type: 'train-start'; settings: TrainSettings }
  | { type: 'train-stop' }
  | { type: 'inspect'; target: InspectTarget; text: string }
  | { type: 'theory'; hippoN: number; kernelLength: number };

/**
 * The page runs two copies of the worker: 'main' (backend badge, checkpoint, generation, Mamba training,
 * inspection, HiPPO plots) and 'baseline' (the S4D model trained beside Mamba, and its learned kernels).
 */
export type WorkerRole = 'main' | 'baseline';


export interface TrainPoint {
  model: TrainedModelName;
  step: number;
  loss: number;
  /** Held-out token accuracy at the marker positions, when evaluated at this step. */
  accuracy: number | null;
  /** With the accuracy: the first held-out sequence, what it asks at the markers, and what the model answered. */
  example: TaskExample | null;
  stepMs: number;
}

export interface TaskExample {
  inputs: number[];
  /** The data tokens to recall, in order, and the model's argmax at each marker. */
  expected: number[];
  predicted: number[];
}

export interface ModelSummary {
  label: string;
  /** The blocks' mixer: 'mamba' (selective) or an LTI one ('s4d', 's4'). */
  mixer: string;
  parameters: number;
  dModel: number;
  nLayer: number;
  dState: number;
  vocabSize: number;
  /** 'ByteTokenizer', 'CharTokenizer', 'Tokenizer (BPE)' or 'none (token ids)'. */
  tokenizer: string;
}

/** One layer's view of a sequence. */
export interface LayerInspection {
  /** Δ = softplus(dt_proj(x_proj(silu(conv(in_proj x)))) + bias), [L × dInner] row-major. */
  delta: Float32Array;
  /** ‖h_t‖ (Frobenius, over channels and states) of the SSM state after each token, [L]. */
  stateNorm: Float32Array;
}

export interface Inspection {
  target: InspectTarget;
  /** The text of each token (ids as text where there is no tokenizer). */
  tokens: string[];
  dInner: number;
  layers: LayerInspection[];
  /** How Δ was obtained, shown beside the heatmap. */
  deltaSource: string;
}

export interface Theory {
  hippoN: number;
  /** HiPPO-LegS A (N×N row-major) and B, and HiPPO-LegT A, as @ssmjs/hippo builds them. */
  legsA: Float64Array;
  legsB: Float64Array;
  legtA: Float64Array;
  /** S4D kernels K_0…K_{L−1}, one per named initialization. */
  kernels: { name: string; values: Float64Array }[];
  /** Kernels of the live-trained S4D channels, when the baseline exists and has trained. */
  trainedKernels: { name: string; values: Float32Array }[];
}

export type Response =
  | { type: 'ready'; backend: string; requested: BackendChoice; notes: string[] }
  | { type: 'loaded'; summary: ModelSummary }
  | { type: 'token'; text: string; generated: number; tokensPerSecond: number }
  | { type: 'generate-done'; generated: number; tokensPerSecond: number; stopped: boolean }
  | { type: 'train-started'; models: { name: TrainedModelName; parameters: number; description: string }[] }
  | { type: 'train-progress'; points: TrainPoint[] }
  | { type: 'train-stopped'; steps: number }
  | { type: 'inspection'; inspection: Inspection }
  | { type: 'theory'; theory: Theory }
  | { type: 'error'; during: Request['type']; message: string };

/** Transferable buffers of a response, so large arrays move instead of being copied. */
export function transferablesOf(response: Response): Transferable[] {
  if (response.type === 'inspection') return response.inspection.layers.flatMap((l) => [l.delta.buffer, l.stateNorm.buffer] as ArrayBuffer[]);
  return [];
}
