import { engine } from '../engine';
import { ShapeError, shapeStr } from '../errors';
import { broadcastShapes } from '../shape';
import type { Tensor } from '../tensor';
import { unbroadcast } from './arithmetic';
import { assertFloat, run1 } from './util';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/** a @ b over the last two axes, batch axes broadcast; rank ≥ 2 for both. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transposeA = false, transposeB = false } = options;
  assertFloat('matmul', 'a', a);
  assertFloat('matmul', 'b', b);
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError('matmul', `both inputs need rank ≥ 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, Ka] = transposeA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transposeB ? [bc, br] : [br, bc];
  if (Ka !== Kb) {
    throw new ShapeError(
      'matmul',
      `inner dimensions differ: a ${shapeStr(a.shape)}${transposeA ? 'ᵀ' : ''} has ${Ka}, b ${shapeStr(b.shape)}${transposeB ? 'ᵀ' : ''} has ${Kb}`,
    );
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return run1('matmul', [a, b], { transposeA, transposeB, outShape: [...batch, M, N] });
}
engine.registerGradient('matmul', ([dy], { inputs: [a, b], attrs }) => {
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  // C = op(A) op(B): d op(A) = dC op(B)ᵀ, d op(B) = op(A)ᵀ dC, then undo the transposes.
  const da = transposeA ? matmul(b, dy, { transposeA: transposeB, transposeB: true }) : matmul(dy, b, { transposeB: !transposeB });
  const db = transposeB ? matmul(dy, a, { transposeA: true, transposeB: transposeA }) : matmul(a, dy, { transposeA: !transposeA });
  return [unbroadcast(da, a.shape), unbroadcast(db, b.shape)];
});
