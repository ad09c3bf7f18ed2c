/**
 * The activity classifier (docs/models.md §8, Prinz's rules) on synthetic maxima whose answers are worked
 * out by hand in the comments: spike times are built from known periods, burst sizes and intra-burst
 * intervals, so the period, spikes per burst, burst duration, duty cycle and interburst threshold are
 * known before the classifier runs. Random trains use a seeded generator.
 */
import { describe, expect, it } from 'vitest';
import { classifyActivity, type ActivityInput } from '../src/analysis/classify.ts';
import { InputError } from '../src/errors.ts';

const SPIKE_MV = 20;
const SUB_MV = -40;

/** mulberry32: a small seeded generator, uniform in [0, 1) */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** maxima from spike times (SPIKE_MV) and subthreshold maxima times (SUB_MV), sorted */
function maxima(spikesMs: number[], subMs: number[] = [], windowStartMs = 0, windowEndMs = 10_000): ActivityInput {
  const all = [...spikesMs.map((t) => [t, SPIKE_MV]), ...subMs.map((t) => [t, SUB_MV])].sort((a, b) => a[0] - b[0]);
  return {
    maximaTimesMs: Float64Array.from(all, (p) => p[0]),
    maximaValuesMv: Float64Array.from(all, (p) => p[1]),
    windowStartMs,
    windowEndMs,
  };
}

/**
 * Spike times of bursts: `shapes` repeat cyclically; shape i has `spikes` spikes `isiMs` apart, and the
 * next burst starts `toNextMs` after its first spike. Bursts start at `startMs` and continue while the
 * first spike is before `untilMs` (spikes after untilMs are dropped).
 */
function bursts(shapes: { spikes: number; isiMs: number; toNextMs: number }[], startMs: number, untilMs: number): number[] {
  const out: number[] = [];
  let t0 = startMs;
  for (let b = 0; t0 < untilMs; b++) {
    const s = shapes[b % shapes.length];
    for (let i = 0; i < s.spikes; i++) if (t0 + i * s.isiMs < untilMs) out.push(t0 + i * s.isiMs);
    t0 += s.toNextMs;
  }
  return out;
}

/** spike times from a repeating list of ISIs */
function fromIsis(isisMs: number[], startMs: number, untilMs: number): number[] {
  const out: number[] = [];
  for (let t = startMs, i = 0; t < untilMs; t += isisMs[i % isisMs.length], i++) out.push(t);
  return out;
}

describe('silent', () => {
  it('no maxima at all', () => {
    const f = classifyActivity(maxima([]));
    expect(f.class).toBe('silent');
    expect(f.spikeCount).toBe(0);
    expect(f.firingRateHz).toBe(0);
    expect(f.isiMinMs).toBeNull();
    expect(f.interburstThresholdMs).toBeNull();
    expect(f.subthresholdPeriodMs).toBeNull();
    expect(f.truncated).toBe(false);
  });

  it('periodic subthreshold oscillation: silent, with its period (choice 6)', () => {
    // maxima at −40 mV every 300 ms
    const f = classifyActivity(maxima([], fromIsis([300], 50, 10_000)));
    expect(f.class).toBe('silent');
    expect(f.spikeCount).toBe(0);
    expect(f.subthresholdPeriodMs).toBeCloseTo(300, 9);
  });

  it('subthreshold oscillation with two maxima per cycle (180 + 270 ms): period 450', () => {
    const f = classifyActivity(maxima([], fromIsis([180, 270], 50, 10_000)));
    expect(f.class).toBe('silent');
    expect(f.subthresholdPeriodMs).toBeCloseTo(450, 9);
  });

  it('random subthreshold maxima: silent, no period', () => {
    // intervals growing by 20 % each: no two of the last ones within 5 %, at lag 1, 2 or 3
    const sub: number[] = [];
    for (let t = 10, d = 20; t < 10_000; t += d, d *= 1.2) sub.push(t);
    const f = classifyActivity(maxima([], sub));
    expect(f.class).toBe('silent');
    expect(f.subthresholdPeriodMs).toBeNull();
  });

  it('a maximum at exactly 0 mV is not a spike', () => {
    const f = classifyActivity({ maximaTimesMs: [100, 200, 300], maximaValuesMv: [0, 0, 0], windowStartMs: 0, windowEndMs: 1000 });
    expect(f.class).toBe('silent');
    expect(f.spikeCount).toBe(0);
  });

  it('at most 5 subthreshold maxima: too few to call periodic', () => {
    const f = classifyActivity(maxima([], [100, 400, 700, 1000, 1300]));
    expect(f.subthresholdPeriodMs).toBeNull();
    const g = classifyActivity(maxima([], [100, 400, 700, 1000, 1300, 1600]));
    expect(g.subthresholdPeriodMs).toBeCloseTo(300, 9);
  });
});

