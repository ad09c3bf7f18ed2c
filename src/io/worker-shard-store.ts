/**
 * A ShardStore in a worker thread: classification and Parquet writing of each chunk (about 5 µs a
 * model) run beside the thread that drives the GPU instead of on it, so a fast GPU is not left
 * waiting for the host. Same methods as ShardStore; calls run in the order they are made.
 */
import { EnvironmentError, InputError } from '../errors.ts';
import { transferablesOf, type ChunkData, type ChunkSummary } from '../jobs/sweep/rows.ts';
import type { IndexRange, ResolvedEngine, Shard, SweepSink } from '../jobs/sweep/run.ts';
import { shardPaths, type ShardIdentity, type ShardManifest, type ShardRun, type ShardStoreOptions } from './sweep-store.ts';

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; name: string; message: string; stack?: string };

/** The worker's error as this thread's: input and environment errors keep their class (exit 2, exit 1). */
function errorOf(reply: Extract<Reply, { ok: false }>): Error {
  if (reply.name === 'InputError') return new InputError(reply.message);
  if (reply.name === 'EnvironmentError') return new EnvironmentError(reply.message);
  return Object.assign(new Error(reply.message), { name: reply.name, stack: reply.stack ?? reply.message });
}

export class WorkerShardStore implements SweepSink {
  readonly partsDir: string;
  readonly tablePath: string;
  readonly manifestPath: string;
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure?: Error;

  constructor(outDir: string, shard: Shard, identity: ShardIdentity, options: ShardStoreOptions = {}) {
    ({ partsDir: this.partsDir, tablePath: this.tablePath, manifestPath: this.manifestPath } = shardPaths(outDir, shard));
    this.worker = new Worker(new URL('./shard-store.worker.ts', import.meta.url).href, { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      const call = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) call?.resolve(reply.value);
      else call?.reject(errorOf(reply));
    };
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.failure = new Error(`shard store worker failed: ${event.message}`);
      for (const call of this.pending.values()) call.reject(this.failure);
      this.pending.clear();
    };
    void this.call('open', [outDir, shard, identity, options]);
  }

  private call<T>(op: string, args: unknown[], transfer: Transferable[] = []): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /** See ShardStore.prepare. */
  prepare(resume: boolean): Promise<ShardManifest | undefined> {
    return this.call('prepare', [resume]);
  }

  /** See ShardStore.begin. */
  begin(engine: ResolvedEngine): Promise<void> {
    return this.call('begin', [engine]);
  }

  storedRanges(): Promise<IndexRange[]> {
    return this.call('storedRanges', []);
  }

  /** Posts the chunk (its buffers are transferred: `data` is unusable here afterwards). */
  storeChunk(data: ChunkData): Promise<ChunkSummary> {
    return this.call('storeChunk', [data], transferablesOf(data));
  }

  /** See ShardStore.finish. */
  finish(run: ShardRun): Promise<ShardManifest> {
    return this.call('finish', [run]);
  }

  /** Stops the worker (after the calls made so far have been answered or abandoned). */
  close(): void {
    this.worker.terminate();
    for (const call of this.pending.values()) call.reject(new Error('shard store worker closed'));
    this.pending.clear();
  }
}
