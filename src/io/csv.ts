/**
 * Tables as CSV, for tools without a Parquet reader: a header of column names, then one line per row,
 * quoted by RFC 4180 (csv-stringify: a field with a comma, a quote or a line break is quoted, quotes
 * doubled). Numbers keep every digit (JavaScript's shortest round-trip form; NaN and ±Infinity as
 * NaN, Infinity, -Infinity, which pandas and R read as such), a missing value is an empty field.
 * Written in batches of rows, so a merged sweep of millions of rows never becomes one string.
 */
import { stringify } from 'csv-stringify/sync';
import type { Column } from '../analysis/features.ts';
import { writeFileAtomic } from './atomic-write.ts';

const ROWS_PER_BATCH = 10_000;

function cell(value: unknown): string | number | boolean {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : value;
  return value as string | boolean;
}

/** The CSV text of rows [from, to) of the columns, after the header when `header` (by default when `from` is 0). */
export function csvRows(columns: readonly Column[], from: number, to: number, header = from === 0): string {
  const records: (string | number | boolean)[][] = [];
  if (header) records.push(columns.map((c) => c.name));
  for (let i = from; i < to; i++) records.push(columns.map((c) => cell(c.data[i])));
  return stringify(records, { cast: { number: (x) => String(x), boolean: (x) => (x ? 'true' : 'false') } });
}

/** The CSV text of tables given a batch of rows at a time (the header once, from the first batch). */
async function* batches(tables: AsyncIterable<readonly Column[]> | Iterable<readonly Column[]>): AsyncIterable<string> {
  let first = true;
  for await (const columns of tables) {
    const rows = columns[0]?.data.length ?? 0;
    if (first && rows === 0) yield csvRows(columns, 0, 0, true);
    for (let from = 0; from < rows; from += ROWS_PER_BATCH) yield csvRows(columns, from, Math.min(rows, from + ROWS_PER_BATCH), first && from === 0);
    first = false;
  }
}

/** Writes the columns as a CSV file (atomically: a temporary file renamed into place). */
export async function writeCsv(path: string, columns: readonly Column[]): Promise<void> {
  await writeFileAtomic(path, batches([columns]));
}

/** Writes a table read a batch of rows at a time (same columns in each) as one CSV file, atomically. */
export async function writeCsvBatches(path: string, tables: AsyncIterable<readonly Column[]>): Promise<void> {
  await writeFileAtomic(path, batches(tables));
}
