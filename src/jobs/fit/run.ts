/**
 * The fit job: gradient descent (Adam with gradient clipping, or Levenberg–Marquardt on the cost's
 * residuals) on log-parameters from many random starts at once. Every iteration is one ensemble run
 * with one instance per start still running, giving each its cost and gradient; starts stop early on
 * their own (cost low enough, or no progress for `patience` iterations), so later iterations run
 * fewer instances.
 *
 * With `screen` > 1 each start first takes the best of that many random points (one cost-only
 * ensemble run, no tangents): the gradient is a local guide, informative where a cell's activity
 * already has the target's structure (a bursting cell's spikes per burst), so the random points
 * find the basin and the optimiser descends in it.
 */
import { termColumn } from '../../analysis/costs.ts';
import type { Column } from '../../analysis/features.ts';
import { coordinatesOf, evaluatePoints, paramValue, resolveCost, type CostProblem, type EvaluateOptions } from '../cost/problem.ts';
import { costSetupOf } from '../cost/spec.ts';
import { InputError } from '../../errors.ts';
import { checkParamValue, requireParam } from '../../model/model.ts';
import { AdamBatch } from './adam.ts';
import { LevenbergMarquardtBatch } from './levenberg-marquardt.ts';
import { CmaEs } from './cma-es.ts';
import { boxPoint, randomSearch, type BoxSampler, type RandomSearchResult } from './random-search.ts';
import { parseFitSpec, type FitSpec, type FitSpecInput } from './spec.ts';

/** 'diverged': its last point diverged (engine/ensemble.ts, DivergenceResult) and there was no better point to retry from; 'failed': a non-finite cost otherwise */
export type StopReason = 'converged' | 'stalled' | 'iterations' | 'failed' | 'diverged';

export interface StartResult {
  start: number;
  /** coordinates (logs) where the start began */
  initial: Float64Array;
  /** coordinates (logs) of the lowest cost it reached */
  best: Float64Array;
  bestCost: number;
  /** each cost term's value at the best point */
  bestTerms: number[];
  /** cost evaluations (iterations run) */
  evaluations: number;
  stopped: StopReason;
  /** the cost at each of its iterations, in order (NaN where it failed or diverged; screens not included) */
  costs: number[];
  /**
   * whether the gradient at its best point survives f32-level perturbation (jobs/cost/conditioning.ts);
   * undefined where not measured
   */
  gradientTrusted?: boolean;
  /** that gradient's relative spread under the perturbation (|Δg| / |g|) */
  gradientSpread?: number;
}

export interface FitIteration {
  iteration: number;
  /** starts evaluated in this iteration */
  active: number;
  /** lowest cost reached so far over all starts */
  bestCost: number;
  /** median of this iteration's costs */
  medianCost: number;
}

export interface FitProgress {
  phase: 'screen' | 'fit' | 'random search';
  iteration: number;
  iterations: number;
  active: number;
  evaluations: number;
  bestCost: number;
  /** fraction of the current ensemble run (fit) or of the whole search (screen, random search) */
  fraction: number;
}

export interface FitResult {
  spec: FitSpec;
  problem: CostProblem;
  /** fitted parameter names, in coordinate order */
  parameters: string[];
  starts: StartResult[];
  history: FitIteration[];
  /** model evaluations of the fit: the screen's (cost only) and Adam's (each with gradient) */
  evaluations: number;
  /** the screen's share of `evaluations` */
  screenEvaluations: number;
  randomSearch?: RandomSearchResult;
  engine: string;
  device: string;
  note?: string;
  /** the fit's wall time includes the screen's */
  wallMs: { fit: number; screen: number; randomSearch: number };
}

export interface FitOptions extends Pick<EvaluateOptions, 'run'> {
  onProgress?: (p: FitProgress) => void;
}

function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : NaN;
}

