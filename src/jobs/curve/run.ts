/**
 * The curve job: a minimally disruptive curve (mdc.ts) from a start point, in both directions at
 * once: each step evaluates the two curves' trial points as two instances of one ensemble run (with
 * tangent lanes for the gradient). The initial direction is the Hessian's least-constrained
 * eigenvector (from gradients at 2D neighbouring points, one more ensemble run) or a given vector;
 * it is made tangent to the level set by removing its component along the gradient. With
 * `conditioning`, every point's Gauss–Newton matrix JᵀJ is kept and its spread under f32-level
 * perturbation measured afterwards (cost/conditioning.ts: why JᵀJ and not the gradient).
 */
import { termColumn } from '../../analysis/costs.ts';
import type { Column } from '../../analysis/features.ts';
import { parseLane } from '../../compile/program.ts';
import { InputError } from '../../errors.ts';
import { describeDivergence } from '../../engine/results.ts';
import { baseValues, coordinateValue, coordinatesOf, evaluatePoints, paramValue, resolveCost, type CostProblem, type EvaluateOptions, type PointValues } from '../cost/problem.ts';
import { gradientConditioning, type PointConditioning } from '../cost/conditioning.ts';
import { costSetupOf } from '../cost/spec.ts';
import { hessianFromGradients, hessianStencil, symmetricEigen } from './hessian.ts';
import { advance, startCurve, trialPoint, type CurveOptions, type CurveState, type CurveStop } from './mdc.ts';
import { parseCurveSpec, type CurveSpec, type CurveSpecInput } from './spec.ts';

export interface CurvePoint {
  /** signed arc length: positive along the initial direction, negative along its opposite */
  s: number;
  /** coordinates (logs for log: coordinates) */
  coords: Float64Array;
  cost: number;
  terms: number[];
  /** with conditioning: JᵀJ here (L × L, row-major), as evaluated */
  gaussNewton?: Float64Array;
  /** with conditioning: max |ΔJᵀJ|_F / |JᵀJ|_F under the two perturbations (cost/conditioning.ts) */
  jacobianSpread?: number;
  /** with conditioning: whether the curve's direction here can be trusted (spread below 2 %) */
  jacobianTrusted?: boolean;
}

export interface CurveBranch {
  sign: 1 | -1;
  /** from the start point outwards */
  points: CurvePoint[];
  stopped: CurveStop;
  refused: number;
}

export interface ParameterChange {
  key: string;
  param: string;
  /** largest minus smallest coordinate value along the whole curve */
  range: number;
  /** for a log: coordinate, the ratio of the largest to the smallest parameter value (exp(range)) */
  factor?: number;
}

export interface CurveResult {
  spec: CurveSpec;
  problem: CostProblem;
  start: { coords: Float64Array; cost: number; gradient: Float64Array };
  /** unit initial direction, and how it was chosen */
  direction: { vector: Float64Array; from: 'hessian' | 'given' };
  /** Hessian eigenvalues (ascending), when the direction came from the Hessian */
  hessianEigenvalues?: number[];
  ceiling: number;
  branches: CurveBranch[];
  /** parameters by how much they change along the curve, largest first */
  changes: ParameterChange[];
  /** cost evaluations (ensemble instances run) */
  evaluations: number;
  engine: string;
  device: string;
  /** with options.conditioning: how each point's JᵀJ spread was measured, and how many points are ill conditioned */
  conditioning?: { method: PointConditioning['method']; untrusted: number };
  wallMs: number;
}

export interface CurveProgress {
  step: number;
  /** arc length reached per branch */
  s: number[];
  cost: number[];
}

export interface CurveRunOptions extends Pick<EvaluateOptions, 'run'> {
  onProgress?: (p: CurveProgress) => void;
  /**
   * measure how far each point's Gauss–Newton matrix (and so the curve's direction there) can be
   * trusted: two more runs of every point (cost/conditioning.ts). Default false.
   */
  conditioning?: boolean;
}

function unit(v: Float64Array): Float64Array {
  const n = Math.hypot(...v);
  return n > 0 ? v.map((x) => x / n) : v;
}

