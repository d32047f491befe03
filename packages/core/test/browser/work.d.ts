/** The shared workload of the browser test pages (work.js). */
export function work(core: typeof import('@ssmjs/core')): { checksum: number; first: number[] };
