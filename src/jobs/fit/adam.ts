/**
 * Adam (Kingma & Ba 2015) for many independent optimisations at once (one per random start), with
 * gradient clipping by norm and projection onto a box. Each start keeps its own moments and step
 * count, so starts that stop early leave the others unchanged.
 */
import { InputError } from '../../errors.ts';
import { BoxedBatch } from './boxed-batch.ts';

export interface AdamOptions {
  /** step size in the coordinates (for log coordinates, 0.05 ≈ a 5 % change per step) */
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** gradients longer than this are scaled down to it (Euclidean norm); Infinity: no clipping */
  clipNorm: number;
  /**
   * step-size control per start ("bold driver"): a step that raised the cost is taken back and
   * retried from the best point at `shrink` times the step size; one that lowered it lets the next
   * be `grow` times longer (up to learningRate). Absent: every step is kept (plain Adam).
   */
  backtrack?: { shrink: number; grow: number };
}

/** Kingma & Ba's defaults, a step of 0.05 log units, and clipping at norm 1. */
export const ADAM_DEFAULTS: AdamOptions = { learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 1 };

/** Scales g in place to norm ≤ maxNorm; returns the norm before clipping. */
export function clipByNorm(g: Float64Array, maxNorm: number): number {
  let sq = 0;
  for (const v of g) sq += v * v;
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) for (let d = 0; d < g.length; d++) g[d] *= maxNorm / norm;
  return norm;
}

/** Adam state for n starts in D dimensions. */
export class AdamBatch extends BoxedBatch {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private readonly t: Int32Array;
  private readonly g: Float64Array;
  /** each start's step size (learningRate until backtracking changes it) */
  private readonly rate: Float64Array;

  constructor(n: number, D: number, readonly options: AdamOptions, lower?: ArrayLike<number>, upper?: ArrayLike<number>) {
    super(n, D, lower, upper);
    const o = options;
    if (!(o.learningRate > 0)) throw new InputError(`adam.learningRate must be > 0, got ${o.learningRate}`);
    if (!(o.beta1 >= 0 && o.beta1 < 1)) throw new InputError(`adam.beta1 must be in [0, 1), got ${o.beta1}`);
    if (!(o.beta2 >= 0 && o.beta2 < 1)) throw new InputError(`adam.beta2 must be in [0, 1), got ${o.beta2}`);
    if (!(o.epsilon > 0)) throw new InputError(`adam.epsilon must be > 0, got ${o.epsilon}`);
    if (!(o.clipNorm > 0)) throw new InputError(`adam.clipNorm must be > 0, got ${o.clipNorm}`);
    if (o.backtrack && !(o.backtrack.shrink > 0 && o.backtrack.shrink < 1)) throw new InputError(`adam.backtrack.shrink must be in (0, 1), got ${o.backtrack.shrink}`);
    if (o.backtrack && !(o.backtrack.grow >= 1)) throw new InputError(`adam.backtrack.grow must be ≥ 1, got ${o.backtrack.grow}`);
    this.m = new Float64Array(n * D);
    this.rate = new Float64Array(n).fill(o.learningRate);
    this.v = new Float64Array(n * D);
    this.t = new Int32Array(n);
    this.g = new Float64Array(D);
  }

  /**
   * One step of start i: x (its D coordinates, updated in place) moves against the gradient.
   * Returns the gradient norm before clipping.
   */
  step(i: number, x: Float64Array, gradient: ArrayLike<number>): number {
    const { D, options: o, m, v, g } = this;
    for (let d = 0; d < D; d++) g[d] = gradient[d];
    const norm = clipByNorm(g, o.clipNorm);
    const t = ++this.t[i];
    for (let d = 0; d < D; d++) {
      const k = i * D + d;
      m[k] = o.beta1 * m[k] + (1 - o.beta1) * g[d];
      v[k] = o.beta2 * v[k] + (1 - o.beta2) * g[d] * g[d];
    }
    this.move(i, x, x, t);
    return norm;
  }

  /**
   * Backtracking, after evaluating start i where its last step led: `improved` (the cost fell below
   * the best so far) lengthens the next step, which `step` then takes from x; otherwise x is set to
   * `best` moved by a shorter step along the same moments, and true is returned (no `step` this time).
   * Without backtracking options: returns false and changes nothing.
   */
  backtrack(i: number, improved: boolean, x: Float64Array, best: ArrayLike<number>): boolean {
    const b = this.options.backtrack;
    if (!b) return false;
    if (improved) {
      this.rate[i] = Math.min(this.options.learningRate, this.rate[i] * b.grow);
      return false;
    }
    this.rate[i] *= b.shrink;
    this.move(i, x, best, this.t[i]);
    return true;
  }

  /** x = from − rate · m̂ / (√v̂ + ε), projected onto the box (moments after t steps). */
  private move(i: number, x: Float64Array, from: ArrayLike<number>, t: number): void {
    const { D, options: o, m, v } = this;
    const c1 = 1 - o.beta1 ** t, c2 = 1 - o.beta2 ** t;
    for (let d = 0; d < D; d++) {
      const k = i * D + d;
      const step = (this.rate[i] * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + o.epsilon);
      x[d] = this.project(d, from[d] - step);
    }
  }

  /** Start i's current step size. */
  stepSize(i: number): number {
    return this.rate[i];
  }

  /** Steps taken by start i. */
  steps(i: number): number {
    return this.t[i];
  }
}
