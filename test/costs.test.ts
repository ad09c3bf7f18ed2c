/**
 * Costs and their gradients (src/analysis/costs.ts, src/jobs/cost/*).
 *
 * The gradient of every cost term, and of their weighted sum, is checked against central finite
 * differences of the same cost, computed by the same engine at perturbed points (all points of one
 * check run as one ensemble). The run is short (250 ms from the cold start of prinz, spiking from
 * the first 100 ms): over seconds of bursting the cost depends on spike timing so sensitively that
 * no difference quotient in f64 is accurate to 1e-5 (see tangents.test.ts), which would test the
 * reference rather than the gradient.
 *
 * Finite differences: central, Richardson-extrapolated from steps h and h/2, so truncation is O(h⁴).
 * The step is chosen per coordinate so that every step changes the cost by about as much:
 * h_d = 2e-6 · G/|g_d| (G the largest gradient component), within [2e-6, 1e-4]. A uniform step
 * cannot serve all coordinates: the smoothed rate bends so sharply with log gNa and log gCaS that
 * h = 1e-5 leaves 6e-5 of truncation, while d/d log gH is 4,000 times smaller than the largest
 * component and at h = 2e-6 drowns in roundoff (1e-5 of itself). The bound, relative error < 1e-5
 * per component, is the issue's; components below 1e-4 of a term's largest component are compared
 * against that floor instead (their quotient is mostly roundoff).
 *
 * Measured (largest error per term, `COST_ERRORS=1` prints them): mean Ca 1.3e-7, mean V 1.8e-7,
 * smoothed rate 2.6e-6, low-passed V trace 1.2e-7, Ca trace 4.7e-9, tapered mean Ca 7.3e-8, sum 4.5e-7.
 *
 * GPU (f32): the gradient must be within 2 % of the f64 finite difference. Over 250 ms the f32 and
 * f64 trajectories have not separated (gpu-engine.test.ts), so the remaining error is f32 rounding
 * of the cost's own arithmetic. Measured on lavapipe: smoothed rate 0.68 %, V trace 6e-4, the others
 * ≤ 4e-5, sum 2.1e-4.
 */
import process from 'node:process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCosts, lowPassInPlace, traceWindow } from '../src/analysis/costs.ts';
import { coordinatesOf, evaluatePoints, resolveCost, type CostProblem, type PointValues } from '../src/jobs/cost/problem.ts';
import { parseCostSettings } from '../src/jobs/cost/spec.ts';
import { InputError } from '../src/errors.ts';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();

const SETTINGS = {
  model: 'prinz', dtMs: 0.025, durationMs: 250, discardMs: 50, traceEveryMs: 0.5, engine: 'cpu',
  cost: [
    { mean: 'Ca' },
    { mean: 'V', scale: 1, weight: 0.5 },
    { rate: true, target: 25 },
    { trace: 'V', lowPassMs: 10, fromMs: 100 },
    { trace: 'Ca', weight: 2 },
    { mean: 'Ca', taper: true, weight: 0.7 },
  ],
  // the targets come from a neighbouring cell, so every term is away from its minimum
  target: { gNa: 300, gCaS: 5, gKd: 120, gA: 40, gLeak: 0.02 },
};
const KEYS = ['log:gNa', 'log:gCaT', 'log:gCaS', 'log:gA', 'log:gKCa', 'log:gKd', 'log:gH', 'gLeak'];
// AB/PD 1 with a small leak, in the coordinates above
const POINT = [400, 2.5, 6, 50, 10, 100, 0.01].map(Math.log).concat([0.01]);
const H0 = 2e-6, H_MAX = 1e-4;
/** largest relative error per check, printed with COST_ERRORS=1 (to document measured errors) */
const worst = new Map<string, number>();
afterAll(() => {
  if (process.env.COST_ERRORS) console.log(JSON.stringify(Object.fromEntries([...worst].map(([k, v]) => [k, Number(v.toExponential(2))]))));
});

async function problemOn(engine: 'cpu' | 'gpu'): Promise<CostProblem> {
  const setup = parseCostSettings({ ...SETTINGS, engine });
  return resolveCost(setup, coordinatesOf(setup, KEYS));
}

/** Richardson-extrapolated central differences of every term and of the total, from one ensemble run. */
async function finiteDifferences(problem: CostProblem, gradient: number[]): Promise<{ total: number[]; terms: number[][] }> {
  const D = POINT.length;
  const G = Math.max(...gradient.map(Math.abs));
  const steps = gradient.map((g) => Math.min(H_MAX, Math.max(H0, (H0 * G) / Math.abs(g))));
  const columns: number[][] = POINT.map(() => []);
  for (let d = 0; d < D; d++) {
    const h = steps[d];
    for (const step of [h, -h, h / 2, -h / 2]) POINT.forEach((x, e) => columns[e].push(x + (e === d ? step : 0)));
  }
  const fd = await evaluatePoints(problem, columns, { gradient: false });
  const derivative = (value: Float64Array, d: number) => {
    const h = steps[d];
    const wide = (value[4 * d] - value[4 * d + 1]) / (2 * h);
    const narrow = (value[4 * d + 2] - value[4 * d + 3]) / h;
    return narrow + (narrow - wide) / 3;
  };
  return {
    total: POINT.map((_, d) => derivative(fd.cost, d)),
    terms: fd.terms.map((t) => POINT.map((_, d) => derivative(t.value, d))),
  };
}

