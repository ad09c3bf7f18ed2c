/**
 * The fit job (src/jobs/fit/*): Adam with clipping and box projection on analytic costs (where the
 * minimum is known exactly), then a small real fit that must recover two log-conductances of a
 * Prinz cell from its own mean [Ca] and mean V, the random-search baseline's bookkeeping, and spec
 * errors.
 */
import { describe, expect, it } from 'vitest';
import { AdamBatch, ADAM_DEFAULTS, clipByNorm } from '../src/jobs/fit/adam.ts';
import { LevenbergMarquardtBatch, solveSpd } from '../src/jobs/fit/levenberg-marquardt.ts';
import { fitColumns, paramsOf, runFit } from '../src/jobs/fit/run.ts';
import type { FitSpecInput } from '../src/jobs/fit/spec.ts';
import { evaluatePoints } from '../src/jobs/cost/problem.ts';
import { boxPoint } from '../src/jobs/fit/random-search.ts';

describe('Adam for many starts', () => {
  it('clips a gradient to the given norm and leaves shorter ones alone', () => {
    const g = Float64Array.from([3, 4]);
    expect(clipByNorm(g, 1)).toBe(5);
    expect(g[0]).toBeCloseTo(0.6, 15);
    expect(g[1]).toBeCloseTo(0.8, 15);
    const h = Float64Array.from([0.3, 0.4]);
    clipByNorm(h, 1);
    expect(Array.from(h)).toEqual([0.3, 0.4]);
  });

  it('finds the minimum of an ill-conditioned quadratic from every start, each at its own pace', () => {
    // f = (x − 1)² + 100 (y + 2)², gradients clipped to norm 1: Adam's per-coordinate scaling copes
    // with the conditioning; after 3,000 steps of 0.02 the iterates sit within 1e-3 of (1, −2)
    // (measured ≤ 2e-4)
    const n = 4, adam = new AdamBatch(n, 2, { ...ADAM_DEFAULTS, learningRate: 0.02 });
    const x = [[5, 5], [-3, 0], [1, -2.5], [0, 3]].map((p) => Float64Array.from(p));
    for (let step = 0; step < 3000; step++) {
      // start 3 runs only every other step: starts must not share moments
      for (let i = 0; i < n; i++) if (i !== 3 || step % 2 === 0) adam.step(i, x[i], [2 * (x[i][0] - 1), 200 * (x[i][1] + 2)]);
    }
    for (let i = 0; i < n; i++) {
      expect(Math.abs(x[i][0] - 1), `start ${i} x`).toBeLessThan(1e-3);
      expect(Math.abs(x[i][1] + 2), `start ${i} y`).toBeLessThan(1e-3);
    }
    expect([adam.steps(0), adam.steps(3)]).toEqual([3000, 1500]);
  });

  it('stays in its box: a minimum outside it is approached from the boundary', () => {
    const adam = new AdamBatch(1, 1, ADAM_DEFAULTS, [-1], [1]);
    const x = Float64Array.from([0]);
    for (let step = 0; step < 200; step++) adam.step(0, x, [2 * (x[0] - 3)]);
    expect(x[0]).toBe(1);
  });

  it('with backtracking, takes back a step that raised the cost and retries half as long from the best point', () => {
    // f = 100 x² from x = 3, learning rate 1: the first steps overshoot 0; backtracking halves a
    // step that went uphill (exactly: same moments, half the rate), so the best cost only falls
    const f = (x: number) => 100 * x * x;
    const descend = (backtrack: boolean) => {
      const adam = new AdamBatch(1, 1, { ...ADAM_DEFAULTS, learningRate: 1, ...(backtrack ? { backtrack: { shrink: 0.5, grow: 1.2 } } : {}) });
      const x = Float64Array.from([3]), best = Float64Array.from([3]);
      let bestCost = Infinity, checkedRetry = false;
      for (let it = 0; it < 80; it++) {
        const c = f(x[0]);
        const improved = c < bestCost;
        if (improved) [bestCost, best[0]] = [c, x[0]];
        const tried = x[0] - best[0];
        if (adam.backtrack(0, improved, x, best)) {
          expect(x[0] - best[0]).toBeCloseTo(tried / 2, 12);
          checkedRetry = true;
        } else adam.step(0, x, [200 * x[0]]);
      }
      return { bestCost, checkedRetry, rate: adam.stepSize(0) };
    };
    const plain = descend(false), backtracked = descend(true);
    expect(plain.checkedRetry).toBe(false);
    expect(plain.rate).toBe(1);
    expect(backtracked.checkedRetry).toBe(true);
    expect(backtracked.bestCost).toBeLessThan(1e-8);
  });

  it('refuses settings outside their ranges', () => {
    expect(() => new AdamBatch(1, 1, { ...ADAM_DEFAULTS, beta1: 1 })).toThrow(/adam\.beta1 must be in \[0, 1\)/);
    expect(() => new AdamBatch(1, 1, { ...ADAM_DEFAULTS, learningRate: 0 })).toThrow(/adam\.learningRate must be > 0/);
    expect(() => new AdamBatch(1, 1, { ...ADAM_DEFAULTS, backtrack: { shrink: 1, grow: 1.2 } })).toThrow(/adam\.backtrack\.shrink must be in \(0, 1\)/);
  });
});

