/**
 * The page: wires the controls to the model worker and draws what it sends back. Nothing here touches a
 * tensor; every request and answer is typed in protocol.ts.
 */
import { formatTick, heatmap, lineChart, matrixPlot, quantileRange, sequentialColor, visibleToken, type Series } from './charts';
import type {
  BackendChoice, Inspection, InspectTarget, Request, Response, SamplingSettings, Theory, TrainedModelName, TrainPoint, TrainSettings, WorkerRole,
} from './protocol';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page: no element #${id}`);
  return element as T;
};
const numberOf = (id: string): number => Number($<HTMLInputElement>(id).value);

const COLORS: Record<TrainedModelName, string> = { mamba: '#2563eb', s4d: '#ea580c' };
const LABELS: Record<TrainedModelName, string> = { mamba: 'Mamba (S6)', s4d: 'S4D (LTI)' };
const LAYER_COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#db2777'];

/** 'main' does everything but the S4D baseline, which trains in 'baseline' at the same time (its own core). */
const workers: Record<WorkerRole, Worker | null> = { main: null, baseline: null };

function startWorker(role: WorkerRole): Worker {
  const w = new Worker(new URL('./worker/worker.ts', import.meta.url), { type: 'module', name: `ssmjs-${role}` });
  w.onmessage = (event: MessageEvent<Response>) => onResponse(event.data, role);
  w.onerror = (event) => showError(`${role} worker: ${event.message || 'failed to start'}`);
  w.postMessage({ type: 'init', backend: backendChoice.value as BackendChoice } satisfies Request);
  workers[role] = w;
  return w;
}

function send(request: Request, role: WorkerRole = 'main', transfer: Transferable[] = []): void {
  (workers[role] ?? startWorker(role)).postMessage(request, transfer);
}

function showError(message: string): void {
  $('errors').textContent = message;
}

// ------------------------------------------------------------------------------------------ backend

const backendChoice = $<HTMLSelectElement>('backend-choice');
backendChoice.addEventListener('change', () => {
  // A backend is chosen once per worker; new ones start clean (loaded models and training are dropped).
  for (const role of ['main', 'baseline'] as const) {
    workers[role]?.terminate();
    workers[role] = null;
  }
  resetAfterRestart();
  init();
});

function init(): void {
  const badge = $('backend');
  badge.className = 'badge pending';
  badge.textContent = 'starting…';
  badge.dataset.backend = '';
  startWorker('main');
}

function showBackend(name: string, notes: string[]): void {
  const badge = $('backend');
  const label = name === 'webgpu' ? 'WebGPU' : name === 'wasm' ? 'WASM' : name === 'cpu' ? 'CPU (plain JS)' : name;
  badge.textContent = `running on ${label}`;
  badge.className = `badge ${name}`;
  badge.dataset.backend = name;
  $('backend-notes').textContent = notes.join('; ');
}

function resetAfterRestart(): void {
  trainingIn.clear();
  history.clear();
  $('train-models').innerHTML = '';
  markLoading('No checkpoint loaded. “Load URL” loads the bundled tiny model.');
  setGenerating(false);
  $<HTMLButtonElement>('generate').disabled = true;
  setTrainingButtons(false);
  $('train-stats').querySelector('tbody')!.innerHTML = '';
  drawTraining();
}

// ------------------------------------------------------------------------------------------ checkpoint loading

/** The model line says what is happening; `data-loaded` appears again only when this load has finished. */
function markLoading(text: string): void {
  const info = $('model-info');
  info.textContent = text;
  delete info.dataset.loaded;
  showError('');
}

async function loadFiles(files: FileList | File[]): Promise<void> {
  const byName = new Map([...files].map((f) => [f.name, f]));
  const config = byName.get('config.json');
  const weights = byName.get('model.safetensors') ?? [...files].find((f) => f.name.endsWith('.safetensors'));
  if (!config || !weights) {
    showError(`Need config.json and model.safetensors (tokenizer.json optional); got ${[...byName.keys()].join(', ') || 'no files'}`);
    return;
  }
  const tokenizer = byName.get('tokenizer.json');
  markLoading(`Loading ${weights.name} (${(weights.size / 1024).toFixed(0)} KiB)…`);
  const buffer = await weights.arrayBuffer();
  send(
    {
      type: 'load',
      source: { kind: 'files', config: await config.text(), weights: buffer, tokenizer: tokenizer ? await tokenizer.text() : null, label: weights.name },
    },
    'main',
    [buffer],
  );
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer?.files.length) void loadFiles(e.dataTransfer.files);
});
$<HTMLInputElement>('files').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  if (input.files?.length) void loadFiles(input.files);
});
$('load-url').addEventListener('click', () => {
  const typed = $<HTMLInputElement>('url').value.trim();
  // Relative to the page (the worker's own address is under assets/).
  const baseUrl = new URL(typed.endsWith('/') ? typed : `${typed}/`, document.baseURI).href;
  markLoading(`Loading ${baseUrl}…`);
  send({ type: 'load', source: { kind: 'url', baseUrl } });
});

