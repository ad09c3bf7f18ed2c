/**
 * The rows a sweep figure draws: a merged table (a .parquet file), or every complete shard of a
 * sweep folder (shards with a manifest; a shard still running has none and is left out, and the
 * figure's title says how many shards it shows). A batch of row groups at a time; a figure reads only
 * the columns it draws and keeps only what it draws.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Column } from '../../analysis/features.ts';
import { InputError, environmentErrorOf } from '../../errors.ts';
import { concatTables, parquetHeader, readParquetBatches, type Table } from '../parquet.ts';
import type { TopLevelSpec } from './figure.ts';
import { SweepFigureRows, type SweepPlotOptions } from './sweep-figure.ts';

const MANIFEST = /^(shard-\d+-of-(\d+))\.json$/;

export interface SweepRows {
  columns: Column[];
  /** what was read, for the figure's title */
  source: string;
}

/** Reads every column of a sweep table or of the complete shards of a sweep folder, all rows at once. */
export async function readSweepRows(path: string): Promise<SweepRows> {
  const { source, batches } = await readSweepBatches(path);
  const read: Table[] = [];
  for await (const batch of batches) read.push(batch);
  return { columns: concatTables(read), source };
}

/**
 * The rows of a sweep table or of a folder's complete shards, a batch of row groups at a time, only
 * the columns `pick` chooses from the first table's (all by default): its columns (names and types),
 * its rows and where they come from, then the batches in index order.
 */
export async function readSweepBatches(path: string, pick: (names: string[]) => string[] = (names) => names) {
  const { tables, source } = await sweepTables(path);
  const headers = [];
  for (const table of tables) headers.push(await parquetHeader(table));
  const columns = pick(headers[0].columns.map((c) => c.name));
  async function* batches(): AsyncGenerator<Table> {
    for (const table of tables) yield* readParquetBatches(table, { columns });
  }
  return { header: headers[0].columns, rows: headers.reduce((s, h) => s + h.rows, 0), source, batches: batches() };
}

/**
 * The figure of a sweep table or of a folder's complete shards, its rows read a batch of row groups
 * at a time, only the columns the figure draws: memory holds a batch and what the figure keeps (class
 * counts, periods, the thinned dots), not the sweep.
 */
export async function sweepFigureOf(path: string, options: SweepPlotOptions = {}): Promise<{ spec: TopLevelSpec; source: string }> {
  const { header, rows, source, batches } = await readSweepBatches(path, figureColumns);
  const figure = new SweepFigureRows(header, rows, { ...options, title: options.title ?? `sweep: ${source}` });
  for await (const batch of batches) figure.add(batch.columns);
  return { spec: figure.spec(), source };
}

/** The tables of a sweep: the file given, or the complete shards of a folder in index order. */
async function sweepTables(path: string): Promise<{ tables: string[]; source: string }> {
  const found = await stat(path).catch((error) => {
    const environment = environmentErrorOf(error);
    throw new InputError(`cannot read ${path}${environment ? `: ${environment.message}` : ''}; give a sweep folder or a merged .parquet table`);
  });
  if (!found.isDirectory()) {
    if (!path.endsWith('.parquet')) throw new InputError(`${path}: give a sweep folder or a .parquet table (a merged sweep or one shard's table)`);
    return { tables: [path], source: path };
  }
  const names = (await readdir(path)).filter((n) => MANIFEST.test(n)).sort();
  if (!names.length) throw new InputError(`${path} has no complete shard (no shard-*-of-*.json manifest): run the sweep first, or wait for a shard to finish`);
  const of = Number(MANIFEST.exec(names[0])![2]);
  return { tables: names.map((n) => join(path, `${MANIFEST.exec(n)![1]}.parquet`)), source: `${path}: ${names.length} of ${of} shard${of > 1 ? 's' : ''}` };
}

/** The columns a sweep figure draws: those up to `class` (indices, cells, varied parameters), the class, the periods; all when there is no `class` (not a sweep table). */
function figureColumns(names: string[]): string[] {
  const end = names.indexOf('class');
  return end < 0 ? names : [...names.slice(0, end + 1), ...names.filter((n) => n === 'burstPeriodMs' || n === 'periodMs')];
}
