import { engine } from '../engine';
import { ShapeError, shapeStr } from '../errors';
import { assertShape, sizeOf } from '../shape';
import type { Tensor } from '../tensor';
import { run1 } from './util';

// reshape shares the data (no copy) on every backend: the kernel only changes the shape.
engine.registerKernel('reshape', '*', ([x], attrs) => ({ dataId: x.dataId, shape: attrs.shape as number[], dtype: x.dtype }));

/** The same data with another shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const inferAt = shape.indexOf(-1);
  let target = [...shape];
  if (inferAt >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferAt));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError('reshape', `cannot infer -1 in ${shapeStr(shape)} for ${x.size} elements ${shapeStr(x.shape)}`);
    }
    target[inferAt] = x.size / known;
  }
  assertShape('reshape', target);
  if (sizeOf(target) !== x.size) {
    throw new ShapeError('reshape', `cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(target)}`);
  }
  target = target.map(Number);
  return run1('reshape', [x], { shape: target });
}
engine.registerGradient('reshape', ([dy], { inputs: [x] }) => [reshape(dy, x.shape)]);
