/**
 * What the network explorer simulates and how it reads the results, without the DOM (the browser test
 * uses it under Deno too): the pyloric circuit of three Prinz 2004 cells with its seven synapse
 * strengths as per-instance parameters, the neighbourhood of networks around one (each synapse
 * strength multiplied by its own factor), and the network class of one instance read from the voltage
 * maxima rings of a GPU events buffer.
 */
import { classifyActivity, type ActivityFeatures } from '../../src/analysis/classify.ts';
import { burstsOf, classifyNetwork, type NetworkActivity, type NetworkClass } from '../../src/analysis/network.ts';
import { PYLORIC_CELL_CHOICES, PYLORIC_SYNAPSE_PARAMS, PYLORIC_SYNAPSES, pyloric } from '../../src/channels/pyloric.ts';
import { compile } from '../../src/compile/compile.ts';
import { eventSlots, maximaEntry, type Layout } from '../../src/compile/layout.ts';
import type { StepProgram } from '../../src/compile/program.ts';
import { InputError } from '../../src/errors.ts';
import { hashUniform } from '../../src/jobs/sweep/sampling.ts';
import type { Model } from '../../src/model/model.ts';

/** The cells in the model's order; the spike sources and observed quantities follow it. */
export const ROLES = ['ABPD', 'LP', 'PY'] as const;
export type Role = (typeof ROLES)[number];

/** Display names of the seven synapses (paper order), e.g. 'AB→LP'. */
export const SYNAPSE_LABELS = PYLORIC_SYNAPSES.map((s) => (s.name ?? `${s.from}to${s.to}`).replace('to', '→'));

/**
 * The page's first network: Prinz 2004's example j (AB/PD 4, LP 2, PY 1; 3, 100, 10, 1, 10, 3, 10 nS),
 * which in this model bursts in the pyloric order from the cold start (pyloric-like, period 1.84 s:
 * the README's table of the published examples). The library's default network (example e) is
 * non-periodic here and would open the page on an irregular rhythm.
 */
export const DEFAULT_NETWORK = { cells: ['ABPD4', 'LP2', 'PY1'] as [string, string, string], synapsesNs: [3, 100, 10, 1, 10, 3, 10] };

/** The Table 2 cells a role may take (ABPD1…5, LP1…5, PY1…6). */
export function cellChoices(role: Role): string[] {
  return Object.keys(PYLORIC_CELL_CHOICES).filter((name) => name.startsWith(role));
}

/** The pyloric model with these cells (synapse strengths come per instance). */
export function networkModel(cells: readonly string[]): Model {
  return pyloric({ cells });
}

/** The model compiled with the seven synapse strengths (nS, paper order) as per-instance parameters. */
export function networkProgram(model: Model, dtMs: number): StepProgram {
  return compile(model, { dtMs, instanceParams: [...PYLORIC_SYNAPSE_PARAMS] });
}

export interface Neighbourhood {
  /** the centre network's strengths (nS, paper order) */
  centreNs: readonly number[];
  /** each strength is multiplied by spread^(2u − 1), u uniform in [0, 1): ×/÷ spread */
  spread: number;
  seed: number;
  N: number;
}

/**
 * Strength q (nS) of neighbour i: the centre's times spread^(2u − 1), with u = hashUniform(seed, i, q)
 * (the sweeps' counter-based hash, so a page, a test and a rerun get the same networks). Neighbour 0
 * is the centre itself. A synapse at 0 nS stays at 0 (a factor cannot create it).
 */
export function neighbourNs(nb: Neighbourhood, i: number, q: number): number {
  if (i === 0) return nb.centreNs[q];
  return nb.centreNs[q] * Math.exp((2 * hashUniform(nb.seed, i, q) - 1) * Math.log(nb.spread));
}

