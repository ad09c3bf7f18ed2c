/**
 * A sweep's files. Each shard writes its chunks as part files (atomically) into its own folder, so
 * a killed run loses at most the chunk in flight and `--resume` skips what is stored. When every chunk
 * is stored the parts become one Parquet table per shard, then the shard's manifest is written (last,
 * atomically: a shard is complete exactly when its manifest exists), then the parts are removed.
 *
 *     out/shard-00003-of-00007/part-000049152-000065536.parquet   while running
 *     out/shard-00003-of-00007.parquet                              the shard's table
 *     out/shard-00003-of-00007.json                                 its manifest
 *     out/traces/model-000000017.npy                                traces, (samples, 2): tMs, VMv
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Column } from '../analysis/features.ts';
import { InputError } from '../errors.ts';
import { chunkColumns, summarise, type ChunkData, type ChunkSummary } from '../jobs/sweep/rows.ts';
import type { IndexRange, Shard, ShardReport, SweepSink } from '../jobs/sweep/run.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { encodeNpy } from './npy.ts';
import { StreamingTable, concatTables, readParquet, writeParquet } from './parquet.ts';

export const MANIFEST_VERSION = 1;

export interface ShardManifest {
  version: number;
  tool: string;
  specHash: string;
  spec: unknown;
  total: number;
  shard: Shard;
  range: IndexRange;
  rows: number;
  table: string;
  engine: string;
  device: string;
  gpuMath: string;
  timings: ShardReport['timings'];
  classCounts: Record<string, number>;
  burstPeriodMs: ShardReport['burstPeriodMs'];
  chunks: number;
  chunksResumed: number;
  /** time to turn the parts into the shard's table (ms): host work after the last chunk */
  finishMs: number;
  completedAt: string;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const shardName = (shard: Shard) => `shard-${pad(shard.index, 5)}-of-${pad(shard.count, 5)}`;

/** Where a shard's files go: its parts folder, its table and its manifest. */
export function shardPaths(outDir: string, shard: Shard) {
  return {
    partsDir: join(outDir, shardName(shard)),
    tablePath: join(outDir, `${shardName(shard)}.parquet`),
    manifestPath: join(outDir, `${shardName(shard)}.json`),
  };
}

const partName = (r: IndexRange) => `part-${pad(r.start, 10)}-${pad(r.end, 10)}.parquet`;
const PART = /^part-(\d+)-(\d+)\.parquet$/;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The files of one shard of a sweep. Besides the part files (for resume), chunks stream into the
 * shard's table as they arrive (StreamingTable), so finishing a shard costs no pass over its rows;
 * only when chunks arrive out of order (a resume with stored parts that could not be streamed first)
 * is the table rebuilt from the parts.
 */
export class ShardStore implements SweepSink {
  readonly partsDir: string;
  readonly tablePath: string;
  readonly manifestPath: string;
  private stream?: StreamingTable;
  /** end of the index range streamed so far; −1 once the stream is out of order */
  private streamedEnd = -1;

  constructor(readonly outDir: string, readonly shard: Shard, private readonly specHash = '') {
    ({ partsDir: this.partsDir, tablePath: this.tablePath, manifestPath: this.manifestPath } = shardPaths(outDir, shard));
  }

  private tableMetadata(): Record<string, string> {
    return { ionsweep_spec_hash: this.specHash, ionsweep_shard: shardName(this.shard) };
  }

  private async partNames(): Promise<string[]> {
    return (await readdir(this.partsDir)).filter((n) => PART.test(n)).sort();
  }

  /** Refuses to mix with earlier output unless resuming. Returns true when the shard is already complete. */
  async prepare(resume: boolean): Promise<boolean> {
    const complete = await exists(this.manifestPath);
    const started = complete || (await exists(this.partsDir)) || (await exists(this.tablePath));
    if (started && !resume) {
      throw new InputError(`${complete ? this.manifestPath : this.partsDir} exists from an earlier run: add --resume to continue it, or choose another --out`);
    }
    if (!complete) {
      await mkdir(this.partsDir, { recursive: true });
      // stream the stored parts (a resumed shard's prefix) into a fresh table first
      this.stream = new StreamingTable(this.tablePath, this.tableMetadata());
      const names = await this.partNames();
      this.streamedEnd = names.length ? Number(PART.exec(names[0])![1]) : NaN;
      for (const n of names) {
        const [, start, end] = PART.exec(n)!.map(Number);
        if (start !== this.streamedEnd) {
          this.streamedEnd = -1;
          break;
        }
        this.stream.append((await readParquet(join(this.partsDir, n))).columns);
        this.streamedEnd = end;
      }
    }
    return complete;
  }

  async storedRanges(): Promise<IndexRange[]> {
    if (!(await exists(this.partsDir))) return [];
    return (await this.partNames()).map((n) => PART.exec(n)!).map((m) => ({ start: Number(m[1]), end: Number(m[2]) }));
  }

  /** Classifies a chunk's models and stores their rows and traces (on this thread). */
  async storeChunk(data: ChunkData): Promise<ChunkSummary> {
    const started = performance.now();
    const columns = chunkColumns(data);
    await this.writeChunk(data.range, columns);
    for (const t of data.traces) await this.writeTrace(t.index, t.timesMs, t.vMv);
    return summarise(columns, performance.now() - started);
  }

  async writeChunk(range: IndexRange, columns: Column[]): Promise<void> {
    // parts live until the shard is complete and are read back only on resume: written plain and
    // uncompressed, they cost under half the encoding time of the table
    await writeParquet(join(this.partsDir, partName(range)), columns, {}, { temporary: true });
    if (this.stream && (Number.isNaN(this.streamedEnd) || this.streamedEnd === range.start)) {
      this.stream.append(columns);
      this.streamedEnd = range.end;
    } else {
      this.streamedEnd = -1;
    }
  }

  async writeTrace(index: number, timesMs: Float64Array, vMv: Float64Array): Promise<void> {
    const data = new Float64Array(timesMs.length * 2);
    for (let k = 0; k < timesMs.length; k++) {
      data[2 * k] = timesMs[k];
      data[2 * k + 1] = vMv[k];
    }
    await writeFileAtomic(join(this.outDir, 'traces', `model-${pad(index, 9)}.npy`), encodeNpy(data, [timesMs.length, 2]));
  }

  /** The table (streamed, or rebuilt from the parts), then the manifest, then the parts go. */
  async finish(manifest: Omit<ShardManifest, 'table' | 'version' | 'tool' | 'completedAt' | 'finishMs'>): Promise<ShardManifest> {
    const started = performance.now();
    if (this.stream && this.streamedEnd === manifest.range.end && this.stream.rows === manifest.rows) {
      await this.stream.finish();
    } else {
      await this.stream?.discard();
      const tables = [];
      for (const n of await this.partNames()) tables.push(await readParquet(join(this.partsDir, n)));
      const rows = tables.reduce((s, t) => s + t.rows, 0);
      if (rows !== manifest.rows) throw new Error(`shard ${shardName(this.shard)}: parts hold ${rows} rows, expected ${manifest.rows}`);
      await writeParquet(this.tablePath, concatTables(tables), this.tableMetadata());
    }
    const full: ShardManifest = {
      version: MANIFEST_VERSION, tool: 'ionsweep', ...manifest, table: `${shardName(this.shard)}.parquet`,
      finishMs: performance.now() - started, completedAt: new Date().toISOString(),
    };
    await writeFileAtomic(this.manifestPath, JSON.stringify(full, null, 2) + '\n');
    await rm(this.partsDir, { recursive: true, force: true });
    return full;
  }
}
