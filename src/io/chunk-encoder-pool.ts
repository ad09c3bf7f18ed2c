/**
 * Classifies and encodes a sweep chunk's rows on several worker threads: the chunk is cut into
 * consecutive slices (chunk-slices.ts), one per worker, and each worker returns its rows as an
 * encoded Parquet row group (parquet-row-groups.ts), the same row group as a whole Parquet file (the
 * slice's part file), and their class counts. The rows are the same
 * as `chunkColumns` of the whole chunk gives; the table holds them as one row group per slice.
 * This keeps a sweep's host work (classification and Parquet encoding, tens of µs a network) beside
 * a fast GPU: with k workers the shard store's own thread only copies the slices, writes the slices'
 * files and splices the row groups' bytes into the table.
 */
import type { ChunkData, ChunkSummary } from '../jobs/sweep/rows.ts';
import { sliceBounds, sliceChunk } from '../jobs/sweep/chunk-slices.ts';
import { SummaryTotal, transferablesOf } from '../jobs/sweep/rows.ts';
import type { EncodedRowGroup } from './parquet-row-groups.ts';

type Reply = { id: number; ok: true; group: EncodedRowGroup; file: Uint8Array; summary: ChunkSummary } | { id: number; ok: false; message: string };

export interface EncodedChunk {
  /** one row group per slice, in row order */
  groups: EncodedRowGroup[];
  /** per slice, in row order: a Parquet file of its row group (the slice's part file) */
  files: Uint8Array[];
  /** class counts and periods of all the chunk's rows (periods in row order) */
  summary: Omit<ChunkSummary, 'hostMs'>;
}

export class ChunkEncoderPool {
  private readonly workers: Worker[];
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Extract<Reply, { ok: true }>) => void; reject: (e: Error) => void }>();

  /** `size` worker threads (at least 2: one worker is no faster than classifying on the caller's thread). */
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2) throw new RangeError(`ChunkEncoderPool needs at least 2 workers, got ${size}`);
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./chunk-encoder.worker.ts', import.meta.url).href, { type: 'module' });
      worker.onmessage = (event: MessageEvent<Reply>) => {
        const reply = event.data;
        const call = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (reply.ok) call?.resolve(reply);
        else call?.reject(new Error(`chunk encoder worker: ${reply.message}`));
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        const failure = new Error(`chunk encoder worker failed: ${event.message}`);
        for (const call of this.pending.values()) call.reject(failure);
        this.pending.clear();
      };
      return worker;
    });
  }

  /** The chunk's rows as row groups, one per worker (fewer for a chunk of fewer rows). */
  async encode(data: ChunkData): Promise<EncodedChunk> {
    const n = data.range.end - data.range.start;
    const replies = await Promise.all(sliceBounds(n, this.size).map((b, w) => {
      const slice = sliceChunk(data, b.start, b.end);
      const id = this.nextId++;
      return new Promise<Extract<Reply, { ok: true }>>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.workers[w].postMessage({ id, data: slice }, transferablesOf(slice));
      });
    }));
    const summary = new SummaryTotal();
    for (const reply of replies) summary.addTotal(reply.summary);
    return { groups: replies.map((r) => r.group), files: replies.map((r) => r.file), summary };
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    for (const call of this.pending.values()) call.reject(new Error('chunk encoder pool closed'));
    this.pending.clear();
  }
}
