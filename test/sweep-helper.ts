/** A sweep sink that keeps every chunk's rows in memory, for tests that run a shard without a store. */
import type { Column } from '../src/analysis/features.ts';
import { chunkColumns, summarise } from '../src/jobs/sweep/rows.ts';
import type { SweepSink } from '../src/jobs/sweep/run.ts';

export function memorySink(): SweepSink & { columns: Column[][] } {
  const columns: Column[][] = [];
  return {
    columns,
    begin: async () => {},
    storedRanges: async () => [],
    storeChunk: async (data) => {
      const c = chunkColumns(data);
      columns.push(c);
      return summarise(c, 0);
    },
  };
}
