/**
 * How far each start's gradient at its best point can be trusted (cost/conditioning.ts): the best
 * points are evaluated once more, then twice perturbed at f32's rounding level. A start whose best
 * point has an ill-conditioned gradient stopped where the optimiser was following rounding noise:
 * its fit may be improved by a tapered or shorter-window cost, not by more iterations.
 */
import { evaluatePoints } from '../cost/problem.ts';
import { gradientConditioning } from '../cost/conditioning.ts';
import type { EvaluateOptions } from '../cost/problem.ts';
import type { FitResult } from './run.ts';

/**
 * Sets gradientTrusted and gradientSpread on every start with a finite best cost that did not
 * converge (at a converged start the gradient vanishes, and its relative spread says nothing);
 * returns how it was measured.
 */
export async function measureFitConditioning(r: FitResult, options: Pick<EvaluateOptions, 'run' | 'onProgress'> = {}): Promise<string | undefined> {
  const starts = r.starts.filter((s) => Number.isFinite(s.bestCost) && s.stopped !== 'converged');
  if (!starts.length) return undefined;
  const D = r.problem.coords.length;
  const points = Array.from({ length: D }, (_, d) => Float64Array.from(starts, (s) => s.best[d]));
  const values = await evaluatePoints(r.problem, points, { run: options.run });
  const c = await gradientConditioning(r.problem, points, values, options);
  starts.forEach((s, k) => {
    s.gradientTrusted = c.trusted[k] === 1;
    s.gradientSpread = c.relative[k];
  });
  return c.method;
}
