/**
 * A CPU-engine job as plain, transferable data: what the demos send to their Web Worker (and what
 * the browser tests recompute under Deno). The worker compiles the model itself, since a compiled
 * program (an expression graph) does not cross postMessage.
 */
import { classifyActivity, type ActivityClass } from '../../src/analysis/classify.ts';
import { compile } from '../../src/compile/compile.ts';
import { runCpu } from '../../src/engine/cpu.ts';
import type { EnsembleResult, ObservedResult } from '../../src/engine/ensemble.ts';
import { baseValues, coordinatesOf, evaluatePoints, resolveCost } from '../../src/jobs/cost/problem.ts';
import { costSetupOf } from '../../src/jobs/cost/spec.ts';
import { curvePoints, runCurve, type CurveProgress } from '../../src/jobs/curve/run.ts';
import type { CurveSpecInput } from '../../src/jobs/curve/spec.ts';
import { parseLandscapeSpec, runLandscape, type LandscapeSpecInput } from '../../src/jobs/landscape.ts';
import { modelInfo, type ModelName } from './models.ts';

export interface CpuJob {
  model: ModelName;
  dtMs: number;
  /** per-instance parameters as columns of length N (the others take the model's value) */
  params: Record<string, Float64Array>;
  N: number;
  tangents?: string[];
  durationMs: number;
  discardMs?: number;
  traceEveryMs?: number;
  traceInstances?: number[];
  traceTangents?: boolean;
  /** classify each instance from its voltage maxima over the window after the discard */
  classify?: boolean;
  threads?: number;
}

/** An observed quantity's means, extremes and mean tangents per instance, as the engine gives them. */
export type CpuObserved = ObservedResult;

export interface CpuJobResult {
  engine: string;
  device: string;
  wallMs: number;
  lanes: string[];
  observed: CpuObserved[];
  spikeCount: Float64Array;
  /** per instance; 'diverged' where a state left the finite range (never an activity class) */
  classes?: (ActivityClass | 'diverged')[];
  burstPeriodMs?: (number | null)[];
  traces?: { instances: number[]; timesMs: Float64Array; width: number; names: string[]; values: Float64Array };
}

/** The maxima each instance keeps for classification: enough for several bursts of a 1-s burster. */
const MAXIMA_CAPACITY = 256;

export async function runCpuJob(job: CpuJob): Promise<CpuJobResult> {
  const info = modelInfo(job.model);
  const program = compile(info.model, { dtMs: job.dtMs, instanceParams: [...info.instanceParams], tangents: job.tangents ?? [] });
  const r: EnsembleResult = await runCpu({
    program, N: job.N, params: job.params, durationMs: job.durationMs, discardMs: job.discardMs ?? 0,
    traceEveryMs: job.traceEveryMs, traceInstances: job.traceInstances, traceTangents: job.traceTangents,
    maximaCapacity: job.classify ? MAXIMA_CAPACITY : 0,
  }, { threads: job.threads ?? 1 });
  const out: CpuJobResult = {
    engine: r.engine, device: r.device, wallMs: r.wallMs, lanes: r.lanes.map((l) => l.key),
    observed: r.observed.map((o) => ({ name: o.name, unit: o.unit, kind: o.kind, mean: o.mean, min: o.min, max: o.max, meanTangent: o.meanTangent })),
    spikeCount: r.spikes[0].count,
  };
  if (job.classify && r.maxima) {
    const m = r.maxima[0];
    out.classes = [];
    out.burstPeriodMs = [];
    for (let i = 0; i < job.N; i++) {
      if (r.divergence.state[i] >= 0) {
        out.classes.push('diverged');
        out.burstPeriodMs.push(null);
        continue;
      }
      const { timesMs, valuesMv } = m.of(i);
      const f = classifyActivity({
        maximaTimesMs: timesMs, maximaValuesMv: valuesMv, windowStartMs: r.discardMs, windowEndMs: r.durationMs,
        totalMaxima: m.count[i], totalSpikes: m.spikeCount[i],
      });
      out.classes.push(f.class);
      out.burstPeriodMs.push(f.burstPeriodMs);
    }
  }
  if (r.traces) {
    out.traces = { instances: r.traces.instances, timesMs: r.traces.timesMs, width: r.traces.width, names: r.traces.observedNames, values: r.traces.values };
  }
  return out;
}

/** A landscape (src/jobs/landscape.ts) on the CPU engine, as plain data. */
export interface LandscapeJobResult {
  x: { key: string; values: Float64Array; coords: Float64Array };
  y: { key: string; values: Float64Array; coords: Float64Array };
  cost: Float64Array;
  gradient: [Float64Array, Float64Array];
  /** the mean of each term's observed quantity is not returned by runLandscape; targets are */
  targets: number[];
  engine: string;
  device: string;
  wallMs: number;
}

export async function runLandscapeJob(spec: LandscapeSpecInput, threads: number): Promise<LandscapeJobResult> {
  const r = await runLandscape({ ...spec, engine: 'cpu' }, { run: { threads } });
  return {
    x: { key: r.x.lane.key, values: r.x.values, coords: r.x.coords },
    y: { key: r.y.lane.key, values: r.y.values, coords: r.y.coords },
    cost: r.cost, gradient: r.gradient,
    targets: r.problem.terms.map((t) => (t.kind === 'mean' ? t.target : NaN)),
    engine: r.engine, device: r.device, wallMs: r.wallMs,
  };
}

/** A minimally disruptive curve (src/jobs/curve) on the f64 CPU engine, as plain data. */
export interface CurveJobResult {
  keys: string[];
  /** the whole curve, backward branch then forward: arc length, coordinates, cost */
  s: Float64Array;
  coords: Float64Array[];
  cost: Float64Array;
  ceiling: number;
  stopped: string[];
  evaluations: number;
  wallMs: number;
  changes: { key: string; range: number; factor?: number }[];
}

export async function runCurveJob(spec: CurveSpecInput, onProgress?: (p: CurveProgress) => void): Promise<CurveJobResult> {
  const r = await runCurve({ ...spec, engine: 'cpu' }, { run: { threads: 1 }, onProgress });
  const points = curvePoints(r);
  return {
    keys: r.problem.coords.map((c) => c.key),
    s: Float64Array.from(points, (p) => p.s),
    coords: r.problem.coords.map((_, d) => Float64Array.from(points, (p) => p.coords[d])),
    cost: Float64Array.from(points, (p) => p.cost),
    ceiling: r.ceiling,
    stopped: r.branches.map((b) => b.stopped),
    evaluations: r.evaluations,
    wallMs: r.wallMs,
    changes: r.changes.map((c) => ({ key: c.key, range: c.range, factor: c.factor })),
  };
}

/** The landscape's cost and gradient at chosen points (coordinates: logs of x and y), f64. */
export interface PointsJobResult {
  cost: Float64Array;
  gradient: Float64Array[];
  target: number;
}

export async function runPointsJob(spec: LandscapeSpecInput, points: Float64Array[]): Promise<PointsJobResult> {
  const parsed = parseLandscapeSpec({ ...spec, engine: 'cpu' });
  const setup = costSetupOf(parsed);
  const coords = coordinatesOf(setup, [parsed.x.parameter, parsed.y.parameter]);
  const problem = await resolveCost(setup, coords, setup.target ?? baseValues(setup));
  const r = await evaluatePoints(problem, points, { run: { threads: 1 } });
  const term = problem.terms[0];
  return { cost: r.cost, gradient: r.gradient, target: term.kind === 'mean' ? term.target : NaN };
}
