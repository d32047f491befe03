/**
 * `pnpm start` until the trainer exists: fits a linear map y = x·W by gradient descent on the cpu
 * backend, printing the loss as it falls. Everything printed is computed here.
 */
import { computeGradients, div, dispose, keep, matmul, memory, mul, randn, sub, sum, tidy, type Tensor } from './index';

function meanSquare(d: Tensor): Tensor {
  return div(sum(mul(d, d)), d.size);
}

const W_true = randn([8, 3], { seed: 1 });
const x = randn([64, 8], { seed: 2 });
const y = matmul(x, W_true);
let W = keep(randn([8, 3], { seed: 3, std: 0.1 }));
const lr = 0.1;
for (let step = 0; step <= 50; step++) {
  const { value, grads } = computeGradients(() => meanSquare(sub(matmul(x, W), y)), [W]);
  if (step % 10 === 0) console.log(`step ${step}  loss ${value.dataSync()[0].toExponential(3)}`);
  const next = keep(tidy(() => sub(W, mul(grads[0], lr))));
  dispose([value, grads, W]);
  W = next;
}
const err = tidy(() => sum(mul(sub(W, W_true), sub(W, W_true))));
console.log(`‖W − W_true‖² = ${err.dataSync()[0].toExponential(3)}; live tensors: ${memory().liveTensors}`);
