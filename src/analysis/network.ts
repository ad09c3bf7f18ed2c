/**
 * Network activity from the cells' voltage maxima (one pass; no second simulation): the network
 * period, each cell's bursts in the last complete cycle, the 15 pyloric features of Prinz, Bucher &
 * Marder 2004 and the network class. The rules, in our words (docs/models.md says the same):
 *
 * 1. Every cell must be periodically bursting by the single-cell rules (classify.ts). A cell that does
 *    not spike, spikes tonically or irregularly makes the network non-periodic.
 * 2. The cells' burst periods must agree within 0.5 % of their mean, P̄ (Prinz 2004).
 * 3. That one pair of intervals per cell (what classify.ts reads) lets irregular networks pass by
 *    chance, so periodicity is also read over several cycles: for every cell, each of its last
 *    `CYCLES_CHECKED` cycle intervals (burst onset to the onset `burstsPerCycle` bursts later) must lie
 *    within 0.5 % of P̄, and the window must hold at least `MIN_CYCLES` of them. Otherwise: non-periodic.
 * 4. Periodic networks of the three pyloric cells (AB/PD, LP, PY) are tested in the last complete
 *    AB/PD cycle [a, a + P̄): triphasic = one burst per cycle in every cell; pyloric-like = triphasic and
 *    AB/PD ends before LP starts, LP starts before PY starts, LP ends before PY ends. LP's and PY's bursts
 *    are those whose onsets fall in the cycle. Pyloric = pyloric-like with all 15 features in range.
 *    A periodic network that is not pyloric-like is `periodic`.
 *
 * A burst runs from its first to its last spike; bursts are split by the cell's interburst threshold
 * (classify.ts), and the first burst in the window is dropped (it may have begun before it).
 */
import type { ActivityFeatures } from './classify.ts';

export type NetworkClass = 'pyloric' | 'pyloric-like' | 'periodic' | 'non-periodic';

/** Cell periods (and cycle intervals) agree within this fraction of their mean. */
export const PERIOD_AGREEMENT = 0.005;
/** At most this many recent cycles of each cell are checked; at least MIN_CYCLES must exist. */
export const CYCLES_CHECKED = 4;
export const MIN_CYCLES = 2;

/** The 15 features of the pyloric rhythm with the ranges of the biological rhythm (Prinz 2004, Table 1). */
export const PYLORIC_FEATURES = [
  ['periodMs', 952, 2067],
  ['abpdBurstDurationMs', 317, 847],
  ['lpBurstDurationMs', 172, 625],
  ['pyBurstDurationMs', 230, 830],
  ['gapAbpdEndLpStartMs', 4, 439],
  ['gapLpEndPyStartMs', -181, 59],
  ['delayAbpdStartLpStartMs', 464, 1142],
  ['delayAbpdStartPyStartMs', 709, 1572],
  ['abpdDutyCycle', 0.305, 0.464],
  ['lpDutyCycle', 0.146, 0.383],
  ['pyDutyCycle', 0.240, 0.456],
  ['phaseGapAbpdEndLpStart', 0.018, 0.278],
  ['phaseGapLpEndPyStart', -0.108, 0.029],
  ['lpStartPhase', 0.426, 0.640],
  ['pyStartPhase', 0.638, 0.877],
] as const;

export type PyloricFeatureName = (typeof PYLORIC_FEATURES)[number][0];

/** One cell's input: its maxima (ms, mV) in the window and its single-cell classification. */
export interface CellInput {
  name: string;
  maximaTimesMs: ArrayLike<number>;
  maximaValuesMv: ArrayLike<number>;
  activity: ActivityFeatures;
}

export interface Burst {
  onsetMs: number;
  endMs: number;
  spikes: number;
}

export interface NetworkActivity {
  class: NetworkClass;
  /** mean of the cells' burst periods (ms) when they agree; null for non-periodic networks */
  periodMs: number | null;
  /** why the network is not of the next class up (e.g. 'LP is tonic'); empty for pyloric networks */
  reason: string;
  /** the bursts of each cell in the cycle the features describe (pyloric cells only) */
  cycle: Record<string, Burst> | null;
  /** the 15 features (pyloric networks of three cells), null where not defined */
  features: Record<PyloricFeatureName, number | null>;
}

/** Bursts of a spike train (spikes: maxima above 0 mV), split at ISIs above the threshold; the first is dropped. */
export function burstsOf(times: ArrayLike<number>, values: ArrayLike<number>, thresholdMs: number): Burst[] {
  const spikes: number[] = [];
  for (let i = 0; i < times.length; i++) if (values[i] > 0) spikes.push(times[i]);
  const bursts: Burst[] = [];
  let current: Burst | null = null;
  for (let k = 1; k < spikes.length; k++) {
    if (spikes[k] - spikes[k - 1] > thresholdMs) {
      current = { onsetMs: spikes[k], endMs: spikes[k], spikes: 1 };
      bursts.push(current);
    } else if (current) {
      current.endMs = spikes[k];
      current.spikes++;
    }
  }
  return bursts;
}

/** The features of a network without a pyloric cycle: one shared, frozen object (classifying millions allocates none). */
const NO_FEATURES: Readonly<Record<PyloricFeatureName, number | null>> = Object.freeze(
  Object.fromEntries(PYLORIC_FEATURES.map(([name]) => [name, null])) as Record<PyloricFeatureName, number | null>,
);

/**
 * Classifies a network from its cells' maxima. `pyloricRoles` names the AB/PD, LP and PY cells when the
 * network is the pyloric circuit; without it, periodic networks are 'periodic'.
 */
