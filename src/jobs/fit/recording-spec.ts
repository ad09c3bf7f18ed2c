/**
 * The spec of a fit to recorded data (`approach: teacher-forcing`, `prediction-error` or `least-squares`):
 *
 *     approach: teacher-forcing      # equation error over windows; prediction-error: one-step prediction error;
 *                                    # least-squares: the closed form where [Ca] is recorded too (no starts)
 *     model: prinz
 *     data:
 *       file: abpd1.npy              # NPY or CSV; the run starts at the first sample
 *       intervalMs: 0.05             # sampling interval
 *       interpolation: cubic         # V between samples when dtMs is finer (cubic, linear, hold)
 *       column: V                    # CSV header or NPY sidecar name (or index); default: the only column, or V
 *       noiseMv: 0.5                 # measurement noise sd if known (else estimated from the recording): its expected
 *                                    # part of the cost is subtracted (no shrinkage) and the fit polished; also the
 *                                    # maxima detector's hysteresis for the recording's own activity
 *       current: { file: i.csv, intervalMs: 0.05, column: I }   # injected current (µA/cm²), if any
 *       calcium: { column: CaUM }    # [Ca] (µM) recorded too, same interval (file: default data.file): drives the pool
 *       # networks: one recording per cell, the fitted ones and those that only drive synapses
 *       # cells: { LP.V: { file: lp.npy }, AB.V: { file: ab.npy, fit: false } }
 *     parameters: { gNa: [200, 800], ... }   # fitted (as logarithms); starts log-uniform in these boxes
 *     dtMs: 0.005                    # the step; default: intervalMs (exact for a recording made by exponential
 *                                    # Euler at that step), or 0.005 ms where that explains the recording better
 *                                    # (a real cell, an accurate integrator; not noise-compensated): recording-job.ts
 *
 * The run lasts as long as the recording unless durationMs says less; the first burnInMs are not in
 * the cost (the unobserved states forget the initial condition there).
 */
import { z } from 'zod';
import { InputError } from '../../errors.ts';
import { METHODS } from '../../compile/program.ts';
import { GPU_MATH } from '../../compile/emit-wgsl.ts';
import { ENGINE_CHOICES } from '../../engine/run.ts';
import { INTERPOLATIONS } from '../../engine/inputs.ts';
import { describeIssue, finite, got, modelSchema, namedRecord, nonNegative, oneOf, positive } from '../schema.ts';
import { box, int } from './spec.ts';

const fileSchema = {
  file: z.string({ error: 'must be the path of an NPY or CSV file' }).min(1, { error: 'must be the path of an NPY or CSV file' }),
  column: z.union([z.string(), int(0, 1_000_000)], { error: 'must be a column name or index' }).optional(),
};

/**
 * The approaches that fit to a recording (the other: `simulation`, the cost-based fit of spec.ts).
 * least-squares needs every state the conductances act through recorded ([Ca] too) and ignores the
 * boxes, starts and seed: it is one non-negative least-squares solve (least-squares-fit.ts).
 */
export const RECORDING_APPROACHES = ['teacher-forcing', 'prediction-error', 'least-squares'] as const;

