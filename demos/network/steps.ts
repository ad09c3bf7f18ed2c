/**
 * Steps per frame for one live session, fitted to a time budget. The ensemble explorer's controller
 * (ensemble/live.ts) fits whole frames of one big session; here two sessions share a frame (both
 * advanced at once, timed together), and the one-network session is mostly fixed cost (submissions
 * and their round trips to the GPU process), which that fit reads as "no room" and shrinks to a step
 * or two. This one is proportional: the time per step (fixed cost included) is averaged over frames,
 * and the next count is what fills the budget at that rate, moved by at most −30 % … +25 % per frame
 * and kept within [min, max], so a session whose fixed cost alone exceeds the budget still advances
 * by `min` steps a frame.
 */
export class StepController {
  steps: number;
  private msPerStep = 0;

  /** @param budgetMs GPU time per frame (ms) that the steps should fill */
  constructor(initial: number, readonly budgetMs: number, readonly min: number, readonly max = 1 << 20) {
    this.steps = Math.min(max, Math.max(min, Math.round(initial)));
  }

  /** After a frame that ran `steps` steps in `ms` of wall time (submission to completion). */
  done(steps: number, ms: number): void {
    // frames cut short (speed limit, stop) count too: they overstate the fixed cost's share, which
    // errs low, while ignoring them let a speed-limited session keep a count far over its budget
    if (steps <= 0) return;
    const perStep = ms / steps;
    this.msPerStep = this.msPerStep ? 0.7 * this.msPerStep + 0.3 * perStep : perStep;
    const next = Math.min(Math.max(this.budgetMs / this.msPerStep, 0.7 * this.steps), 1.25 * this.steps + 1);
    this.steps = Math.min(this.max, Math.max(this.min, Math.round(next)));
  }
}
