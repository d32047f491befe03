/**
 * WGSL shared by the scan kernels. Binding 0 is always the kernel's u32 parameters (as in core's
 * webgpu kernels); the scan's own pieces are the math helpers and a workgroup-wide scan of affine maps.
 *
 * A time step of the recurrence h ← a·h + b is the affine map (a, b). Maps compose associatively:
 * (a₁, b₁) then (a₂, b₂) is (a₁a₂, a₂b₁ + b₂), so a sequence of steps is scanned in parallel like a sum.
 */

/** Which optional inputs a scan kernel variant takes, and whether Δ goes through softplus. */
export interface ScanOptions {
  hasD: boolean;
  hasZ: boolean;
  hasDeltaBias: boolean;
  hasInitialState: boolean;
  deltaSoftplus: boolean;
}

export const PARAMS = '@group(0) @binding(0) var<storage, read> p: array<u32>;';

/** \`let name = p[i];\` for each parameter name in order: the kernel's u32 parameters, named. */
export function paramLets(names: readonly string[]): string {
  return names.map((name, i) => `  let ${name} = p[${i}];`).join('\n');
}

export function enables(subgroups: boolean): string {
  return subgroups ? 'enable subgroups;\n' : '';
}

/** softplus with PyTorch's threshold (the identity above 20), its derivative, and silu's pieces. */
export const MATH = `
fn softplus(x: f32) -> f32 { return select(max(x, 0.0) + log(1.0 + exp(-abs(x))), x, x > 20.0); }
fn softplusGrad(x: f32) -> f32 { return select(1.0 / (1.0 + exp(-x)), 1.0, x > 20.0); }
fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }`;

/** Bindings from 1 on, in order: `[name, access, element type (f32 unless given)]`. */
export function bindings(list: readonly (readonly [string, 'read' | 'read_write', string?])[]): string {
  return list.map(([name, access, type], i) => `@group(0) @binding(${i + 1}) var<storage, ${access}> ${name}: array<${type ?? 'f32'}>;`).join('\n');
}

/**
 * Entry point of a one-workgroup-per-row kernel over a 2-D grid (`row` is uniform in the workgroup,
 * so code after the bounds check may use barriers). With subgroups, `sgLane` and `sgSize` come in.
 */
export function rowEntry(size: number, subgroups: boolean): string {
  const sg = subgroups ? ', @builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32' : '';
  return `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${sg}) {
  let row = wid.y * nwg.x + wid.x;`;
}

/** Workgroups for `count` rows, spread over x and y (each at most 65535). */
export function rowGrid(count: number): [number, number, number] {
  if (count <= 65535) return [count, 1, 1];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y, 1];
}

/**
 * `scanMaps(a, b, …) -> vec4(exclusiveA, exclusiveB, totalA, totalB)`: each invocation brings the
 * composed map of its items; it gets the composition of the maps of all invocations before it (the
 * identity for the first) and of the whole workgroup. `reverse` orders invocations from the last to
 * the first (the backward's reverse-time scan). Every invocation must call it (uniform control flow).
 *
 * With subgroups: a shuffle scan inside each subgroup (subgroups are consecutive ranges of
 * local_invocation_index in a 1-D workgroup), then the subgroups' totals through workgroup memory.
 * Without: a Hillis–Steele scan in workgroup memory.
 */
