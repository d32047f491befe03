/**
 * WGSL pieces every kernel shares. Binding 0 is always the kernel's parameters: a read-only array of
 * u32 (shapes, strides, counts; floats travel as their bits).
 */
export const PARAMS = '@group(0) @binding(0) var<storage, read> p: array<u32>;';

/** Entry point of a one-thread-per-item kernel over a 2-D grid of 1-D workgroups of `size`. */
export function threadEntry(size: number): string {
  return `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${size}u + lid;`;
}

/**
 * Entry point of a one-workgroup-per-row kernel (`row` is uniform across the workgroup, so the row
 * loop may contain barriers). With subgroups, the subgroup builtins come in as `sgLane`, `sgSize`.
 */
export function rowEntry(size: number, subgroups: boolean): string {
  const sg = subgroups ? ', @builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32' : '';
  return `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${sg}) {
  let row = wid.y * nwg.x + wid.x;`;
}

/**
 * Workgroup-wide reductions `wgSum(v, lid…)` and `wgMax(v, lid…)` for a workgroup of `size` (a power
 * of two). Every invocation must call them (uniform control flow); each gets the reduced value.
 * With subgroups: one subgroupAdd/Max per subgroup, then one invocation combines the partials
 * (subgroups are consecutive ranges of local_invocation_index in 1-D workgroups). Without: a tree.
 */
export function workgroupReductions(size: number, subgroups: boolean): string {
  const fn = (name: string, combine: (a: string, b: string) => string, sgOp: string) =>
    subgroups
      ? `fn ${name}(v: f32, lid: u32, sgLane: u32, sgSize: u32) -> f32 {
  let part = ${sgOp}(v);
  if (sgLane == 0u) { partials[lid / sgSize] = part; }
  workgroupBarrier();
  if (lid == 0u) {
    var acc = partials[0];
    for (var s = 1u; s < ${size}u / sgSize; s++) { acc = ${combine('acc', 'partials[s]')}; }
    total = acc;
  }
  workgroupBarrier();
  let result = total;
  workgroupBarrier();
  return result;
}`
      : `fn ${name}(v: f32, lid: u32) -> f32 {
  partials[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { partials[lid] = ${combine('partials[lid]', 'partials[lid + s]')}; }
    workgroupBarrier();
  }
  let result = partials[0];
  workgroupBarrier();
  return result;
}`;
  return `var<workgroup> partials: array<f32, ${size}>;
var<workgroup> total: f32;
${fn('wgSum', (a, b) => `${a} + ${b}`, 'subgroupAdd')}
${fn('wgMax', (a, b) => `max(${a}, ${b})`, 'subgroupMax')}`;
}

/** How kernels call the reductions of `workgroupReductions`. */
export function reduceCall(name: 'wgSum' | 'wgMax', value: string, subgroups: boolean): string {
  return subgroups ? `${name}(${value}, lid, sgLane, sgSize)` : `${name}(${value}, lid)`;
}

/** `enable subgroups;` where they are used. */
export function enables(subgroups: boolean): string {
  return subgroups ? 'enable subgroups;\n' : '';
}
