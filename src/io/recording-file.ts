/**
 * Recorded traces from files: NPY (one column, or a 2-D array whose columns the JSON sidecar that
 * `simulate --out x.npy` writes beside it names) and CSV with a header row (read with csv-parse).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseNpy } from 'npyjs';
import { parse as parseCsv } from 'csv-parse/sync';
import { InputError, environmentErrorOf } from '../errors.ts';

/** One column of a recording file as numbers; `column` names it (CSV header, NPY sidecar) or gives its index. */
export async function readRecordingColumn(path: string, column?: string | number): Promise<Float64Array> {
  const lower = path.toLowerCase();
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw environmentErrorOf(error) ?? error;
  }
  if (lower.endsWith('.npy')) return npyColumn(path, bytes, column);
  if (lower.endsWith('.csv')) return csvColumn(path, bytes.toString('utf8'), column);
  throw new InputError(`recording ${path}: the file must be .npy or .csv`);
}

async function npyColumn(path: string, bytes: Buffer, column?: string | number): Promise<Float64Array> {
  let array: { data: ArrayLike<number | bigint>; shape: number[] };
  try {
    array = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer) as unknown as typeof array;
  } catch (error) {
    throw new InputError(`recording ${path}: not a readable NPY file (${(error as Error).message})`);
  }
  const [rows, cols = 1] = array.shape;
  if (array.shape.length > 2 || array.shape.length === 0) throw new InputError(`recording ${path}: expected a 1-D or 2-D array, got shape (${array.shape.join(', ')})`);
  let index = 0;
  if (cols > 1) {
    if (typeof column === 'number') index = column;
    else {
      const names = await sidecarColumns(path);
      if (column === undefined) throw new InputError(`recording ${path} has ${cols} columns${names ? ` (${names.join(', ')})` : ''}: say which with column`);
      index = names ? names.indexOf(column) : -1;
      if (index < 0) throw new InputError(`recording ${path}: no column '${column}'${names ? `; columns: ${names.join(', ')}` : ' (no JSON sidecar names the columns: give the column index)'}`);
    }
    if (!(Number.isInteger(index) && index >= 0 && index < cols)) throw new InputError(`recording ${path}: column must be an integer in [0, ${cols - 1}], got ${index}`);
  }
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = Number(array.data[r * cols + index]);
  return out;
}

/** Column names from `x.npy.json` or `x.json` beside `x.npy`, when there is one. */
async function sidecarColumns(path: string): Promise<string[] | undefined> {
  for (const sidecar of [`${path}.json`, path.replace(/\.npy$/i, '.json')]) {
    try {
      const meta = JSON.parse(await readFile(sidecar, 'utf8'));
      const columns = meta.columns;
      if (Array.isArray(columns)) return columns.map((c: unknown) => (typeof c === 'object' && c !== null && 'name' in c ? String((c as { name: unknown }).name) : String(c)));
    } catch { /* no sidecar */ }
  }
  return undefined;
}

function csvColumn(path: string, text: string, column?: string | number): Float64Array {
  let rows: string[][];
  try {
    rows = parseCsv(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (error) {
    throw new InputError(`recording ${path}: not readable as CSV (${(error as Error).message})`);
  }
  const [header, ...data] = rows;
  if (!header || !data.length) throw new InputError(`recording ${path}: expected a header row and at least one row of values`);
  const index = typeof column === 'number' ? column : column !== undefined ? header.indexOf(column) : header.length === 1 ? 0 : header.indexOf('V');
  if (!(index >= 0 && index < header.length)) {
    throw new InputError(`recording ${path}: ${column === undefined ? 'say which column with column' : `no column '${column}'`}; columns: ${header.join(', ')}`);
  }
  return Float64Array.from(data, (row, r) => {
    const value = Number(row[index]);
    if (row[index] === '' || !Number.isFinite(value)) throw new InputError(`recording ${path}: row ${r + 2}, column '${header[index]}' is not a finite number (${JSON.stringify(row[index])})`);
    return value;
  });
}
