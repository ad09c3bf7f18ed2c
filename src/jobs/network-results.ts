/**
 * What a run of a network gives per cell and for the network (simulate.ts): each cell's spike times,
 * means and extremes of its V and [Ca] with their tangents, its activity class and burst features,
 * and the network's class, period and features (analysis/network.ts), all from the one run.
 */
import { classifyActivity, type ActivityFeatures } from '../analysis/classify.ts';
import { observableKey } from '../analysis/names.ts';
import { classifyNetwork, type NetworkActivity } from '../analysis/network.ts';
import type { EnsembleResult } from '../engine/ensemble.ts';

export interface CellResult {
  spikeCount: number;
  spikeTimesMs: number[];
  /** meanVMv, minVMv, maxVMv, meanCaUM, ... of the cell's own quantities (null without calcium) */
  observables: Record<string, number | null>;
  /** { meanVMv: { lane: d meanVMv / d lane } } */
  tangents: Record<string, Record<string, number>>;
  activity: ActivityFeatures;
}

export interface NetworkResult {
  cells: Record<string, CellResult>;
  network: NetworkActivity;
}

/** The pyloric circuit's cells, when a network has exactly these. */
const PYLORIC_ROLES = ['ABPD', 'LP', 'PY'] as const;

/**
 * Per-cell and network results of instance `i` of a run whose spike sources are the cells' membrane
 * potentials (`cell.V`) and that recorded maxima. The window is the run after its discard.
 */
export function networkResults(r: EnsembleResult, cellNames: readonly string[], i = 0): NetworkResult {
  if (!r.maxima) throw new Error('networkResults needs a run that recorded voltage maxima');
  const cells: Record<string, CellResult> = {};
  const inputs = cellNames.map((cell) => {
    const q = r.spikes.findIndex((s) => s.name === `${cell}.V`);
    if (q < 0) throw new Error(`no spike source ${cell}.V`);
    const maxima = r.maxima![q];
    const { timesMs, valuesMv } = maxima.of(i);
    const activity = classifyActivity({
      maximaTimesMs: timesMs, maximaValuesMv: valuesMv, windowStartMs: r.discardMs, windowEndMs: r.durationMs,
      totalMaxima: maxima.count[i], totalSpikes: maxima.spikeCount[i],
    });
    const observables: Record<string, number | null> = {};
    const tangents: Record<string, Record<string, number>> = {};
    for (const [name, unit] of [['V', 'mV'], ['Ca', 'µM']] as const) {
      const o = r.observed.find((x) => x.name === `${cell}.${name}`);
      for (const stat of ['mean', 'min', 'max'] as const) observables[observableKey(stat, name, unit)] = o ? o[stat][i] : null;
      if (o && r.lanes.length) tangents[observableKey('mean', name, unit)] = Object.fromEntries(r.lanes.map((lane, j) => [lane.key, o.meanTangent[j][i]]));
    }
    const spikes = r.spikes[q];
    cells[cell] = { spikeCount: spikes.count[i], spikeTimesMs: spikes.timesOf(i), observables, tangents, activity };
    return { name: cell, maximaTimesMs: timesMs, maximaValuesMv: valuesMv, activity };
  });
  const pyloric = cellNames.length === 3 && PYLORIC_ROLES.every((role) => cellNames.includes(role));
  return { cells, network: classifyNetwork(inputs, pyloric ? PYLORIC_ROLES : undefined) };
}
