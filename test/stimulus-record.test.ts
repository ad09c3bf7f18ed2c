/**
 * Stimulus and recording as users know them: currents in nA (converted with the membrane area),
 * pulse trains, and recording any state or channel current into the trace. Checked against the
 * µA/cm² spelling of the same current, against the pulses' own timing, and against the recorded
 * current recomputed from the recorded gates and voltage (I_Na = gNa·m³·h·(V − ENa)).
 */
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineFailure } from './cli-helper.ts';

const json = async (args: string[]) => {
  const run = await cli(['simulate', '--model', 'hh', '--engine', 'cpu', ...args]);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
};

describe('stimulus', () => {
  it('--current-na is the density times the area: 6.28 nA on 0.628e-3 cm² is 10 µA/cm²', async () => {
    const na = await json(['--duration-ms', '100', '--current-na', '6.28']);
    const density = await json(['--duration-ms', '100', '--current-ua-per-cm2', '10']);
    expect(na.params.IExtUAPerCm2).toBeCloseTo(10, 12);
    expect(na.spikeTimesMs.length).toBe(density.spikeTimesMs.length);
    na.spikeTimesMs.forEach((t: number, k: number) => expect(Math.abs(t - density.spikeTimesMs[k])).toBeLessThan(1e-9));
    // a step in nA with another area: 1 nA on 1e-3 cm² is 1 µA/cm²
    const step = await json(['--duration-ms', '60', '--set', 'areaCm2=0.001', '--step-na', '10,50,20', '--trace-every-ms', '5']);
    expect(step.stimulus).toEqual([{ startMs: 10, stopMs: 50, ampUAPerCm2: 20 }]);
  });

  it('a pulse train gives one spike inside each suprathreshold pulse and none between', async () => {
    const r = await json(['--duration-ms', '200', '--pulse-train-ua-per-cm2', '20,200,50,5,40']);
    expect(r.stimulus.length).toBe(4);
    expect(r.spikeTimesMs.length).toBe(4);
    r.spikeTimesMs.forEach((t: number, k: number) => {
      const start = 20 + 50 * k;
      expect(t).toBeGreaterThan(start);
      expect(t).toBeLessThan(start + 10);
    });
  });

  it('refuses nonsense trains and nA on a network, in one line', async () => {
    expectOneLineFailure(await cli(['simulate', '--model', 'hh', '--pulse-train-ua-per-cm2', '0,100,5,10,1']), 2, /0 < widthMs ≤ periodMs/);
    expectOneLineFailure(await cli(['simulate', '--model', 'hh', '--duration-ms', '1000', '--pulse-train-ua-per-cm2', '0,1000,0.5,0.1,1']), 2, /2000 pulses, more than 1000/);
    expectOneLineFailure(await cli(['simulate', '--model', 'pyloric', '--current-na', '1']), 2, /no single membrane area/);
  });
});

describe('--record', () => {
  it('traces gates and channel currents; the recorded I_Na is gNa·m³·h·(V − ENa) of the recorded states', async () => {
    const r = await json(['--duration-ms', '30', '--current-ua-per-cm2', '10', '--trace-every-ms', '0.5', '--record', 'Na.m,Na.h,INa,IK']);
    const t = r.trace;
    expect(Object.keys(t)).toEqual(expect.arrayContaining(['tMs', 'VMv', 'Na_m', 'Na_h', 'INaUAPerCm2', 'IKUAPerCm2']));
    const { gNa, ENa } = r.params;
    let largest = 0;
    t.VMv.forEach((v: number, k: number) => {
      const expected = gNa * t.Na_m[k] ** 3 * t.Na_h[k] * (v - ENa);
      expect(Math.abs(t.INaUAPerCm2[k] - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
      largest = Math.max(largest, Math.abs(expected));
    });
    // a spike happened: the sodium current reached hundreds of µA/cm² (inward, negative)
    expect(largest).toBeGreaterThan(100);
    expectOneLineFailure(await cli(['simulate', '--model', 'hh', '--record', 'Na.m']), 2, /add --trace-every-ms$/);
    expectOneLineFailure(await cli(['simulate', '--model', 'hh', '--trace-every-ms', '1', '--record', 'INope']), 2, /unknown quantity 'INope'.*INa/);
  });
});