/** Runs a fit (and the random-search baseline when asked). */
export async function runFit(input: FitSpecInput | FitSpec, options: FitOptions = {}): Promise<FitResult> {
  const started = performance.now();
  const spec = parseFitSpec(input);
  const setup = costSetupOf(spec, 'fit spec: ');
  const names = Object.keys(spec.parameters);
  const coords = coordinatesOf(setup, names.map((n) => `log:${n}`), 'fit spec: parameters: ');
  // the box must hold only values the parameter may take (its range in the model)
  for (const name of names) {
    const def = requireParam(setup.model, name);
    spec.parameters[name].forEach((value, end) => {
      const problem = checkParamValue(name, def, value);
      if (problem) throw new InputError(`fit spec: parameters.${name}[${end}]: ${problem}`);
    });
  }
  const problem = await resolveCost(setup, coords);
  const D = names.length, n = spec.starts;
  const box: BoxSampler = {
    logLow: Float64Array.from(names, (p) => Math.log(spec.parameters[p][0])),
    logHigh: Float64Array.from(names, (p) => Math.log(spec.parameters[p][1])),
    seed: spec.seed,
  };
  const lm = spec.optimizer === 'levenberg-marquardt' ? new LevenbergMarquardtBatch(n, D, spec.levenbergMarquardt, box.logLow, box.logHigh) : undefined;
  const adam = lm ? undefined : new AdamBatch(n, D, spec.adam, box.logLow, box.logHigh);
  // a failed or uphill step is retried from the best point (Levenberg–Marquardt always, Adam when asked)
  const retries = lm !== undefined || spec.adam.backtrack !== undefined;
  // points [0, n · screen) of the box sampler are the starts' candidates, the baseline's come after
  const screened = spec.screen > 1 ? await randomSearch(problem, box, n * spec.screen, n, {
    chunkSize: spec.chunkSize, firstIndex: 0, run: options.run,
    onProgress: (done, total) => options.onProgress?.({ phase: 'screen', iteration: 0, iterations: spec.iterations, active: n, evaluations: done, bestCost: Infinity, fraction: done / total }),
  }) : undefined;
  // a start whose candidates all failed (non-finite cost) begins at its first candidate
  const x = Array.from({ length: n }, (_, i) => screened && screened.groups[i].bestIndex >= 0
    ? Float64Array.from(screened.groups[i].best)
    : Float64Array.from({ length: D }, (_, d) => boxPoint(box, screened ? i * spec.screen : i, d)));
  const starts: StartResult[] = x.map((xi, i) => ({
    start: i, initial: Float64Array.from(xi), best: Float64Array.from(xi), bestCost: Infinity, bestTerms: [], evaluations: screened ? spec.screen : 0, stopped: 'iterations', costs: [],
  }));
  const stall = new Int32Array(n);
  let active = Array.from({ length: n }, (_, i) => i);
  const history: FitIteration[] = [];
  const screenEvaluations = screened?.evaluations ?? 0;
  let evaluations = screenEvaluations, engine = '', device = '', note: string | undefined;
  let bestCost = screened ? screened.groups.reduce((m, g) => Math.min(m, g.bestCost), Infinity) : Infinity;

  if (spec.optimizer === 'cma-es') {
    const searched = await cmaEsGenerations(problem, spec, box, x, starts, history, options, evaluations);
    [evaluations, engine, device, note] = [searched.evaluations, searched.engine, searched.device, searched.note];
    active = [];
  }
  for (let iteration = 0; iteration < spec.iterations && active.length > 0; iteration++) {
    const points = Array.from({ length: D }, (_, d) => Float64Array.from(active, (i) => x[i][d]));
    const r = await evaluatePoints(problem, points, {
      run: options.run, gaussNewton: lm !== undefined,
      onProgress: (fraction) => options.onProgress?.({ phase: 'fit', iteration, iterations: spec.iterations, active: active.length, evaluations, bestCost, fraction }),
    });
    [engine, device, note] = [r.result.engine, r.result.device, r.note];
    evaluations += active.length;
    const still: number[] = [];
    const costs: number[] = [];
    active.forEach((i, k) => {
      const s = starts[i];
      const c = r.cost[k];
      costs.push(c);
      s.costs.push(Number.isFinite(c) ? c : NaN);
      s.evaluations++;
      const g = r.gradient.map((column) => column[k]);
      const finite = Number.isFinite(c) && g.every((v) => Number.isFinite(v));
      if (!finite && !(retries && Number.isFinite(s.bestCost))) {
        s.stopped = r.result.divergence.state[k] >= 0 ? 'diverged' : 'failed';
        return;
      }
      if (finite && c < s.bestCost * (1 - spec.stopping.minImprovement)) stall[i] = 0;
      else stall[i]++;
      const improved = finite && c < s.bestCost;
      if (improved) {
        s.bestCost = c;
        s.best.set(x[i]);
        s.bestTerms = r.terms.map((t) => t.value[k]);
      }
      if (c <= spec.stopping.costBelow) s.stopped = 'converged';
      else if (stall[i] >= spec.stopping.patience) s.stopped = 'stalled';
      else {
        if (lm) lm.next(i, x[i], s.best, improved, g, r.gaussNewton!.subarray(k * D * D, (k + 1) * D * D));
        else if (!adam!.backtrack(i, improved, x[i], s.best)) adam!.step(i, x[i], g);
        still.push(i);
      }
    });
    for (const s of starts) bestCost = Math.min(bestCost, s.bestCost);
    history.push({ iteration, active: active.length, bestCost, medianCost: median(costs) });
    active = still;
    options.onProgress?.({ phase: 'fit', iteration, iterations: spec.iterations, active: active.length, evaluations, bestCost, fraction: 1 });
  }
  const fitMs = performance.now() - started;

  let baseline: RandomSearchResult | undefined;
  if (spec.randomSearch) {
    baseline = await randomSearch(problem, box, evaluations, n, {
      chunkSize: spec.chunkSize, firstIndex: n * spec.screen, run: options.run,
      onProgress: (done, total) => options.onProgress?.({
        phase: 'random search', iteration: 0, iterations: 0, active: 0, evaluations: done, bestCost, fraction: done / total,
      }),
    });
  }
  return {
    spec, problem, parameters: names, starts, history, evaluations, screenEvaluations, randomSearch: baseline, engine, device, note,
    wallMs: { fit: fitMs, screen: screened?.wallMs ?? 0, randomSearch: baseline?.wallMs ?? 0 },
  };
}

