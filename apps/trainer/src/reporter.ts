import cliProgress from 'cli-progress';
import type { TrainReporter } from './train';

/** A live progress bar on a terminal; a line every `every` steps when output is a pipe or a file. */
export function consoleReporter(every = 10): TrainReporter {
  const tty = process.stdout.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let first = 0;
  let last = { step: 0, loss: Number.NaN, tokensPerSecond: 0, lr: 0 };
  let smoothed = Number.NaN;
  return {
    start(total, startStep) {
      first = startStep;
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        { format: 'step {value}/{total} |{bar}| loss {loss} | {tps} tok/s | lr {lr} | ETA {eta_formatted}', hideCursor: true, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, startStep, { loss: '—', tps: '—', lr: '—' });
    },
    step(info) {
      last = info;
      smoothed = Number.isNaN(smoothed) ? info.loss : 0.9 * smoothed + 0.1 * info.loss;
      if (bar) bar.update(info.step, { loss: smoothed.toFixed(4), tps: info.tokensPerSecond.toFixed(0), lr: info.lr.toExponential(2) });
      else if ((info.step - first) % every === 0) {
        console.log(`step ${info.step}  loss ${smoothed.toFixed(4)}  ${info.tokensPerSecond.toFixed(0)} tok/s  lr ${info.lr.toExponential(2)}`);
      }
    },
    log(line) {
      if (bar) {
        bar.stop();
        console.log(line);
        bar.start(bar.getTotal(), last.step, { loss: Number.isNaN(smoothed) ? '—' : smoothed.toFixed(4), tps: last.tokensPerSecond.toFixed(0), lr: last.lr.toExponential(2) });
      } else console.log(line);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

/** Collects lines (for tests and programmatic use). */
export function quietReporter(lines: string[] = []): TrainReporter & { lines: string[] } {
  return { lines, start() {}, step() {}, log: (l) => void lines.push(l), stop() {} };
}
