/**
 * Size limits: requests that cannot fit are refused up front, before any allocation or file, with
 * the estimate and the limit in one line (InputError, exit 2), instead of exhausting memory or disk
 * minutes later. Every limit is here, with the reason for its value; the estimates are upper bounds
 * of what the engines and writers allocate (uncompressed, f64), so a request that passes fits.
 *
 * The limits are generous for real use: the full Prinz 2003 database (examples/prinz-2003.yaml,
 * 1,679,616 models, chunks of 65,536 with 256 maxima) needs about 0.9 GB of memory per chunk
 * pipeline and 0.6 GB of table, far inside them.
 */
import { environmentVariable } from './environment.ts';
import { InputError } from './errors.ts';

const GiB = 2 ** 30;

/** CPU worker threads: more than any machine's cores is a typo (0, -3, 1.5 and 100000 are refused). */
export const THREADS_MAX = 256;

/**
 * Memory one run may plan to allocate (bytes) unless IONSWEEP_MEMORY_LIMIT_GB says otherwise: 8 GiB
 * fits a laptop with room for the rest. A sweep's memory scales with chunkSize, which changes nothing
 * in its rows, but a large GPU needs large chunks to be busy (the pyloric database's chunks of one
 * setting of the cells, 135,000 networks, plan 10.5 GB), so a machine with more memory may raise it.
 */
export const MEMORY_LIMIT_BYTES = 8 * GiB;

/** The environment variable that sets the memory limit, in GB (10⁹ bytes). */
export const MEMORY_LIMIT_VARIABLE = 'IONSWEEP_MEMORY_LIMIT_GB';
const MEMORY_LIMIT_GB_RANGE = [1, 100_000] as const;

/** The memory limit in force (bytes): IONSWEEP_MEMORY_LIMIT_GB (1 to 100,000 GB) or MEMORY_LIMIT_BYTES. */
export function memoryLimitBytes(): number {
  const text = environmentVariable(MEMORY_LIMIT_VARIABLE);
  if (text === undefined || text.trim() === '') return MEMORY_LIMIT_BYTES;
  const gb = Number(text);
  const [low, high] = MEMORY_LIMIT_GB_RANGE;
  if (!(gb >= low && gb <= high)) throw new InputError(`${MEMORY_LIMIT_VARIABLE} must be a number of GB from ${low} to ${high}, got '${text}'`);
  return gb * 1e9;
}

/**
 * Output one command may plan to write (bytes): one sweep shard's table and traces, one simulate
 * trace, one landscape/fit table. 16 GiB is 25 times the full Prinz database; a larger sweep is split
 * into shards (--shard i/n), each under the limit.
 */
export const OUTPUT_LIMIT_BYTES = 16 * GiB;

/**
 * Bytes of a spec file: specs are a few kB; the largest real ones carry a trace target (one value per
 * sample, ~1 MB for 40,000 samples). A path like /dev/zero or a huge file by mistake must not be read
 * into memory to the end.
 */
export const SPEC_FILE_MAX_BYTES = 64 * 2 ** 20;

/** Values of one grid axis: the grid is materialised per axis; a million levels of one parameter is already absurd. */
export const GRID_AXIS_VALUES_MAX = 1_000_000;

/** Models of a sweep: model indices are stored as 32-bit integers. */
export const SWEEP_MODELS_MAX = 2 ** 31 - 1;

/**
 * A fit's screen (starts × screen random points, cost only): 1e8 evaluations of a 1 s model at
 * dt 0.025 ms is 4e12 neuron-steps, about 12 hours on a fast GPU (9e7 neuron-steps/s, README).
 */
export const FIT_SCREEN_EVALUATIONS_MAX = 100_000_000;

/** Steps of a curve per direction: each keeps its point; a million is far beyond any useful curve. */
export const CURVE_STEPS_MAX = 1_000_000;

/**
 * Bytes per row of a sweep table besides the per-parameter and per-observable columns: index,
 * gridIndex, class, status, counts and the activity features (about 25 values; 8 bytes each, the
 * class and status strings counted at 16).
 */
export const SWEEP_ROW_FIXED_BYTES = 256;

/** Ensemble runs a sweep holds at once: the engine runs chunk k + 1 while chunk k is classified and stored, plus the copy handed to the store's worker. */
export const SWEEP_CHUNKS_IN_MEMORY = 3;

/** Bytes of JSON text per traced value printed inline by `simulate` (a double in full precision and a comma). */
export const JSON_BYTES_PER_VALUE = 24;

/**
 * Text `simulate` may print inline (JSON or CSV): the document is built as one string, and V8's
 * strings hold at most 2^29 − 24 characters; 256 MiB leaves room for the copy JSON.stringify makes.
 * Larger traces go to an NPY file (--out).
 */
export const JSON_OUTPUT_LIMIT_BYTES = 256 * 2 ** 20;

/** A byte count for messages: 3.2 GB, 512 MB (decimal units, 3 significant digits). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let k = 0, v = bytes;
  while (v >= 1000 && k < units.length - 1) {
    v /= 1000;
    k++;
  }
  return `${k === 0 ? Math.round(v) : v.toPrecision(3)} ${units[k]}`;
}

/** Refuses a plan that would allocate more than the memory limit; `what` names it, `hint` says what to lower. */
export function checkMemory(what: string, bytes: number, hint: string): void {
  const limit = memoryLimitBytes();
  if (!(bytes <= limit)) {
    throw new InputError(`${what} needs about ${formatBytes(bytes)} of memory, over the limit of ${formatBytes(limit)} (${MEMORY_LIMIT_VARIABLE} sets it on a machine with more): ${hint}`);
  }
}

/** Refuses a plan that would write more than the output limit; `what` names it, `hint` says what to lower. */
export function checkOutput(what: string, bytes: number, hint: string): void {
  if (!(bytes <= OUTPUT_LIMIT_BYTES)) {
    throw new InputError(`${what} would write about ${formatBytes(bytes)}, over the limit of ${formatBytes(OUTPUT_LIMIT_BYTES)}: ${hint}`);
  }
}

/** Trace samples of a run: one every `everyMs` after the discard (an upper bound, as plan.ts counts them). */
export function traceSamplesOf(durationMs: number, discardMs: number, everyMs: number): number {
  return Math.floor(durationMs / everyMs) - Math.floor(discardMs / everyMs) + 1;
}

/** What sizes an ensemble run's buffers (layout.ts, eventSlots). */
export interface EnsembleShape {
  N: number;
  states: number;
  /** tangent lanes */
  lanes: number;
  observed: number;
  spikeSources: number;
  spikeCapacity: number;
  maximaCapacity: number;
  tracedInstances: number;
  traceSamples: number;
  traceTangents: boolean;
}

/**
 * Bytes an ensemble run allocates on the host (f64): states with their tangents (twice: the engine's
 * buffers and the result), observed sums, minima, maxima and tangent sums, the events buffer (spike
 * rings, maxima rings, divergence record) and the traces.
 */
export function ensembleBytes(s: EnsembleShape): number {
  const perInstance = 2 * s.states * (1 + s.lanes)
    + s.observed * (3 + s.lanes)
    + s.spikeSources * (1 + s.spikeCapacity) + (s.maximaCapacity > 0 ? s.spikeSources * (5 + 2 * s.maximaCapacity) : 0) + 4;
  const traces = s.tracedInstances * s.traceSamples * s.observed * (s.traceTangents ? 1 + s.lanes : 1);
  return 8 * (s.N * perInstance + traces);
}
