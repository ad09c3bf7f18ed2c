/**
 * Damped Gauss–Newton in the conductances themselves (not their logarithms), for costs that are
 * nearly linear least squares in them: the teacher-forced equation error (recording-fit.ts), whose
 * residual is linear in every conductance whose gates the recording drives. There a Gauss–Newton step
 * in g lands on the minimum in one or two steps from any start, while the same step in log g curves
 * away from it, and a conductance the recording barely constrains (gH, gLeak of a bursting cell) makes
 * a log-coordinate optimiser crawl: its step is capped and the cap shortens every other coordinate's
 * step too. Bounds are kept by an active set: a conductance at a bound whose gradient pushes it out
 * stays there and the step is solved for the others, so a conductance the data drive to 0 stops at
 * its lower bound in every start instead of running off along its logarithm.
 *
 * The interface is the log-coordinate optimiser's (levenberg-marquardt.ts): the engine's tangents
 * are ∂/∂log g, converted here (∂/∂g = (∂/∂log g)/g).
 */
import { DampedBatch, solveSpd } from './levenberg-marquardt.ts';

/** Damped Gauss–Newton in linear conductances for n starts of D conductances, with bounds in log g. */
export class ConductanceGaussNewtonBatch extends DampedBatch {
  constructor(n: number, D: number, damping: number, logLower?: ArrayLike<number>, logUpper?: ArrayLike<number>) {
    // a lower floor than the log-coordinate optimiser's: near the answer a step in g is exact
    super(n, D, damping, [1e-12, 1e9], logLower, logUpper);
  }

  /** x = log(g + δ) with δ from the damped normal equations in g over the conductances not held at a bound. */
  protected step(i: number, x: Float64Array, best: ArrayLike<number>): void {
    const { D } = this;
    const g = Float64Array.from({ length: D }, (_, d) => Math.exp(best[d]));
    const gradG = Float64Array.from({ length: D }, (_, d) => this.gradient[i * D + d] / g[d]);
    // a conductance at a bound whose descent direction leaves the box is held there
    const free = Array.from({ length: D }, (_, d) => d).filter((d) =>
      !(best[d] <= this.lower[d] && gradG[d] > 0) && !(best[d] >= this.upper[d] && gradG[d] < 0));
    const F = free.length;
    const M = new Float64Array(F * F), delta = new Float64Array(F);
    let maxDiag = 0;
    for (const d of free) maxDiag = Math.max(maxDiag, this.jtj[i * D * D + d * D + d] / (g[d] * g[d]));
    const floor = 1e-12 * maxDiag;
    free.forEach((a, p) => {
      free.forEach((b, q) => (M[p * F + q] = this.jtj[i * D * D + a * D + b] / (g[a] * g[b])));
      M[p * F + p] += this.lambda[i] * Math.max(M[p * F + p], floor) + floor;
      delta[p] = -0.5 * gradG[a];
    });
    if (!(maxDiag > 0) || !solveSpd(M, delta, F)) delta.fill(0);
    for (let d = 0; d < D; d++) x[d] = best[d];
    free.forEach((d, p) => {
      // a step through zero lands on the lower bound (the log of a non-positive conductance does not exist)
      const next = g[d] + delta[p];
      x[d] = this.project(d, next > 0 ? Math.log(next) : -Infinity);
    });
  }
}