// ------------------------------------------------------------------------------------------ generation

const output = $('output');
let generating = false;

function setGenerating(on: boolean): void {
  generating = on;
  $<HTMLButtonElement>('generate').disabled = on;
  $<HTMLButtonElement>('stop-generate').disabled = !on;
}

$('generate').addEventListener('click', () => {
  const prompt = $<HTMLTextAreaElement>('prompt').value;
  const sampling: SamplingSettings = {
    temperature: numberOf('temperature'),
    topK: numberOf('top-k'),
    topP: numberOf('top-p'),
    maxTokens: numberOf('max-tokens'),
    repetitionPenalty: numberOf('repetition-penalty'),
    seed: numberOf('seed'),
  };
  output.innerHTML = '';
  const shown = document.createElement('span');
  shown.className = 'prompt';
  shown.textContent = prompt;
  output.append(shown, document.createElement('span'));
  output.dataset.generated = '0';
  $('gen-stats').textContent = 'generating…';
  delete $('gen-stats').dataset.done;
  showError('');
  setGenerating(true);
  send({ type: 'generate', prompt, sampling });
});
$('stop-generate').addEventListener('click', () => send({ type: 'stop-generate' }));

// ------------------------------------------------------------------------------------------ live training

const history = new Map<TrainedModelName, TrainPoint[]>();
/** The workers whose training has not reported its end yet. */
const trainingIn = new Set<WorkerRole>();
const TRAINED_IN: Record<TrainedModelName, WorkerRole> = { mamba: 'main', s4d: 'baseline' };

function setTrainingButtons(on: boolean): void {
  $<HTMLButtonElement>('train-start').disabled = on;
  $<HTMLButtonElement>('train-stop').disabled = !on;
}

$('train-start').addEventListener('click', () => {
  const settings: Omit<TrainSettings, 'models'> = {
    seqLen: numberOf('seq-len'),
    numTokens: numberOf('num-tokens'),
    dModel: numberOf('d-model'),
    nLayer: numberOf('n-layer'),
    batch: numberOf('batch'),
    lr: numberOf('lr'),
    evalEvery: 5,
    maxSteps: 0,
    seed: 0,
  };
  history.clear();
  $('train-stats').querySelector('tbody')!.innerHTML = '';
  $('train-models').innerHTML = '';
  showError('');
  drawTraining();
  setTrainingButtons(true);
  for (const name of ['mamba', 's4d'] as const) {
    trainingIn.add(TRAINED_IN[name]);
    send({ type: 'train-start', settings: { ...settings, models: [name] } }, TRAINED_IN[name]);
  }
});
$('train-stop').addEventListener('click', () => {
  for (const role of trainingIn) send({ type: 'train-stop' }, role);
});

let drawScheduled = false;
/** Charts redraw at most once per frame however fast points arrive. */
function scheduleTrainingDraw(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    drawScheduled = false;
    drawTraining();
  });
}

function drawTraining(): void {
  const loss: Series[] = [];
  const accuracy: Series[] = [];
  for (const [name, points] of history) {
    loss.push({ name: LABELS[name], color: COLORS[name], points: smooth(points.map((p) => [p.step, p.loss])) });
    accuracy.push({ name: LABELS[name], color: COLORS[name], points: points.filter((p) => p.accuracy !== null).map((p) => [p.step, p.accuracy!]) });
  }
  lineChart($<HTMLCanvasElement>('loss-chart'), loss, { xLabel: 'step', yLabel: 'loss (nats)', logY: true, empty: 'press Start' });
  lineChart($<HTMLCanvasElement>('accuracy-chart'), accuracy, { xLabel: 'step', yLabel: 'accuracy', yMin: 0, yMax: 1, empty: 'press Start' });
  updateTrainTable();
  updateTaskExample();
}

