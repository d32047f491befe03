/**
 * A vector (or row-major matrix) of complex numbers, stored as two parallel Float64Arrays.
 * Element k is `re[k] + i·im[k]`.
 */
export interface ComplexArray {
  re: Float64Array;
  im: Float64Array;
}

/** A zero-filled complex array of `length` elements. */
export function complexZeros(length: number): ComplexArray {
  return { re: new Float64Array(length), im: new Float64Array(length) };
}

/** A complex array whose real parts are `re` (copied) and whose imaginary parts are zero. */
export function complexFromReal(re: ArrayLike<number>): ComplexArray {
  return { re: Float64Array.from(re), im: new Float64Array(re.length) };
}

/** |z| for every element. */
export function complexAbs(z: ComplexArray): Float64Array {
  const out = new Float64Array(z.re.length);
  for (let k = 0; k < out.length; k++) out[k] = Math.hypot(z.re[k], z.im[k]);
  return out;
}

/**
 * (e^z − 1, written to out[0..1]) without the cancellation of `exp(z) - 1` for small |z|:
 * e^{x+iy} − 1 = (expm1(x)·cos y − 2 sin²(y/2)) + i·e^x sin y.
 */
export function expm1Complex(x: number, y: number, out: Float64Array | number[]): void {
  const halfSin = Math.sin(y / 2);
  out[0] = Math.expm1(x) * Math.cos(y) - 2 * halfSin * halfSin;
  out[1] = Math.exp(x) * Math.sin(y);
}