export function classifyNetwork(cells: readonly CellInput[], pyloricRoles?: readonly [string, string, string]): NetworkActivity {
  const result = (cls: NetworkClass, periodMs: number | null, reason: string, cycle: NetworkActivity['cycle'] = null, features: NetworkActivity['features'] = NO_FEATURES): NetworkActivity =>
    ({ class: cls, periodMs, reason, cycle, features });
  for (const c of cells) {
    if (c.activity.class !== 'bursting' || c.activity.burstPeriodMs === null) return result('non-periodic', null, `${c.name} is ${c.activity.class}`);
  }
  const periods = cells.map((c) => c.activity.burstPeriodMs!);
  const mean = periods.reduce((a, b) => a + b, 0) / periods.length;
  const off = cells.find((_, k) => Math.abs(periods[k] - mean) > PERIOD_AGREEMENT * mean);
  if (off) return result('non-periodic', null, `${off.name}'s burst period ${off.activity.burstPeriodMs!.toFixed(1)} ms is not within 0.5 % of the mean ${mean.toFixed(1)} ms`);

  const bursts = new Map<string, Burst[]>();
  for (const c of cells) {
    const b = burstsOf(c.maximaTimesMs, c.maximaValuesMv, c.activity.interburstThresholdMs!);
    bursts.set(c.name, b);
    const perCycle = c.activity.burstsPerCycle ?? 1;
    const cycles = Math.min(CYCLES_CHECKED, b.length - perCycle);
    if (cycles < MIN_CYCLES) return result('non-periodic', null, `${c.name} shows ${Math.max(0, cycles)} complete cycles in the window; at least ${MIN_CYCLES} are needed`);
    for (let k = b.length - 1; k >= b.length - cycles; k--) {
      const interval = b[k].onsetMs - b[k - perCycle].onsetMs;
      if (Math.abs(interval - mean) > PERIOD_AGREEMENT * mean) {
        return result('non-periodic', null, `${c.name}'s cycle ending at ${b[k].onsetMs.toFixed(1)} ms lasts ${interval.toFixed(1)} ms, not within 0.5 % of ${mean.toFixed(1)} ms`);
      }
    }
  }
  if (!pyloricRoles) return result('periodic', mean, 'not the pyloric circuit');

  const [ab, lp, py] = pyloricRoles.map((name) => {
    const c = cells.find((x) => x.name === name);
    if (!c) throw new Error(`classifyNetwork: no cell named ${name}`);
    return c;
  });
  const notTriphasic = [ab, lp, py].find((c) => (c.activity.burstsPerCycle ?? 1) !== 1);
  if (notTriphasic) return result('periodic', mean, `${notTriphasic.name} bursts ${notTriphasic.activity.burstsPerCycle} times per cycle (not triphasic)`);

  // the last AB/PD cycle whose LP and PY bursts are complete (each followed by a later burst)
  const abB = bursts.get(ab.name)!, lpB = bursts.get(lp.name)!, pyB = bursts.get(py.name)!;
  const inCycle = (list: Burst[], from: number) => list.findIndex((b, k) => k < list.length - 1 && b.onsetMs >= from && b.onsetMs < from + mean);
  for (let k = abB.length - 2; k >= 0; k--) {
    const a = abB[k];
    const l = inCycle(lpB, a.onsetMs), p = inCycle(pyB, a.onsetMs);
    if (l < 0 || p < 0) continue;
    const cycle = { [ab.name]: a, [lp.name]: lpB[l], [py.name]: pyB[p] };
    const L = lpB[l], P = pyB[p];
    const T = mean;
    // every key of PYLORIC_FEATURES, written out: one object shape, no dictionary-mode object per network
    const features: Record<PyloricFeatureName, number | null> = {
      periodMs: T,
      abpdBurstDurationMs: a.endMs - a.onsetMs,
      lpBurstDurationMs: L.endMs - L.onsetMs,
      pyBurstDurationMs: P.endMs - P.onsetMs,
      gapAbpdEndLpStartMs: L.onsetMs - a.endMs,
      gapLpEndPyStartMs: P.onsetMs - L.endMs,
      delayAbpdStartLpStartMs: L.onsetMs - a.onsetMs,
      delayAbpdStartPyStartMs: P.onsetMs - a.onsetMs,
      abpdDutyCycle: (a.endMs - a.onsetMs) / T,
      lpDutyCycle: (L.endMs - L.onsetMs) / T,
      pyDutyCycle: (P.endMs - P.onsetMs) / T,
      phaseGapAbpdEndLpStart: (L.onsetMs - a.endMs) / T,
      phaseGapLpEndPyStart: (P.onsetMs - L.endMs) / T,
      lpStartPhase: (L.onsetMs - a.onsetMs) / T,
      pyStartPhase: (P.onsetMs - a.onsetMs) / T,
    };
    const order = a.endMs < L.onsetMs && L.onsetMs < P.onsetMs && L.endMs < P.endMs;
    if (!order) return result('periodic', T, 'the bursts are not in the pyloric order (AB/PD end < LP start < PY start, LP end < PY end)', cycle, features);
    const outside = PYLORIC_FEATURES.filter(([name, lo, hi]) => !(features[name]! >= lo && features[name]! <= hi)).map(([name]) => name);
    if (outside.length) return result('pyloric-like', T, `outside the biological ranges: ${outside.join(', ')}`, cycle, features);
    return result('pyloric', T, '', cycle, features);
  }
  return result('periodic', mean, 'no complete cycle holds an LP and a PY burst');
}
