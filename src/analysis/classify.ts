/**
 * Activity classification from voltage maxima: the rules of Prinz's network code (Prinz, Billimoria &
 * Marder 2003; Prinz, Bucher & Marder 2004), as summarised in docs/models.md §8. We implement those rules
 * and say so; where the summary is ambiguous the choice we made is written next to the code (and
 * listed in the comment on `classifyActivity`), and test/classify.test.ts tests each choice.
 *
 * Cost: one forward pass over the maxima (spike count, ISI and IMI extremes), then a backward pass
 * over the last 7 bursts (or the last 7 subthreshold maxima). No allocation but the result object: the backward pass
 * keeps the last few bursts in fixed module-level scratch arrays. Runs once per model, on the host,
 * for millions of models.
 */
import { InputError } from '../errors.ts';

export type ActivityClass = 'silent' | 'tonic' | 'bursting' | 'irregular';

export interface ActivityInput {
  /** times (ms, ascending) of every voltage maximum (a point where the slope turns from positive to negative) */
  maximaTimesMs: ArrayLike<number>;
  /** membrane potential at each maximum (mV); a spike is a maximum above 0 mV */
  maximaValuesMv: ArrayLike<number>;
  /** the observation window the maxima come from (ms); maxima are only recorded inside it */
  windowStartMs: number;
  windowEndMs: number;
  /**
   * optional: how many maxima occurred in total; when larger than maximaTimesMs.length, only the most
   * recent were kept (a ring buffer): the result says `truncated: true` and describes what was kept
   */
  totalMaxima?: number;
  /**
   * optional: how many spikes (maxima above 0 mV) occurred in the whole window, e.g. a counter kept
   * beside the ring buffer. When given, `spikeCount` and `firingRateHz` use it (over the whole window)
   * instead of the kept maxima; everything else still uses the kept maxima.
   */
  totalSpikes?: number;
}

export interface ActivityFeatures {
  class: ActivityClass;
  /** spikes in the window: `totalSpikes` when given, else the spikes among the given maxima */
  spikeCount: number;
  /**
   * spikeCount / window (Hz). When truncated and `totalSpikes` is not given: kept spikes / spanMs, where
   * the span starts at the first kept maximum (an approximation: the true start of the kept stretch lies
   * somewhere between the last dropped maximum and the first kept one).
   */
  firingRateHz: number;
  /** length (ms) of the stretch the features describe: the window, or first kept maximum → window end when truncated */
  spanMs: number;
  /** inter-spike intervals (ms) between consecutive kept spikes; null with fewer than 2 spikes */
  isiMinMs: number | null;
  isiMaxMs: number | null;
  isiMeanMs: number | null;
  /** largest inter-maximum interval (ms), maxima of any height; null with fewer than 2 maxima */
  imiMaxMs: number | null;
  /** Prinz's "modulated tonic": largest IMI < 5 × smallest ISI (false with fewer than 2 spikes) */
  modulatedTonic: boolean;
  /** ISIs strictly above this (ms) separate bursts; null with fewer than 2 spikes */
  interburstThresholdMs: number | null;
  /** cycle period of periodic bursting (smallest repeating period, ms), burst onset to burst onset */
  burstPeriodMs: number | null;
  /** 1, 2 or 3 for 1-, 2-, 3-burst cycles */
  burstsPerCycle: number | null;
  /** mean over the bursts of the most recent complete cycle */
  spikesPerBurst: number | null;
  /** mean over the bursts of the most recent complete cycle, first to last spike of a burst (ms) */
  burstDurationMs: number | null;
  /**
   * fraction of the cycle spent bursting: (sum of the cycle's burst durations) / burstPeriodMs. For one
   * burst per cycle this is burst duration / period; for 2- and 3-burst cycles it is burstsPerCycle ×
   * burstDurationMs / burstPeriodMs (the bursts' summed duty cycles), so it stays in [0, 1).
   */
  dutyCycle: number | null;
  /**
   * period (ms) of the subthreshold maxima (≤ 0 mV) when the spikes give no burst period: the same
   * end-anchored test on the intervals between them. Set for silent cells with a periodic subthreshold
   * oscillation and for 'irregular' cells whose subthreshold maxima are periodic although their spikes
   * are not; null otherwise (and never computed for tonic or bursting cells).
   */
  subthresholdPeriodMs: number | null;
  /** maxima went missing from the start (totalMaxima > the number given); the features describe the kept ones */
  truncated: boolean;
}

