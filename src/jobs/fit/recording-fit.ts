/**
 * Fitting conductances to a recording by teacher forcing (model/teacher-forcing.ts): every start's
 * forced model runs over the recording with one tangent lane per fitted log-conductance, and the
 * engines return each instance's normal equations (rᵀr, Jᵀr, JᵀJ of its windowed residuals), so no
 * residual trace leaves the GPU. Levenberg–Marquardt then steps every start from those (the same
 * damped Gauss–Newton step as the simulation-cost fit: levenberg-marquardt.ts). Because the gates
 * are driven by the data, the residual is nearly linear in the conductances and the cost has one
 * minimum where the simulation cost has many.
 *
 * At each start's best point the Gauss–Newton covariance σ²(JᵀJ)⁻¹ (σ² = rᵀr/(rows − D)) gives the
 * standard deviation of every fitted log-conductance: where it exceeds IDENTIFIED_BELOW the recording
 * does not determine that conductance, and the report says so instead of printing it as known.
 */
import { compile } from '../../compile/compile.ts';
import type { Method, ResidualForm } from '../../compile/program.ts';
import type { Recording } from '../../engine/inputs.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import type { InitKind, Model } from '../../model/model.ts';
import { teacherForce, type ForcingSpec } from '../../model/teacher-forcing.ts';
import { LevenbergMarquardtBatch, solveSpd } from './levenberg-marquardt.ts';

/** A fitted log-conductance counts as identified when its Gauss–Newton standard deviation is below this (0.1: ±10 %). */
export const IDENTIFIED_BELOW = 0.1;

export interface RecordingFitOptions {
  /** the model as built (not yet forced) */
  model: Model;
  /** which states the recordings replace (teacherForce) */
  forcing: Readonly<Record<string, string | ForcingSpec>>;
  /** the recordings by name (and any current waveform the model reads) */
  recordings: Readonly<Record<string, Recording>>;
  /** fitted parameters (conductances), fitted as logarithms */
  parameters: readonly string[];
  /** initial log-values: starts[i][d] */
  starts: readonly ArrayLike<number>[];
  /** fixed parameter values other than the model's defaults */
  values?: Record<string, number>;
  method?: Method;
  dtMs: number;
  init?: InitKind;
  /** the run from the recording's start (ms) */
  durationMs: number;
  /** burn-in before the cost window (ms): the unobserved states forget their initial values */
  discardMs: number;
  /** residuals are summed over windows this long before they are squared (ms) */
  windowMs: number;
  residual?: ResidualForm;
  /** a recording of the injected current (µA/cm²) among `recordings` */
  currentInput?: string;
  /** Levenberg–Marquardt iterations at most */
  iterations: number;
  /** λ at the first step (relative to diag JᵀJ) and the largest step per coordinate (log units) */
  damping?: number;
  maxStep?: number;
  /** a start stops when an accepted step improves its cost by less than this (relative) */
  tolerance?: number;
  /** a start stops after this many rejected steps in a row (λ raised each time: 4^patience); default 4 */
  patience?: number;
  /** bounds of the log-coordinates (the optimiser projects onto them) */
  logLower?: ArrayLike<number>;
  logUpper?: ArrayLike<number>;
  run?: RunOptions;
  onProgress?: (p: { iteration: number; active: number; fraction: number; bestCost: number }) => void;
}

export interface RecordingStart {
  initial: Float64Array;
  /** log-values at the lowest cost */
  best: Float64Array;
  bestCost: number;
  costs: number[];
  /** runs of the forced model this start took */
  evaluations: number;
  /** converged: a step improved the cost by less than the tolerance; stalled: `patience` steps in a row did not improve it (at the rounding floor of the cost, or stuck) */
  stopped: 'converged' | 'stalled' | 'iterations' | 'failed';
  /** Gauss–Newton standard deviation of each fitted log-value at the best point (NaN where JᵀJ is singular) */
  stdLog: Float64Array;
  /** per fitted parameter: stdLog < IDENTIFIED_BELOW */
  identified: boolean[];
}

export interface RecordingFitResult {
  parameters: string[];
  starts: RecordingStart[];
  /** residual rows per start (windows × fitted residuals) */
  rows: number;
  evaluations: number;
  engine: string;
  device: string;
  note?: string;
  wallMs: number;
}

/** Gauss–Newton standard deviations sqrt(diag(σ²(JᵀJ)⁻¹)), σ² = rᵀr/(rows − D). */
export function gaussNewtonStd(jj: ArrayLike<number>, rr: number, rows: number, D: number): Float64Array {
  const sigma2 = rr / Math.max(1, rows - D);
  const out = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    const M = Float64Array.from(jj as ArrayLike<number>);
    const e = new Float64Array(D);
    e[d] = 1;
    out[d] = solveSpd(M, e, D) ? Math.sqrt(Math.max(0, sigma2 * e[d])) : NaN;
  }
  return out;
}