export const recordingFitSpecSchema = z.object({
  approach: oneOf(RECORDING_APPROACHES),
  model: modelSchema(),
  /** the integrator (the approach is the cost) */
  method: oneOf(METHODS).default('exp-euler'),
  /** default: the recording's sampling interval, or FINE_STEP_MS where that explains the recording better (recording-job.ts) */
  dtMs: positive('ms').optional(),
  init: oneOf(['steady', 'cold'] as const).default('cold'),
  fixed: namedRecord(finite()).default({}),
  data: z.object({
    ...fileSchema,
    file: fileSchema.file.optional(),
    intervalMs: positive('ms'),
    noiseMv: nonNegative('mV').optional(),
    /** between samples, where dtMs is finer than intervalMs: V (and [Ca]) by a natural cubic spline, straight lines, or held */
    interpolation: oneOf(INTERPOLATIONS).default('cubic'),
    current: z.object({ ...fileSchema, intervalMs: positive('ms').optional() }).strict().optional(),
    /** the recorded [Ca] (µM) of a single cell, sampled at intervalMs; file defaults to data.file */
    calcium: z.object({ ...fileSchema, file: fileSchema.file.optional() }).strict().optional(),
    cells: namedRecord(z.object({ ...fileSchema, fit: z.boolean({ error: 'must be true or false' }).default(true) }).strict()).optional(),
  }).strict(),
  /** default: the whole recording */
  durationMs: positive('ms').optional(),
  burnInMs: nonNegative('ms').default(1000),
  /** teacher forcing sums residuals over windows this long (ms); default 1 ms, and one step for prediction-error */
  windowMs: positive('ms').optional(),
  parameters: namedRecord(box).refine((p) => Object.keys(p).length > 0, { error: 'needs at least one parameter' }),
  starts: int(1, 100_000).default(100),
  seed: int(0, 2 ** 31 - 1).default(1),
  iterations: int(1, 1000).default(20),
  /** each start's fit is re-simulated freely this long from the same initial condition and classified over its last part */
  check: z.object({
    durationMs: positive('ms').default(20_000),
    discardMs: nonNegative('ms').default(10_000),
    /** burst period and duty cycle within this (relative) of the data's: the fit reproduces the recording */
    tolerance: positive('').default(0.02),
  }).strict().default({ durationMs: 20_000, discardMs: 10_000, tolerance: 0.02 }),
  /** the parameters that made a synthetic recording, if known: errors are reported and the data's activity comes from them */
  target: namedRecord(finite()).optional(),
  engine: oneOf(ENGINE_CHOICES).default('auto'),
  gpuMath: oneOf(GPU_MATH).default('accurate'),
}).strict();

export type RecordingFitSpec = z.output<typeof recordingFitSpecSchema>;

/** Every value of `approach`: `simulation` is the cost-based fit (spec.ts), the default. */
export const FIT_APPROACHES = ['simulation', ...RECORDING_APPROACHES] as const;

/**
 * True when a raw spec asks for a fit to a recording; false for the simulation fit (no approach, or
 * `approach: simulation`, which is removed from `raw`); an InputError for any other approach.
 */
export function isRecordingFitSpec(raw: Record<string, unknown>): boolean {
  if (!Object.hasOwn(raw, 'approach')) return false;
  const approach = raw.approach;
  if (approach === 'simulation') {
    delete raw.approach;
    return false;
  }
  if (typeof approach === 'string' && (RECORDING_APPROACHES as readonly string[]).includes(approach)) return true;
  throw new InputError(`fit spec: approach must be one of ${FIT_APPROACHES.join(', ')}, got ${got(approach)}`);
}

/** Parses a recording-fit spec; throws InputError naming the first problem. */
export function parseRecordingFitSpec(input: unknown): RecordingFitSpec {
  const parsed = recordingFitSpecSchema.safeParse(input);
  if (!parsed.success) throw new InputError(`fit spec: ${describeIssue(parsed.error)}`);
  const spec = parsed.data;
  if ((spec.data.file === undefined) === (spec.data.cells === undefined)) {
    throw new InputError('fit spec: data needs either file (one cell\'s voltage) or cells (one recording per cell of a network), not both');
  }
  if (spec.data.calcium && spec.data.cells) throw new InputError('fit spec: data.calcium is for a single cell; in a network give each cell\'s [Ca] in data.cells (e.g. LP.Ca: { file: lp.npy, column: CaUM, fit: false })');
  if (spec.check.discardMs >= spec.check.durationMs) throw new InputError(`fit spec: check.discardMs must be < check.durationMs (${spec.check.durationMs} ms), got ${spec.check.discardMs}`);
  return spec;
}