// ---- constants of Prinz's rules (docs/models.md §8) ----
/** modulated tonic: largest IMI < MODULATED_IMI_FACTOR × smallest ISI */
const MODULATED_IMI_FACTOR = 5;
/** interburst threshold fractions and cap (ms) */
const MODULATED_THRESHOLD_FRACTION = 0.99;
const LONG_ISI_FACTOR = 2;
const LONG_ISI_THRESHOLD_FRACTION = 0.5;
const THRESHOLD_CAP_MS = 500;
/** tonic: more than 10 spikes in 5 s, i.e. more than 2 spikes per second of window */
const TONIC_SPIKES = 10;
const TONIC_WINDOW_MS = 5000;
const TONIC_MAX_RELATIVE_SPREAD = 0.05;
/** periodicity: two intervals within 5 % of their mean */
const PERIOD_TOLERANCE = 0.05;
/** bursting needs more than 5 spikes (we ask the same of maxima for subthreshold periodicity) */
const MIN_EVENTS_EXCLUSIVE = 5;
/** cycles of 1, 2 or 3 bursts */
const MAX_BURSTS_PER_CYCLE = 3;

/** Burst onsets kept by the backward pass: 2 × 3 intervals need 7 onsets. */
const MAX_ONSETS = 2 * MAX_BURSTS_PER_CYCLE + 1;
// Scratch for the backward pass, index 0 = most recent. Module-level so a call allocates nothing.
const onsetTimeMs = new Float64Array(MAX_ONSETS);
const burstLastSpikeMs = new Float64Array(MAX_ONSETS);
const burstSpikes = new Float64Array(MAX_ONSETS);
const intervals = new Float64Array(MAX_ONSETS);

/** within 5 % of their mean: |x − y| ≤ 0.05 × (x + y)/2; both must be positive */
function matches(x: number, y: number): boolean {
  return x > 0 && y > 0 && Math.abs(x - y) <= PERIOD_TOLERANCE * 0.5 * (x + y);
}

/**
 * End-anchored periodicity test on `count` intervals held in `intervals`, most recent first: the
 * smallest n in 1..3 such that each of the last n intervals is within 5 % of the one n before it.
 * Returns n, or 0 when none.
 */
function smallestRepeat(count: number): number {
  for (let n = 1; n <= MAX_BURSTS_PER_CYCLE; n++) {
    if (count < 2 * n) return 0;
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = matches(intervals[i], intervals[i + n]);
    if (ok) return n;
  }
  return 0;
}

