/**
 * The teacher-forcing fit's optimiser (conductance-gauss-newton.ts) on residuals exactly linear in
 * the conductances, r = A·g − b, whose least-squares answer is known in closed form: it lands there in
 * a few steps from starts far away, and a conductance whose unconstrained optimum is negative stops at
 * its lower bound while the others reach the optimum of the reduced problem.
 */
import { describe, expect, it } from 'vitest';
import { ConductanceGaussNewtonBatch } from '../src/jobs/fit/conductance-gauss-newton.ts';
import { solveSpd } from '../src/jobs/fit/levenberg-marquardt.ts';

const A = [[2, 1, 0.5], [1, 3, 0.2], [0.3, 0.4, 1], [1, 1, 1]];
const D = 3;

/** Cost, gradient and JᵀJ with respect to log g, as the engines return them. */
function evaluate(logG: ArrayLike<number>, b: number[]) {
  const g = Array.from(logG, Math.exp);
  const r = A.map((row, i) => row.reduce((s, a, d) => s + a * g[d], 0) - b[i]);
  const cost = r.reduce((s, v) => s + v * v, 0);
  const gradient = Array.from({ length: D }, (_, d) => 2 * g[d] * A.reduce((s, row, i) => s + row[d] * r[i], 0));
  const jtj = Array.from({ length: D * D }, (_, k) => {
    const [p, q] = [Math.floor(k / D), k % D];
    return g[p] * g[q] * A.reduce((s, row) => s + row[p] * row[q], 0);
  });
  return { cost, gradient, jtj };
}

/** The least-squares g over the coordinates `free` (the others at `fixed`), by the normal equations. */
function leastSquares(b: number[], free: number[], fixed: number[]) {
  const rhs = b.map((v, i) => v - fixed.reduce((s, g, d) => s + (free.includes(d) ? 0 : A[i][d] * g), 0));
  const F = free.length;
  const M = Float64Array.from({ length: F * F }, (_, k) => A.reduce((s, row) => s + row[free[Math.floor(k / F)]] * row[free[k % F]], 0));
  const x = Float64Array.from(free, (d) => A.reduce((s, row, i) => s + row[d] * rhs[i], 0));
  expect(solveSpd(M, x, F)).toBe(true);
  return x;
}

function fit(b: number[], start: number[], lower: number[]) {
  const opt = new ConductanceGaussNewtonBatch(1, D, 1e-3, lower.map(Math.log), [10, 10, 10]);
  const x = Float64Array.from(start, Math.log);
  const best = Float64Array.from(x);
  let bestCost = Infinity, evaluations = 0;
  for (; evaluations < 30; evaluations++) {
    const e = evaluate(x, b);
    const improved = e.cost < bestCost;
    if (improved) {
      bestCost = e.cost;
      best.set(x);
    }
    opt.next(0, x, best, improved, e.gradient, e.jtj);
    if (improved && Math.max(...x.map((v, d) => Math.abs(v - best[d]))) < 1e-12) break;
  }
  return { g: Array.from(best, Math.exp), evaluations };
}

describe('Gauss–Newton in the conductances', () => {
  it('reaches the least-squares answer of a linear residual in a few steps from starts 10× off', () => {
    const truth = [0.7, 1.3, 0.4];
    const b = A.map((row) => row.reduce((s, a, d) => s + a * truth[d], 0) + 0.01);
    const answer = leastSquares(b, [0, 1, 2], [0, 0, 0]);
    for (const start of [[7, 0.13, 4], [0.07, 13, 0.04]]) {
      const { g, evaluations } = fit(b, start, [1e-6, 1e-6, 1e-6]);
      g.forEach((v, d) => expect(Math.abs(v / answer[d] - 1)).toBeLessThan(1e-9));
      expect(evaluations).toBeLessThan(10);
    }
  });

  it('holds a conductance whose optimum is negative at its lower bound and solves for the others', () => {
    // data that g3 < 0 would fit best
    const b = A.map((row) => row[0] * 1 + row[1] * 1 - row[2] * 0.8);
    expect(leastSquares(b, [0, 1, 2], [0, 0, 0])[2]).toBeLessThan(0);
    const floor = 1e-4;
    const { g } = fit(b, [0.5, 2, 0.5], [1e-6, 1e-6, floor]);
    expect(g[2]).toBeCloseTo(floor, 12);
    const reduced = leastSquares(b, [0, 1], [0, 0, floor]);
    expect(Math.abs(g[0] / reduced[0] - 1)).toBeLessThan(1e-8);
    expect(Math.abs(g[1] / reduced[1] - 1)).toBeLessThan(1e-8);
  });
});
