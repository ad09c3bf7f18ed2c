/**
 * Network classification (src/analysis/network.ts) on spike trains built by hand, whose period,
 * burst edges and phases are known exactly, so every feature has an independent value.
 */
import { describe, expect, it } from 'vitest';
import { classifyActivity } from '../src/analysis/classify.ts';
import { classifyNetwork, type CellInput } from '../src/analysis/network.ts';

/** Spikes every 20 ms from onset to end (inclusive) in every cycle; cycles start at the given times. */
function cell(name: string, cycleStarts: number[], onsetMs: number, endMs: number, windowEndMs = 12_000): CellInput {
  const times: number[] = [];
  for (const start of cycleStarts) for (let t = start + onsetMs; t <= start + endMs + 1e-9; t += 20) if (t < windowEndMs) times.push(t);
  const values = times.map(() => 20);
  const activity = classifyActivity({ maximaTimesMs: times, maximaValuesMv: values, windowStartMs: 0, windowEndMs });
  return { name, maximaTimesMs: times, maximaValuesMv: values, activity };
}

const regular = Array.from({ length: 12 }, (_, k) => 1000 * k);
const ROLES = ['ABPD', 'LP', 'PY'] as const;

describe('the network class and the 15 features', () => {
  it('a triphasic rhythm in range is pyloric, with every feature as constructed', () => {
    const net = classifyNetwork([cell('ABPD', regular, 0, 400), cell('LP', regular, 500, 800), cell('PY', regular, 820, 1160)], ROLES);
    expect(net.class, net.reason).toBe('pyloric');
    expect(net.periodMs).toBeCloseTo(1000, 9);
    const f = net.features;
    const expected = {
      periodMs: 1000, abpdBurstDurationMs: 400, lpBurstDurationMs: 300, pyBurstDurationMs: 340,
      gapAbpdEndLpStartMs: 100, gapLpEndPyStartMs: 20, delayAbpdStartLpStartMs: 500, delayAbpdStartPyStartMs: 820,
      abpdDutyCycle: 0.4, lpDutyCycle: 0.3, pyDutyCycle: 0.34, phaseGapAbpdEndLpStart: 0.1, phaseGapLpEndPyStart: 0.02,
      lpStartPhase: 0.5, pyStartPhase: 0.82,
    };
    for (const [name, value] of Object.entries(expected)) expect(f[name as keyof typeof f], name).toBeCloseTo(value, 6);
  });

  it('in pyloric order but with a feature out of range: pyloric-like, naming the feature', () => {
    const net = classifyNetwork([cell('ABPD', regular, 0, 400), cell('LP', regular, 500, 560), cell('PY', regular, 820, 1160)], ROLES);
    expect(net.class).toBe('pyloric-like');
    expect(net.reason).toMatch(/lpBurstDurationMs/);
    expect(net.features.lpBurstDurationMs).toBeCloseTo(60, 6);
  });

  it('periodic in another order (PY before LP): periodic', () => {
    const net = classifyNetwork([cell('ABPD', regular, 0, 400), cell('LP', regular, 820, 1160), cell('PY', regular, 500, 800)], ROLES);
    expect(net.class).toBe('periodic');
    expect(net.reason).toMatch(/pyloric order/);
    // without pyloric roles a periodic network is periodic
    expect(classifyNetwork([cell('A', regular, 0, 400), cell('B', regular, 500, 800)]).class).toBe('periodic');
  });

  it('a tonic or silent cell makes the network non-periodic', () => {
    const tonic = cell('LP', Array.from({ length: 600 }, (_, k) => 20 * k), 0, 0);
    expect(tonic.activity.class).toBe('tonic');
    const net = classifyNetwork([cell('ABPD', regular, 0, 400), tonic, cell('PY', regular, 820, 1160)], ROLES);
    expect(net.class).toBe('non-periodic');
    expect(net.reason).toBe('LP is tonic');
  });

  it('periods that disagree by more than 0.5 % make it non-periodic', () => {
    const slower = Array.from({ length: 12 }, (_, k) => 1010 * k);
    const net = classifyNetwork([cell('ABPD', regular, 0, 400), cell('LP', slower, 500, 800), cell('PY', regular, 820, 1160)], ROLES);
    expect(net.class).toBe('non-periodic');
    expect(net.reason).toMatch(/LP's burst period/);
  });

  it('one matching pair of intervals is not enough: an earlier cycle 2 % long makes it non-periodic', () => {
    // cycle lengths … 1000, 1020, 1000, 1000: the last two agree (what one pair per cell reads), the
    // one before does not
    const starts = [0, 1000, 2000, 3000, 4000, 5000, 6000, 7020, 8020, 9020];
    const cells = [cell('ABPD', starts, 0, 400, 10_000), cell('LP', starts, 500, 800, 10_000), cell('PY', starts, 820, 1160, 10_000)];
    for (const c of cells) expect(c.activity.class, c.name).toBe('bursting');
    const net = classifyNetwork(cells, ROLES);
    expect(net.class).toBe('non-periodic');
    expect(net.reason).toMatch(/lasts 1020\.0 ms/);
  });
});
