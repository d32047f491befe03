import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSafetensors, parseSafetensors, saveSafetensors, type Optimizer } from '@ssmjs/core';
import { writeFileAtomic } from '@ssmjs/core/node';
import type { MambaLM } from '@ssmjs/mamba';
import type { TextTokenizer } from '@ssmjs/tokenizer';
import { tokenizerToJSON } from './tokenizers';

/** What the trainer needs besides the model to continue a run exactly. */
export interface TrainerState {
  step: number;
  /** The data sampler's generator state (the order of batches). */
  dataGenerator: number[];
  tokensSeen: number;
  elapsedSeconds: number;
  /** The run's options as given, so `--resume` can refuse an incompatible continuation. */
  options: Record<string, unknown>;
  /** Loss curve so far: [step, loss] and [step, held-out metric]. */
  trainLoss: [number, number][];
  evalLoss: [number, number][];
}

export const STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TOKENIZER_FILE = 'tokenizer.json';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/**
 * Writes a complete checkpoint (Hugging Face config.json + model.safetensors, tokenizer.json, the
 * optimizer state and the trainer state) into a fresh folder, then swaps it in for `dir` by renames,
 * so `dir` always holds one whole checkpoint: the previous one stays in `dir.old` until the new one is
 * in place.
 */
export async function saveCheckpoint(
  dir: string,
  parts: { model: MambaLM; tokenizer: TextTokenizer | null; optimizer: Optimizer; state: TrainerState },
): Promise<void> {
  const temp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  await parts.model.save(temp);
  // Synthetic tasks have no text tokenizer: their ids are the task's vocabulary.
  if (parts.tokenizer) await writeFileAtomic(join(temp, TOKENIZER_FILE), `${JSON.stringify(tokenizerToJSON(parts.tokenizer))}\n`);
  const opt = parts.optimizer.stateDict();
  try {
    await writeFileAtomic(join(temp, OPTIMIZER_FILE), await saveSafetensors(opt.state, { step: String(opt.step) }));
  } finally {
    for (const t of Object.values(opt.state)) t.dispose();
  }
  await writeFileAtomic(join(temp, STATE_FILE), `${JSON.stringify(parts.state)}\n`);
  await rm(old, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, old);
  await rename(temp, dir);
  await rm(old, { recursive: true, force: true });
}

/** The checkpoint folder to resume from: `dir`, or `dir.old` if a save was cut between its renames. */
export async function findCheckpoint(dir: string): Promise<string | null> {
  for (const candidate of [dir, `${dir}.old`]) if (await exists(join(candidate, STATE_FILE))) return candidate;
  return null;
}

export async function readTrainerState(dir: string): Promise<TrainerState> {
  const text = await readFile(join(dir, STATE_FILE), 'utf8').catch(() => {
    throw new CheckpointError(`no ${STATE_FILE} in ${dir}: not a checkpoint written by 'ssm train'`);
  });
  return JSON.parse(text) as TrainerState;
}

/** Restores the optimizer's moments and step count from a checkpoint folder. */
export async function loadOptimizerState(dir: string, optimizer: Optimizer): Promise<void> {
  const bytes = await readFile(join(dir, OPTIMIZER_FILE));
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const step = Number(parseSafetensors(view).metadata.step ?? Number.NaN);
  if (!Number.isInteger(step)) throw new CheckpointError(`${OPTIMIZER_FILE} in ${dir} has no step count in its metadata`);
  const state = loadSafetensors(view);
  try {
    optimizer.loadStateDict({ step, state });
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
