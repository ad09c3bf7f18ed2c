/**
 * The pyloric circuit of Prinz, Bucher & Marder 2004: three Prinz 2003 cells, AB/PD, LP and PY, joined
 * by seven inhibitory graded synapses. AB/PD is one compartment whose AB synapses are glutamatergic
 * and whose PD synapses are cholinergic, both driven by the AB/PD voltage. Each cell is one of the 16
 * model neurons of the paper's Table 2 (prinz2004-cells.ts), chosen by name: ABPD1…ABPD5, LP1…LP5,
 * PY1…PY6. Synapse strengths are parameters in nS, in the paper's order:
 *
 *     gSynABtoLP (glut), gSynPDtoLP (chol), gSynABtoPY (glut), gSynPDtoPY (chol),
 *     gSynLPtoABPD (glut), gSynLPtoPY (glut), gSynPYtoLP (glut)
 *
 * Every cell starts at the cold start of the Prinz cell (V = −50 mV, m = 0, h = 1, [Ca] = 0.05 µM) and
 * every synaptic gate at 0.
 */
import { InputError } from '../errors.ts';
import type { Model } from '../model/model.ts';
import { buildNetwork, type SynapseInstance } from '../model/network.ts';
import type { NeuronDef } from '../model/neuron.ts';
import { prinzNeuron } from './prinz.ts';
import { CONDUCTANCE_NAMES, PRINZ_2004_CELLS } from './prinz2004-cells.ts';
import { cholinergic, glutamatergic } from './synapses.ts';
import { own } from '../model/names.ts';

/** The seven synapses in the paper's order. */
export const PYLORIC_SYNAPSES: readonly Omit<SynapseInstance, 'gNs'>[] = [
  { name: 'ABtoLP', from: 'ABPD', to: 'LP', type: glutamatergic },
  { name: 'PDtoLP', from: 'ABPD', to: 'LP', type: cholinergic },
  { name: 'ABtoPY', from: 'ABPD', to: 'PY', type: glutamatergic },
  { name: 'PDtoPY', from: 'ABPD', to: 'PY', type: cholinergic },
  { name: 'LPtoABPD', from: 'LP', to: 'ABPD', type: glutamatergic },
  { name: 'LPtoPY', from: 'LP', to: 'PY', type: glutamatergic },
  { name: 'PYtoLP', from: 'PY', to: 'LP', type: glutamatergic },
];

/** Strength parameters of the pyloric model, in the paper's order (nS). */
export const PYLORIC_SYNAPSE_PARAMS = PYLORIC_SYNAPSES.map((s) => `gSyn${s.name}`);

/** The Table 2 cells by short name: ABPD1…ABPD5, LP1…LP5, PY1…PY6. */
export const PYLORIC_CELL_CHOICES: Record<string, (typeof PRINZ_2004_CELLS)[number]> = Object.fromEntries(
  PRINZ_2004_CELLS.map((c) => [c.name.replace(/[/ ]/g, ''), c]),
);

/** Default network: AB/PD 2, LP 4, PY 1 with 30, 30, 10, 3, 30, 1, 30 nS, the paper's best-known example. */
export const PYLORIC_DEFAULTS = { cells: ['ABPD2', 'LP4', 'PY1'] as [string, string, string], synapsesNs: [30, 30, 10, 3, 30, 1, 30] };

const ROLES = ['ABPD', 'LP', 'PY'] as const;

/** A Prinz cell with the conductances of one Table 2 neuron. */
export function prinz2004Cell(choice: string): NeuronDef {
  const cell = own(PYLORIC_CELL_CHOICES, choice);
  if (!cell) throw new InputError(`unknown pyloric cell '${choice}'; allowed: ${Object.keys(PYLORIC_CELL_CHOICES).join(', ')}`);
  const conductances = Object.fromEntries(CONDUCTANCE_NAMES.map((g) => [g, cell.conductances[g]]));
  return { ...prinzNeuron, name: choice, params: { ...prinzNeuron.params, ...conductances } };
}

/** The pyloric network with the given Table 2 cells (AB/PD, LP, PY) and synapse strengths (nS, paper order). */
export function pyloric(options: { cells?: readonly string[]; synapsesNs?: readonly number[] } = {}): Model {
  const cells = options.cells ?? PYLORIC_DEFAULTS.cells;
  const synapsesNs = options.synapsesNs ?? PYLORIC_DEFAULTS.synapsesNs;
  if (cells.length !== 3) throw new InputError(`pyloric cells: give three (AB/PD, LP, PY), e.g. ABPD2,LP4,PY1; got ${cells.length}`);
  cells.forEach((c, k) => {
    if (!c.startsWith(ROLES[k])) throw new InputError(`pyloric cells: cell ${k + 1} must be a ${ROLES[k]} cell (${Object.keys(PYLORIC_CELL_CHOICES).filter((n) => n.startsWith(ROLES[k])).join(', ')}), got '${c}'`);
  });
  if (synapsesNs.length !== PYLORIC_SYNAPSES.length) throw new InputError(`pyloric synapses: give ${PYLORIC_SYNAPSES.length} strengths in nS (${PYLORIC_SYNAPSE_PARAMS.join(', ')}), got ${synapsesNs.length}`);
  synapsesNs.forEach((g, k) => {
    if (!Number.isFinite(g) || g < 0) throw new InputError(`pyloric synapses: ${PYLORIC_SYNAPSE_PARAMS[k]} must be a finite number ≥ 0 (nS), got ${g}`);
  });
  return buildNetwork({
    name: 'pyloric',
    cells: Object.fromEntries(ROLES.map((role, k) => [role, prinz2004Cell(cells[k])])),
    synapses: PYLORIC_SYNAPSES.map((s, k) => ({ ...s, gNs: synapsesNs[k] })),
    defaultInit: 'cold',
  });
}
