/**
 * Tangent lanes against central finite differences of the same discrete scheme, in f64. The
 * tangents are forward mode of the step, so they must equal the derivative of what was computed:
 * the only error left in the comparison is the finite difference's own. On spiking runs a plain
 * central difference with h = 1e-5 (relative) still carries up to ~1e-3 of O(h²) truncation (a spike
 * that nearly appears bends the mean sharply), and smaller h drowns in roundoff amplified along the
 * trajectory. The reference is therefore Richardson-extrapolated from h and h/2 (O(h⁴)); measured on
 * these runs it matches the tangents to ≤ 6e-8, so 1e-6 bounds the tangent code, not the reference.
 * (Over seconds of bursting, no difference quotient in f64 reaches 1e-6: that is the reference's
 * conditioning, not the tangents'.)
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { compile, type CompileOptions } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import type { Model } from '../src/model/model.ts';
import { evaluate, evaluateAll } from '../src/model/evaluate.ts';
import { topoOrder } from '../src/model/expr.ts';

async function meanOf(model: Model, options: CompileOptions, run: { durationMs: number; discardMs: number }, params?: Record<string, number[]>) {
  const program = compile(model, options);
  const N = params ? Object.values(params)[0].length : 1;
  return runCpu({ program, N, params, ...run }, { threads: 1 });
}

function relErr(a: number, b: number) {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

describe('tangents vs central finite differences (f64)', () => {
  const cases: { model: string; method: 'exp-euler' | 'rk4'; durationMs: number; discardMs: number; stimulus?: CompileOptions['stimulus']; lanes: string[] }[] = [
    { model: 'prinz', method: 'exp-euler', durationMs: 400, discardMs: 100, lanes: ['log:gNa', 'log:gCaT', 'log:gCaS', 'log:gA', 'log:gKCa', 'log:gKd', 'CmUFPerCm2', 'tauCaMs'] },
    { model: 'prinz', method: 'rk4', durationMs: 200, discardMs: 50, lanes: ['log:gCaS', 'log:gKd', 'fCa'] },
    { model: 'hh', method: 'exp-euler', durationMs: 60, discardMs: 5, stimulus: [{ startMs: 10, stopMs: 40, ampUAPerCm2: 8 }], lanes: ['gNa', 'gK', 'log:gL', 'EK', 'celsius'] },
    { model: 'hh', method: 'rk4', durationMs: 60, discardMs: 5, stimulus: [{ startMs: 10, stopMs: 40, ampUAPerCm2: 8 }], lanes: ['gNa', 'log:gK', 'ENa'] },
  ];
  for (const c of cases) {
    it(`${c.model} ${c.method}: d mean / d ${c.lanes.join(', ')}`, async () => {
      const model = libraryModel(c.model);
      const dtMs = 0.025;
      const base = await meanOf(model, { dtMs, method: c.method, tangents: c.lanes, stimulus: c.stimulus }, c);
      for (const [j, key] of c.lanes.entries()) {
        const log = key.startsWith('log:');
        const name = log ? key.slice(4) : key;
        const p0 = model.params[name].value || 1e-3; // gLeak defaults to 0 in prinz: differentiate elsewhere
        const h = 1e-5 * Math.abs(p0);
        const runAt = (p: number) => meanOf(model, { dtMs, method: c.method, instanceParams: [name], stimulus: c.stimulus }, c, { [name]: [p] });
        const central = async (step: number) => {
          const [plus, minus] = [await runAt(p0 + step), await runAt(p0 - step)];
          return plus.observed.map((o, k) => ((o.mean[0] - minus.observed[k].mean[0]) / (2 * step)) * (log ? p0 : 1));
        };
        const [wide, narrow] = [await central(h), await central(h / 2)];
        const center = p0 === model.params[name].value ? base : await meanOf(model, { dtMs, method: c.method, tangents: [key], stimulus: c.stimulus, instanceParams: [name] }, c, { [name]: [p0] });
        const lane = p0 === model.params[name].value ? j : 0;
        let compared = 0;
        for (const [o, obs] of center.observed.entries()) {
          const fd = narrow[o] + (narrow[o] - wide[o]) / 3;
          const ad = obs.meanTangent[lane][0];
          const scale = Math.abs(obs.mean[0]) * (log ? 1 : 1 / Math.abs(p0));
          // "tiny": a 1 % change of the parameter moves the mean by less than 1e-5 of itself; there the
          // difference quotient is dominated by roundoff amplified along the trajectory
          if (Math.abs(fd) < 1e-3 * scale) continue;
          compared++;
          expect(relErr(ad, fd), `${obs.name} wrt ${key}: tangent ${ad}, finite difference ${fd}`).toBeLessThan(1e-6);
        }
        expect(compared, `lane ${key} was compared on at least one observable`).toBeGreaterThan(0);
      }
    });
  }
});

describe('the HH removable singularity', () => {
  for (const v of [-40, -55]) {
    it(`gives finite values and tangents when V starts at exactly ${v} mV`, async () => {
      const model = libraryModel('hh');
      for (const method of ['exp-euler', 'rk4'] as const) {
        const program = compile(model, { dtMs: 0.025, method, tangents: ['gNa', 'gK', 'log:gL', 'initVMv'], values: { initVMv: v } });
        const r = await runCpu({ program, N: 1, durationMs: 0.025 }, { threads: 1 });
        for (const o of r.observed) {
          expect(Number.isFinite(o.mean[0])).toBe(true);
          for (const t of o.meanTangent) expect(Number.isFinite(t[0])).toBe(true);
        }
      }
      // the limits: αm(−40 mV) = 0.1·10 = 1 ms⁻¹ and αn(−55 mV) = 0.01·10 = 0.1 ms⁻¹, so the steady
      // states there are α/(α+β) with those α
      const gate = v === -40 ? 'Na.m' : 'K.n';
      const alpha = v === -40 ? 1 : 0.1;
      const beta = v === -40 ? 4 * Math.exp(-(v + 65) / 18) : 0.125 * Math.exp(-(v + 65) / 80);
      const init = model.states.find((s) => s.name === gate)!.init.steady;
      const value = evaluate(init, { param: (n) => (n === 'initVMv' ? v : model.params[n].value) });
      expect(value).toBeCloseTo(alpha / (alpha + beta), 14);
    });
  }
});

describe('trace tangents', () => {
  it('are the derivatives of the traced values, and average to the tangent of the mean', async () => {
    const model = libraryModel('hh');
    const stimulus = [{ startMs: 5, stopMs: 25, ampUAPerCm2: 10 }];
    const run = (gNa: number, tangents: string[]) => runCpu({
      program: compile(model, { dtMs: 0.025, instanceParams: ['gNa'], tangents, stimulus }),
      N: 1, params: { gNa: [gNa] }, durationMs: 30, discardMs: 2, traceEveryMs: 0.025, traceInstances: [0], traceTangents: true,
    }, { threads: 1 });
    const base = await run(120, ['gNa']);
    const tan = base.traces!.tangentSeries(0, 'V', 'gNa');
    const h = 1e-4;
    const [plus, minus] = [await run(120 + h, []), await run(120 - h, [])];
    const vp = plus.traces!.series(0, 'V'), vm = minus.traces!.series(0, 'V');
    let compared = 0;
    for (let k = 0; k < tan.length; k += 37) {
      const fd = (vp[k] - vm[k]) / (2 * h);
      if (Math.abs(fd) < 1e-3) continue;
      compared++;
      // h = 1e-4 of 120 mS/cm²: O(h²) truncation ~1e-8 relative here; spikes make some samples steep, hence 1e-5
      expect(Math.abs(tan[k] - fd) / Math.abs(fd), `sample ${k}`).toBeLessThan(1e-5);
    }
    expect(compared).toBeGreaterThan(10);
    const mean = tan.reduce((s, x) => s + x, 0) / tan.length;
    expect(Math.abs(mean - base.observed[0].meanTangent[0][0])).toBeLessThan(1e-9 * Math.max(1, Math.abs(mean)));
  });
});

describe('the two tangent forms (compile.ts, stepTangents)', () => {
  it('are the same derivative, and the smaller form is chosen', () => {
    const lanes = ['log:gNa', 'log:gCaS', 'log:gKd', 'gLeak', 'tauCaMs'];
    for (const method of ['exp-euler', 'rk4'] as const) {
      const program = compile(libraryModel('prinz'), { dtMs: 0.05, method, tangents: lanes });
      const { increment, tangentIncrement, forwardTangentIncrement } = program.next;
      const size = (t: typeof tangentIncrement) => topoOrder([...increment, ...t.flat()]).length;
      // exponential Euler: each gate depends on itself and V, so the chain rule on the states is the
      // smaller form; RK4 couples every state to every other, and forward mode is
      if (method === 'rk4') {
        expect(tangentIncrement).toBe(forwardTangentIncrement);
        continue;
      }
      // 1,261 operations against 1,848 with these five lanes (1,217 against 1,877 before a time
      // constant's divisions were merged: expr.ts writes dt/τ with a bounded factor, a few more nodes)
      expect(size(tangentIncrement)).toBeLessThan(size(forwardTangentIncrement) / 1.4);
      // at random states and tangents (V over −90…40 mV, gates in [0, 1]) both give the same values
      let seed = 3;
      const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      for (let trial = 0; trial < 50; trial++) {
        const values = new Map<string, number>();
        const env = {
          state: (name: string) => values.get(name) ?? values.set(name, name === 'V' ? -90 + 130 * random() : name === 'Ca' ? 0.05 + 5 * random() : random()).get(name)!,
          tangent: (name: string, lane: string) => values.get(`${name}/${lane}`) ?? values.set(`${name}/${lane}`, random() - 0.5).get(`${name}/${lane}`)!,
          param: (name: string) => program.values[name],
        };
        const a = evaluateAll(tangentIncrement.flat(), env), b = evaluateAll(forwardTangentIncrement.flat(), env);
        a.forEach((x, k) => {
          expect(Number.isFinite(x)).toBe(true);
          expect(Math.abs(x - b[k])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b[k])));
        });
      }
    }
  });
});
