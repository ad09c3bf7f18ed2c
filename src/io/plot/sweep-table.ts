/**
 * The rows a sweep figure draws: a merged table (a .parquet file), or every complete shard of a
 * sweep folder (shards with a manifest; a shard still running has none and is left out, and the
 * figure's title says how many shards it shows). A batch of row groups at a time, and for a figure
 * only the columns it draws (those up to `class`: indices, cells and varied parameters; the class; the
 * periods): a sweep's other columns, most of a row, never reach memory.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Column } from '../../analysis/features.ts';
import { InputError, environmentErrorOf } from '../../errors.ts';
import { concatTables, parquetColumnNames, readParquetBatches, type Table } from '../parquet.ts';

const MANIFEST = /^(shard-\d+-of-(\d+))\.json$/;

export interface SweepRows {
  columns: Column[];
  /** what was read, for the figure's title */
  source: string;
}

/**
 * Reads a sweep table or the complete shards of a sweep folder: every column, or with `figureOnly` those
 * the sweep figure draws.
 */
export async function readSweepRows(path: string, options: { figureOnly?: boolean } = {}): Promise<SweepRows> {
  const read = (table: string) => readColumns(table, Boolean(options.figureOnly));
  const found = await stat(path).catch((error) => {
    const environment = environmentErrorOf(error);
    throw new InputError(`cannot read ${path}${environment ? `: ${environment.message}` : ''}; give a sweep folder or a merged .parquet table`);
  });
  if (!found.isDirectory()) {
    if (!path.endsWith('.parquet')) throw new InputError(`${path}: give a sweep folder or a .parquet table (a merged sweep or one shard's table)`);
    return { columns: await read(path), source: path };
  }
  const names = (await readdir(path)).filter((n) => MANIFEST.test(n)).sort();
  if (!names.length) throw new InputError(`${path} has no complete shard (no shard-*-of-*.json manifest): run the sweep first, or wait for a shard to finish`);
  const of = Number(MANIFEST.exec(names[0])![2]);
  const tables = [];
  for (const n of names) tables.push({ columns: await read(join(path, `${MANIFEST.exec(n)![1]}.parquet`)) });
  return { columns: concatTables(tables), source: `${path}: ${names.length} of ${of} shard${of > 1 ? 's' : ''}` };
}

/** A table's columns: all, or those a sweep figure draws (all the same when it has no `class`: not a sweep table). */
async function readColumns(path: string, figureOnly: boolean): Promise<Column[]> {
  const names = await parquetColumnNames(path);
  const end = names.indexOf('class');
  const drawn = !figureOnly || end < 0 ? names : [...names.slice(0, end + 1), ...names.filter((n) => n === 'burstPeriodMs' || n === 'periodMs')];
  const batches: Table[] = [];
  for await (const batch of readParquetBatches(path, { columns: drawn })) batches.push(batch);
  return concatTables(batches);
}