/** Per component: |got − want| / max(|want|, floorFraction · largest |want|) < relative. */
function expectClose(label: string, got: number[], want: number[], relative: number, floorFraction = 1e-4) {
  const floor = floorFraction * Math.max(...want.map(Math.abs));
  expect(floor, `${label}: the finite differences are not all zero`).toBeGreaterThan(0);
  want.forEach((w, d) => {
    const err = Math.abs(got[d] - w) / Math.max(Math.abs(w), floor);
    if (process.env.COST_ERRORS) worst.set(label, Math.max(worst.get(label) ?? 0, err));
    expect(err, `${label}, d/d ${KEYS[d]}: gradient ${got[d]}, finite difference ${w}`).toBeLessThan(relative);
  });
}

describe('cost gradients against finite differences (f64 CPU engine)', () => {
  let problem: CostProblem;
  let at: PointValues;
  let fd: { total: number[]; terms: number[][] };
  beforeAll(async () => {
    problem = await problemOn('cpu');
    at = await evaluatePoints(problem, POINT.map((x) => [x]));
    fd = await finiteDifferences(problem, at.gradient.map((g) => g[0]));
  });

  it('every term is away from its minimum (so the check has teeth)', () => {
    for (const t of at.terms) expect(t.value[0], t.label).toBeGreaterThan(1e-4);
    expect(at.terms.map((t) => t.label)).toEqual(['mean Ca', 'mean V', 'smoothed rate', 'trace V (low-pass 10 ms)', 'trace Ca', 'tapered mean Ca']);
  });

  for (const [k, label] of ['mean Ca', 'mean V', 'smoothed rate', 'trace V (low-pass 10 ms)', 'trace Ca', 'tapered mean Ca'].entries()) {
    it(`${label}: relative error < 1e-5`, () => {
      expectClose(label, at.terms[k].gradient.map((g) => g[0]), fd.terms[k], 1e-5);
    });
  }

  it('the weighted sum: relative error < 1e-5, and the terms add up to it', () => {
    expectClose('total', at.gradient.map((g) => g[0]), fd.total, 1e-5);
    const sum = at.terms.reduce((s, t) => s + t.value[0], 0);
    expect(Math.abs(sum - at.cost[0])).toBeLessThanOrEqual(1e-12 * at.cost[0]);
  });

  it.skipIf(!gpu)('GPU engine (f32): gradient within 2 % of the f64 finite difference', async () => {
    const onGpu = await problemOn('gpu');
    const g = await evaluatePoints(onGpu, POINT.map((x) => [x]), { run: { gpu: gpu! } });
    expect(g.result.engine).toBe('gpu');
    // f32 rounds each sample's tangent at ~1e-7 of its largest pieces, which for the smoothed rate
    // cancel (shifting a spike in time does not change the count): the error is then a fraction of the
    // term's largest component, not of each one. Components below 5 % of the largest are compared
    // against 5 % of it (measured errors: ≤ 0.7 % of the largest for the rate, ≤ 1e-3 elsewhere).
    expectClose('total (GPU)', g.gradient.map((x) => x[0]), fd.total, 0.02, 0.05);
    for (const [k, t] of g.terms.entries()) expectClose(`${t.label} (GPU)`, t.gradient.map((x) => x[0]), fd.terms[k], 0.02, 0.05);
  });
});

