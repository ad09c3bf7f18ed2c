/**
 * Runs one shard of a sweep: its index range, in chunks, each chunk one ensemble run whose rows
 * (index, parameters, class, features, gradients) go to a sink. The job knows nothing about files:
 * the CLI gives it a directory-backed sink (io/sweep-store.ts), a browser could give it memory.
 *
 * While the engine runs chunk k + 1, the host classifies and stores chunk k, so host work overlaps
 * the GPU. Rows are a pure function of (spec, index): chunking, sharding and resuming change nothing.
 */
import { featureColumns, type Column } from '../../analysis/features.ts';
import { compile } from '../../compile/compile.ts';
import type { EnsembleResult } from '../../engine/ensemble.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { makeSampler } from './sampling.ts';
import type { ResolvedSweep } from './spec.ts';

export interface Shard {
  index: number;
  count: number;
}

/** A contiguous range of model indices [start, end). */
export interface IndexRange {
  start: number;
  end: number;
}

export interface SweepSink {
  /** index ranges of the chunks already stored (for resume) */
  storedRanges(): Promise<IndexRange[]>;
  writeChunk(range: IndexRange, columns: Column[]): Promise<void>;
  /** the trace of one model: times (ms) and V (mV) after the discard */
  writeTrace(index: number, timesMs: Float64Array, vMv: Float64Array): Promise<void>;
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
  /** wall time, time spent waiting for the engine, time spent on host work (classification, writing) */
  timings: { wallMs: number; engineWaitMs: number; hostMs: number };
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
    const n = chunk.end - chunk.start;
    const columns: Column[] = [
      { name: 'index', type: 'INT32', data: Int32Array.from({ length: n }, (_, i) => chunk.start + i) },
      ...(sampler.gridIndexOf ? [{ name: 'gridIndex', type: 'INT32' as const, data: Int32Array.from({ length: n }, (_, i) => sampler.gridIndexOf!(chunk.start + i)) }] : []),
      ...sampler.names.map((name, d): Column => ({ name, type: 'DOUBLE', data: params[d] })),
      ...featureColumns(result, result.discardMs, result.durationMs),
    ];
    for (const c of columns.find((x) => x.name === 'class')!.data as string[]) classCounts[c] = (classCounts[c] ?? 0) + 1;
    for (const p of columns.find((x) => x.name === 'burstPeriodMs')!.data as (number | null)[]) if (p !== null) periods.push(p);
    await sink.writeChunk(chunk, columns);
    if (result.traces) {
      for (const [row, local] of result.traces.instances.entries()) {
        await sink.writeTrace(chunk.start + local, result.traces.timesMs, result.traces.series(row, 'V'));
      }
    }
  };

  const classCounts: Record<string, number> = {};
  const periods: number[] = [];
  let engine = '', device = '';
  let engineWaitMs = 0, hostMs = 0;
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
    const hostStart = performance.now();
    await store(current.chunk, current.params, result);
    hostMs += performance.now() - hostStart;
    const n = current.chunk.end - current.chunk.start;
    done += n;
    ranModels += n;
    report(0);
  }

  return {
    shard, range, rows: range.end - range.start, chunks: chunks.length, chunksResumed: chunks.length - pending.length,
    engine, device,
    timings: { wallMs: performance.now() - started, engineWaitMs, hostMs },
    classCounts,
    burstPeriodMs: quantiles(periods),
  };
}
