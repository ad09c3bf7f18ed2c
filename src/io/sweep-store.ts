/**
 * A sweep's files. Each shard writes its chunks as part files (atomically) into its own folder, so
 * a killed run loses at most the chunk in flight and `--resume` skips what is stored. With encoder
 * workers a chunk is stored as one part file per worker's slice; it counts as stored when all of
 * them are (a kill between them leaves a chunk that runs again, its slices removed). Before the
 * first part, a record of what produces the rows (spec, hash, resolved engine) goes into the same
 * folder (shard-record.ts); resume refuses unless the new run matches it. A chunk's traces are
 * written before its part, so a stored part implies its traces. When every chunk is stored the parts
 * become one Parquet table per shard, then the shard's manifest is written (last, atomically: a
 * shard is complete exactly when its manifest exists), then the parts are removed.
 *
 *     out/shard-00003-of-00007.lock                                 while a process writes the shard (shard-lock.ts)
 *     out/shard-00003-of-00007/record.json                          what produces the rows, while running
 *     out/shard-00003-of-00007/part-000049152-000065536.parquet     while running
 *     out/shard-00003-of-00007/part-000065536-000081920.slice-02-of-08.parquet   (with 8 encoder workers)
 *     out/shard-00003-of-00007.parquet                              the shard's table
 *     out/shard-00003-of-00007.json                                 its manifest
 *     out/traces/model-000000017.npy                                traces, (samples, 1 + k): tMs, then traces.record (default VMv)
 *     out/traces/model-000000017.npy.json                           its sidecar: column names and units (written first)
 *
 * A kill can leave `*.tmp-*` files (atomic writes in flight); the next run of the shard removes its
 * own (under the shard's lock) and verify ignores them.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Column } from '../analysis/features.ts';
import { EnvironmentError, InputError, environmentErrorOf } from '../errors.ts';
import { SummaryTotal, burstPeriodQuantiles, chunkColumns, summarise, type ChunkData, type ChunkSummary } from '../jobs/sweep/rows.ts';
import type { IndexRange, ResolvedEngine, Shard, ShardReport, SweepSink } from '../jobs/sweep/run.ts';
import type { SweepSpec } from '../jobs/sweep/spec.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { ChunkEncoderPool, type EncodedChunk } from './chunk-encoder-pool.ts';
import { encodeNpy } from './npy.ts';
import { npySidecar } from './simulation-output.ts';
import { StreamingTable, readParquet, writeParquet, type Table } from './parquet.ts';
import { MANIFEST_VERSION, readManifest, type ShardManifest } from './shard-manifest.ts';
import { producerDifferences, readRecord, writeRecord, type ShardRecord } from './shard-record.ts';
import { afterFileOperation } from './test-hooks.ts';

export { MANIFEST_VERSION, type ShardManifest } from './shard-manifest.ts';

const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const shardName = (shard: Shard) => `shard-${pad(shard.index, 5)}-of-${pad(shard.count, 5)}`;
export const traceName = (index: number) => `model-${pad(index, 9)}.npy`;
/** The JSON sidecar of a trace (columns and units), beside it. */
export const traceSidecarName = (index: number) => `${traceName(index)}.json`;

/** Where a shard's files go: its parts folder, its table and its manifest. */
export function shardPaths(outDir: string, shard: Shard) {
  return {
    partsDir: join(outDir, shardName(shard)),
    tablePath: join(outDir, `${shardName(shard)}.parquet`),
    manifestPath: join(outDir, `${shardName(shard)}.json`),
  };
}

const partName = (r: IndexRange) => `part-${pad(r.start, 10)}-${pad(r.end, 10)}.parquet`;
/** Slice `slice` of `slices` of chunk `r`, written by an encoder worker (2 digits: at most 64 workers). */
const slicePartName = (r: IndexRange, slice: number, slices: number) => `part-${pad(r.start, 10)}-${pad(r.end, 10)}.slice-${pad(slice, 2)}-of-${pad(slices, 2)}.parquet`;
const PART = /^part-(\d+)-(\d+)(?:\.slice-(\d+)-of-(\d+))?\.parquet$/;

