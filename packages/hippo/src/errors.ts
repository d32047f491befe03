/**
 * The error every function of @ssmjs/hippo throws on purpose. It has the same shape as @ssmjs/core's
 * `SsmError` (a stable `code` and a message that says what was expected and what came), without making
 * this package depend on core.
 */
export class HippoError extends Error {
  constructor(
    readonly code: 'VALUE' | 'SHAPE' | 'NUMERIC',
    message: string,
  ) {
    super(message);
    this.name = 'HippoError';
  }
}

/** Throws unless `n` is a positive integer (and even, when `even` is set). */
export function checkSize(fn: string, name: string, n: number, even = false): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new HippoError('VALUE', `${fn}: ${name} must be a positive integer, got ${n}`);
  }
  if (even && n % 2 !== 0) {
    throw new HippoError('VALUE', `${fn}: ${name} must be even (conjugate pairs), got ${n}`);
  }
}

/** Throws unless `array` holds exactly `expected` numbers. */
export function checkLength(fn: string, name: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) {
    throw new HippoError('SHAPE', `${fn}: ${name} must have length ${expected}, got ${array.length}`);
  }
}
