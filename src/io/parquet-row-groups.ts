/**
 * Parquet row groups encoded apart from the file they end up in, so several threads can encode a
 * chunk's rows at once. A row group's bytes do not depend on where it sits in the file; only its
 * metadata names absolute offsets (each column chunk's start, its data and dictionary pages, and the
 * page locations of its offset index). `encodeRowGroup` encodes one with hyparquet-writer as if at
 * the file's start; `appendRowGroup` copies its bytes into a file being written and moves those
 * offsets by where it landed. The encoding (Snappy, statistics, dictionaries where they pay, offset
 * indexes) is the one `StreamingTable` gives a shard's table.
 */
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { Column } from '../analysis/features.ts';

// hyparquet-writer's own hyparquet types (it may depend on another hyparquet than ours)
type RowGroup = ParquetWriter['row_groups'][number];
type SchemaElement = ParquetWriter['schema'][number];
type PageIndexes = ParquetWriter['pendingIndexes'][number];

/** A row group encoded on its own: its bytes and metadata, offsets counted from its first byte. */
export interface EncodedRowGroup {
  schema: SchemaElement[];
  bytes: Uint8Array;
  rowGroup: RowGroup;
  /** per column chunk, its page indexes; `chunk` is the same object as in rowGroup.columns */
  indexes: PageIndexes[];
  rows: number;
}

/**
 * The column sources hyparquet-writer takes; `encoding` forces PLAIN (temporary files). Otherwise
 * strings are always dictionary-encoded: left to choose, the writer makes a row group of few or
 * distinct strings PLAIN and the next a dictionary, and fastparquet (2026.9) reads a column that
 * mixes the two with every PLAIN row group's strings missing.
 */
export const columnSources = (columns: Column[], encoding?: 'PLAIN') =>
  columns.map((c) => ({
    name: c.name, data: c.data as never, type: c.type,
    ...(encoding && c.type !== 'BOOLEAN' ? { encoding } : !encoding && c.type === 'STRING' ? { encoding: 'RLE_DICTIONARY' as const } : {}),
  }));

/** A Parquet file's magic number, 'PAR1', first and last. */
const MAGIC_BYTES = 4;

/** Encodes columns (all of one length) as one row group, as StreamingTable encodes a chunk. */
export function encodeRowGroup(columns: Column[]): EncodedRowGroup {
  const sources = columnSources(columns);
  const schema = schemaFromColumnData({ columnData: sources });
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, schema, createdBy: 'ionsweep' });
  void writer.write({ columnData: sources, rowGroupSize: Number.MAX_SAFE_INTEGER });
  if (writer.row_groups.length !== 1) throw new Error(`encodeRowGroup: ${writer.row_groups.length} row groups, expected 1`);
  const rowGroup = writer.row_groups[0];
  const indexes = writer.pendingIndexes;
  shift(rowGroup, indexes, -MAGIC_BYTES);
  return { schema, bytes: bytes.getBytes().slice(MAGIC_BYTES), rowGroup, indexes, rows: Number(rowGroup.num_rows) };
}

/** Moves every absolute offset of a row group and its page indexes by `delta` bytes. */
function shift(rowGroup: RowGroup, indexes: PageIndexes[], delta: number): void {
  const by = BigInt(delta);
  for (const chunk of rowGroup.columns) {
    if (chunk.file_offset !== undefined) chunk.file_offset += by;
    const m = chunk.meta_data;
    if (!m) continue;
    m.data_page_offset += by;
    if (m.dictionary_page_offset !== undefined) m.dictionary_page_offset += by;
    if (m.index_page_offset !== undefined) m.index_page_offset += by;
  }
  for (const { offsetIndex } of indexes) for (const page of offsetIndex?.page_locations ?? []) page.offset += by;
}

/**
 * Appends an encoded row group to a file being written (its schema must be the file's). The group's
 * metadata is moved in place: append each group once.
 */
export function appendRowGroup(writer: ParquetWriter, group: EncodedRowGroup): void {
  if (JSON.stringify(group.schema) !== JSON.stringify(writer.schema)) throw new Error('appendRowGroup: the row group has another schema than the file');
  shift(group.rowGroup, group.indexes, writer.writer.offset);
  writer.writer.appendBytes(group.bytes);
  writer.row_groups.push(group.rowGroup);
  writer.pendingIndexes.push(...group.indexes);
  writer.num_rows += group.rowGroup.num_rows;
}

/** A whole Parquet file (bytes) of encoded row groups, in order, with key-value metadata. */
export function rowGroupsFile(groups: EncodedRowGroup[], metadata: Record<string, string> = {}): Uint8Array {
  if (!groups.length) throw new Error('rowGroupsFile: no row groups');
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({
    writer: bytes, schema: groups[0].schema, createdBy: 'ionsweep',
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  // the file's own copy of the metadata (appendRowGroup moves what it is given), cloned together so
  // the page indexes keep pointing at the row group's column chunks
  for (const g of groups) appendRowGroup(writer, { ...g, ...structuredClone({ rowGroup: g.rowGroup, indexes: g.indexes }) });
  void writer.finish();
  return bytes.getBytes();
}