describe('tonic', () => {
  it('20 Hz for 5 s with jitter: ISIs in [49, 51] ms, spread ≤ 4 % < 5 %', () => {
    const r = rng(1);
    const spikes = Array.from({ length: 100 }, (_, k) => 25 + 50 * k + (r() - 0.5));
    const f = classifyActivity(maxima(spikes, [], 0, 5000));
    expect(f.class).toBe('tonic');
    expect(f.spikeCount).toBe(100);
    expect(f.firingRateHz).toBeCloseTo(20, 12);
    expect(f.isiMinMs!).toBeGreaterThanOrEqual(49);
    expect(f.isiMaxMs!).toBeLessThanOrEqual(51);
    expect(f.isiMeanMs!).toBeCloseTo((spikes[99] - spikes[0]) / 99, 12);
    expect(f.burstPeriodMs).toBeNull();
    expect(f.subthresholdPeriodMs).toBeNull();
  });

  it('tonic with subthreshold maxima between the spikes stays tonic', () => {
    const spikes = fromIsis([50], 25, 5000);
    const f = classifyActivity(maxima(spikes, spikes.map((t) => t + 20), 0, 5000));
    expect(f.class).toBe('tonic');
    expect(f.spikeCount).toBe(100);
  });

  it('ISI spread of 10 % is not tonic', () => {
    // ISIs alternate 47.5 and 52.5: spread 5 / mean 50 = 10 %
    const f = classifyActivity(maxima(fromIsis([47.5, 52.5], 25, 5000), [], 0, 5000));
    expect(f.class).not.toBe('tonic');
  });

  it('"their mean" is (max + min)/2 (choice 1)', () => {
    // ISIs 48 ms except one of 50.45: spread 2.45 / ((50.45 + 48)/2 = 49.225) = 4.98 % < 5 %, tonic;
    // (divided by the mean ISI, ≈ 48.03, it would be 5.1 %, not tonic)
    const isis = Array.from({ length: 60 }, (_, i) => (i === 30 ? 50.45 : 48));
    const spikes = [10];
    for (const d of isis) spikes.push(spikes[spikes.length - 1] + d);
    const f = classifyActivity(maxima(spikes, [], 0, 5000));
    expect((f.isiMaxMs! - f.isiMinMs!) / f.isiMeanMs!).toBeGreaterThan(0.05);
    expect(f.class).toBe('tonic');
  });

  it('"more than 10 spikes in 5 s" scales with the window (choice 1)', () => {
    // 11 regular spikes 450 ms apart: tonic in a 5 s window ...
    const eleven = fromIsis([450], 100, 5000);
    expect(eleven.length).toBe(11);
    expect(classifyActivity(maxima(eleven, [], 0, 5000)).class).toBe('tonic');
    // ... but in a 10 s window it takes more than 20
    expect(classifyActivity(maxima(eleven, [], 0, 10_000)).class).not.toBe('tonic');
    // 10 regular spikes in 5 s are not tonic: the exact regularity makes them single-spike bursts
    // (modulated tonic, threshold 0.99 × 500 = 495 ms, every ISI ends a burst): period 500 ms
    const ten = fromIsis([500], 100, 5000);
    expect(ten.length).toBe(10);
    const f = classifyActivity(maxima(ten, [], 0, 5000));
    expect(f.class).toBe('bursting');
    expect(f.modulatedTonic).toBe(true);
    expect(f.interburstThresholdMs).toBeCloseTo(495, 9);
    expect(f.burstPeriodMs).toBeCloseTo(500, 9);
    expect(f.burstsPerCycle).toBe(1);
    expect(f.spikesPerBurst).toBe(1);
    expect(f.burstDurationMs).toBe(0);
    expect(f.dutyCycle).toBe(0);
  });
});

