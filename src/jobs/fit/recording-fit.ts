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
import { ConductanceGaussNewtonBatch } from './conductance-gauss-newton.ts';
import { LevenbergMarquardtBatch, solveSpd } from './levenberg-marquardt.ts';

/** A fitted log-conductance counts as identified when its Gauss–Newton standard deviation is below this (0.1: ±10 %). */
export const IDENTIFIED_BELOW = 0.1;

/**
 * The smallest noise (mV) the covariance assumes, however small the residuals: a noise-free recording
 * leaves rᵀr at rounding level, and σ²(JᵀJ)⁻¹ would then call identified a conductance the data
 * constrain only along a line (a silent cell's: every window holds the same current balance). 1 µV
 * is far below any amplifier's noise, and a conductance it leaves undetermined to 10 % is undetermined.
 */
export const NOISE_FLOOR_MV = 1e-3;

/** What every fit of a teacher-forced model runs on: the model, its recordings and the run. */
export interface ForcedRunOptions {
  /** the model as built (not yet forced) */
  model: Model;
  /** which states the recordings replace (teacherForce) */
  forcing: Readonly<Record<string, string | ForcingSpec>>;
  /** the recordings by name (and any current waveform the model reads) */
  recordings: Readonly<Record<string, Recording>>;
  /** fitted parameters (conductances) */
  parameters: readonly string[];
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
  /** a recording of the injected current (µA/cm²) among `recordings` */
  currentInput?: string;
  run?: RunOptions;
}

