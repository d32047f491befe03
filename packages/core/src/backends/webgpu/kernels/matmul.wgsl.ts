import { PARAMS } from './common';

/**
 * A matmul tiling: each workgroup computes a BM×BN block of C in steps of BK along K; each of its
 * 256 invocations owns a TM×TN sub-block (TM, TN multiples of 4) held in vec4 registers.
 */
export interface MatmulTiling {
  readonly BM: number;
  readonly BN: number;
  readonly BK: number;
  readonly TM: number;
  readonly TN: number;
}

export const MATMUL_LARGE: MatmulTiling = { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 };
export const MATMUL_SMALL: MatmulTiling = { BM: 64, BN: 64, BK: 8, TM: 4, TN: 4 };

/**
 * C[b] = op(A[b]) · op(B[b]) with batch broadcasting. Params: [M, N, K, batchRank, batchShape…,
 * aBatchStrides…, bBatchStrides…] (strides in elements, 0 on broadcast axes).
 *
 * The tile of A is kept transposed in workgroup memory (As[k][m]) and B as is (Bs[k][n]), both as
 * vec4s, so the inner step reads TM/4 + TN/4 vec4s and does TM·TN multiply-adds. An invocation's
 * rows (columns) are vec4 groups one group-row of invocations apart, so neighbouring invocations
 * read neighbouring vec4s (no bank conflicts) and write neighbouring columns of C. The loops over the
 * tile are unrolled here in the generator so the accumulators stay in registers. The next tile is
 * fetched into registers while the current one is multiplied.
 */
export function matmulSource(t: MatmulTiling, transposeA: boolean, transposeB: boolean): string {
  const { BM, BN, BK, TM, TN } = t;
  const threadsN = BN / TN;
  const threadsM = BM / TM;
  const threads = threadsM * threadsN;
  if (threads !== 256) throw new Error(`matmul tiling ${JSON.stringify(t)} needs 256 invocations, has ${threads}`);
  const loadsA = (BM * BK) / threads;
  const loadsB = (BK * BN) / threads;
  const rows4 = TM / 4;
  const cols4 = TN / 4;
  // Rows of the tiles in workgroup memory are padded by one vec4: the scalar stores of a tile then
  // spread over all banks instead of hitting a few (row length a multiple of 32 words).
  const strideA = BM + 4;
  const strideB = BN + 4;

  // Element e of a tile load → (row in tile, k in tile). Consecutive invocations take consecutive
  // addresses in memory: along k for row-major A, along m for transposed A (same for B).
  const fetchA: string[] = [];
  for (let l = 0; l < loadsA; l++) {
    const e = `${l * threads}u + lid`;
    const [m, k] = transposeA ? [`(${e}) % ${BM}u`, `(${e}) / ${BM}u`] : [`(${e}) / ${BK}u`, `(${e}) % ${BK}u`];
    const address = transposeA ? `aOff + gk * M + gm` : `aOff + gm * K + gk`;
    fetchA.push(`{ let m = ${m}; let k = ${k}; let gm = m0 + m; let gk = k0 + k; aSlot${l} = k * ${strideA}u + m;
      aReg${l} = 0.0; if (gm < M && gk < K) { aReg${l} = A[${address}]; } }`);
  }
  const fetchB: string[] = [];
  for (let l = 0; l < loadsB; l++) {
    const e = `${l * threads}u + lid`;
    const [k, n] = transposeB ? [`(${e}) % ${BK}u`, `(${e}) / ${BK}u`] : [`(${e}) / ${BN}u`, `(${e}) % ${BN}u`];
    const address = transposeB ? `bOff + gn * K + gk` : `bOff + gk * N + gn`;
    fetchB.push(`{ let k = ${k}; let n = ${n}; let gk = k0 + k; let gn = n0 + n; bSlot${l} = k * ${strideB}u + n;
      bReg${l} = 0.0; if (gk < K && gn < N) { bReg${l} = B[${address}]; } }`);
  }
  const declareRegs = [
    ...Array.from({ length: loadsA }, (_, l) => `var aReg${l} = 0.0; var aSlot${l} = 0u;`),
    ...Array.from({ length: loadsB }, (_, l) => `var bReg${l} = 0.0; var bSlot${l} = 0u;`),
  ].join('\n  ');
  const store = [
    ...Array.from({ length: loadsA }, (_, l) => `As[aSlot${l} / 4u][aSlot${l} % 4u] = aReg${l};`),
    ...Array.from({ length: loadsB }, (_, l) => `Bs[bSlot${l} / 4u][bSlot${l} % 4u] = bReg${l};`),
  ].join('\n    ');

  const accs: string[] = [];
  for (let r = 0; r < TM; r++) for (let c = 0; c < cols4; c++) accs.push(`var acc${r}_${c} = vec4<f32>(0.0);`);
  const step: string[] = [];
  for (let k = 0; k < BK; k++) {
    for (let r = 0; r < rows4; r++) step.push(`a${r} = As[${(k * strideA) / 4 + r * threadsM}u + ty];`);
    for (let c = 0; c < cols4; c++) step.push(`b${c} = Bs[${(k * strideB) / 4 + c * threadsN}u + tx];`);
    for (let r = 0; r < TM; r++) {
      for (let c = 0; c < cols4; c++) step.push(`acc${r}_${c} = fma(vec4<f32>(a${r >> 2}[${r & 3}]), b${c}, acc${r}_${c});`);
    }
  }
  const write: string[] = [];
  for (let r = 0; r < TM; r++) {
    write.push(`{ let m = m0 + (${(r >> 2) * threadsM}u + ty) * 4u + ${r & 3}u;
    if (m < M) {`);
    for (let c = 0; c < cols4; c++) {
      for (let j = 0; j < 4; j++) {
        write.push(`      { let n = n0 + (${c * threadsN}u + tx) * 4u + ${j}u; if (n < N) { C[cOff + m * N + n] = acc${r}_${c}[${j}]; } }`);
      }
    }
    write.push('    } }');
  }

  return `${PARAMS}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
var<workgroup> As: array<vec4<f32>, ${(strideA * BK) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(strideB * BK) / 4}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = p[0];
  let N = p[1];
  let K = p[2];
  let batchRank = p[3];
  // Batch index → element offsets of this batch's A and B (broadcast axes have stride 0).
  var rem = wid.z;
  var aOff = 0u;
  var bOff = 0u;
  for (var d = batchRank; d > 0u; d--) {
    let axis = d - 1u;
    let size = p[4u + axis];
    let index = rem % size;
    rem = rem / size;
    aOff += index * p[4u + batchRank + axis];
    bOff += index * p[4u + 2u * batchRank + axis];
  }
  let cOff = wid.z * M * N;
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  let tx = lid % ${threadsN}u;
  let ty = lid / ${threadsN}u;
  ${accs.join('\n  ')}
  ${Array.from({ length: rows4 }, (_, r) => `var a${r}: vec4<f32>;`).join(' ')}
  ${Array.from({ length: cols4 }, (_, c) => `var b${c}: vec4<f32>;`).join(' ')}
  ${declareRegs}
  var k0 = 0u;
  ${fetchA.join('\n  ')}
  ${fetchB.join('\n  ')}
  let tiles = (K + ${BK - 1}u) / ${BK}u;
  for (var tile = 0u; tile < tiles; tile++) {
    ${store}
    workgroupBarrier();
    k0 = (tile + 1u) * ${BK}u;
    if (k0 < K) {
      ${fetchA.join('\n      ')}
      ${fetchB.join('\n      ')}
    }
    ${step.join('\n    ')}
    workgroupBarrier();
  }
  ${write.join('\n  ')}
}`;
}
