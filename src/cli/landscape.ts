/** `ionsweep landscape spec.yaml`: cost and gradient on a 2-D grid; Parquet table and SVG heatmap. */
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { GPU_MATH } from '../compile/emit-wgsl.ts';
import { ENGINE_CHOICES } from '../engine/run.ts';
import { landscapeColumns, parseLandscapeSpec, runLandscape } from '../jobs/landscape.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { writeParquet } from '../io/parquet.ts';
import { landscapeSvg } from '../io/plot/landscape-svg.ts';
import { readSpecFile } from '../io/spec-file.ts';
import { progressReporter } from './progress.ts';
import { parseNumber, writeStdout } from './util.ts';

interface Flags {
  out?: string;
  engine?: string;
  gpuMath?: string;
  threads?: number;
  quiet?: boolean;
}

/** Default output folder: results/<spec file name without extension>. */
export function defaultOutDir(specPath: string): string {
  return join('results', basename(specPath).replace(/\.(ya?ml|json)$/i, ''));
}

/** Applies --engine and --gpu-math over a spec read from a file. */
export function withEngineFlags(raw: unknown, flags: { engine?: string; gpuMath?: string }): Record<string, unknown> {
  return {
    ...(raw as Record<string, unknown>),
    ...(flags.engine ? { engine: flags.engine } : {}),
    ...(flags.gpuMath ? { gpuMath: flags.gpuMath } : {}),
  };
}

/** The `landscape` subcommand. */
export function landscapeCommand(): Command {
  return new Command('landscape')
    .description('cost and gradient on a 2-D parameter grid, one ensemble run; writes landscape.parquet and landscape.svg')
    .argument('<spec>', 'landscape spec file (YAML or JSON)')
    .option('--out <dir>', 'output folder (default: results/<spec name>)')
    .addOption(new Option('--engine <name>', 'override the spec: cpu, gpu or auto').choices(ENGINE_CHOICES))
    .addOption(new Option('--gpu-math <mode>', 'override the spec: accurate or fast').choices(GPU_MATH))
    .option('--threads <n>', 'CPU worker threads', (v) => parseNumber('--threads', v))
    .option('--quiet', 'no progress output')
    .action(async (specPath: string, flags: Flags) => {
      const spec = parseLandscapeSpec(withEngineFlags(await readSpecFile(specPath), flags));
      const total = spec.x.count * spec.y.count;
      const outDir = flags.out ?? defaultOutDir(specPath);
      const progress = progressReporter('landscape', 'points', flags.quiet);
      const started = performance.now();
      const r = await runLandscape(spec, {
        run: { threads: flags.threads },
        onProgress: (fraction) => {
          const seconds = (performance.now() - started) / 1000;
          progress.update({ done: Math.round(fraction * total), total, rate: (fraction * total) / seconds, etaSeconds: (seconds / Math.max(fraction, 1e-9)) * (1 - fraction) });
        },
      }).finally(() => progress.stop());
      const table = join(outDir, 'landscape.parquet'), plot = join(outDir, 'landscape.svg');
      await writeParquet(table, landscapeColumns(r), { spec: JSON.stringify(spec, (_k, v) => (typeof v === 'object' && v && 'states' in v ? '(model)' : v)) });
      await writeFileAtomic(plot, landscapeSvg(r, { title: `${r.problem.terms.map((t) => t.label).join(' + ')}` }));
      let best = 0;
      r.cost.forEach((c, k) => (c < r.cost[best] ? (best = k) : 0));
      const nx = r.x.coords.length;
      await writeStdout(JSON.stringify({
        points: r.cost.length, engine: r.engine, device: r.device, note: r.note, wallSeconds: Number((r.wallMs / 1000).toFixed(2)),
        minimum: { cost: r.cost[best], [r.x.lane.param]: r.x.values[best % nx], [r.y.lane.param]: r.y.values[Math.floor(best / nx)] },
        table, plot,
      }, null, 2) + '\n');
    });
}
