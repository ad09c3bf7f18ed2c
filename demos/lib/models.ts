/**
 * What the demos offer: the library's models, their per-instance parameters (the maximal conductances
 * and the injected current), presets, and distributions over conductances. Sampling is a pure function
 * of (distribution, seed, index), through the same counter-based hash the sweeps use, so a page, a
 * test and a rerun all get the same ensemble.
 */
import { libraryModel } from '../../src/channels/index.ts';
import { PRINZ_2004_CELLS } from '../../src/channels/prinz2004-cells.ts';
import { hashUniform } from '../../src/jobs/sweep/sampling.ts';
import type { Model } from '../../src/model/model.ts';

export type ModelName = 'prinz' | 'liu' | 'hh';
export const MODEL_CHOICES: { name: ModelName; label: string }[] = [
  { name: 'prinz', label: 'Prinz 2003 STG neuron (8 conductances, calcium)' },
  { name: 'liu', label: 'Liu 1998 STG neuron (8 conductances, calcium)' },
  { name: 'hh', label: 'Hodgkin–Huxley 1952 squid axon' },
];

/** The injected current is a per-instance parameter too, so hh (silent without it) has something to vary. */
export const CURRENT = 'IExtUAPerCm2';

export interface ModelInfo {
  name: ModelName;
  model: Model;
  /** maximal conductances (mS/cm²), in the order the UI lists them */
  conductances: string[];
  /** per-instance parameters of a compiled demo program: the conductances, then the current */
  instanceParams: string[];
  presets: { name: string; values: Record<string, number> }[];
  /** Prinz 2003 grid steps (docs/models.md §7), where the model has the STG conductances */
  gridSteps?: Record<string, number>;
}

const STG_CONDUCTANCES = ['gNa', 'gCaT', 'gCaS', 'gA', 'gKCa', 'gKd', 'gH', 'gLeak'];
const PRINZ_GRID_STEPS: Record<string, number> = { gNa: 100, gCaT: 2.5, gCaS: 2, gA: 10, gKCa: 5, gKd: 25, gH: 0.01, gLeak: 0.01 };

const cache = new Map<ModelName, ModelInfo>();

export function modelInfo(name: ModelName): ModelInfo {
  let info = cache.get(name);
  if (info) return info;
  const model = libraryModel(name);
  const defaults = (names: string[]) => Object.fromEntries(names.map((g) => [g, model.params[g].value]));
  if (name === 'hh') {
    const conductances = ['gNa', 'gK', 'gL'];
    info = {
      name, model, conductances, instanceParams: [...conductances, CURRENT],
      presets: [
        { name: 'squid axon, 10 µA/cm²', values: { ...defaults(conductances), [CURRENT]: 10 } },
        { name: 'squid axon, at rest', values: { ...defaults(conductances), [CURRENT]: 0 } },
      ],
    };
  } else {
    info = {
      name, model, conductances: STG_CONDUCTANCES, instanceParams: [...STG_CONDUCTANCES, CURRENT],
      presets: PRINZ_2004_CELLS.map((cell) => ({ name: cell.name, values: { ...cell.conductances, [CURRENT]: 0 } })),
      gridSteps: PRINZ_GRID_STEPS,
    };
  }
  cache.set(name, info);
  return info;
}

export type DistributionKind = 'prinz-grid' | 'log-uniform' | 'uniform';

export interface Distribution {
  kind: DistributionKind;
  /** centre of log-uniform and uniform draws */
  preset: Record<string, number>;
  /** which parameters vary (the rest keep the preset's value) */
  vary: string[];
  /** log-uniform: from preset/spread to preset·spread; uniform: from preset·(1 − spread') to preset·(1 + spread'), spread' = spread − 1 capped at 1 */
  spread: number;
  /** injected current range (µA/cm²) when the current varies */
  currentRange: [number, number];
  seed: number;
}

export const DISTRIBUTION_CHOICES: { kind: DistributionKind; label: string }[] = [
  { kind: 'prinz-grid', label: 'Prinz 2003 database: random grid points' },
  { kind: 'log-uniform', label: 'log-uniform around the preset (×/÷ spread)' },
  { kind: 'uniform', label: 'uniform around the preset (± spread)' },
];

/** Value of parameter `name` (dimension d) of instance `index`. */
function drawValue(info: ModelInfo, dist: Distribution, name: string, d: number, index: number): number {
  const base = dist.preset[name] ?? info.model.params[name].value;
  if (!dist.vary.includes(name)) return base;
  const u = hashUniform(dist.seed, index, d);
  if (name === CURRENT) return dist.currentRange[0] + u * (dist.currentRange[1] - dist.currentRange[0]);
  switch (dist.kind) {
    case 'prinz-grid': {
      const step = info.gridSteps?.[name];
      if (step !== undefined) return Math.min(5, Math.floor(u * 6)) * step;
      return base * Math.exp((2 * u - 1) * Math.log(Math.max(dist.spread, 1)));
    }
    case 'log-uniform':
      return base * Math.exp((2 * u - 1) * Math.log(Math.max(dist.spread, 1)));
    case 'uniform': {
      const s = Math.min(1, Math.max(0, dist.spread - 1));
      return base * (1 + (2 * u - 1) * s);
    }
  }
}

/** Parameter table of N instances, structure of arrays ([P][N], the engines' layout), in f32 for the GPU. */
export function sampleParams(info: ModelInfo, dist: Distribution, N: number): Float32Array {
  const P = info.instanceParams.length;
  const out = new Float32Array(P * N);
  info.instanceParams.forEach((name, q) => {
    for (let i = 0; i < N; i++) out[q * N + i] = drawValue(info, dist, name, q, i);
  });
  return out;
}

/** Parameters of one instance as a record (from an SoA table). */
export function paramsOf(info: ModelInfo, table: ArrayLike<number>, N: number, i: number): Record<string, number> {
  return Object.fromEntries(info.instanceParams.map((name, q) => [name, table[q * N + i]]));
}

export function defaultDistribution(name: ModelName): Distribution {
  const info = modelInfo(name);
  if (name === 'hh') {
    return { kind: 'log-uniform', preset: info.presets[0].values, vary: ['gNa', 'gK', CURRENT], spread: 1.5, currentRange: [0, 20], seed: 1 };
  }
  return { kind: 'prinz-grid', preset: info.presets[0].values, vary: [...info.conductances], spread: 2, currentRange: [0, 0], seed: 1 };
}

/** Short label of a parameter for the UI. */
export function paramLabel(name: string): string {
  if (name === CURRENT) return 'I_ext';
  return name.replace(/^g/, 'g_');
}
