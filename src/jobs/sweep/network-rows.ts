/**
 * The rows of a network sweep: per network its index, grid index and grid code, the varied parameters
 * (a cell choice as the chosen cell's name), the network's class, period and the 15 pyloric features
 * (analysis/network.ts), each cell's single-cell class and burst features (`LP_class`,
 * `LP_burstPeriodMs`, ...), the means and extremes of every cell's V and [Ca], and their gradients.
 * Everything comes from the voltage maxima of the one run, as for single neurons, and runs wherever
 * the sink classifies (a worker thread for the CLI).
 */
import { classifyActivity, type ActivityFeatures } from '../../analysis/classify.ts';
import { DIVERGED_CLASS, gradientColumn, statusColumns, type Column } from '../../analysis/features.ts';
import { observableKey } from '../../analysis/names.ts';
import { classifyNetwork, PYLORIC_FEATURES, type CellInput, type NetworkClass } from '../../analysis/network.ts';
import { MaximaScratchReader } from '../../analysis/maxima-scratch-reader.ts';
import { networkCells } from '../../model/network.ts';
import type { ChunkData } from './rows.ts';
import type { ResolvedSweep } from './spec.ts';

/** Network classes, from the most to the least structured (a diverged network is counted apart). */
export const NETWORK_CLASSES: readonly NetworkClass[] = ['pyloric', 'pyloric-like', 'periodic', 'non-periodic'];

/** What a network chunk's rows need beyond a neuron chunk's: plain data, posted with the chunk. */
export interface NetworkChunkInfo {
  /** the network's cells, in spike-source order */
  cells: string[];
  /** the pyloric roles (AB/PD, LP, PY) when the network has exactly these cells: then the 15 features are defined */
  pyloric: boolean;
  /** cell-choice axes: the chosen cells' names by position */
  labels: Record<string, string[]>;
  /** grid sweeps: the number of levels of each axis, most significant first (for the grid code) */
  radices?: number[];
}

export function networkChunkInfo(sweep: ResolvedSweep): NetworkChunkInfo {
  const cells = networkCells(sweep.model);
  return {
    cells,
    pyloric: cells.length === 3 && ['ABPD', 'LP', 'PY'].every((r) => cells.includes(r)),
    labels: Object.fromEntries((sweep.cellChoices ?? []).map((c) => [c.name, c.labels])),
    ...(sweep.spec.sampling === 'grid' ? { radices: sweep.axes.map((a) => a.values!.length) } : {}),
  };
}

/**
 * A grid point's code: its level on every axis (0-based, most significant first), as digits when
 * every axis has at most 10 levels (the Prinz 2004 database: 10 digits), else joined by '.'. Read as
 * a mixed-radix number, the code is the grid index.
 */
export function gridCode(gridIndex: number, radices: readonly number[]): string {
  const digits = new Array<number>(radices.length);
  let rest = gridIndex;
  for (let d = radices.length - 1; d >= 0; d--) {
    digits[d] = rest % radices[d];
    rest = Math.floor(rest / radices[d]);
  }
  return digits.join(radices.every((r) => r <= 10) ? '' : '.');
}

/** The grid index a code stands for (inverse of gridCode). */
export function gridIndexOfCode(code: string, radices: readonly number[]): number {
  const digits = radices.every((r) => r <= 10) ? [...code].map(Number) : code.split('.').map(Number);
  if (digits.length !== radices.length || digits.some((d, k) => !Number.isInteger(d) || d < 0 || d >= radices[k])) {
    throw new RangeError(`grid code '${code}' does not fit levels of ${radices.join('×')}`);
  }
  return digits.reduce((index, d, k) => index * radices[k] + d, 0);
}

const CELL_FEATURES = [
  ['burstPeriodMs', 'DOUBLE'], ['burstsPerCycle', 'INT32'], ['spikesPerBurst', 'DOUBLE'], ['burstDurationMs', 'DOUBLE'],
  ['dutyCycle', 'DOUBLE'], ['firingRateHz', 'DOUBLE'],
] as const;

// names as plain arrays: the per-network loops index them instead of destructuring tuples
const CELL_FEATURE_NAMES = CELL_FEATURES.map(([f]) => f);
const PYLORIC_FEATURE_NAMES = PYLORIC_FEATURES.map(([f]) => f);

