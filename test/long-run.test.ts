/**
 * Long runs cut into intervals (src/jobs/long-run.ts) against the same run uncut: on the f64 CPU
 * engine a cut run carries its whole state over, so its interval-end states and interval means are
 * the uncut run's to rounding (the same arithmetic in the same order). Knock-outs (regulated-population.ts):
 * the run is the unknocked run up to T, the knocked conductance is 0 from T on, and the other
 * regulated conductances grow while the calcium error is positive. A diverged cell is NaN in every
 * output from then on and changes nothing for the others.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { runLong, type IntervalOutput } from '../src/jobs/long-run.ts';
import { runRegulatedPopulation } from '../src/jobs/regulated-population.ts';
import * as E from '../src/model/expr.ts';
import { withObserved } from '../src/model/observe.ts';
import { regulate } from '../src/model/regulation.ts';

const TAU = { gNa: 500, gCaS: 2000, gKd: 1000 };
const model = () => regulate(libraryModel('prinz'), { tauMs: TAU, tauGMs: 200, caTargetUM: 200 });
const params = { gCaS: Float64Array.of(3, 6, 9), regTauCaSMs: Float64Array.of(1500, 2000, 3000) };
const ENDS = ['V', 'Ca', 'reg.CaS.g', 'reg.Kd.m', 'Na.m'];
const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-300);

describe('long runs', () => {
  it('a run cut into 1 s intervals is the uncut run: interval-end states and interval means to 1e-12 (f64)', async () => {
    const outs: IntervalOutput[] = [];
    await runLong({
      phases: [{ model: model(), untilMs: 3000 }], N: 3, params, dtMs: 0.05, intervalMs: 1000, means: ['Ca', 'V'], ends: ENDS,
      engine: 'cpu', onInterval: (o) => void outs.push(o),
    });
    expect(outs.map((o) => o.endMs)).toEqual([1000, 2000, 3000]);
    const probes = withObserved(model(), ENDS.map((s, k) => ({ name: `s${k}`, expr: E.state(s), unit: '' })));
    const program = compile(probes, { dtMs: 0.05, instanceParams: Object.keys(params) });
    const uncut = await runCpu({ program, N: 3, params, durationMs: 3000, traceEveryMs: 1000, traceInstances: [0, 1, 2] });
    for (let i = 0; i < 3; i++) {
      ENDS.forEach((s, k) => {
        const series = uncut.traces!.series(i, `s${k}`);
        for (let j = 0; j < 3; j++) expect(close(outs[j].ends[s][i], series[j], 1e-12), `${s} of cell ${i} at ${outs[j].endMs} ms: ${outs[j].ends[s][i]} vs ${series[j]}`).toBe(true);
      });
    }
    // the last interval's means are the uncut run's means over its last second
    const last = await runCpu({ program, N: 3, params, durationMs: 3000, discardMs: 2000 });
    for (const name of ['Ca', 'V']) {
      const o = last.observed.find((x) => x.name === name)!;
      for (let i = 0; i < 3; i++) expect(close(outs[2].means[name][i], o.mean[i], 1e-12), `${name} mean of cell ${i}`).toBe(true);
    }
    // the regulated conductances moved (else the check above would be weak): CaS by more than 10 % (from m(0) = 0 it follows m)
    for (let i = 0; i < 3; i++) expect(Math.abs(outs[2].ends['reg.CaS.g'][i] - params.gCaS[i])).toBeGreaterThan(0.1 * params.gCaS[i]);
  });

  it('a knock-out: the unknocked run up to T, the conductance 0 after, the others compensate', async () => {
    const common = { model: 'prinz', regulation: { tauMs: TAU, tauGMs: 200, caTargetUM: 200 }, N: 2, durationMs: 4000, intervalMs: 1000, engine: 'cpu' as const, maximaCapacity: 64 };
    const p = { gCaS: Float64Array.of(4, 8) };
    const [plain, ko] = await Promise.all([
      runRegulatedPopulation({ ...common, params: p }),
      runRegulatedPopulation({ ...common, params: p, knockouts: [{ conductance: 'gCaS', atMs: 2000 }] }),
    ]);
    for (const g of Object.keys(TAU)) for (let k = 0; k < 2 * 2; k++) expect(ko.g![g][k]).toBe(plain.g![g][k]);
    for (let k = 2 * 2; k < 4 * 2; k++) expect(ko.g!.gCaS[k]).toBe(0);
    for (let i = 0; i < 2; i++) {
      // without its slow calcium current the cell's calcium falls below the target: the error is positive
      // from T on, so every remaining m (and g behind it) keeps growing, faster than in the plain run
      expect(ko.meanCaUM![3 * 2 + i]).toBeLessThan(200);
      for (const g of ['gNa', 'gKd']) {
        const rise = (r: typeof ko) => r.g![g][3 * 2 + i] - r.g![g][1 * 2 + i];
        expect(rise(ko), `${g} of cell ${i}`).toBeGreaterThan(rise(plain));
        expect(rise(ko)).toBeGreaterThan(0);
      }
    }
    expect(ko.finalClass).toHaveLength(2);
  });

  it('a diverged cell is reported once, kept out of every output, and leaves the others as they would run alone', async () => {
    // a regulated conductance starting at 2e9 is a state beyond the engines' finite range (1e9): diverged at t = 0
    const common = { model: 'prinz', regulation: { tauMs: { gCaS: 2000 }, tauGMs: 200, caTargetUM: 200 }, durationMs: 3000, intervalMs: 1000, engine: 'cpu' as const, maximaCapacity: 64 };
    const [both, alone] = await Promise.all([
      runRegulatedPopulation({ ...common, N: 2, params: { gCaS: Float64Array.of(5, 2e9) } }),
      runRegulatedPopulation({ ...common, N: 1, params: { gCaS: Float64Array.of(5) } }),
    ]);
    expect(both.divergedAtMs[1]).toBe(0);
    expect(both.divergedAtMs[0]).toBeNaN();
    expect(both.finalClass).toEqual([alone.finalClass[0], 'diverged']);
    expect(both.reachedTarget[1]).toBe(false);
    for (let k = 0; k < 3; k++) {
      expect(both.g!.gCaS[2 * k + 1]).toBeNaN();
      expect(both.meanCaUM![2 * k + 1]).toBeNaN();
      expect(both.g!.gCaS[2 * k]).toBe(alone.g!.gCaS[k]);
      expect(both.meanCaUM![2 * k]).toBe(alone.meanCaUM![k]);
    }
  });

  it('refuses what it cannot do, naming the field', async () => {
    const onInterval = () => {};
    await expect(runLong({ phases: [{ model: model(), untilMs: 2500 }], N: 1, dtMs: 0.05, intervalMs: 1000, means: [], ends: [], onInterval }))
      .rejects.toThrow(/phases\[0\]\.untilMs must be a multiple of intervalMs/);
    await expect(runLong({ phases: [{ model: model(), untilMs: 2000 }], N: 1, dtMs: 0.05, intervalMs: 1000, means: ['nope'], ends: [], onInterval }))
      .rejects.toThrow(/means: 'nope' is not observed/);
    const base = { model: 'prinz', regulation: { tauMs: TAU, tauGMs: 200, caTargetUM: 200 }, N: 1, durationMs: 2000, intervalMs: 1000 };
    await expect(runRegulatedPopulation({ ...base, knockouts: [{ conductance: 'gNope', atMs: 1000 }] })).rejects.toThrow(/knockouts\[0\]\.conductance: 'gNope'/);
    await expect(runRegulatedPopulation({ ...base, knockouts: [{ conductance: 'gNa', atMs: 2000 }] })).rejects.toThrow(/knockouts\[0\]\.atMs must be in/);
    await expect(runRegulatedPopulation({ ...base, durationMs: 2500 })).rejects.toThrow(/durationMs must be a positive multiple of intervalMs \(1000 ms\), got 2500/);
    await expect(runRegulatedPopulation({ ...base, knockouts: [{ conductance: 'gNa', atMs: 1500 }] })).rejects.toThrow(/knockouts\[0\]\.atMs must be a positive multiple/);
  });
});
