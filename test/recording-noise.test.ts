/**
 * Noisy recordings (issue 16): the noise compensation of teacher forcing against its independent
 * truth — where the noise enters the residual linearly (a passive membrane driven by a current) the
 * expected squared residual a noise realisation adds, and its gradient, are exactly what the engines
 * sum (checked by Monte Carlo over independent realisations) — its tangents against central
 * differences, the GPU against the f64 engine, and a fit of a noisy bursting recording whose
 * conductances plain least squares shrinks and the compensated, polished fit does not.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { estimateNoiseStd } from '../src/analysis/noise-level.ts';
import { cli } from './cli-helper.ts';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { fitRecording } from '../src/jobs/fit/recording-fit.ts';
import { simulateRecording } from '../src/jobs/fit/record.ts';
import { teacherForce } from '../src/model/teacher-forcing.ts';
import { gpuForTests } from './gpu-helper.ts';

/** Seeded standard normal numbers (Box–Muller on a 32-bit LCG): the test is repeatable. */
function normals(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

// HH with its sodium and potassium conductances at 0: the gates still run on the recorded V but no
// current depends on them, so the residual is linear in the recording and its noise
const passive = libraryModel('hh');
const DT = 0.05, DURATION = 100, DISCARD = 0;
const VALUES = { gNa: 0, gK: 0 };
const G_LEAK = 0.3;
const current = Float64Array.from({ length: Math.round(DURATION / DT) + 1 }, (_, k) => 8 * Math.sin((2 * Math.PI * k * DT) / 25) + (k * DT > 50 ? 5 : 0));

/** The passive cell's voltage under the current, every step (f64). */
const clean = () => simulateRecording(passive, { dtMs: DT, values: { ...VALUES, gL: G_LEAK }, init: 'cold', durationMs: DURATION, observed: 'V', currentInput: 'I', inputs: { I: { values: current, intervalMs: DT } } });

function program(sigma: number, residual: 'equation-error' | 'prediction-error' = 'equation-error') {
  return compile(teacherForce(passive, { V: 'V' }), {
    dtMs: DT, init: 'cold', values: VALUES, instanceParams: ['gL'], tangents: ['log:gL'], residual, currentInput: 'I', recordingNoise: sigma > 0 ? { V: sigma } : undefined,
  });
}

describe('noise compensation of teacher forcing', () => {
  for (const [residual, windowMs] of [['equation-error', 1], ['equation-error', DT], ['prediction-error', DT]] as const) {
    it(`${residual}, ${windowMs} ms windows: the summed penalty and its gradient are the mean rᵀr and 2Jᵀr that noise adds (Monte Carlo, passive cell)`, async () => {
      const V = await clean();
      const sigma = 0.5, R = 400;
      const gauss = normals(7 + windowMs * 100);
      // R realisations as R instances, each reading its own noisy row
      const rows = new Float64Array(R * V.length);
      for (let r = 0; r < R; r++) for (let k = 0; k < V.length; k++) rows[r * V.length + k] = V[k] + sigma * gauss();
      const inputs = { I: { values: current, intervalMs: DT } };
      const common = { N: R, params: { gL: new Float64Array(R).fill(G_LEAK) }, durationMs: DURATION, discardMs: DISCARD, windowMs };
      const noisy = (await runCpu({ ...common, program: program(0, residual), inputs: { ...inputs, V: { values: rows, intervalMs: DT, perInstance: true } } }, { threads: 1 })).normal!;
      const penalty = (await runCpu({ ...common, N: 1, params: { gL: [G_LEAK] }, program: program(sigma, residual), inputs: { ...inputs, V: { values: V, intervalMs: DT } } }, { threads: 1 })).normal!;
      const mean = (x: ArrayLike<number>, f = 1) => Array.from(x).reduce((s, v) => s + f * v, 0) / R;
      const sd = (x: ArrayLike<number>, f = 1) => Math.sqrt(Array.from(x).reduce((s, v) => s + (f * v - mean(x, f)) ** 2, 0) / (R - 1));
      // at the truth the clean residual is 0 (rounding), so every realisation's rᵀr is its noise alone
      expect(Math.abs(mean(noisy.rr) - penalty.noise![0])).toBeLessThan(4 * sd(noisy.rr) / Math.sqrt(R));
      expect(Math.abs(mean(noisy.jr, 2) - penalty.jnoise![0])).toBeLessThan(4 * sd(noisy.jr, 2) / Math.sqrt(R));
      // one-step windows: the penalty depends on the conductance, its gradient well away from 0 (over
      // 1 ms windows the sample noise telescopes and what depends on gL is within the Monte Carlo error)
      if (windowMs === DT) expect(Math.abs(penalty.jnoise![0])).toBeGreaterThan(10 * sd(noisy.jr, 2) / Math.sqrt(R));
      // without a noise level the engines sum no penalty
      expect(noisy.noise).toBeUndefined();
    }, 300_000);
  }

  it('the penalty\'s tangent matches central differences in log gL (f64, relative < 1e-6)', async () => {
    const V = await clean();
    const h = 1e-4;
    const at = async (g: number) => (await runCpu({
      program: program(0.5), N: 1, params: { gL: [g] }, durationMs: DURATION, discardMs: DISCARD, windowMs: 1,
      inputs: { I: { values: current, intervalMs: DT }, V: { values: V, intervalMs: DT } },
    }, { threads: 1 })).normal!;
    const [centre, up, down] = [await at(G_LEAK), await at(G_LEAK * Math.exp(h)), await at(G_LEAK * Math.exp(-h))];
    const fd = (up.noise![0] - down.noise![0]) / (2 * h);
    expect(Math.abs(centre.jnoise![0] / fd - 1)).toBeLessThan(1e-6);
  }, 120_000);

  it('refuses a noise level for a recording that is not forced, and for rk4, naming them', () => {
    expect(() => compile(teacherForce(passive, { V: 'V' }), { dtMs: DT, recordingNoise: { U: 0.5 } })).toThrow(/recordingNoise: 'U' is not a forced recording; forced: V/);
    expect(() => compile(teacherForce(passive, { V: 'V' }), { dtMs: DT, recordingNoise: { V: -1 } })).toThrow(/recordingNoise.V must be a finite number ≥ 0/);
    expect(() => compile(teacherForce(passive, { V: 'V' }), { dtMs: DT, method: 'rk4', recordingNoise: { V: 0.5 } })).toThrow(/exponential-Euler step; got method rk4/);
  });

  it('sums the same penalty on the GPU as the f64 engine (f32 tolerance)', async () => {
    const gpu = await gpuForTests();
    if (!gpu) return;
    const V = await clean();
    const spec = {
      program: program(0.5), N: 2, params: { gL: [G_LEAK, 2 * G_LEAK] }, durationMs: DURATION, discardMs: 20, windowMs: 1,
      inputs: { I: { values: current, intervalMs: DT }, V: { values: V, intervalMs: DT } },
    };
    const [c, g] = [(await runCpu(spec)).normal!, (await runGpu(spec, { gpu })).normal!];
    // f32 coefficients c, d (rounding 6e-8 relative) squared and Kahan-summed: 1e-5 relative
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(g.noise![i] / c.noise![i] - 1)).toBeLessThan(1e-5);
      expect(Math.abs(g.jnoise![i] / c.jnoise![i] - 1)).toBeLessThan(1e-4);
    }
  }, 600_000);
});