/** A chunk's stored part files, in row order: one for the whole chunk, or one per slice. */
interface StoredChunk {
  range: IndexRange;
  names: string[];
}

/**
 * Groups part file names (sorted) by chunk: a chunk is stored when its whole part is there, or every
 * slice of one slicing. The rest (slices of a chunk a kill interrupted) are returned as `orphans`.
 */
function storedChunksOf(names: string[]): { chunks: StoredChunk[]; orphans: string[] } {
  const byChunk = new Map<string, { range: IndexRange; whole?: string; slices: Map<number, Map<number, string>> }>();
  for (const n of names) {
    const m = PART.exec(n);
    if (!m) continue;
    const key = `${m[1]}-${m[2]}`;
    let entry = byChunk.get(key);
    if (!entry) byChunk.set(key, entry = { range: { start: Number(m[1]), end: Number(m[2]) }, slices: new Map() });
    if (m[3] === undefined) {
      entry.whole = n;
      continue;
    }
    const slices = Number(m[4]);
    if (!entry.slices.has(slices)) entry.slices.set(slices, new Map());
    entry.slices.get(slices)!.set(Number(m[3]), n);
  }
  const chunks: StoredChunk[] = [], orphans: string[] = [];
  for (const entry of [...byChunk.values()].sort((a, b) => a.range.start - b.range.start)) {
    const complete = entry.whole ? undefined : [...entry.slices.entries()].find(([k, found]) => found.size === k && [...found.keys()].every((s) => s < k));
    const kept = entry.whole ? [entry.whole] : complete ? [...complete[1].entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n) : [];
    if (kept.length) chunks.push({ range: entry.range, names: kept });
    for (const found of entry.slices.values()) for (const n of found.values()) if (!kept.includes(n)) orphans.push(n);
  }
  return { chunks, orphans };
}
const TMP = /\.tmp-[0-9a-f]{8}$/;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a file operation on `path`. A system error that names no path (a write to an open file: the
 * streamed table on a full disk) gets this one, so its one-line report names the file.
 */
async function onFile<T>(path: string, op: () => T | Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    const e = error as { code?: unknown; path?: unknown };
    if (error instanceof Error && typeof e.code === 'string' && typeof e.path !== 'string') e.path = path;
    throw error;
  }
}

/** Makes the output folder; EnvironmentError naming it when it is a file or cannot be made. */
export async function ensureOutDir(outDir: string): Promise<void> {
  const info = await stat(outDir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new EnvironmentError(`${outDir}: not a directory (--out names the folder for the sweep's files)`);
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw environmentErrorOf(error) ?? error;
  }
}

/** Reads a stored Parquet file; InputError naming it when it is truncated or not Parquet. */
export async function readStoredTable(path: string, what: string, remedy: string): Promise<Table> {
  try {
    return await readParquet(path);
  } catch (error) {
    const environment = environmentErrorOf(error);
    if (environment) throw environment;
    throw new InputError(`${what} ${path} is damaged (${(error as Error).message?.split('\n')[0] ?? String(error)}): ${remedy}`);
  }
}

/** What makes a shard's rows: the spec, its hash, and the range the shard holds. */
export interface ShardIdentity {
  specHash: string;
  spec: SweepSpec;
  total: number;
  range: IndexRange;
}

/** What the caller adds to the manifest; the store knows the rest (identity, engine, devices, classes). */
export type ShardRun = Pick<ShardReport, 'range' | 'rows' | 'timings' | 'chunks' | 'chunksResumed'>;

export interface ShardStoreOptions {
  /**
   * Worker threads that classify and encode each chunk (chunk-encoder-pool.ts); 1 (the default) does
   * it on the store's own thread. The rows are the same either way; with k > 1 the table and each
   * part hold a chunk as k row groups.
   */
  hostWorkers?: number;
}