describe('bursting', () => {
  it('one burst per cycle: period 1000 ms, 8 spikes 20 ms apart, duration 140 ms, duty 0.14', () => {
    // ISIs: 7 × 20 and one 860 per cycle; mean 125, max 860 > 250 → threshold 0.5 × 860 = 430
    const spikes = bursts([{ spikes: 8, isiMs: 20, toNextMs: 1000 }], 100, 10_000);
    const f = classifyActivity(maxima(spikes));
    expect(f.class).toBe('bursting');
    expect(f.spikeCount).toBe(80);
    expect(f.firingRateHz).toBeCloseTo(8, 12);
    expect(f.modulatedTonic).toBe(false);
    expect(f.isiMinMs).toBeCloseTo(20, 9);
    expect(f.isiMaxMs).toBeCloseTo(860, 9);
    expect(f.interburstThresholdMs).toBeCloseTo(430, 9);
    expect(f.burstPeriodMs).toBeCloseTo(1000, 9);
    expect(f.burstsPerCycle).toBe(1);
    expect(f.spikesPerBurst).toBe(8);
    expect(f.burstDurationMs).toBeCloseTo(140, 9);
    expect(f.dutyCycle).toBeCloseTo(0.14, 12);
    expect(f.subthresholdPeriodMs).toBeNull();
  });

  it('subthreshold maxima between bursts change nothing but the IMIs', () => {
    const spikes = bursts([{ spikes: 8, isiMs: 20, toNextMs: 1000 }], 100, 10_000);
    // two small maxima in each 860 ms gap, at +300 and +600 ms after the burst's last spike
    const sub = spikes.filter((_, i) => i % 8 === 7).flatMap((t) => [t + 300, t + 600]);
    const f = classifyActivity(maxima(spikes, sub));
    expect(f.class).toBe('bursting');
    expect(f.imiMaxMs).toBeCloseTo(300, 9);
    expect(f.modulatedTonic).toBe(false); // 300 ≥ 5 × 20
    expect(f.burstPeriodMs).toBeCloseTo(1000, 9);
    expect(f.spikesPerBurst).toBe(8);
  });

  it('the last burst, cut by the window end, is not used', () => {
    // window ends 30 ms into the last burst (2 of its 8 spikes)
    const spikes = bursts([{ spikes: 8, isiMs: 20, toNextMs: 1000 }], 100, 9130);
    const f = classifyActivity(maxima(spikes, [], 0, 9130));
    expect(f.class).toBe('bursting');
    expect(f.spikesPerBurst).toBe(8);
    expect(f.burstDurationMs).toBeCloseTo(140, 9);
  });

  it('doublets (threshold = mean ISI): period 70 ms, 2 spikes, duration 10 ms', () => {
    // spikes 5, 15, 75, 85, …, 1965 (ending on a pair's first spike, so 28 ISIs of each length):
    // ISIs alternate 10, 60: mean 35; max 60 ≤ 2 × 35; largest IMI 60 ≥ 5 × 10, not modulated
    // → threshold = mean ISI = 35, every 60 ms ISI ends a burst
    const f = classifyActivity(maxima(fromIsis([10, 60], 5, 1970), [], 0, 2000));
    expect(f.modulatedTonic).toBe(false);
    expect(f.class).toBe('bursting');
    expect(f.interburstThresholdMs).toBeCloseTo(35, 9);
    expect(f.burstPeriodMs).toBeCloseTo(70, 9);
    expect(f.burstsPerCycle).toBe(1);
    expect(f.spikesPerBurst).toBe(2);
    expect(f.burstDurationMs).toBeCloseTo(10, 9);
    expect(f.dutyCycle).toBeCloseTo(10 / 70, 12);
  });

  it('two-burst cycle: bursts of 5 and 3 spikes, onsets 600 and 900 ms apart → period 1500', () => {
    // gaps 600 − 80 = 520 and 900 − 40 = 860; mean ISI 1500/8 = 187.5; threshold 430: both gaps end bursts.
    // Lag 1: 600 vs 900 fails; lag 2 matches. Spikes per burst (5 + 3)/2 = 4, duration (80 + 40)/2 = 60,
    // duty (80 + 40)/1500.
    const spikes = bursts(
      [
        { spikes: 5, isiMs: 20, toNextMs: 600 },
        { spikes: 3, isiMs: 20, toNextMs: 900 },
      ],
      100,
      12_000,
    );
    const f = classifyActivity(maxima(spikes, [], 0, 12_000));
    expect(f.class).toBe('bursting');
    expect(f.interburstThresholdMs).toBeCloseTo(430, 9);
    expect(f.burstPeriodMs).toBeCloseTo(1500, 9);
    expect(f.burstsPerCycle).toBe(2);
    expect(f.spikesPerBurst).toBe(4);
    expect(f.burstDurationMs).toBeCloseTo(60, 9);
    expect(f.dutyCycle).toBeCloseTo(120 / 1500, 12);
  });

  it('three-burst cycle: 4, 6, 2 spikes 15 ms apart, onsets 500, 700, 900 ms apart → period 2100', () => {
    // durations 45, 75, 15; gaps 455, 625, 885; 12 ISIs per cycle, mean 175; threshold 442.5.
    // Lags 1 and 2 fail (900 vs 700, 900 vs 500); lag 3 matches.
    const spikes = bursts(
      [
        { spikes: 4, isiMs: 15, toNextMs: 500 },
        { spikes: 6, isiMs: 15, toNextMs: 700 },
        { spikes: 2, isiMs: 15, toNextMs: 900 },
      ],
      100,
      20_000,
    );
    const f = classifyActivity(maxima(spikes, [], 0, 20_000));
    expect(f.class).toBe('bursting');
    expect(f.interburstThresholdMs).toBeCloseTo(442.5, 9);
    expect(f.burstPeriodMs).toBeCloseTo(2100, 9);
    expect(f.burstsPerCycle).toBe(3);
    expect(f.spikesPerBurst).toBe(4);
    expect(f.burstDurationMs).toBeCloseTo(45, 9);
    expect(f.dutyCycle).toBeCloseTo(135 / 2100, 12);
  });

  it('periods within 5 % match, beyond 5 % do not (|x − y| ≤ 0.05 (x + y)/2)', () => {
    // one burst per cycle; the last onset interval differs from the one before by a chosen amount
    const make = (last: number) => {
      const onsets = [100, 1100, 2100, 3100, 4100, 5100, 6100, 7100, 8100 + last - 1000];
      return onsets.flatMap((t) => [t, t + 20, t + 40, t + 60, t + 80, t + 100]);
    };
    // 1000 vs 1040: diff 40 ≤ 0.05 × 1020 = 51 → period = the last interval, 1040
    const near = classifyActivity(maxima(make(1040), [], 0, 9500));
    expect(near.class).toBe('bursting');
    expect(near.burstPeriodMs).toBeCloseTo(1040, 9);
    // 1000 vs 1060: diff 60 > 0.05 × 1030 = 51.5; lags 2 and 3 also compare 1060 with 1000: no period
    const far = classifyActivity(maxima(make(1060), [], 0, 9500));
    expect(far.class).toBe('irregular');
    expect(far.burstPeriodMs).toBeNull();
  });

  it('5 spikes are too few for bursting, 6 are enough', () => {
    // single-spike "bursts" 1 s apart (modulated tonic, threshold 990 ms), in a 10 s window (not tonic)
    const five = classifyActivity(maxima([100, 1100, 2100, 3100, 4100]));
    expect(five.class).toBe('irregular');
    const six = classifyActivity(maxima([100, 1100, 2100, 3100, 4100, 5100]));
    expect(six.class).toBe('bursting');
    expect(six.burstPeriodMs).toBeCloseTo(1000, 9);
  });
});

