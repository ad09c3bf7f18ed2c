/**
 * A cost problem: a cost over chosen coordinates of parameter space (a parameter, or its logarithm
 * for a `log:` coordinate), evaluated at many points at once as one ensemble run (one instance per
 * point), each with its gradient from tangent lanes. Landscapes, fits and curves are loops around
 * `evaluatePoints`.
 */
import { costNeedsTraces, evaluateCosts, lowPassInPlace, taperedMean, traceWindow, validateTerms, type CostTerm, type CostValues } from '../../analysis/costs.ts';
import { describeDivergence } from '../../engine/results.ts';
import { compile } from '../../compile/compile.ts';
import { parseLane, type Lane, type StepProgram } from '../../compile/program.ts';
import { runCpu } from '../../engine/cpu.ts';
import type { Precision, RoundoffProbe } from '../../compile/emit-js.ts';
import type { EnsembleResult, EnsembleSpec } from '../../engine/ensemble.ts';
import { makePlan, traceTimesMs } from '../../engine/plan.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { requireParam } from '../../model/model.ts';
import type { CostSetup } from './spec.ts';

export interface CostProblem {
  setup: CostSetup;
  /** the coordinates: 'gNa' (the value) or 'log:gNa' (its natural logarithm) */
  coords: Lane[];
  terms: CostTerm[];
}

/** Parses coordinate keys against the model: known parameters, each once. */
export function coordinatesOf(setup: CostSetup, keys: readonly string[], where = ''): Lane[] {
  if (keys.length === 0) throw new InputError(`${where}needs at least one parameter to vary`);
  const lanes = keys.map(parseLane);
  const seen = new Set<string>();
  for (const lane of lanes) {
    requireParam(setup.model, lane.param);
    if (seen.has(lane.param)) throw new InputError(`${where}parameter ${lane.param} is listed twice`);
    if (lane.param in setup.values) throw new InputError(`${where}parameter ${lane.param} is both varied and fixed`);
    seen.add(lane.param);
  }
  return lanes;
}

/** Parameter value of coordinate value x. */
export const paramValue = (lane: Lane, x: number): number => (lane.log ? Math.exp(x) : x);
/** Coordinate value of parameter value v (a log coordinate needs v > 0). */
export function coordinateValue(lane: Lane, v: number): number {
  if (!lane.log) return v;
  if (!(v > 0)) throw new InputError(`parameter ${lane.param} = ${v} has no logarithm; a log: coordinate needs a value > 0`);
  return Math.log(v);
}

/** Every parameter value the problem's model uses at its defaults, after `fixed`. */
export function baseValues(setup: CostSetup): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, def] of Object.entries(setup.model.params)) out[name] = def.value;
  return { ...out, ...setup.values };
}

function ensembleTiming(setup: CostSetup) {
  return { durationMs: setup.durationMs, discardMs: setup.discardMs, traceEveryMs: setup.traceEveryMs };
}

/**
 * Fills missing targets from a reference simulation at `reference` (parameter values over the fixed
 * ones; f64 CPU engine) and default scales; returns the ready problem.
 */
export async function resolveCost(setup: CostSetup, coords: Lane[], reference?: Record<string, number>): Promise<CostProblem> {
  const needsReference = setup.terms.some((t) => t.target === undefined);
  let ref: EnsembleResult | undefined;
  if (needsReference) {
    const at = reference ?? setup.target;
    if (!at) {
      const missing = setup.terms.find((t) => t.target === undefined)!;
      throw new InputError(`cost term '${missing.label}' has no target: give one, or give target parameters (target: {gNa: ..., ...}) to simulate it`);
    }
    for (const name of Object.keys(at)) requireParam(setup.model, name);
    const program = compile(setup.model, { dtMs: setup.dtMs, method: setup.method, init: setup.init, values: { ...setup.values, ...at } });
    const traced = costNeedsTraces(setup.terms);
    ref = await runCpu({ program, N: 1, ...ensembleTiming(setup), traceInstances: traced ? [0] : undefined }, { threads: 1 });
    const how = describeDivergence(ref.divergence, 0);
    if (how) {
      throw new InputError(`the reference simulation that gives the cost's targets diverged: ${how} (method ${setup.method}, dtMs ${setup.dtMs}); use a smaller dtMs or give the targets`);
    }
  }
  const terms: CostTerm[] = setup.terms.map((t) => {
    if (t.kind === 'mean') {
      const target = t.target ?? (t.taper
        ? taperedMean(ref!.traces!.series(0, t.observed), ref!.traces!.timesMs, t.taper.fromMs, t.taper.toMs)
        : ref!.observed.find((o) => o.name === t.observed)!.mean[0]);
      return { ...t, target, scale: t.scale ?? (target !== 0 ? Math.abs(target) : 1) };
    }
    const target = t.target ?? ref!.traces!.series(0, t.observed);
    const times = traceTimesMs(makePlan({ ...ensembleTiming(setup), dtMs: setup.dtMs }));
    if (target.length !== times.length) {
      throw new InputError(`cost term '${t.label}': target has ${target.length} values, expected one per trace sample after the discard (${times.length})`);
    }
    let scale = t.scale;
    if (scale === undefined) {
      // the target's own variation in the window: cost 1 means an error as large as the signal's swing
      const [k0, k1] = traceWindow(times, t.fromMs, t.toMs);
      const filtered = lowPassInPlace(Float64Array.from(target), setup.traceEveryMs!, t.lowPassMs).subarray(k0, k1);
      const mean = filtered.reduce((a, b) => a + b, 0) / Math.max(1, filtered.length);
      const sd = Math.sqrt(filtered.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, filtered.length));
      scale = sd > 0 ? sd : 1;
    }
    return { ...t, target, scale };
  });
  validateTerms(terms);
  return { setup, coords, terms };
}

