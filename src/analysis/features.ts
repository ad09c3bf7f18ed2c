/**
 * Per-model rows of a sweep: activity class and features (docs/models.md §8, from the voltage maxima the
 * engine recorded), time averages and extremes, and gradients, as columns ready for a table.
 */
import type { Lane } from '../compile/program.ts';
import type { DivergenceResult, EnsembleResult } from '../engine/ensemble.ts';
import { classifyActivity, type ActivityClass } from './classify.ts';
import { observableKey } from './names.ts';

/** A table column: a name, its values, and how to store them. */
export interface Column {
  name: string;
  type: 'INT32' | 'DOUBLE' | 'STRING' | 'BOOLEAN';
  data: (number | string | boolean | null)[] | Float64Array | Int32Array;
}

export const ACTIVITY_CLASSES: readonly ActivityClass[] = ['silent', 'tonic', 'bursting', 'irregular'];

/**
 * The class column's value for a diverged model (engine/ensemble.ts, DivergenceResult): not an
 * activity class, so every count of classes keeps such models apart, and their features are null.
 */
export const DIVERGED_CLASS = 'diverged';

/** Gradient column name: d_meanCaUM_d_log_gNa. */
export function gradientColumn(observable: string, laneKey: string): string {
  return `d_${observable}_d_${laneKey.replace(':', '_')}`;
}

const FEATURES = [
  ['firingRateHz', 'DOUBLE'], ['burstPeriodMs', 'DOUBLE'], ['burstsPerCycle', 'INT32'], ['spikesPerBurst', 'DOUBLE'],
  ['burstDurationMs', 'DOUBLE'], ['dutyCycle', 'DOUBLE'], ['interburstThresholdMs', 'DOUBLE'], ['isiMinMs', 'DOUBLE'],
  ['isiMaxMs', 'DOUBLE'], ['isiMeanMs', 'DOUBLE'], ['subthresholdPeriodMs', 'DOUBLE'],
] as const;

/** What classification reads of a run (an EnsembleResult is one; a worker rebuilds one from posted data). */
export type FeatureSource = Pick<EnsembleResult, 'N' | 'observed' | 'maxima'> & {
  lanes: readonly Pick<Lane, 'key'>[];
  divergence: Pick<DivergenceResult, 'state' | 'stateNames' | 'timeMs'>;
};

/**
 * The status columns of a run's rows: `status` (ok or diverged), and for diverged rows when
 * (`divergedAtMs`, ms) and in which state (`divergedState`) the run left the finite range; null for ok rows.
 */
export function statusColumns(divergence: FeatureSource['divergence'], N: number): Column[] {
  const status: string[] = new Array(N), at: (number | null)[] = new Array(N), state: (string | null)[] = new Array(N);
  for (let i = 0; i < N; i++) {
    const k = divergence.state[i];
    status[i] = k >= 0 ? 'diverged' : 'ok';
    at[i] = k >= 0 ? divergence.timeMs[i] : null;
    state[i] = k >= 0 ? divergence.stateNames[k] : null;
  }
  return [
    { name: 'status', type: 'STRING', data: status },
    { name: 'divergedAtMs', type: 'DOUBLE', data: at },
    { name: 'divergedState', type: 'STRING', data: state },
  ];
}

/**
 * Classifies every instance of a run and lays out its row columns (without index and parameters).
 * The window is the run after its discard. Classification is Prinz's rules over the recorded maxima.
 */
export function featureColumns(result: FeatureSource, windowStartMs: number, windowEndMs: number): Column[] {
  const N = result.N;
  const maxima = result.maxima?.[0];
  if (!maxima) throw new Error('featureColumns needs a run that recorded voltage maxima (maximaCapacity > 0)');
  const cls: string[] = new Array(N);
  const spikes = new Int32Array(N), maximaCount = new Int32Array(N);
  const truncated: boolean[] = new Array(N);
  const features = FEATURES.map(() => new Array<number | null>(N));
  for (let i = 0; i < N; i++) {
    if (result.divergence.state[i] >= 0) {
      // a diverged model has no activity, and its counts mean nothing (the kernels stop it in the
      // dispatch after the one where it left the range, so they would even depend on dispatch lengths)
      cls[i] = DIVERGED_CLASS;
      spikes[i] = 0;
      maximaCount[i] = 0;
      truncated[i] = false;
      for (const column of features) column[i] = null;
      continue;
    }
    const { timesMs, valuesMv } = maxima.of(i);
    const f = classifyActivity({
      maximaTimesMs: timesMs, maximaValuesMv: valuesMv, windowStartMs, windowEndMs,
      totalMaxima: maxima.count[i], totalSpikes: maxima.spikeCount[i],
    });
    cls[i] = f.class;
    spikes[i] = f.spikeCount;
    maximaCount[i] = maxima.count[i];
    truncated[i] = f.truncated;
    FEATURES.forEach(([name], k) => (features[k][i] = f[name]));
  }
  const columns: Column[] = [
    { name: 'class', type: 'STRING', data: cls },
    ...statusColumns(result.divergence, N),
    { name: 'spikeCount', type: 'INT32', data: spikes },
    { name: 'maximaCount', type: 'INT32', data: maximaCount },
    { name: 'maximaTruncated', type: 'BOOLEAN', data: truncated },
    ...FEATURES.map(([name, type], k) => ({ name, type, data: features[k] })),
  ];
  for (const o of result.observed) {
    for (const stat of ['mean', 'min', 'max'] as const) columns.push({ name: observableKey(stat, o.name, o.unit), type: 'DOUBLE', data: o[stat] });
  }
  for (const o of result.observed) {
    result.lanes.forEach((lane, j) => columns.push({ name: gradientColumn(observableKey('mean', o.name, o.unit), lane.key), type: 'DOUBLE', data: o.meanTangent[j] }));
  }
  return columns;
}