describe('modulated tonic', () => {
  it('rate-modulated firing: threshold 0.99 × largest ISI, one burst per modulation cycle', () => {
    // ISIs repeat 40, 50, 70, 100, 120, 100, 70, 50 (600 ms). Largest IMI 120 < 5 × 40 → modulated;
    // threshold 0.99 × 120 = 118.8, so only the 120 ms ISIs end bursts: period 600, bursts of 8 spikes
    // (ISIs 100, 70, 50, 40, 50, 70, 100) lasting 480 ms, duty 0.8. (By the mean-ISI rule, 75 ms, it
    // would have been a 3-burst cycle.)
    const f = classifyActivity(maxima(fromIsis([40, 50, 70, 100, 120, 100, 70, 50], 10, 6000), [], 0, 6000));
    expect(f.modulatedTonic).toBe(true);
    expect(f.interburstThresholdMs).toBeCloseTo(118.8, 9);
    expect(f.class).toBe('bursting');
    expect(f.burstPeriodMs).toBeCloseTo(600, 9);
    expect(f.burstsPerCycle).toBe(1);
    expect(f.spikesPerBurst).toBe(8);
    expect(f.burstDurationMs).toBeCloseTo(480, 9);
    expect(f.dutyCycle).toBeCloseTo(0.8, 12);
  });

  it('largest IMI equal to 5 × smallest ISI is not modulated (strict <)', () => {
    // ISIs 20, 100 (spikes 10, 30, 130, …, 2890: as many of each): largest IMI 100 = 5 × 20
    const f = classifyActivity(maxima(fromIsis([20, 100], 10, 2900), [], 0, 3000));
    expect(f.modulatedTonic).toBe(false);
    // and then: max 100 ≤ 2 × mean 60 → threshold = mean ISI = 60
    expect(f.interburstThresholdMs).toBeCloseTo(60, 9);
  });
});