/** Classifies a network chunk's instances (cells, then the network) and lays out its table columns. */
export function networkColumns(data: ChunkData, info: NetworkChunkInfo): Column[] {
  const n = data.range.end - data.range.start;
  const maxima = info.cells.map((cell) => {
    const rings = data.maxima.find((m) => m.name === `${cell}.V`);
    if (!rings) throw new Error(`a network chunk needs the voltage maxima of ${cell}.V`);
    return new MaximaScratchReader(rings);
  });
  const netClass: string[] = new Array(n), reason: string[] = new Array(n);
  const period = new Array<number | null>(n);
  const features = PYLORIC_FEATURES.map(() => new Array<number | null>(n));
  const cellClass = info.cells.map(() => new Array<string>(n));
  const cellSpikes = info.cells.map(() => new Int32Array(n));
  const cellTruncated = info.cells.map(() => new Array<boolean>(n));
  const cellFeatures = info.cells.map(() => CELL_FEATURES.map(() => new Array<number | null>(n)));
  const cells = info.cells.length;
  const roles: [string, string, string] | undefined = info.pyloric ? ['ABPD', 'LP', 'PY'] : undefined;
  for (let i = 0; i < n; i++) {
    if (data.divergence.state[i] >= 0) {
      netClass[i] = DIVERGED_CLASS;
      reason[i] = `diverged (${data.divergence.stateNames[data.divergence.state[i]]})`;
      period[i] = null;
      for (const f of features) f[i] = null;
      info.cells.forEach((_, c) => {
        cellClass[c][i] = DIVERGED_CLASS;
        cellSpikes[c][i] = 0;
        cellTruncated[c][i] = false;
        for (const f of cellFeatures[c]) f[i] = null;
      });
      continue;
    }
    const inputs = new Array<CellInput>(cells);
    for (let c = 0; c < cells; c++) {
      // views into the reader's scratch: valid while this network is classified
      const { timesMs, valuesMv } = maxima[c].of(i);
      const activity: ActivityFeatures = classifyActivity({
        maximaTimesMs: timesMs, maximaValuesMv: valuesMv, windowStartMs: data.windowStartMs, windowEndMs: data.windowEndMs,
        totalMaxima: maxima[c].count[i], totalSpikes: maxima[c].spikeCount[i],
      });
      cellClass[c][i] = activity.class;
      cellSpikes[c][i] = activity.spikeCount;
      cellTruncated[c][i] = activity.truncated;
      for (let k = 0; k < CELL_FEATURE_NAMES.length; k++) cellFeatures[c][k][i] = activity[CELL_FEATURE_NAMES[k]];
      inputs[c] = { name: info.cells[c], maximaTimesMs: timesMs, maximaValuesMv: valuesMv, activity };
    }
    const net = classifyNetwork(inputs, roles);
    netClass[i] = net.class;
    reason[i] = net.reason;
    period[i] = net.periodMs;
    for (let k = 0; k < PYLORIC_FEATURE_NAMES.length; k++) features[k][i] = net.features[PYLORIC_FEATURE_NAMES[k]];
  }

  const columns: Column[] = [{ name: 'index', type: 'INT32', data: Int32Array.from({ length: n }, (_, i) => data.range.start + i) }];
  if (data.gridIndex) {
    columns.push({ name: 'gridIndex', type: 'INT32', data: data.gridIndex });
    if (info.radices) columns.push({ name: 'gridCode', type: 'STRING', data: Array.from(data.gridIndex, (g) => gridCode(g, info.radices!)) });
  }
  for (const p of data.params) {
    const labels = info.labels[p.name];
    columns.push(labels ? { name: p.name, type: 'STRING', data: Array.from(p.values, (k) => labels[k]) } : { name: p.name, type: 'DOUBLE', data: p.values });
  }
  columns.push(
    { name: 'class', type: 'STRING', data: netClass },
    ...statusColumns(data.divergence, n),
    { name: 'reason', type: 'STRING', data: reason },
    { name: 'periodMs', type: 'DOUBLE', data: period },
    ...PYLORIC_FEATURES.filter(([f]) => f !== 'periodMs').map(([f]) => ({ name: f, type: 'DOUBLE' as const, data: features[PYLORIC_FEATURES.findIndex(([g]) => g === f)] })),
  );
  info.cells.forEach((cell, c) => {
    columns.push(
      { name: `${cell}_class`, type: 'STRING', data: cellClass[c] },
      { name: `${cell}_spikeCount`, type: 'INT32', data: cellSpikes[c] },
      { name: `${cell}_maximaTruncated`, type: 'BOOLEAN', data: cellTruncated[c] },
      ...CELL_FEATURES.map(([f, type], k) => ({ name: `${cell}_${f}`, type, data: cellFeatures[c][k] })),
    );
  });
  for (const o of data.observed) {
    for (const stat of ['mean', 'min', 'max'] as const) columns.push({ name: observableKey(stat, o.name, o.unit), type: 'DOUBLE', data: o[stat] });
  }
  for (const o of data.observed) {
    data.laneKeys.forEach((lane, j) => columns.push({ name: gradientColumn(observableKey('mean', o.name, o.unit), lane), type: 'DOUBLE', data: o.meanTangent[j] }));
  }
  return columns;
}
