/**
 * The rows a sweep figure draws: a merged table (a .parquet file), or every complete shard of a
 * sweep folder (shards with a manifest; a shard still running has none and is left out, and the
 * figure's title says how many shards it shows).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Column } from '../../analysis/features.ts';
import { InputError, environmentErrorOf } from '../../errors.ts';
import { concatTables, readParquet } from '../parquet.ts';

const MANIFEST = /^(shard-\d+-of-(\d+))\.json$/;

export interface SweepRows {
  columns: Column[];
  /** what was read, for the figure's title */
  source: string;
}

/** Reads a sweep table or the complete shards of a sweep folder. */
export async function readSweepRows(path: string): Promise<SweepRows> {
  const found = await stat(path).catch((error) => {
    const environment = environmentErrorOf(error);
    throw new InputError(`cannot read ${path}${environment ? `: ${environment.message}` : ''}; give a sweep folder or a merged .parquet table`);
  });
  if (!found.isDirectory()) {
    if (!path.endsWith('.parquet')) throw new InputError(`${path}: give a sweep folder or a .parquet table (a merged sweep or one shard's table)`);
    return { columns: (await readParquet(path)).columns, source: path };
  }
  const names = (await readdir(path)).filter((n) => MANIFEST.test(n)).sort();
  if (!names.length) throw new InputError(`${path} has no complete shard (no shard-*-of-*.json manifest): run the sweep first, or wait for a shard to finish`);
  const of = Number(MANIFEST.exec(names[0])![2]);
  const tables = [];
  for (const n of names) tables.push(await readParquet(join(path, `${MANIFEST.exec(n)![1]}.parquet`)));
  return { columns: concatTables(tables), source: `${path}: ${names.length} of ${of} shard${of > 1 ? 's' : ''}` };
}