export interface RecordingFitOptions extends ForcedRunOptions {
  /** initial log-values: starts[i][d] */
  starts: readonly ArrayLike<number>[];
  residual?: ResidualForm;
  /**
   * the recordings' noise standard deviations by name (mV for V): the fit then minimises the squared
   * residuals less what that noise is expected to add (CompileOptions.recordingNoise), which removes
   * the shrinkage of the conductances that plain least squares on a noisy recording has
   */
  noise?: Readonly<Record<string, number>>;
  /** Levenberg–Marquardt iterations at most */
  iterations: number;
  /** λ at the first step (relative to diag JᵀJ) and the largest step per coordinate (log units) */
  damping?: number;
  maxStep?: number;
  /** a start stops when an accepted step improves its cost by less than this (relative) and moves no fitted log-value by more than `stepTolerance` */
  tolerance?: number;
  /** log units; default 1e-4 */
  stepTolerance?: number;
  /**
   * where the optimiser steps: `linear` (default) damped Gauss–Newton in the conductances, where the
   * equation error is nearly linear (conductance-gauss-newton.ts); `log` Levenberg–Marquardt in their logarithms
   */
  coordinates?: 'linear' | 'log';
  /** a start stops after this many rejected steps in a row (λ raised each time: 4^patience); default 4 */
  patience?: number;
  /** bounds of the log-coordinates (the optimiser projects onto them) */
  logLower?: ArrayLike<number>;
  logUpper?: ArrayLike<number>;
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
  /** with a noise level: where in `costs` the prediction-error polish begins (fitRecording) */
  polishedFrom?: number;
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

/**
 * Fits every start to the recording; returns each start's best point, cost history and identifiability.
 * With a noise level (`noise`) an equation-error fit is polished: from each start's result, the one-step
 * prediction error with the noise compensation (windows of one step) is minimised, and that result is
 * reported. Why: the equation error multiplies a sample's noise by c ≈ dt·G/C where the conductance G
 * is large (spikes), so noisy spike steps dominate its cost and its estimates scatter (gKCa by ±15 %
 * at 0.5 mV); the prediction error is the same residual divided by c, whose noise is nearly the same
 * at every step, i.e. the weighted least squares its noise calls for, and it is nearly linear only
 * close to the answer, which the first stage provides.
 */
export async function fitRecording(o: RecordingFitOptions): Promise<RecordingFitResult> {
  const first = await fitStage(o);
  const noisy = Object.values(o.noise ?? {}).some((v) => v > 0);
  if (!noisy || (o.residual ?? 'equation-error') !== 'equation-error') return first;
  const offset = Math.max(...first.starts.map((s) => s.costs.length));
  const second = await fitStage({
    ...o, starts: first.starts.map((s) => s.best), residual: 'prediction-error', windowMs: o.dtMs,
    onProgress: o.onProgress && ((p) => o.onProgress!({ ...p, iteration: p.iteration + offset })),
  });
  return {
    ...second,
    starts: second.starts.map((s, i) => ({ ...s, initial: first.starts[i].initial, costs: [...first.starts[i].costs, ...s.costs], evaluations: first.starts[i].evaluations + s.evaluations, polishedFrom: first.starts[i].costs.length })),
    evaluations: first.evaluations + second.evaluations,
    wallMs: first.wallMs + second.wallMs,
  };
}

/** Whether steps of dtMs fall on the samples of a recording taken every intervalMs (to rounding). */
export function oneStepPerSample(dtMs: number, intervalMs: number): boolean {
  return Math.abs(dtMs - intervalMs) <= 1e-9 * intervalMs;
}

/** One Levenberg–Marquardt fit of every start with one residual form. */
async function fitStage(o: RecordingFitOptions): Promise<RecordingFitResult> {
  const started = performance.now();
  const D = o.parameters.length, n = o.starts.length;
  if (!D) throw new InputError('a recording fit needs at least one fitted parameter');
  if (!n) throw new InputError('a recording fit needs at least one start');
  // the compensation assumes each step reads one independent sample (compile.ts, recordingNoise)
  for (const [name, sigma] of Object.entries(o.noise ?? {})) {
    const interval = o.recordings[name]?.intervalMs;
    if (sigma > 0 && interval !== undefined && !oneStepPerSample(o.dtMs, interval)) {
      throw new InputError(`noise.${name}: the noise compensation needs one step per sample (dtMs = the recording's ${interval} ms, got ${o.dtMs}); steps between samples read interpolated, correlated noise`);
    }
  }
  const forced = teacherForce(o.model, o.forcing);
  const program = compile(forced, {
    dtMs: o.dtMs, method: o.method, init: o.init, values: o.values, instanceParams: [...o.parameters],
    tangents: o.parameters.map((p) => `log:${p}`), residual: o.residual, currentInput: o.currentInput, recordingNoise: o.noise,
  });
  const x = o.starts.map((s) => Float64Array.from(s));
  const lm = (o.coordinates ?? 'linear') === 'linear'
    // the log of a conductance stepped through 0 needs a floor: a millionth of the smallest start unless bounded
    ? new ConductanceGaussNewtonBatch(n, D, o.damping ?? 1e-3,
      o.logLower ?? Array.from({ length: D }, (_, d) => Math.min(...x.map((xi) => xi[d])) - Math.log(1e6)), o.logUpper)
    : new LevenbergMarquardtBatch(n, D, { damping: o.damping ?? 1e-3, maxStep: o.maxStep ?? 1 }, o.logLower, o.logUpper);
  const starts: RecordingStart[] = x.map((xi) => ({
    initial: Float64Array.from(xi), best: Float64Array.from(xi), bestCost: Infinity, costs: [], evaluations: 0, stopped: 'iterations',
    stdLog: new Float64Array(D).fill(NaN), identified: new Array(D).fill(false),
  }));
  const bestJj = new Float64Array(n * D * D), bestRr = new Float64Array(n);
  const rejected = new Int32Array(n);
  const patience = o.patience ?? 4;
  let active = Array.from({ length: n }, (_, i) => i);
  let evaluations = 0, engine = '', device = '', note: string | undefined, rows = 0;
  const tolerance = o.tolerance ?? 1e-6, stepTolerance = o.stepTolerance ?? 1e-4;
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
      // with a noise level the cost is rᵀr less its expected noise part (an unbiased estimate of the
      // noise-free cost, so it can be negative); rᵀr itself still scales the tolerance and σ²
      const cost = ne.rr[k] - (ne.noise?.[k] ?? 0);
      s.costs.push(Number.isFinite(cost) ? cost : NaN);
      const jj = ne.jj.subarray(k * D * D, (k + 1) * D * D);
      const gradient = Float64Array.from({ length: D }, (_, d) => 2 * ne.jr[k * D + d] - (ne.jnoise?.[k * D + d] ?? 0));
      const finite = Number.isFinite(cost) && gradient.every(Number.isFinite) && jj.every(Number.isFinite);
      if (!finite && !Number.isFinite(s.bestCost)) {
        s.stopped = 'failed';
        return;
      }
      const improved = finite && cost < s.bestCost;
      const previous = s.bestCost;
      let moved = 0;
      for (let d = 0; d < D; d++) moved = Math.max(moved, Math.abs(x[i][d] - s.best[d]));
      if (improved) {
        s.bestCost = cost;
        s.best.set(x[i]);
        bestJj.set(jj, i * D * D);
        bestRr[i] = ne.rr[k];
      }
      // converged: an accepted step that barely lowered the cost and barely moved the point (a sloppy
      // conductance can still be far from the minimum when the cost has stopped falling)
      if (improved && Number.isFinite(previous) && previous - cost <= tolerance * ne.rr[k] && moved <= stepTolerance) {
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
    // every run has the same windows, so the same residual rows; a window's residual carries at least
    // 2σ² of the floor's noise (its two end samples: kernel-common.ts sums the same for the penalty)
    const floor = Math.max(NOISE_FLOOR_MV, ...Object.values(o.noise ?? {}));
    s.stdLog = gaussNewtonStd(bestJj.subarray(i * D * D, (i + 1) * D * D), Math.max(bestRr[i], 2 * floor * floor * Math.max(1, rows - D)), rows, D);
    s.identified = Array.from(s.stdLog, (v) => v < IDENTIFIED_BELOW);
  }
  return { parameters: [...o.parameters], starts, rows, evaluations, engine, device, note, wallMs: performance.now() - started };
}
