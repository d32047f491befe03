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
/**
 * Large tiles with a deeper K step: the fastest of the tilings measured at 4096³ on an H200 (33.9 vs 30.5
 * TFLOP/s for BK 8; docs/benchmarks.md). Its tiles need 16.5 KB of workgroup memory, more than the
 * 16 KB WebGPU guarantees, so it is used only where the device allows it.
 */
export const MATMUL_LARGE_DEEP: MatmulTiling = { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 };

/** Bytes of workgroup memory a tiling's A and B tiles take (rows padded by 4 floats against bank conflicts). */
export function matmulWorkgroupBytes(t: MatmulTiling): number {
  return ((t.BM + 4) + (t.BN + 4)) * t.BK * 4;
}

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
/** Code that moves one operand's tile from global memory to registers (fetch) and on to workgroup memory (store). */
interface TileLoad {
  declare: string[];
  fetch: string[];
  store: string[];
}

/**
 * Loads of the tile of A (rows = m) or B (rows = n), `depth` = BK. `kMajor`: the operand is stored
 * with k as its outer axis (transposed A, plain B), else k is its contiguous axis. Consecutive
 * invocations take consecutive addresses in global memory either way. Checked loads read scalars and
 * zero-fill outside the matrix; aligned loads (every tile full) read vec4s without checks.
 */
function tileLoad(name: 'A' | 'B', rows: number, depth: number, stride: number, kMajor: boolean, aligned: boolean): TileLoad {
  const shared = name === 'A' ? 'As' : 'Bs';
  const [r0, off, extent, other] = name === 'A' ? ['m0', 'aOff', 'M', 'K'] : ['n0', 'bOff', 'N', 'K'];
  const width = aligned ? 4 : 1;
  const total = (rows * depth) / width;
  const loads = Math.ceil(total / 256);
  const out: TileLoad = { declare: [], fetch: [], store: [] };
  for (let l = 0; l < loads; l++) {
    const reg = `${name.toLowerCase()}Reg${l}`;
    const row = `${name.toLowerCase()}Row${l}`;
    const col = `${name.toLowerCase()}K${l}`;
    const e = `${l * 256}u + lid`;
    const partial = (l + 1) * 256 > total;
    // (row, k) of the first element this invocation loads; a vec4 runs along the contiguous axis.
    const [rowExpr, kExpr] = kMajor
      ? [`((${e}) % ${rows / width}u) * ${width}u`, `(${e}) / ${rows / width}u`]
      : [`(${e}) / ${depth / width}u`, `((${e}) % ${depth / width}u) * ${width}u`];
    const address = kMajor ? `${off} + (k0 + ${col}) * ${extent} + ${r0} + ${row}` : `${off} + (${r0} + ${row}) * ${other} + k0 + ${col}`;
    out.declare.push(`var ${reg}: ${aligned ? 'vec4<f32>' : 'f32'}; let ${row} = ${rowExpr}; let ${col} = ${kExpr};`);
    const guard = partial ? `${e} < ${total}u` : '';
    if (aligned) {
      const load = `${reg} = ${name}[(${address}) / 4u];`;
      out.fetch.push(guard ? `if (${guard}) { ${load} }` : load);
      // k-major: the vec4 runs along rows of the shared tile (one store); else along k (four stores).
      const store = kMajor
        ? `${shared}[(${col} * ${stride}u + ${row}) / 4u] = ${reg};`
        : [0, 1, 2, 3].map((c) => `${shared}[((${col} + ${c}u) * ${stride}u + ${row}) / 4u][${row} % 4u] = ${reg}[${c}];`).join(' ');
      out.store.push(guard ? `if (${guard}) { ${store} }` : store);
    } else {
      const inside = `${r0} + ${row} < ${extent} && k0 + ${col} < K`;
      out.fetch.push(`${reg} = 0.0; if (${guard ? `${guard} && ` : ''}${inside}) { ${reg} = ${name}[${address}]; }`);
      const store = `${shared}[(${col} * ${stride}u + ${row}) / 4u][${row} % 4u] = ${reg};`;
      out.store.push(guard ? `if (${guard}) { ${store} }` : store);
    }
  }
  return out;
}

/**
 * The matmul kernel for one tiling and transpose pair. `aligned`: M, N and K are multiples of the
 * tile (and so of 4): vec4 loads and stores, no bounds checks.
 */
export function matmulSource(t: MatmulTiling, transposeA: boolean, transposeB: boolean, aligned = false): string {
  const { BM, BN, BK, TM, TN } = t;
  const threadsN = BN / TN;
  const threadsM = BM / TM;
  if (threadsM * threadsN !== 256) throw new Error(`matmul tiling ${JSON.stringify(t)} needs 256 invocations, has ${threadsM * threadsN}`);
  const rows4 = TM / 4;
  const cols4 = TN / 4;
  // Rows of the tiles in workgroup memory are padded by one vec4: the scalar stores of a tile then
  // spread over all banks instead of hitting a few (row length a multiple of 32 words).
  const strideA = BM + 4;
  const strideB = BN + 4;
  const loadA = tileLoad('A', BM, BK, strideA, transposeA, aligned);
  const loadB = tileLoad('B', BN, BK, strideB, !transposeB, aligned);
  const fetchA = loadA.fetch;
  const fetchB = loadB.fetch;
  const declareRegs = [...loadA.declare, ...loadB.declare].join('\n  ');
  const store = [...loadA.store, ...loadB.store].join('\n    ');

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
    write.push(`{ let m = m0 + (${(r >> 2) * threadsM}u + ty) * 4u + ${r & 3}u;`);
    if (aligned) {
      for (let c = 0; c < cols4; c++) write.push(`  C[(cOff + m * N + n0 + (${c * threadsN}u + tx) * 4u) / 4u] = acc${r}_${c};`);
    } else {
      write.push('  if (m < M) {');
      for (let c = 0; c < cols4; c++) {
        for (let j = 0; j < 4; j++) {
          write.push(`    { let n = n0 + (${c * threadsN}u + tx) * 4u + ${j}u; if (n < N) { C[cOff + m * N + n] = acc${r}_${c}[${j}]; } }`);
        }
      }
      write.push('  }');
    }
    write.push('}');
  }

  const element = aligned ? 'vec4<f32>' : 'f32';
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> A: array<${element}>;
@group(0) @binding(2) var<storage, read> B: array<${element}>;
@group(0) @binding(3) var<storage, read_write> C: array<${element}>;
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