/** The held-out sequence the models are asked about, and each model's latest answers at its markers. */
function updateTaskExample(): void {
  const box = $('task-example');
  box.innerHTML = '';
  const latest = [...history].map(([name, points]) => [name, [...points].reverse().find((p) => p.example)] as const).filter(([, p]) => p);
  if (latest.length === 0) return;
  const chip = (text: string, cls: string) => {
    const span = document.createElement('span');
    span.className = `tok ${cls}`;
    span.textContent = text;
    return span;
  };
  const line = (what: string, chips: HTMLElement[]) => {
    const row = document.createElement('div');
    row.className = 'line';
    const label = document.createElement('span');
    label.className = 'what';
    label.textContent = what;
    row.append(label, ...chips);
    box.append(row);
  };
  const { inputs, expected } = latest[0][1]!.example!;
  const marker = 15; // Selective Copying's marker: the last id of its 16-token vocabulary
  line(
    'held-out input (· noise, ▸ marker)',
    inputs.map((t) => (t === 0 ? chip('·', 'noise') : t === marker ? chip('▸', 'marker') : chip(String(t), 'data'))),
  );
  line('expected at the markers', expected.map((t) => chip(String(t), 'data')));
  for (const [name, point] of latest) {
    const { predicted } = point!.example!;
    line(`${LABELS[name]}, step ${point!.step}`, predicted.map((t, i) => chip(String(t), t === expected[i] ? 'right' : 'wrong')));
  }
}

/** Exponential moving average (0.8), so the curve shows the trend through batch noise. */
function smooth(points: [number, number][]): [number, number][] {
  let average = Number.NaN;
  return points.map(([x, y]) => {
    average = Number.isNaN(average) ? y : 0.8 * average + 0.2 * y;
    return [x, average];
  });
}

function updateTrainTable(): void {
  const body = $('train-stats').querySelector('tbody')!;
  for (const [name, points] of history) {
    if (points.length === 0) continue;
    let row = body.querySelector<HTMLTableRowElement>(`tr[data-model='${name}']`);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.model = name;
      row.innerHTML = `<td><span class="swatch" style="background:${COLORS[name]}"></span>${LABELS[name]}</td><td class="step"></td><td class="first-loss"></td><td class="loss"></td><td class="accuracy"></td><td class="ms"></td>`;
      body.append(row);
    }
    const last = points[points.length - 1];
    const lastAccuracy = [...points].reverse().find((p) => p.accuracy !== null)?.accuracy ?? null;
    const recent = points.slice(-10);
    const recentLoss = recent.reduce((s, p) => s + p.loss, 0) / recent.length;
    const cells = {
      step: String(last.step),
      'first-loss': points[0].loss.toFixed(3),
      loss: recentLoss.toFixed(3),
      accuracy: lastAccuracy === null ? '—' : `${(100 * lastAccuracy).toFixed(1)}%`,
      ms: (recent.reduce((s, p) => s + p.stepMs, 0) / recent.length).toFixed(0),
    };
    for (const [cls, text] of Object.entries(cells)) row.querySelector(`.${cls}`)!.textContent = text;
    // Raw numbers for scripts and tests: the loss averaged over the last 10 steps, and the first step's.
    row.dataset.step = String(last.step);
    row.dataset.firstLoss = String(points[0].loss);
    row.dataset.recentLoss = String(recentLoss);
  }
}

// ------------------------------------------------------------------------------------------ looking inside

let inspection: Inspection | null = null;
/** Each model keeps its own input: text for the checkpoint, task ids for the trained model. */
const inspectTarget = $<HTMLSelectElement>('inspect-target');
const inspectText = $<HTMLTextAreaElement>('inspect-text');
const inputs: Record<InspectTarget, string> = { loaded: inspectText.value, trained: '' };
let shownTarget = inspectTarget.value as InspectTarget;
inspectTarget.addEventListener('change', () => {
  inputs[shownTarget] = inspectText.value;
  shownTarget = inspectTarget.value as InspectTarget;
  inspectText.value = inputs[shownTarget];
  inspectText.placeholder = shownTarget === 'trained' ? 'token ids 0…15, or leave empty for a Selective Copying sequence' : '';
});

$('inspect').addEventListener('click', () => {
  const target = inspectTarget.value as InspectTarget;
  const text = inspectText.value;
  $('delta-caption').textContent = 'computing…';
  showError('');
  send({ type: 'inspect', target, text });
});
$('inspect-layer').addEventListener('change', () => drawInspection());
$('delta-scale').addEventListener('change', () => drawInspection());

