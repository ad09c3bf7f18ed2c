/**
 * Parquet tables: written with hyparquet-writer (atomically: a temporary name, then rename) and read
 * back column by column with hyparquet, for merging shards and verifying them: whole, or a batch of
 * row groups at a time (a merged database of millions of rows never sits in memory at once).
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { parquetMetadata, parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { ParquetWriter, fileWriter, parquetWriteBuffer, schemaFromColumnData } from 'hyparquet-writer';
import type { Column } from '../analysis/features.ts';
import { InputError, environmentErrorOf } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { appendRowGroup, columnSources, type EncodedRowGroup } from './parquet-row-groups.ts';

/**
 * A Parquet file written row group by row group as chunks arrive, under a temporary name until
 * `finish` renames it: a shard's table costs no second pass over its rows at the end.
 */
export class StreamingTable {
  private writer?: ParquetWriter;
  private readonly tmp: string;
  rows = 0;

  constructor(readonly path: string, private readonly metadata: Record<string, string> = {}) {
    this.tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  }

  append(columns: Column[]): void {
    if (!this.writer) {
      this.writer = new ParquetWriter({
        writer: fileWriter(this.tmp),
        schema: schemaFromColumnData({ columnData: columnSources(columns) }),
        kvMetadata: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
        createdBy: 'ionsweep',
      });
    }
    this.writer.write({ columnData: columnSources(columns), rowGroupSize: Number.MAX_SAFE_INTEGER });
    this.rows += columns[0]?.data.length ?? 0;
  }

  /** Appends row groups encoded elsewhere (parquet-row-groups.ts), in order; moves their metadata. */
  appendEncoded(groups: EncodedRowGroup[]): void {
    if (!groups.length) return;
    this.writer ??= new ParquetWriter({
      writer: fileWriter(this.tmp),
      schema: groups[0].schema,
      kvMetadata: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
      createdBy: 'ionsweep',
    });
    for (const g of groups) {
      appendRowGroup(this.writer, g);
      this.rows += g.rows;
    }
  }

  async finish(): Promise<void> {
    if (!this.writer) throw new Error(`no rows were written to ${this.path}`);
    await this.writer.finish();
    await rename(this.tmp, this.path);
  }

  /** Drops the temporary file (when the table is rebuilt another way). */
  async discard(): Promise<void> {
    await rm(this.tmp, { force: true });
  }
}

/**
 * Writes columns (all of one length) as a Parquet file, with key-value metadata. `temporary` files
 * (read back only by ionsweep) skip compression, statistics and dictionaries: faster to write.
 */
export async function writeParquet(path: string, columns: Column[], metadata: Record<string, string> = {}, options: { temporary?: boolean } = {}): Promise<void> {
  const rows = columns[0]?.data.length ?? 0;
  for (const c of columns) {
    if (c.data.length !== rows) throw new Error(`column ${c.name} has ${c.data.length} values, expected ${rows}`);
  }
  const buffer = parquetWriteBuffer({
    columnData: columnSources(columns, options.temporary ? 'PLAIN' : undefined),
    ...(options.temporary ? { codec: 'UNCOMPRESSED' as const, statistics: false } : {}),
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    rowGroupSize: 100_000,
    createdBy: 'ionsweep',
  });
  await writeFileAtomic(path, new Uint8Array(buffer));
}

export interface Table {
  rows: number;
  columns: Column[];
  metadata: Record<string, string>;
}

