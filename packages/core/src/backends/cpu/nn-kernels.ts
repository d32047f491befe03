import { ValueError } from '../../errors';
import { sizeOf } from '../../shape';
import { register } from './kernels';

/** softmax, logSoftmax, crossEntropy, conv1d (Mamba's causal depthwise conv) and its decoding step, rmsNorm and addRmsNorm. */
export function registerNnKernels(): void {
  // Along `axis` of a [outer, n, inner] view: shift by the max, exponentiate, normalize.
  const softmaxLike = (name: string, log: boolean) =>
    register(name, ([a], attrs, be) => {
      const axis = attrs.axis as number;
      const x = be.values(a);
      const outer = sizeOf(a.shape.slice(0, axis));
      const n = a.shape[axis];
      const inner = sizeOf(a.shape.slice(axis + 1));
      const out = new Float32Array(x.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * n * inner + i;
          let max = -Infinity;
          for (let k = 0; k < n; k++) max = Math.max(max, x[base + k * inner]);
          let total = 0;
          for (let k = 0; k < n; k++) total += Math.exp(x[base + k * inner] - max);
          if (log) {
            const shift = max + Math.log(total);
            for (let k = 0; k < n; k++) out[base + k * inner] = x[base + k * inner] - shift;
          } else {
            for (let k = 0; k < n; k++) out[base + k * inner] = Math.exp(x[base + k * inner] - max) / total;
          }
        }
      }
      return be.output(a.shape, 'float32', out);
    });
  softmaxLike('softmax', false);
  softmaxLike('logSoftmax', true);

  // Mean over non-ignored rows of logsumexp(row) − row[target]; NaN when every row is ignored (torch).
  register('crossEntropy', ([l, t], attrs, be) => {
    const ignoreIndex = attrs.ignoreIndex as number;
    const logits = be.values(l);
    const targets = be.values<Int32Array>(t);
    const [N, C] = l.shape;
    let total = 0;
    let count = 0;
    for (let i = 0; i < N; i++) {
      const target = targets[i];
      if (target === ignoreIndex) continue;
      if (target < 0 || target >= C) {
        throw new ValueError('crossEntropy', `target ${target} at row ${i} is out of range [0, ${C}) and is not ignoreIndex ${ignoreIndex}`);
      }
      const row = i * C;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, logits[row + c]);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[row + c] - max);
      total += max + Math.log(sum) - logits[row + target];
      count++;
    }
    return be.output([], 'float32', Float32Array.of(total / count));
  });

  // The window moved on by x, and y = bias + Σ_k w[c,k]·window′[k] (SiLU with attrs.silu).
  register('conv1dStep', ([wi, xi, ki, bi], attrs, be) => {
    const [window, x, w] = [be.values(wi), be.values(xi), be.values(ki)];
    const bias = bi ? be.values(bi) : null;
    const [B, C, K] = wi.shape;
    const y = new Float32Array(B * C);
    const next = new Float32Array(B * C * K);
    for (let row = 0; row < B * C; row++) {
      const c = row % C;
      for (let k = 0; k < K - 1; k++) next[row * K + k] = window[row * K + k + 1];
      next[row * K + K - 1] = x[row];
      let acc = bias ? bias[c] : 0;
      for (let k = 0; k < K; k++) acc += w[c * K + k] * next[row * K + k];
      y[row] = attrs.silu ? acc / (1 + Math.exp(-acc)) : acc;
    }
    return [be.output([B, C], 'float32', y), be.output([B, C, K], 'float32', next)];
  });

  // y[b,c,t] = bias[c] + Σ_k w[c,k]·x[b,c,t−K+1+k], with x = 0 before t = 0.
  register('conv1d', ([xi, wi, bi], _attrs, be) => {
    const x = be.values(xi);
    const w = be.values(wi);
    const bias = bi ? be.values(bi) : null;
    const [B, C, L] = xi.shape;
    const K = wi.shape[1];
    const out = new Float32Array(B * C * L);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const row = (b * C + c) * L;
        const b0 = bias ? bias[c] : 0;
        for (let t = 0; t < L; t++) {
          let acc = b0;
          const k0 = Math.max(0, K - 1 - t);
          for (let k = k0; k < K; k++) acc += w[c * K + k] * x[row + t - K + 1 + k];
          out[row + t] = acc;
        }
      }
    }
    return be.output(xi.shape, 'float32', out);
  });

  register('rmsNorm', ([xi, wi], attrs, be) => {
    const eps = attrs.eps as number;
    const x = be.values(xi);
    const w = be.values(wi);
    const D = wi.shape[0];
    const rows = x.length / D;
    const out = new Float32Array(x.length);
    for (let r = 0; r < rows; r++) {
      const base = r * D;
      let squares = 0;
      for (let d = 0; d < D; d++) squares += x[base + d] * x[base + d];
      const scale = 1 / Math.sqrt(squares / D + eps);
      for (let d = 0; d < D; d++) out[base + d] = x[base + d] * scale * w[d];
    }
    return be.output(xi.shape, 'float32', out);
  });

  // s = x + residual, and s normalized as rmsNorm does.
  register('addRmsNorm', ([xi, ri, wi], attrs, be) => {
    const [x, r, w] = [be.values(xi), be.values(ri), be.values(wi)];
    const D = wi.shape[0];
    const sum = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) sum[i] = x[i] + r[i];
    const normed = new Float32Array(x.length);
    for (let base = 0; base < x.length; base += D) {
      let squares = 0;
      for (let d = 0; d < D; d++) squares += sum[base + d] * sum[base + d];
      const scale = 1 / Math.sqrt(squares / D + (attrs.eps as number));
      for (let d = 0; d < D; d++) normed[base + d] = sum[base + d] * scale * w[d];
    }
    return [be.output(xi.shape, 'float32', sum), be.output(xi.shape, 'float32', normed)];
  });
}
