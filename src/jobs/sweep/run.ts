/**
 * Runs one shard of a sweep: its index range, in chunks, each chunk one ensemble run whose rows
 * (index, parameters, class, features, gradients) go to a sink. The job knows nothing about files:
 * the CLI gives it a directory-backed sink (io/sweep-store.ts), in a worker thread
 * (io/worker-shard-store.ts); a browser could give it memory.
 *
 * While the engine runs chunk k + 1, the sink classifies and stores chunk k (rows.ts), so host work
 * overlaps the GPU; with the worker-backed sink it also leaves this thread free to keep the GPU fed.
 * Rows are a pure function of (spec, index): chunking, sharding and resuming change nothing.
 */
import { compile } from '../../compile/compile.ts';
import type { EnsembleResult } from '../../engine/ensemble.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { chunkData, type ChunkData, type ChunkSummary, type IndexRange } from './rows.ts';
import { makeSampler } from './sampling.ts';
import type { ResolvedSweep } from './spec.ts';

export type { ChunkData, ChunkSummary, IndexRange } from './rows.ts';

export interface Shard {
  index: number;
  count: number;
}

export interface SweepSink {
  /** index ranges of the chunks already stored (for resume) */
  storedRanges(): Promise<IndexRange[]>;
  /** classifies a chunk's models (rows.ts, chunkColumns) and stores its rows and traces */
  storeChunk(data: ChunkData): Promise<ChunkSummary>;
}

export interface SweepProgress {
  /** models finished in this shard, including chunks found stored */
  done: number;
  total: number;
  /** models per second over the chunks run in this process */
  modelsPerSecond: number;
  etaSeconds: number;
}

export interface ShardReport {
  shard: Shard;
  range: IndexRange;
  rows: number;
  chunks: number;
  chunksResumed: number;
  engine: string;
  device: string;
  /**
   * wall time; time this thread waited for the engine; time this thread spent on host work
   * (taking the rows' data out of each result and handing it to the sink, before any await); host
   * work done by the sink, classification and writing (in its worker, when it has one)
   */
  timings: { wallMs: number; engineWaitMs: number; hostMs: number; sinkMs: number };
  classCounts: Record<string, number>;
  /** burst periods (ms) of the periodically bursting models run in this process: quantiles */
  burstPeriodMs: Record<'p10' | 'p25' | 'p50' | 'p75' | 'p90', number> | null;
}

function quantiles(values: number[]): ShardReport['burstPeriodMs'] {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))];
  return { p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9) };
}

/** Index range of shard i of n: contiguous, sizes differing by at most one. */
export function shardRange(total: number, shard: Shard): IndexRange {
  if (!Number.isInteger(shard.count) || shard.count < 1) throw new InputError(`shard count must be an integer ≥ 1, got ${shard.count}`);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new InputError(`shard index must be an integer in [0, ${shard.count - 1}], got ${shard.index}`);
  }
  return { start: Math.floor((shard.index * total) / shard.count), end: Math.floor(((shard.index + 1) * total) / shard.count) };
}

/** Chunks of a range, `size` models each (the last may be shorter). */
export function chunkRanges(range: IndexRange, size: number): IndexRange[] {
  const out: IndexRange[] = [];
  for (let s = range.start; s < range.end; s += size) out.push({ start: s, end: Math.min(range.end, s + size) });
  return out;
}

export interface RunSweepOptions extends Pick<RunOptions, 'threads' | 'gpu'> {
  onProgress?: (p: SweepProgress) => void;
}

