/** `ionsweep plot-sweep DIR|table.parquet`: a sweep's class fractions, burst periods and conductance scatter as SVG. */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { writeFigure } from '../io/plot/figure.ts';
import { sweepFigureOf } from '../io/plot/sweep-table.ts';
import { checkOutFile, parseOutPath, writeStdout } from './util.ts';

/** Writes the figure of the sweep at `source` to `out` (default: sweep.svg in the folder, or beside the table). */
export async function plotSweep(source: string, out?: string): Promise<string> {
  const isDir = (await stat(source).catch(() => undefined))?.isDirectory();
  const path = out ?? (isDir ? join(source, 'sweep.svg') : source.replace(/\.parquet$/, '.svg'));
  await checkOutFile('--out', path);
  await writeFigure(path, (await sweepFigureOf(source)).spec);
  return path;
}

/** The `plot-sweep` subcommand. */
export function plotSweepCommand(): Command {
  return new Command('plot-sweep')
    .description('draw a sweep as SVG: fraction of models per activity class, burst-period histogram, varied conductances against each other coloured by class')
    .argument('<source>', 'a sweep folder (its complete shards) or a .parquet table (merged, or one shard)')
    .option('--out <file.svg>', 'where to write the figure (default: sweep.svg in the folder, or the table\'s name with .svg)', (v) => parseOutPath('--out', v))
    .action(async (source: string, flags: { out?: string }) => {
      const path = await plotSweep(source, flags.out);
      await writeStdout(`${JSON.stringify({ plot: path })}\n`);
    });
}
