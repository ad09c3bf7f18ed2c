/**
 * How far the gradient of a cost can be trusted at each point of a landscape or fit: its spread
 * under two perturbations at the size of f32 rounding, as for simulate's tangents
 * (analysis/conditioning.ts), measured on the engine that computed it.
 *
 * - f64 CPU engine: the two roundoff probes (every state read with ±½ f32 ulp, exp and log scaled by
 *   1 ± 2^-23), the same as simulate's.
 * - GPU engine (f32): the run is repeated with every point's coordinates moved by ±2^-22 relative
 *   (log coordinates by ±2^-22), one or two f32 ulps of the parameter: the perturbed run rounds
 *   differently from its first steps on, so the gradient's change is the scatter f32 rounding itself
 *   causes, plus the parameter step's own effect (2e-7 times the Hessian: negligible where the
 *   gradient is well conditioned).
 *
 * A gradient is trusted when max over the two of |g' − g| / |g| (Euclidean norms over the
 * coordinates) is below CONDITIONING_TOLERANCE (1 %).
 *
 * Curves measure the Gauss–Newton matrix JᵀJ instead (`of: 'gauss-newton'`; J: the residuals'
 * Jacobian), by the same perturbations: max |G' − G|_F / |G|_F. A curve's cost stays near 0 (it starts
 * at 0, its targets being the start's values, and never rises above the momentum), so its gradient
 * 2Jᵀr is mostly the residual's rounding and its relative spread says nothing; JᵀJ does not vanish with
 * the residual, it is half the Hessian on the valley floor, and the curve's direction is its least
 * constrained one. JᵀJ is quadratic in J, so its relative spread is √2 to 2 times J's: it is trusted
 * below twice CONDITIONING_TOLERANCE, the 1 % on J that gradients are held to.
 */
import { CONDITIONING_TOLERANCE, ROUNDOFF_PROBES } from '../../analysis/conditioning.ts';
import { evaluatePoints, type CostProblem, type EvaluateOptions, type PointValues } from './problem.ts';

export interface PointConditioning {
  /** max over the perturbations of |g' − g| / |g| (of JᵀJ: Frobenius norms); NaN where it is not finite or zero */
  relative: Float64Array;
  /** 1 where relative < the tolerance (CONDITIONING_TOLERANCE; for JᵀJ twice that), else 0 */
  trusted: Uint8Array;
  /** how it was measured */
  method: 'f64 roundoff probes' | 'f32 parameter perturbation';
}

/** What is compared: the cost's gradient (landscapes, fits) or its Gauss–Newton matrix JᵀJ (curves). */
export type ConditionedQuantity = 'gradient' | 'gauss-newton';

/** The tolerance on the relative spread of each quantity (see the module comment). */
export const QUANTITY_TOLERANCE: Record<ConditionedQuantity, number> = { gradient: CONDITIONING_TOLERANCE, 'gauss-newton': 2 * CONDITIONING_TOLERANCE };

const PERTURBATION = 2 ** -22;

/**
 * What the perturbed runs are compared with: evaluatePoints' values at the points, or the same
 * quantities kept from earlier runs (a curve keeps each accepted point's).
 */
export interface ConditioningReference {
  cost: ArrayLike<number>;
  gradient: ArrayLike<number>[];
  gaussNewton?: ArrayLike<number>;
  result: { engine: string };
}

/**
 * Measures the conditioning of the gradients in `values` (evaluatePoints at `points`), or with
 * `of: 'gauss-newton'` of their JᵀJ (`values` evaluated with gaussNewton): two more runs of the same
 * points.
 */
export async function gradientConditioning(problem: CostProblem, points: readonly ArrayLike<number>[], values: ConditioningReference, options: Pick<EvaluateOptions, 'run' | 'onProgress'> & { of?: ConditionedQuantity } = {}): Promise<PointConditioning> {
  const of = options.of ?? 'gradient';
  const gaussNewton = of === 'gauss-newton';
  if (gaussNewton && !values.gaussNewton) throw new Error('gradientConditioning of the Gauss–Newton matrix needs values evaluated with gaussNewton');
  const n = values.cost.length, D = problem.coords.length;
  const cpu = values.result.engine === 'cpu';
  const runs: PointValues[] = [];
  for (const [k, sign] of [+1, -1].entries()) {
    const progress = options.onProgress && ((f: number) => options.onProgress!((k + f) / 2));
    if (cpu) {
      runs.push(await evaluatePoints(problem, points, { run: options.run, cpu: { roundoffProbe: ROUNDOFF_PROBES[k] }, onProgress: progress, gaussNewton }));
    } else {
      const moved = problem.coords.map((c, d) => Float64Array.from(points[d], (x) => (c.log ? x + sign * PERTURBATION : x * (1 + sign * PERTURBATION))));
      runs.push(await evaluatePoints(problem, moved, { run: options.run, onProgress: progress, gaussNewton }));
    }
  }
  // point i's quantity as a flat vector: the gradient's D components, or JᵀJ's D² entries
  const entries = gaussNewton ? D * D : D;
  const entry = (v: ConditioningReference, i: number, e: number) => (gaussNewton ? v.gaussNewton![i * entries + e] : v.gradient[e][i]);
  const relative = new Float64Array(n), trusted = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let e = 0; e < entries; e++) norm += entry(values, i, e) ** 2;
    norm = Math.sqrt(norm);
    let worst = 0;
    for (const r of runs) {
      let diff = 0;
      for (let e = 0; e < entries; e++) diff += (entry(r, i, e) - entry(values, i, e)) ** 2;
      worst = Math.max(worst, Math.sqrt(diff));
    }
    relative[i] = norm > 0 && Number.isFinite(norm) ? worst / norm : NaN;
    trusted[i] = relative[i] < QUANTITY_TOLERANCE[of] ? 1 : 0;
  }
  return { relative, trusted, method: cpu ? 'f64 roundoff probes' : 'f32 parameter perturbation' };
}
