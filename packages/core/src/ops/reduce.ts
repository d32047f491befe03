import { engine } from '../engine';
import { normalizeAxes } from '../shape';
import type { Tensor } from '../tensor';
import { broadcastTo } from './arithmetic';
import { reshape } from './shape';
import { assertFloat, run1 } from './util';

export interface ReduceOptions {
  keepDims?: boolean;
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor {
  assertFloat('sum', 'x', x);
  return run1('sum', [x], { axes: normalizeAxes('sum', axes, x.rank), keepDims: options.keepDims ?? false });
}
engine.registerGradient('sum', ([dy], { inputs: [x], attrs }) => {
  // Put the reduced axes back as size 1, then broadcast to x's shape.
  const axes = attrs.axes as number[];
  const kept = reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return [broadcastTo(kept, x.shape)];
});