function showInspection(result: Inspection): void {
  inspection = result;
  // The task model reads ids: show the sequence it was given (the worker makes one when the text was not ids).
  if (result.target === 'trained') {
    inputs.trained = result.tokens.join(' ');
    if (shownTarget === 'trained') inspectText.value = inputs.trained;
  }
  const layerSelect = $<HTMLSelectElement>('inspect-layer');
  const current = Math.min(Number(layerSelect.value), result.layers.length - 1);
  layerSelect.innerHTML = result.layers.map((_, i) => `<option value="${i}">${i}</option>`).join('');
  layerSelect.value = String(Math.max(0, current));
  drawInspection();
}

function drawInspection(): void {
  if (!inspection) return;
  const { tokens, dInner, layers } = inspection;
  const layer = Number($<HTMLSelectElement>('inspect-layer').value);
  const L = tokens.length;
  // Rows = channels, columns = tokens: transpose the worker's [L × dInner]. Δ spans decades (its init is
  // log-uniform in [0.001, 0.1]), so colors follow log Δ, or log of Δ over the channel's own mean, which
  // shows which tokens each channel reacts to whatever its base level.
  const delta = layers[layer].delta;
  const relative = $<HTMLSelectElement>('delta-scale').value === 'relative';
  const byChannel = new Float32Array(L * dInner);
  for (let c = 0; c < dInner; c++) {
    let logMean = 0;
    for (let t = 0; t < L; t++) logMean += Math.log10(delta[t * dInner + c]) / L;
    for (let t = 0; t < L; t++) byChannel[c * L + t] = Math.log10(delta[t * dInner + c]) - (relative ? logMean : 0);
  }
  const [lo, hi] = heatmap($<HTMLCanvasElement>('delta-heatmap'), byChannel, dInner, L, {
    columnLabels: tokens,
    xLabel: 'token',
    yLabel: `channel (of ${dInner})`,
    tickLabel: (v) => (relative ? `×${formatTick(10 ** v)}` : formatTick(10 ** v)),
  });
  const scale = relative ? `Δ ÷ the channel's geometric mean, ×${(10 ** lo).toPrecision(2)}…×${(10 ** hi).toPrecision(2)}` : `Δ ${(10 ** lo).toPrecision(3)}…${(10 ** hi).toPrecision(3)}`;
  $('delta-caption').textContent = `Δ per token (x) and channel (y), layer ${layer}; color range (log scale, 2nd–98th percentile): ${scale}. ${inspection.deltaSource}.`;

  // The strip shades each token by the column mean of the heatmap's values (log Δ, relative or not).
  const means = Float32Array.from({ length: L }, (_, t) => {
    let s = 0;
    for (let c = 0; c < dInner; c++) s += byChannel[c * L + t];
    return s / dInner;
  });
  const [mLo, mHi] = quantileRange(means);
  const strip = $('token-strip');
  strip.innerHTML = '';
  strip.dataset.target = inspection.target;
  tokens.forEach((token, t) => {
    const span = document.createElement('span');
    const level = (means[t] - mLo) / (mHi - mLo || 1);
    span.textContent = token;
    span.style.background = sequentialColor(level);
    span.style.color = level > 0.6 ? '#111' : '#fff';
    span.title = `${visibleToken(token)}: mean Δ over channels ${relative ? '×' : ''}${(10 ** means[t]).toPrecision(3)}`;
    strip.append(span);
  });

  const norms: Series[] = layers.map((l, i) => ({
    name: `layer ${i}`,
    color: LAYER_COLORS[i % LAYER_COLORS.length],
    points: Array.from(l.stateNorm, (v, t) => [t, v] as [number, number]),
  }));
  lineChart($<HTMLCanvasElement>('state-chart'), norms, { xLabel: 'token position', yLabel: '‖h_t‖' });
}

function showTheory(theory: Theory): void {
  matrixPlot($<HTMLCanvasElement>('hippo-legs'), theory.legsA, theory.hippoN, 'A, LegS (lower triangular)');
  matrixPlot($<HTMLCanvasElement>('hippo-legt'), theory.legtA, theory.hippoN, 'A, LegT');
  lineChart($<HTMLCanvasElement>('kernel-chart'), theory.kernels.map(kernelSeries), { xLabel: 'lag l', yLabel: 'K_l' });
}

const KERNEL_COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea'];

