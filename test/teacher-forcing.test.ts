/**
 * Recordings inside the step (input leaves) and teacher forcing (issue 16): the mechanism against the
 * step stimulus it generalises, the residuals at the truth (rounding level), the cost's gradient
 * against central differences, the shape of the cost along cuts through the truth, GPU against the
 * f64 engine, and a small fit that recovers the conductances.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { packInputs, inputLayoutOf } from '../src/engine/inputs.ts';
import { makePlan } from '../src/engine/plan.ts';
import { fitRecording, gaussNewtonStd } from '../src/jobs/fit/recording-fit.ts';
import { simulateRecording } from '../src/jobs/fit/record.ts';
import { pyloric } from '../src/channels/pyloric.ts';
import { parseExpr } from '../src/model/parse.ts';
import { teacherForce } from '../src/model/teacher-forcing.ts';
import { gpuForTests } from './gpu-helper.ts';

const TARGET: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0.01 };
const NAMES = Object.keys(TARGET);
const LANES = NAMES.map((p) => `log:${p}`);
const DT = 0.05;
const prinz = libraryModel('prinz');

/** The AB/PD cell's voltage from the cold start, every step from t = 0 (f64). */
const recording = (durationMs: number, method: 'exp-euler' | 'rk4' = 'exp-euler', dtMs = DT) =>
  simulateRecording(prinz, { dtMs, values: TARGET, init: 'cold', durationMs, observed: 'V', method });

/** rᵀr and Jᵀr of the forced model at the given conductances (one instance per row), f64. */
async function normalAt(points: Record<string, number>[], V: Float64Array, o: { durationMs: number; discardMs: number; windowMs?: number; residual?: 'equation-error' | 'prediction-error'; method?: 'exp-euler' | 'rk4'; lanes?: string[]; dtMs?: number }) {
  const dtMs = o.dtMs ?? DT;
  const program = compile(teacherForce(prinz, { V: 'V' }), {
    dtMs, init: 'cold', method: o.method, instanceParams: NAMES, tangents: o.lanes ?? LANES, residual: o.residual,
  });
  const params = Object.fromEntries(NAMES.map((p) => [p, points.map((x) => x[p])]));
  const r = await runCpu({ program, N: points.length, params, durationMs: o.durationMs, discardMs: o.discardMs, windowMs: o.windowMs, inputs: { V: { values: V, intervalMs: dtMs } } }, { threads: 1 });
  return r.normal!;
}

