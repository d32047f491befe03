/**
 * Diagonal state matrix initializations of S4D (Gu et al., "On the Parameterization and Initialization of
 * Diagonal State Space Models"), following `dplr` in state-spaces/s4: A_n = −real_n − i·imag_n with
 * real_n, imag_n ≥ 0 (the negative-imaginary half of each conjugate pair, as `nplr` keeps).
 */
import type { ComplexArray } from './complex';
import { complexZeros } from './complex';
import { HippoError, checkSize } from './errors';
import { nplr } from './hippo';

/** The S4D initializations: S4D-Lin, S4D-Inv, S4D-Real and S4D-LegS. */
export type S4DKind = 'lin' | 'inv' | 'real' | 'legs';

/** Options of `s4dInit` (the repository's `real_scale` / `imag_scale`). */
export interface S4DInitOptions {
  /** Multiplies the real parts (default 1). */
  realScale?: number;
  /** Multiplies the imaginary parts (default 1). */
  imagScale?: number;
}

/** A diagonal SSM's A and B, each N/2 complex numbers (the other half are their conjugates). */
export interface S4DInit {
  A: ComplexArray;
  B: ComplexArray;
}

/**
 * S4D's A and B for state size N (N/2 complex modes n = 0…N/2−1):
 * - `lin`:  A_n = −½ − iπn.
 * - `inv`:  A_n = −½ − i·(N/π)(N/(2n+1) − 1).
 * - `real`: A_n = −(n+1), no imaginary part.
 * - `legs`: A_n = −½ + i·Im(W_n), W from `nplr('legs', N)` (the diagonal of the LegS DPLR form).
 * B is all ones except for `legs`, whose B is the LegS B̃ of `nplr` (with the repository's clip of Im B̃ to ±2).
 */
export function s4dInit(kind: S4DKind, N: number, options: S4DInitOptions = {}): S4DInit {
  checkSize('s4dInit', 'N', N, true);
  const { realScale = 1, imagScale = 1 } = options;
  const half = N / 2;
  const A = complexZeros(half);
  let B: ComplexArray = { re: new Float64Array(half).fill(1), im: new Float64Array(half) };
  switch (kind) {
    case 'lin':
      for (let n = 0; n < half; n++) {
        A.re[n] = 0.5;
        A.im[n] = Math.PI * n;
      }
      break;
    case 'inv':
      for (let n = 0; n < half; n++) {
        A.re[n] = 0.5;
        A.im[n] = (N / Math.PI) * (N / (2 * n + 1) - 1);
      }
      break;
    case 'real':
      for (let n = 0; n < half; n++) A.re[n] = n + 1;
      break;
    case 'legs': {
      const form = nplr('legs', N, { bClip: 2.0 });
      for (let n = 0; n < half; n++) {
        A.re[n] = 0.5;
        A.im[n] = -form.W.im[n];
      }
      B = form.B;
      break;
    }
    default:
      throw new HippoError('VALUE', `s4dInit: kind must be one of lin, inv, real, legs, got '${kind as string}'`);
  }
  // Stored above as positive magnitudes; A = −real − i·imag.
  for (let n = 0; n < half; n++) {
    A.re[n] = -realScale * A.re[n];
    A.im[n] = -imagScale * A.im[n];
  }
  return { A, B };
}
