/**
 * A sweep spec that regulates (regulate: in the spec, O'Leary 2014): its axes may be regulation
 * constants, and each row holds every regulated conductance at the end of the run beside the
 * activity class. Checked against simulate() of the same regulated model with the same parameters
 * (a separate path: one instance, its trace's last sample), on the f64 engine. Tolerance 1e-6
 * relative: simulate compiles the parameters as constants, which the compiler folds, so the
 * arithmetic differs at the rounding level, and 60,000 steps of spiking amplify that (measured 3e-8).
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../src/jobs/simulate.ts';
import { runSweepShard } from '../src/jobs/sweep/run.ts';
import { parseSweepSpec, resolveSweep } from '../src/jobs/sweep/spec.ts';
import { libraryModel } from '../src/channels/index.ts';
import { regulate } from '../src/model/regulation.ts';
import { memorySink } from './sweep-helper.ts';

const REGULATE = { tauMs: { gCaS: 2000, gKd: 1000 }, tauGMs: 200, caTargetUM: 150 };


describe('sweeps that regulate', () => {
  it('rows hold each regulated conductance at the end with the class; the same as simulate() to 1e-6', async () => {
    const spec = parseSweepSpec({
      model: 'prinz', durationMs: 3000, discardMs: 1000, dtMs: 0.05, sampling: 'random', samples: 4, seed: 3, engine: 'cpu', chunkSize: 3,
      parameters: { gCaS: { uniform: [2, 8] }, regTauKdMs: { uniform: [500, 2000] } },
      regulate: REGULATE,
    });
    const sink = memorySink();
    await runSweepShard(resolveSweep(spec), { index: 0, count: 1 }, sink);
    const col = (name: string) => sink.columns.flatMap((c) => Array.from(c.find((x) => x.name === name)!.data as ArrayLike<unknown>));
    const gCaS = col('gCaS') as number[], tauKd = col('regTauKdMs') as number[];
    const finalCaS = col('finalRegGCaSMsPerCm2') as number[], finalKd = col('finalRegGKdMsPerCm2') as number[];
    expect(col('class')).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      const r = await simulate({
        model: regulate(libraryModel('prinz'), REGULATE), engine: 'cpu', dtMs: 0.05, durationMs: 3000, traceEveryMs: 3000,
        set: { gCaS: gCaS[i], regTauKdMs: tauKd[i] }, conditioning: false,
      });
      const last = r.trace!.timesMs.length - 1;
      expect(Math.abs(finalCaS[i] - r.trace!.series.regGCaSMsPerCm2[last])).toBeLessThanOrEqual(1e-6 * Math.abs(finalCaS[i]));
      expect(Math.abs(finalKd[i] - r.trace!.series.regGKdMsPerCm2[last])).toBeLessThanOrEqual(1e-6 * Math.abs(finalKd[i]));
      // and the regulation acted: from m(0) = 0 the conductance left its initial value
      expect(Math.abs(finalCaS[i] - gCaS[i])).toBeGreaterThan(0.05 * gCaS[i]);
    }
  });

  it('refuses a regulation the model cannot take and traces beside it, naming the field', () => {
    const base = { model: 'prinz', durationMs: 1000, sampling: 'random', samples: 2, parameters: { gCaS: { uniform: [2, 8] } } };
    expect(() => resolveSweep(parseSweepSpec({ ...base, regulate: { ...REGULATE, tauMs: { gNope: 1 } } }))).toThrow(/sweep spec: regulate: 'gNope' is not a parameter/);
    expect(() => resolveSweep(parseSweepSpec({ ...base, regulate: REGULATE, traces: { everyMs: 1, indices: [0] } }))).toThrow(/sweep spec: traces: not with regulate/);
    expect(() => parseSweepSpec({ ...base, regulate: { tauMs: {}, tauGMs: 'x', caTargetUM: 1 } })).toThrow(/regulate\.tauGMs/);
  });
});
