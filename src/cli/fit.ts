/** `ionsweep fit spec.yaml`: many random starts as one ensemble (CMA-ES, Adam or Levenberg–Marquardt); Parquet of all starts, a report of the best and of the random-search baseline. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { fitColumns, paramsOf, runFit } from '../jobs/fit/run.ts';
import { fitSpecSchema, parseFitSpec } from '../jobs/fit/spec.ts';
import { writeParquet } from '../io/parquet.ts';
import { progressReporter } from './progress.ts';
import { defaultOutDir, readSpecWithFlags, specCommand, type SpecCommandFlags } from './spec-command.ts';
import { checkOutDir, parseInteger, writeStdout } from './util.ts';
import { writeCsv } from '../io/csv.ts';
import process from 'node:process';
import { writeFigure } from '../io/plot/figure.ts';
import { fitSpec } from '../io/plot/fit-figure.ts';
import { bestFitTraces } from '../jobs/fit/best-traces.ts';
import { measureFitConditioning } from '../jobs/fit/gradient-trust.ts';
import { isRecordingFitSpec, recordingFitSpecSchema } from '../jobs/fit/recording-spec.ts';
import { recordingFitAction } from './fit-recording.ts';

interface Flags extends SpecCommandFlags {
  best?: number;
  conditioning?: boolean;
}

const round = (p: Record<string, number>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Number(v.toPrecision(5))]));

/** The `fit` subcommand. */
export function fitCommand(): Command {
  return specCommand('fit', 'fit log-parameters from many random starts at once: to a recorded voltage by teacher forcing (approach: teacher-forcing or prediction-error, data: the recording; least-squares: the closed form where [Ca] is recorded too), or to features of a simulation (CMA-ES, the default for features only, with random search in the same run; Adam, the default with a trace term, or Levenberg–Marquardt, optionally after a screen); writes fit.parquet and fit.svg (cost per iteration of every start, the best fits\' traces against the target), prints the best fits', 'fit',
    { fields: [...new Set([...Object.keys(fitSpecSchema.shape), ...Object.keys(recordingFitSpecSchema.shape)])], examples: ['examples/fit-abpd.yaml', 'examples/fit-recording/abpd.yaml'], readme: 'Landscapes, fitting and minimally disruptive curves' })
    .option('--csv', 'also write fit.csv beside fit.parquet, for tools without a Parquet reader')
    .option('--no-conditioning', 'skip measuring how far each start\'s final gradient can be trusted (three more evaluations of the best points)')
    .option('--best <n>', 'report this many best fits (an integer ≥ 1; default 10)', (v) => parseInteger('--best', v, 1, 1_000_000))
    .action(async (specPath: string, flags: Flags) => {
      const raw = await readSpecWithFlags(specPath, flags);
      // approach: teacher-forcing | prediction-error | least-squares fits a recording (README, "Fitting a recording")
      if (isRecordingFitSpec(raw)) return recordingFitAction(specPath, raw, flags);
      const spec = parseFitSpec(raw);
      const outDir = flags.out ?? defaultOutDir(specPath);
      await checkOutDir('--out', outDir);
      const screenProgress = progressReporter('screen', 'evaluations', flags.quiet);
      const fitProgress = progressReporter('fit', 'iterations', flags.quiet);
      const searchProgress = progressReporter('random search', 'evaluations', flags.quiet);
      const started = performance.now();
      let fitStarted = started, searchStarted = 0;
      const r = await runFit(spec, {
        run: { threads: flags.threads },
        onProgress: (p) => {
          const seconds = (performance.now() - started) / 1000;
          if (p.phase === 'screen') {
            // the fit's rate counts from the end of the screen
            if (p.fraction === 1) fitStarted = performance.now();
            screenProgress.update({ done: p.evaluations, total: spec.starts * spec.screen, rate: p.evaluations / seconds, etaSeconds: (seconds / Math.max(p.fraction, 1e-9)) * (1 - p.fraction) });
          } else if (p.phase === 'fit') {
            screenProgress.stop();
            const done = p.iteration + p.fraction;
            const s = (performance.now() - fitStarted) / 1000;
            fitProgress.update({ done: Number(done.toFixed(2)), total: spec.iterations, rate: done / Math.max(s, 1e-9), etaSeconds: p.active === 0 ? 0 : ((spec.iterations - done) * s) / Math.max(done, 1e-9) });
          } else {
            if (!searchStarted) {
              searchStarted = performance.now();
              fitProgress.stop();
            }
            const s = (performance.now() - searchStarted) / 1000;
            const total = p.evaluations / Math.max(p.fraction, 1e-9);
            searchProgress.update({ done: p.evaluations, total: Math.round(total), rate: p.evaluations / s, etaSeconds: (s / Math.max(p.fraction, 1e-9)) * (1 - p.fraction) });
          }
        },
      }).finally(() => {
        screenProgress.stop();
        fitProgress.stop();
        searchProgress.stop();
      });
      const conditioning = flags.conditioning !== false ? await measureFitConditioning(r, { run: { threads: flags.threads } }) : undefined;
      const table = join(outDir, 'fit.parquet'), plot = join(outDir, 'fit.svg');
      const columns = fitColumns(r);
      await writeParquet(table, columns);
      if (flags.csv) await writeCsv(join(outDir, 'fit.csv'), columns);
      await writeFigure(plot, fitSpec(r, await bestFitTraces(r, 3)));
      const untrusted = r.starts.filter((s) => s.gradientTrusted === false).length;
      if (untrusted) process.stderr.write(`ionsweep: note: ${untrusted} of ${r.starts.length} starts end where f32-level rounding moves the gradient by more than 1 %; see README, "Gradients you can trust"\n`);
      const k = flags.best ?? 10;
      const best = [...r.starts].sort((a, b) => a.bestCost - b.bestCost).slice(0, k);
      const stopped: Record<string, number> = {};
      for (const s of r.starts) stopped[s.stopped] = (stopped[s.stopped] ?? 0) + 1;
      const search = r.randomSearch;
      const median = (xs: number[]) => {
        const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
        return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null;
      };
      const lowest = (xs: number[]) => (xs.some(Number.isFinite) ? Math.min(...xs.filter(Number.isFinite)) : null);
      await writeStdout(JSON.stringify({
        optimizer: spec.optimizer, engine: r.engine, device: r.device, starts: r.starts.length, evaluations: r.evaluations, screenEvaluations: r.screenEvaluations,
        wallSeconds: { fit: Number((r.wallMs.fit / 1000).toFixed(1)), screen: Number((r.wallMs.screen / 1000).toFixed(1)), randomSearch: Number((r.wallMs.randomSearch / 1000).toFixed(1)) },
        stopped,
        best: best.map((s) => ({
          start: s.start, cost: s.bestCost, evaluations: s.evaluations, stopped: s.stopped, params: round(paramsOf(r.problem, s.best)),
          ...(s.gradientTrusted !== undefined ? { gradientTrusted: s.gradientTrusted, gradientSpread: s.gradientSpread } : {}),
        })),
        ...(conditioning ? { gradientConditioning: { method: conditioning, illConditionedStarts: untrusted } } : {}),
        ...(search ? {
          randomSearch: {
            evaluations: search.evaluations,
            best: [...search.groups].sort((a, b) => a.bestCost - b.bestCost).slice(0, Math.min(3, k)).map((g) => ({ cost: g.bestCost, params: round(paramsOf(r.problem, g.best)) })),
          },
          // the same run at equal evaluations: the optimiser's starts against random search's groups (one per start)
          comparison: {
            evaluations: { [spec.optimizer]: r.evaluations, randomSearch: search.evaluations },
            lowestCost: { [spec.optimizer]: lowest(r.starts.map((s) => s.bestCost)), randomSearch: lowest(search.groups.map((g) => g.bestCost)) },
            medianBestCost: { [spec.optimizer]: median(r.starts.map((s) => s.bestCost)), randomSearch: median(search.groups.map((g) => g.bestCost)) },
          },
        } : {}),
        table, plot,
      }, null, 2) + '\n');
    });
}
