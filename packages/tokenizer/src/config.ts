import { TokenizerError, describe } from './errors';

/** A parsed JSON object, as tokenizer.json components are. */
export type JsonObject = Record<string, unknown>;

/** Small readers for tokenizer.json fields: each throws MALFORMED_JSON naming the field and what came. */
export function asObject(value: unknown, where: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerError('MALFORMED_JSON', `${where}: expected an object, got ${describe(value)}`);
  }
  return value as JsonObject;
}

export function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new TokenizerError('MALFORMED_JSON', `${where}: expected an array, got ${describe(value)}`);
  return value;
}

export function asString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new TokenizerError('MALFORMED_JSON', `${where}: expected a string, got ${describe(value)}`);
  return value;
}

export function asBool(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new TokenizerError('MALFORMED_JSON', `${where}: expected true or false, got ${describe(value)}`);
  return value;
}

export function asId(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TokenizerError('MALFORMED_JSON', `${where}: expected a non-negative integer id, got ${describe(value)}`);
  }
  return value;
}

/** The `type` field of a component; `kind` names the component in the message ("normalizer", …). */
export function typeOf(config: JsonObject, kind: string): string {
  return asString(config.type, `${kind}.type`);
}

export function unsupported(kind: string, type: string, supported: readonly string[]): TokenizerError {
  return new TokenizerError('UNSUPPORTED', `unsupported ${kind} type "${type}" (supported: ${supported.join(', ')})`);
}

/** `{"String": "x"}` or `{"Regex": "x"}` patterns of Split, Replace: a global JavaScript RegExp. */
export function patternToRegExp(value: unknown, where: string, translate: (pattern: string) => string, escape: (text: string) => string): RegExp {
  const pattern = asObject(value, where);
  let source: string;
  if (typeof pattern.String === 'string') source = escape(pattern.String);
  else if (typeof pattern.Regex === 'string') source = translate(pattern.Regex);
  else throw new TokenizerError('MALFORMED_JSON', `${where}: expected {"String": …} or {"Regex": …}, got ${describe(value)}`);
  try {
    return new RegExp(source, 'gu');
  } catch (err) {
    throw new TokenizerError('UNSUPPORTED', `${where}: pattern ${describe(source)} is not valid in JavaScript: ${(err as Error).message}`);
  }
}
