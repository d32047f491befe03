/**
 * The public ops: `selectiveScan` (differentiable, any length) and `selectiveStateUpdate` (one decoding
 * step, in place). Both check their arguments here, once, and then run the kernel registered for the
 * backend the tensors live on.
 */
import { recordsGradients, registerGradient, runKernel, type Tensor } from '@ssmjs/core';
import {
  DEFAULT_CHUNK_SIZE,
  inferenceChunkSize,
  SCAN_BACKWARD_KERNEL,
  SCAN_KERNEL,
  STATE_UPDATE_KERNEL,
  type ScanAttrs,
  type StateUpdateAttrs,
} from './kernels/contract';
import { checkChunkSize, checkFiniteA, checkFloat32, checkPositive, checkShape } from './validate';

export interface SelectiveScanArgs {
  /** Input (batch, dim, L). */
  u: Tensor;
  /** Time step before bias and softplus (batch, dim, L). */
  delta: Tensor;
  /** Diagonal state matrix, one row per channel (dim, N); usually negative. */
  A: Tensor;
  /** Input-dependent B (batch, N, L). */
  B: Tensor;
  /** Input-dependent C (batch, N, L). */
  C: Tensor;
  /** Skip connection (dim). */
  D?: Tensor;
  /** Gate (batch, dim, L): y is multiplied by silu(z). */
  z?: Tensor;
  /** Added to delta before the softplus (dim). */
  deltaBias?: Tensor;
  /** Apply softplus (PyTorch's, threshold 20) to delta + deltaBias. Default false, as in mamba_ssm. */
  deltaSoftplus?: boolean;
  /** State before the first step (batch, dim, N); zeros when absent. */
  initialState?: Tensor;
  /** Also return the state after the last step. */
  returnLastState?: boolean;
  /** Steps between the states the forward keeps for the backward (default 64; where no gradient is recorded only the first is kept). */
  chunkSize?: number;
}

export interface SelectiveScanResult {
  /** Output (batch, dim, L). */
  y: Tensor;
  /** State after the last step (batch, dim, N), when `returnLastState` was set. */
  lastState?: Tensor;
}

const OP = 'selectiveScan';

/**
 * Mamba's selective scan (S6), with the semantics and layout of mamba_ssm's `selective_scan_fn` plus an
 * initial state:
 *   Δ = softplus(delta + deltaBias) (bias and softplus optional)
 *   h_t = exp(Δ_t·A) ⊙ h_{t−1} + Δ_t·B_t·u_t,  y_t = ⟨C_t, h_t⟩ + D·u_t,  y ← y·silu(z)
 * Differentiable with respect to every tensor argument. The forward keeps only the state at the start
 * of each chunk; the backward recomputes the rest.
 */
export function selectiveScan(args: SelectiveScanArgs): SelectiveScanResult {
  const { u, delta, A, B, C, D, z, deltaBias, initialState } = args;
  const chunkSize = args.chunkSize ?? DEFAULT_CHUNK_SIZE;
  for (const [name, t] of Object.entries({ u, delta, A, B, C, D, z, deltaBias, initialState })) {
    if (t) checkFloat32(OP, name, t);
  }
  checkShape(OP, 'u', u, ['batch', 'dim', 'L']);
  const [batch, dim, L] = u.shape;
  checkShape(OP, 'A', A, ['dim', 'N'], { dim });
  const N = A.shape[1];
  checkPositive(OP, { batch, dim, L, N }, { batch: 'u', dim: 'u and A', L: 'u', N: 'A' });
  const sizes = { batch, dim, L, N };
  checkShape(OP, 'delta', delta, ['batch', 'dim', 'L'], sizes);
  checkShape(OP, 'B', B, ['batch', 'N', 'L'], sizes);
  checkShape(OP, 'C', C, ['batch', 'N', 'L'], sizes);
  if (D) checkShape(OP, 'D', D, ['dim'], sizes);
  if (z) checkShape(OP, 'z', z, ['batch', 'dim', 'L'], sizes);
  if (deltaBias) checkShape(OP, 'deltaBias', deltaBias, ['dim'], sizes);
  if (initialState) checkShape(OP, 'initialState', initialState, ['batch', 'dim', 'N'], sizes);
  checkChunkSize(OP, chunkSize);
  checkFiniteA(OP, 'A', A);

  const inputs = [u, delta, A, B, C, D, z, deltaBias, initialState].filter((t): t is Tensor => !!t);
  const attrs: ScanAttrs = {
    hasD: !!D,
    hasZ: !!z,
    hasDeltaBias: !!deltaBias,
    hasInitialState: !!initialState,
    deltaSoftplus: args.deltaSoftplus ?? false,
    chunkSize: checkpointSpacing(inputs, chunkSize, L),
  };
  const [y, lastState, checkpoints] = runKernel(SCAN_KERNEL, inputs, attrs);
  // While gradients are recorded, core keeps the checkpoints alive until the backward has read them.
  checkpoints.dispose();
  if (args.returnLastState) return { y, lastState };
  lastState.dispose();
  return { y };
}