describe('interburst threshold is capped at 500 ms', () => {
  it('half the largest ISI (1430 ms) is capped', () => {
    // period 3000, 8 spikes 20 ms apart: largest ISI 2860 > 2 × mean → 1430 → 500
    const f = classifyActivity(maxima(bursts([{ spikes: 8, isiMs: 20, toNextMs: 3000 }], 100, 30_000), [], 0, 30_000));
    expect(f.interburstThresholdMs).toBe(500);
    expect(f.class).toBe('bursting');
    expect(f.burstPeriodMs).toBeCloseTo(3000, 9);
  });

  it('the cap turns a 640 ms gap into an interburst interval: a 2-burst cycle', () => {
    // two bursts of 4 spikes 20 ms apart, onsets 700 and 2500 ms apart: gaps 640 and 2440. Mean ISI
    // 3200/8 = 400, max 2440 > 800 → 0.5 × 2440 = 1220 → capped to 500 < 640: two bursts per 3200 ms
    // cycle (uncapped, it would be one burst of 8 spikes per cycle).
    const spikes = bursts(
      [
        { spikes: 4, isiMs: 20, toNextMs: 700 },
        { spikes: 4, isiMs: 20, toNextMs: 2500 },
      ],
      100,
      30_000,
    );
    const f = classifyActivity(maxima(spikes, [], 0, 30_000));
    expect(f.interburstThresholdMs).toBe(500);
    expect(f.class).toBe('bursting');
    expect(f.burstsPerCycle).toBe(2);
    expect(f.burstPeriodMs).toBeCloseTo(3200, 9);
    expect(f.spikesPerBurst).toBe(4);
    expect(f.burstDurationMs).toBeCloseTo(60, 9);
  });

  it('0.99 × largest ISI (792 ms, modulated tonic) is capped', () => {
    // ISIs repeat 400, 600, 800, 600: largest IMI 800 < 5 × 400 → 0.99 × 800 = 792 → 500. ISIs above
    // 500 (600, 800, 600) end bursts: onset intervals 800, 600, 1000 repeating → 3-burst cycle of 2400 ms
    // with bursts of 1, 2, 1 spikes (the 2-spike one lasting 400 ms).
    const f = classifyActivity(maxima(fromIsis([400, 600, 800, 600], 100, 30_000), [], 0, 30_000));
    expect(f.modulatedTonic).toBe(true);
    expect(f.interburstThresholdMs).toBe(500);
    expect(f.class).toBe('bursting');
    expect(f.burstsPerCycle).toBe(3);
    expect(f.burstPeriodMs).toBeCloseTo(2400, 9);
    expect(f.spikesPerBurst).toBeCloseTo(4 / 3, 12);
    expect(f.burstDurationMs).toBeCloseTo(400 / 3, 9);
    expect(f.dutyCycle).toBeCloseTo(400 / 2400, 12);
  });

  it('the mean ISI (600 ms) is capped', () => {
    // ISIs alternate 200, 1000: not modulated (1000 = 5 × 200), max 1000 ≤ 2 × 600 → mean 600 → 500
    const f = classifyActivity(maxima(fromIsis([200, 1000], 100, 30_000), [], 0, 30_000));
    expect(f.modulatedTonic).toBe(false);
    expect(f.interburstThresholdMs).toBe(500);
    expect(f.burstPeriodMs).toBeCloseTo(1200, 9);
    expect(f.spikesPerBurst).toBe(2);
  });
});

