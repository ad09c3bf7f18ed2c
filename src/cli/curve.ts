/** `ionsweep curve spec.yaml`: a minimally disruptive curve; Parquet path, SVG plot, JSON summary. */
import { join } from 'node:path';
import process from 'node:process';
import type { Command } from 'commander';
import { curveColumns, runCurve } from '../jobs/curve/run.ts';
import { curveSpecSchema, parseCurveSpec } from '../jobs/curve/spec.ts';
import { paramValue } from '../jobs/cost/problem.ts';
import { writeParquet } from '../io/parquet.ts';
import { writeFigure } from '../io/plot/figure.ts';
import { curveSpec } from '../io/plot/curve-figure.ts';
import { progressReporter } from './progress.ts';
import { defaultOutDir, readSpecWithFlags, specCommand, type SpecCommandFlags } from './spec-command.ts';
import { checkOutDir, writeStdout } from './util.ts';
import { writeCsv } from '../io/csv.ts';

type Flags = SpecCommandFlags & { conditioning?: boolean };

/** The `curve` subcommand. */
export function curveCommand(): Command {
  return specCommand('curve', 'a minimally disruptive curve from a start point, both directions; writes curve.parquet and curve.svg', 'curve',
    { fields: Object.keys(curveSpecSchema.shape), examples: ['examples/curve-abpd.yaml'], readme: 'Landscapes, fitting and minimally disruptive curves' })
    .option('--no-conditioning', 'skip measuring how far the curve\'s direction can be trusted at each point (two more runs of every point)')
    .option('--csv', 'also write curve.csv beside curve.parquet, for tools without a Parquet reader')
    .action(async (specPath: string, flags: Flags) => {
      const spec = parseCurveSpec(await readSpecWithFlags(specPath, flags));
      const outDir = flags.out ?? defaultOutDir(specPath);
      await checkOutDir('--out', outDir);
      const branches = spec.bothDirections ? 2 : 1;
      const progress = progressReporter('curve', 'length', flags.quiet);
      const started = performance.now();
      const r = await runCurve(spec, {
        run: { threads: flags.threads },
        conditioning: flags.conditioning !== false,
        onProgress: (p) => {
          const done = p.s.reduce((a, b) => a + b, 0), total = branches * spec.length;
          const seconds = (performance.now() - started) / 1000;
          progress.update({ done: Number(done.toFixed(3)), total, rate: done / seconds, etaSeconds: ((total - done) * seconds) / Math.max(done, 1e-9) });
        },
      }).finally(() => progress.stop());
      const table = join(outDir, 'curve.parquet'), plot = join(outDir, 'curve.svg');
      const columns = curveColumns(r);
      await writeParquet(table, columns);
      if (flags.csv) await writeCsv(join(outDir, 'curve.csv'), columns);
      await writeFigure(plot, curveSpec(r, { title: `minimally disruptive curve: ${r.problem.terms.map((t) => t.label).join(' + ')}` }));
      const end = (b: (typeof r.branches)[number]) => b.points[b.points.length - 1];
      if (r.conditioning?.untrusted) {
        process.stderr.write(`ionsweep: note: at ${r.conditioning.untrusted} of ${columns[0].data.length} curve points f32-level rounding moves the Gauss–Newton matrix JᵀJ (the curve's direction) by more than 2 % (hollow amber in ${plot}); see README, "Gradients you can trust"\n`);
      }
      await writeStdout(JSON.stringify({
        engine: r.engine, device: r.device, wallSeconds: Number((r.wallMs / 1000).toFixed(1)), evaluations: r.evaluations,
        start: { cost: r.start.cost, ceiling: r.ceiling },
        direction: { from: r.direction.from, vector: Object.fromEntries(r.problem.coords.map((c, d) => [c.key, Number(r.direction.vector[d].toFixed(4))])) },
        branches: r.branches.map((b) => ({
          direction: b.sign > 0 ? 'forward' : 'backward', points: b.points.length, arcLength: Math.abs(end(b).s), stopped: b.stopped, refusedSteps: b.refused,
          maxCost: Math.max(...b.points.map((p) => p.cost)),
          end: Object.fromEntries(r.problem.coords.map((c, d) => [c.param, Number(paramValue(c, end(b).coords[d]).toPrecision(5))])),
        })),
        changes: r.changes.map((c) => ({ parameter: c.key, range: Number(c.range.toFixed(4)), ...(c.factor !== undefined ? { factor: Number(c.factor.toFixed(3)) } : {}) })),
        ...(r.conditioning ? { jacobianConditioning: { method: r.conditioning.method, illConditionedPoints: r.conditioning.untrusted, points: columns[0].data.length } } : {}),
        table, plot,
      }, null, 2) + '\n');
    });
}