/**
 * Classify one cell's activity from its voltage maxima, by the rules of Prinz's network code
 * (docs/models.md §8):
 *
 * - spikes are maxima above 0 mV (strictly); ISIs between consecutive spikes; IMIs between consecutive
 *   maxima of any height.
 * - modulated tonic: largest IMI < 5 × smallest ISI.
 * - interburst threshold: modulated tonic → 0.99 × largest ISI; else largest ISI > 2 × mean ISI →
 *   0.5 × largest ISI; else the mean ISI; capped at 500 ms. An ISI strictly above it ends a burst.
 * - tonic: more than 10 spikes per 5 s and (max ISI − min ISI) / mean < 5 %.
 * - periodic bursting (> 5 spikes): intervals between burst onsets, compared at the end of the train.
 * - otherwise the same periodicity test on IMIs → subthresholdPeriodMs. No spikes: silent. Spikes but
 *   no burst period: irregular.
 *
 * Choices where docs/models.md §8 is ambiguous:
 * 1. Tonic's "their mean" is the mean of the two, (max ISI + min ISI)/2. "More than 10 spikes in a 5 s
 *    window" scales with the span: spikeCount > 10 × spanMs/5000 (a rate above 2 Hz); we also ask for
 *    at least 3 spikes (2 ISIs) so the spread means something.
 * 2. An "interburst interval" in the periodicity test is burst onset → next burst onset (the first spike
 *    after an ISI above threshold, to the next such spike), so that a match measures the cycle period.
 *    The first spike kept is never an onset (the burst may have started before the window or the ring).
 * 3. "Walking back from the end" is anchored at the end: the most recent interval is compared with the
 *    one 1 before it; failing that, the last 2 with the 2 before them (each pair within 5 %); failing
 *    that, the last 3 with the 3 before them. The smallest n that matches gives the period (the sum of
 *    the last n intervals) and burstsPerCycle = n. We do not search further back for some matching pair
 *    anywhere in the train: the window is meant to be past the transient, and a search over the whole
 *    train would find a "period" in a large share of random trains (~2.5 % of chance per pair).
 *    Matching "within 5 % of their mean" is |x − y| ≤ 0.05 × (x + y)/2.
 * 4. Burst features come from the n bursts of the most recent complete cycle (each ended by an
 *    interburst ISI; the last burst in the window may be cut off, so it is not used).
 * 5. Subthreshold periodicity uses only the maxima at or below 0 mV: the intervals between consecutive
 *    subthreshold maxima (for a cell without spikes, exactly its IMIs), with the same end-anchored
 *    test; it asks for more than 5 such maxima, as bursting asks for more than 5 spikes, and is only
 *    tested when the cell is neither tonic nor bursting. Period = sum of the last n intervals. (Using
 *    all maxima would, in an irregular burster, mostly find the intra-burst spike interval.)
 * 6. No spikes but periodic maxima (a subthreshold oscillation; Prinz counted it separately): class
 *    'silent' with subthresholdPeriodMs set. Spikes that give no burst period (e.g. ≤ 5 spikes) beside
 *    periodic subthreshold maxima: 'irregular' with subthresholdPeriodMs set.
 * 7. Truncated input (totalMaxima > maxima given): everything is computed from the kept maxima over
 *    spanMs = windowEnd − first kept maximum; the bursts and period come from the end, which was kept.
 */
