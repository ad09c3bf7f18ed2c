/**
 * Host cost of a sweep per model, against the engine's time per model: what the thread that drives
 * the GPU spends taking each chunk's rows out of the result and handing them over (rows.ts,
 * chunkData), and what the sink's worker spends classifying and writing Parquet (WorkerShardStore).
 *
 * Real maxima come from a short sweep of the default example's models (20 s each, on the engine
 * `auto` picks); they are tiled into chunks of the full grid's size (65,536), since host cost per
 * model depends on how many maxima a model has, not on which. The bound is host overhead
 * ≤ 10 % of GPU time; the GPU time per model is this run's, and, for scale, that of an H200 at the
 * 5.3e10 neuron-steps/s that docs/runtime.md measured for the same kernel shape (a projection).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/compile/compile.ts';
import type { EnsembleResult } from '../src/engine/ensemble.ts';
import { maximaView } from '../src/engine/results.ts';
import { runEnsemble } from '../src/engine/run.ts';
import { readSpecFile } from '../src/io/spec-file.ts';
import { WorkerShardStore } from '../src/io/worker-shard-store.ts';
import { tileRings } from './tile-rings.ts';
import { chunkData } from '../src/jobs/sweep/rows.ts';
import { makeSampler } from '../src/jobs/sweep/sampling.ts';
import { parseSweepSpec, resolveSweep } from '../src/jobs/sweep/spec.ts';

const H200_NEURON_STEPS_PER_S = 5.3e10;

/**
 * N instances made by cycling through a run's instances (observables, divergence records and maxima
 * rings alike), in arrays of their own: each chunk's are transferred to the store's worker.
 */
function tile(r: EnsembleResult, N: number): EnsembleResult {
  const src = (a: Float64Array) => Float64Array.from({ length: N }, (_, i) => a[i % r.N]);
  return {
    ...r, N, traces: undefined,
    observed: r.observed.map((o) => ({ ...o, mean: src(o.mean), min: src(o.min), max: src(o.max), meanTangent: o.meanTangent.map(src) })),
    divergence: { ...r.divergence, state: Int32Array.from({ length: N }, (_, i) => r.divergence.state[i % r.N]), timeMs: src(r.divergence.timeMs), value: src(r.divergence.value) },
    maxima: r.maxima!.map((m) => maximaView(tileRings(m.rings, N))),
  };
}

export async function sweepHostBenchmark(options: { models?: number; chunk?: number; chunks?: number } = {}) {
  const models = options.models ?? 512, chunk = options.chunk ?? 65536, chunks = options.chunks ?? 3;
  const sweep = resolveSweep(parseSweepSpec(await readSpecFile(new URL('../examples/small.yaml', import.meta.url).pathname)));
  const { spec, model } = sweep;
  const sampler = makeSampler(sweep);
  const program = compile(model, { method: spec.method, dtMs: spec.dtMs, values: { ...spec.fixed }, instanceParams: sampler.names });
  const params = sampler.names.map(() => new Float64Array(models));
  const row = new Float64Array(sampler.names.length);
  for (let i = 0; i < models; i++) {
    sampler.valuesOf(i, row);
    row.forEach((v, d) => (params[d][i] = v));
  }
  const { result } = await runEnsemble(
    { program, N: models, params: Object.fromEntries(sampler.names.map((n, d) => [n, params[d]])), durationMs: spec.durationMs, discardMs: spec.discardMs, spikeCapacity: 8, maximaCapacity: spec.maxima },
    { engine: 'auto' },
  );
  const stepsPerModel = Math.round(spec.durationMs / spec.dtMs);
  const engineUsPerModel = (result.wallMs * 1000) / models;

  const dir = await mkdtemp(join(tmpdir(), 'ionsweep-host-'));
  const store = new WorkerShardStore(dir, { index: 0, count: 1 }, { specHash: 'bench', spec, total: chunks * chunk, range: { start: 0, end: chunks * chunk } });
  const runs: { mainUsPerModel: number; workerUsPerModel: number }[] = [];
  try {
    await store.prepare(false);
    await store.begin(result.engine);
    for (let c = 0; c < chunks; c++) {
      const big = tile(result, chunk);
      const columns = sampler.names.map((name, d) => ({ name, values: Float64Array.from({ length: chunk }, (_, i) => params[d][i % models]) }));
      const started = performance.now();
      const handedOver = store.storeChunk(chunkData({ start: c * chunk, end: (c + 1) * chunk }, columns, undefined, big));
      const mainMs = performance.now() - started;
      const summary = await handedOver;
      runs.push({ mainUsPerModel: (mainMs * 1000) / chunk, workerUsPerModel: (summary.hostMs * 1000) / chunk });
      console.error(`sweep host ${JSON.stringify(runs[runs.length - 1])}`);
    }
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
  // the first chunk carries the JIT's warm-up: report the best of the later ones
  const steady = runs.slice(1).reduce((a, b) => (a.mainUsPerModel + a.workerUsPerModel <= b.mainUsPerModel + b.workerUsPerModel ? a : b));
  const h200UsPerModel = (stepsPerModel / H200_NEURON_STEPS_PER_S) * 1e6;
  return {
    chunkModels: chunk,
    engine: result.device,
    engineUsPerModel,
    mainThreadUsPerModel: steady.mainUsPerModel,
    workerUsPerModel: steady.workerUsPerModel,
    mainThreadVsEngine: steady.mainUsPerModel / engineUsPerModel,
    projectedH200: { usPerModel: h200UsPerModel, mainThreadVsGpu: steady.mainUsPerModel / h200UsPerModel, workerVsGpu: steady.workerUsPerModel / h200UsPerModel },
    target: { hostOverheadVsGpuMax: 0.1 },
    runs,
  };
}