function kernelSeries(k: { name: string; values: ArrayLike<number> }, i: number): Series {
  return { name: k.name, color: KERNEL_COLORS[i % KERNEL_COLORS.length], points: Array.from(k.values, (v, l) => [l, v] as [number, number]) };
}

function showTrainedKernels(kernels: Theory['trainedKernels']): void {
  lineChart($<HTMLCanvasElement>('trained-kernel-chart'), kernels.map(kernelSeries), {
    xLabel: 'lag l',
    yLabel: 'K_l',
    empty: 'train live (above), then they appear here',
  });
}

/** Empty plots say what fills them. */
function drawPlaceholders(): void {
  const hint = 'press Inspect';
  lineChart($<HTMLCanvasElement>('delta-heatmap'), [], { xLabel: '', yLabel: '', empty: hint });
  lineChart($<HTMLCanvasElement>('state-chart'), [], { xLabel: '', yLabel: '', empty: hint });
}

// ------------------------------------------------------------------------------------------ responses

function onResponse(r: Response, role: WorkerRole): void {
  switch (r.type) {
    case 'ready':
      // The badge shows the main worker's backend; the baseline worker picks the same way.
      if (role === 'main') {
        showBackend(r.backend, r.notes);
        send({ type: 'theory', hippoN: 32, kernelLength: 256 });
      }
      return;
    case 'loaded': {
      const s = r.summary;
      const info = $('model-info');
      info.textContent = `Loaded ${s.label}: ${s.mixer === 'mamba' ? 'Mamba' : `${s.mixer.toUpperCase()} mixer in the Mamba block`}, ${s.nLayer} layers, d_model ${s.dModel}, N ${s.dState}, vocab ${s.vocabSize}, ${(s.parameters / 1000).toFixed(1)}k parameters; tokenizer: ${s.tokenizer}.`;
      info.dataset.loaded = 'true';
      $<HTMLButtonElement>('generate').disabled = generating;
      return;
    }
    case 'token': {
      output.lastElementChild!.textContent += r.text;
      output.dataset.generated = String(r.generated);
      output.scrollTop = output.scrollHeight;
      $('gen-stats').textContent = `${r.generated} tokens, ${r.tokensPerSecond.toFixed(1)} tokens/s`;
      return;
    }
    case 'generate-done':
      $('gen-stats').textContent = `${r.stopped ? 'stopped after' : 'done:'} ${r.generated} tokens, ${r.tokensPerSecond.toFixed(1)} tokens/s`;
      $('gen-stats').dataset.done = 'true';
      setGenerating(false);
      return;
    case 'train-started':
      for (const m of r.models) {
        history.set(m.name, []);
        const line = document.createElement('div');
        line.textContent = `${LABELS[m.name]}: ${m.description}, ${(m.parameters / 1000).toFixed(1)}k parameters (own worker)`;
        $('train-models').append(line);
      }
      return;
    case 'train-progress':
      for (const p of r.points) history.get(p.model)?.push(p);
      scheduleTrainingDraw();
      return;
    case 'train-stopped':
      trainingDone(role);
      return;
    case 'inspection':
      showInspection(r.inspection);
      return;
    case 'theory':
      if (role === 'main') showTheory(r.theory);
      else showTrainedKernels(r.theory.trainedKernels);
      return;
    case 'error':
      showError(`${role === 'baseline' ? 'S4D worker, ' : ''}${r.during}: ${r.message}`);
      if (r.during === 'generate') setGenerating(false);
      if (r.during === 'train-start') trainingDone(role);
      if (r.during === 'load') $('model-info').textContent = 'Loading failed (see the message above).';
      if (r.during === 'inspect') $('delta-caption').textContent = 'Δ per token (x) and channel (y)';
      return;
  }
}

/** One worker's training ended; when both have, the buttons reset and the learned S4D kernels are drawn. */
function trainingDone(role: WorkerRole): void {
  trainingIn.delete(role);
  if (trainingIn.size > 0) return;
  setTrainingButtons(false);
  drawTraining();
  if (history.has('s4d')) send({ type: 'theory', hippoN: 32, kernelLength: 256 }, 'baseline');
}

window.addEventListener('resize', () => {
  drawTraining();
  drawInspection();
});

// ?backend=wasm (or webgpu, cpu) picks the backend from the address.
const fromAddress = new URLSearchParams(location.search).get('backend');
if (fromAddress && [...backendChoice.options].some((o) => o.value === fromAddress)) backendChoice.value = fromAddress;
drawTraining();
drawPlaceholders();
showTrainedKernels([]);
init();
