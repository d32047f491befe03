import { SsmError } from '@ssmjs/core';

/**
 * A config.json that cannot describe a Mamba model: a required field is missing, a value has the wrong
 * type, or sizes disagree. `field` names the offending key as it is spelled in the file.
 */
export class ConfigError extends SsmError {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super('CONFIG', `Mamba config: '${field}' must be ${expected}, got ${describe(got)}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
