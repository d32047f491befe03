/**
 * Small canvas plots: line charts, heatmaps and matrices. Each draws the whole picture from its data, sized to
 * the canvas's CSS box at the device's pixel ratio.
 */

export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  xLabel: string;
  yLabel: string;
  /** Fixed y range; otherwise the data's (with a margin). */
  yMin?: number;
  yMax?: number;
  /** Plot y on a log scale (data must be positive). */
  logY?: boolean;
  empty?: string;
}

const AXIS = '#6b7280';
const GRID = '#e5e7eb';
const TEXT = '#374151';
const FONT = '12px system-ui, sans-serif';

/** The 2D context with its transform set so that drawing is in CSS pixels. */
function context(canvas: HTMLCanvasElement): { g: CanvasRenderingContext2D; width: number; height: number } {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = FONT;
  return { g, width, height };
}

/** 4–6 round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

export function lineChart(canvas: HTMLCanvasElement, series: readonly Series[], options: LineChartOptions): void {
  const { g, width, height } = context(canvas);
  const pad = { left: 52, right: 12, top: 10, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0));
  if (all.length === 0) {
    g.strokeStyle = GRID;
    g.setLineDash([4, 4]);
    g.strokeRect(pad.left, pad.top, plotW, plotH);
    g.setLineDash([]);
    g.fillStyle = AXIS;
    g.textAlign = 'center';
    g.fillText(options.empty ?? 'no data yet', width / 2, height / 2);
    return;
  }
  const f = options.logY ? Math.log10 : (v: number) => v;
  let xMin = Math.min(...all.map(([x]) => x));
  let xMax = Math.max(...all.map(([x]) => x));
  if (xMax === xMin) xMax = xMin + 1;
  let yMin = options.yMin ?? Math.min(...all.map(([, y]) => f(y)));
  let yMax = options.yMax ?? Math.max(...all.map(([, y]) => f(y)));
  if (yMax === yMin) {
    yMin -= 0.5;
    yMax += 0.5;
  } else if (options.yMin === undefined) {
    const margin = (yMax - yMin) * 0.05;
    yMin -= margin;
    yMax += margin;
  }
  if (xMin > 0 && xMin < xMax * 0.2) xMin = 0;
  const px = (x: number) => pad.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => pad.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

  g.strokeStyle = GRID;
  g.lineWidth = 1;
  g.fillStyle = TEXT;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of ticks(yMin, yMax)) {
    g.beginPath();
    g.moveTo(pad.left, py(t));
    g.lineTo(pad.left + plotW, py(t));
    g.stroke();
    g.fillText(options.logY ? formatTick(10 ** t) : formatTick(t), pad.left - 6, py(t));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const t of ticks(xMin, xMax, 6)) g.fillText(formatTick(t), px(t), pad.top + plotH + 4);
  g.strokeStyle = AXIS;
  g.strokeRect(pad.left, pad.top, plotW, plotH);
  g.fillText(options.xLabel, pad.left + plotW / 2, height - 14);
  g.save();
  g.translate(12, pad.top + plotH / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText(options.yLabel, 0, 0);
  g.restore();

  g.save();
  g.beginPath();
  g.rect(pad.left, pad.top, plotW, plotH);
  g.clip();
  for (const s of series) {
    g.strokeStyle = s.color;
    g.lineWidth = 1.8;
    g.beginPath();
    let started = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y) || (options.logY && y <= 0)) continue;
      if (started) g.lineTo(px(x), py(f(y)));
      else g.moveTo(px(x), py(f(y)));
      started = true;
    }
    g.stroke();
  }
  g.restore();

  // Legend, top right inside the plot.
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  const legendW = Math.max(...series.map((s) => g.measureText(s.name).width)) + 28;
  let y = pad.top + 12;
  g.fillStyle = 'rgba(255,255,255,0.85)';
  g.fillRect(pad.left + plotW - legendW - 6, pad.top + 3, legendW + 2, series.length * 16 + 4);
  for (const s of series) {
    g.fillStyle = s.color;
    g.fillRect(pad.left + plotW - legendW, y - 2, 14, 4);
    g.fillStyle = TEXT;
    g.fillText(s.name, pad.left + plotW - legendW + 20, y);
    y += 16;
  }
}

/** Viridis-like ramp from dark blue (0) to yellow (1). */
export function sequentialColor(t: number): string {
  const stops: [number, number, number][] = [
    [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Blue (−1) – white (0) – red (+1). */
function divergingColor(t: number): string {
  const v = Math.min(1, Math.max(-1, t));
  const fade = Math.round(255 * (1 - Math.abs(v)));
  return v >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}

export interface HeatmapOptions {
  /** Labels along x (one per column), drawn when they fit. */
  columnLabels?: readonly string[];
  xLabel: string;
  yLabel: string;
  /** Color scale: [lo, hi] of the values; quantiles of the data otherwise. */
  range?: [number, number];
  /** How the color bar labels a value (default: the value itself). */
  tickLabel?: (v: number) => string;
}

/**
 * values[row * cols + col] as colored cells, rows top to bottom, with a color bar. Δ heatmaps put channels
 * on rows and tokens on columns.
 */
export function heatmap(canvas: HTMLCanvasElement, values: Float32Array, rows: number, cols: number, options: HeatmapOptions): [number, number] {
  const { g, width, height } = context(canvas);
  const pad = { left: 44, right: 64, top: 8, bottom: options.columnLabels ? 46 : 30 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const [lo, hi] = options.range ?? quantileRange(values);
  const cellW = plotW / cols;
  const cellH = plotH / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      g.fillStyle = sequentialColor((values[r * cols + c] - lo) / (hi - lo || 1));
      g.fillRect(pad.left + c * cellW, pad.top + r * cellH, Math.ceil(cellW), Math.ceil(cellH));
    }
  }
  g.fillStyle = TEXT;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  if (options.columnLabels && cellW >= 9) {
    for (let c = 0; c < cols; c++) {
      const label = visibleToken(options.columnLabels[c]);
      g.fillText(label.length > 3 ? `${label.slice(0, 3)}…` : label, pad.left + (c + 0.5) * cellW, pad.top + plotH + 4);
    }
  }
  g.fillText(options.xLabel, pad.left + plotW / 2, height - 14);
  g.save();
  g.translate(12, pad.top + plotH / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText(options.yLabel, 0, 0);
  g.restore();
  colorBar(g, pad.left + plotW + 12, pad.top, plotH, lo, hi, sequentialColor, options.tickLabel);
  return [lo, hi];
}

function colorBar(
  g: CanvasRenderingContext2D, x: number, y: number, h: number, lo: number, hi: number, color: (t: number) => string, label = formatTick,
): void {
  for (let i = 0; i < h; i++) {
    g.fillStyle = color(1 - i / h);
    g.fillRect(x, y + i, 12, 1.5);
  }
  g.fillStyle = TEXT;
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(label(hi), x + 16, y);
  g.textBaseline = 'bottom';
  g.fillText(label(lo), x + 16, y + h);
}

/** 2nd and 98th percentiles: a few extreme channels should not wash out the rest. */
export function quantileRange(values: Float32Array): [number, number] {
  const sorted = Float32Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
  const lo = at(0.02);
  const hi = at(0.98);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/** A square matrix (row-major) with a symmetric diverging scale around 0. */
export function matrixPlot(canvas: HTMLCanvasElement, values: Float64Array, n: number, title: string): void {
  const { g, width, height } = context(canvas);
  const titleH = 18;
  const size = Math.min(width - 56, height - titleH - 6);
  const x0 = 4;
  const y0 = titleH;
  const scale = Math.max(...Array.from(values, Math.abs)) || 1;
  const cell = size / n;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      g.fillStyle = divergingColor(values[r * n + c] / scale);
      g.fillRect(x0 + c * cell, y0 + r * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
  g.strokeStyle = GRID;
  g.strokeRect(x0, y0, size, size);
  g.fillStyle = TEXT;
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(title, x0, 2);
  colorBar(g, x0 + size + 8, y0, size, -scale, scale, (t) => divergingColor(2 * t - 1));
}

/** Whitespace and control characters made visible for labels. */
export function visibleToken(text: string): string {
  return text.replace(/ /g, '␣').replace(/\n/g, '⏎').replace(/\t/g, '⇥');
}
