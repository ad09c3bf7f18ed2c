/**
 * `ionsweep fit` with `approach: teacher-forcing | prediction-error`: reads the recordings, fits every
 * start (recording-fit.ts), re-simulates every fit freely and says which reproduce the recording
 * (class, burst period and duty cycle against the data's), and flags the conductances the recording
 * does not identify.
 */
import { resolve, dirname } from 'node:path';
import { resolveModel } from '../../channels/index.ts';
import type { Column } from '../../analysis/features.ts';
import { traceActivity } from '../../analysis/trace-activity.ts';
import { DEFAULT_MAXIMA_HYSTERESIS_MV } from '../../compile/kernel-common.ts';
import type { Recording } from '../../engine/inputs.ts';
import type { RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { estimateNoiseStd } from '../../analysis/noise-level.ts';
import { readRecordingColumn } from '../../io/recording-file.ts';
import { checkParamValue, requireParam, type Model } from '../../model/model.ts';
import type { ForcingSpec } from '../../model/teacher-forcing.ts';
import { matchesBursting, type Activity } from './activity.ts';
import { freeActivity } from './free-check.ts';
import { boxPoint } from './random-search.ts';
import { fitRecording, oneStepPerSample, type RecordingFitResult } from './recording-fit.ts';
import { asRecordingFit, fitLeastSquares } from './least-squares-fit.ts';
import type { RecordingFitSpec } from './recording-spec.ts';

const CURRENT_INPUT = 'IRecordedUAPerCm2';

export interface RecordingJobResult {
  spec: RecordingFitSpec;
  fit: RecordingFitResult;
  /** the run actually fitted (the recording's length, trimmed to whole windows) */
  run: { dtMs: number; durationMs: number; burnInMs: number; windowMs: number };
  /**
   * dtMs not given: the lowest cost at one step per sample and, where it left more unexplained than
   * the noise does, at steps of FINE_STEP_MS through the interpolation; the step with the lower cost was kept
   */
  stepChoice?: { onSamplesCost: number; finerCost?: number; finerDtMs?: number; chosenDtMs: number };
  /** the data's activity (from `target` when given, else from the fitted recording itself); in a network, the fitted cell's */
  data: { source: 'target' | 'recording'; cell?: string; class: string; burstPeriodMs: number | null; dutyCycle: number | null };
  /** each start's free re-simulation (in a network: the whole network, classified for the fitted cell) */
  activity?: Activity;
  /** per start: its free re-simulation reproduces the data's class (and, bursting, period and duty cycle within check.tolerance), for every fitted cell */
  reproduces?: boolean[];
  /** the first recording fitted, for plots: samples and interval */
  recorded: { name: string; values: Float64Array; intervalMs: number };
  /** each fitted recording's noise standard deviation (mV), as data.noiseMv gives it or estimated from the recording; compensated: the fit subtracted its expected part of the cost and polished (recording-fit.ts) */
  noise: { mV: Record<string, number>; source: 'spec' | 'estimated'; compensated: boolean; uncompensatedBecause?: 'substeps' };
  note?: string;
}

/**
 * Below this noise (mV) a fit is not compensated: the shrinkage compensation removes grows as σ² (about
 * 3 % of each large conductance at 0.5 mV, so 0.03 % at 0.05 mV, below the f32 engine's resolution of the fit).
 */
export const NEGLIGIBLE_NOISE_MV = 0.05;

/**
 * The step a recording of a continuous cell is fitted at when one step per sample leaves it
 * unexplained (ms): an RK4 recording sampled every 0.05 or 0.1 ms, fitted at this step through the
 * cubic spline, gave the six large conductances of AB/PD 1 within 0.12 and 0.9 % (0.01 ms: 0.6 %, and
 * the rhythm 2.3 % off); README, "Recordings of real cells".
 */
export const FINE_STEP_MS = 0.005;

/**
 * One step per sample explains a recording that exponential Euler made at that step to rounding
 * (1e-8 mV² per window in f32), a continuous cell's sampled every 0.05 ms to 0.26 mV² per window, and
 * LP's inside a network (recorded at 0.0025 ms) to 0.0019, which already changed LP's duty cycle by
 * 14 %. Above (0.01 mV)² per window the finer step is tried too, plus 2.5 noise variances: an
 * uncompensated noise adds about 2σ² per window (the window's sum telescopes to its end samples), a
 * compensated one scatters far less.
 */
function unexplained(costPerWindow: number, noise: RecordingJobResult['noise']): boolean {
  const sigma = Math.max(0, ...Object.values(noise.mV));
  return costPerWindow > 0.01 ** 2 + 2.5 * sigma * sigma;
}

/** The noise of each fitted voltage recording: data.noiseMv, or each recording's own estimate. */
function noiseOf(spec: RecordingFitSpec, forcing: Readonly<Record<string, ForcingSpec>>, recordings: Readonly<Record<string, Recording>>, dtMs: number): RecordingJobResult['noise'] {
  const fitted = Object.entries(forcing).filter(([state, f]) => f.residual !== false && /(^|\.)V$/.test(state)).map(([state]) => state);
  const mV = Object.fromEntries(fitted.map((state) => [state, spec.data.noiseMv ?? estimateNoiseStd(recordings[state].values)]));
  // the compensation is derived for the exponential-Euler step reading one independent sample per step
  // (compile.ts, recordingNoise): steps between samples read interpolated, correlated noise
  const stepsOnSamples = oneStepPerSample(dtMs, spec.data.intervalMs);
  const noisy = Object.values(mV).some((v) => v >= NEGLIGIBLE_NOISE_MV);
  const compensated = spec.approach !== 'least-squares' && spec.method !== 'rk4' && stepsOnSamples && noisy;
  return { mV, source: spec.data.noiseMv === undefined ? 'estimated' : 'spec', compensated, ...(noisy && !stepsOnSamples ? { uncompensatedBecause: 'substeps' as const } : {}) };
}

/** Reads the recordings a spec names (paths relative to `baseDir`) and says which states they force. */
async function loadRecordings(spec: RecordingFitSpec, baseDir: string, stateNames: readonly string[]) {
  const path = (p: string) => resolve(baseDir, p);
  const recordings: Record<string, Recording> = {};
  const forcing: Record<string, ForcingSpec> = {};
  const cells = spec.data.cells ?? { V: { file: spec.data.file!, column: spec.data.column, fit: true } };
  for (const [state, cell] of Object.entries(cells)) {
    if (!stateNames.includes(state)) {
      throw new InputError(`fit spec: data${spec.data.cells ? `.cells.${state}` : '.file'}: the model has no state '${state}'${spec.data.cells ? '' : ' (a network: give data.cells, one recording per cell)'}; states: ${stateNames.filter((s) => /(^|\.)V$/.test(s)).join(', ')}`);
    }
    recordings[state] = { values: await readRecordingColumn(path(cell.file), cell.column), intervalMs: spec.data.intervalMs, interpolation: spec.data.interpolation };
    forcing[state] = { input: state, residual: cell.fit };
  }
  if (!Object.values(forcing).some((f) => f.residual !== false)) throw new InputError('fit spec: data.cells: at least one cell must have fit: true');
  if (spec.data.calcium) {
    if (!stateNames.includes('Ca')) throw new InputError(`fit spec: data.calcium: the model has no state 'Ca' (no calcium pool)`);
    const c = spec.data.calcium;
    // the recorded [Ca] drives the pool's readers (the KCa gate, E_Ca); its own equation is not a residual
    recordings.Ca = { values: await readRecordingColumn(path(c.file ?? spec.data.file!), c.column), intervalMs: spec.data.intervalMs, interpolation: spec.data.interpolation };
    forcing.Ca = { input: 'Ca', residual: false };
  }
  if (spec.data.current) {
    const c = spec.data.current;
    recordings[CURRENT_INPUT] = { values: await readRecordingColumn(path(c.file), c.column), intervalMs: c.intervalMs ?? spec.data.intervalMs };
  }
  return { recordings, forcing };
}

/** The lowest finite best cost over the starts (Infinity if none). */
function lowestCost(fit: RecordingFitResult): number {
  return Math.min(Infinity, ...fit.starts.map((s) => s.bestCost).filter(Number.isFinite));
}

/** Progress of a recording fit: iterations of the fit at step `dtMs` (a fit that moves to a finer step starts a second count). */
export interface RecordingFitProgress {
  iteration: number;
  iterations: number;
  active: number;
  fraction: number;
  bestCost: number;
  /** the step of the fit in progress (ms) */
  dtMs: number;
}

/** One fit of every start (or the closed form) at step dtMs: the run trimmed to whole windows after the burn-in. */
async function fitRecordingAt(
  spec: RecordingFitSpec, model: Model, names: string[], values: Record<string, number>, run: RunOptions,
  recordings: Record<string, Recording>, forcing: Record<string, ForcingSpec>, dtMs: number,
  onProgress?: (p: RecordingFitProgress) => void,
) {
  const windowMs = spec.windowMs ?? (spec.approach === 'prediction-error' ? dtMs : 1);
  const windowSteps = Math.round(windowMs / dtMs);
  if (windowSteps < 1 || Math.abs(windowSteps * dtMs - windowMs) > 1e-6 * windowMs) throw new InputError(`fit spec: windowMs (${windowMs}) must be a whole number of steps of dtMs = ${dtMs}`);
  // the shortest recording sets the run; the cost interval is trimmed to whole windows
  const coveredMs = Math.min(...Object.values(recordings).map((r) => (r.values.length - 1) * r.intervalMs));
  const wantedMs = spec.durationMs ?? coveredMs;
  if (wantedMs > coveredMs * (1 + 1e-9)) throw new InputError(`fit spec: durationMs (${wantedMs} ms) is longer than the recordings (${coveredMs} ms)`);
  const burnInSteps = Math.round(spec.burnInMs / dtMs);
  const costSteps = Math.floor((Math.floor(wantedMs / dtMs + 1e-9) - burnInSteps) / windowSteps) * windowSteps;
  if (costSteps < windowSteps) throw new InputError(`fit spec: the recording (${coveredMs} ms) leaves no whole ${windowMs} ms window after burnInMs = ${spec.burnInMs} ms`);
  const durationMs = (burnInSteps + costSteps) * dtMs, burnInMs = burnInSteps * dtMs;

  const noise = noiseOf(spec, forcing, recordings, dtMs);
  // teacher forcing and prediction error: every start fitted by Levenberg–Marquardt
  const startsFit = () => {
    const box = { logLow: Float64Array.from(names, (p) => Math.log(spec.parameters[p][0])), logHigh: Float64Array.from(names, (p) => Math.log(spec.parameters[p][1])), seed: spec.seed };
    const starts = Array.from({ length: spec.starts }, (_, i) => Float64Array.from(names, (_p, d) => boxPoint(box, i, d)));
    return fitRecording({
      model, forcing, recordings, parameters: names, starts, values, method: spec.method, dtMs, init: spec.init,
      durationMs, discardMs: burnInMs, windowMs, residual: spec.approach === 'prediction-error' ? 'prediction-error' : 'equation-error',
      currentInput: spec.data.current ? CURRENT_INPUT : undefined, iterations: spec.iterations, run,
      noise: noise.compensated ? noise.mV : undefined,
      // the optimiser may leave the starting box, but not the parameter's allowed range (log of it where > 0)
      logLower: Float64Array.from(names, (p) => Math.log(Math.max(requireParam(model, p).min ?? 0, spec.parameters[p][0] * 1e-3))),
      logUpper: Float64Array.from(names, (p) => Math.log(Math.min(requireParam(model, p).max ?? Infinity, spec.parameters[p][1] * 1e3))),
      onProgress: (p) => onProgress?.({ ...p, iterations: spec.iterations, dtMs }),
    });
  };
  // least-squares: one non-negative least-squares solve, reported as a single start
  const fit = spec.approach === 'least-squares'
    ? asRecordingFit(await fitLeastSquares({
      model, forcing, recordings, parameters: names, values, method: spec.method, dtMs, init: spec.init, durationMs, discardMs: burnInMs, windowMs,
      currentInput: spec.data.current ? CURRENT_INPUT : undefined, iterations: spec.iterations, run,
      onProgress: (p) => onProgress?.({ iteration: p.iteration, iterations: spec.iterations, active: 1, fraction: 1, bestCost: p.cost, dtMs }),
    }))
    : await startsFit();

  return { fit, dtMs, durationMs, burnInMs, windowMs, noise };
}

/** Runs a recording fit from a parsed spec; `specDir` resolves the data's relative paths. */
export async function runRecordingFitJob(
  spec: RecordingFitSpec, specDir: string,
  options: { run?: RunOptions; onProgress?: (p: RecordingFitProgress) => void } = {},
): Promise<RecordingJobResult> {
  const model = resolveModel(spec.model, 'fit spec: model: ');
  const names = Object.keys(spec.parameters);
  for (const name of names) {
    const def = requireParam(model, name);
    spec.parameters[name].forEach((value, end) => {
      const problem = checkParamValue(name, def, value);
      if (problem) throw new InputError(`fit spec: parameters.${name}[${end}]: ${problem}`);
    });
  }
  for (const [name, value] of Object.entries({ ...spec.fixed, ...spec.target })) {
    const problem = checkParamValue(name, requireParam(model, name), value);
    if (problem) throw new InputError(`fit spec: ${name}: ${problem}`);
  }
  const { recordings, forcing } = await loadRecordings(spec, specDir, model.states.map((s) => s.name));
  const values = { ...spec.fixed };
  const run: RunOptions = { engine: spec.engine, gpuMath: spec.gpuMath, ...options.run };
  const fitAt = (dtMs: number) => fitRecordingAt(spec, model, names, values, run, recordings, forcing, dtMs, options.onProgress);
  let chosen = await fitAt(spec.dtMs ?? spec.data.intervalMs);
  let stepChoice: RecordingJobResult['stepChoice'];
  // with no step given, a recording one step per sample leaves unexplained may be of a continuous
  // cell: fit it at the fine step too, and keep the step whose model explains the recording better
  // (both costs are sums of squared membrane residuals in mV per window, whatever the step)
  if (spec.dtMs === undefined && spec.approach === 'teacher-forcing' && spec.method === 'exp-euler') {
    const onSamplesCost = lowestCost(chosen.fit);
    const windows = (chosen.durationMs - chosen.burnInMs) / chosen.windowMs;
    const substeps = Math.round(spec.data.intervalMs / FINE_STEP_MS);
    const finerDtMs = spec.data.intervalMs / substeps;
    if (substeps >= 2 && unexplained(onSamplesCost / windows, chosen.noise)) {
      const finer = await fitAt(finerDtMs);
      const finerCost = lowestCost(finer.fit);
      if (finerCost < onSamplesCost) chosen = finer;
      stepChoice = { onSamplesCost, finerCost, finerDtMs, chosenDtMs: chosen.dtMs };
    } else {
      stepChoice = { onSamplesCost, chosenDtMs: chosen.dtMs };
    }
  }
  const { fit, dtMs, durationMs, burnInMs, windowMs, noise } = chosen;

  const fitted = Object.entries(forcing).find(([, f]) => f.residual !== false)![0];
  const recorded = { name: fitted, values: Float64Array.from(recordings[fitted].values), intervalMs: recordings[fitted].intervalMs };
  // the cells whose voltage residuals were fitted: V of a single cell, or each `cell.V` of a network
  // (the whole network then runs freely, and each fitted cell's own activity is judged)
  const fittedStates = Object.entries(forcing).filter(([state, f]) => f.residual !== false && /(^|\.)V$/.test(state)).map(([state]) => state);
  const cells = fittedStates.map((state) => (state === 'V' ? undefined : state.slice(0, -'.V'.length)));
  const checkOptions = { model, parameters: names, values, method: spec.method, dtMs, init: spec.init, durationMs: spec.check.durationMs, discardMs: spec.check.discardMs, run };
  if (spec.target && names.some((p) => spec.target![p] === undefined)) throw new InputError(`fit spec: target must give every fitted parameter (${names.join(', ')})`);
  const dataOf = async (state: string, cell: string | undefined): Promise<RecordingJobResult['data']> => {
    if (spec.target) {
      const a = await freeActivity({ ...checkOptions, values: { ...values, ...spec.target }, cell }, [Float64Array.from(names, (p) => Math.log(spec.target![p]))]);
      return { source: 'target', ...(cell ? { cell } : {}), class: a.class[0], burstPeriodMs: a.burstPeriodMs[0], dutyCycle: a.dutyCycle[0] };
    }
    const hysteresis = Math.max(DEFAULT_MAXIMA_HYSTERESIS_MV, 4 * (noise.mV[state] ?? spec.data.noiseMv ?? 0));
    const a = traceActivity(recordings[state].values, recordings[state].intervalMs, burnInMs, hysteresis);
    return { source: 'recording', ...(cell ? { cell } : {}), class: a.class, burstPeriodMs: a.burstPeriodMs, dutyCycle: a.dutyCycle };
  };
  const reproduces = fit.starts.map((s) => Number.isFinite(s.bestCost));
  let first: { data: RecordingJobResult['data']; activity: Activity } | undefined;
  for (const [k, state] of fittedStates.entries()) {
    const data = await dataOf(state, cells[k]);
    const activity = await freeActivity({ ...checkOptions, cell: cells[k] }, fit.starts.map((s) => s.best));
    fit.starts.forEach((_, i) => {
      const same = activity.class[i] === data.class
        && (data.class !== 'bursting' || matchesBursting(activity, i, { burstPeriodMs: data.burstPeriodMs!, dutyCycle: data.dutyCycle! }, spec.check.tolerance));
      reproduces[i] &&= same;
    });
    first ??= { data, activity };
  }
  // the fit's own note (least squares: which conductances the constraint holds at 0) and the check's
  const note = [spec.approach === 'least-squares' ? fit.note : undefined, fittedStates.length > 1 ? `the table's class, period and duty cycle are ${cells[0]}'s; reproduces requires every fitted cell (${cells.join(', ')})` : undefined]
    .filter(Boolean).join('; ') || undefined;
  return { spec, fit, run: { dtMs, durationMs, burnInMs, windowMs }, ...(stepChoice ? { stepChoice } : {}), data: first!.data, activity: first!.activity, reproduces, recorded, noise, ...(note ? { note } : {}) };
}

/** One row per start: cost, stop reason, fitted values with their standard deviations and identification, the free check. */
export function recordingFitColumns(r: RecordingJobResult): Column[] {
  const { fit } = r;
  const n = fit.starts.length;
  const col = (name: string, data: Column['data']): Column => {
    const type = data instanceof Float64Array ? 'DOUBLE' : data instanceof Int32Array ? 'INT32' : typeof data[0] === 'boolean' ? 'BOOLEAN' : typeof data[0] === 'string' ? 'STRING' : 'DOUBLE';
    return { name, type, data };
  };
  const columns: Column[] = [
    col('start', Int32Array.from({ length: n }, (_, i) => i)),
    col('cost', Float64Array.from(fit.starts, (s) => s.bestCost)),
    col('stopped', fit.starts.map((s) => s.stopped)),
    col('evaluations', Int32Array.from(fit.starts, (s) => s.evaluations)),
  ];
  fit.parameters.forEach((p, d) => {
    columns.push(col(p, Float64Array.from(fit.starts, (s) => Math.exp(s.best[d]))));
    columns.push(col(`${p}_stdLog`, Float64Array.from(fit.starts, (s) => s.stdLog[d])));
    columns.push(col(`${p}_identified`, fit.starts.map((s) => s.identified[d])));
    columns.push(col(`${p}_initial`, Float64Array.from(fit.starts, (s) => Math.exp(s.initial[d]))));
  });
  if (r.activity && r.reproduces) {
    columns.push(col('class', r.activity.class));
    columns.push(col('burstPeriodMs', r.activity.burstPeriodMs.map((v) => v ?? NaN)));
    columns.push(col('dutyCycle', r.activity.dutyCycle.map((v) => v ?? NaN)));
    columns.push(col('reproduces', r.reproduces));
  }
  return columns;
}

/** Directory of a spec file (data paths are relative to it). */
export const specDirOf = (specPath: string) => dirname(resolve(specPath));
