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
}

export function layoutOf(program: StepProgram, spikeCapacity: number): Layout {
  if (!Number.isInteger(spikeCapacity) || spikeCapacity < 1) throw new InputError(`spikeCapacity must be an integer ≥ 1, got ${spikeCapacity}`);
  return {
    states: program.states.length,
    lanes: program.lanes.length,
    params: program.instanceParams.length,
    observed: program.observed.length,
    spikeSources: program.spikeSources.length,
    spikeCapacity,
  };
}

/** Slot of the tangent of `state` in `lane`. */
export const tangentSlot = (layout: Layout, lane: number, state: number): number => lane * layout.states + state;
/** Slot of the tangent sum of observed quantity `obs` in `lane`. */
export const observedTangentSlot = (layout: Layout, obs: number, lane: number): number => obs * layout.lanes + lane;
/** Slot of ring entry `entry` of spike source `source`. */
export const spikeSlot = (layout: Layout, source: number, entry: number): number => source * layout.spikeCapacity + entry;

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
    spikeCount: layout.spikeSources,
    spikeTimes: layout.spikeSources * layout.spikeCapacity,
  };
}

export type BufferName = keyof ReturnType<typeof bufferSlots>;