export function classifyActivity(input: ActivityInput): ActivityFeatures {
  const t = input.maximaTimesMs;
  const v = input.maximaValuesMv;
  const m = t.length;
  if (v.length !== m) {
    throw new InputError(`classifyActivity: maximaTimesMs has ${m} entries but maximaValuesMv has ${v.length}`);
  }
  const windowMs = input.windowEndMs - input.windowStartMs;
  if (!(windowMs > 0)) {
    throw new InputError(`classifyActivity: windowEndMs (${input.windowEndMs}) must be after windowStartMs (${input.windowStartMs})`);
  }
  const truncated = input.totalMaxima !== undefined && input.totalMaxima > m;

  // ---- forward pass: spikes, ISI extremes, largest IMI ----
  let spikes = 0;
  let lastSpikeMs = 0;
  let firstSpikeMs = 0;
  let isiMin = Infinity;
  let isiMax = -Infinity;
  let imiMax = -Infinity;
  for (let k = 0; k < m; k++) {
    const tk = t[k];
    if (k > 0) {
      const imi = tk - t[k - 1];
      if (imi > imiMax) imiMax = imi;
    }
    if (v[k] > 0) {
      if (spikes > 0) {
        const isi = tk - lastSpikeMs;
        if (isi < isiMin) isiMin = isi;
        if (isi > isiMax) isiMax = isi;
      } else {
        firstSpikeMs = tk;
      }
      lastSpikeMs = tk;
      spikes++;
    }
  }

  const spanMs = truncated && m > 0 ? input.windowEndMs - t[0] : windowMs;
  const spikeCount = input.totalSpikes ?? spikes;
  const firingRateHz =
    input.totalSpikes !== undefined ? (1000 * input.totalSpikes) / windowMs : spanMs > 0 ? (1000 * spikes) / spanMs : 0;

  const hasIsi = spikes >= 2;
  const isiMean = hasIsi ? (lastSpikeMs - firstSpikeMs) / (spikes - 1) : NaN;
  const modulatedTonic = hasIsi && imiMax < MODULATED_IMI_FACTOR * isiMin;
  let threshold = NaN;
  if (hasIsi) {
    if (modulatedTonic) threshold = MODULATED_THRESHOLD_FRACTION * isiMax;
    else if (isiMax > LONG_ISI_FACTOR * isiMean) threshold = LONG_ISI_THRESHOLD_FRACTION * isiMax;
    else threshold = isiMean;
    if (threshold > THRESHOLD_CAP_MS) threshold = THRESHOLD_CAP_MS;
  }

  const out: ActivityFeatures = {
    class: 'silent',
    spikeCount,
    firingRateHz,
    spanMs,
    isiMinMs: hasIsi ? isiMin : null,
    isiMaxMs: hasIsi ? isiMax : null,
    isiMeanMs: hasIsi ? isiMean : null,
    imiMaxMs: m >= 2 ? imiMax : null,
    modulatedTonic,
    interburstThresholdMs: hasIsi ? threshold : null,
    burstPeriodMs: null,
    burstsPerCycle: null,
    spikesPerBurst: null,
    burstDurationMs: null,
    dutyCycle: null,
    subthresholdPeriodMs: null,
    truncated,
  };

  // ---- tonic (choice 1) ----
  if (
    spikes >= 3 &&
    spikes > (TONIC_SPIKES * spanMs) / TONIC_WINDOW_MS &&
    (isiMax - isiMin) / (0.5 * (isiMax + isiMin)) < TONIC_MAX_RELATIVE_SPREAD
  ) {
    out.class = 'tonic';
    return out;
  }

  // ---- periodic bursting (choices 2–4) ----
  if (spikes > MIN_EVENTS_EXCLUSIVE) {
    // Backward pass over the spikes: collect up to MAX_ONSETS burst onsets, most recent first, with the
    // last spike and spike count of the burst each one starts.
    let onsets = 0;
    let later = NaN; // the spike after the current one in time (visited just before it)
    let runLastMs = NaN;
    let runCount = 0;
    for (let k = m - 1; k >= 0 && onsets < MAX_ONSETS; k--) {
      if (!(v[k] > 0)) continue;
      const tk = t[k];
      if (runCount === 0) {
        runLastMs = tk;
        runCount = 1;
      } else if (later - tk > threshold) {
        // `later` starts a burst: it is an onset, and the run collected so far is its burst
        onsetTimeMs[onsets] = later;
        burstLastSpikeMs[onsets] = runLastMs;
        burstSpikes[onsets] = runCount;
        onsets++;
        runLastMs = tk;
        runCount = 1;
      } else {
        runCount++;
      }
      later = tk;
    }
    const count = onsets - 1;
    for (let j = 0; j < count; j++) intervals[j] = onsetTimeMs[j] - onsetTimeMs[j + 1];
    const n = smallestRepeat(count);
    if (n > 0) {
      // the cycle: intervals 0..n−1, started by onsets 1..n, whose bursts are complete
      let period = 0;
      let spikesSum = 0;
      let durationSum = 0;
      for (let j = 1; j <= n; j++) {
        period += intervals[j - 1];
        spikesSum += burstSpikes[j];
        durationSum += burstLastSpikeMs[j] - onsetTimeMs[j];
      }
      out.class = 'bursting';
      out.burstPeriodMs = period;
      out.burstsPerCycle = n;
      out.spikesPerBurst = spikesSum / n;
      out.burstDurationMs = durationSum / n;
      out.dutyCycle = durationSum / period;
      return out;
    }
  }

  // ---- periodicity of the subthreshold maxima (choices 5–6) ----
  if (m - spikes > MIN_EVENTS_EXCLUSIVE) {
    // backward over the maxima at or below 0 mV, most recent first (intervals[j] = j-th most recent IMI)
    let kept = 0;
    let later = NaN;
    for (let k = m - 1; k >= 0 && kept < MAX_ONSETS; k--) {
      if (v[k] > 0) continue;
      if (kept > 0) intervals[kept - 1] = later - t[k];
      later = t[k];
      kept++;
    }
    const n = smallestRepeat(kept - 1);
    if (n > 0) {
      let period = 0;
      for (let j = 0; j < n; j++) period += intervals[j];
      out.subthresholdPeriodMs = period;
    }
  }
  out.class = spikes === 0 ? 'silent' : 'irregular';
  return out;
}