/** Runs a curve from its start point, in one or both directions. */
export async function runCurve(input: CurveSpecInput | CurveSpec, options: CurveRunOptions = {}): Promise<CurveResult> {
  const started = performance.now();
  const spec = parseCurveSpec(input);
  const setup = costSetupOf(spec, 'curve spec: ');
  const lanes = coordinatesOf(setup, spec.parameters, 'curve spec: parameters: ');
  const startValues = { ...baseValues(setup), ...spec.start };
  const theta0 = Float64Array.from(lanes, (l) => {
    try {
      return coordinateValue(l, startValues[l.param]);
    } catch (error) {
      throw new InputError(`curve spec: start: ${(error as Error).message}`);
    }
  });
  // targets not given come from the start point: the cost starts at zero, to rounding (that run folds
  // the parameters in as constants, a point's run takes them per instance)
  const problem = await resolveCost(setup, lanes, setup.target ?? startValues);
  const D = lanes.length;
  let evaluations = 0, engine = '', device = '';
  const gaussNewton = options.conditioning === true;
  const evaluate = async (columns: Float64Array[]) => {
    const r = await evaluatePoints(problem, columns, { run: options.run, gaussNewton });
    evaluations += columns[0].length;
    [engine, device] = [r.result.engine, r.result.device];
    return r;
  };

  // the start, and the Hessian stencil around it, in one run
  const withHessian = spec.direction === 'hessian';
  const stencil = withHessian ? hessianStencil(theta0, spec.hessianStep) : Array.from(theta0, () => new Float64Array(0));
  const first = await evaluate(Array.from({ length: D }, (_, d) => Float64Array.from([theta0[d], ...stencil[d]])));
  const cost0 = first.cost[0];
  // a curve through a diverged start has no level to follow (its cost is NaN: cost/problem.ts)
  const how = describeDivergence(first.result.divergence, 0);
  if (how) throw new InputError(`curve spec: the simulation at the start point diverged: ${how}; use a smaller dtMs or another start`);
  if (first.result.divergence.count > 0) {
    throw new InputError(`curve spec: ${first.result.divergence.count} point(s) of the Hessian stencil around the start diverged; use a smaller hessianStep or dtMs, or give a direction`);
  }
  const g0 = Float64Array.from(first.gradient, (g) => g[0]);
  let v: Float64Array;
  let eigenvalues: number[] | undefined;
  if (withHessian) {
    const H = hessianFromGradients(first.gradient.map((g) => g.subarray(1)), spec.hessianStep);
    const eig = symmetricEigen(H);
    eigenvalues = eig.values;
    // least constrained: the eigenvalue of smallest magnitude (a rank-deficient Hessian has several near 0)
    let k = 0;
    eig.values.forEach((value, j) => (Math.abs(value) < Math.abs(eig.values[k]) ? (k = j) : 0));
    v = Float64Array.from(eig.vectors[k]);
  } else {
    const given = spec.direction as Record<string, number>;
    const keys = new Set(lanes.map((l) => l.key));
    for (const key of Object.keys(given)) {
      if (!keys.has(parseLane(key).key)) throw new InputError(`curve spec: direction.${key}: not one of the parameters ${[...keys].join(', ')}`);
    }
    v = Float64Array.from(lanes, (l) => given[l.key] ?? 0);
    if (!v.some((x) => x !== 0)) throw new InputError('curve spec: direction must have a non-zero component');
  }
  // tangent to the level set through θ0: no component along the gradient
  const gn2 = g0.reduce((a, x) => a + x * x, 0);
  if (gn2 > 0) {
    const k = v.reduce((a, x, i) => a + x * g0[i], 0) / gn2;
    v = v.map((x, i) => x - k * g0[i]);
  }
  v = unit(v);
  if (!v.some((x) => x !== 0)) throw new InputError('curve spec: the initial direction is parallel to the gradient; give another direction');

  const ceiling = cost0 + spec.momentum;
  const curveOptions: CurveOptions = {
    ceiling, length: spec.length, maxSteps: spec.maxSteps, minStep: spec.step.min, maxStep: spec.step.max, maxTurn: spec.maxTurn,
    levelSet: spec.levelSet,
  };
  const signs: (1 | -1)[] = spec.bothDirections ? [1, -1] : [1];
  const gnOf = (r: PointValues, k: number) => (r.gaussNewton ? { gaussNewton: r.gaussNewton.slice(k * D * D, (k + 1) * D * D) } : {});
  const startPoint: CurvePoint = { s: 0, coords: theta0, cost: cost0, terms: first.terms.map((t) => t.value[0]), ...gnOf(first, 0) };
  const states: CurveState[] = signs.map((sign) => startCurve(theta0, v.map((x) => sign * x), cost0, g0, curveOptions, spec.step.initial));
  const branches: CurveBranch[] = signs.map((sign) => ({ sign, points: [startPoint], stopped: 'length', refused: 0 }));

  for (let step = 0; states.some((s) => !s.stopped); step++) {
    const live = states.map((s, b) => [s, b] as const).filter(([s]) => !s.stopped);
    const trials = live.map(([s]) => trialPoint(s, curveOptions));
    const r = await evaluate(Array.from({ length: D }, (_, d) => Float64Array.from(trials, (t) => t[d])));
    live.forEach(([state, b], k) => {
      const before = state.steps;
      advance(state, trials[k], r.cost[k], r.gradient.map((g) => g[k]), curveOptions);
      // refused for want of a finite cost, down to the smallest step, because the model diverged there
      if (state.stopped === 'not finite' && r.result.divergence.state[k] >= 0) state.stopped = 'diverged';
      if (state.steps > before) {
        branches[b].points.push({ s: branches[b].sign * state.s, coords: Float64Array.from(state.theta), cost: state.cost, terms: r.terms.map((t) => t.value[k]), ...gnOf(r, k) });
      }
    });
    options.onProgress?.({ step, s: states.map((s) => s.s), cost: states.map((s) => s.cost) });
  }
  states.forEach((s, b) => {
    branches[b].stopped = s.stopped!;
    branches[b].refused = s.refused;
  });

  const all = branches.flatMap((b) => b.points);
  const conditioning = gaussNewton ? await measureConditioning(problem, branches, engine, options.run) : undefined;
  const changes: ParameterChange[] = lanes.map((l, d) => {
    const values = all.map((p) => p.coords[d]);
    const range = Math.max(...values) - Math.min(...values);
    return { key: l.key, param: l.param, range, ...(l.log ? { factor: Math.exp(range) } : {}) };
  }).sort((a, b) => b.range - a.range);

  return {
    spec, problem, start: { coords: theta0, cost: cost0, gradient: g0 }, direction: { vector: v, from: withHessian ? 'hessian' : 'given' },
    hessianEigenvalues: eigenvalues, ceiling, branches, changes, evaluations, engine, device, ...(conditioning ? { conditioning } : {}), wallMs: performance.now() - started,
  };
}

