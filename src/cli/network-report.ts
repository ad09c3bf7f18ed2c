/** `ionsweep network-report DIR|table.parquet`: a pyloric network sweep summarised as the Prinz 2004 database was. */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { writeFigure } from '../io/plot/figure.ts';
import { networkReport } from '../jobs/network-report.ts';
import { stagedProgress } from './progress.ts';
import { checkOutFile, parseOutPath, writeStdout } from './util.ts';

/** Where the per-synapse figure goes by default: synapses.svg in the folder, or beside the table. */
async function defaultFigurePath(source: string): Promise<string> {
  const isDir = (await stat(source).catch(() => undefined))?.isDirectory();
  return isDir ? join(source, 'synapses.svg') : source.replace(/\.parquet$/, '') + '.synapses.svg';
}

/** The `network-report` subcommand. */
export function networkReportCommand(): Command {
  return new Command('network-report')
    .description('summarise a pyloric network sweep as the Prinz 2004 database was: fractions of pyloric-like and pyloric networks (95 % Wilson intervals, beside the published 19.99 % and 2.2 %), why networks miss, and the synapse strengths of the pyloric networks against all (JSON on stdout, figure as SVG)')
    .argument('<source>', 'a network sweep folder (its complete shards) or a .parquet table (merged, or one shard)')
    .option('--out <file.svg>', 'the per-synapse figure (default: synapses.svg in the folder, or the table\'s name with .synapses.svg)', (v) => parseOutPath('--out', v))
    .option('--quiet', 'no progress on stderr')
    .action(async (source: string, flags: { out?: string; quiet?: boolean }) => {
      const out = flags.out ?? await defaultFigurePath(source);
      await checkOutFile('--out', out);
      const progress = stagedProgress(Boolean(flags.quiet));
      const { report, figure } = await networkReport(source, { onProgress: (done, total) => progress.onProgress('network-report', done, total) }).finally(progress.stop);
      if (figure) await writeFigure(out, figure);
      await writeStdout(`${JSON.stringify({ ...report, figure: figure ? out : null }, null, 2)}\n`);
    });
}