describe('recordings inside the step', () => {
  it('a current recording read with input() gives the same run as the equivalent step stimulus', async () => {
    const hh = libraryModel('hh');
    const dtMs = 0.025, durationMs = 30;
    const steps = Math.round(durationMs / dtMs);
    // 10 µA/cm² from 5 ms on: sample k is the current at t = k·dt, as the step stimulus sees it
    const current = Float64Array.from({ length: steps + 1 }, (_, k) => (k * dtMs >= 5 - 1e-9 ? 10 : 0));
    const viaInput = compile(hh, { dtMs, currentInput: 'I' });
    const viaStep = compile(hh, { dtMs, stimulus: [{ startMs: 5, stopMs: 1e9, ampUAPerCm2: 10 }] });
    const run = (program: typeof viaInput, inputs?: Record<string, { values: Float64Array; intervalMs: number }>) =>
      runCpu({ program, N: 1, durationMs, traceEveryMs: dtMs, traceInstances: [0], inputs }, { threads: 1 });
    const a = (await run(viaInput, { I: { values: current, intervalMs: dtMs } })).traces!.series(0, 'V');
    const b = (await run(viaStep)).traces!.series(0, 'V');
    expect(Math.max(...b)).toBeGreaterThan(20); // the step makes it spike, so the comparison means something
    for (let k = 0; k < a.length; k++) expect(a[k]).toBe(b[k]);
  });

  it('resamples a recording to the step grid: linear between samples, or held', () => {
    const program = compile(libraryModel('hh'), { dtMs: 0.25, currentInput: 'I' });
    const plan = makePlan({ dtMs: 0.25, durationMs: 1 });
    const values = [0, 4, 8];
    for (const [interpolation, expected] of [['linear', [0, 1, 2, 3, 4, 5]], ['hold', [0, 0, 0, 0, 4, 4]]] as const) {
      const inputs = { I: { values, intervalMs: 1, interpolation } };
      const layout = inputLayoutOf(program, inputs, plan, 1);
      // steps 0..4 and the two samples past the end; clamped at the last sample where the recording ends
      const out = packInputs(program, inputs, layout, plan, 1, 0, 1, (n) => new Float64Array(n));
      expect(Array.from(out.subarray(0, 6))).toEqual(expected);
    }
  });

  it('refuses a recording shorter than the run, a missing one, and one the model does not read, naming it', async () => {
    const program = compile(libraryModel('hh'), { dtMs: 0.025, currentInput: 'I' });
    await expect(runCpu({ program, N: 1, durationMs: 10, inputs: { I: { values: [0, 1], intervalMs: 1 } } })).rejects.toThrow(/input 'I' covers 1 ms .* the run lasts 10 ms/);
    await expect(runCpu({ program, N: 1, durationMs: 10 })).rejects.toThrow(/reads the recording 'I'/);
    await expect(runCpu({ program, N: 1, durationMs: 1, inputs: { I: { values: [0, 0], intervalMs: 1 }, J: { values: [0, 0], intervalMs: 1 } } })).rejects.toThrow(/input 'J' is not read by the model/);
  });

  it('parses input(V) and input(\'V\') into the same recording leaf', () => {
    expect(parseExpr("2 * input('V')")).toBe(parseExpr('2 * input(V)'));
    expect(() => parseExpr('input(1)')).toThrow(/takes the name of a recording/);
  });

  it('runs the same recording-driven step on the GPU as on the f64 engine (f32 tolerance)', async () => {
    const gpu = await gpuForTests();
    if (!gpu) return;
    const hh = libraryModel('hh');
    const dtMs = 0.025, durationMs = 20;
    const steps = Math.round(durationMs / dtMs);
    // a ramp sampled at 4 steps per sample: interpolated on the host, read per step by both kernels
    const current = Float64Array.from({ length: steps / 4 + 1 }, (_, k) => 0.5 * k * 4 * dtMs);
    const program = compile(hh, { dtMs, currentInput: 'I' });
    const spec = { program, N: 2, durationMs, traceEveryMs: 1, traceInstances: [1], inputs: { I: { values: current, intervalMs: 4 * dtMs } } };
    const [c, g] = [await runCpu(spec), await runGpu(spec, { gpu })];
    const [vc, vg] = [c.traces!.series(0, 'V'), g.traces!.series(0, 'V')];
    // the ramp reaches 10 µA/cm² and fires HH; f32 trajectories stay within 0.5 mV over 20 ms before the spikes' timing can drift
    expect(Math.max(...vc)).toBeGreaterThan(20);
    for (let k = 0; k < vc.length; k++) expect(Math.abs(vc[k] - vg[k])).toBeLessThan(0.5);
  }, 600_000);

  it('gives each instance its own row of a per-instance recording, on both engines', async () => {
    const hh = libraryModel('hh');
    const dtMs = 0.025, durationMs = 20, samples = Math.round(durationMs / dtMs) + 1;
    const ramp = Float64Array.from({ length: samples }, (_, k) => 0.5 * k * dtMs);
    const program = compile(hh, { dtMs, currentInput: 'I' });
    const run = (engine: typeof runCpu, inputs: Record<string, { values: Float64Array; intervalMs: number; perInstance?: boolean }>, N: number) =>
      engine({ program, N, durationMs, traceEveryMs: 1, traceInstances: [...Array(N).keys()], inputs });
    // row 0: no current; row 1: the ramp
    const rows = { I: { values: Float64Array.from([...new Float64Array(samples), ...ramp]), intervalMs: dtMs, perInstance: true } };
    const alone = (await run(runCpu, { I: { values: ramp, intervalMs: dtMs } }, 1)).traces!.series(0, 'V');
    const both = await run(runCpu, rows, 2);
    // f64: the ramped row is the shared ramp's run exactly; the other row rests (HH at rest stays within 0.1 mV of −65)
    expect(Array.from(both.traces!.series(1, 'V'))).toEqual(Array.from(alone));
    for (const v of both.traces!.series(0, 'V')) expect(Math.abs(v + 65)).toBeLessThan(0.1);
    const gpu = await gpuForTests();
    if (!gpu) return;
    const g = await runGpu({ program, N: 2, durationMs, traceEveryMs: 1, traceInstances: [0, 1], inputs: rows }, { gpu });
    for (let i = 0; i < 2; i++) {
      const [vc, vg] = [both.traces!.series(i, 'V'), g.traces!.series(i, 'V')];
      for (let k = 0; k < vc.length; k++) expect(Math.abs(vc[k] - vg[k])).toBeLessThan(0.5);
    }
  }, 600_000);
});