describe('irregular', () => {
  /** Poisson spike train: exponential ISIs with the given rate */
  function poisson(seed: number, rateHz: number, untilMs: number) {
    const r = rng(seed);
    const out: number[] = [];
    for (let t = -Math.log(1 - r()) * (1000 / rateHz); t < untilMs; t += -Math.log(1 - r()) * (1000 / rateHz)) out.push(t);
    return out;
  }

  it('a seeded Poisson train (10 Hz, 10 s) is irregular', () => {
    const spikes = poisson(12345, 10, 10_000);
    const f = classifyActivity(maxima(spikes));
    expect(f.class).toBe('irregular');
    expect(f.spikeCount).toBe(spikes.length);
    expect(f.burstPeriodMs).toBeNull();
    expect(f.burstsPerCycle).toBeNull();
    expect(f.spikesPerBurst).toBeNull();
  });

  it('Poisson trains are irregular with few exceptions (chance of a lag-1 match ≈ 2.5 %)', () => {
    // for i.i.d. exponential onset intervals X, Y: X/(X + Y) is uniform, so P(|X − Y| ≤ 0.025 (X + Y))
    // = 0.025; lags 2 and 3 add ~0.1 %. Onset intervals here are sums of a few ISIs, a little more
    // concentrated than exponential, so somewhat more (17 of these 400 when written); allow up to 10 %.
    let irregular = 0;
    const trials = 400;
    for (let s = 1; s <= trials; s++) if (classifyActivity(maxima(poisson(s, 10, 10_000))).class === 'irregular') irregular++;
    expect(irregular / trials).toBeGreaterThan(0.9);
  });

  it('bursts whose onset intervals grow by 20 % each time are irregular', () => {
    // onsets 600, 720, 864, ... apart (6 spikes 15 ms apart; every gap ≥ 525 > the capped threshold 500): no two of the last intervals within 5 % at lag 1, 2 or 3
    const spikes: number[] = [];
    for (let t0 = 100, d = 600; t0 < 20_000; t0 += d, d *= 1.2) for (let i = 0; i < 6; i++) spikes.push(t0 + 15 * i);
    const f = classifyActivity(maxima(spikes, [], 0, 20_000));
    expect(f.class).toBe('irregular');
    expect(f.burstPeriodMs).toBeNull();
    expect(f.subthresholdPeriodMs).toBeNull();
  });

  it('subthreshold periodicity ignores the spikes (choice 5)', () => {
    // the chirped bursts above, with one −40 mV maximum in the middle of each gap, ending inside a
    // burst: the subthreshold maxima are chirped too, so no period (the last IMIs, all maxima
    // counted, are the 15 ms intra-burst ISIs, which would have given a "period" of 15 ms)
    const spikes: number[] = [];
    const sub: number[] = [];
    for (let t0 = 100, d = 600; t0 < 20_000; t0 += d, d *= 1.2) {
      for (let i = 0; i < 6; i++) spikes.push(t0 + 15 * i);
      sub.push(t0 + 75 + (d - 75) / 2);
    }
    const f = classifyActivity(maxima(spikes, sub.filter((t) => t < spikes[spikes.length - 1]), 0, 20_000));
    expect(f.class).toBe('irregular');
    expect(f.subthresholdPeriodMs).toBeNull();
  });

  it('few spikes on a periodic subthreshold oscillation: irregular, with the subthreshold period (choice 6)', () => {
    // an oscillation with maxima every 200 ms; cycles 3, 7 and 11 spike (3 spikes: too few for bursting)
    const all = fromIsis([200], 100, 10_000);
    const spiking = new Set([3, 7, 11]);
    const f = classifyActivity(maxima(all.filter((_, i) => spiking.has(i)), all.filter((_, i) => !spiking.has(i))));
    expect(f.class).toBe('irregular');
    expect(f.spikeCount).toBe(3);
    expect(f.burstPeriodMs).toBeNull();
    expect(f.subthresholdPeriodMs).toBeCloseTo(200, 9);
  });
});