/**
 * The files of one shard of a sweep. Besides the part files (for resume), chunks stream into the
 * shard's table as they arrive (StreamingTable), so finishing a shard costs no pass over its rows;
 * only when chunks arrive out of order (a resume with stored parts that could not be streamed first)
 * is the table rebuilt from the parts. Class counts and burst periods are summed over every row the
 * store holds, stored parts included, so the manifest describes the whole shard however often it was
 * resumed. Its callers hold the shard's lock (shard-lock.ts).
 */
export class ShardStore implements SweepSink {
  readonly partsDir: string;
  readonly tablePath: string;
  readonly manifestPath: string;
  private stream?: StreamingTable;
  /** end of the index range streamed so far; −1 once the stream is out of order */
  private streamedEnd = -1;
  private record?: ShardRecord;
  private readonly totals = new SummaryTotal();
  private rowsSummarised = 0;
  private readonly pool?: ChunkEncoderPool;

  constructor(readonly outDir: string, readonly shard: Shard, readonly identity: ShardIdentity, options: ShardStoreOptions = {}) {
    ({ partsDir: this.partsDir, tablePath: this.tablePath, manifestPath: this.manifestPath } = shardPaths(outDir, shard));
    if ((options.hostWorkers ?? 1) > 1) this.pool = new ChunkEncoderPool(options.hostWorkers!);
  }

  /** Stops the encoder workers, if any (the store is done or abandoned). */
  close(): void {
    this.pool?.close();
  }

  private tableMetadata(): Record<string, string> {
    return { ionsweep_spec_hash: this.identity.specHash, ionsweep_shard: shardName(this.shard) };
  }

  private async partNames(): Promise<string[]> {
    return (await readdir(this.partsDir)).filter((n) => PART.test(n)).sort();
  }

  private tracedIn(range: IndexRange): number[] {
    return (this.identity.spec.traces?.indices ?? []).filter((i) => i >= range.start && i < range.end);
  }

  /**
   * Checks the folder against this run and readies it. A complete shard (its manifest) or stored
   * chunks (their record) of another spec are refused whether resuming or not; stored output of
   * this spec needs `resume`. Removes this shard's leftover temporary files. Returns the manifest
   * when the shard is already complete (the caller checks the engine against it).
   */
  async prepare(resume: boolean): Promise<ShardManifest | undefined> {
    const current = { specHash: this.identity.specHash, spec: this.identity.spec };
    if (await exists(this.manifestPath)) {
      const manifest = await readManifest(this.manifestPath);
      const differences = producerDifferences(manifest, current);
      if (differences.length) {
        throw new InputError(`${this.manifestPath} is a complete shard of a different sweep (${differences.join('; ')}): choose another --out, or remove the shard's files to run it again`);
      }
      if (!resume) throw new InputError(`${this.manifestPath} exists from an earlier run (the shard is complete): add --resume to accept it, or choose another --out`);
      if (!(await exists(this.tablePath))) {
        throw new InputError(`${this.manifestPath} says the shard is complete, but its table ${this.tablePath} is missing: remove the manifest to run the shard again`);
      }
      // a kill after the manifest, before the parts were removed
      await rm(this.partsDir, { recursive: true, force: true });
      await this.removeTemporaryFiles();
      return manifest;
    }
    const hasParts = await exists(this.partsDir);
    const record = hasParts ? await readRecord(this.partsDir) : undefined;
    if (record) {
      const differences = producerDifferences(record, current);
      if (differences.length) {
        throw new InputError(`${this.partsDir} holds chunks of a different sweep (${differences.join('; ')}): resuming would mix their rows; choose another --out, or remove ${this.partsDir} to run the shard again`);
      }
    } else if (hasParts && (await this.partNames()).length) {
      throw new InputError(`${this.partsDir} holds chunks but no record of the spec and engine that made them (record.json): remove the folder to run the shard again`);
    }
    await this.checkOtherShards();
    if (!resume && (hasParts || (await exists(this.tablePath)))) {
      throw new InputError(`${this.partsDir} exists from an earlier run: add --resume to continue it, or choose another --out`);
    }
    this.record = record;
    await mkdir(this.partsDir, { recursive: true });
    await this.removeTemporaryFiles();
    return undefined;
  }

