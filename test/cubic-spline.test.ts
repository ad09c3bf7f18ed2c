/**
 * The natural cubic spline that resamples recordings between their samples (data.interpolation:
 * cubic). Independent truth: a smooth function whose values are known everywhere. Away from the ends
 * (where the natural end condition M = 0 costs accuracy) a cubic spline's error falls as h⁴, so
 * halving the sampling interval divides it by about 16; straight lines fall as h² (by 4).
 */
import { describe, expect, it } from 'vitest';
import { splineAt, splineCurvatures } from '../src/engine/cubic-spline.ts';
import { compile } from '../src/compile/compile.ts';
import { libraryModel } from '../src/channels/index.ts';
import { inputLayoutOf, packInputs } from '../src/engine/inputs.ts';
import { makePlan } from '../src/engine/plan.ts';

/** Largest error of the spline of sin on [0, 10] sampled every h, at the midpoints of [3, 7]. */
function midpointError(h: number, f = Math.sin): { spline: number; linear: number } {
  const n = Math.round(10 / h) + 1;
  const values = Float64Array.from({ length: n }, (_, k) => f(k * h));
  const m = splineCurvatures(values, 0, n);
  let spline = 0, linear = 0;
  for (let k = Math.round(3 / h); k < Math.round(7 / h); k++) {
    const truth = f((k + 0.5) * h);
    spline = Math.max(spline, Math.abs(splineAt(values, 0, m, k, 0.5) - truth));
    linear = Math.max(linear, Math.abs(0.5 * (values[k] + values[k + 1]) - truth));
  }
  return { spline, linear };
}

describe('natural cubic spline of a recording', () => {
  it('passes through every sample, and its interior error falls as h⁴ (lines: h²)', () => {
    const values = Float64Array.from({ length: 40 }, (_, k) => Math.exp(-k / 9) * Math.cos(k / 3));
    const m = splineCurvatures(values, 0, 40);
    for (let k = 0; k < 39; k++) {
      expect(splineAt(values, 0, m, k, 0)).toBeCloseTo(values[k], 14);
      expect(splineAt(values, 0, m, k, 1)).toBeCloseTo(values[k + 1], 14);
    }
    expect(m[0]).toBe(0);
    expect(m[39]).toBe(0);
    const coarse = midpointError(0.2), fine = midpointError(0.1);
    // (0.2/0.1)⁴ = 16: measured 16.0 ± rounding; lines: 4
    expect(coarse.spline / fine.spline).toBeGreaterThan(14);
    expect(coarse.spline / fine.spline).toBeLessThan(18);
    expect(coarse.linear / fine.linear).toBeGreaterThan(3.8);
    expect(coarse.linear / fine.linear).toBeLessThan(4.2);
    // and far below the straight line at the same sampling
    expect(fine.spline).toBeLessThan(fine.linear / 50);
  });

  it('solves the tridiagonal system: M[k−1] + 4M[k] + M[k+1] = 6·(second difference) at every interior sample', () => {
    const values = Float64Array.from({ length: 25 }, (_, k) => ((k * 7919) % 13) - 6);
    const m = splineCurvatures(values, 0, 25);
    for (let k = 1; k < 24; k++) expect(m[k - 1] + 4 * m[k] + m[k + 1]).toBeCloseTo(6 * (values[k + 1] - 2 * values[k] + values[k - 1]), 10);
  });

  it('resamples a recording onto a finer step grid with interpolation: cubic (samples kept exactly)', () => {
    const program = compile(libraryModel('hh'), { dtMs: 0.01, currentInput: 'I' });
    const plan = makePlan({ dtMs: 0.01, durationMs: 8 });
    const h = 0.1;
    const values = Float64Array.from({ length: 81 }, (_, k) => Math.sin(k * h));
    const inputs = { I: { values, intervalMs: h, interpolation: 'cubic' as const } };
    const out = packInputs(program, inputs, inputLayoutOf(program, inputs, plan, 1), plan, 1, 0, 1, (n) => new Float64Array(n));
    for (let s = 0; s <= 800; s++) {
      if (s % 10 === 0) expect(out[s]).toBe(values[s / 10]);
      // interior: within the spline's error bound for sin at h = 0.1 (5·h⁴/384 · max|f⁗| = 1.3e-6)
      if (s > 200 && s < 600) expect(Math.abs(out[s] - Math.sin(s * 0.01))).toBeLessThan(1.5e-6);
    }
  });
});
