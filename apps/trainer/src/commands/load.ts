import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { configureWasm, setBackend } from '@ssmjs/core';
import { loadWasmKernels } from '@ssmjs/selective-scan';
import { MambaLM } from '@ssmjs/mamba';
import type { TextTokenizer } from '@ssmjs/tokenizer';
import { CheckpointError, findCheckpoint } from '../checkpoint';
import { loadTokenizerFile } from '../tokenizers';

/**
 * A model and (when the folder has one) its tokenizer from a checkpoint folder: ours (`runs/x` or
 * `runs/x/checkpoint`) or any Hugging Face Mamba folder with config.json + model.safetensors.
 */
export async function loadCheckpoint(dir: string, backend: string, threads?: number): Promise<{ model: MambaLM; tokenizer: TextTokenizer | null; backend: string }> {
  if (threads !== undefined) configureWasm({ threads });
  const chosen = await setBackend(backend as 'auto');
  // The scan's SIMD kernels: without them the wasm backend runs the cpu scan (~15× slower per scan).
  if (chosen === 'wasm') await loadWasmKernels();
  const folder = (await exists(join(dir, 'config.json'))) ? dir : await findCheckpoint(join(dir, 'checkpoint'));
  if (!folder) throw new CheckpointError(`${dir} has no config.json (nor a checkpoint/ folder from 'ssm train')`);
  const model = await MambaLM.fromPretrained(folder);
  const tokenizerPath = join(folder, 'tokenizer.json');
  const tokenizer = (await exists(tokenizerPath)) ? await loadTokenizerFile(tokenizerPath) : null;
  return { model, tokenizer, backend: chosen };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
