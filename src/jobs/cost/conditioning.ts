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
 */
import { CONDITIONING_TOLERANCE, ROUNDOFF_PROBES } from '../../analysis/conditioning.ts';
import { evaluatePoints, type CostProblem, type EvaluateOptions, type PointValues } from './problem.ts';

export interface PointConditioning {
  /** max over the perturbations of |g' − g| / |g|; NaN where the gradient is not finite or zero */
  relative: Float64Array;
  /** 1 where relative < CONDITIONING_TOLERANCE, else 0 */
  trusted: Uint8Array;
  /** how it was measured */
  method: 'f64 roundoff probes' | 'f32 parameter perturbation';
}

const PERTURBATION = 2 ** -22;

/**
 * Measures the conditioning of the gradients in `values` (evaluatePoints at `points`): two more
 * runs of the same points.
 */
export async function gradientConditioning(problem: CostProblem, points: readonly ArrayLike<number>[], values: PointValues, options: Pick<EvaluateOptions, 'run' | 'onProgress'> = {}): Promise<PointConditioning> {
  const n = values.cost.length, D = values.gradient.length;
  const cpu = values.result.engine === 'cpu';
  const runs: PointValues[] = [];
  for (const [k, sign] of [+1, -1].entries()) {
    const progress = options.onProgress && ((f: number) => options.onProgress!((k + f) / 2));
    if (cpu) {
      runs.push(await evaluatePoints(problem, points, { run: options.run, cpu: { roundoffProbe: ROUNDOFF_PROBES[k] }, onProgress: progress }));
    } else {
      const moved = problem.coords.map((c, d) => Float64Array.from(points[d], (x) => (c.log ? x + sign * PERTURBATION : x * (1 + sign * PERTURBATION))));
      runs.push(await evaluatePoints(problem, moved, { run: options.run, onProgress: progress }));
    }
  }
  const relative = new Float64Array(n), trusted = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let d = 0; d < D; d++) norm += values.gradient[d][i] ** 2;
    norm = Math.sqrt(norm);
    let worst = 0;
    for (const r of runs) {
      let diff = 0;
      for (let d = 0; d < D; d++) diff += (r.gradient[d][i] - values.gradient[d][i]) ** 2;
      worst = Math.max(worst, Math.sqrt(diff));
    }
    relative[i] = norm > 0 && Number.isFinite(norm) ? worst / norm : NaN;
    trusted[i] = relative[i] < CONDITIONING_TOLERANCE ? 1 : 0;
  }
  return { relative, trusted, method: cpu ? 'f64 roundoff probes' : 'f32 parameter perturbation' };
}
