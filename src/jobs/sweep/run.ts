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
import type { StepProgram } from '../../compile/program.ts';
import type { EnsembleResult } from '../../engine/ensemble.ts';
import { getGpu, type GpuContext } from '../../engine/gpu/device.ts';
import { prepareEnsemble, runEnsemble, type EngineChoice, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { SummaryTotal, burstPeriodQuantiles, checkShardLayout, chunkData, chunkRanges, shardRange, type BurstPeriodQuantiles, type ChunkData, type ChunkSummary, type IndexRange, type Shard } from './rows.ts';
import { makeSampler } from './sampling.ts';
import { finalObserved, type ResolvedSweep } from './spec.ts';
import { isolatedMs } from '../isolated-start.ts';
import { networkCells } from '../../model/network.ts';
import { cellSettingBlock, choiceConstants, chosenValues, expandChoices, IsolatedStates, isolationEngine, networkInstanceParams, withStartParams } from './network.ts';
import { networkChunkInfo } from './network-rows.ts';

export type { ChunkData, ChunkSummary, IndexRange, Shard } from './rows.ts';
export { checkShardLayout, chunkRanges, shardRange } from './rows.ts';

export interface SweepSink {
  /**
   * Called once the engine is resolved, before any chunk runs: the sink records the engine beside
   * its rows, or refuses (InputError) when its stored rows came from another engine.
   */
  begin(engine: ResolvedEngine): Promise<void>;
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
  /** class counts of the chunks run in this process (a shard's manifest counts its stored rows instead) */
  classCounts: Record<string, number>;
  /** burst periods (ms) of the periodically bursting models run in this process: quantiles */
  burstPeriodMs: BurstPeriodQuantiles | null;
}

/** The engine a sweep's chunks run on: the spec's choice with `auto` resolved, as runEnsemble resolves it. */
export type ResolvedEngine = 'cpu' | 'gpu';

/**
 * Resolves the spec's engine before anything runs, so that it can be checked against stored rows
 * and every chunk then runs on exactly this engine. `auto`: the GPU when there is one, as in
 * runEnsemble for ensembles of more than one instance.
 */
export async function resolveSweepEngine(choice: EngineChoice, gpu?: GpuContext): Promise<ResolvedEngine> {
  if (choice === 'cpu') return 'cpu';
  if (choice === 'gpu') return 'gpu';
  return (gpu ?? (await getGpu())) ? 'gpu' : 'cpu';
}

export interface RunSweepOptions extends Pick<RunOptions, 'threads' | 'gpu'> {
  onProgress?: (p: SweepProgress) => void;
}

/** Runs one shard of a resolved sweep into a sink; returns what it did. */
export async function runSweepShard(sweep: ResolvedSweep, shard: Shard, sink: SweepSink, options: RunSweepOptions = {}): Promise<ShardReport> {
  const started = performance.now();
  const { spec, model, total } = sweep;
  const sampler = makeSampler(sweep);
  const values: Record<string, number> = { ...spec.fixed, ...choiceConstants(sweep) };
  if (spec.currentUAPerCm2 !== undefined) values.IExtUAPerCm2 = spec.currentUAPerCm2;
  const isNetwork = networkCells(model).length > 1;
  const isolated = isolatedMs(spec.init);
  // networks: choices expand into the cells' parameters; an isolated start reads each cell state's start from a parameter
  const startable = isolated === undefined ? undefined : withStartParams(model);
  const instanceParams = isNetwork ? [...networkInstanceParams(sweep), ...(startable?.startParams ?? [])] : sampler.names;
  const compileOptions = {
    method: spec.method, dtMs: spec.dtMs, init: isolated === undefined ? (spec.init as 'steady' | 'cold' | undefined) : 'cold', tangents: spec.tangents, stimulus: spec.steps,
    // rows and traces read observed quantities only (traced ones are observed: spec.ts)
    skipUnreadStates: {},
  } as const;
  // networks in grid order: one kernel per setting of the cells, their conductances folded in (then
  // the per-network kernel is not needed)
  const block = isNetwork ? cellSettingBlock(sweep) : undefined;
  const program = block === undefined ? compile(startable?.model ?? model, { ...compileOptions, values, instanceParams }) : undefined;
  const cellPrograms = new Map<string, StepProgram>();
  const chosenAt = (index: number) => {
    const row = new Float64Array(sampler.names.length);
    sampler.valuesOf(index, row);
    return chosenValues(sweep, sampler.names, row);
  };
  const programFor = (chunk: IndexRange): StepProgram => {
    if (program) return program;
    const chosen = chosenAt(chunk.start);
    const key = JSON.stringify(chosen);
    if (JSON.stringify(chosenAt(chunk.end - 1)) !== key) throw new Error('a chunk of a cell-setting block holds two settings of the cells');
    let specialised = cellPrograms.get(key);
    if (!specialised) {
      specialised = compile(startable?.model ?? model, { ...compileOptions, values: { ...values, ...chosen }, instanceParams: instanceParams.filter((p) => !Object.hasOwn(chosen, p)) });
      cellPrograms.set(key, specialised);
    }
    return specialised;
  };
  const network = isNetwork ? networkChunkInfo(sweep) : undefined;
  checkShardLayout(total, shard);
  const range = shardRange(total, shard);
  const chunks = chunkRanges(range, spec.chunkSize, block);
  const engineUsed = await resolveSweepEngine(spec.engine, options.gpu);
  await sink.begin(engineUsed);
  const isolatedStates = startable && new IsolatedStates(sweep, isolated!, networkInstanceParams(sweep), startable.cellStates,
    { engine: isolationEngine(sweep, engineUsed), gpuMath: spec.gpuMath, threads: options.threads, gpu: options.gpu });
  const stored = new Set<number>();
  for (const r of await sink.storedRanges()) {
    if (!chunks.some((c) => c.start === r.start && c.end === r.end)) {
      throw new InputError(`a stored chunk covers [${r.start}, ${r.end}), which is not a chunk of this shard: resume with the chunkSize it was started with`);
    }
    stored.add(r.start);
  }
  const pending = chunks.filter((c) => !stored.has(c.start));
  const traced = new Set(spec.traces?.indices ?? []);
  const recording = { columns: sweep.traceColumns, traceOnly: sweep.traceOnly };
  // regulated sweeps: one trace sample of every model, at the end, gives its final conductances
  const finalOf = finalObserved(sweep);

  let done = range.end - range.start - pending.reduce((s, c) => s + c.end - c.start, 0);
  let ranModels = 0;
  const ranStarted = performance.now();
  const report = (inFlight: number) => {
    const rate = (ranModels + inFlight) / ((performance.now() - ranStarted) / 1000);
    const remaining = range.end - range.start - done - inFlight;
    options.onProgress?.({ done: done + Math.floor(inFlight), total: range.end - range.start, modelsPerSecond: rate, etaSeconds: remaining / rate });
  };

  /** The sampled axis values of a chunk's models, one column per axis (sampler order). */
  const axisColumns = (chunk: IndexRange) => {
    const n = chunk.end - chunk.start;
    const columns = sampler.names.map(() => new Float64Array(n));
    const row = new Float64Array(sampler.names.length);
    for (let i = 0; i < n; i++) {
      sampler.valuesOf(chunk.start + i, row);
      for (let d = 0; d < row.length; d++) columns[d][i] = row[d];
    }
    return columns;
  };
  /** What the engine runs for a chunk, all but its parameter table (the GPU kernel follows from this). */
  const chunkSpec = (chunk: IndexRange, chunkProgram: StepProgram) => {
    const n = chunk.end - chunk.start;
    const traceInstances = [...traced].filter((i) => i >= chunk.start && i < chunk.end).map((i) => i - chunk.start);
    return {
      program: chunkProgram, N: n, durationMs: spec.durationMs, discardMs: spec.discardMs, spikeCapacity: 8,
      maximaCapacity: spec.maxima, maximaHysteresisMv: spec.maximaHysteresisMv,
      ...(finalOf.length
        ? { traceEveryMs: spec.durationMs, traceInstances: Array.from({ length: n }, (_, i) => i) }
        : { traceEveryMs: traceInstances.length ? spec.traces!.everyMs : undefined, traceInstances: traceInstances.length ? traceInstances : undefined }),
    };
  };
  const runOptions = { engine: engineUsed, gpuMath: spec.gpuMath, threads: options.threads, gpu: options.gpu };
  // one kernel per setting of the cells: the next setting's kernel compiles while a chunk runs
  const handedOver = new Set<StepProgram>();
  const prepare = (chunk: IndexRange | undefined) => {
    if (!chunk || block === undefined) return;
    const chunkProgram = programFor(chunk);
    if (handedOver.has(chunkProgram)) return;
    handedOver.add(chunkProgram);
    prepareEnsemble(chunkSpec(chunk, chunkProgram), engineUsed, runOptions);
  };

  const run = (chunk: IndexRange) => {
    const n = chunk.end - chunk.start;
    const columns = axisColumns(chunk);
    const chunkProgram = programFor(chunk);
    handedOver.add(chunkProgram);
    const ensembleParams = async () => {
      if (!isNetwork) return Object.fromEntries(sampler.names.map((name, d) => [name, columns[d]]));
      const params = expandChoices(sweep, sampler.names, columns);
      const all: Record<string, Float64Array> = isolatedStates ? { ...params, ...(await isolatedStates.startColumns(params, n)) } : params;
      // a kernel with the cells folded in reads only the rest
      return Object.fromEntries(chunkProgram.instanceParams.filter((p) => Object.hasOwn(all, p)).map((p) => [p, all[p]]));
    };
    return {
      chunk, params: columns,
      run: ensembleParams().then((params) => runEnsemble(
        // progress inside a chunk: long chunks would otherwise report nothing for minutes
        { ...chunkSpec(chunk, chunkProgram), params, onProgress: (fraction) => report(fraction * n) },
        runOptions,
      )),
    };
  };

  const store = async (chunk: IndexRange, params: Float64Array[], result: EnsembleResult) => {
    const hostStart = performance.now();
    const n = chunk.end - chunk.start;
    const gridIndex = sampler.gridIndexOf ? Int32Array.from({ length: n }, (_, i) => sampler.gridIndexOf!(chunk.start + i)) : undefined;
    const handedOver = sink.storeChunk(chunkData(chunk, sampler.names.map((name, d) => ({ name, values: params[d] })), gridIndex, result, network, finalOf, recording));
    hostMs += performance.now() - hostStart;
    // the engine runs the next chunk meanwhile: waiting here leaves the GPU busy
    const summary = await handedOver;
    totals.addTotal(summary);
    sinkMs += summary.hostMs;
  };

  const totals = new SummaryTotal();
  let engine: string = engineUsed, device = '';
  let engineWaitMs = 0, hostMs = 0, sinkMs = 0;
  options.onProgress?.({ done, total: range.end - range.start, modelsPerSecond: 0, etaSeconds: NaN });

  let next = pending.length ? run(pending[0]) : undefined;
  prepare(pending[1]);
  for (let k = 0; k < pending.length; k++) {
    const current = next!;
    const waitStart = performance.now();
    const { result } = await current.run;
    engineWaitMs += performance.now() - waitStart;
    engine = result.engine;
    device = result.device;
    next = k + 1 < pending.length ? run(pending[k + 1]) : undefined;
    prepare(pending[k + 2]);
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
    classCounts: totals.classCounts,
    burstPeriodMs: burstPeriodQuantiles(totals.burstPeriodsMs),
  };
}