export interface EvaluateOptions {
  /** with tangent lanes (default true); false runs the cheaper primal only and gives no gradient */
  gradient?: boolean;
  /** fraction done, 0..1 */
  onProgress?: (fraction: number) => void;
  /** engine options: threads, a GPU device */
  run?: Pick<RunOptions, 'threads' | 'gpu'>;
  /** record voltage maxima too (for activity classification) */
  maximaCapacity?: number;
  /** also give each point's Gauss–Newton matrix JᵀJ (analysis/costs.ts) */
  gaussNewton?: boolean;
  /**
   * run on the CPU engine with these options instead of the setup's engine: a perturbation at f32's
   * rounding level (conditioning.ts), or f32 arithmetic (tests compare it with f64)
   */
  cpu?: { roundoffProbe?: RoundoffProbe; precision?: Precision };
}

export interface PointValues extends CostValues {
  result: EnsembleResult;
  /** why `auto` chose this engine */
  note?: string;
}

const programs = new WeakMap<CostProblem, Map<boolean, StepProgram>>();

/** The compiled program of a problem, with or without tangent lanes (compiled once per problem). */
export function programOf(problem: CostProblem, gradient: boolean): StepProgram {
  let byFlag = programs.get(problem);
  if (!byFlag) programs.set(problem, (byFlag = new Map()));
  let program = byFlag.get(gradient);
  if (!program) {
    const { setup, coords } = problem;
    program = compile(setup.model, {
      dtMs: setup.dtMs, method: setup.method, init: setup.init, values: setup.values,
      instanceParams: coords.map((c) => c.param), tangents: gradient ? coords.map((c) => c.key) : [],
    });
    byFlag.set(gradient, program);
  }
  return program;
}

/**
 * Evaluates the cost (and its gradient with respect to the coordinates) at n points, given as
 * coordinate columns points[d][i], in one ensemble run.
 */
export async function evaluatePoints(problem: CostProblem, points: readonly ArrayLike<number>[], options: EvaluateOptions = {}): Promise<PointValues> {
  const { setup, coords } = problem;
  if (points.length !== coords.length) throw new InputError(`points have ${points.length} coordinates, the problem has ${coords.length} (${coords.map((c) => c.key).join(', ')})`);
  const n = points[0]?.length ?? 0;
  if (n === 0) throw new InputError('no points to evaluate');
  const gradient = options.gradient ?? true;
  const params: Record<string, Float64Array> = {};
  coords.forEach((c, d) => {
    const column = new Float64Array(n);
    for (let i = 0; i < n; i++) column[i] = paramValue(c, points[d][i]);
    params[c.param] = column;
  });
  const traced = costNeedsTraces(problem.terms);
  const spec: EnsembleSpec = {
    program: programOf(problem, gradient), N: n, params, ...ensembleTiming(setup),
    traceInstances: traced ? Array.from({ length: n }, (_, i) => i) : undefined,
    traceTangents: traced && gradient,
    maximaCapacity: options.maximaCapacity,
    spikeCapacity: 8,
    onProgress: options.onProgress,
  };
  const { result, note } = options.cpu
    ? { result: await runCpu(spec, { ...options.cpu, threads: options.run?.threads }), note: undefined }
    : await runEnsemble(spec, { engine: setup.engine, gpuMath: setup.gpuMath, ...options.run });
  return { ...withoutDiverged(evaluateCosts(result, problem.terms, { gaussNewton: gradient && options.gaussNewton }), result), result, note };
}

/**
 * A diverged point's cost, terms, gradient and Gauss–Newton matrix are NaN, whatever its terms made
 * of its partial run (a rate term could count the spikes before it diverged): so no minimum, average,
 * fit step or curve step takes it (each skips non-finite costs), and result.divergence says why.
 */
function withoutDiverged(values: CostValues, result: EnsembleResult): CostValues {
  if (result.divergence.count === 0) return values;
  const L = values.lanes.length;
  for (let i = 0; i < result.N; i++) {
    if (result.divergence.state[i] < 0) continue;
    values.cost[i] = NaN;
    for (const g of values.gradient) g[i] = NaN;
    for (const t of values.terms) {
      t.value[i] = NaN;
      for (const g of t.gradient) g[i] = NaN;
    }
    values.gaussNewton?.fill(NaN, i * L * L, (i + 1) * L * L);
  }
  return values;
}