describe('Levenberg–Marquardt for many starts', () => {
  it('solves a symmetric positive definite system, and says when a matrix is not one', () => {
    // M = A Aᵀ + I for a fixed A, b = M x* : the solve must return x*
    const D = 4, A = [[2, 1, 0, 3], [1, -1, 2, 0], [0, 4, 1, 1], [1, 0, 0, 2]];
    const M = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) M[i * D + j] = A[i].reduce((s, a, k) => s + a * A[j][k], 0) + (i === j ? 1 : 0);
    const xStar = [1, -2, 0.5, 3];
    const b = Float64Array.from({ length: D }, (_, i) => xStar.reduce((s, x, j) => s + M[i * D + j] * x, 0));
    expect(solveSpd(Float64Array.from(M), b, D)).toBe(true);
    b.forEach((v, i) => expect(v).toBeCloseTo(xStar[i], 12));
    expect(solveSpd(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toBe(false);
  });

  it('fits Rosenbrock\'s residuals from (−1.2, 1) through the curved valley, never accepting a worse point', () => {
    // r = (10 (y − x²), 1 − x), C = Σ r², minimum 0 at (1, 1): the classic test of damped Gauss–Newton
    const residuals = (x: number, y: number) => [10 * (y - x * x), 1 - x];
    const jacobian = (x: number) => [[-20 * x, 10], [-1, 0]];
    const lm = new LevenbergMarquardtBatch(1, 2, { damping: 1e-2, maxStep: 10 });
    const p = Float64Array.from([-1.2, 1]), best = Float64Array.from(p);
    let bestCost = Infinity;
    const bestCosts: number[] = [];
    for (let it = 0; it < 60; it++) {
      const r = residuals(p[0], p[1]), J = jacobian(p[0]);
      const cost = r[0] ** 2 + r[1] ** 2;
      const improved = cost < bestCost;
      if (improved) [bestCost, best[0], best[1]] = [cost, p[0], p[1]];
      bestCosts.push(bestCost);
      const gradient = [0, 1].map((j) => 2 * (J[0][j] * r[0] + J[1][j] * r[1]));
      const jtj = [0, 1].flatMap((j) => [0, 1].map((l) => J[0][j] * J[0][l] + J[1][j] * J[1][l]));
      lm.next(0, p, best, improved, gradient, jtj);
    }
    expect(bestCost).toBeLessThan(1e-12);
    expect(Math.abs(best[0] - 1)).toBeLessThan(1e-6);
    expect(Math.abs(best[1] - 1)).toBeLessThan(1e-6);
    for (let k = 1; k < bestCosts.length; k++) expect(bestCosts[k]).toBeLessThanOrEqual(bestCosts[k - 1]);
  });

  it('refuses settings outside their ranges', () => {
    expect(() => new LevenbergMarquardtBatch(1, 1, { damping: 0, maxStep: 1 })).toThrow(/levenbergMarquardt\.damping must be > 0/);
    expect(() => new LevenbergMarquardtBatch(1, 1, { damping: 1, maxStep: -1 })).toThrow(/levenbergMarquardt\.maxStep must be > 0/);
  });
});

// A silent Prinz cell at rest (−49.0 mV, [Ca] 0.91 µM): started from the steady state and past a
// 1.5 s discard, the run sits at its fixed point, whose mean V and mean [Ca] move smoothly with gCaS
// and gA and in different proportions, so the two targets pin both down. (From the cold start the
// cell fires a few spikes first, and their number, a whole number, makes the cost rugged.) The box,
// a factor 1.45 either way, stays silent.
const CELL = { gNa: 100, gCaT: 1, gCaS: 2, gA: 20, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 };
const FIT: FitSpecInput = {
  model: 'prinz', dtMs: 0.1, durationMs: 2500, discardMs: 1500, init: 'steady', engine: 'cpu',
  fixed: { gNa: 100, gCaT: 1, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 },
  cost: [{ mean: 'Ca' }, { mean: 'V', scale: 1 }],
  target: CELL,
  parameters: { gCaS: [1.4, 2.9], gA: [14, 29] },
  starts: 6, seed: 3, iterations: 150,
  // a cost of features only would default to cma-es: these tests are about the gradient optimisers
  optimizer: 'adam', adam: { learningRate: 0.05, clipNorm: 1 },
  stopping: { patience: 30, minImprovement: 1e-3, costBelow: 1e-8 },
  randomSearch: true, chunkSize: 100,
};

describe('a small real fit', () => {
  it('recovers gCaS and gA of a silent cell from mean [Ca] and mean V, from most random starts', async () => {
    const r = await runFit(FIT);
    // a start has converged when both parameters are within 1 % of the truth; the cost is a smooth bowl
    // here, so every start should, but the test asks for 5 of 6 (a start in a corner of the box may
    // take longer than the iteration budget)
    const recovered = r.starts.filter((s) => {
      const p = paramsOf(r.problem, s.best);
      return Math.abs(p.gCaS / 2 - 1) < 0.01 && Math.abs(p.gA / 20 - 1) < 0.01;
    });
    expect(recovered.length, JSON.stringify(r.starts.map((s) => [s.bestCost, paramsOf(r.problem, s.best)]))).toBeGreaterThanOrEqual(5);
    // the starts did start apart
    const initial = r.starts.map((s) => paramsOf(r.problem, s.initial).gCaS);
    expect(Math.max(...initial) / Math.min(...initial)).toBeGreaterThan(1.3);
    // early stopping: converged starts stopped before the budget, and the history adds up
    expect(r.starts.some((s) => s.stopped === 'converged' && s.evaluations < 150), JSON.stringify(r.starts.map((s) => [s.stopped, s.evaluations, s.bestCost]))).toBe(true);
    expect(r.history.reduce((a, h) => a + h.active, 0)).toBe(r.evaluations);
    expect(r.evaluations).toBe(r.starts.reduce((a, s) => a + s.evaluations, 0));
    // the table: one row per start
    const columns = fitColumns(r);
    expect(columns.map((c) => c.name)).toEqual(['start', 'stopped', 'evaluations', 'cost', 'gCaS', 'gA', 'initial_gCaS', 'initial_gA', 'cost_mean_Ca', 'cost_mean_V']);

    // the baseline: as many evaluations as the fit, one group per start, each group's best re-evaluated
    const search = r.randomSearch!;
    expect(search.evaluations).toBe(r.evaluations);
    expect(search.groups.length).toBe(6);
    const again = await evaluatePoints(r.problem, [0, 1].map((d) => Float64Array.from(search.groups, (g) => g.best[d])), { gradient: false });
    search.groups.forEach((g, k) => expect(again.cost[k]).toBeCloseTo(g.bestCost, 14));
    // a zero-order search with ~30 evaluations per group does not get near a 1 % fit
    const bestFit = Math.min(...r.starts.map((s) => s.bestCost));
    expect(bestFit).toBeLessThan(Math.min(...search.groups.map((g) => g.bestCost)));
  });

  it('Levenberg–Marquardt recovers both conductances from every start in a few steps', async () => {
    // the Gauss–Newton matrix of mean [Ca] and mean V pins both directions at once. Measured: every
    // start reached cost < 1e-8 (converged) after 4-5 evaluations; Adam above took 38-138 and
    // stalled at 4 of the 6 starts (one 4 % off in gA). The test allows 10.
    const r = await runFit({ ...FIT, optimizer: 'levenberg-marquardt', iterations: 40, randomSearch: false });
    for (const s of r.starts) {
      expect(s.stopped, `start ${s.start}`).toBe('converged');
      expect(s.evaluations, `start ${s.start}`).toBeLessThanOrEqual(10);
      const p = paramsOf(r.problem, s.best);
      expect(Math.abs(p.gCaS / 2 - 1), `start ${s.start}: ${JSON.stringify(p)}`).toBeLessThan(0.01);
      expect(Math.abs(p.gA / 20 - 1), `start ${s.start}: ${JSON.stringify(p)}`).toBeLessThan(0.01);
    }
    expect(r.evaluations).toBe(r.starts.reduce((a, s) => a + s.evaluations, 0));
  });

  it('with screen, each start begins at the lowest-cost of its own candidates, counted in the evaluations', async () => {
    const starts = 3, screen = 5;
    const r = await runFit({ ...FIT, starts, screen, iterations: 3 });
    expect(r.screenEvaluations).toBe(starts * screen);
    expect(r.evaluations).toBe(starts * screen + r.history.reduce((a, h) => a + h.active, 0));
    expect(r.evaluations).toBe(r.starts.reduce((a, s) => a + s.evaluations, 0));
    // the candidates re-evaluated on their own: points 0 .. starts·screen − 1 of the box sampler,
    // start i's are the i-th run of `screen`
    const box = { logLow: Float64Array.from([1.4, 14], Math.log), logHigh: Float64Array.from([2.9, 29], Math.log), seed: FIT.seed! };
    const candidates = [0, 1].map((d) => Float64Array.from({ length: starts * screen }, (_, j) => boxPoint(box, j, d)));
    const costs = (await evaluatePoints(r.problem, candidates, { gradient: false })).cost;
    r.starts.forEach((s, i) => {
      const own = [...Array(screen).keys()].map((k) => i * screen + k);
      const best = own.reduce((b, j) => (costs[j] < costs[b] ? j : b));
      expect(Array.from(s.initial), `start ${i}`).toEqual([candidates[0][best], candidates[1][best]]);
      // Adam never ends above where it began
      expect(s.bestCost).toBeLessThanOrEqual(costs[best] * (1 + 1e-12));
    });
    // the baseline draws points after the candidates, as many as the fit evaluated in all
    expect(r.randomSearch!.evaluations).toBe(r.evaluations);
    expect(r.randomSearch!.groups.every((g) => g.bestIndex >= starts * screen)).toBe(true);
  });

  it('spec errors name the field and the allowed values', async () => {
    await expect(runFit({ ...FIT, parameters: { gCaS: [0, 4] } })).rejects.toThrow(/fit spec: parameters\.gCaS must be \[low, high\] with 0 < low < high/);
    await expect(runFit({ ...FIT, parameters: { gFoo: [1, 2] } })).rejects.toThrow(/unknown parameter 'gFoo' for model prinz/);
    await expect(runFit({ ...FIT, starts: 0 })).rejects.toThrow(/fit spec: starts must be an integer in \[1, 1000000\]/);
    await expect(runFit({ ...FIT, screen: 0 })).rejects.toThrow(/fit spec: screen must be an integer in \[1, 100000\]/);
    await expect(runFit({ ...FIT, optimizer: 'newton' as never })).rejects.toThrow(/fit spec: optimizer must be one of adam, levenberg-marquardt, cma-es, got 'newton'/);
    await expect(runFit({ ...FIT, adam: { learningRate: -1 } })).rejects.toThrow(/fit spec: adam\.learningRate must be > 0/);
    await expect(runFit({ ...FIT, target: undefined })).rejects.toThrow(/cost term 'mean Ca' has no target: give one, or give target parameters/);
    await expect(runFit({ ...FIT, parameters: { gCaS: [1, 4], gKd: [10, 100] } })).rejects.toThrow(/parameter gKd is both varied and fixed/);
  });
});
