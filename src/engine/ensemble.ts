/**
 * What an ensemble run takes and gives, the same for every engine: a compiled program, a parameter
 * table (one row per instance), the time plan; back come per-instance observables with their
 * tangents, spike times and optional traces.
 */
import { InputError } from '../errors.ts';
import type { StepProgram, Lane } from '../compile/program.ts';
import type { RunTiming } from './plan.ts';
import { own } from '../model/names.ts';
import type { NormalEquations, Recording } from './inputs.ts';

/**
 * Per-instance parameter values: columns by parameter name (each of length N), or one row-major
 * Float32Array/Float64Array of N × instanceParams.length in the program's instanceParams order.
 * Instance parameters without a column take the program's value for them.
 */
export type ParamTable = Record<string, ArrayLike<number>> | Float32Array | Float64Array;

export interface EnsembleSpec extends Omit<RunTiming, 'dtMs'> {
  program: StepProgram;
  /** number of instances */
  N: number;
  params?: ParamTable;
  /** spike times kept per instance (a ring of the most recent); counts are always exact. Default 64. */
  spikeCapacity?: number;
  /** upward crossings of this level are spikes (mV). Default 0. */
  spikeThresholdMv?: number;
  /** voltage maxima (time, value) kept per instance, for activity classification. Default 0: none. */
  maximaCapacity?: number;
  /** a maximum counts once the voltage has fallen this far below it (mV). Default 0.05. */
  maximaHysteresisMv?: number;
  /** instances whose observed quantities are traced (needs traceEveryMs) */
  traceInstances?: number[];
  /** traces also record d(observed)/d(lane parameter) at every sample */
  traceTangents?: boolean;
  /** called with the fraction done (0..1) */
  onProgress?: (fraction: number) => void;
  /** the recordings the model reads with input('name') (inputs.ts), by name */
  inputs?: Record<string, Recording>;
  /**
   * teacher-forced models: length of the windows over which each residual is summed before it
   * enters the normal equations (ms; default one step). The cost interval (after discardMs) must
   * be a whole number of windows.
   */
  windowMs?: number;
}

export interface ObservedResult {
  name: string;
  unit: string;
  kind: 'voltage' | 'calcium' | 'other';
  /** time averages over the samples after the discard */
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** per lane: d mean / d (lane parameter) */
  meanTangent: Float64Array[];
}

export interface SpikeResult {
  name: string;
  /** number of upward threshold crossings after the discard */
  count: Float64Array;
  capacity: number;
  /** spike times of instance i (ms), oldest first; at most `capacity` (the most recent) */
  timesOf(i: number): number[];
  /** true when instance i had more spikes than `capacity` */
  truncated(i: number): boolean;
}

/**
 * The voltage maxima of one spike source as an engine leaves them: per group of instances, the
 * block of 2·capacity entries per instance, instance-major: instance i's times from (i − start)·2·capacity,
 * its values `capacity` further on (layout.ts maximaEntry).
 * Plain data, so it can be posted to a worker; results.ts `maximaView` reads it.
 */
export interface MaximaRings {
  name: string;
  capacity: number;
  count: Float64Array;
  spikeCount: Float64Array;
  groups: { start: number; n: number; block: ArrayLike<number> }[];
}

/** Voltage maxima (docs/models.md §8) of one spike source, per instance: counts exact, times and values of the most recent `capacity`. */
export interface MaximaResult {
  name: string;
  count: Float64Array;
  /** maxima above 0 mV (spikes in Prinz's sense) */
  spikeCount: Float64Array;
  capacity: number;
  /** times (ms) and values (mV) of instance i's kept maxima, oldest first */
  of(i: number): { timesMs: number[]; valuesMv: number[] };
  truncated(i: number): boolean;
  /** the rings as plain data (to post to a worker and read there with maximaView) */
  rings: MaximaRings;
}

export interface TraceResult {
  instances: number[];
  timesMs: Float64Array;
  observedNames: string[];
  /** values[row][sample][k], k < O the observed quantities, then (trace tangents) O×L tangents; rows in `instances` order */
  values: Float64Array;
  /** values per sample */
  width: number;
  /** trace of one observed quantity of the row-th traced instance */
  series(row: number, observedName: string): Float64Array;
  /** with traceTangents: d(observed)/d(lane parameter) along the trace */
  tangentSeries(row: number, observedName: string, laneKey: string): Float64Array;
}

