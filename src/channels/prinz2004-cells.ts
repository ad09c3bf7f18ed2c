/**
 * The 16 model neurons of the Prinz, Bucher & Marder 2004 pyloric network (docs/models.md §6), maximal
 * conductances in mS/cm² in the order Na, CaT, CaS, A, KCa, Kd, H, leak.
 */
export const CONDUCTANCE_NAMES = ['gNa', 'gCaT', 'gCaS', 'gA', 'gKCa', 'gKd', 'gH', 'gLeak'] as const;
export type ConductanceName = (typeof CONDUCTANCE_NAMES)[number];

const table: [string, number[]][] = [
  ['AB/PD 1', [400, 2.5, 6, 50, 10, 100, 0.01, 0]],
  ['AB/PD 2', [100, 2.5, 6, 50, 5, 100, 0.01, 0]],
  ['AB/PD 3', [200, 2.5, 4, 50, 5, 50, 0.01, 0]],
  ['AB/PD 4', [200, 5.0, 4, 40, 5, 125, 0.01, 0]],
  ['AB/PD 5', [300, 2.5, 2, 10, 5, 125, 0.01, 0]],
  ['LP 1', [100, 0, 8, 40, 5, 75, 0.05, 0.02]],
  ['LP 2', [100, 0, 6, 30, 5, 50, 0.05, 0.02]],
  ['LP 3', [100, 0, 10, 50, 5, 100, 0, 0.03]],
  ['LP 4', [100, 0, 4, 20, 0, 25, 0.05, 0.03]],
  ['LP 5', [100, 0, 6, 30, 0, 50, 0.03, 0.02]],
  ['PY 1', [100, 2.5, 2, 50, 0, 125, 0.05, 0.01]],
  ['PY 2', [200, 7.5, 0, 50, 0, 75, 0.05, 0]],
  ['PY 3', [200, 10, 0, 50, 0, 100, 0.03, 0]],
  ['PY 4', [400, 2.5, 2, 50, 0, 75, 0.05, 0]],
  ['PY 5', [500, 2.5, 2, 40, 0, 125, 0.01, 0.03]],
  ['PY 6', [500, 2.5, 2, 40, 0, 125, 0, 0.02]],
];

export interface ModelNeuron {
  name: string;
  conductances: Record<ConductanceName, number>;
}

export const PRINZ_2004_CELLS: ModelNeuron[] = table.map(([name, g]) => ({
  name,
  conductances: Object.fromEntries(CONDUCTANCE_NAMES.map((k, i) => [k, g[i]])) as Record<ConductanceName, number>,
}));
