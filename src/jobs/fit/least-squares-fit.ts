/**
 * The closed form of a recording fit, for when every state the fitted conductances act through is
 * recorded (V and [Ca] of the fitted cell; its neighbours' V in a network): every gate is then a fixed
 * function of the data, and the membrane equation's residual is linear in the maximal conductances,
 * r = Ag − b, except for exponential Euler's factor 1/exprel(−dt·G/C) (G = Σ gᵢaᵢ) on the data's
 * increment. The fit is non-negative least squares on that residual.
 *
 * The factor is handled by Gauss–Newton, not by dropping it: from g = 0, where the factor is 1 (the
 * forward-Euler, continuous form), each iteration linearises the exact residual at the current g
 * (J from linear tangent lanes, r, accumulated by the engine as JᵀJ, Jᵀr and rᵀr: no residual trace
 * is read back) and solves the NNLS problem min ‖r + J(h − g)‖², h ≥ 0 (nnls.ts). Where the factor
 * did not matter the first solve would be the answer; with it, a few iterations reach the exact
 * minimiser of the equation-error cost (the teacher-forcing cost) over g ≥ 0, a conductance the data
 * want below zero held at exactly 0. No start and no box: the answer is unique where the recording
 * identifies the conductances.
 */
import { compile } from '../../compile/compile.ts';
import type { Method } from '../../compile/program.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import * as E from '../../model/expr.ts';
import type { Model } from '../../model/model.ts';
import { teacherForce, type ForcingSpec } from '../../model/teacher-forcing.ts';
import { nnlsFromNormalEquations } from './nnls.ts';
import { gaussNewtonStd, IDENTIFIED_BELOW, type ForcedRunOptions, type RecordingFitResult } from './recording-fit.ts';

export interface LeastSquaresFitOptions extends ForcedRunOptions {
  /** which states the recordings replace (teacherForce): V and [Ca] of the fitted cell at least */
  forcing: Readonly<Record<string, string | ForcingSpec>>;
  /** fitted conductances (≥ 0; they must enter the forced residual linearly) */
  parameters: readonly string[];
  /** exp-euler only: the rk4 residual runs the gates through stages that depend on the conductances */
  method?: Method;
  /** Gauss–Newton iterations at most (default 20) */
  iterations?: number;
  /** stop when no conductance moved by more than this relative to the larger of its old and new value (default 1e-10) */
  tolerance?: number;
  onProgress?: (p: { iteration: number; cost: number }) => void;
}

export interface LeastSquaresFitResult {
  parameters: string[];
  /** fitted conductances (the model's units; exactly 0 where the constraint holds them) */
  values: Float64Array;
  /** rᵀr of the equation error at `values` (the teacher-forcing cost) */
  cost: number;
  /** the cost after each Gauss–Newton iteration (the first at g = 0) */
  costs: number[];
  /** runs of the forced model */
  evaluations: number;
  /** converged: the step fell below the tolerance or to the cost's rounding floor; stalled: a step of more than rounding size could not lower the cost even halved; iterations: the limit */
  stopped: 'converged' | 'stalled' | 'iterations';
  converged: boolean;
  /** per conductance: held at 0 by the constraint */
  atZero: boolean[];
  /** d cost / d g at `values` (2Jᵀr): ≈ 0 for a free conductance, ≥ 0 (the constraint's multiplier) for one held at 0 */
  gradient: Float64Array;
  /** Gauss–Newton standard deviation of each log-conductance (NaN where held at 0 or JᵀJ is singular) */
  stdLog: Float64Array;
  identified: boolean[];
  rows: number;
  engine: string;
  device: string;
  wallMs: number;
}

/**
 * The states of a forced model whose equations read a fitted parameter: while any is left
 * unrecorded, the gates are not fixed by the data and the residual is not linear in the conductances.
 */
export function statesReadingParameters(forced: Model, parameters: readonly string[]): string[] {
  const fitted = new Set(parameters);
  return forced.states.filter((s) => {
    const roots = [s.ode.rhs, s.ode.rate, ...(s.ode.inf ? [s.ode.inf] : []), ...(s.ode.tau ? [s.ode.tau] : [])];
    return E.topoOrder(roots).some((n) => n.op === 'param' && fitted.has(n.name));
  }).map((s) => s.name);
}