/**
 * Instances whose run left the finite range: a state became NaN or ±Inf, or reached DIVERGED_ABOVE in
 * magnitude (compile/kernel-common.ts, divergenceCode). Their observables, tangents and traces are
 * NaN from then on and mean nothing: results.ts sets their means, extremes and mean tangents to NaN,
 * and every summary leaves them out.
 */
export interface DivergenceResult {
  /** number of diverged instances */
  count: number;
  /**
   * per instance: the state found out of range (index into stateNames), −1 where the instance stayed
   * in range. The kernels test, every step, the few states every other state feeds (V in conductance
   * models, whose update reads every gate: kernel-common.ts, watchedStates), so a NaN born in a gate is
   * found in V one step later; at t = 0 every state is tested and the first out of range is named.
   */
  state: Int32Array;
  /** the program's state names */
  stateNames: string[];
  /** per instance: when it was found (ms, at the end of that step; 0: the initial state), NaN where in range; the same for any batching or dispatch length (the f32 and f64 engines may find it a step or so apart) */
  timeMs: Float64Array;
  /** per instance: the blamed state's value then (NaN, ±Inf, or beyond ±DIVERGED_ABOVE), NaN where in range */
  value: Float64Array;
}

/** An instance's status: its run stayed in range, or diverged (DivergenceResult). */
export type InstanceStatus = 'ok' | 'diverged';

export interface EnsembleResult {
  engine: 'cpu' | 'gpu';
  /** where it ran: 'cpu (N threads)' or the GPU adapter's description */
  device: string;
  precision: 'f64' | 'f32';
  N: number;
  dtMs: number;
  durationMs: number;
  discardMs: number;
  /** number of time samples averaged */
  samples: number;
  lanes: Lane[];
  observed: ObservedResult[];
  spikes: SpikeResult[];
  /** present when maximaCapacity > 0 */
  maxima?: MaximaResult[];
  traces?: TraceResult;
  /** which instances diverged, when and in which state */
  divergence: DivergenceResult;
  /** teacher-forced models: each instance's normal equations (rᵀr, Jᵀr, JᵀJ over the lanes) */
  normal?: NormalEquations;
  wallMs: number;
}

/** Writes the parameter table into a structure-of-arrays buffer (slot q of instance i at q·N + i). */
export function packParams(program: StepProgram, N: number, table: ParamTable | undefined, out: Float32Array | Float64Array): void {
  const P = program.instanceParams.length;
  if (out.length !== P * N) throw new InputError(`parameter buffer has ${out.length} values, expected ${P * N}`);
  if (table instanceof Float32Array || table instanceof Float64Array) {
    if (table.length !== P * N) {
      throw new InputError(`parameter table has ${table.length} values, expected N × ${P} = ${P * N} (columns ${program.instanceParams.join(', ')})`);
    }
    for (let i = 0; i < N; i++) for (let q = 0; q < P; q++) out[q * N + i] = table[i * P + q];
    return;
  }
  const columns = table ?? {};
  for (const name of Object.keys(columns)) {
    if (!program.instanceParams.includes(name)) {
      throw new InputError(`parameter column '${name}' is not a per-instance parameter of this program; per-instance: ${program.instanceParams.join(', ') || '(none)'}`);
    }
  }
  program.instanceParams.forEach((name, q) => {
    const column = own(columns, name);
    if (column && column.length !== N) throw new InputError(`parameter column '${name}' has ${column.length} values, expected N = ${N}`);
    const fallback = program.values[name];
    for (let i = 0; i < N; i++) out[q * N + i] = column ? column[i] : fallback;
  });
  for (let k = 0; k < out.length; k++) {
    if (!Number.isFinite(out[k])) {
      const q = Math.floor(k / N);
      throw new InputError(`parameter ${program.instanceParams[q]} of instance ${k % N} is not a finite number (${out[k]})`);
    }
  }
}
