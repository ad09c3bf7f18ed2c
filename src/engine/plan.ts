/**
 * The time plan of a run, shared by the engines: how many steps, which of them are discarded, where
 * chunks end (for progress and dispatch length), and which steps are trace samples.
 */
import { InputError } from '../errors.ts';

export interface RunTiming {
  /** total simulated time (ms) */
  durationMs: number;
  /** initial time excluded from observables and spikes (ms) */
  discardMs?: number;
  dtMs: number;
  /** record a trace sample every this many ms (after the discard); absent: no traces */
  traceEveryMs?: number;
}

export interface Chunk {
  stepStart: number;
  nSteps: number;
  accumulate: boolean;
}

export interface RunPlan {
  dtMs: number;
  totalSteps: number;
  discardSteps: number;
  /** steps between trace samples (0: no traces) */
  traceEvery: number;
  /** global index k of the first trace sample; sample k is taken after step (k+1)·traceEvery */
  traceFirstSample: number;
  traceSamples: number;
}

/** The most steps one run may take. */
export const STEPS_MAX = 2 ** 31;

/** Converts a duration to a whole number of steps, refusing durations that are not close to a multiple of dt. */
export function stepsOf(name: string, ms: number, dtMs: number): number {
  const steps = Math.round(ms / dtMs);
  if (Math.abs(steps * dtMs - ms) > 1e-6 * Math.max(1, ms)) {
    throw new InputError(`${name} (${ms} ms) must be a whole number of steps of dt = ${dtMs} ms`);
  }
  return steps;
}

export function makePlan(t: RunTiming): RunPlan {
  const discardMs = t.discardMs ?? 0;
  if (!Number.isFinite(t.dtMs) || t.dtMs <= 0) throw new InputError(`dtMs must be a finite number > 0 (ms), got ${t.dtMs}`);
  if (!Number.isFinite(t.durationMs) || t.durationMs <= 0) throw new InputError(`durationMs must be a finite number > 0 (ms), got ${t.durationMs}`);
  if (!Number.isFinite(discardMs) || discardMs < 0 || discardMs >= t.durationMs) {
    throw new InputError(`discardMs must be in [0, durationMs) = [0, ${t.durationMs}) ms, got ${discardMs}`);
  }
  if (t.durationMs / t.dtMs > STEPS_MAX) throw new InputError(`durationMs / dtMs = ${t.durationMs / t.dtMs} steps exceeds the limit of 2^31 steps`);
  const totalSteps = stepsOf('durationMs', t.durationMs, t.dtMs);
  const discardSteps = stepsOf('discardMs', discardMs, t.dtMs);
  let traceEvery = 0, traceFirstSample = 0, traceSamples = 0;
  if (t.traceEveryMs !== undefined) {
    if (!Number.isFinite(t.traceEveryMs) || t.traceEveryMs <= 0) throw new InputError(`traceEveryMs must be a finite number > 0 (ms), got ${t.traceEveryMs}`);
    traceEvery = stepsOf('traceEveryMs', t.traceEveryMs, t.dtMs);
    if (traceEvery < 1) throw new InputError(`traceEveryMs (${t.traceEveryMs}) must be at least one step (${t.dtMs} ms)`);
    traceFirstSample = Math.floor(discardSteps / traceEvery);
    traceSamples = Math.floor(totalSteps / traceEvery) - traceFirstSample;
  }
  return { dtMs: t.dtMs, totalSteps, discardSteps, traceEvery, traceFirstSample, traceSamples };
}

/** Splits the run into chunks of at most `maxSteps`, with a boundary at the end of the discard. */
export function chunksOf(plan: RunPlan, maxSteps: number): Chunk[] {
  const chunks: Chunk[] = [];
  const push = (from: number, to: number, accumulate: boolean) => {
    for (let s = from; s < to; s += maxSteps) chunks.push({ stepStart: s, nSteps: Math.min(maxSteps, to - s), accumulate });
  };
  push(0, plan.discardSteps, false);
  push(plan.discardSteps, plan.totalSteps, true);
  return chunks;
}

/** Times (ms) of the trace samples. */
export function traceTimesMs(plan: RunPlan): Float64Array {
  const times = new Float64Array(plan.traceSamples);
  for (let s = 0; s < plan.traceSamples; s++) times[s] = (plan.traceFirstSample + s + 1) * plan.traceEvery * plan.dtMs;
  return times;
}