describe('fitting a noisy recording', () => {
  it('refuses a noise level when the steps fall between samples (the compensation reads one sample per step)', async () => {
    const values = new Float64Array(201).fill(-60);
    const fit = (dtMs: number) => fitRecording({
      model: libraryModel('prinz'), forcing: { V: 'V' }, recordings: { V: { values, intervalMs: DT, interpolation: 'cubic' } },
      parameters: ['gLeak'], starts: [Float64Array.of(Math.log(0.01))], dtMs, init: 'cold', durationMs: 10, discardMs: 5, windowMs: 1,
      iterations: 1, run: { engine: 'cpu' }, noise: { V: 0.5 },
    });
    await expect(fit(DT / 10)).rejects.toThrow(/noise\.V: the noise compensation needs one step per sample \(dtMs = the recording's 0\.05 ms, got 0\.005\)/);
    // one step per sample: accepted
    expect((await fit(DT)).starts).toHaveLength(1);
  });

  it('with the noise level, the six large conductances of AB/PD come out unshrunk: within 3 %, where plain least squares shrinks them by 2-4 %', async () => {
    const TARGET: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0.01 };
    const NAMES = Object.keys(TARGET), LARGE = NAMES.slice(0, 6);
    const prinz = libraryModel('prinz');
    const V = await simulateRecording(prinz, { dtMs: DT, values: TARGET, init: 'cold', durationMs: 4000, observed: 'V' });
    const gauss = normals(2026);
    const noisy = Float64Array.from(V, (v) => v + 0.5 * gauss());
    const truth = NAMES.map((p) => Math.log(TARGET[p]));
    const common = {
      model: prinz, forcing: { V: 'V' }, recordings: { V: { values: noisy, intervalMs: DT } }, parameters: NAMES,
      starts: [Float64Array.from(truth, (t, d) => t + (d % 2 ? 0.4 : -0.4))], dtMs: DT, init: 'cold' as const,
      durationMs: 4000, discardMs: 1000, windowMs: 1, iterations: 20, run: { engine: 'cpu' as const },
      logLower: truth.map((t) => t - 8), logUpper: truth.map((t) => t + 8),
    };
    const errors = (x: Float64Array) => LARGE.map((p) => Math.exp(x[NAMES.indexOf(p)]) / TARGET[p] - 1);
    const plain = errors((await fitRecording(common)).starts[0].best);
    const fit = await fitRecording({ ...common, noise: { V: 0.5 } });
    const compensated = errors(fit.starts[0].best);
    const mean = (e: number[]) => e.reduce((s, v) => s + v, 0) / e.length;
    // errors in variables: plain least squares shrinks the large conductances (gKCa scatters most)
    expect(mean(plain)).toBeLessThan(-0.02);
    // the polish removes the shrinkage; what remains is the estimate's scatter (Gauss–Newton sd 0.5-8 %)
    for (const e of compensated) expect(Math.abs(e)).toBeLessThan(0.03);
    expect(Math.abs(mean(compensated))).toBeLessThan(0.015);
    expect(fit.starts[0].polishedFrom).toBeGreaterThan(0);
    // gH and gLeak are not determined by this recording, and the covariance says so
    expect(fit.starts[0].identified).toEqual(NAMES.map((p) => LARGE.includes(p)));
  }, 900_000);

  it('through the CLI: the noise is estimated from the recording, compensated, and every start lands on the same unshrunk answer', async () => {
    const TARGET: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0.01 };
    const V = await simulateRecording(libraryModel('prinz'), { dtMs: DT, values: TARGET, init: 'cold', durationMs: 4000, observed: 'V' });
    const gauss = normals(99);
    const dir = await mkdtemp(join(tmpdir(), 'ionsweep-noise-'));
    await writeFile(join(dir, 'v.csv'), 'V\n' + Array.from(V, (v) => (v + 0.5 * gauss()).toFixed(4)).join('\n') + '\n');
    const spec = {
      approach: 'teacher-forcing', model: 'prinz', init: 'cold', data: { file: 'v.csv', intervalMs: DT }, burnInMs: 1000, windowMs: 1,
      parameters: Object.fromEntries(Object.entries(TARGET).map(([k, v]) => [k, [v / 2, v * 2]])), starts: 2, iterations: 20, seed: 5, target: TARGET, engine: 'cpu',
    };
    await writeFile(join(dir, 'spec.yaml'), stringify(spec));
    const run = await cli(['fit', join(dir, 'spec.yaml'), '--out', join(dir, 'out'), '--quiet'], { timeoutMs: 600_000 });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.noise.source).toBe('estimated');
    expect(Math.abs(report.noise.mV.V / 0.5 - 1)).toBeLessThan(0.05);
    expect(report.noise.compensated).toBe(true);
    // the compensated cost is near zero: one step per sample explains the recording, no finer step is tried
    expect(report.stepChoice.finerDtMs).toBeUndefined();
    expect(report.run.dtMs).toBe(0.05);
    expect(run.stderr).toMatch(/recording noise V 0\.\d+ mV \(estimated from the recording; give data\.noiseMv if known\)/);
    const [a, b] = report.best;
    for (const p of Object.keys(TARGET)) expect(Math.abs(Math.log(a.params[p] / b.params[p]))).toBeLessThan(1e-3);
    for (const p of ['gNa', 'gCaT', 'gCaS', 'gA', 'gKCa', 'gKd']) expect(Math.abs(a.relativeError[p])).toBeLessThan(0.06);
    expect(a.unidentified).toEqual(['gH', 'gLeak']);
    // the cost figure marks where the polish begins and says what its costs are
    const svg = await readFile(join(dir, 'out', 'fit.svg'), 'utf8');
    expect(svg).toContain('prediction-error polish');
    expect(svg).toContain('less the noise');
  }, 900_000);
});

describe('estimateNoiseStd', () => {
  it('recovers the standard deviation of white noise on a smooth signal, and gives ~0 without noise', () => {
    const gauss = normals(3);
    const signal = Float64Array.from({ length: 20001 }, (_, k) => 30 * Math.sin(k / 400) + (k % 2000 < 40 ? 40 : 0));
    for (const sigma of [0.1, 0.5, 2]) {
      // 20,000 second differences: the median's relative standard error is about 1 %
      expect(Math.abs(estimateNoiseStd(Float64Array.from(signal, (v) => v + sigma * gauss())) / sigma - 1)).toBeLessThan(0.04);
    }
    expect(estimateNoiseStd(signal)).toBeLessThan(1e-3);
    expect(estimateNoiseStd([1, 2])).toBe(0);
  });
});
