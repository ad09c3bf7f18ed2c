/**
 * Minimally disruptive curves (src/jobs/curve/*): the discretised dynamics on analytic costs whose
 * level sets are known, the Hessian and eigen helpers against exact answers, and a curve for the
 * mean-[Ca] cost of a Prinz cell, every point of which (and every midpoint between neighbours) is
 * re-simulated on its own with the f64 CPU engine.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { hessianFromGradients, hessianStencil, symmetricEigen } from '../src/jobs/curve/hessian.ts';
import { advance, startCurve, trialPoint, type CurveOptions } from '../src/jobs/curve/mdc.ts';
import { curveColumns, curvePoints, runCurve, type CurveResult } from '../src/jobs/curve/run.ts';
import type { CurveSpecInput } from '../src/jobs/curve/spec.ts';
import { renderSvg } from '../src/io/plot/figure.ts';
import { curveSpec } from '../src/io/plot/curve-figure.ts';

/** Runs the discrete dynamics on an analytic cost (no simulation). */
function evolve(cost: (p: Float64Array) => number, grad: (p: Float64Array) => number[], start: number[], v: number[], options: CurveOptions) {
  const state = startCurve(start, v, cost(Float64Array.from(start)), grad(Float64Array.from(start)), options, 0.01);
  const path: Float64Array[] = [Float64Array.from(start)];
  while (!state.stopped) {
    const trial = trialPoint(state, options);
    const before = state.steps;
    advance(state, trial, cost(trial), grad(trial), options);
    if (state.steps > before) path.push(trial);
  }
  return { state, path };
}

describe('the curve dynamics on analytic costs', () => {
  // C = (r² − 1)²: a ring-shaped valley of radius 1, zero on it
  const ring = (p: Float64Array) => (p[0] ** 2 + p[1] ** 2 - 1) ** 2;
  const ringGrad = (p: Float64Array) => [0, 1].map((i) => 4 * (p[0] ** 2 + p[1] ** 2 - 1) * p[i]);
  const base: CurveOptions = { ceiling: 1e-4, length: 2, maxSteps: 5000, minStep: 1e-6, maxStep: 0.05, maxTurn: 0.3, levelSet: true };

  for (const levelSet of [true, false]) {
    it(`${levelSet ? 'level-set mode' : 'plain MDC dynamics'}: follows a curved valley, never above the ceiling`, () => {
      const { state, path } = evolve(ring, ringGrad, [1, 0], [0, 1], { ...base, levelSet });
      expect(state.stopped).toBe('length');
      for (const p of path) expect(ring(p)).toBeLessThanOrEqual(base.ceiling);
      // arc length 2 along the unit circle from (1, 0) ends near angle 2 rad; the plain dynamics bounce
      // between the valley's walls, which spends some of the length (measured: 1.77 rad), the
      // level-set mode does not (1.99 rad); neither ever turns back
      const end = path[path.length - 1];
      expect(Math.atan2(end[1], end[0])).toBeGreaterThan(levelSet ? 1.95 : 1.6);
      expect(Math.atan2(end[1], end[0])).toBeLessThan(2.05);
      for (let k = 1; k < path.length; k++) expect(Math.atan2(path[k][1], path[k][0])).toBeGreaterThanOrEqual(Math.atan2(path[k - 1][1], path[k - 1][0]) - 1e-9);
    });
  }

  it('stops at the ceiling where every direction climbs', () => {
    // a bowl: C = x² + y², start at the bottom; the curve may climb only until C = 0.01 (radius 0.1)
    const bowl = (p: Float64Array) => p[0] ** 2 + p[1] ** 2;
    const { state, path } = evolve(bowl, (p) => [2 * p[0], 2 * p[1]], [0, 0], [1, 0], { ...base, ceiling: 0.01, levelSet: false });
    expect(state.stopped).toBe('cost ceiling');
    for (const p of path) expect(bowl(p)).toBeLessThanOrEqual(0.01);
    expect(Math.hypot(...path[path.length - 1])).toBeGreaterThan(0.09);
  });
});

describe('Hessian from gradients, and its eigenvectors', () => {
  it('recovers the Hessian of a quadratic exactly and sorts eigenpairs ascending', () => {
    const A = [[4, 1, 0], [1, 3, 0.5], [0, 0.5, 0.001]];
    const theta0 = [0.3, -0.2, 1];
    const stencil = hessianStencil(theta0, 1e-3);
    // gradient of ½ θᵀAθ is Aθ: gradient[j][k] at stencil point k
    const gradient = [0, 1, 2].map((j) => Float64Array.from({ length: 6 }, (_, k) => A[j].reduce((s, a, i) => s + a * stencil[i][k], 0)));
    const H = hessianFromGradients(gradient, 1e-3);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expect(H[a][b]).toBeCloseTo(A[a][b], 10);
    const { values, vectors } = symmetricEigen(H);
    expect(values[0]).toBeLessThan(values[1]);
    expect(values[1]).toBeLessThan(values[2]);
    vectors.forEach((v, k) => {
      // A v = λ v and |v| = 1
      const Av = A.map((row) => row.reduce((s, a, i) => s + a * v[i], 0));
      Av.forEach((x, i) => expect(x).toBeCloseTo(values[k] * v[i], 10));
      expect(Math.hypot(...v)).toBeCloseTo(1, 12);
    });
    // trace and determinant are invariants
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(4 + 3 + 0.001, 10);
  });
});

