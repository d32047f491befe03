import { asArray, asId, asObject, asString, typeOf, unsupported, type JsonObject } from './config';
import { TokenizerError, describe } from './errors';

/** Adds a model's special tokens around an encoded text (only when encode's addSpecialTokens is true). */
export interface PostProcessor {
  process(ids: number[]): number[];
}

const SUPPORTED = ['ByteLevel', 'TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'Sequence'] as const;

/** The ids of `[token, id]` pairs as Bert/Roberta processors store their cls and sep tokens. */
function pairId(value: unknown, where: string): number {
  const pair = asArray(value, where);
  return asId(pair[1], `${where}[1]`);
}

/** TemplateProcessing's single-sequence template: `$A` is the text, other entries are special tokens. */
function templateProcessor(config: JsonObject, where: string): PostProcessor {
  const specials = asObject(config.special_tokens ?? {}, `${where}.special_tokens`);
  const parts = asArray(config.single, `${where}.single`).map((piece, i) => {
    const entry = asObject(piece, `${where}.single[${i}]`);
    if (entry.Sequence !== undefined) {
      const id = asString(asObject(entry.Sequence, `${where}.single[${i}].Sequence`).id, `${where}.single[${i}].Sequence.id`);
      if (id !== 'A') throw new TokenizerError('INVALID_CONFIG', `${where}.single[${i}]: a single-sequence template can only use $A, got $${id}`);
      return null;
    }
    const name = asString(asObject(entry.SpecialToken, `${where}.single[${i}].SpecialToken`).id, `${where}.single[${i}].SpecialToken.id`);
    const special = asObject(specials[name], `${where}.special_tokens[${describe(name)}]`);
    return asArray(special.ids, `${where}.special_tokens[${describe(name)}].ids`).map((id, j) => asId(id, `${where}.special_tokens[${describe(name)}].ids[${j}]`));
  });
  return {
    process(ids) {
      const out: number[] = [];
      for (const part of parts) out.push(...(part ?? ids));
      return out;
    },
  };
}

export function postProcessorFromConfig(value: unknown, where = 'post_processor'): PostProcessor | null {
  if (value === null || value === undefined) return null;
  const config = asObject(value, where);
  const type = typeOf(config, where);
  switch (type) {
    case 'ByteLevel':
      // Changes offsets only; ids pass through.
      return null;
    case 'TemplateProcessing':
      return templateProcessor(config, where);
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const cls = pairId(config.cls, `${where}.cls`);
      const sep = pairId(config.sep, `${where}.sep`);
      return { process: (ids) => [cls, ...ids, sep] };
    }
    case 'Sequence': {
      const steps = asArray(config.processors, `${where}.processors`)
        .map((step, i) => postProcessorFromConfig(step, `${where}.processors[${i}]`))
        .filter((step): step is PostProcessor => step !== null);
      return { process: (ids) => steps.reduce((acc, step) => step.process(acc), ids) };
    }
    default:
      throw unsupported('post-processor', type, SUPPORTED);
  }
}