export function scanMapsSource(size: number, subgroups: boolean, reverse: boolean): string {
  const name = reverse ? 'scanMapsReverse' : 'scanMaps';
  if (subgroups) {
    const shuffle = reverse ? 'subgroupShuffleDown' : 'subgroupShuffleUp';
    const hasEarlier = reverse ? 'sgLane + o < sgSize' : 'sgLane >= o';
    const firstLane = reverse ? 'sgLane == sgSize - 1u' : 'sgLane == 0u';
    const lastLane = reverse ? 'sgLane == 0u' : 'sgLane == sgSize - 1u';
    // Subgroups in scan order: forward 0, 1, …; reverse the last first.
    const groupAt = reverse ? '(groups - 1u - k)' : 'k';
    return `fn ${name}(a: f32, b: f32, lid: u32, sgLane: u32, sgSize: u32) -> vec4<f32> {
  var ia = a;
  var ib = b;
  for (var o = 1u; o < sgSize; o <<= 1u) {
    let ea = ${shuffle}(ia, o);
    let eb = ${shuffle}(ib, o);
    if (${hasEarlier}) { ib = ia * eb + ib; ia = ia * ea; }
  }
  var xa = ${shuffle}(ia, 1u);
  var xb = ${shuffle}(ib, 1u);
  if (${firstLane}) { xa = 1.0; xb = 0.0; }
  let group = lid / sgSize;
  let groups = ${size}u / sgSize;
  if (${lastLane}) { sgTotalA[group] = ia; sgTotalB[group] = ib; }
  workgroupBarrier();
  var pa = 1.0;
  var pb = 0.0;
  var ta = 1.0;
  var tb = 0.0;
  for (var k = 0u; k < groups; k++) {
    let g = ${groupAt};
    if (g == group) { pa = ta; pb = tb; }
    tb = sgTotalA[g] * tb + sgTotalB[g];
    ta = ta * sgTotalA[g];
  }
  workgroupBarrier();
  return vec4<f32>(pa * xa, xa * pb + xb, ta, tb);
}`;
  }
  const pos = reverse ? `${size - 1}u - lid` : 'lid';
  return `fn ${name}(a: f32, b: f32, lid: u32) -> vec4<f32> {
  let pos = ${pos};
  scanA[pos] = a;
  scanB[pos] = b;
  workgroupBarrier();
  for (var o = 1u; o < ${size}u; o <<= 1u) {
    var ia = scanA[pos];
    var ib = scanB[pos];
    if (pos >= o) { ib = ia * scanB[pos - o] + ib; ia = ia * scanA[pos - o]; }
    workgroupBarrier();
    scanA[pos] = ia;
    scanB[pos] = ib;
    workgroupBarrier();
  }
  var xa = 1.0;
  var xb = 0.0;
  if (pos > 0u) { xa = scanA[pos - 1u]; xb = scanB[pos - 1u]; }
  let total = vec2<f32>(scanA[${size - 1}u], scanB[${size - 1}u]);
  workgroupBarrier();
  return vec4<f32>(xa, xb, total.x, total.y);
}`;
}

/** Workgroup memory the scans (and `wgSum`) use. */
export function scanMemory(size: number, subgroups: boolean): string {
  return subgroups
    ? `var<workgroup> sgTotalA: array<f32, ${size}>;\nvar<workgroup> sgTotalB: array<f32, ${size}>;`
    : `var<workgroup> scanA: array<f32, ${size}>;\nvar<workgroup> scanB: array<f32, ${size}>;`;
}

/** `wgSum(v, …)`: the workgroup's sum, in every invocation (uniform control flow). Uses scanA / sgTotalA. */
export function wgSumSource(size: number, subgroups: boolean): string {
  if (subgroups) {
    return `fn wgSum(v: f32, lid: u32, sgLane: u32, sgSize: u32) -> f32 {
  let part = subgroupAdd(v);
  if (sgLane == 0u) { sgTotalA[lid / sgSize] = part; }
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < ${size}u / sgSize; k++) { total += sgTotalA[k]; }
  workgroupBarrier();
  return total;
}`;
  }
  return `fn wgSum(v: f32, lid: u32) -> f32 {
  scanA[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { scanA[lid] += scanA[lid + s]; }
    workgroupBarrier();
  }
  let total = scanA[0];
  workgroupBarrier();
  return total;
}`;
}

/** How kernels call the scan helpers (the subgroup variants take the subgroup builtins too). */
export function call(name: string, args: string, subgroups: boolean): string {
  return subgroups ? `${name}(${args}, lid, sgLane, sgSize)` : `${name}(${args}, lid)`;
}
