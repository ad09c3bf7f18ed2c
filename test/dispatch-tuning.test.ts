/** Dispatch length control (engine/gpu/session.ts): the fit of a + b·steps, on a synthetic device. */
import { describe, expect, it } from 'vitest';
import { nextDispatchSteps, type DispatchTuning } from '../src/engine/gpu/session.ts';

/** Drives the controller against a device whose dispatch takes `fixed + perStep·steps` ms. */
function settle(fixed: number, perStep: number, targetMs = 50) {
  const tuning: DispatchTuning = { stepsPerDispatch: 3, targetMs };
  for (let k = 0; k < 12; k++) tuning.stepsPerDispatch = nextDispatchSteps(tuning, tuning.stepsPerDispatch, fixed + perStep * tuning.stepsPerDispatch);
  return tuning.stepsPerDispatch;
}

describe('dispatch tuning', () => {
  it('reaches the target when the fixed cost is small', () => {
    const steps = settle(0.1, 0.01);
    expect(0.1 + 0.01 * steps).toBeGreaterThan(45);
    expect(0.1 + 0.01 * steps).toBeLessThan(55);
  });
  it('lengthens dispatches when the fixed cost would eat the target, keeping overhead at a quarter', () => {
    // 60 ms to load and store every instance, 0.5 ms a step: a 50 ms target would give 1-step dispatches
    const steps = settle(60, 0.5);
    expect(steps * 0.5).toBeCloseTo(180, -1); // target raised to 4 × 60 ms: 180 ms of steps
  });
  it('never grows more than 16× in one go', () => {
    const tuning: DispatchTuning = { stepsPerDispatch: 2, targetMs: 50 };
    expect(nextDispatchSteps(tuning, 2, 0.001)).toBe(32);
  });
});
