/** `ionsweep merge <dir>` and `ionsweep verify <dir>`: combine and check the shards of a sweep. */
import { join } from 'node:path';
import { Command } from 'commander';
import { InputError } from '../errors.ts';
import { mergeSweep, mergedCsvPath, readManifests, verifySweep } from '../io/sweep-merge.ts';
import { stagedProgress } from './progress.ts';
import { checkOutFile, writeStdout } from './util.ts';
import { classTable } from './sweep.ts';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('merge the shard tables of a sweep folder into one Parquet table, checking them as verify does')
    .argument('<dir>', 'sweep output folder')
    .option('--out <file>', 'merged table (default: <dir>/merged.parquet); never one of the sweep\'s own files')
    .option('--csv', 'also write the merged table as CSV beside it (merged.csv), for tools without a Parquet reader')
    .option('--quiet', 'no progress on stderr')
    .action(async (dir: string, flags: { out?: string; csv?: boolean; quiet?: boolean }) => {
      const out = flags.out ?? join(dir, 'merged.parquet');
      await checkOutFile('--out', out);
      const progress = stagedProgress(Boolean(flags.quiet));
      const { rows, classCounts } = await mergeSweep(dir, out, { csv: flags.csv, onProgress: progress.onProgress }).finally(progress.stop);
      const manifests = await readManifests(dir);
      await writeStdout(`merged ${manifests.length} shards, ${rows} rows → ${out}${flags.csv ? ` and ${mergedCsvPath(out)}` : ''}\n${classTable(classCounts, rows, null)}\n`);
    });
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('check a sweep folder: manifests consistent, every index present exactly once')
    .argument('<dir>', 'sweep output folder')
    .option('--quiet', 'no progress on stderr')
    .action(async (dir: string, flags: { quiet?: boolean }) => {
      const progress = stagedProgress(Boolean(flags.quiet));
      const report = await verifySweep(dir, { onProgress: progress.onProgress }).finally(progress.stop);
      if (!report.ok) throw new InputError(`verify ${dir}: ${report.problems.join('; ')}`);
      await writeStdout(`ok: ${report.shards} shards, ${report.rows} rows, every index present exactly once\n`);
    });
}