  /**
   * Refuses a folder whose other shards (complete, or started) belong to another sweep or another
   * shard layout: they could never be merged with this one. Damaged files of other shards are left
   * to verify.
   */
  private async checkOtherShards(): Promise<void> {
    const current = { specHash: this.identity.specHash, spec: this.identity.spec };
    const own = shardName(this.shard);
    for (const n of (await readdir(this.outDir).catch(() => [] as string[])).sort()) {
      const m = /^(shard-\d+-of-(\d+))(\.json)?$/.exec(n);
      if (!m || m[1] === own) continue;
      let other: { specHash?: unknown; spec?: unknown } | undefined;
      try {
        other = m[3] ? JSON.parse(await readFile(join(this.outDir, n), 'utf8')) : await readRecord(join(this.outDir, n));
      } catch {
        continue;
      }
      if (!other || typeof other.specHash !== 'string') continue;
      const differences = producerDifferences({ specHash: other.specHash, spec: other.spec }, current);
      if (differences.length) {
        throw new InputError(`${join(this.outDir, n)} is a shard of a different sweep (${differences.join('; ')}): shards of two sweeps cannot share a folder; choose another --out`);
      }
      if (Number(m[2]) !== this.shard.count) {
        throw new InputError(`${join(this.outDir, n)} is a shard of ${Number(m[2])}, this run is shard ${this.shard.index} of ${this.shard.count}: shards of two layouts cannot be merged; use --shard i/${Number(m[2])} or choose another --out`);
      }
    }
  }

