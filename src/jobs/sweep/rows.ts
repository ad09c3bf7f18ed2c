/**
 * A sweep chunk's rows, in two steps that may run on different threads: `chunkData` takes what the
 * rows need out of an ensemble result as plain data (typed arrays, posted to a worker without
 * copying), and `chunkColumns` classifies the models and lays out the table columns (index,
 * parameters, class, features, means, gradients). Both are pure: rows depend on (spec, index) only.
 */
import { featureColumns, type Column } from '../../analysis/features.ts';
import { observableKey } from '../../analysis/names.ts';
import type { DivergenceResult, EnsembleResult, MaximaRings, ObservedResult } from '../../engine/ensemble.ts';
import { maximaView } from '../../engine/results.ts';
import { InputError } from '../../errors.ts';
import { networkColumns, type NetworkChunkInfo } from './network-rows.ts';

/** A contiguous range of model indices [start, end). */
export interface IndexRange {
  start: number;
  end: number;
}

export interface Shard {
  index: number;
  count: number;
}

/** Index range of shard i of n: contiguous, sizes differing by at most one. */
export function shardRange(total: number, shard: Shard): IndexRange {
  if (!Number.isInteger(shard.count) || shard.count < 1) throw new InputError(`shard count must be an integer ≥ 1, got ${shard.count}`);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new InputError(`shard index must be an integer in [0, ${shard.count - 1}], got ${shard.index}`);
  }
  return { start: Math.floor((shard.index * total) / shard.count), end: Math.floor(((shard.index + 1) * total) / shard.count) };
}

/**
 * Refuses a shard layout with more shards than models: some shards would hold no rows, hence no
 * table schema, no engine and no classes to merge. Every shard of such a layout refuses, empty or
 * not, so the mistake shows at once on every task of an array job instead of at merge.
 */
export function checkShardLayout(total: number, shard: Shard): void {
  shardRange(total, shard);
  if (shard.count > total) {
    throw new InputError(`--shard ${shard.index}/${shard.count}: the sweep has ${total} model${total === 1 ? '' : 's'}, fewer than ${shard.count} shards, so some shards would be empty; use at most ${total} shards`);
  }
}

/** Chunks of a range, `size` models each (the last, and with `cutEvery` those before its multiples, shorter). */
export function chunkRanges(range: IndexRange, size: number, cutEvery?: number): IndexRange[] {
  const out: IndexRange[] = [];
  for (let s = range.start; s < range.end;) {
    // a chunk also ends at the next multiple of cutEvery (network.ts, cellSettingBlock)
    const end = Math.min(range.end, s + size, cutEvery ? (Math.floor(s / cutEvery) + 1) * cutEvery : Infinity);
    out.push({ start: s, end });
    s = end;
  }
  return out;
}

/** Everything a chunk's rows are made from, as plain data. */
export interface ChunkData {
  range: IndexRange;
  /** the engine that computed the chunk ('cpu' or 'gpu') and its device, as the result gave them */
  engine: string;
  device: string;
  /** the varied parameters, in the sampler's order */
  params: { name: string; values: Float64Array }[];
  /** grid sweeps: each model's number in the full grid, minus one */
  gridIndex?: Int32Array;
  /** the classification window (ms): the run after its discard */
  windowStartMs: number;
  windowEndMs: number;
  observed: ObservedResult[];
  laneKeys: string[];
  maxima: MaximaRings[];
  /** which models diverged, when and in which state (their rows get class and status 'diverged') */
  divergence: Pick<DivergenceResult, 'state' | 'stateNames' | 'timeMs'>;
  /** traces of the models that asked for one: one series per recorded quantity, in `traceColumns` order */
  traces: { index: number; timesMs: Float64Array; series: Float64Array[] }[];
  /** the traces' columns after tMs: names (as simulate names its trace columns) and units */
  traceColumns: { name: string; unit: string }[];
  /** network sweeps: the cells and what their rows need (network-rows.ts) */
  network?: NetworkChunkInfo;
  /** regulated sweeps: observed quantities at the end of the run (column name, per model) */
  finals?: { name: string; values: Float64Array }[];
}

/** What the sweep's report needs of a stored chunk. */
export interface ChunkSummary {
  classCounts: Record<string, number>;
  /** burst periods (ms) of the periodically bursting models */
  burstPeriodsMs: number[];
  /** host time spent classifying and storing the chunk (ms), on whichever thread did it */
  hostMs: number;
}

/** What a sweep's traces record (spec.ts, ResolvedSweep): the columns, and the observed quantities added only for them. */
export interface TraceRecording {
  columns: { observed: string; column: string; unit: string }[];
  /** observed only to be traced: left out of the rows */
  traceOnly: readonly string[];
}

/**
 * The plain data of a chunk's rows, taken from its ensemble result. It shares the result's buffers
 * (the maxima blocks are views into the engine's events buffers): once posted to a worker with
 * `transferablesOf`, the result's observables, maxima and spike times are gone from this thread.
 */
