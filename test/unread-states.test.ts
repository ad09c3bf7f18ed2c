/**
 * States nothing reads are not advanced (compile.ts, skipUnreadStates): the gates of a channel whose
 * conductance is fixed at 0. The truth is the same program without the option: every observed
 * trace must be the same bit for bit, on the f64 CPU engine and on the GPU engine in f32, because the
 * skipped arithmetic feeds nothing that is reported. And the option must not drop what is read: a
 * tangent lane on the conductance, or a state the caller keeps. A state that repeats another exactly
 * (two synapses from one cell, of one type) is read from the other.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { libraryModel } from '../src/channels/index.ts';
import { PRINZ_2004_CELLS } from '../src/channels/prinz2004-cells.ts';
import { compile, type CompileOptions } from '../src/compile/compile.ts';
import { runEnsemble } from '../src/engine/run.ts';
import { ZERO, state } from '../src/model/expr.ts';
import { withObserved } from '../src/model/observe.ts';
import { pyloric } from '../src/channels/pyloric.ts';
import { readSpecFile } from '../src/io/spec-file.ts';
import { choiceConstants, networkInstanceParams, withStartParams } from '../src/jobs/sweep/network.ts';
import { parseSweepSpec, resolveSweep } from '../src/jobs/sweep/spec.ts';
import { gpuForTests } from './gpu-helper.ts';

const LP1 = PRINZ_2004_CELLS.find((c) => c.name === 'LP 1')!.conductances;
const prinz = libraryModel('prinz');
const frozenNames = (options: Omit<CompileOptions, 'dtMs'>) => {
  const program = compile(prinz, { dtMs: 0.025, ...options });
  return (program.frozen ?? []).map((k) => program.states[k].name);
};

async function observedTraces(options: Omit<CompileOptions, 'dtMs'>, engine: 'cpu' | 'gpu') {
  const program = compile(prinz, { dtMs: 0.025, values: { ...LP1 }, ...options });
  const { result } = await runEnsemble({ program, N: 1, durationMs: 1500, traceEveryMs: 0.5, traceInstances: [0] }, { engine, threads: 1 });
  return { program, traces: program.observed.map((o) => result.traces!.series(0, o.name)) };
}

describe('states nothing reads are not advanced', () => {
  it('LP 1 (no CaT): the CaT gates are frozen, their increments are 0, and V and [Ca] are unchanged bit for bit on the CPU engine (f64)', async () => {
    const skipped = await observedTraces({ skipUnreadStates: {} }, 'cpu');
    const full = await observedTraces({}, 'cpu');
    expect(skipped.program.frozen!.map((k) => skipped.program.states[k].name)).toEqual(['CaT.m', 'CaT.h']);
    for (const k of skipped.program.frozen!) expect(skipped.program.next.increment[k]).toBe(ZERO);
    expect(full.program.frozen).toBeUndefined();
    // the run must be one that the gates would have moved: LP 1 fires in 1.5 s from the cold start
    expect(Math.max(...full.traces[0])).toBeGreaterThan(0);
    full.traces.forEach((trace, o) => {
      const firstDiff = trace.findIndex((x, i) => !Object.is(x, skipped.traces[o][i]));
      expect(firstDiff, `${skipped.program.observed[o].name} differs at sample ${firstDiff}`).toBe(-1);
    });
  });

  it('the same on the GPU engine (f32): skipping the CaT arithmetic changes no reported value', async () => {
    const gpu = await gpuForTests();
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const skipped = await observedTraces({ skipUnreadStates: {} }, 'gpu');
    const full = await observedTraces({}, 'gpu');
    full.traces.forEach((trace, o) => {
      const firstDiff = trace.findIndex((x, i) => !Object.is(x, skipped.traces[o][i]));
      expect(firstDiff, `${skipped.program.observed[o].name} differs at sample ${firstDiff}`).toBe(-1);
    });
  });

  it('keeps what is read: a conductance with a tangent lane, a per-instance conductance, a kept state', () => {
    expect(frozenNames({ values: { ...LP1 }, skipUnreadStates: {} })).toEqual(['CaT.m', 'CaT.h']);
    // d/dgCaT reads the gates even at gCaT = 0
    expect(frozenNames({ values: { ...LP1 }, tangents: ['gCaT'], skipUnreadStates: {} })).toEqual([]);
    expect(frozenNames({ values: { ...LP1 }, instanceParams: ['gCaT'], skipUnreadStates: {} })).toEqual([]);
    expect(frozenNames({ values: { ...LP1 }, skipUnreadStates: { keep: ['CaT.h'] } })).toEqual(['CaT.m']);
    // every conductance at 0 but the leak: only V (and [Ca], observed) move
    const leakOnly = { gNa: 0, gCaT: 0, gCaS: 0, gA: 0, gKCa: 0, gKd: 0, gH: 0, gLeak: 0.1 };
    expect(frozenNames({ values: leakOnly, skipUnreadStates: {} })).toHaveLength(prinz.states.length - 2);
  });

  it('refuses a kept name that is not a state, naming the field', () => {
    expect(() => frozenNames({ skipUnreadStates: { keep: ['CaT.q'] } })).toThrow(/skipUnreadStates\.keep: 'CaT\.q' is not a state/);
  });

  it('the Prinz 2004 database kernel: conductances equal in every choice are folded (70 → 65 per-network parameters) and LP\'s CaT and PY\'s KCa gates are frozen', async () => {
    const sweep = resolveSweep(parseSweepSpec(await readSpecFile(join(import.meta.dirname!, '..', 'examples', 'prinz-2004-sample.yaml'))));
    // the Table 2 cells (docs/models.md §6): every LP cell has gCaT 0, every PY cell gKCa 0, every AB/PD gH 0.01 and gLeak 0, every LP gNa 100
    expect(choiceConstants(sweep)).toEqual({ 'ABPD.gH': 0.01, 'ABPD.gLeak': 0, 'LP.gNa': 100, 'LP.gCaT': 0, 'PY.gKCa': 0 });
    const started = withStartParams(sweep.model);
    const instanceParams = [...networkInstanceParams(sweep), ...started.startParams];
    expect(instanceParams).toHaveLength(7 + 24 - 5 + 39);
    const program = compile(started.model, { dtMs: 0.025, init: 'cold', instanceParams, values: choiceConstants(sweep), skipUnreadStates: {} });
    // and the three synapses that repeat another (same presynaptic cell and type) are read from it
    expect(program.frozen!.map((k) => program.states[k].name)).toEqual(['LP.CaT.m', 'LP.CaT.h', 'PY.KCa.m', 'ABtoPY.s', 'PDtoPY.s', 'LPtoPY.s']);

    // a traced gate is observed (traces.record), so it is read and advanced
    const traced = resolveSweep(parseSweepSpec({ ...sweep.spec, traces: { everyMs: 1, indices: [0], record: ['PY.KCa.m'] } }));
    const tracedStarted = withStartParams(traced.model);
    const tracedProgram = compile(tracedStarted.model, { dtMs: 0.025, init: 'cold', instanceParams, values: choiceConstants(traced), skipUnreadStates: {} });
    expect(tracedProgram.frozen!.map((k) => tracedProgram.states[k].name)).toEqual(['LP.CaT.m', 'LP.CaT.h', 'ABtoPY.s', 'PDtoPY.s', 'LPtoPY.s']);
  });

  it('a state that repeats another is read from it: AB→PY\'s gate is AB→LP\'s at every sample, and every V the same bit for bit (CPU f64, GPU f32)', async () => {
    // observed under their own names, the copies are read from their first copies once skipped;
    // without the option each is advanced on its own, which is the independent truth compared against
    const gates = ['ABtoLP.s', 'ABtoPY.s', 'PDtoLP.s', 'PDtoPY.s', 'LPtoABPD.s', 'LPtoPY.s'];
    const model = withObserved(pyloric(), gates.map((g) => ({ name: g.replace('.', '_'), expr: state(g), unit: '' })));
    const gpu = await gpuForTests();
    for (const engine of gpu ? ['cpu', 'gpu'] as const : ['cpu'] as const) {
      const run = async (skip: boolean) => {
        const program = compile(model, { dtMs: 0.025, ...(skip ? { skipUnreadStates: {} } : {}) });
        const { result } = await runEnsemble({ program, N: 1, durationMs: 1000, traceEveryMs: 0.25, traceInstances: [0] }, { engine, threads: 1 });
        return { program, series: (name: string) => result.traces!.series(0, name) };
      };
      const [skipped, full] = [await run(true), await run(false)];
      // (with the cells' conductances folded, the gates of LP 4's and PY 1's missing channels too)
      expect(skipped.program.frozen!.map((k) => skipped.program.states[k].name)).toEqual(['LP.CaT.m', 'LP.CaT.h', 'LP.KCa.m', 'PY.KCa.m', 'ABtoPY.s', 'PDtoPY.s', 'LPtoPY.s']);
      // the synapses open during the run: the comparison is not of zeros
      expect(Math.max(...full.series('ABtoPY_s')), engine).toBeGreaterThan(0.1);
      for (const name of [...gates.map((g) => g.replace('.', '_')), 'ABPD.V', 'LP.V', 'PY.V']) {
        const a = skipped.series(name), b = full.series(name);
        const firstDiff = b.findIndex((x, i) => !Object.is(x, a[i]));
        expect(firstDiff, `${engine}: ${name} differs at sample ${firstDiff}`).toBe(-1);
      }
    }
  });
});