// A silent Prinz cell at rest (started at its steady state; a 1.5 s discard): mean [Ca] is a smooth
// function of the conductances. The curve starts along log gCaS, a conductance the cost depends on
// strongly, so it must trade gCaS against others to keep mean [Ca].
const START = { gNa: 100, gCaT: 1, gCaS: 2, gA: 20, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 };
const SPEC: CurveSpecInput = {
  model: 'prinz', dtMs: 0.1, durationMs: 2500, discardMs: 1500, init: 'steady', engine: 'cpu',
  start: START,
  cost: [{ mean: 'Ca' }],
  parameters: CONDUCTANCE_NAMES.map((g) => `log:${g}`),
  direction: { 'log:gCaS': 1 },
  // cost = ((m − m0)/m0)²: a ceiling of 5e-5 keeps every point within 0.71 % of the start's mean [Ca]
  momentum: 5e-5,
  length: 1,
  maxSteps: 200,
};

describe('a minimally disruptive curve for the mean-[Ca] cost', () => {
  let r: CurveResult;
  beforeAll(async () => {
    r = await runCurve(SPEC);
  });

  it('travels in both directions and changes some conductance by at least a factor 2', () => {
    // the target is the start's own mean [Ca], from a run with the conductances folded in as
    // constants; the start point's run has them per instance, and the two round differently (a
    // relative 1e-16 in the mean, squared)
    expect(r.start.cost).toBeLessThan(1e-24);
    expect(r.branches.map((b) => b.stopped)).toEqual(['length', 'length']);
    const points = curvePoints(r);
    // a branch stops once it has travelled the length; the last step's corrector may add a little
    expect(points[0].s).toBeLessThanOrEqual(-1);
    expect(points[0].s).toBeGreaterThan(-1.01);
    expect(points[points.length - 1].s).toBeGreaterThanOrEqual(1);
    expect(points[points.length - 1].s).toBeLessThan(1.01);
    expect(r.changes[0].factor!, JSON.stringify(r.changes)).toBeGreaterThanOrEqual(2);
    for (const p of points) expect(p.cost).toBeLessThanOrEqual(r.ceiling);
  });

  it('keeps mean [Ca] within 1 % of its start value at every point and midpoint, re-simulated on its own', async () => {
    const points = curvePoints(r);
    const at: number[][] = [];
    for (let k = 0; k < points.length; k++) {
      at.push(Array.from(points[k].coords));
      if (k + 1 < points.length) at.push(Array.from(points[k].coords, (x, d) => (x + points[k + 1].coords[d]) / 2));
    }
    const program = compile(libraryModel('prinz'), { dtMs: 0.1, init: 'steady', instanceParams: [...CONDUCTANCE_NAMES] });
    const params = Object.fromEntries(CONDUCTANCE_NAMES.map((g, d) => [g, at.map((x) => Math.exp(x[d]))]));
    const [again, start] = await Promise.all([
      runCpu({ program, N: at.length, params, durationMs: 2500, discardMs: 1500 }),
      runCpu({ program, N: 1, params: Object.fromEntries(CONDUCTANCE_NAMES.map((g) => [g, [START[g]]])), durationMs: 2500, discardMs: 1500 }),
    ]);
    const ca0 = start.observed[1].mean[0];
    const deviation = Array.from(again.observed[1].mean, (m) => Math.abs(m / ca0 - 1));
    expect(Math.max(...deviation), 'largest relative change of mean [Ca] along the curve').toBeLessThan(0.01);
    // the path points themselves reproduce the curve's own costs
    for (let k = 0; k < points.length; k++) expect(deviation[2 * k] ** 2).toBeCloseTo(points[k].cost, 10);
    // and the curve really moved: the ends are far apart in parameter space
    const ends = [points[0], points[points.length - 1]].map((p) => Array.from(p.coords));
    expect(Math.hypot(...ends[0].map((x, d) => x - ends[1][d]))).toBeGreaterThan(1.2);
  });

  it('tables and plots the path', async () => {
    const columns = curveColumns(r);
    expect(columns.map((c) => c.name)).toEqual(['s', ...CONDUCTANCE_NAMES, 'cost', 'cost_mean_Ca']);
    expect(columns[0].data.length).toBe(curvePoints(r).length);
    const spec = curveSpec(r) as unknown as { vconcat: { data?: { values: { parameter: string }[] } }[] };
    expect(new Set(spec.vconcat[0].data!.values.map((v) => v.parameter)).size).toBe(8);
    const svg = await renderSvg(spec as never);
    expect(svg).toContain(`${r.changes[0].param} ×`);
    expect(svg).toContain('ceiling');
    expect(svg).not.toContain('NaN');
  });

  it('spec errors name the field and the allowed values', async () => {
    await expect(runCurve({ ...SPEC, momentum: 0 })).rejects.toThrow(/curve spec: momentum must be > 0/);
    await expect(runCurve({ ...SPEC, parameters: ['log:gCaS'] })).rejects.toThrow(/curve spec: parameters needs at least two parameters/);
    await expect(runCurve({ ...SPEC, direction: { 'log:gFoo': 1 } })).rejects.toThrow(/curve spec: direction\.log:gFoo: not one of the parameters log:gNa, /);
    await expect(runCurve({ ...SPEC, direction: 'steepest' } as never)).rejects.toThrow(/curve spec: direction must be 'hessian' or a vector/);
    await expect(runCurve({ ...SPEC, start: { gLeak: 0 } })).rejects.toThrow(/curve spec: start: parameter gLeak = 0 has no logarithm/);
    await expect(runCurve({ ...SPEC, step: { initial: 1, max: 0.1 } })).rejects.toThrow(/step must satisfy min ≤ initial ≤ max/);
  });
});
