import { loadCheckpoint } from './load';

interface GenerateFlags {
  checkpoint: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
  backend: string;
}

/** Streams a continuation of the prompt to stdout, then the speed on stderr. */
export async function runGenerate(flags: GenerateFlags): Promise<void> {
  const { model, tokenizer, backend } = await loadCheckpoint(flags.checkpoint, flags.backend);
  if (!tokenizer) throw new Error(`${flags.checkpoint} has no tokenizer.json: cannot turn the prompt into ids`);
  const prompt = tokenizer.encode(flags.prompt);
  if (prompt.length === 0) throw new Error('the prompt encodes to no tokens; give a non-empty --prompt');
  const decoder = tokenizer.decoder();
  process.stdout.write(flags.prompt);
  const t0 = performance.now();
  let first = 0;
  let count = 0;
  for await (const [token] of model.stream([prompt], {
    maxNewTokens: flags.maxNewTokens,
    temperature: flags.temperature,
    topK: flags.topK || undefined,
    topP: flags.topP,
    repetitionPenalty: flags.repetitionPenalty,
    seed: flags.seed,
  })) {
    if (count === 0) first = performance.now();
    count++;
    process.stdout.write(decoder.push(token));
  }
  process.stdout.write(`${decoder.flush()}\n`);
  const end = performance.now();
  const decodeRate = count > 1 ? ((count - 1) * 1000) / (end - first) : 0;
  console.error(`\n${count} tokens on ${backend}: prompt ${prompt.length} tokens + first token ${(first - t0).toFixed(0)} ms, then ${decodeRate.toFixed(1)} tokens/s`);
  model.dispose();
}