describe('the Gauss–Newton matrix', () => {
  it('is half the Hessian where every residual vanishes: 2 JᵀJ against differences of the exact gradient (f64)', async () => {
    // targets from POINT's own parameters: every residual is 0 there, so the cost's Hessian is exactly
    // 2 JᵀJ (the Σ r ∇²r part vanishes). The Hessian's columns come from central differences of the
    // tangent gradient, Richardson-extrapolated from steps h and h/2 (h = 2e-5: at 1e-4 the smoothed
    // rate's curvature left 2e-5 of truncation), compared at 2e-6 of the largest entry.
    const params = Object.fromEntries(KEYS.map((k, d) => [k.replace('log:', ''), k.startsWith('log:') ? Math.exp(POINT[d]) : POINT[d]]));
    const setup = parseCostSettings({ ...SETTINGS, target: params, cost: SETTINGS.cost.map((t) => ('target' in t ? { rate: true } : t)) });
    const problem = await resolveCost(setup, coordinatesOf(setup, KEYS));
    // steps of 2e-5 in each log coordinate, and 2e-5 of gLeak's value in its own
    const D = POINT.length, steps = KEYS.map((k, d) => (k.startsWith('log:') ? 2e-5 : 2e-5 * POINT[d]));
    const columns: number[][] = POINT.map(() => []);
    POINT.forEach((x, e) => columns[e].push(x));
    for (let d = 0; d < D; d++) for (const step of [1, -1, 0.5, -0.5]) POINT.forEach((x, e) => columns[e].push(x + (e === d ? step * steps[d] : 0)));
    const r = await evaluatePoints(problem, columns, { gaussNewton: true });
    expect(r.cost[0]).toBeLessThan(1e-20);
    const jtj = r.gaussNewton!.subarray(0, D * D);
    let largest = 0;
    for (const v of jtj) largest = Math.max(largest, Math.abs(v));
    expect(largest).toBeGreaterThan(0);
    for (let l = 0; l < D; l++) {
      for (let j = 0; j < D; j++) {
        const g = (k: number) => r.gradient[j][1 + 4 * l + k];
        const wide = (g(0) - g(1)) / (2 * steps[l]), narrow = (g(2) - g(3)) / steps[l];
        const hessian = narrow + (narrow - wide) / 3;
        expect(Math.abs(2 * jtj[j * D + l] - hessian), `∂²C/∂${KEYS[j]}∂${KEYS[l]}: 2 JᵀJ ${2 * jtj[j * D + l]}, differences ${hessian}`).toBeLessThan(2e-6 * largest);
        expect(jtj[j * D + l]).toBe(jtj[l * D + j]);
      }
    }
  });
});

describe('cost building blocks', () => {
  it('the low-pass filter gives the exact step response of a first-order system at the samples', () => {
    const tau = 7, dt = 0.5;
    const y = lowPassInPlace(Float64Array.from({ length: 200 }, (_, k) => (k === 0 ? 0 : 1)), dt, tau);
    for (let k = 0; k < y.length; k++) expect(y[k]).toBeCloseTo(1 - Math.exp((-k * dt) / tau), 12);
    const same = lowPassInPlace(Float64Array.from([3, 1, 4]), dt, 0);
    expect(Array.from(same)).toEqual([3, 1, 4]);
  });

  it('the trace window includes both ends', () => {
    const times = [0.5, 1, 1.5, 2, 2.5];
    expect(traceWindow(times, 1, 2)).toEqual([1, 4]);
    expect(traceWindow(times, 3, 4)).toEqual([5, 5]);
  });

  it('targets default to the reference run, scales to |target| and to the trace target\'s spread', async () => {
    const problem = await problemOn('cpu');
    const mean = problem.terms[0];
    expect(mean.kind === 'mean' && mean.scale).toBe(mean.kind === 'mean' ? Math.abs(mean.target) : NaN);
    expect(problem.terms[1].scale).toBe(1);
    // at the reference parameters every term is exactly zero
    const ref = SETTINGS.target;
    const at = KEYS.map((k) => {
      const name = k.replace('log:', '');
      const value = (ref as Record<string, number>)[name] ?? problem.setup.model.params[name].value;
      return k.startsWith('log:') ? [Math.log(value)] : [value];
    });
    const r = await evaluatePoints(problem, at);
    // except the rate, whose target the spec gives (25 Hz)
    for (const t of r.terms.filter((x) => x.label !== 'smoothed rate')) expect(t.value[0], t.label).toBeLessThan(1e-20);
    const rate = problem.terms[2];
    expect(rate.kind === 'mean' ? [rate.target, rate.scale] : []).toEqual([25, 25]);
  });

  it('trace terms refuse a run without traces, naming the term', async () => {
    const problem = await problemOn('cpu');
    const r = await evaluatePoints(problem, POINT.map((x) => [x]));
    const untraced = { ...r.result, traces: undefined };
    expect(() => evaluateCosts(untraced, problem.terms)).toThrow(/trace V.*needs traces of every instance/);
  });

  it('spec errors name the field and the allowed values', () => {
    const bad = (cost: unknown[], extra: Record<string, unknown> = {}) => () => parseCostSettings({ ...SETTINGS, ...extra, cost });
    expect(bad([{ mean: 'Ca', weight: -1 }])).toThrow(InputError);
    expect(bad([{ mean: 'Ca', weight: -1 }])).toThrow(/cost\[0\]\.weight must be ≥ 0/);
    expect(bad([{ mean: 'Na' }])).toThrow(/'Na' is not an observed quantity of model prinz; observed: V, Ca/);
    expect(bad([{ median: 'V' }])).toThrow(/cost\[0\] must have one of the keys mean, rate, trace/);
    expect(bad([{ trace: 'V' }], { traceEveryMs: undefined })).toThrow(/cost\[0\]: a trace term needs traceEveryMs/);
    expect(bad([{ trace: 'V', fromMs: 10 }])).toThrow(/window \[fromMs, toMs\] = \[10, 250\] must lie in \[discardMs, durationMs\] = \[50, 250\]/);
    expect(bad([{ rate: { widthMv: 0 } }])).toThrow(/cost\[0\]\.rate\.widthMv must be > 0/);
  });
});
