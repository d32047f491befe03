// C[M,N] = A[M,K] · B[K,N] on strided A and B (transposes are strides), f32.
//
// Blocked like BLIS: B is packed into KC×NR column panels, A into MR×KC row panels, and a 4×8
// register-tiled micro-kernel (8 accumulators + 2 B vectors + 1 broadcast A: 11 of V8's 16 vector
// registers) streams through them. Packing makes every inner load contiguous whatever the strides.
// Pointers are byte offsets into the shared memory; `scratch` holds the packed panels
// (matmulScratchBytes()), one region per thread.
import { madd } from './simd';

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 64;
const NC = 1024;

/** Bytes of scratch one thread needs: a packed B block, a packed A block and an edge tile. */
export function matmulScratchBytes(): i32 {
  return (KC * NC + MC * KC + MR * NR) * 4;
}

/** Packs B[k0:k0+kc, j0:j0+nc] into ⌈nc/NR⌉ panels of kc rows × NR (zero-padded at the right edge). */
function packB(b: usize, rsB: i32, csB: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const base = b + (<usize>(k0 * rsB + (j0 + jp) * csB) << 2);
    if (csB == 1 && cols == NR) {
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * rsB) << 2);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += NR * 4;
      }
    } else if (rsB == 1 && cols == NR) {
      // B is transposed: column j is contiguous along k; gather 8 columns per k.
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>k << 2);
        for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>(c * csB) << 2)));
        dst += NR * 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * rsB) << 2);
        for (let c = 0; c < NR; c++) {
          store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(src + (<usize>(c * csB) << 2)) : 0);
        }
        dst += NR * 4;
      }
    }
  }
}

/** Packs A[i0:i0+mc, k0:k0+kc] into ⌈mc/MR⌉ panels of kc columns × MR (zero-padded at the bottom). */
function packA(a: usize, rsA: i32, csA: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const base = a + (<usize>((i0 + ip) * rsA + k0 * csA) << 2);
    if (rsA == 1 && rows == MR) {
      // A is transposed: the MR rows of one k are contiguous.
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(base + (<usize>(k * csA) << 2)));
        dst += MR * 4;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * csA) << 2);
        for (let r = 0; r < MR; r++) {
          store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>(r * rsA) << 2)) : 0);
        }
        dst += MR * 4;
      }
    }
  }
}

/** One MR×NR tile: acc = Apanel · Bpanel over kc; C tile = acc (first K block) or C += acc. */
@inline function microKernel(ap: usize, bp: usize, kc: i32, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += MR * 4;
    bp += NR * 4;
  }
  const row = <usize>ldc << 2;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + row));
    c11 = f32x4.add(c11, v128.load(c + row, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * row));
    c21 = f32x4.add(c21, v128.load(c + 2 * row, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * row));
    c31 = f32x4.add(c31, v128.load(c + 3 * row, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + row, c10);
  v128.store(c + row, c11, 16);
  v128.store(c + 2 * row, c20);
  v128.store(c + 2 * row, c21, 16);
  v128.store(c + 3 * row, c30);
  v128.store(c + 3 * row, c31, 16);
}

/**
 * C[M,N] (row-major, contiguous) = A·B with A(i,k) = a[i·rsA + k·csA], B(k,j) = b[k·rsB + j·csB].
 * Strides are in elements, pointers in bytes.
 */
