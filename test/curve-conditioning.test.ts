/**
 * Conditioning of minimally disruptive curves (jobs/curve/run.ts with `conditioning`): every point's
 * Gauss–Newton matrix JᵀJ, whose least constrained direction the curve follows, is measured under the
 * two f64 roundoff probes (jobs/cost/conditioning.ts). The gradient is no use here: the cost starts at
 * 0 and its gradient 2Jᵀr with it. The flag is checked against an independent computation, the same
 * points in f32 arithmetic (the CPU engine in f32): where every point is trusted, f32's JᵀJ agrees with
 * f64's within 2 % (the flag's own tolerance); on a cell whose points are flagged, f32's JᵀJ lands more
 * than 2 % off at some of them.
 *
 * Cases: the silent Prinz cell of test/curve.test.ts (mean [Ca] a smooth function of the conductances;
 * measured: spreads about 1e-6 at all 25 points), and a spiking, bursting Prinz cell (gLeak 0.01) whose
 * untapered mean [Ca] over 1-6 s moves by a step with each spike gained or lost (measured: spreads 0.4
 * to 3e4 at all 9 points). On the GPU engine (f32) the points are moved by ±2^-22 instead; there a
 * short curve of the silent cell in three coordinates is trusted everywhere (measured on lavapipe:
 * spreads 5e-7, the GPU's JᵀJ 1.5e-6 off the f64 one). About 45 s here.
 */
import { describe, expect, it } from 'vitest';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { evaluatePoints } from '../src/jobs/cost/problem.ts';
import { curveColumns, curvePoints, runCurve, type CurveResult } from '../src/jobs/curve/run.ts';
import type { CurveSpecInput } from '../src/jobs/curve/spec.ts';
import { curveSpec } from '../src/io/plot/curve-figure.ts';
import { renderSvg } from '../src/io/plot/figure.ts';
import { UNTRUSTED_ARROW } from '../src/io/plot/landscape-figure.ts';
import { gpuForTests } from './gpu-helper.ts';

const SILENT: CurveSpecInput = {
  model: 'prinz', dtMs: 0.1, durationMs: 2500, discardMs: 1500, init: 'steady', engine: 'cpu',
  start: { gNa: 100, gCaT: 1, gCaS: 2, gA: 20, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 },
  cost: [{ mean: 'Ca' }], parameters: CONDUCTANCE_NAMES.map((g) => `log:${g}`), direction: { 'log:gCaS': 1 },
  momentum: 5e-5, length: 0.3, maxSteps: 200,
};
const BURSTING: CurveSpecInput = {
  model: 'prinz', dtMs: 0.05, durationMs: 6000, discardMs: 1000, engine: 'cpu', fixed: { gLeak: 0.01 },
  start: { gCaS: 6, gKCa: 10 }, cost: [{ mean: 'Ca' }], parameters: ['log:gCaS', 'log:gKCa'], direction: { 'log:gCaS': 1 },
  momentum: 1e-3, length: 0.05, maxSteps: 6,
};

/** Relative Frobenius distance of each point's JᵀJ in f32 arithmetic from the curve's own (f64). */
async function f32Distances(r: CurveResult): Promise<number[]> {
  const points = curvePoints(r);
  const D = r.problem.coords.length;
  const f32 = await evaluatePoints(r.problem, Array.from({ length: D }, (_, d) => Float64Array.from(points, (p) => p.coords[d])), { cpu: { precision: 'f32' }, run: { threads: 2 }, gaussNewton: true });
  return points.map((p, i) => {
    const exact = p.gaussNewton!, single = f32.gaussNewton!.subarray(i * D * D, (i + 1) * D * D);
    return Math.hypot(...exact.map((x, e) => single[e] - x)) / Math.hypot(...exact);
  });
}

describe('curve conditioning', () => {
  it('a silent cell: every point trusted, and f32 arithmetic agrees with each point\'s JᵀJ within 2 %', async () => {
    const r = await runCurve(SILENT, { conditioning: true, run: { threads: 2 } });
    const points = curvePoints(r);
    expect(r.branches.map((b) => b.stopped)).toEqual(['length', 'length']);
    expect(r.conditioning).toEqual({ method: 'f64 roundoff probes', untrusted: 0 });
    for (const p of points) {
      expect(p.jacobianTrusted, `s = ${p.s}: spread ${p.jacobianSpread}`).toBe(true);
      expect(p.jacobianSpread).toBeGreaterThan(0);
    }
    for (const [i, off] of (await f32Distances(r)).entries()) expect(off, `s = ${points[i].s}`).toBeLessThan(0.02);
    // the table carries the columns; the figure marks nothing
    const columns = curveColumns(r);
    expect(columns.slice(-2).map((c) => c.name)).toEqual(['jacobianSpread', 'jacobianTrusted']);
    expect(Array.from(columns[columns.length - 1].data as ArrayLike<boolean>)).toEqual(points.map(() => true));
    const svg = await renderSvg(curveSpec(r));
    expect(svg).toContain(`0 of ${points.length} points ill conditioned`);
    expect(svg.toLowerCase()).not.toContain(UNTRUSTED_ARROW);
  }, 120_000);

  it('on the GPU engine (f32, points moved by ±2^-22): a silent cell trusted everywhere, its JᵀJ within 2 % of the f64 engine\'s', async () => {
    const gpu = await gpuForTests();
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const r = await runCurve({ ...SILENT, engine: 'gpu', parameters: ['log:gCaS', 'log:gKd', 'log:gLeak'], length: 0.05 }, { conditioning: true, run: { gpu } });
    expect(r.engine).toBe('gpu');
    expect(r.conditioning).toEqual({ method: 'f32 parameter perturbation', untrusted: 0 });
    const points = curvePoints(r);
    const D = r.problem.coords.length;
    const f64 = await evaluatePoints(r.problem, Array.from({ length: D }, (_, d) => Float64Array.from(points, (p) => p.coords[d])), { cpu: {}, run: { threads: 2 }, gaussNewton: true });
    points.forEach((p, i) => {
      const exact = f64.gaussNewton!.subarray(i * D * D, (i + 1) * D * D);
      expect(Math.hypot(...exact.map((x, e) => p.gaussNewton![e] - x)) / Math.hypot(...exact), `s = ${p.s}`).toBeLessThan(0.02);
    });
  }, 120_000);

  it('a spiking, bursting cell over 1-6 s: points flagged, where f32 arithmetic does land more than 2 % off; the figure marks them', async () => {
    const r = await runCurve(BURSTING, { conditioning: true, run: { threads: 2 } });
    const points = curvePoints(r);
    const flagged = points.filter((p) => p.jacobianTrusted === false);
    expect(flagged.length).toBeGreaterThan(0);
    expect(r.conditioning!.untrusted).toBe(flagged.length);
    const off = await f32Distances(r);
    expect(Math.max(...off.filter((_, i) => !points[i].jacobianTrusted))).toBeGreaterThan(0.02);
    const svg = await renderSvg(curveSpec(r));
    expect(svg).toContain(`${flagged.length} of ${points.length} points ill conditioned`);
    expect(svg.toLowerCase()).toContain(UNTRUSTED_ARROW);
    // without conditioning nothing is measured and the table has no such columns
    const plain = await runCurve({ ...BURSTING, maxSteps: 1 }, { run: { threads: 2 } });
    expect(plain.conditioning).toBeUndefined();
    expect(curveColumns(plain).map((c) => c.name)).not.toContain('jacobianSpread');
  }, 120_000);
});