describe('teacher forcing', () => {
  it('gives residuals at rounding level at the true parameters (exp-euler: equation and prediction error; rk4)', async () => {
    const V = await recording(600);
    const vary = { ...TARGET, gKd: TARGET.gKd * 1.01 };
    for (const residual of ['equation-error', 'prediction-error'] as const) {
      const ne = await normalAt([TARGET, vary], V, { durationMs: 600, discardMs: 200, windowMs: 1, residual });
      // a 1 % change gives a residual many orders above the truth's, which is rounding (f64 data, f64 engine)
      expect(ne.rr[1]).toBeGreaterThan(1e-3);
      expect(ne.rr[0]).toBeLessThan(1e-18 * ne.rr[1] + 1e-22);
    }
    // classical RK4 needs a shorter step through the spikes (at 0.05 ms it diverges)
    const Vrk = await recording(300, 'rk4', 0.01);
    const ne = await normalAt([TARGET, vary], Vrk, { durationMs: 300, discardMs: 100, windowMs: 1, method: 'rk4', dtMs: 0.01 });
    expect(ne.rr[1]).toBeGreaterThan(1e-3);
    expect(ne.rr[0]).toBeLessThan(1e-18 * ne.rr[1] + 1e-22);
  }, 600_000);

  it('gradients of the costs (2·Jᵀr from the tangent lanes) match central differences (f64, relative < 1e-6)', async () => {
    const V = await recording(400);
    // a point off the truth in every conductance, so every gradient component is far from 0
    const at = Object.fromEntries(NAMES.map((p, d) => [p, TARGET[p] * Math.exp(0.05 * (d % 2 ? 1 : -1))]));
    for (const residual of ['equation-error', 'prediction-error'] as const) {
      const h = 1e-4;
      const points = [at, ...NAMES.flatMap((p) => [-1, 1].map((s) => ({ ...at, [p]: at[p] * Math.exp(s * h) })))];
      const ne = await normalAt(points, V, { durationMs: 400, discardMs: 100, windowMs: residual === 'equation-error' ? 1 : undefined, residual });
      NAMES.forEach((_, d) => {
        const fd = (ne.rr[2 + 2 * d] - ne.rr[1 + 2 * d]) / (2 * h);
        const exact = 2 * ne.jr[d];
        expect(Math.abs(fd - exact)).toBeLessThan(1e-6 * Math.abs(exact) + 1e-9 * ne.rr[0]);
      });
    }
  }, 600_000);

  it('has one minimum along each 1-D cut through the truth (±0.3 log units), at the truth', async () => {
    const V = await recording(2000);
    const offsets = [-0.3, -0.2, -0.1, -0.05, 0, 0.05, 0.1, 0.2, 0.3];
    const points = NAMES.flatMap((p) => offsets.map((u) => ({ ...TARGET, [p]: TARGET[p] * Math.exp(u) })));
    const ne = await normalAt(points, V, { durationMs: 2000, discardMs: 1000, windowMs: 1, lanes: [] });
    NAMES.forEach((_, d) => {
      const cut = offsets.map((_, k) => ne.rr[d * offsets.length + k]);
      const centre = offsets.indexOf(0);
      // strictly decreasing to the truth and strictly increasing after it: one minimum, there
      for (let k = 0; k < centre; k++) expect(cut[k]).toBeGreaterThan(cut[k + 1]);
      for (let k = centre; k < cut.length - 1; k++) expect(cut[k + 1]).toBeGreaterThan(cut[k]);
    });
  }, 600_000);

  it('accumulates the same normal equations on the GPU as the f64 engine (f32 tolerance)', async () => {
    const gpu = await gpuForTests();
    if (!gpu) return;
    const V = await recording(400);
    const program = compile(teacherForce(prinz, { V: 'V' }), { dtMs: DT, init: 'cold', instanceParams: NAMES, tangents: LANES });
    const points = [0.9, 1.1].map((s) => Object.fromEntries(NAMES.map((p) => [p, TARGET[p] * s])));
    const params = Object.fromEntries(NAMES.map((p) => [p, points.map((x) => x[p])]));
    const spec = { program, N: 2, params, durationMs: 400, discardMs: 100, windowMs: 1, inputs: { V: { values: V, intervalMs: DT } } };
    const [c, g] = [(await runCpu(spec)).normal!, (await runGpu(spec, { gpu })).normal!];
    expect(g.rows).toBe(c.rows);
    // the residuals difference ΔV of neighbouring f32 samples (~4e-6 mV at 50 mV) against ΔV itself: 1e-3 relative in the sums
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(g.rr[i] / c.rr[i] - 1)).toBeLessThan(1e-3);
      const scale = Math.max(...NAMES.map((_, d) => Math.abs(c.jr[i * 8 + d])));
      NAMES.forEach((_, d) => expect(Math.abs(g.jr[i * 8 + d] - c.jr[i * 8 + d])).toBeLessThan(2e-3 * scale));
      const diag = Math.max(...NAMES.map((_, d) => c.jj[i * 64 + d * 9]));
      for (let k = 0; k < 64; k++) expect(Math.abs(g.jj[i * 64 + k] - c.jj[i * 64 + k])).toBeLessThan(2e-3 * diag);
    }
    // compiling an 8-lane kernel on a software GPU takes tens of seconds, minutes on a busy host
  }, 900_000);

  it('recovers all eight conductances from starts within a factor 2, and flags what a noisy recording cannot identify', async () => {
    const V = await recording(2000);
    const starts = [[0.6, -0.5, 0.4, -0.3, 0.2, -0.6, 0.5, -0.4], [-0.4, 0.3, -0.6, 0.5, -0.2, 0.4, -0.5, 0.6]]
      .map((u) => Float64Array.from(NAMES, (p, d) => Math.log(TARGET[p]) + u[d]));
    const common = {
      model: prinz, forcing: { V: 'V' }, parameters: NAMES, starts, dtMs: DT, init: 'cold' as const,
      durationMs: 2000, discardMs: 1000, windowMs: 1, iterations: 25, run: { engine: 'cpu' as const, threads: 1 },
    };
    const fit = await fitRecording({ ...common, recordings: { V: { values: V, intervalMs: DT } } });
    for (const s of fit.starts) {
      NAMES.forEach((p, d) => expect(Math.abs(Math.exp(s.best[d]) / TARGET[p] - 1)).toBeLessThan(1e-4));
      expect(s.identified.every(Boolean)).toBe(true);
    }
    // 0.5 mV of noise: the leak and gH are not determined by 1 s of data, and the covariance says so
    let seed = 12345;
    const u = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const noisy = Float64Array.from(V, (v) => v + 0.5 * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
    const noisyFit = await fitRecording({ ...common, starts: starts.slice(0, 1), recordings: { V: { values: noisy, intervalMs: DT } } });
    const s = noisyFit.starts[0];
    expect(s.identified[NAMES.indexOf('gH')]).toBe(false);
    expect(s.identified[NAMES.indexOf('gNa')]).toBe(true);
  }, 900_000);

  it('flags every conductance of a silent cell, whose recording holds one current balance, even without noise', async () => {
    // PY 2 of Prinz et al. 2004 rests silent: every window of its recording says the same thing
    const py2: Record<string, number> = { gNa: 200, gCaT: 7.5, gCaS: 0, gA: 50, gKCa: 0, gKd: 75, gH: 0.05, gLeak: 0 };
    const fitted = Object.keys(py2).filter((p) => py2[p] > 0);
    const values = Object.fromEntries(Object.keys(py2).filter((p) => !(py2[p] > 0)).map((p) => [p, 0]));
    const V = await simulateRecording(prinz, { dtMs: DT, values: py2, init: 'cold', durationMs: 4000, observed: 'V' });
    expect(Math.max(...V.subarray(20_000)) - Math.min(...V.subarray(20_000))).toBeLessThan(1); // silent
    const fit = await fitRecording({
      model: prinz, forcing: { V: 'V' }, recordings: { V: { values: V, intervalMs: DT } }, parameters: fitted, values,
      starts: [Float64Array.from(fitted, (p, d) => Math.log(py2[p]) + (d % 2 ? 0.3 : -0.3))], dtMs: DT, init: 'cold',
      durationMs: 4000, discardMs: 1000, windowMs: 1, iterations: 20, run: { engine: 'cpu', threads: 1 },
    });
    // the residual sits at rounding level along a whole family of conductances: only the noise floor
    // (1 µV) keeps σ²(JᵀJ)⁻¹ from calling them known
    expect(fit.starts[0].identified).toEqual(fitted.map(() => false));
  }, 300_000);

  it('gaussNewtonStd inverts JᵀJ: a diagonal system gives σ/sqrt(diag)', () => {
    const std = gaussNewtonStd([4, 0, 0, 100], 18, 20, 2); // σ² = 18/18 = 1
    expect(std[0]).toBeCloseTo(0.5, 12);
    expect(std[1]).toBeCloseTo(0.1, 12);
  });

  it('fits a cell inside a network: LP forced with AB and PY recordings as the presynaptic voltages', async () => {
    const net = pyloric({ cells: ['ABPD1', 'LP1', 'PY1'] });
    const states = net.states.map((s) => s.name).filter((n) => /\.V$/.test(n));
    expect(states.length).toBe(3);
    const dtMs = 0.05, durationMs = 400;
    const recordings = Object.fromEntries(await Promise.all(states.map(async (name) =>
      [name, { values: await simulateRecording(net, { dtMs, init: 'cold', durationMs, observed: name }), intervalMs: dtMs }] as const)));
    const lp = states.find((s) => s.startsWith('LP'))!;
    const forcing = Object.fromEntries(states.map((s) => [s, s === lp ? s : { input: s, residual: false }]));
    const fitted = ['gNa', 'gKd', 'gA'].map((g) => `${lp.split('.')[0]}.${g}`);
    for (const p of fitted) expect(net.params[p].value).toBeGreaterThan(0);
    const forced = compile(teacherForce(net, forcing), { dtMs, init: 'cold', instanceParams: fitted, tangents: fitted.map((p) => `log:${p}`) });
    const params = Object.fromEntries(fitted.map((p) => [p, [net.params[p].value, net.params[p].value * 1.05]]));
    const r = await runCpu({ program: forced, N: 2, params, durationMs, discardMs: 100, windowMs: 1, inputs: recordings }, { threads: 1 });
    expect(r.normal!.rows).toBe(300); // one fitted residual (LP) × 300 windows
    expect(r.normal!.rr[1]).toBeGreaterThan(1e-6);
    expect(r.normal!.rr[0]).toBeLessThan(1e-16 * r.normal!.rr[1] + 1e-20);
  }, 600_000);

  it('refuses to force a state the model does not have, naming the states', () => {
    expect(() => teacherForce(prinz, { U: 'V' })).toThrow(/has no state 'U'; states: .*V/);
    expect(() => teacherForce(prinz, { V: 'constructor' })).toThrow(/reserved/);
  });
});