/** Fits the conductances by non-negative least squares on the equation error (see the module comment). */
export async function fitLeastSquares(o: LeastSquaresFitOptions): Promise<LeastSquaresFitResult> {
  const started = performance.now();
  const D = o.parameters.length;
  if (!D) throw new InputError('a least-squares fit needs at least one fitted parameter');
  if ((o.method ?? 'exp-euler') !== 'exp-euler') throw new InputError(`least-squares fit: method must be exp-euler (the rk4 residual is not linear in the conductances), got ${o.method}`);
  const forced = teacherForce(o.model, o.forcing);
  const unrecorded = statesReadingParameters(forced, o.parameters);
  if (unrecorded.length) {
    throw new InputError(`least-squares fit: the fitted parameters act through ${unrecorded.join(', ')}, which no recording gives: record them too (e.g. [Ca] as data.calcium) or use approach: teacher-forcing`);
  }
  for (const p of o.parameters) {
    const min = forced.params[p]?.min;
    if (min === undefined || min < 0) throw new InputError(`least-squares fit: ${p} may be negative (its range starts at ${min ?? '−∞'}); the non-negative fit is for conductances`);
  }
  const program = compile(forced, {
    dtMs: o.dtMs, method: 'exp-euler', init: o.init, values: o.values, instanceParams: [...o.parameters],
    tangents: [...o.parameters], residual: 'equation-error', currentInput: o.currentInput,
  });
  const run: RunOptions = { singleInstance: true, ...o.run };
  let engine = '', device = '', rows = 0, evaluations = 0;
  const evaluate = async (g: Float64Array) => {
    const params = Object.fromEntries(o.parameters.map((p, d) => [p, Float64Array.of(g[d])]));
    const { result } = await runEnsemble({ program, N: 1, params, durationMs: o.durationMs, discardMs: o.discardMs, inputs: { ...o.recordings }, windowMs: o.windowMs }, run);
    [engine, device] = [result.engine, result.device];
    evaluations++;
    const ne = result.normal!;
    rows = ne.rows;
    return { rr: ne.rr[0], jr: Float64Array.from(ne.jr.subarray(0, D)), jj: Float64Array.from(ne.jj.subarray(0, D * D)) };
  };
  const tolerance = o.tolerance ?? 1e-10;
  let g: Float64Array = new Float64Array(D);
  let at = await evaluate(g);
  const costs = [at.rr];
  o.onProgress?.({ iteration: 0, cost: at.rr });
  let stopped: LeastSquaresFitResult['stopped'] = 'iterations';
  for (let iteration = 1; iteration <= (o.iterations ?? 20); iteration++) {
    if (![at.rr, ...at.jr, ...at.jj].every(Number.isFinite)) throw new InputError('least-squares fit: the residual is not finite (does the recording hold NaN, or leave the model\'s range?)');
    // the linearised problem's normal equations in h = g + δ: JᵀJ h = JᵀJ g − Jᵀr
    const c = Float64Array.from({ length: D }, (_, i) => at.jj.subarray(i * D, (i + 1) * D).reduce((s, m, j) => s + m * g[j], 0) - at.jr[i]);
    let h: Float64Array = nnlsFromNormalEquations(at.jj, c, D);
    const moved = Math.max(...Array.from(h, (v, d) => Math.abs(v - g[d]) / Math.max(Math.abs(v), Math.abs(g[d]), Number.MIN_VALUE)));
    if (moved <= tolerance) {
      stopped = 'converged';
      break;
    }
    let next = await evaluate(h);
    // a step of rounding size that does not lower the cost: at the floor, nothing to halve
    if (!(next.rr <= at.rr) && moved <= 1e-6) {
      stopped = 'converged';
      break;
    }
    // the factor's curvature can make a full step overshoot: halve it towards g (a convex combination, so h
    // stays ≥ 0); a few halvings only, for at the cost's rounding floor (f32 on a GPU) none will help
    for (let halvings = 0; !(next.rr <= at.rr) && halvings < 3; halvings++) {
      h = Float64Array.from(h, (v, d) => (v + g[d]) / 2);
      next = await evaluate(h);
    }
    if (!(next.rr <= at.rr)) {
      // no step along the Gauss–Newton direction lowers the cost: at the rounding floor of the cost
      // (f32 on a GPU) that is convergence; the caller sees it as 'stalled' and judges by the cost
      stopped = 'stalled';
      break;
    }
    [g, at] = [h, next];
    costs.push(at.rr);
    o.onProgress?.({ iteration, cost: at.rr });
  }
  const std = gaussNewtonStd(at.jj, at.rr, rows, D);
  const stdLog = Float64Array.from(std, (s, d) => (g[d] > 0 ? s / g[d] : NaN));
  return {
    parameters: [...o.parameters], values: g, cost: at.rr, costs, evaluations, stopped, converged: stopped === 'converged',
    atZero: Array.from(g, (v) => v === 0), gradient: Float64Array.from(at.jr, (v) => 2 * v), stdLog, identified: Array.from(stdLog, (s) => s < IDENTIFIED_BELOW),
    rows, engine, device, wallMs: performance.now() - started,
  };
}

/**
 * The least-squares result in the shape of a starts fit (one start, from g = 0; log-values, −∞ where
 * a conductance is held at 0), so that the recording job's free check, table and report take it as is.
 */
export function asRecordingFit(r: LeastSquaresFitResult): RecordingFitResult {
  const D = r.parameters.length;
  return {
    parameters: r.parameters,
    starts: [{
      initial: new Float64Array(D).fill(-Infinity), best: Float64Array.from(r.values, Math.log), bestCost: r.cost, costs: r.costs,
      evaluations: r.evaluations, stopped: r.stopped, stdLog: r.stdLog, identified: r.identified,
    }],
    rows: r.rows, evaluations: r.evaluations, engine: r.engine, device: r.device, wallMs: r.wallMs,
    ...(r.atZero.some(Boolean) ? { note: `non-negative least squares holds ${r.parameters.filter((_, d) => r.atZero[d]).join(', ')} at 0 (the data want it below 0)` } : {}),
  };
}
