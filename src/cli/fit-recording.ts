/** `ionsweep fit` for specs with `approach: teacher-forcing | prediction-error | least-squares`: fit.parquet, fit.svg and a JSON report. */
import { join } from 'node:path';
import process from 'node:process';
import { resolveModel } from '../channels/index.ts';
import { writeCsv } from '../io/csv.ts';
import { writeParquet } from '../io/parquet.ts';
import { writeFigure } from '../io/plot/figure.ts';
import { recordingFitSpec } from '../io/plot/recording-fit-figure.ts';
import { recordingFitColumns, runRecordingFitJob, specDirOf } from '../jobs/fit/recording-job.ts';
import { IDENTIFIED_BELOW } from '../jobs/fit/recording-fit.ts';
import { parseRecordingFitSpec } from '../jobs/fit/recording-spec.ts';
import { simulateRecording } from '../jobs/fit/record.ts';
import { progressReporter, type ProgressReporter } from './progress.ts';
import { defaultOutDir } from './spec-command.ts';
import { checkOutDir, writeStdout } from './util.ts';

const round = (x: number) => Number(x.toPrecision(5));

/** Runs a recording fit from a raw spec (already read, flags applied) and writes its outputs. */
export async function recordingFitAction(specPath: string, raw: unknown, flags: { out?: string; quiet?: boolean; threads?: number; csv?: boolean; best?: number }): Promise<void> {
  const spec = parseRecordingFitSpec(raw);
  const outDir = flags.out ?? defaultOutDir(specPath);
  await checkOutDir('--out', outDir);
  // one bar per step the fit runs at: a fit moved to a finer step counts its iterations anew
  let stage: { dtMs: number; progress: ProgressReporter; started: number } | undefined;
  const r = await runRecordingFitJob(spec, specDirOf(specPath), {
    run: { threads: flags.threads },
    onProgress: (p) => {
      if (stage?.dtMs !== p.dtMs) {
        stage?.progress.stop();
        stage = { dtMs: p.dtMs, progress: progressReporter(stage ? `fit at ${p.dtMs} ms steps` : 'fit', 'iterations', flags.quiet), started: performance.now() };
      }
      const done = p.iteration + p.fraction, s = (performance.now() - stage.started) / 1000;
      stage.progress.update({ done: Number(done.toFixed(2)), total: p.iterations, rate: done / Math.max(s, 1e-9), etaSeconds: p.active === 0 ? 0 : ((p.iterations - done) * s) / Math.max(done, 1e-9) });
    },
  }).finally(() => stage?.progress.stop());
  const table = join(outDir, 'fit.parquet'), plot = join(outDir, 'fit.svg');
  const columns = recordingFitColumns(r);
  await writeParquet(table, columns);
  if (flags.csv) await writeCsv(join(outDir, 'fit.csv'), columns);
  const order = r.fit.starts.map((s, i) => [s.bestCost, i] as const).filter(([c]) => Number.isFinite(c)).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const best = order[0];
  let fitted: { timesMs: Float64Array; values: Float64Array } | undefined;
  if (best !== undefined) {
    // the best fit run freely (in a network: the whole network), its fitted cell's voltage against the recording
    const params = Object.fromEntries(r.fit.parameters.map((p, d) => [p, Math.exp(r.fit.starts[best].best[d])]));
    const values = await simulateRecording(resolveModel(spec.model), { dtMs: r.run.dtMs, method: spec.method, init: spec.init, values: { ...spec.fixed, ...params }, durationMs: r.run.durationMs, observed: r.recorded.name });
    fitted = { timesMs: Float64Array.from(values, (_, k) => k * r.run.dtMs), values };
  }
  await writeFigure(plot, recordingFitSpec(r, fitted));
  const unidentified = best === undefined ? [] : r.fit.parameters.filter((_, d) => !r.fit.starts[best].identified[d]);
  if (unidentified.length) process.stderr.write(`ionsweep: note: the recording does not identify ${unidentified.join(', ')} (Gauss–Newton standard deviation of the log above ${IDENTIFIED_BELOW}); their fitted values are not determined by the data\n`);
  const choice = r.stepChoice;
  if (choice?.finerDtMs !== undefined) {
    process.stderr.write(choice.chosenDtMs === choice.finerDtMs
      ? `ionsweep: note: one step per sample (${spec.data.intervalMs} ms) left the recording unexplained (lowest cost ${round(choice.onSamplesCost)} mV²); at ${round(choice.finerDtMs)} ms through the ${spec.data.interpolation} interpolation it is ${round(choice.finerCost!)}, so the fit is at that step, as for a recording of a continuous cell (give dtMs to choose; README, "Recordings of real cells")\n`
      : `ionsweep: note: one step per sample (${spec.data.intervalMs} ms) left the recording unexplained (lowest cost ${round(choice.onSamplesCost)} mV²), and ${round(choice.finerDtMs)} ms did no better (${round(choice.finerCost!)}): the model may differ from the cell that made the recording (README, "Model mismatch"), or the recording is noisy (finer steps are not noise-compensated)\n`);
  }
  const noiseText = Object.entries(r.noise.mV).map(([k, v]) => `${k} ${round(v)} mV`).join(', ');
  if (r.noise.uncompensatedBecause === 'substeps') process.stderr.write(`ionsweep: note: recording noise ${noiseText}, not compensated: the compensation needs one step per sample (dtMs = data.intervalMs), and steps between samples read interpolated noise; the fitted conductances are biased by it (README, "Recordings of real cells")\n`);
  if (r.noise.compensated) process.stderr.write(`ionsweep: note: recording noise ${noiseText} (${r.noise.source === 'spec' ? 'data.noiseMv' : 'estimated from the recording; give data.noiseMv if known'}): its expected part of the cost was subtracted and the fit polished by the one-step prediction error\n`);
  const stopped: Record<string, number> = {};
  for (const s of r.fit.starts) stopped[s.stopped] = (stopped[s.stopped] ?? 0) + 1;
  await writeStdout(JSON.stringify({
    approach: spec.approach, engine: r.fit.engine, device: r.fit.device, starts: r.fit.starts.length, evaluations: r.fit.evaluations,
    run: r.run, ...(r.stepChoice ? { stepChoice: r.stepChoice } : {}), residualRows: r.fit.rows, wallSeconds: Number((r.fit.wallMs / 1000).toFixed(1)), stopped,
    data: r.data,
    noise: { mV: Object.fromEntries(Object.entries(r.noise.mV).map(([k, v]) => [k, round(v)])), source: r.noise.source, compensated: r.noise.compensated, ...(r.noise.uncompensatedBecause ? { uncompensatedBecause: r.noise.uncompensatedBecause } : {}) },
    ...(r.reproduces ? { reproduces: r.reproduces.filter(Boolean).length } : {}),
    ...(r.note ? { note: r.note } : {}),
    best: order.slice(0, flags.best ?? 10).map((i) => {
      const s = r.fit.starts[i];
      return {
        start: i, cost: s.bestCost, stopped: s.stopped, evaluations: s.evaluations,
        params: Object.fromEntries(r.fit.parameters.map((p, d) => [p, round(Math.exp(s.best[d]))])),
        stdLog: Object.fromEntries(r.fit.parameters.map((p, d) => [p, round(s.stdLog[d])])),
        unidentified: r.fit.parameters.filter((_, d) => !s.identified[d]),
        ...(r.activity ? { class: r.activity.class[i], burstPeriodMs: r.activity.burstPeriodMs[i], dutyCycle: r.activity.dutyCycle[i], reproduces: r.reproduces![i] } : {}),
        ...(spec.target ? { relativeError: Object.fromEntries(r.fit.parameters.filter((p) => spec.target![p] !== undefined).map((p) => [p, round(Math.exp(s.best[r.fit.parameters.indexOf(p)]) / spec.target![p] - 1)])) } : {}),
      };
    }),
    table, plot,
  }, null, 2) + '\n');
}