export function matmul(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, rsA: i32, csA: i32, rsB: i32, csB: i32, scratch: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K == 0) {
    memory.fill(c, 0, <usize>(M * N) << 2);
    return;
  }
  if (M < MR) {
    matmulThin(a, b, c, M, N, K, rsA, csA, rsB, csB);
    return;
  }
  const packedB = scratch;
  const packedA = scratch + (<usize>(KC * NC) << 2);
  const edge = packedA + (<usize>(MC * KC) << 2);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const accumulate = pc > 0;
      packB(b, rsB, csB, pc, kc, jc, nc, packedB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(a, rsA, csA, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bp = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const ap = packedA + (<usize>(ir * kc) << 2);
            const ct = c + (<usize>((ic + ir) * N + jc + jr) << 2);
            if (rows == MR && cols == NR) {
              microKernel(ap, bp, kc, ct, N, accumulate);
            } else {
              // Edge tile: compute the full tile aside, then add/copy the valid part.
              microKernel(ap, bp, kc, edge, NR, false);
              for (let r = 0; r < rows; r++) {
                for (let q = 0; q < cols; q++) {
                  const dst = ct + (<usize>(r * N + q) << 2);
                  const v = load<f32>(edge + (<usize>(r * NR + q) << 2));
                  store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}

/** Few rows (decoding: M = 1): no packing; rows of B are axpy'd, or columns of Bᵀ dotted. */
function matmulThin(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, rsA: i32, csA: i32, rsB: i32, csB: i32): void {
  for (let i = 0; i < M; i++) {
    const out = c + (<usize>(i * N) << 2);
    const arow = a + (<usize>(i * rsA) << 2);
    if (csB == 1) {
      memory.fill(out, 0, <usize>N << 2);
      for (let k = 0; k < K; k++) {
        const s = load<f32>(arow + (<usize>(k * csA) << 2));
        const sv = f32x4.splat(s);
        const brow = b + (<usize>(k * rsB) << 2);
        let j = 0;
        for (; j + 4 <= N; j += 4) {
          const o = out + (<usize>j << 2);
          v128.store(o, madd(sv, v128.load(brow + (<usize>j << 2)), v128.load(o)));
        }
        for (; j < N; j++) {
          const o = out + (<usize>j << 2);
          store<f32>(o, load<f32>(o) + s * load<f32>(brow + (<usize>j << 2)));
        }
      }
    } else if (rsB == 1 && csA == 1) {
      // Four columns of Bᵀ at a time share each load of the A row (and four independent sums).
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        const b0 = b + (<usize>(j * csB) << 2);
        const b1 = b0 + (<usize>csB << 2);
        const b2 = b1 + (<usize>csB << 2);
        const b3 = b2 + (<usize>csB << 2);
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let k = 0;
        for (; k + 4 <= K; k += 4) {
          const off = <usize>k << 2;
          const av = v128.load(arow + off);
          s0 = madd(av, v128.load(b0 + off), s0);
          s1 = madd(av, v128.load(b1 + off), s1);
          s2 = madd(av, v128.load(b2 + off), s2);
          s3 = madd(av, v128.load(b3 + off), s3);
        }
        // Transpose-add the four sums into one vector of four dot products.
        const t0 = f32x4.add(i32x4.shuffle(s0, s1, 0, 4, 1, 5), i32x4.shuffle(s0, s1, 2, 6, 3, 7));
        const t1 = f32x4.add(i32x4.shuffle(s2, s3, 0, 4, 1, 5), i32x4.shuffle(s2, s3, 2, 6, 3, 7));
        let dots = f32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
        for (; k < K; k++) {
          const av = load<f32>(arow + (<usize>k << 2));
          const off = <usize>k << 2;
          dots = f32x4.add(dots, f32x4.mul(f32x4.splat(av), f32x4(load<f32>(b0 + off), load<f32>(b1 + off), load<f32>(b2 + off), load<f32>(b3 + off))));
        }
        v128.store(out + (<usize>j << 2), dots);
      }
      for (; j < N; j++) {
        const bcol = b + (<usize>(j * csB) << 2);
        let acc = f32x4.splat(0);
        let k = 0;
        for (; k + 4 <= K; k += 4) acc = madd(v128.load(arow + (<usize>k << 2)), v128.load(bcol + (<usize>k << 2)), acc);
        let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
        for (; k < K; k++) s += load<f32>(arow + (<usize>k << 2)) * load<f32>(bcol + (<usize>k << 2));
        store<f32>(out + (<usize>j << 2), s);
      }
    } else {
      for (let j = 0; j < N; j++) {
        let s: f32 = 0;
        for (let k = 0; k < K; k++) s += load<f32>(arow + (<usize>(k * csA) << 2)) * load<f32>(b + (<usize>(k * rsB + j * csB) << 2));
        store<f32>(out + (<usize>j << 2), s);
      }
    }
  }
}
