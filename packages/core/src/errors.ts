/** Base class of every error ssm.js throws on purpose; `code` is stable, the message is for people. */
export class SsmError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the op: names the op, the shapes that came and what was expected. */
export class ShapeError extends SsmError {
  constructor(op: string, message: string) {
    super('SHAPE', `${op}: ${message}`);
  }
}

export class DTypeError extends SsmError {
  constructor(op: string, message: string) {
    super('DTYPE', `${op}: ${message}`);
  }
}

/** A tensor was used after `dispose()`. */
export class DisposedError extends SsmError {
  constructor(what: string) {
    super('DISPOSED', `${what}: tensor was used after dispose()`);
  }
}

/** No kernel for an op on a backend, or a backend that cannot be used here. */
export class BackendError extends SsmError {
  constructor(message: string) {
    super('BACKEND', message);
  }
}

/** A value outside what an op accepts (non-finite, out of range, bad attribute). */
export class ValueError extends SsmError {
  constructor(op: string, message: string) {
    super('VALUE', `${op}: ${message}`);
  }
}

/** A checkpoint or safetensors file that cannot be read as it claims to be. */
export class CheckpointError extends SsmError {
  constructor(message: string) {
    super('CHECKPOINT', message);
  }
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
