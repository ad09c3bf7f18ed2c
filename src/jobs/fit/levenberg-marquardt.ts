/**
 * Levenberg–Marquardt for many independent fits at once (one per random start), on costs that are
 * sums of squared residuals (analysis/costs.ts): each step solves
 *
 *     (JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀr = −∇C / 2
 *
 * with J and ∇C from the tangent lanes of the same run. Conductance fits are ill-conditioned (a few
 * stiff combinations of conductances, many sloppy ones: docs/models.md §9), and a first-order step that is
 * short enough for the stiff directions barely moves along the sloppy ones; the Gauss–Newton matrix
 * scales each direction by its own curvature. λ moves each start between that step (λ → 0) and a
 * short diagonally scaled gradient step (λ large): a step that lowered the cost lowers λ, one that did
 * not is taken back and retried from the best point with a larger λ, so the best cost never rises.
 */
import { InputError } from '../../errors.ts';
import { BoxedBatch } from './boxed-batch.ts';

export interface LevenbergMarquardtOptions {
  /** λ at the first step, relative to the diagonal of JᵀJ */
  damping: number;
  /** largest change of any coordinate in one step (log units for log coordinates): a cap for where J says little */
  maxStep: number;
}

export const LM_DEFAULTS: LevenbergMarquardtOptions = { damping: 1e-2, maxStep: 0.3 };

/** λ after a step that lowered the cost, and after one that did not (Nielsen's factors, fixed) */
const LOWER = 1 / 3, RAISE = 4;
const LAMBDA_RANGE = [1e-9, 1e9] as const;

/**
 * Solves M δ = b in place for a symmetric positive definite D × D matrix (row-major) by Cholesky;
 * false when M is not positive definite (b is then left unspecified).
 */
export function solveSpd(M: Float64Array, b: Float64Array, D: number): boolean {
  for (let j = 0; j < D; j++) {
    let d = M[j * D + j];
    for (let k = 0; k < j; k++) d -= M[j * D + k] ** 2;
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    M[j * D + j] = l;
    for (let i = j + 1; i < D; i++) {
      let s = M[i * D + j];
      for (let k = 0; k < j; k++) s -= M[i * D + k] * M[j * D + k];
      M[i * D + j] = s / l;
    }
  }
  for (let i = 0; i < D; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= M[i * D + k] * b[k];
    b[i] = s / M[i * D + i];
  }
  for (let i = D - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < D; k++) s -= M[k * D + i] * b[k];
    b[i] = s / M[i * D + i];
  }
  return true;
}

/**
 * What damped Gauss–Newton optimisers share: per start a damping λ and the gradient and JᵀJ of its best
 * point; after each evaluation λ falls (an improvement) or rises (not), and `step` proposes the next point.
 */
export abstract class DampedBatch extends BoxedBatch {
  protected readonly lambda: Float64Array;
  /** gradient and JᵀJ at each start's best point */
  protected readonly gradient: Float64Array;
  protected readonly jtj: Float64Array;

  constructor(n: number, D: number, damping: number, private readonly lambdaRange: readonly [number, number], lower?: ArrayLike<number>, upper?: ArrayLike<number>) {
    super(n, D, lower, upper);
    if (!(damping > 0)) throw new InputError(`levenbergMarquardt.damping must be > 0, got ${damping}`);
    this.lambda = new Float64Array(n).fill(damping);
    this.gradient = new Float64Array(n * D);
    this.jtj = new Float64Array(n * D * D);
  }

  /**
   * After evaluating start i at x: if `improved` (x is its new best point; `gradient` and `jtj`, D × D,
   * are x's) the next trial point is a step from x with a smaller λ; otherwise one from `best` (whose
   * gradient and JᵀJ were kept) with a larger λ. x is set to that point.
   */
  next(i: number, x: Float64Array, best: ArrayLike<number>, improved: boolean, gradient: ArrayLike<number>, jtj: ArrayLike<number>): void {
    const { D } = this;
    if (improved) {
      for (let d = 0; d < D; d++) this.gradient[i * D + d] = gradient[d];
      for (let k = 0; k < D * D; k++) this.jtj[i * D * D + k] = jtj[k];
    }
    this.lambda[i] = Math.min(this.lambdaRange[1], Math.max(this.lambdaRange[0], this.lambda[i] * (improved ? LOWER : RAISE)));
    this.step(i, x, best);
  }

  /** x = start i's next trial point from `best`, with its current λ. */
  protected abstract step(i: number, x: Float64Array, best: ArrayLike<number>): void;

  /** Start i's current damping λ. */
  damping(i: number): number {
    return this.lambda[i];
  }
}

/** Levenberg–Marquardt state for n starts in D dimensions. */
export class LevenbergMarquardtBatch extends DampedBatch {
  private readonly M: Float64Array;
  private readonly delta: Float64Array;

  constructor(n: number, D: number, readonly options: LevenbergMarquardtOptions, lower?: ArrayLike<number>, upper?: ArrayLike<number>) {
    super(n, D, options.damping, LAMBDA_RANGE, lower, upper);
    if (!(options.maxStep > 0)) throw new InputError(`levenbergMarquardt.maxStep must be > 0, got ${options.maxStep}`);
    this.M = new Float64Array(D * D);
    this.delta = new Float64Array(D);
  }

  /** x = best + δ, δ from the damped normal equations, capped at maxStep per coordinate and projected onto the box. */
  protected step(i: number, x: Float64Array, best: ArrayLike<number>): void {
    const { D, M, delta } = this;
    const lambda = this.lambda[i];
    let maxDiag = 0;
    for (let d = 0; d < D; d++) maxDiag = Math.max(maxDiag, this.jtj[i * D * D + d * D + d]);
    // a coordinate no residual depends on has a zero diagonal: a floor keeps M positive definite
    const floor = 1e-12 * maxDiag;
    for (let k = 0; k < D * D; k++) M[k] = this.jtj[i * D * D + k];
    for (let d = 0; d < D; d++) {
      M[d * D + d] += lambda * Math.max(M[d * D + d], floor) + floor;
      delta[d] = -0.5 * this.gradient[i * D + d];
    }
    if (!(maxDiag > 0) || !solveSpd(M, delta, D)) delta.fill(0);
    let largest = 0;
    for (let d = 0; d < D; d++) largest = Math.max(largest, Math.abs(delta[d]));
    const scale = largest > this.options.maxStep ? this.options.maxStep / largest : 1;
    for (let d = 0; d < D; d++) x[d] = this.project(d, best[d] + scale * delta[d]);
  }

}