  /** Removes temporary files a killed run of this shard left (its parts, table, manifest, traces). */
  private async removeTemporaryFiles(): Promise<void> {
    const own = `${shardName(this.shard)}.`;
    const remove = async (dir: string, keep: (name: string) => boolean) => {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const n of names) if (TMP.test(n) && keep(n)) await rm(join(dir, n), { force: true });
    };
    await remove(this.partsDir, () => true);
    await remove(this.outDir, (n) => n.startsWith(own));
    const { start, end } = this.identity.range;
    await remove(join(this.outDir, 'traces'), (n) => {
      const m = /^model-(\d+)\.npy\./.exec(n);
      return m !== null && Number(m[1]) >= start && Number(m[1]) < end;
    });
  }

  /**
   * Records the engine beside the parts (before the first), or refuses when stored parts came from
   * another engine. Then reads the stored parts: their rows count in the manifest's classes, and
   * those in index order from the start stream into the table. A part whose traces are missing is
   * dropped, so its chunk runs again.
   */
  async begin(engine: ResolvedEngine): Promise<void> {
    const { specHash, spec } = this.identity;
    if (this.record) {
      const differences = producerDifferences(this.record, { specHash, spec, engine });
      if (differences.length) {
        throw new InputError(`${this.partsDir} holds chunks computed on another engine (${differences.join('; ')}; the spec's engine is '${spec.engine}'): resuming would mix their rows; resume where '${spec.engine}' gives the ${this.record.engine} engine, or choose another --out`);
      }
    } else {
      this.record = { version: 1, tool: 'ionsweep', specHash, spec: spec as unknown as Record<string, unknown>, engine, gpuMath: spec.gpuMath, devices: [] };
      await writeRecord(this.partsDir, this.record);
      afterFileOperation('record');
    }
    this.stream = new StreamingTable(this.tablePath, this.tableMetadata());
    const { chunks, orphans } = await this.storedChunks();
    // slices of a chunk that a kill interrupted: the chunk runs again, perhaps sliced otherwise
    for (const n of orphans) await rm(join(this.partsDir, n), { force: true });
    this.streamedEnd = this.identity.range.start;
    for (const { range, names } of chunks) {
      const missing = [];
      for (const i of this.tracedIn(range)) {
        if (!(await exists(join(this.outDir, 'traces', traceName(i)))) || !(await exists(join(this.outDir, 'traces', traceSidecarName(i))))) missing.push(i);
      }
      if (missing.length) {
        for (const n of names) await rm(join(this.partsDir, n), { force: true });
        continue;
      }
      const tables = [];
      for (const n of names) tables.push(await this.readPart(n));
      for (const table of tables) this.summarise(table.columns);
      if (this.streamedEnd === range.start) {
        for (const table of tables) await onFile(this.tablePath, () => this.stream!.append(table.columns));
        this.streamedEnd = range.end;
      } else {
        this.streamedEnd = -1;
      }
    }
  }

  /** A stored part file's rows; InputError naming it when it is damaged. */
  private readPart(name: string): Promise<Table> {
    return readStoredTable(join(this.partsDir, name), 'part file', 'remove it and resume to run that chunk again');
  }

  /** The chunks whose part files are all stored, and the part files of chunks that are not. */
  private async storedChunks(): Promise<{ chunks: StoredChunk[]; orphans: string[] }> {
    return storedChunksOf(await this.partNames());
  }

  private summarise(columns: Column[]): void {
    this.count(summarise(columns, 0), columns[0]?.data.length ?? 0);
  }

  private count(summary: Omit<ChunkSummary, 'hostMs'>, rows: number): void {
    this.totals.addTotal(summary);
    this.rowsSummarised += rows;
  }

  async storedRanges(): Promise<IndexRange[]> {
    if (!(await exists(this.partsDir))) return [];
    return (await this.storedChunks()).chunks.map((c) => c.range);
  }

  /** Classifies a chunk's models and stores their traces, then their rows (on this thread). */
  async storeChunk(data: ChunkData): Promise<ChunkSummary> {
    const started = performance.now();
    if (!this.record) throw new Error('ShardStore.storeChunk before begin');
    // every stored row comes from the engine in the record: a mismatch is a bug, never a resume
    if (data.engine !== this.record.engine) throw new Error(`a chunk computed on the ${data.engine} engine, for a shard recorded as ${this.record.engine}`);
    if (data.device && !this.record.devices.includes(data.device)) {
      this.record.devices.push(data.device);
      await writeRecord(this.partsDir, this.record);
    }
    // with encoder workers the rows arrive encoded (the same rows: chunk-encoder-pool.ts)
    const encoded = this.pool ? await this.pool.encode(data) : undefined;
    const columns = encoded ? undefined : chunkColumns(data);
    // traces first: a stored part then implies its traces, whenever the process is killed
    for (const t of data.traces) {
      // a cell choice by the chosen cell's name, as the table has it (its value is the choice's position)
      const parameters = Object.fromEntries(data.params.map((p) => {
        const value = p.values[t.index - data.range.start];
        return [p.name, data.network?.labels[p.name]?.[value] ?? value];
      }));
      await this.writeTrace(t.index, t.timesMs, t.series, data.traceColumns, parameters);
    }
    if (encoded) {
      await this.writeEncodedChunk(data.range, encoded);
      return { ...encoded.summary, hostMs: performance.now() - started };
    }
    await this.writeChunk(data.range, columns!);
    return summarise(columns!, performance.now() - started);
  }

  /**
   * A chunk's encoded row groups: a part file per slice (the workers' files), then the streamed
   * table (bytes copied, not encoded again).
   */
  private async writeEncodedChunk(range: IndexRange, encoded: EncodedChunk): Promise<void> {
    for (const [k, file] of encoded.files.entries()) {
      await writeFileAtomic(join(this.partsDir, slicePartName(range, k, encoded.files.length)), file);
      afterFileOperation('part');
    }
    this.count(encoded.summary, range.end - range.start);
    if (this.stream && this.streamedEnd === range.start) {
      await onFile(this.tablePath, () => this.stream!.appendEncoded(encoded.groups));
      this.streamedEnd = range.end;
    } else {
      this.streamedEnd = -1;
    }
  }

  async writeChunk(range: IndexRange, columns: Column[]): Promise<void> {
    // parts live until the shard is complete and are read back only on resume: written plain and
    // uncompressed, they cost under half the encoding time of the table
    await writeParquet(join(this.partsDir, partName(range)), columns, {}, { temporary: true });
    afterFileOperation('part');
    this.summarise(columns);
    if (this.stream && this.streamedEnd === range.start) {
      await onFile(this.tablePath, () => this.stream!.append(columns));
      this.streamedEnd = range.end;
    } else {
      this.streamedEnd = -1;
    }
  }

  /**
   * A model's trace as NPY, (samples, 1 + columns): tMs, then each series. Its sidecar goes first, so
   * a trace file always has one (resume reruns a chunk whose trace or sidecar is missing).
   */
  async writeTrace(index: number, timesMs: Float64Array, series: Float64Array[], columns: { name: string; unit: string }[], parameters: Record<string, number | string>): Promise<void> {
    const S = timesMs.length, C = 1 + series.length;
    const data = new Float64Array(S * C);
    for (let k = 0; k < S; k++) {
      data[k * C] = timesMs[k];
      for (let c = 1; c < C; c++) data[k * C + c] = series[c - 1][k];
    }
    const { spec } = this.identity;
    const model = typeof spec.model === 'string' ? spec.model : (spec.model as { name?: unknown }).name;
    await writeFileAtomic(join(this.outDir, 'traces', traceSidecarName(index)), npySidecar(traceName(index), S, columns, {
      model, index, parameters, dtMs: spec.dtMs, durationMs: spec.durationMs, discardMs: spec.discardMs, method: spec.method,
    }));
    afterFileOperation('trace');
    await writeFileAtomic(join(this.outDir, 'traces', traceName(index)), encodeNpy(data, [S, C]));
    afterFileOperation('trace');
  }

  /** The table (streamed, or rebuilt from the parts), then the manifest, then the parts go. */
  async finish(run: ShardRun): Promise<ShardManifest> {
    const started = performance.now();
    if (!this.record) throw new Error('ShardStore.finish before begin');
    // the manifest describes the stored rows: all of them, whichever process computed them
    if (this.rowsSummarised !== run.rows) throw new Error(`shard ${shardName(this.shard)}: ${this.rowsSummarised} rows stored, expected ${run.rows}`);
    if (this.stream && this.streamedEnd === run.range.end && this.stream.rows === run.rows) {
      await onFile(this.tablePath, () => this.stream!.finish());
    } else {
      await this.stream?.discard();
      // rebuilt from the parts in index order, a part at a time (a shard may not fit in memory)
      const table = new StreamingTable(this.tablePath, this.tableMetadata());
      try {
        for (const { names } of (await this.storedChunks()).chunks) {
          for (const n of names) table.append((await this.readPart(n)).columns);
        }
        if (table.rows !== run.rows) throw new Error(`shard ${shardName(this.shard)}: parts hold ${table.rows} rows, expected ${run.rows}`);
        await onFile(this.tablePath, () => table.finish());
      } catch (error) {
        await table.discard();
        throw error;
      }
    }
    afterFileOperation('table');
    const { specHash, spec, total } = this.identity;
    const full: ShardManifest = {
      version: MANIFEST_VERSION, tool: 'ionsweep', specHash, spec, total, shard: this.shard, range: run.range, rows: run.rows,
      table: `${shardName(this.shard)}.parquet`,
      engine: this.record.engine, device: this.record.devices.join('; '), gpuMath: this.record.gpuMath,
      timings: run.timings, classCounts: this.totals.classCounts, burstPeriodMs: burstPeriodQuantiles(this.totals.burstPeriodsMs),
      chunks: run.chunks, chunksResumed: run.chunksResumed,
      finishMs: performance.now() - started, completedAt: new Date().toISOString(),
    };
    await writeFileAtomic(this.manifestPath, JSON.stringify(full, null, 2) + '\n');
    afterFileOperation('manifest');
    await rm(this.partsDir, { recursive: true, force: true });
    return full;
  }
}
