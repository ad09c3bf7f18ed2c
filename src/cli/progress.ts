/**
 * Progress for long jobs: a bar with rate and time left on a terminal, JSON lines otherwise (batch
 * logs), both on stderr so stdout stays the result.
 */
import process from 'node:process';
import cliProgress from 'cli-progress';

export interface ProgressUpdate {
  done: number;
  total: number;
  /** units per second */
  rate: number;
  etaSeconds: number;
}

export interface ProgressReporter {
  update(p: ProgressUpdate): void;
  stop(): void;
}

/** A reporter for `unit` (e.g. 'models'); `quiet` reports nothing. */
export function progressReporter(label: string, unit: string, quiet = false): ProgressReporter {
  if (quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      etaBuffer: 20,
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(p) {
        const rate = Number.isFinite(p.rate) ? p.rate.toPrecision(3) : '—';
        if (!started) {
          bar.start(p.total, p.done, { rate });
          started = true;
        } else bar.update(p.done, { rate });
      },
      stop: () => started && bar.stop(),
    };
  }
  // batch logs: a line at most every 5 s, and the last one
  let last = -Infinity;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < 5000 && p.done < p.total) return;
      last = now;
      process.stderr.write(JSON.stringify({
        event: 'progress', job: label, done: p.done, total: p.total, [`${unit}PerSecond`]: Number(p.rate.toPrecision(4)) || 0,
        etaSeconds: Number.isFinite(p.etaSeconds) ? Math.round(p.etaSeconds) : null, time: new Date().toISOString(),
      }) + '\n');
    },
    stop() {},
  };
}

/**
 * Progress of a job's passes over rows (verify's, merge's, a report's): one reporter per stage, a new
 * one when the stage changes (a bar on a terminal, JSON lines otherwise); `stop` ends the last one.
 */
export function stagedProgress(quiet: boolean, unit = 'rows'): { onProgress: (stage: string, done: number, total: number) => void; stop: () => void } {
  let current: { stage: string; reporter: ProgressReporter; startedMs: number } | undefined;
  return {
    onProgress(stage, done, total) {
      if (current?.stage !== stage) {
        current?.reporter.stop();
        current = { stage, reporter: progressReporter(stage, unit, quiet), startedMs: performance.now() };
      }
      const rate = done / ((performance.now() - current.startedMs) / 1000);
      current.reporter.update({ done, total, rate, etaSeconds: (total - done) / rate });
    },
    stop: () => current?.reporter.stop(),
  };
}
