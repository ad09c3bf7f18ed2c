/**
 * Sweep sampling: every model's parameters are a pure function of (spec, index), and each scheme has
 * the property it is chosen for, checked against its definition rather than against our own output.
 */
import { describe, expect, it } from 'vitest';
import { makeSampler, permute } from '../src/jobs/sweep/sampling.ts';
import { parseSweepSpec, resolveSweep, type SweepSpecInput } from '../src/jobs/sweep/spec.ts';

const base: SweepSpecInput = { model: 'prinz', durationMs: 100, parameters: {} };
const sampler = (spec: Partial<SweepSpecInput>) => makeSampler(resolveSweep(parseSweepSpec({ ...base, ...spec })));
const ranges: SweepSpecInput['parameters'] = { gNa: { uniform: [0, 500] }, gKd: { logUniform: [1, 125] }, gCaS: { uniform: [0, 10] }, gA: { uniform: [0, 50] } };

describe('grid sampling', () => {
  it('numbers models as Prinz 2003 does: levels are the base-6 digits of n − 1, Na most significant (docs/models.md §7)', () => {
    const levels = (step: number) => ({ grid: { from: 0, to: 5 * step, count: 6 } });
    const s = sampler({ parameters: { gNa: levels(100), gCaT: levels(2.5), gCaS: levels(2), gA: levels(10), gKCa: levels(5), gKd: levels(25), gH: levels(0.01), gLeak: levels(0.01) } });
    expect(s.total).toBe(6 ** 8);
    const steps = [100, 2.5, 2, 10, 5, 25, 0.01, 0.01];
    for (const n of [1, 2, 7, 1296, 1_000_000, 6 ** 8]) {
      const digits = (n - 1).toString(6).padStart(8, '0').split('').map(Number);
      const values = s.valuesOf(n - 1);
      digits.forEach((d, k) => expect(values[k]).toBeCloseTo(d * steps[k], 12));
    }
  });

  it('subsamples without replacement, reproducibly', () => {
    const s = sampler({ parameters: { gNa: { grid: [1, 2, 3, 4, 5] }, gKd: { grid: [1, 2, 3, 4, 5, 6, 7] } }, subsample: 20, seed: 5 });
    const picked = Array.from({ length: 20 }, (_, k) => s.gridIndexOf!(k));
    expect(new Set(picked).size).toBe(20);
    expect(picked.every((g) => g >= 0 && g < 35)).toBe(true);
    expect(Array.from({ length: 20 }, (_, k) => s.gridIndexOf!(k))).toEqual(picked);
  });
});

describe('permutation', () => {
  it('is a bijection of [0, n) for awkward n', () => {
    for (const n of [1, 2, 3, 17, 1000, 4097]) {
      const image = new Set(Array.from({ length: n }, (_, i) => permute(i, n, 12345)));
      expect(image.size).toBe(n);
      expect(Math.max(...image)).toBe(n - 1);
    }
  });
});

describe('random, lhs and sobol sampling', () => {
  for (const sampling of ['random', 'lhs', 'sobol'] as const) {
    it(`${sampling}: a pure function of (seed, index), inside the bounds`, () => {
      const s = sampler({ sampling, samples: 500, seed: 3, parameters: ranges });
      const forward = Array.from({ length: 500 }, (_, i) => Array.from(s.valuesOf(i)));
      const backward = Array.from({ length: 500 }, (_, k) => Array.from(s.valuesOf(499 - k))).reverse();
      expect(backward).toEqual(forward);
      for (const v of forward) {
        expect(v[0]).toBeGreaterThanOrEqual(0);
        expect(v[0]).toBeLessThanOrEqual(500);
        expect(v[1]).toBeGreaterThanOrEqual(1);
        expect(v[1]).toBeLessThanOrEqual(125);
      }
      const other = sampler({ sampling, samples: 500, seed: 4, parameters: ranges });
      expect(Array.from(other.valuesOf(7))).not.toEqual(forward[7]);
    });
  }

  it('lhs puts exactly one model in each of the n strata of every parameter', () => {
    const n = 300;
    const s = sampler({ sampling: 'lhs', samples: n, seed: 9, parameters: ranges });
    for (const [d, [lo, hi, log]] of [[0, [0, 500, false]], [2, [0, 10, false]], [1, [1, 125, true]]] as const) {
      const strata = new Set(Array.from({ length: n }, (_, i) => {
        const v = s.valuesOf(i)[d];
        const u = log ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo);
        return Math.floor(u * n);
      }));
      expect(strata.size).toBe(n);
    }
  });

  it('sobol: the first 2^m points put one point in each dyadic interval of every coordinate', () => {
    // a (t, m, s)-net property that holds for any valid direction numbers and survives a digital shift;
    // wrong direction numbers or a wrong recurrence break it in the higher dimensions
    const dims = Object.fromEntries(Array.from({ length: 16 }, (_, d) => [['gNa', 'gCaT', 'gCaS', 'gA', 'gKCa', 'gKd', 'gH', 'gLeak', 'ENa', 'EK', 'EH', 'ELeak', 'tauCaMs', 'fCa', 'Ca0UM', 'CaOutUM'][d], { uniform: [1, 2] as [number, number] }]));
    const m = 8;
    const s = sampler({ sampling: 'sobol', samples: 2 ** m, seed: 1, parameters: dims });
    for (let d = 0; d < 16; d++) {
      const cells = new Set(Array.from({ length: 2 ** m }, (_, i) => Math.floor((s.valuesOf(i)[d] - 1) * 2 ** m)));
      expect(cells.size, `dimension ${d}`).toBe(2 ** m);
    }
    // and pairs of coordinates: each of the 2^4 × 2^4 cells of the first two dims holds one of 256 points
    const pairs = new Set(Array.from({ length: 256 }, (_, i) => {
      const v = s.valuesOf(i);
      return `${Math.floor((v[0] - 1) * 16)},${Math.floor((v[1] - 1) * 16)}`;
    }));
    expect(pairs.size).toBe(256);
  });
});

describe('spec validation', () => {
  const bad: [Partial<SweepSpecInput> | Record<string, unknown>, RegExp][] = [
    [{ model: 'squid' }, /model must be one of hh, prinz, liu/],
    [{ parameters: { gFoo: { grid: [1] } } }, /unknown parameter 'gFoo'.*allowed: .*gNa/],
    [{ parameters: { gNa: { grid: [-5, 10] } } }, /parameters\.gNa\.grid\[0\].*allowed \[0, inf\)/],
    [{ parameters: { gNa: { uniform: [5, 1] } } }, /high > low/],
    [{ sampling: 'lhs', parameters: { gNa: { uniform: [0, 1] } } }, /samples: required/],
    [{ parameters: { gNa: { uniform: [0, 1] } } }, /needs a grid for every parameter/],
    [{ durationMs: -1, parameters: { gNa: { grid: [1] } } }, /durationMs must be > 0 \(ms\), got -1/],
    [{ parameters: { gNa: { grid: [1] } }, discardMs: 500 }, /discardMs must be < durationMs/],
    [{ parameters: { gNa: { grid: [1] } }, colour: 'red' }, /colour|unrecognized/i],
  ];
  for (const [spec, message] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      expect(() => resolveSweep(parseSweepSpec({ ...base, ...spec }))).toThrow(message);
    });
  }
});