/**
 * CMA-ES from every start at once (cma-es.ts): each generation is one ensemble run of λ candidates
 * per start still searching, costs only. A start stops when its best cost reaches costBelow, when
 * `patience` generations bring no relative improvement of minImprovement, or at `iterations`
 * generations. Candidates are kept inside the box (projected), as the other optimisers' steps are.
 */
async function cmaEsGenerations(
  problem: CostProblem, spec: FitSpec, box: BoxSampler, x: Float64Array[], starts: StartResult[], history: FitIteration[],
  options: FitOptions, evaluationsSoFar: number,
): Promise<{ evaluations: number; engine: string; device: string; note?: string }> {
  const D = box.logLow.length;
  const width = Float64Array.from({ length: D }, (_, d) => box.logHigh[d] - box.logLow[d]);
  const searches = x.map((xi, i) => new CmaEs(D, xi, width, spec.seed * 100_003 + i + 1, spec.cmaEs));
  const stall = new Int32Array(x.length);
  let active = x.map((_, i) => i);
  let evaluations = evaluationsSoFar, engine = '', device = '', note: string | undefined, bestCost = Infinity;
  const project = (d: number, v: number) => Math.min(box.logHigh[d], Math.max(box.logLow[d], v));
  for (let generation = 0; generation < spec.iterations && active.length; generation++) {
    const candidates = active.map((i) => searches[i].ask().map((c) => Float64Array.from(c, (v, d) => project(d, v))));
    const lambda = searches[0].lambda;
    const points = Array.from({ length: D }, (_, d) => Float64Array.from(candidates.flatMap((cs) => cs.map((c) => c[d]))));
    const r = await evaluatePoints(problem, points, {
      run: options.run, gradient: false,
      onProgress: (fraction) => options.onProgress?.({ phase: 'fit', iteration: generation, iterations: spec.iterations, active: active.length, evaluations, bestCost, fraction }),
    });
    [engine, device, note] = [r.result.engine, r.result.device, r.note];
    evaluations += active.length * lambda;
    const still: number[] = [];
    const generationCosts: number[] = [];
    active.forEach((i, a) => {
      const s = starts[i];
      const costs = Array.from({ length: lambda }, (_, k) => r.cost[a * lambda + k]);
      searches[i].tell(costs);
      s.evaluations += lambda;
      const k = costs.reduce((b, c, j) => (Number.isFinite(c) && !(costs[b] <= c) ? j : b), 0);
      const c = costs[k];
      generationCosts.push(c);
      s.costs.push(Number.isFinite(c) ? c : NaN);
      if (Number.isFinite(c) && c < s.bestCost * (1 - spec.stopping.minImprovement)) stall[i] = 0;
      else stall[i]++;
      if (Number.isFinite(c) && c < s.bestCost) {
        s.bestCost = c;
        s.best.set(candidates[a][k]);
        s.bestTerms = r.terms.map((t) => t.value[a * lambda + k]);
      }
      if (s.bestCost <= spec.stopping.costBelow) s.stopped = 'converged';
      else if (stall[i] >= spec.stopping.patience) s.stopped = 'stalled';
      else still.push(i);
    });
    for (const s of starts) bestCost = Math.min(bestCost, s.bestCost);
    history.push({ iteration: generation, active: active.length, bestCost, medianCost: median(generationCosts) });
    active = still;
    options.onProgress?.({ phase: 'fit', iteration: generation, iterations: spec.iterations, active: active.length, evaluations, bestCost, fraction: 1 });
  }
  return { evaluations, engine, device, note };
}