/** Runs one shard of a resolved sweep into a sink; returns what it did. */
export async function runSweepShard(sweep: ResolvedSweep, shard: Shard, sink: SweepSink, options: RunSweepOptions = {}): Promise<ShardReport> {
  const started = performance.now();
  const { spec, model, total } = sweep;
  const sampler = makeSampler(sweep);
  const values: Record<string, number> = { ...spec.fixed };
  if (spec.currentUAPerCm2 !== undefined) values.IExtUAPerCm2 = spec.currentUAPerCm2;
  const program = compile(model, {
    method: spec.method, dtMs: spec.dtMs, init: spec.init, values, instanceParams: sampler.names, tangents: spec.tangents, stimulus: spec.steps,
  });
  const range = shardRange(total, shard);
  const chunks = chunkRanges(range, spec.chunkSize);
  const stored = new Set<number>();
  for (const r of await sink.storedRanges()) {
    if (!chunks.some((c) => c.start === r.start && c.end === r.end)) {
      throw new InputError(`a stored chunk covers [${r.start}, ${r.end}), which is not a chunk of this shard: resume with the chunkSize it was started with`);
    }
    stored.add(r.start);
  }
  const pending = chunks.filter((c) => !stored.has(c.start));
  const traced = new Set(spec.traces?.indices ?? []);

  let done = range.end - range.start - pending.reduce((s, c) => s + c.end - c.start, 0);
  let ranModels = 0;
  const ranStarted = performance.now();
  const report = (inFlight: number) => {
    const rate = (ranModels + inFlight) / ((performance.now() - ranStarted) / 1000);
    const remaining = range.end - range.start - done - inFlight;
    options.onProgress?.({ done: done + Math.floor(inFlight), total: range.end - range.start, modelsPerSecond: rate, etaSeconds: remaining / rate });
  };

  const run = (chunk: IndexRange) => {
    const n = chunk.end - chunk.start;
    const columns = sampler.names.map(() => new Float64Array(n));
    const row = new Float64Array(sampler.names.length);
    for (let i = 0; i < n; i++) {
      sampler.valuesOf(chunk.start + i, row);
      for (let d = 0; d < row.length; d++) columns[d][i] = row[d];
    }
    const params = Object.fromEntries(sampler.names.map((name, d) => [name, columns[d]]));
    const traceInstances = [...traced].filter((i) => i >= chunk.start && i < chunk.end).map((i) => i - chunk.start);
    return {
      chunk, params: columns,
      run: runEnsemble(
        {
          program, N: n, params, durationMs: spec.durationMs, discardMs: spec.discardMs, spikeCapacity: 8,
          maximaCapacity: spec.maxima, maximaHysteresisMv: spec.maximaHysteresisMv,
          traceEveryMs: traceInstances.length ? spec.traces!.everyMs : undefined,
          traceInstances: traceInstances.length ? traceInstances : undefined,
          // progress inside a chunk: long chunks would otherwise report nothing for minutes
          onProgress: (fraction) => report(fraction * n),
        },
        { engine: spec.engine, gpuMath: spec.gpuMath, threads: options.threads, gpu: options.gpu },
      ),
    };
  };

  const store = async (chunk: IndexRange, params: Float64Array[], result: EnsembleResult) => {
    const hostStart = performance.now();
    const n = chunk.end - chunk.start;
    const gridIndex = sampler.gridIndexOf ? Int32Array.from({ length: n }, (_, i) => sampler.gridIndexOf!(chunk.start + i)) : undefined;
    const handedOver = sink.storeChunk(chunkData(chunk, sampler.names.map((name, d) => ({ name, values: params[d] })), gridIndex, result));
    hostMs += performance.now() - hostStart;
    // the engine runs the next chunk meanwhile: waiting here leaves the GPU busy
    const summary = await handedOver;
    for (const [c, k] of Object.entries(summary.classCounts)) classCounts[c] = (classCounts[c] ?? 0) + k;
    for (const p of summary.burstPeriodsMs) periods.push(p);
    sinkMs += summary.hostMs;
  };

  const classCounts: Record<string, number> = {};
  const periods: number[] = [];
  let engine = '', device = '';
  let engineWaitMs = 0, hostMs = 0, sinkMs = 0;
  options.onProgress?.({ done, total: range.end - range.start, modelsPerSecond: 0, etaSeconds: NaN });

  let next = pending.length ? run(pending[0]) : undefined;
  for (let k = 0; k < pending.length; k++) {
    const current = next!;
    const waitStart = performance.now();
    const { result } = await current.run;
    engineWaitMs += performance.now() - waitStart;
    engine = result.engine;
    device = result.device;
    next = k + 1 < pending.length ? run(pending[k + 1]) : undefined;
    await store(current.chunk, current.params, result);
    const n = current.chunk.end - current.chunk.start;
    done += n;
    ranModels += n;
    report(0);
  }

  return {
    shard, range, rows: range.end - range.start, chunks: chunks.length, chunksResumed: chunks.length - pending.length,
    engine, device,
    timings: { wallMs: performance.now() - started, engineWaitMs, hostMs, sinkMs },
    classCounts,
    burstPeriodMs: quantiles(periods),
  };
}