/**
 * The checkpoint spacing of a forward on `inputs`: `chunkSize` where its gradient is recorded, else one
 * checkpoint (nothing will read them; at batch 16, L 2048 they are 6% of the forward's traffic).
 */
export function checkpointSpacing(inputs: readonly Tensor[], chunkSize: number, L: number): number {
  return recordsGradients(inputs) ? chunkSize : inferenceChunkSize(L);
}

registerGradient(SCAN_KERNEL, ([dy, dLastState], { inputs, outputs, attrs }) => {
  const checkpoints = outputs[2];
  return runKernel(SCAN_BACKWARD_KERNEL, [...inputs, checkpoints, dy, dLastState], attrs);
});

export interface SelectiveStateUpdateArgs {
  /** SSM state (batch, dim, N): overwritten with the new state. */
  state: Tensor;
  /** Input of this step (batch, dim). */
  x: Tensor;
  /** Time step before bias and softplus (batch, dim). */
  dt: Tensor;
  /** (dim, N) */
  A: Tensor;
  /** (batch, N) */
  B: Tensor;
  /** (batch, N) */
  C: Tensor;
  /** (dim) */
  D?: Tensor;
  /** Gate (batch, dim). */
  z?: Tensor;
  /** Added to dt before the softplus (dim). */
  dtBias?: Tensor;
  /** Apply softplus to dt + dtBias. Default false, as in mamba_ssm. */
  dtSoftplus?: boolean;
}

const STEP_OP = 'selectiveStateUpdate';

/**
 * One recurrent step of the scan for decoding, as mamba_ssm's `selective_state_update`:
 *   dt' = softplus(dt + dtBias);  state ← exp(dt'·A) ⊙ state + dt'·B·x;  out = ⟨state, C⟩ + D·x;  out ← out·silu(z)
 *
 * **The state tensor is mutated**: its data on the backend is overwritten with the new state, so a
 * decoding loop allocates nothing but `out`. Not differentiable (use `selectiveScan` to train).
 */
export function selectiveStateUpdate(args: SelectiveStateUpdateArgs): Tensor {
  const { state, x, dt, A, B, C, D, z, dtBias } = args;
  for (const [name, t] of Object.entries({ state, x, dt, A, B, C, D, z, dtBias })) {
    if (t) checkFloat32(STEP_OP, name, t);
  }
  checkShape(STEP_OP, 'state', state, ['batch', 'dim', 'N']);
  const [batch, dim, N] = state.shape;
  checkPositive(STEP_OP, { batch, dim, N }, { batch: 'state', dim: 'state', N: 'state' });
  const sizes = { batch, dim, N };
  checkShape(STEP_OP, 'x', x, ['batch', 'dim'], sizes);
  checkShape(STEP_OP, 'dt', dt, ['batch', 'dim'], sizes);
  checkShape(STEP_OP, 'A', A, ['dim', 'N'], sizes);
  checkShape(STEP_OP, 'B', B, ['batch', 'N'], sizes);
  checkShape(STEP_OP, 'C', C, ['batch', 'N'], sizes);
  if (D) checkShape(STEP_OP, 'D', D, ['dim'], sizes);
  if (z) checkShape(STEP_OP, 'z', z, ['batch', 'dim'], sizes);
  if (dtBias) checkShape(STEP_OP, 'dtBias', dtBias, ['dim'], sizes);
  checkFiniteA(STEP_OP, 'A', A);

  const attrs: StateUpdateAttrs = { hasD: !!D, hasZ: !!z, hasDtBias: !!dtBias, dtSoftplus: args.dtSoftplus ?? false };
  const inputs = [state, x, dt, A, B, C, D, z, dtBias].filter((t): t is Tensor => !!t);
  return runKernel(STATE_UPDATE_KERNEL, inputs, attrs)[0];
}