/** Fits every start to the recording; returns each start's best point, cost history and identifiability. */
export async function fitRecording(o: RecordingFitOptions): Promise<RecordingFitResult> {
  const started = performance.now();
  const D = o.parameters.length, n = o.starts.length;
  if (!D) throw new InputError('a recording fit needs at least one fitted parameter');
  if (!n) throw new InputError('a recording fit needs at least one start');
  const forced = teacherForce(o.model, o.forcing);
  const program = compile(forced, {
    dtMs: o.dtMs, method: o.method, init: o.init, values: o.values, instanceParams: [...o.parameters],
    tangents: o.parameters.map((p) => `log:${p}`), residual: o.residual, currentInput: o.currentInput,
  });
  const lm = new LevenbergMarquardtBatch(n, D, { damping: o.damping ?? 1e-3, maxStep: o.maxStep ?? 1 }, o.logLower, o.logUpper);
  const x = o.starts.map((s) => Float64Array.from(s));
  const starts: RecordingStart[] = x.map((xi) => ({
    initial: Float64Array.from(xi), best: Float64Array.from(xi), bestCost: Infinity, costs: [], evaluations: 0, stopped: 'iterations',
    stdLog: new Float64Array(D).fill(NaN), identified: new Array(D).fill(false),
  }));
  const bestJj = new Float64Array(n * D * D);
  const rejected = new Int32Array(n);
  const patience = o.patience ?? 4;
  let active = Array.from({ length: n }, (_, i) => i);
  let evaluations = 0, engine = '', device = '', note: string | undefined, rows = 0;
  const tolerance = o.tolerance ?? 1e-6;
  for (let iteration = 0; iteration < o.iterations && active.length; iteration++) {
    const params = Object.fromEntries(o.parameters.map((p, d) => [p, Float64Array.from(active, (i) => Math.exp(x[i][d]))]));
    const bestCost = starts.reduce((m, s) => Math.min(m, s.bestCost), Infinity);
    const { result, note: runNote } = await runEnsemble({
      program, N: active.length, params, durationMs: o.durationMs, discardMs: o.discardMs, inputs: { ...o.recordings }, windowMs: o.windowMs,
      onProgress: (fraction) => o.onProgress?.({ iteration, active: active.length, fraction, bestCost }),
    }, o.run);
    [engine, device, note] = [result.engine, result.device, runNote];
    const ne = result.normal!;
    rows = ne.rows;
    evaluations += active.length;
    const still: number[] = [];
    active.forEach((i, k) => {
      const s = starts[i];
      s.evaluations++;
      const cost = ne.rr[k];
      s.costs.push(Number.isFinite(cost) ? cost : NaN);
      const jj = ne.jj.subarray(k * D * D, (k + 1) * D * D);
      const gradient = Float64Array.from({ length: D }, (_, d) => 2 * ne.jr[k * D + d]);
      const finite = Number.isFinite(cost) && gradient.every(Number.isFinite) && jj.every(Number.isFinite);
      if (!finite && !Number.isFinite(s.bestCost)) {
        s.stopped = 'failed';
        return;
      }
      const improved = finite && cost < s.bestCost;
      const previous = s.bestCost;
      if (improved) {
        s.bestCost = cost;
        s.best.set(x[i]);
        bestJj.set(jj, i * D * D);
      }
      // converged: an accepted step that barely lowered the cost, or the cost at the rounding floor
      if (improved && Number.isFinite(previous) && previous - cost <= tolerance * previous) {
        s.stopped = 'converged';
        return;
      }
      rejected[i] = improved ? 0 : rejected[i] + 1;
      if (rejected[i] >= patience) {
        s.stopped = 'stalled';
        return;
      }
      lm.next(i, x[i], s.best, improved, gradient, jj);
      still.push(i);
    });
    active = still;
    o.onProgress?.({ iteration, active: active.length, fraction: 1, bestCost: starts.reduce((m, s) => Math.min(m, s.bestCost), Infinity) });
  }
  for (let i = 0; i < n; i++) {
    const s = starts[i];
    if (!Number.isFinite(s.bestCost)) continue;
    // every run has the same windows, so the same residual rows
    s.stdLog = gaussNewtonStd(bestJj.subarray(i * D * D, (i + 1) * D * D), s.bestCost, rows, D);
    s.identified = Array.from(s.stdLog, (v) => v < IDENTIFIED_BELOW);
  }
  return { parameters: [...o.parameters], starts, rows, evaluations, engine, device, note, wallMs: performance.now() - started };
}
