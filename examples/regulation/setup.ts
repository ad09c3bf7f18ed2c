/**
 * The O'Leary et al. (2014) set-up on the prinz model: six conductances regulated, each with
 * τ_i = K / g_i(AB/PD 1), so the ray g ∝ 1/τ passes through AB/PD 1 (a burster of Prinz 2004), and
 * the target is AB/PD 1's own mean [Ca]. Cells start from random conductances (uniform in
 * [0, spread·g_i(AB/PD 1)]) with their mRNA at the same values and their own τ_g.
 */
import type { RegulationSpec } from '../../src/model/regulation.ts';

/** AB/PD 1 of Prinz et al. 2004 (the prinz model's defaults), mS/cm² */
export const AB_PD_1: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100 };
/** τ_i·g_i(AB/PD 1) (ms·mS/cm²): τ_Na = 2.5 s ... τ_CaT = 400 s */
export const K = 1e6;
/** AB/PD 1's mean [Ca] (µM), 10-20 s after the cold start on the f64 engine (133.4) */
export const TARGET_UM = 133;

export const regulation: RegulationSpec = {
  tauMs: Object.fromEntries(Object.entries(AB_PD_1).map(([g, v]) => [g, K / v])),
  tauGMs: 1000,
  caTargetUM: TARGET_UM,
};

/** A deterministic table of N cells: initial conductances, their mRNA, τ_g (500-1500 ms). */
export function initialTable(N: number, seed: number, spread = 0.5): Record<string, Float64Array> {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const columns: Record<string, Float64Array> = {};
  for (const [g, v] of Object.entries(AB_PD_1)) {
    columns[g] = Float64Array.from({ length: N }, () => spread * v * random());
    columns[`regM0${g.slice(1)}`] = columns[g];
  }
  columns.regTauGMs = Float64Array.from({ length: N }, () => 500 + 1000 * random());
  return columns;
}
