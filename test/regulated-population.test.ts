/**
 * A regulated population (src/jobs/regulated-population.ts) on both engines: 24 prinz cells from
 * random initial conductances (and mRNA at those values), each with its own τ_g, regulated towards the
 * mean [Ca] of AB/PD 1 with τ_i ∝ 1/g_i(AB/PD 1) (O'Leary et al. 2014's construction), 30 s of
 * biology. The f32 GPU engine must give the f64 CPU engine's population statistics: the fraction of
 * cells that reached the target, the fraction bursting, and the correlations between the final
 * conductances. Also checked on the CPU run: the major-axis slopes of the final conductances against
 * each other approach the τ ratios the rule predicts.
 *
 * Tolerances: both engines run the same cells from the same start, and regulation integrates the
 * calcium error, which averages out the f32 rounding of the fast dynamics (per-cell final
 * conductances measured to agree within 1 % relative); they are set by what one cell changing
 * its outcome near a threshold can do. Fractions: 2 cells of 24 (0.084). Correlations: 0.05.
 */
import { describe, expect, it } from 'vitest';
import { correlationMatrix, majorAxisSlope } from '../src/analysis/population-stats.ts';
import { runRegulatedPopulation, type RegulatedPopulationResult } from '../src/jobs/regulated-population.ts';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();
const AB_PD_1: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100 };
const K = 1e6; // ms·mS/cm²: τ_i = K / g_i(AB/PD 1)
const TARGET_UM = 133; // AB/PD 1's own mean [Ca] (133.4 µM over 10-20 s on the f64 engine)
const N = 24;

function table(): Record<string, Float64Array> {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const columns: Record<string, Float64Array> = {};
  for (const [g, v] of Object.entries(AB_PD_1)) {
    columns[g] = Float64Array.from({ length: N }, () => 0.5 * v * random());
    columns[`regM0${g.slice(1)}`] = columns[g];
  }
  columns.regTauGMs = Float64Array.from({ length: N }, () => 500 + 1000 * random());
  return columns;
}

// the GPU run carries the 24 cells COPIES times over: lavapipe runs a batch this small with voltage
// maxima slowly (measured: 24 cells 24 s, 256 cells 7 s, for 10 s of biology); every copy must agree
const COPIES = 8;
const tiled = (t: Record<string, Float64Array>, k: number) => Object.fromEntries(Object.entries(t).map(([name, c]) => [name, Float64Array.from({ length: k * N }, (_, i) => c[i % N])]));

const run = (engine: 'cpu' | 'gpu') => runRegulatedPopulation({
  model: 'prinz', N: engine === 'gpu' ? COPIES * N : N, params: tiled(table(), engine === 'gpu' ? COPIES : 1), durationMs: 30_000, intervalMs: 10_000, dtMs: 0.05, engine,
  regulation: { tauMs: Object.fromEntries(Object.entries(AB_PD_1).map(([g, v]) => [g, K / v])), tauGMs: 1000, caTargetUM: TARGET_UM },
});

/** statistics of the first N cells */
function stats(r: RegulatedPopulationResult) {
  const ok = Int32Array.from({ length: N }, (_, i) => i).filter((i) => Number.isNaN(r.divergedAtMs[i]));
  return {
    ok: ok.length,
    reached: r.reachedTarget.slice(0, N).filter(Boolean).length / N,
    bursting: r.finalClass.slice(0, N).filter((c) => c === 'bursting').length / N,
    corr: correlationMatrix(r.finalG, Object.keys(AB_PD_1), ok),
    slope: (a: string, b: string) => majorAxisSlope(r.finalG[a], r.finalG[b], ok),
  };
}

describe('regulated populations', () => {
  it('GPU (f32) and CPU (f64) agree on the fraction reaching the target, the fraction bursting and the conductance correlations', async () => {
    const cpu = stats(await run('cpu'));
    expect(cpu.ok).toBe(N);
    // the rule's prediction: at a steady state g_i = m_i = m0_i + S/τ_i with S the cell's integrated
    // calcium error, so across cells the conductances spread along 1/τ: every pair correlated, and the
    // major axis of g_b against g_a has slope τ_a/τ_b. The m0 spread (as wide as half the final values
    // here) and its correlation with S tilt single pairs (measured 0.60-1.67 of the prediction, median 1.05):
    // every pair within a factor 2, the median within 20 %.
    const names = Object.keys(AB_PD_1);
    const ratios: number[] = [];
    names.forEach((a, i) => names.forEach((b, j) => {
      if (j <= i) return;
      expect(cpu.corr[i][j], `correlation ${a}, ${b}`).toBeGreaterThan(0.7);
      ratios.push(cpu.slope(a, b) / (AB_PD_1[b] / AB_PD_1[a]));
    }));
    for (const r of ratios) expect(r).toBeGreaterThan(0.5), expect(r).toBeLessThan(2);
    ratios.sort((x, y) => x - y);
    expect(ratios[Math.floor(ratios.length / 2)]).toBeGreaterThan(0.8);
    expect(ratios[Math.floor(ratios.length / 2)]).toBeLessThan(1.25);
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const gr = await run('gpu');
    for (const name of names) for (let i = N; i < COPIES * N; i++) expect(gr.finalG[name][i], `copy ${i} of cell ${i % N}`).toBe(gr.finalG[name][i % N]);
    const g = stats(gr);
    expect(g.ok).toBe(N);
    expect(Math.abs(g.reached - cpu.reached)).toBeLessThanOrEqual(2 / N + 1e-9);
    expect(Math.abs(g.bursting - cpu.bursting)).toBeLessThanOrEqual(2 / N + 1e-9);
    cpu.corr.forEach((row, a) => row.forEach((c, b) => expect(Math.abs(g.corr[a][b] - c), `correlation ${a},${b}`).toBeLessThanOrEqual(0.05)));
  });
});
