/**
 * Parquet tables: written with hyparquet-writer (atomically: a temporary name, then rename) and read
 * back column by column with hyparquet, for merging shards and verifying them.
 */
import { readFile } from 'node:fs/promises';
import { parquetMetadata, parquetRead } from 'hyparquet';
import { rename, rm } from 'node:fs/promises';
import { ParquetWriter, fileWriter, parquetWriteBuffer, schemaFromColumnData } from 'hyparquet-writer';
import type { Column } from '../analysis/features.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { appendRowGroup, type EncodedRowGroup } from './parquet-row-groups.ts';

const sourcesOf = (columns: Column[], encoding?: 'PLAIN') =>
  columns.map((c) => ({ name: c.name, data: c.data as never, type: c.type, ...(encoding && c.type !== 'BOOLEAN' ? { encoding } : {}) }));

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
        schema: schemaFromColumnData({ columnData: sourcesOf(columns) }),
        kvMetadata: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
        createdBy: 'ionsweep',
      });
    }
    this.writer.write({ columnData: sourcesOf(columns), rowGroupSize: Number.MAX_SAFE_INTEGER });
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
    columnData: sourcesOf(columns, options.temporary ? 'PLAIN' : undefined),
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

/** Reads a whole Parquet file into columns (in file order). */
export async function readParquet(path: string): Promise<Table> {
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const meta = parquetMetadata(file);
  const rows = Number(meta.num_rows);
  const leaves = meta.schema.slice(1);
  const data = new Map<string, unknown[]>(leaves.map((s) => [s.name, new Array(rows)]));
  await parquetRead({
    file,
    onChunk({ columnName, columnData, rowStart }) {
      const out = data.get(columnName)!;
      for (let k = 0; k < columnData.length; k++) out[rowStart + k] = columnData[k];
    },
  });
  const columns = leaves.map((s) => {
    const values = data.get(s.name)!;
    const type = TYPE_OF[s.type ?? 'DOUBLE'] ?? 'DOUBLE';
    // hyparquet returns bigint for INT64 only; INT32 and DOUBLE come back as numbers
    return { name: s.name, type, data: values as Column['data'] };
  });
  const metadata = Object.fromEntries((meta.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']));
  return { rows, columns, metadata };
}

/** Concatenates tables with identical columns, in the order given. */
export function concatTables(tables: Table[]): Column[] {
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