/**
 * Sets jacobianSpread and jacobianTrusted on every point of the branches (the start, shared, once):
 * two runs of all points, perturbed at f32's rounding level, against the JᵀJ each kept.
 */
async function measureConditioning(problem: CostProblem, branches: CurveBranch[], engine: string, run: EvaluateOptions['run']): Promise<NonNullable<CurveResult['conditioning']>> {
  const points = [...new Set(branches.flatMap((b) => b.points))];
  const D = problem.coords.length;
  const gaussNewton = new Float64Array(points.length * D * D);
  points.forEach((p, i) => gaussNewton.set(p.gaussNewton!, i * D * D));
  const c = await gradientConditioning(problem, Array.from({ length: D }, (_, d) => Float64Array.from(points, (p) => p.coords[d])), {
    cost: Float64Array.from(points, (p) => p.cost), gradient: [], gaussNewton, result: { engine },
  }, { run, of: 'gauss-newton' });
  points.forEach((p, i) => {
    p.jacobianSpread = c.relative[i];
    p.jacobianTrusted = c.trusted[i] === 1;
  });
  return { method: c.method, untrusted: points.filter((p) => !p.jacobianTrusted).length };
}

/** The whole curve, backward branch reversed then forward, one row per point (the start once). */
export function curvePoints(r: CurveResult): CurvePoint[] {
  const back = r.branches.find((b) => b.sign === -1)?.points.slice(1).reverse() ?? [];
  const forward = r.branches.find((b) => b.sign === 1)!.points;
  return [...back, ...forward];
}

/** The curve as table columns: arc length, parameter values, cost and its terms (and, measured, each point's conditioning). */
export function curveColumns(r: CurveResult): Column[] {
  const points = curvePoints(r);
  const conditioning: Column[] = r.conditioning ? [
    { name: 'jacobianSpread', type: 'DOUBLE', data: Float64Array.from(points, (p) => p.jacobianSpread ?? NaN) },
    { name: 'jacobianTrusted', type: 'BOOLEAN', data: points.map((p) => p.jacobianTrusted === true) },
  ] : [];
  return [
    { name: 's', type: 'DOUBLE', data: Float64Array.from(points, (p) => p.s) },
    ...r.problem.coords.map((c, d): Column => ({ name: c.param, type: 'DOUBLE', data: Float64Array.from(points, (p) => paramValue(c, p.coords[d])) })),
    { name: 'cost', type: 'DOUBLE', data: Float64Array.from(points, (p) => p.cost) },
    ...r.problem.terms.map((t, k): Column => ({ name: termColumn(t.label), type: 'DOUBLE', data: Float64Array.from(points, (p) => p.terms[k]) })),
    ...conditioning,
  ];
}
