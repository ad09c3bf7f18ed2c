/**
 * An independent Parquet reader for tests: parquet-wasm (Apache Arrow's Rust implementation,
 * compiled to WebAssembly) decodes the file into Arrow IPC and apache-arrow reads that, so what
 * ionsweep writes with hyparquet-writer is checked by code that shares nothing with hyparquet.
 */
import { readFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { readParquet as readParquetWasm } from 'parquet-wasm';

export type Cell = number | string | boolean | null;

export interface ArrowTable {
  rows: number;
  names: string[];
  /** every column as plain values: numbers (INT64 as number), strings, booleans, null for missing */
  columns: Map<string, Cell[]>;
}

export async function readParquetWithArrow(path: string): Promise<ArrowTable> {
  const table = tableFromIPC(readParquetWasm(await readFile(path)).intoIPCStream());
  const names = table.schema.fields.map((f) => f.name);
  const columns = new Map<string, Cell[]>();
  for (const name of names) {
    const vector = table.getChild(name)!;
    const values: Cell[] = [];
    for (let i = 0; i < table.numRows; i++) {
      const v = vector.get(i) as unknown;
      values.push(v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as Cell));
    }
    columns.set(name, values);
  }
  return { rows: table.numRows, names, columns };
}

/** Same value: numbers bit for bit (NaN equals NaN), strings and booleans equal, null (or undefined) only null. */
export function sameCell(a: Cell | undefined, b: Cell | undefined): boolean {
  return Object.is(a ?? null, b ?? null);
}