/** Parameter values of a coordinate vector, by name. */
export function paramsOf(problem: CostProblem, coords: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(problem.coords.map((c, d) => [c.param, paramValue(c, coords[d])]));
}

/** One row per start: status, cost, fitted and initial parameter values, term values at the best point. */
export function fitColumns(r: FitResult): Column[] {
  const n = r.starts.length;
  const columns: Column[] = [
    { name: 'start', type: 'INT32', data: Int32Array.from(r.starts, (s) => s.start) },
    { name: 'stopped', type: 'STRING', data: r.starts.map((s) => s.stopped) },
    { name: 'evaluations', type: 'INT32', data: Int32Array.from(r.starts, (s) => s.evaluations) },
    { name: 'cost', type: 'DOUBLE', data: Float64Array.from(r.starts, (s) => s.bestCost) },
  ];
  r.problem.coords.forEach((c, d) => columns.push({ name: c.param, type: 'DOUBLE', data: Float64Array.from(r.starts, (s) => paramValue(c, s.best[d])) }));
  r.problem.coords.forEach((c, d) => columns.push({ name: `initial_${c.param}`, type: 'DOUBLE', data: Float64Array.from(r.starts, (s) => paramValue(c, s.initial[d])) }));
  if (r.starts.some((s) => s.gradientTrusted !== undefined)) {
    columns.push({ name: 'gradientSpread', type: 'DOUBLE', data: Float64Array.from(r.starts, (s) => s.gradientSpread ?? NaN) });
    columns.push({ name: 'gradientTrusted', type: 'BOOLEAN', data: r.starts.map((s) => s.gradientTrusted === true) });
  }
  r.problem.terms.forEach((t, k) => columns.push({ name: termColumn(t.label), type: 'DOUBLE', data: Float64Array.from({ length: n }, (_, i) => r.starts[i].bestTerms[k] ?? NaN) }));
  return columns;
}
