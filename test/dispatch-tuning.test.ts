/** Dispatch length control (engine/gpu/session.ts): the fit of a + b·steps, on a synthetic device. */
import { describe, expect, it } from 'vitest';
import { nextDispatchSteps, type DispatchTuning } from '../src/engine/gpu/session.ts';

/** Drives the controller against a device whose dispatch takes `fixed + perStep·steps` ms. */
function settle(fixed: number, perStep: number, targetMs = 50, maxOverheadShare?: number, rounds = 12) {
  const tuning: DispatchTuning = { stepsPerDispatch: 3, targetMs, maxOverheadShare };
  for (let k = 0; k < rounds; k++) tuning.stepsPerDispatch = nextDispatchSteps(tuning, tuning.stepsPerDispatch, fixed + perStep * tuning.stepsPerDispatch);
  return tuning;
}

describe('dispatch tuning', () => {
  it('reaches the target when the fixed cost is small', () => {
    const { stepsPerDispatch: steps, settled } = settle(0.1, 0.01);
    expect(settled).toBe(true);
    expect(0.1 + 0.01 * steps).toBeGreaterThan(45);
    expect(0.1 + 0.01 * steps).toBeLessThan(55);
  });
  it('lengthens dispatches when the fixed cost would eat the target, keeping overhead at a tenth', () => {
    // 60 ms to load and store every instance, 0.5 ms a step: a 50 ms target would give 1-step dispatches
    const { stepsPerDispatch: steps } = settle(60, 0.5);
    expect(steps * 0.5).toBeCloseTo(540, -1); // target raised to 10 × 60 ms: 540 ms of steps
    // a caller with a frame budget may accept a larger share (the live demo: a quarter)
    expect(settle(60, 0.5, 50, 0.25).stepsPerDispatch * 0.5).toBeCloseTo(180, -1);
    // and no target grows past 20 × its own
    expect(200 + 0.5 * settle(200, 0.5).stepsPerDispatch).toBeCloseTo(1000, -1);
  });
  it('grows a dispatch whose first time may be all fixed cost, and settles within a few submissions', () => {
    // measured on lavapipe, prinz with 8 tangent lanes at N = 65,536: 3 steps took 62 ms, of which
    // ~55 ms is loading and storing. A proportional guess would shrink the dispatch to 2 steps
    const tuning: DispatchTuning = { stepsPerDispatch: 3, targetMs: 50 };
    expect(nextDispatchSteps(tuning, 3, 55 + 3.4 * 3)).toBe(6);
    expect(tuning.settled).toBe(false);
    const { stepsPerDispatch, settled } = settle(55, 3.4, 50, undefined, 4);
    expect(settled).toBe(true);
    expect(55 / (55 + 3.4 * stepsPerDispatch)).toBeLessThanOrEqual(0.11);
  });
  it('never grows more than 16× in one go', () => {
    const tuning: DispatchTuning = { stepsPerDispatch: 2, targetMs: 50 };
    expect(nextDispatchSteps(tuning, 2, 0.001)).toBe(32);
  });
});
