/**
 * Homeostatic regulation (src/model/regulation.ts; O'Leary et al. 2014) against its analytic
 * properties: from m(0) = 0 every channel's m_i·τ_i is the same integral of the calcium error at every
 * time (exactly, up to rounding, on both engines), g follows m so the ratios g_i/g_j are τ_j/τ_i, and
 * the regulated cell's mean [Ca] comes to the target.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { regulate } from '../src/model/regulation.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();
const TAU = { gNa: 500, gCaS: 2000, gKd: 1000, gA: 4000 };
const model = () => regulate(libraryModel('prinz'), { tauMs: TAU, tauGMs: 200, caTargetUM: 200 });
const key = (what: 'M' | 'G', g: string) => `reg${what}${g.slice(1)}MsPerCm2`;

describe('regulation', () => {
  it('m_i·τ_i is one and the same for every channel at every sample; g_i/g_j → τ_j/τ_i; mean [Ca] near the target (f64)', async () => {
    const r = await simulate({ model: model(), engine: 'cpu', dtMs: 0.05, durationMs: 20_000, discardMs: 10_000, traceEveryMs: 50 });
    expect(r.status).toBe('ok');
    const t = r.trace!.series;
    const samples = t.VMv.length;
    for (let k = 0; k < samples; k++) {
      const s = Object.entries(TAU).map(([g, tau]) => t[key('M', g)][k] * tau);
      for (const v of s) expect(Math.abs(v - s[0]), `sample ${k}`).toBeLessThanOrEqual(1e-12 * Math.abs(s[0]) + 1e-12);
    }
    // g lags m by τ_g in proportion, so the ratios hold while the conductances grow
    const last = samples - 1;
    expect(t[key('G', 'gCaS')][last] / t[key('G', 'gKd')][last]).toBeCloseTo(TAU.gKd / TAU.gCaS, 9);
    expect(t[key('G', 'gNa')][last] / t[key('G', 'gA')][last]).toBeCloseTo(TAU.gA / TAU.gNa, 9);
    // the unregulated cell's mean [Ca] (~140 µM) rises towards the 200 µM target: within 5 % after 20 s
    expect(Math.abs(r.observables.meanCaUM! - 200) / 200).toBeLessThan(0.05);
    expect(t[key('G', 'gCaS')][last]).toBeGreaterThan(0);
  });

  it('the GPU engine (f32) gives the same m_i·τ_i identity and trajectories within f32 tolerance', async () => {
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const run = { model: model(), dtMs: 0.05, durationMs: 5000, traceEveryMs: 100 };
    const [c, g] = [await simulate({ ...run, engine: 'cpu' }), await simulate({ ...run, engine: 'gpu' })];
    const tc = c.trace!.series, tg = g.trace!.series;
    for (let k = 0; k < tc.VMv.length; k++) {
      const s = Object.entries(TAU).map(([name, tau]) => tg[key('M', name)][k] * tau);
      // the same sum of f32 increments in every channel, scaled: equal to f32 rounding
      for (const v of s) expect(Math.abs(v - s[0])).toBeLessThanOrEqual(1e-5 * Math.abs(s[0]) + 1e-6);
      expect(Math.abs(tg[key('G', 'gKd')][k] - tc[key('G', 'gKd')][k])).toBeLessThanOrEqual(1e-3 * Math.abs(tc[key('G', 'gKd')][k]) + 1e-4);
    }
  });

  it('refuses what it cannot regulate, naming it', () => {
    expect(() => regulate(libraryModel('hh'), { tauMs: { gNa: 1 }, tauGMs: 1, caTargetUM: 1 })).toThrow(/no calcium state 'Ca'/);
    expect(() => regulate(libraryModel('prinz'), { tauMs: { gNope: 1 }, tauGMs: 1, caTargetUM: 1 })).toThrow(/'gNope' is not a parameter/);
    expect(() => regulate(libraryModel('prinz'), { tauMs: { gNa: 0 }, tauGMs: 1, caTargetUM: 1 })).toThrow(/tauMs\.gNa must be a finite number > 0/);
  });
});
