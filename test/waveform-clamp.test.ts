/**
 * Current waveforms from files and voltage clamp (issue 17, item 4), through `simulate`: a waveform
 * read from CSV equals the same current as a step; a clamped HH cell's clamp current at steady state
 * equals Hodgkin & Huxley's steady currents computed here from their published rate functions.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, CLAMP_CURRENT } from '../src/jobs/simulate.ts';
import { cli } from './cli-helper.ts';

/** Hodgkin & Huxley 1952 (6.3 °C, V in mV with rest at −65): steady ionic current density at V (µA/cm², outward positive). */
function hhSteadyCurrent(V: number): number {
  const linoid = (x: number, k: number) => (Math.abs(x) < 1e-9 ? k : x / (1 - Math.exp(-x / k)));
  const am = 0.1 * linoid(V + 40, 10), bm = 4 * Math.exp(-(V + 65) / 18);
  const ah = 0.07 * Math.exp(-(V + 65) / 20), bh = 1 / (1 + Math.exp(-(V + 35) / 10));
  const an = 0.01 * linoid(V + 55, 10), bn = 0.125 * Math.exp(-(V + 65) / 80);
  const m = am / (am + bm), h = ah / (ah + bh), n = an / (an + bn);
  return 120 * m ** 3 * h * (V - 50) + 36 * n ** 4 * (V + 77) + 0.3 * (V + 54.3);
}

describe('current waveforms and voltage clamp', () => {
  it('a voltage-clamped HH cell draws the steady Hodgkin-Huxley current at each held level, and a Na transient on the step', async () => {
    const dtMs = 0.01, durationMs = 60;
    // −65 mV for 10 ms, then 0 mV: sampled every 0.1 ms, held
    const command = Array.from({ length: 601 }, (_, k) => (k * 0.1 < 10 ? -65 : 0));
    const r = await simulate({
      model: 'hh', dtMs, durationMs, traceEveryMs: dtMs, engine: 'cpu', init: 'steady', conditioning: false,
      voltageClamp: { values: command, intervalMs: 0.1, interpolation: 'hold' },
    });
    const key = Object.keys(r.trace!.series).find((k) => k.startsWith(CLAMP_CURRENT))!;
    const I = r.trace!.series[key], t = r.trace!.timesMs;
    const at = (ms: number) => I[t.findIndex((x) => x >= ms - 1e-9)];
    // steady states: the gates at x∞(V) exactly, the command flat: I_clamp = Σ I_ion
    expect(at(9.5)).toBeCloseTo(hhSteadyCurrent(-65), 6);
    expect(at(59.5)).toBeCloseTo(hhSteadyCurrent(0), 3);
    expect(hhSteadyCurrent(0)).toBeGreaterThan(100); // outward K current: the comparison is not of two zeros
    // after the step: a Na inward current (negative) within the first 2 ms, before K takes over
    const early = Array.from(t).map((x, k) => (x > 10.05 && x < 12 ? I[k] : Infinity));
    expect(Math.min(...early)).toBeLessThan(-100);
  });

  it('simulate --current-file reads a CSV waveform; held, it equals the same current given as a step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ionsweep-wave-'));
    const rows = Array.from({ length: 301 }, (_, k) => `${(k * 0.1).toFixed(1)},${k * 0.1 >= 5 ? 10 : 0}`);
    await writeFile(join(dir, 'i.csv'), `tMs,I\n${rows.join('\n')}\n`);
    const common = ['simulate', '--model', 'hh', '--duration-ms', '30', '--dt-ms', '0.1', '--engine', 'cpu', '--no-conditioning'];
    const wave = await cli([...common, '--current-file', `${join(dir, 'i.csv')}:I`, '--input-interval-ms', '0.1', '--hold']);
    const step = await cli([...common, '--step-ua-per-cm2', '5,1000,10']);
    expect(wave.status, wave.stderr).toBe(0);
    expect(step.status, step.stderr).toBe(0);
    const [a, b] = [JSON.parse(wave.stdout), JSON.parse(step.stdout)];
    expect(a.spikeCount).toBeGreaterThan(0);
    expect(a.spikeTimesMs).toEqual(b.spikeTimesMs);
    const missing = await cli([...common, '--current-file', join(dir, 'i.csv')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--current-file needs --input-interval-ms/);
    // messages name the flags, not the internal names of the recordings
    const negative = await cli([...common, '--current-file', `${join(dir, 'i.csv')}:I`, '--input-interval-ms', '-1']);
    expect(negative.status).toBe(2);
    expect(negative.stderr).toMatch(/^ionsweep: --input-interval-ms must be > 0 \(ms\), got -1\n$/);
    const short = await cli([...common, '--current-file', `${join(dir, 'i.csv')}:I`, '--input-interval-ms', '0.01']);
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/^ionsweep: --current-file covers 3 ms \(301 samples at 0.01 ms\) but the run lasts 30 ms/);
  }, 120_000);
});