describe('truncated ring buffer', () => {
  it('keeps the last 30 of 80 maxima: truncated, same bursts, rate over the kept span', () => {
    // the 1-burst train (bursts of 8 at 100 + 1000 k, 20 ms apart, k = 0..9). The last 30 spikes are
    // the last 6 of burst 6 (from 6140 ms) and bursts 7, 8, 9. Onsets kept: 7100, 8100, 9100 → two
    // intervals of 1000 → period 1000; spikes per burst 8 (burst 8, complete). Span 10000 − 6140.
    const full = maxima(bursts([{ spikes: 8, isiMs: 20, toNextMs: 1000 }], 100, 10_000));
    const kept: ActivityInput = {
      ...full,
      maximaTimesMs: (full.maximaTimesMs as Float64Array).slice(50),
      maximaValuesMv: (full.maximaValuesMv as Float64Array).slice(50),
      totalMaxima: 80,
    };
    const f = classifyActivity(kept);
    expect(f.truncated).toBe(true);
    expect(f.class).toBe('bursting');
    expect(f.burstPeriodMs).toBeCloseTo(1000, 9);
    expect(f.spikesPerBurst).toBe(8);
    expect(f.burstDurationMs).toBeCloseTo(140, 9);
    expect(f.spikeCount).toBe(30);
    expect(f.spanMs).toBeCloseTo(3860, 9);
    expect(f.firingRateHz).toBeCloseTo((1000 * 30) / 3860, 12);
    // with the spike counter beside the ring, count and rate cover the whole window
    const g = classifyActivity({ ...kept, totalSpikes: 80 });
    expect(g.spikeCount).toBe(80);
    expect(g.firingRateHz).toBeCloseTo(8, 12);
    expect(g.burstPeriodMs).toBeCloseTo(1000, 9);
  });

  it('totalMaxima equal to the number given is not truncated', () => {
    const f = classifyActivity({ ...maxima([100, 200, 300]), totalMaxima: 3 });
    expect(f.truncated).toBe(false);
    expect(f.spanMs).toBe(10_000);
  });

  it('a truncated ring that starts mid-burst does not count the cut burst', () => {
    // keep the last 3 spikes of burst 5 and bursts 6..9: the cut burst (3 spikes) is never an onset
    const full = maxima(bursts([{ spikes: 8, isiMs: 20, toNextMs: 1000 }], 100, 10_000));
    const f = classifyActivity({
      ...full,
      maximaTimesMs: (full.maximaTimesMs as Float64Array).slice(45),
      maximaValuesMv: (full.maximaValuesMv as Float64Array).slice(45),
      totalMaxima: 80,
    });
    expect(f.truncated).toBe(true);
    expect(f.class).toBe('bursting');
    expect(f.spikesPerBurst).toBe(8);
  });
});

describe('input checks and plain arrays', () => {
  it('rejects mismatched lengths and an empty window', () => {
    expect(() => classifyActivity({ maximaTimesMs: [1, 2], maximaValuesMv: [10], windowStartMs: 0, windowEndMs: 10 })).toThrow(InputError);
    expect(() => classifyActivity({ maximaTimesMs: [], maximaValuesMv: [], windowStartMs: 10, windowEndMs: 10 })).toThrow(InputError);
  });

  it('accepts plain arrays and Float32Array, with a window not starting at 0', () => {
    const spikes = bursts([{ spikes: 8, isiMs: 20, toNextMs: 1000 }], 5100, 15_000);
    const f = classifyActivity({
      maximaTimesMs: Float32Array.from(spikes),
      maximaValuesMv: spikes.map(() => 30),
      windowStartMs: 5000,
      windowEndMs: 15_000,
    });
    expect(f.class).toBe('bursting');
    expect(f.firingRateHz).toBeCloseTo(8, 12);
    expect(f.burstPeriodMs!).toBeCloseTo(1000, 2);
    expect(f.spikesPerBurst).toBe(8);
  });
});
