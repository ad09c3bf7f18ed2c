/**
 * CMA-ES (jobs/fit/cma-es.ts): the eigen-decomposition it samples with, its convergence on standard
 * test functions of known minimum (Hansen's tutorial reports the same behaviour), and a fit run with
 * `optimizer: cma-es` on a cost of features (costs only, no gradients), and cma-es as the default
 * for features-only fits, reported against the random search of the same run.
 */
import { describe, expect, it } from 'vitest';
import { CmaEs, symmetricEigen } from '../src/jobs/fit/cma-es.ts';
import { runFit } from '../src/jobs/fit/run.ts';
import { parseFitSpec } from '../src/jobs/fit/spec.ts';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cli } from './cli-helper.ts';

const run = (f: (x: Float64Array) => number, D: number, start: number[], generations: number, seed = 1) => {
  const es = new CmaEs(D, start, new Array(D).fill(1), seed);
  let best = Infinity;
  for (let g = 0; g < generations; g++) {
    const xs = es.ask();
    const costs = xs.map(f);
    es.tell(costs);
    best = Math.min(best, ...costs);
  }
  return { best, mean: es.mean };
};

describe('CMA-ES', () => {
  it('decomposes a symmetric matrix: B·diag(w)·Bᵀ rebuilds it and B is orthonormal', () => {
    const C = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
    const { values, vectors: B } = symmetricEigen(C, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let rebuilt = 0, dot = 0;
        for (let k = 0; k < 3; k++) {
          rebuilt += B[i * 3 + k] * values[k] * B[j * 3 + k];
          dot += B[k * 3 + i] * B[k * 3 + j];
        }
        expect(rebuilt).toBeCloseTo(C[i * 3 + j], 12);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });

  it('finds the minimum of an ill-conditioned ellipsoid (condition 1e6) and of Rosenbrock in 8 dimensions', () => {
    const D = 8;
    const ellipsoid = (x: Float64Array) => x.reduce((s, v, i) => s + 10 ** ((6 * i) / (D - 1)) * (v - 1) ** 2, 0);
    const e = run(ellipsoid, D, new Array(D).fill(3), 1000);
    expect(e.best).toBeLessThan(1e-10);
    for (const v of e.mean) expect(Math.abs(v - 1)).toBeLessThan(1e-3);
    const rosenbrock = (x: Float64Array) => {
      let s = 0;
      for (let i = 0; i < D - 1; i++) s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
      return s;
    };
    const r = run(rosenbrock, D, new Array(D).fill(0), 1500);
    expect(r.best).toBeLessThan(1e-8);
  });

  it('ranks non-finite costs last (a diverged candidate never pulls the mean)', () => {
    const D = 2;
    const es = new CmaEs(D, [0, 0], [1, 1], 3);
    for (let g = 0; g < 200; g++) {
      const xs = es.ask();
      es.tell(xs.map((x) => (x[0] > 2 ? NaN : (x[0] - 1) ** 2 + (x[1] + 1) ** 2)));
    }
    expect(es.mean[0]).toBeCloseTo(1, 4);
    expect(es.mean[1]).toBeCloseTo(-1, 4);
  });

  it('fits conductances to features with optimizer: cma-es, lowering every start\'s cost', async () => {
    const r = await runFit({
      model: 'hh', dtMs: 0.05, durationMs: 200, discardMs: 50, engine: 'cpu',
      currentUAPerCm2: 10,
      cost: [{ rate: true }, { mean: 'V' }],
      target: { gNa: 120, gK: 36 },
      parameters: { gNa: [60, 240], gK: [18, 72] },
      starts: 2, iterations: 12, optimizer: 'cma-es', seed: 5,
      stopping: { patience: 12, minImprovement: 0, costBelow: 1e-6 },
    }, { run: { threads: 1 } });
    for (const s of r.starts) {
      expect(s.costs.length).toBeGreaterThan(1);
      expect(s.bestCost).toBeLessThan(s.costs[0]);
      expect(s.bestCost).toBeLessThan(1e-2);
    }
    // λ = 4 + ⌊3 ln 2⌋ = 6 candidates per generation and start
    expect(r.evaluations).toBe(r.starts.reduce((n, s) => n + s.evaluations, 0));
    expect(r.starts[0].evaluations % 6).toBe(0);
  }, 300_000);

  it('is the default for a cost of features only, with random search beside it; adam stays the default with a trace term', () => {
    const base = { model: 'hh', durationMs: 100, target: { gNa: 120 }, parameters: { gNa: [60, 240] } };
    const features = parseFitSpec({ ...base, cost: [{ rate: true }, { mean: 'V' }] });
    expect([features.optimizer, features.randomSearch]).toEqual(['cma-es', true]);
    const trace = parseFitSpec({ ...base, traceEveryMs: 1, cost: [{ mean: 'V' }, { trace: 'V' }] });
    expect([trace.optimizer, trace.randomSearch]).toEqual(['adam', false]);
    // what a spec says wins
    expect(parseFitSpec({ ...base, cost: [{ mean: 'V' }], optimizer: 'levenberg-marquardt' }).optimizer).toBe('levenberg-marquardt');
    expect(parseFitSpec({ ...base, cost: [{ mean: 'V' }], randomSearch: false }).randomSearch).toBe(false);
    expect(parseFitSpec({ ...base, cost: [{ mean: 'V' }], optimizer: 'adam' }).randomSearch).toBe(false);
  });

  it('ionsweep fit without an optimizer runs cma-es on features and reports it against random search at equal evaluations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ionsweep-cma-'));
    await writeFile(join(dir, 'fit.yaml'), stringify({
      model: 'hh', dtMs: 0.05, durationMs: 200, discardMs: 50, engine: 'cpu', currentUAPerCm2: 10,
      cost: [{ rate: true }, { mean: 'V' }], target: { gNa: 120, gK: 36 },
      parameters: { gNa: [60, 240], gK: [18, 72] }, starts: 2, iterations: 3, seed: 5,
    }));
    const run = await cli(['fit', join(dir, 'fit.yaml'), '--out', join(dir, 'out'), '--quiet', '--no-conditioning'], { timeoutMs: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.optimizer).toBe('cma-es');
    // 3 generations of λ = 6 per start, and as many random points, split into one group per start
    expect(report.evaluations).toBe(2 * 3 * 6);
    expect(report.comparison.evaluations).toEqual({ 'cma-es': 36, randomSearch: 36 });
    const best = report.best.map((b: { cost: number }) => b.cost);
    expect(report.comparison.lowestCost['cma-es']).toBe(Math.min(...best));
    expect(report.comparison.lowestCost.randomSearch).toBe(report.randomSearch.best[0].cost);
    expect(report.comparison.medianBestCost.randomSearch).toBeGreaterThanOrEqual(report.comparison.lowestCost.randomSearch);
  }, 300_000);
});
