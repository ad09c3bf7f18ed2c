/**
 * Random search, the zero-order baseline of a fit: `evaluations` points drawn log-uniformly from the
 * same box, cost only (no tangent lanes), in ensemble chunks. The points are split into `groups`
 * contiguous groups, one per fit start, so that "the best of a group" compares with "the best of a
 * start" at the same number of model evaluations.
 */
import { hashUniform } from '../sweep/sampling.ts';
import { evaluatePoints, type CostProblem, type EvaluateOptions } from '../cost/problem.ts';

export interface BoxSampler {
  /** log of the lower and upper bounds per coordinate */
  logLow: Float64Array;
  logHigh: Float64Array;
  seed: number;
}

/** Coordinate d of point `index` of a log-uniform sampler (a pure function of seed, index, d). */
export function boxPoint(box: BoxSampler, index: number, d: number): number {
  return box.logLow[d] + hashUniform(box.seed, index, d) * (box.logHigh[d] - box.logLow[d]);
}

export interface RandomSearchGroup {
  bestCost: number;
  /** coordinates (logs) of the group's best point */
  best: Float64Array;
  /** index of the best point (for reproducing it) */
  bestIndex: number;
}

export interface RandomSearchResult {
  evaluations: number;
  groups: RandomSearchGroup[];
  wallMs: number;
}

export interface RandomSearchOptions extends Pick<EvaluateOptions, 'run'> {
  /** points per ensemble run */
  chunkSize: number;
  /** index of the first point in the sampler's sequence (keeps it apart from the fit's starts) */
  firstIndex: number;
  onProgress?: (done: number, total: number) => void;
}

/** Evaluates `evaluations` random points of the box in chunks; returns the best of each group. */
export async function randomSearch(problem: CostProblem, box: BoxSampler, evaluations: number, groupCount: number, options: RandomSearchOptions): Promise<RandomSearchResult> {
  const started = performance.now();
  const D = problem.coords.length;
  const groups: RandomSearchGroup[] = Array.from({ length: groupCount }, () => ({ bestCost: Infinity, best: new Float64Array(D).fill(NaN), bestIndex: -1 }));
  // point j belongs to group floor(j · groups / evaluations): contiguous, sizes differing by at most one
  const groupOf = (j: number) => Math.min(groupCount - 1, Math.floor((j * groupCount) / evaluations));
  for (let start = 0; start < evaluations; start += options.chunkSize) {
    const n = Math.min(options.chunkSize, evaluations - start);
    const points = Array.from({ length: D }, (_, d) => Float64Array.from({ length: n }, (_, i) => boxPoint(box, options.firstIndex + start + i, d)));
    const r = await evaluatePoints(problem, points, {
      gradient: false, run: options.run,
      onProgress: (f) => options.onProgress?.(start + Math.floor(f * n), evaluations),
    });
    for (let i = 0; i < n; i++) {
      const g = groups[groupOf(start + i)];
      const c = r.cost[i];
      if (c < g.bestCost) {
        g.bestCost = c;
        g.bestIndex = options.firstIndex + start + i;
        for (let d = 0; d < D; d++) g.best[d] = points[d][i];
      }
    }
    options.onProgress?.(start + n, evaluations);
  }
  return { evaluations, groups, wallMs: performance.now() - started };
}
