/**
 * Worker side of ChunkEncoderPool (chunk-encoder-pool.ts): classifies a slice of a sweep chunk (its
 * rows, rows.ts) and encodes them as one Parquet row group (parquet-row-groups.ts), and as a whole
 * Parquet file of that row group (the slice's part file: its footer is encoded here, not on the
 * store's thread). Pure: the reply depends only on the slice.
 */
import { chunkColumns, summarise, type ChunkData } from '../jobs/sweep/rows.ts';
import { encodeRowGroup, rowGroupsFile } from './parquet-row-groups.ts';

self.onmessage = (event: MessageEvent<{ id: number; data: ChunkData }>) => {
  const { id, data } = event.data;
  try {
    const columns = chunkColumns(data);
    const group = encodeRowGroup(columns);
    const file = rowGroupsFile([group]);
    self.postMessage({ id, ok: true, group, file, summary: summarise(columns, 0) }, [group.bytes.buffer as ArrayBuffer, file.buffer as ArrayBuffer]);
  } catch (error) {
    self.postMessage({ id, ok: false, message: (error as Error)?.stack ?? String(error) });
  }
};
