/** `ionsweep landscape spec.yaml`: cost and gradient on a 2-D grid; Parquet table and SVG heatmap. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { finiteMinimum, landscapeColumns, landscapeSpecSchema, parseLandscapeSpec, runLandscape } from '../jobs/landscape.ts';
import { writeParquet } from '../io/parquet.ts';
import process from 'node:process';
import { writeFigure } from '../io/plot/figure.ts';
import { landscapeSpec } from '../io/plot/landscape-figure.ts';
import { progressReporter } from './progress.ts';
import { defaultOutDir, readSpecWithFlags, specCommand, type SpecCommandFlags } from './spec-command.ts';
import { checkOutDir, writeStdout } from './util.ts';
import { writeCsv } from '../io/csv.ts';

type Flags = SpecCommandFlags & { conditioning?: boolean };

/** The `landscape` subcommand. */
export function landscapeCommand(): Command {
  return specCommand('landscape', 'cost and gradient on a 2-D parameter grid, one ensemble run; writes landscape.parquet and landscape.svg', 'landscape',
    { fields: Object.keys(landscapeSpecSchema.shape), examples: ['examples/landscape-abpd.yaml'], readme: 'Landscapes, fitting and minimally disruptive curves' })
    .option('--no-conditioning', 'skip measuring how far each point\'s gradient can be trusted (two more runs of the grid)')
    .option('--csv', 'also write landscape.csv beside landscape.parquet, for tools without a Parquet reader')
    .action(async (specPath: string, flags: Flags) => {
      const spec = parseLandscapeSpec(await readSpecWithFlags(specPath, flags));
      const total = spec.x.count * spec.y.count;
      const outDir = flags.out ?? defaultOutDir(specPath);
      await checkOutDir('--out', outDir);
      const progress = progressReporter('landscape', 'points', flags.quiet);
      const started = performance.now();
      const r = await runLandscape(spec, {
        run: { threads: flags.threads },
        conditioning: flags.conditioning !== false,
        onProgress: (fraction) => {
          const seconds = (performance.now() - started) / 1000;
          progress.update({ done: Math.round(fraction * total), total, rate: (fraction * total) / seconds, etaSeconds: (seconds / Math.max(fraction, 1e-9)) * (1 - fraction) });
        },
      }).finally(() => progress.stop());
      const table = join(outDir, 'landscape.parquet'), plot = join(outDir, 'landscape.svg');
      const columns = landscapeColumns(r);
      await writeParquet(table, columns, { spec: JSON.stringify(spec, (_k, v) => (typeof v === 'object' && v && 'states' in v ? '(model)' : v)) });
      if (flags.csv) await writeCsv(join(outDir, 'landscape.csv'), columns);
      await writeFigure(plot, landscapeSpec(r, { title: `${r.problem.terms.map((t) => t.label).join(' + ')}` }));
      const untrusted = r.conditioning ? r.conditioning.trusted.reduce((n, t, k) => n + (t === 0 && Number.isFinite(r.cost[k]) ? 1 : 0), 0) : 0;
      if (untrusted) process.stderr.write(`ionsweep: note: at ${untrusted} of ${r.cost.length} points f32-level rounding moves the gradient by more than 1 % (hollow arrows in ${plot}); see README, "Gradients you can trust"\n`);
      // the minimum over finite costs: a diverged point (NaN cost) is never one; null when every point diverged
      const best = finiteMinimum(r.cost);
      const nx = r.x.coords.length;
      await writeStdout(JSON.stringify({
        points: r.cost.length, diverged: r.divergence.count, engine: r.engine, device: r.device, note: r.note, wallSeconds: Number((r.wallMs / 1000).toFixed(2)),
        minimum: best < 0 ? null : { cost: r.cost[best], [r.x.lane.param]: r.x.values[best % nx], [r.y.lane.param]: r.y.values[Math.floor(best / nx)] },
        ...(r.conditioning ? { gradientConditioning: { method: r.conditioning.method, illConditionedPoints: untrusted } } : {}),
        table, plot,
      }, null, 2) + '\n');
    });
}
