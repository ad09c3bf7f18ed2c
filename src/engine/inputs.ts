/**
 * Recordings inside the step: the series a model reads with `input('name')` (a recorded voltage for
 * teacher forcing, a current waveform), and the windows over which teacher forcing's residuals are
 * summed into normal equations. The host resamples every recording onto the run's step grid once,
 * so a kernel reads sample n at step n whatever the recording's own interval.
 */
import { InputError } from '../errors.ts';
import { checkMemory } from '../limits.ts';
import type { StepProgram } from '../compile/program.ts';
import type { RunPlan } from './plan.ts';
import { own } from '../model/names.ts';
import { splineAt, splineCurvatures } from './cubic-spline.ts';

export const INTERPOLATIONS = ['linear', 'hold', 'cubic'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

/** One recorded series. */
export interface Recording {
  /** the samples; per instance: N rows of equal length, row-major */
  values: ArrayLike<number>;
  /** sampling interval (ms): sample k was taken at k·intervalMs */
  intervalMs: number;
  /** one series per instance instead of one shared by all */
  perInstance?: boolean;
  /** between samples: straight lines (default), the last sample held, or a natural cubic spline (cubic-spline.ts) */
  interpolation?: Interpolation;
}

/** How the recordings lie in the inputs buffer: input k's rows (1, or n per instance) of `stride` samples each, one after another. */
export interface InputLayout {
  /** samples per row: the steps of the run plus two (the sample after the last step, and one more for what is evaluated after it) */
  stride: number;
  perInstance: boolean[];
}

/** The windows over which residuals are summed (teacher forcing): `steps` long, the first starting at `startStep`. */
export interface NormalWindows {
  steps: number;
  startStep: number;
}

/** The layout a kernel of `program` expects (no inputs: an empty layout). */
export function checkInputLayout(program: StepProgram, layout: InputLayout | undefined): InputLayout {
  if (!program.inputs.length) return { stride: 0, perInstance: [] };
  if (!layout || layout.perInstance.length !== program.inputs.length) {
    throw new InputError(`the model reads recordings ${program.inputs.join(', ')}: give each as an input (EnsembleSpec.inputs)`);
  }
  return layout;
}

/** Checks the recordings a program reads against the run; returns their layout. */
export function inputLayoutOf(program: StepProgram, recordings: Readonly<Record<string, Recording>> | undefined, plan: RunPlan, N: number): InputLayout {
  const given = recordings ?? {};
  for (const name of Object.keys(given)) {
    if (!program.inputs.includes(name)) {
      throw new InputError(`input '${name}' is not read by the model; it reads: ${program.inputs.join(', ') || '(no recordings)'}`);
    }
  }
  const stride = plan.totalSteps + 2;
  const perInstance = program.inputs.map((name) => {
    const r = own(given, name);
    if (!r) throw new InputError(`the model reads the recording '${name}', but no input of that name was given`);
    if (!(Number.isFinite(r.intervalMs) && r.intervalMs > 0)) throw new InputError(`input '${name}': intervalMs must be a finite number > 0 (ms), got ${r.intervalMs}`);
    if (r.interpolation !== undefined && !INTERPOLATIONS.includes(r.interpolation)) {
      throw new InputError(`input '${name}': interpolation must be one of ${INTERPOLATIONS.join(', ')}, got ${JSON.stringify(r.interpolation)}`);
    }
    const rows = r.perInstance ? N : 1;
    if (r.values.length % rows !== 0 || r.values.length === 0) {
      throw new InputError(`input '${name}': ${r.values.length} values${r.perInstance ? ` cannot be ${N} rows (one per instance) of equal length` : ''}`);
    }
    const samples = r.values.length / rows;
    const coveredMs = (samples - 1) * r.intervalMs;
    const runMs = plan.totalSteps * plan.dtMs;
    if (coveredMs < runMs * (1 - 1e-9) - 1e-9) {
      throw new InputError(`input '${name}' covers ${coveredMs} ms (${samples} samples at ${r.intervalMs} ms) but the run lasts ${runMs} ms; record longer or shorten durationMs`);
    }
    for (let k = 0; k < r.values.length; k++) {
      if (!Number.isFinite(r.values[k])) throw new InputError(`input '${name}': value ${k} is not a finite number (${r.values[k]})`);
    }
    return Boolean(r.perInstance);
  });
  const floats = perInstance.reduce((sum, per) => sum + (per ? N : 1) * stride, 0);
  checkMemory(`the recordings resampled to ${plan.totalSteps} steps`, floats * 8, 'shorten the run, or share a recording between instances instead of giving one per instance');
  return { stride, perInstance };
}

/** Writes one row of a recording, resampled to the step grid, into out[offset …]. */
function resampleRow(values: ArrayLike<number>, first: number, samples: number, r: Recording, plan: RunPlan, stride: number, out: Float32Array | Float64Array, offset: number): void {
  const hold = r.interpolation === 'hold';
  const curvatures = r.interpolation === 'cubic' ? splineCurvatures(values, first, samples) : undefined;
  for (let s = 0; s < stride; s++) {
    // position in recording samples, clamped to the last (the two samples past the run's end)
    const position = Math.min((s * plan.dtMs) / r.intervalMs, samples - 1);
    // a step that falls on a sample up to rounding reads that sample exactly
    const nearest = Math.round(position);
    const at = Math.abs(position - nearest) < 1e-9 ? nearest : position;
    const k = Math.floor(at);
    const frac = at - k;
    const a = values[first + k];
    if (frac === 0 || hold) out[offset + s] = a;
    else if (curvatures) out[offset + s] = splineAt(values, first, curvatures, k, frac);
    else out[offset + s] = a + frac * (values[first + Math.min(k + 1, samples - 1)] - a);
  }
}

/**
 * The inputs buffer of instances [start, start + n): every recording resampled to the step grid,
 * in program.inputs order (see InputLayout).
 */
export function packInputs(
  program: StepProgram, recordings: Readonly<Record<string, Recording>> | undefined, layout: InputLayout, plan: RunPlan,
  N: number, start: number, n: number, make: (length: number) => Float32Array | Float64Array,
): Float32Array | Float64Array {
  const { stride } = layout;
  const total = layout.perInstance.reduce((sum, per) => sum + (per ? n : 1) * stride, 0);
  const out = make(total);
  let offset = 0;
  program.inputs.forEach((name, k) => {
    const r = own(recordings ?? {}, name)!;
    const rows = layout.perInstance[k] ? N : 1;
    const samples = r.values.length / rows;
    const local = layout.perInstance[k] ? n : 1;
    for (let row = 0; row < local; row++) {
      const source = layout.perInstance[k] ? start + row : 0;
      resampleRow(r.values, source * samples, samples, r, plan, stride, out, offset);
      offset += stride;
    }
  });
  return out;
}

/** The windows of a run's normal equations: `windowMs` long from the end of the discard, which must be a whole number of them. */
export function normalWindowsOf(program: StepProgram, windowMs: number | undefined, plan: RunPlan): NormalWindows {
  if (!program.residuals.length) {
    if (windowMs !== undefined) throw new InputError('windowMs applies to teacher-forced models only (teacherForce): this model has no residuals');
    return { steps: 1, startStep: 0 };
  }
  const ms = windowMs ?? plan.dtMs;
  const steps = Math.round(ms / plan.dtMs);
  if (!(Number.isFinite(ms) && ms > 0) || steps < 1 || Math.abs(steps * plan.dtMs - ms) > 1e-6 * ms) {
    throw new InputError(`windowMs must be a whole number ≥ 1 of steps of dt = ${plan.dtMs} ms, got ${windowMs}`);
  }
  const costSteps = plan.totalSteps - plan.discardSteps;
  if (costSteps % steps !== 0) {
    throw new InputError(`the cost interval (durationMs − discardMs = ${costSteps * plan.dtMs} ms) must be a whole number of windows of ${ms} ms`);
  }
  return { steps, startStep: plan.discardSteps };
}

/** An instance's normal equations, from the windowed residuals of a teacher-forced run. */
export interface NormalEquations {
  /** windows summed (residual rows per instance: windows × residual states) */
  rows: number;
  lanes: number;
  /** per instance: rᵀr */
  rr: Float64Array;
  /** per instance: Jᵀr, [i][lane] */
  jr: Float64Array;
  /** per instance: JᵀJ, [i][lane][lane], both triangles */
  jj: Float64Array;
  /**
   * with CompileOptions.recordingNoise: per instance, the part of rᵀr the recording's noise is expected
   * to contribute at these parameters, and its tangents [i][lane] (subtract both for an unbiased cost)
   */
  noise?: Float64Array;
  jnoise?: Float64Array;
}