const TYPE_OF: Record<string, Column['type']> = { INT32: 'INT32', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN', BYTE_ARRAY: 'STRING' };
/** A column's type from its schema element's physical type (DOUBLE when it has none we write). */
const typeOf = (element: { type?: string }): Column['type'] => TYPE_OF[element.type ?? 'DOUBLE'] ?? 'DOUBLE';

/**
 * Rows [rowStart, rowEnd) of the named columns (all when `names` is undefined; in file order) as a
 * table. Row groups are read whole: hyparquet may hand over values outside the range, which are left.
 */
async function readRows(file: ArrayBuffer | AsyncBuffer, meta: FileMetaData, rowStart: number, rowEnd: number, names?: ReadonlySet<string>): Promise<Table> {
  const rows = rowEnd - rowStart;
  const leaves = meta.schema.slice(1).filter((s) => !names || names.has(s.name));
  const data = new Map<string, unknown[]>(leaves.map((s) => [s.name, new Array(rows)]));
  await parquetRead({
    file, metadata: meta, rowStart, rowEnd, columns: leaves.map((s) => s.name),
    onChunk({ columnName, columnData, rowStart: at }) {
      const out = data.get(columnName)!;
      const from = Math.max(0, rowStart - at), to = Math.min(columnData.length, rowEnd - at);
      for (let k = from; k < to; k++) out[at + k - rowStart] = columnData[k];
    },
  });
  const columns = leaves.map((s) => {
    const values = data.get(s.name)!;
    const type = typeOf(s);
    // hyparquet returns bigint for INT64 only; INT32 and DOUBLE come back as numbers
    return { name: s.name, type, data: values as Column['data'] };
  });
  const metadata = Object.fromEntries((meta.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']));
  return { rows, columns, metadata };
}

/** Reads a whole Parquet file into columns (in file order). */
export async function readParquet(path: string): Promise<Table> {
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const meta = parquetMetadata(file);
  return await readRows(file, meta, 0, Number(meta.num_rows));
}

/** Rows a batch of `readParquetBatches` holds at least (whole row groups; the last batch may hold fewer). */
export const ROWS_PER_BATCH = 32_768;

/**
 * Reads a Parquet file a batch of whole row groups at a time (at least `rowsPerBatch` rows each, but
 * the last), only the named columns when `columns` is given (those the file has, in file order). The
 * file is read where each batch lies (positioned reads), never whole. A file without rows gives one
 * empty batch, so its key-value metadata is still seen.
 */
export async function* readParquetBatches(path: string, options: { columns?: readonly string[]; rowsPerBatch?: number } = {}): AsyncGenerator<Table> {
  const { file, meta, close } = await openParquet(path);
  try {
    yield* batchesOf(path, file, meta, options);
  } finally {
    await close();
  }
}

/** The batches of readParquetBatches; a file that cannot be decoded is an InputError naming it. */
async function* batchesOf(path: string, file: AsyncBuffer, meta: FileMetaData, options: { columns?: readonly string[]; rowsPerBatch?: number }): AsyncGenerator<Table> {
  try {
    const names = options.columns ? new Set(options.columns) : undefined;
    const least = options.rowsPerBatch ?? ROWS_PER_BATCH;
    let start = 0, end = 0;
    for (const group of meta.row_groups) {
      end += Number(group.num_rows);
      if (end - start >= least) {
        yield await readRows(file, meta, start, end, names);
        start = end;
      }
    }
    if (end > start || end === 0) yield await readRows(file, meta, start, end, names);
  } catch (error) {
    throw damaged(path, error);
  }
}

/** A decoding error as one line naming the file (an error of the file system is left as it is). */
function damaged(path: string, error: unknown): unknown {
  if (error instanceof InputError || environmentErrorOf(error)) return error;
  return new InputError(`${path} is not a readable Parquet table (${(error as Error)?.message?.split('\n')[0] ?? String(error)})`);
}

/** A Parquet file's columns (names and types, in file order; no data) and rows: only its footer is read. */
export async function parquetHeader(path: string): Promise<{ columns: Column[]; rows: number }> {
  const { meta, close } = await openParquet(path);
  await close();
  return { columns: meta.schema.slice(1).map((s) => ({ name: s.name, type: typeOf(s), data: [] })), rows: Number(meta.num_rows) };
}

/** A Parquet file open for positioned reads (AsyncBuffer), with its footer read. */
async function openParquet(path: string): Promise<{ file: AsyncBuffer; meta: FileMetaData; close: () => Promise<void> }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const file: AsyncBuffer = {
      byteLength: size,
      async slice(start: number, end = size) {
        const bytes = new Uint8Array(end - start);
        for (let done = 0; done < bytes.length;) {
          const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
          if (bytesRead === 0) throw new Error(`${path}: the file ends at byte ${start + done}, before byte ${end}`);
          done += bytesRead;
        }
        return bytes.buffer;
      },
    };
    return { file, meta: await parquetMetadataAsync(file), close: () => handle.close() };
  } catch (error) {
    await handle.close();
    throw damaged(path, error);
  }
}

/** Concatenates tables with identical columns, in the order given. */
export function concatTables(tables: Pick<Table, 'columns'>[]): Column[] {
  if (tables.length === 0) return [];
  const names = tables[0].columns.map((c) => c.name);
  for (const t of tables) {
    const these = t.columns.map((c) => c.name);
    if (these.join('\u0000') !== names.join('\u0000')) throw new Error(`tables have different columns: ${names.join(', ')} vs ${these.join(', ')}`);
  }
  return tables[0].columns.map((c, k) => ({
    name: c.name,
    type: c.type,
    data: tables.flatMap((t) => Array.from(t.columns[k].data as ArrayLike<number | string | boolean | null>)),
  }));
}
