/**
 * The buffer layout shared by every engine: which slot holds which state, tangent, parameter and
 * observable. Buffers are structures of arrays: value `slot` of instance `i` lives at
 * `slot * N + i`, so neighbouring instances (GPU invocations) read neighbouring addresses.
 * Host packing and both emitters take their offsets from here, so they cannot drift apart.
 */
import { InputError } from '../errors.ts';
import type { StepProgram } from './program.ts';

export interface Layout {
  /** states S, lanes L, instance parameters P, observed quantities O, spike sources Q */
  states: number;
  lanes: number;
  params: number;
  observed: number;
  spikeSources: number;
  /** spike times kept per instance and source (a ring: the last `spikeCapacity` are kept) */
  spikeCapacity: number;
  /** voltage maxima (time, value) kept per instance and source; 0: maxima are not recorded */
  maximaCapacity: number;
  /** values per trace sample: the O observed quantities, then (with trace tangents) their O×L tangents */
  traceWidth: number;
  /** slots of the normal equations (teacher forcing; 0 without residual states): normalSlots */
  normal: number;
}

export interface LayoutOptions {
  spikeCapacity: number;
  maximaCapacity?: number;
  /** record the tangents of the observed quantities in traces too */
  traceTangents?: boolean;
}

export function layoutOf(program: StepProgram, options: LayoutOptions): Layout {
  const { spikeCapacity, maximaCapacity = 0 } = options;
  if (!Number.isInteger(spikeCapacity) || spikeCapacity < 1) throw new InputError(`spikeCapacity must be an integer ≥ 1, got ${spikeCapacity}`);
  if (!Number.isInteger(maximaCapacity) || maximaCapacity < 0) throw new InputError(`maximaCapacity must be an integer ≥ 0, got ${maximaCapacity}`);
  return {
    maximaCapacity,
    traceWidth: program.observed.length * (1 + (options.traceTangents ? program.lanes.length : 0)),
    states: program.states.length,
    lanes: program.lanes.length,
    params: program.instanceParams.length,
    observed: program.observed.length,
    spikeSources: program.spikeSources.length,
    spikeCapacity,
    normal: program.residuals.length ? normalSlots(program.lanes.length, program.noisePenalties.length > 0).total : 0,
  };
}

/**
 * Slots of an instance's normal equations, accumulated from the windowed residuals r_w and their
 * tangents J_w (one row of J per window and residual state): rᵀr, then Jᵀr (L), then JᵀJ's upper
 * triangle row by row (L(L+1)/2). Least squares needs nothing else, so no residual trace is stored.
 * With noise penalties (StepProgram.noisePenalties), their sum and its tangents (1 + L) follow.
 */
export function normalSlots(lanes: number, noise = false) {
  const L = lanes;
  const plain = 1 + L + (L * (L + 1)) / 2;
  return {
    rr: 0,
    jr: (j: number) => 1 + j,
    /** JᵀJ entry (j, k), either order */
    jj: (j: number, k: number) => {
      const [a, b] = j <= k ? [j, k] : [k, j];
      return 1 + L + a * L - (a * (a - 1)) / 2 + (b - a);
    },
    /** Σ noise penalty and its tangent in lane j */
    noise: plain,
    jnoise: (j: number) => plain + 1 + j,
    total: plain + (noise ? 1 + L : 0),
  };
}

/** Slot of the tangent of `state` in `lane`. */
export const tangentSlot = (layout: Layout, lane: number, state: number): number => lane * layout.states + state;
/** Slot of the tangent sum of observed quantity `obs` in `lane`. */
export const observedTangentSlot = (layout: Layout, obs: number, lane: number): number => obs * layout.lanes + lane;
/**
 * Slots of the events buffer, per spike source q: the threshold-crossing count and its ring of
 * times; then, when maxima are recorded, the maxima count, the count of maxima above 0 mV (spikes in
 * Prinz's sense), the peak detector's state (mode, running extreme, its time) and rings of maxima
 * times and values (instance-major: maximaEntry); last, the divergence record (kernel-common.ts,
 * divergenceCode): the state found out of range plus one (0: none), the steps completed then as two
 * exact halves (high: ÷ 65,536, low: the remainder; one f32 holds integers only to 2^24), and that
 * state's value.
 */
export function eventSlots(layout: Layout) {
  const Q = layout.spikeSources, K = layout.spikeCapacity, M = layout.maximaCapacity;
  const maxBase = (q: number) => Q * (1 + K) + q * (5 + 2 * M);
  const divergedBase = Q * (1 + K) + (M > 0 ? Q * (5 + 2 * M) : 0);
  return {
    spikeCount: (q: number) => q,
    spikeRing: (q: number, entry: number) => Q + q * K + entry,
    maximaCount: (q: number) => maxBase(q),
    maximaSpikes: (q: number) => maxBase(q) + 1,
    detectorMode: (q: number) => maxBase(q) + 2,
    detectorExtreme: (q: number) => maxBase(q) + 3,
    detectorTime: (q: number) => maxBase(q) + 4,
    /** first slot of the maxima rings' region (2·M slots), read with maximaEntry: instance-major, not slot-major */
    maximaRings: (q: number) => maxBase(q) + 5,
    divergedState: divergedBase,
    divergedStepsHigh: divergedBase + 1,
    divergedStepsLow: divergedBase + 2,
    divergedValue: divergedBase + 3,
    total: divergedBase + 4,
  };
}

/**
 * Where entry `slot` of instance `local`'s maxima times sits within a maxima-rings region (its value
 * sits `capacity` further on): every other slot of the events buffer is slot-major (slot·n + i), but
 * each instance's 2·capacity maxima are contiguous, so the host reads an instance's maxima in two runs
 * instead of one cache line (and page) per entry; the kernel writes a maximum only every hundred
 * steps or so, so its scattered writes cost little.
 */
export function maximaEntry(local: number, slot: number, capacity: number): number {
  return local * 2 * capacity + slot;
}

/** Number of slots (values per instance) in each buffer. */
export function bufferSlots(layout: Layout) {
  return {
    state: layout.states,
    tangent: layout.lanes * layout.states,
    params: layout.params,
    obsSum: layout.observed,
    obsMin: layout.observed,
    obsMax: layout.observed,
    obsTanSum: layout.observed * layout.lanes,
    events: eventSlots(layout).total,
    normal: layout.normal,
  };
}

export type BufferName = keyof ReturnType<typeof bufferSlots>;
