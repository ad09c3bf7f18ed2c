/**
 * The landscape job (src/jobs/landscape.ts) and its figure (src/io/plot/landscape-figure.ts): every grid
 * point of the one ensemble run equals the same point simulated on its own, the cost and gradient
 * recomputed by hand from the engine's means and tangents; the SVG holds the heatmap, contours and
 * arrows; spec errors name the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { landscapeColumns, runLandscape, type LandscapeResult, type LandscapeSpecInput } from '../src/jobs/landscape.ts';
import { renderSvg } from '../src/io/plot/figure.ts';
import { landscapeSpec } from '../src/io/plot/landscape-figure.ts';

// AB/PD 1 over 400 ms from the cold start (bursting from the first 100 ms), a 4 × 3 grid
const SPEC: LandscapeSpecInput = {
  model: 'prinz', dtMs: 0.025, durationMs: 400, discardMs: 100, engine: 'cpu',
  cost: [{ mean: 'Ca' }, { mean: 'V', scale: 2, weight: 0.5 }],
  target: { gCaS: 5, gKd: 90 },
  x: { parameter: 'log:gCaS', from: 3, to: 12, count: 4 },
  y: { parameter: 'gKd', from: 60, to: 140, count: 3 },
};

describe('landscape', () => {
  let r: LandscapeResult;
  beforeAll(async () => {
    r = await runLandscape(SPEC);
  });

  it('lays out the grid: log-spaced x, linear y, x fastest', () => {
    expect(Array.from(r.x.values).map((v) => Number(v.toPrecision(6)))).toEqual([3, 4.76220, 7.55953, 12]);
    expect(Array.from(r.y.values)).toEqual([60, 100, 140]);
    expect(r.cost.length).toBe(12);
    const columns = landscapeColumns(r);
    expect(columns.map((c) => c.name)).toEqual(['ix', 'iy', 'gCaS', 'gKd', 'cost', 'status', 'divergedAtMs', 'divergedState', 'd_cost_d_log_gCaS', 'd_cost_d_gKd', 'cost_mean_Ca', 'cost_mean_V']);
    const gCaS = columns[2].data as Float64Array, gKd = columns[3].data as Float64Array;
    expect([gCaS[5], gKd[5]]).toEqual([r.x.values[1], 100]);
  });

  it('every grid point equals the point simulated on its own, cost and gradient by hand', async () => {
    // the targets: the reference cell simulated on its own
    const model = libraryModel('prinz');
    const ref = await runCpu({ program: compile(model, { dtMs: 0.025, values: { gCaS: 5, gKd: 90 } }), N: 1, durationMs: 400, discardMs: 100 }, { threads: 1 });
    const [caStar, vStar] = [ref.observed[1].mean[0], ref.observed[0].mean[0]];
    for (const k of [0, 5, 11]) {
      const [ix, iy] = [k % 4, Math.floor(k / 4)];
      const gCaS = r.x.values[ix], gKd = r.y.values[iy];
      const program = compile(model, { dtMs: 0.025, values: { gCaS, gKd }, tangents: ['log:gCaS', 'gKd'] });
      const one = await runCpu({ program, N: 1, durationMs: 400, discardMs: 100 }, { threads: 1 });
      const [V, Ca] = one.observed;
      const eCa = (Ca.mean[0] - caStar) / caStar, eV = (V.mean[0] - vStar) / 2;
      const cost = eCa * eCa + 0.5 * eV * eV;
      const grad = [0, 1].map((j) => (2 * eCa * Ca.meanTangent[j][0]) / caStar + (0.5 * 2 * eV * V.meanTangent[j][0]) / 2);
      // the same f64 arithmetic in a bigger ensemble: equal to rounding of the final sums
      expect(r.cost[k]).toBeCloseTo(cost, 12);
      expect(Math.abs(r.cost[k] - cost)).toBeLessThanOrEqual(1e-12 * Math.max(1, cost));
      expect(Math.abs(r.gradient[0][k] - grad[0])).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(grad[0])));
      expect(Math.abs(r.gradient[1][k] - grad[1])).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(grad[1])));
    }
    expect(Math.max(...r.cost), 'the grid spans more than the target').toBeGreaterThan(1e-3);
  });

  // the data of the figure's layer drawn with `mark` (rect: heatmap, line: contours, rule: arrows)
  const layerData = (spec: unknown, mark: string) => ((spec as { layer: { mark: { type: string }; data: { values: Record<string, number>[] } }[] }).layer
    .find((l) => l.mark.type === mark)?.data.values);

  it('draws a heatmap cell per point, contours, an arrow per point and labelled axes', async () => {
    const spec = landscapeSpec(r);
    expect(layerData(spec, 'rect')).toHaveLength(12);
    expect(layerData(spec, 'line')!.length).toBeGreaterThan(0);
    expect(layerData(spec, 'rule')).toHaveLength(12);
    const svg = await renderSvg(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('gCaS (mS/cm²), log scale');
    expect(svg).toContain('gKd (mS/cm²)');
    expect(svg).toContain('log10 cost');
    expect(svg).not.toContain('NaN');
  });

  it('arrows point down the gradient', () => {
    // a gradient of (−1, 0) everywhere: the cost falls towards larger x, so every arrow points to
    // larger x and is horizontal; (0, −1): every arrow points to larger y (up the page)
    const right = layerData(landscapeSpec({ ...r, gradient: [Float64Array.from(r.cost, () => -1), Float64Array.from(r.cost, () => 0)] }), 'rule')!;
    for (const a of right) {
      expect(a.x2).toBeGreaterThan(a.x); // −gradient = +x
      expect(a.y2).toBeCloseTo(a.y, 6);
    }
    const up = layerData(landscapeSpec({ ...r, gradient: [Float64Array.from(r.cost, () => 0), Float64Array.from(r.cost, () => -1)] }), 'rule')!;
    for (const a of up) expect(a.y2, 'cost falls towards larger y: the arrow points that way').toBeGreaterThan(a.y);
  });

  it('spec errors name the field and the allowed values', async () => {
    await expect(runLandscape({ ...SPEC, x: { ...SPEC.x, count: 1 } })).rejects.toThrow(/landscape spec: x\.count must be an integer in \[2, 1000\]/);
    await expect(runLandscape({ ...SPEC, y: { ...SPEC.y, parameter: 'gFoo' } })).rejects.toThrow(/unknown parameter 'gFoo' for model prinz; allowed: /);
    await expect(runLandscape({ ...SPEC, x: { ...SPEC.x, from: 0 } })).rejects.toThrow(/landscape spec: x: parameter gCaS = 0 has no logarithm/);
    await expect(runLandscape({ ...SPEC, engine: 'tpu' } as never)).rejects.toThrow(/engine must be one of cpu, gpu, auto, got 'tpu'/);
    await expect(runLandscape({ ...SPEC, fixed: { gCaS: 2 } })).rejects.toThrow(/parameter gCaS is both varied and fixed/);
  });
});
