/**
 * The backends the tests run on, each with its tolerance against float64 references (relative to the
 * tensor's scale). cpu computes in float64 internally; fast kernels use an approximate exp.
 */
export function testedBackends(): [string, number][] {
  return [['cpu', 2e-5]];
}
