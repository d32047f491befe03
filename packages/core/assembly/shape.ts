// Data movement: strided copies (transpose, slice, pad, concat, broadcastTo), fill, gather.

/**
 * dst[Σ i_d·dstStride_d] = src[Σ i_d·srcStride_d] over `shape` (rank dims; i32 arrays at the given
 * pointers, strides in elements). The last dim runs contiguous copies where both strides are 1.
 */
export function copyStrided(src: usize, dst: usize, rank: i32, shapePtr: usize, srcStridesPtr: usize, dstStridesPtr: usize, idxPtr: usize): void {
  if (rank == 0) {
    store<i32>(dst, load<i32>(src));
    return;
  }
  const last = rank - 1;
  const n = load<i32>(shapePtr + (<usize>last << 2));
  const ss = load<i32>(srcStridesPtr + (<usize>last << 2));
  const ds = load<i32>(dstStridesPtr + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) {
    rows *= load<i32>(shapePtr + (<usize>d << 2));
    store<i32>(idxPtr + (<usize>d << 2), 0);
  }
  if (n == 0) return;
  let offS = 0;
  let offD = 0;
  for (let r = 0; r < rows; r++) {
    const s = src + (<usize>offS << 2);
    const d = dst + (<usize>offD << 2);
    if (ss == 1 && ds == 1) copyWords(d, s, n);
    else if (ss == 0) {
      const v = load<i32>(s);
      for (let i = 0; i < n; i++) store<i32>(d + (<usize>(i * ds) << 2), v);
    } else {
      for (let i = 0; i < n; i++) store<i32>(d + (<usize>(i * ds) << 2), load<i32>(s + (<usize>(i * ss) << 2)));
    }
    for (let k = last - 1; k >= 0; k--) {
      const kp = <usize>k << 2;
      const i = load<i32>(idxPtr + kp) + 1;
      const size = load<i32>(shapePtr + kp);
      const sS = load<i32>(srcStridesPtr + kp);
      const sD = load<i32>(dstStridesPtr + kp);
      if (i < size) {
        store<i32>(idxPtr + kp, i);
        offS += sS;
        offD += sD;
        break;
      }
      store<i32>(idxPtr + kp, 0);
      offS -= sS * (size - 1);
      offD -= sD * (size - 1);
    }
  }
}

/** Copies n 32-bit words; short runs by hand, since memory.copy is a call into the engine (~20 ns). */
@inline function copyWords(dst: usize, src: usize, n: i32): void {
  if (n >= 16) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<i32>(dst + (<usize>i << 2), load<i32>(src + (<usize>i << 2)));
}

/** n 32-bit words of `bits` (a float's or an int's bit pattern). */
export function fill32(dst: usize, bits: i32, n: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(dst + (<usize>i << 2), bits);
}

/**
 * out[o, j, :] = x[o, indices[j], :] with x viewed as [outer, axisLen, inner]. Returns −1, or the
 * position of the first index outside [0, axisLen) (nothing is written past it).
 */
export function gather(x: usize, indices: usize, out: usize, outer: i32, axisLen: i32, inner: i32, count: i32): i32 {
  for (let j = 0; j < count; j++) {
    const ix = load<i32>(indices + (<usize>j << 2));
    if (ix < 0 || ix >= axisLen) return j;
  }
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + (<usize>(o * axisLen * inner) << 2);
    const dst = out + (<usize>(o * count * inner) << 2);
    for (let j = 0; j < count; j++) {
      const ix = load<i32>(indices + (<usize>j << 2));
      copyWords(dst + <usize>j * rowBytes, base + <usize>ix * rowBytes, inner);
    }
  }
  return -1;
}

/**
 * The adjoint of gather: out (zeroed here) viewed as [outer, axisLen, inner] gets
 * updates[o, j, :] added at row indices[j]. Returns −1, or the position of the first bad index.
 */
export function scatterAdd(updates: usize, indices: usize, out: usize, outer: i32, axisLen: i32, inner: i32, count: i32): i32 {
  for (let j = 0; j < count; j++) {
    const ix = load<i32>(indices + (<usize>j << 2));
    if (ix < 0 || ix >= axisLen) return j;
  }
  memory.fill(out, 0, <usize>(outer * axisLen * inner) << 2);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const ix = load<i32>(indices + (<usize>j << 2));
      const src = updates + (<usize>((o * count + j) * inner) << 2);
      const dst = out + (<usize>((o * axisLen + ix) * inner) << 2);
      let k = 0;
      for (; k + 4 <= inner; k += 4) {
        const off = <usize>k << 2;
        v128.store(dst + off, f32x4.add(v128.load(dst + off), v128.load(src + off)));
      }
      for (; k < inner; k++) {
        const off = <usize>k << 2;
        store<f32>(dst + off, load<f32>(dst + off) + load<f32>(src + off));
      }
    }
  }
  return -1;
}