/** The neighbourhood's parameter table, [7][N] in f32 (the engines' structure of arrays). */
export function neighbourhoodParams(nb: Neighbourhood): Float32Array {
  if (!(nb.spread >= 1)) throw new InputError(`neighbourhood spread must be ≥ 1 (a factor ×/÷), got ${nb.spread}`);
  if (!Number.isInteger(nb.N) || nb.N < 1) throw new InputError(`neighbourhood size must be an integer ≥ 1, got ${nb.N}`);
  const P = PYLORIC_SYNAPSE_PARAMS.length;
  const out = new Float32Array(P * nb.N);
  for (let q = 0; q < P; q++) for (let i = 0; i < nb.N; i++) out[q * nb.N + i] = neighbourNs(nb, i, q);
  return out;
}

/** Network class codes as drawn (the classes buffer holds one per network). */
export const NETWORK_CODES = { unknown: 0, 'non-periodic': 1, periodic: 2, 'pyloric-like': 3, pyloric: 4, diverged: 5 } as const;
export type NetworkCode = keyof typeof NETWORK_CODES;
export const NETWORK_COLORS: Record<NetworkCode, string> = {
  unknown: '#5b6270', 'non-periodic': '#8d99ae', periodic: '#4cc9f0', 'pyloric-like': '#f8961e', pyloric: '#4ee6a0', diverged: '#e63946',
};
/** The cells' colours in traces and phases. */
export const CELL_COLORS: Record<Role, string> = { ABPD: '#ff9f43', LP: '#54a0ff', PY: '#ee5aa0' };

export interface InstanceActivity {
  class: NetworkClass | 'diverged';
  network: NetworkActivity | null;
  cells: ActivityFeatures[];
  /** the window the maxima were read from (ms): after its start, up to its end */
  windowMs: [number, number];
  /** AB/PD's latest burst onset in the window (ms), where it bursts */
  abpdOnsetMs: number | null;
}

/**
 * The class of network i from an events buffer (slot-major: slot s of instance i at s·N + i) over the
 * window [fromMs, toMs]: each cell's maxima in the window (the ring keeps the last M; when it has
 * wrapped the window starts at the oldest kept maximum, as the ensemble explorer does), classified by
 * Prinz's single-cell rules, then the network rules (analysis/network.ts).
 */
export function classifyInstance(events: Float32Array, layout: Layout, N: number, i: number, fromMs: number, toMs: number): InstanceActivity {
  const slots = eventSlots(layout);
  if (events[slots.divergedState * N + i] !== 0) return { class: 'diverged', network: null, cells: [], windowMs: [fromMs, toMs], abpdOnsetMs: null };
  const M = layout.maximaCapacity;
  const inputs = ROLES.map((name, q) => {
    const count = events[slots.maximaCount(q) * N + i];
    const kept = Math.min(count, M);
    const first = count > M ? count % M : 0;
    const times: number[] = [], values: number[] = [];
    let start = fromMs;
    for (let e = 0; e < kept; e++) {
      const slot = (first + e) % M;
      const at = slots.maximaRings(q) * N + maximaEntry(i, slot, M);
      const t = events[at];
      if (e === 0 && count > M) start = Math.max(start, t);
      if (t < start || t > toMs) continue;
      times.push(t);
      values.push(events[at + M]);
    }
    const activity = classifyActivity({ maximaTimesMs: times, maximaValuesMv: values, windowStartMs: start, windowEndMs: toMs });
    return { name, maximaTimesMs: times, maximaValuesMv: values, activity };
  });
  const network = classifyNetwork(inputs, ROLES);
  const ab = inputs[0];
  const abBursts = ab.activity.interburstThresholdMs === null ? [] : burstsOf(ab.maximaTimesMs, ab.maximaValuesMv, ab.activity.interburstThresholdMs);
  const abpdOnsetMs = abBursts.length ? abBursts[abBursts.length - 1].onsetMs : null;
  return { class: network.class, network, cells: inputs.map((c) => c.activity), windowMs: [fromMs, toMs], abpdOnsetMs };
}