export function chunkData(range: IndexRange, params: { name: string; values: Float64Array }[], gridIndex: Int32Array | undefined, result: EnsembleResult, network?: NetworkChunkInfo, finalOf?: string[], recording?: TraceRecording): ChunkData {
  if (!result.maxima) throw new Error('a sweep chunk needs a run that recorded voltage maxima (maximaCapacity > 0)');
  // regulated sweeps (finalOf): every model's one trace sample is its state at the end, not a trace to write
  const finals = finalOf?.length ? finalsOf(result, finalOf) : undefined;
  const columns = recording?.columns ?? [{ observed: 'V', column: 'VMv', unit: 'mV' }];
  const traces = result.traces && !finals
    ? result.traces.instances.map((local, row) => ({ index: range.start + local, timesMs: result.traces!.timesMs, series: columns.map((c) => result.traces!.series(row, c.observed)) }))
    : [];
  const traceOnly = new Set(recording?.traceOnly ?? []);
  return {
    range, engine: result.engine, device: result.device, params, gridIndex,
    windowStartMs: result.discardMs, windowEndMs: result.durationMs,
    observed: traceOnly.size ? result.observed.filter((o) => !traceOnly.has(o.name)) : result.observed,
    laneKeys: result.lanes.map((l) => l.key),
    maxima: result.maxima.map((m) => m.rings),
    divergence: { state: result.divergence.state, stateNames: result.divergence.stateNames, timeMs: result.divergence.timeMs },
    traces,
    traceColumns: columns.map((c) => ({ name: c.column, unit: c.unit })),
    ...(network ? { network } : {}),
    ...(finals ? { finals } : {}),
  };
}

/** The last trace sample of each named observed quantity, for every model of the chunk (all traced, in order). */
function finalsOf(result: EnsembleResult, names: string[]): { name: string; values: Float64Array }[] {
  const traces = result.traces!;
  const last = traces.timesMs.length - 1;
  return names.map((name) => {
    const o = result.observed.find((x) => x.name === name)!;
    return { name: observableKey('final', o.name, o.unit), values: Float64Array.from({ length: result.N }, (_, i) => traces.series(i, name)[last]) };
  });
}

/** The buffers of a chunk's data, to transfer (not copy) when posting it. */
export function transferablesOf(data: ChunkData): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [
    ...data.params.map((p) => p.values),
    ...(data.gridIndex ? [data.gridIndex] : []),
    ...data.observed.flatMap((o) => [o.mean, o.min, o.max, ...o.meanTangent]),
    ...data.maxima.flatMap((m) => [m.count, m.spikeCount, ...m.groups.map((g) => g.block as unknown as ArrayBufferView)]),
    ...data.traces.flatMap((t) => t.series),
    ...(data.finals ?? []).map((f) => f.values),
    data.divergence.state, data.divergence.timeMs,
  ];
  const buffers = new Set<ArrayBuffer>();
  for (const a of arrays) if (ArrayBuffer.isView(a) && a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
  return [...buffers];
}

/** Classifies a chunk's models and lays out its table columns. */
export function chunkColumns(data: ChunkData): Column[] {
  const finals = (data.finals ?? []).map((f): Column => ({ name: f.name, type: 'DOUBLE', data: f.values }));
  if (data.network) return [...networkColumns(data, data.network), ...finals];
  const n = data.range.end - data.range.start;
  const source = { N: n, observed: data.observed, lanes: data.laneKeys.map((key) => ({ key })), maxima: data.maxima.map(maximaView), divergence: data.divergence };
  return [
    { name: 'index', type: 'INT32', data: Int32Array.from({ length: n }, (_, i) => data.range.start + i) },
    ...(data.gridIndex ? [{ name: 'gridIndex', type: 'INT32' as const, data: data.gridIndex }] : []),
    ...data.params.map((p): Column => ({ name: p.name, type: 'DOUBLE', data: p.values })),
    ...featureColumns(source, data.windowStartMs, data.windowEndMs),
    ...finals,
  ];
}

/** Class counts and burst periods of a chunk's columns (or of any table of sweep rows). */
export function summarise(columns: Column[], hostMs: number): ChunkSummary {
  const classCounts: Record<string, number> = {};
  const burstPeriodsMs: number[] = [];
  for (const c of columns.find((x) => x.name === 'class')?.data ?? []) classCounts[String(c)] = (classCounts[String(c)] ?? 0) + 1;
  // single neurons: the bursting models' periods; networks: the periodic networks' periods
  for (const p of columns.find((x) => x.name === 'burstPeriodMs' || x.name === 'periodMs')?.data ?? []) if (typeof p === 'number') burstPeriodsMs.push(p);
  return { classCounts, burstPeriodsMs, hostMs };
}

/** Class counts and burst periods summed over chunks, shards or batches of rows, in the order added. */
export class SummaryTotal {
  readonly classCounts: Record<string, number> = {};
  readonly burstPeriodsMs: number[] = [];

  /** Adds rows' columns (summarised as `summarise` does). */
  add(columns: Column[]): void {
    this.addTotal(summarise(columns, 0));
  }

  /** Adds a summary of rows (after those added so far, for the periods' order). */
  addTotal(other: Pick<ChunkSummary, 'classCounts' | 'burstPeriodsMs'>): void {
    for (const [c, k] of Object.entries(other.classCounts)) this.classCounts[c] = (this.classCounts[c] ?? 0) + k;
    for (const p of other.burstPeriodsMs) this.burstPeriodsMs.push(p);
  }
}

export type BurstPeriodQuantiles = Record<'p10' | 'p25' | 'p50' | 'p75' | 'p90', number>;

/** Quantiles (ms) of burst periods (nearest rank); null when there are none. Order does not matter. */
export function burstPeriodQuantiles(values: ArrayLike<number>): BurstPeriodQuantiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))];
  return { p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9) };
}
