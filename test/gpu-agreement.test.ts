/**
 * GPU engine (f32, WGSL) against the CPU engine (f64) on the 16 model neurons of Prinz 2004 and on
 * HH under current steps: 10 s of observation after a 20 s discard, dt 0.025 ms.
 *
 * Tolerances, and why:
 * - mean V within 0.5 mV and mean [Ca] within 1 % (the issue's bounds): f32 rounding moves a 10 s
 *   average of a periodic orbit far less; measured here ≤ 0.1 mV and ≤ 0.7 % on the most sensitive cells.
 * - spike counts exactly, or within the range of the f64 counts below ± 1 where the count is not stable
 *   (AB/PD 2: 192 at dt and dt/2, 190 and 192 under the two probes, 190 on the GPU): where the f64 count changes
 *   between dt and dt/2, or when every state is perturbed at f32's rounding level each step (the
 *   roundoff probe, below), or where those perturbations move the spikes by more than the distance
 *   from the window's first or last spike to its edge. The last is LP 4, a tonic spiker whose
 *   10 s window holds 204.1 periods: perturbations at f32's rounding level shift its phase after 20 s
 *   by 11 and 23 ms of its 49 ms period, and the f32 engines (GPU and CPU in f32 mode alike) land
 *   14 ms away, where a 205th spike fits in the window. A spike that appears or not by such changes
 *   is not a property of the model.
 * - tangents of mean [Ca] (and, for HH, mean V) with respect to log conductances within 5 % or 1e-3
 *   absolute, where the f64 tangent itself is well conditioned. The tangent of a finite-window mean
 *   of a limit cycle contains a term ∝ (T_end/ΔT)·(d log ω/d log g)·[Ca](T_end) that depends on the
 *   phase at the end of the window: a systematic error of 1e-6 in exp moves HH's d meanV/d log gNa at
 *   10 µA/cm² from 0.32 to 0.79 (and the builtin exp of lavapipe errs by up to 1.9e-6, which is why
 *   the kernel carries its own), and for some Prinz cells f32-level rounding alone moves it by tens
 *   of percent; no f32 computation can reproduce such values. The probes below measure this per cell
 *   and tangent, and so does the CPU engine's own f32 run: the bound is 5 % + 3 × the distance of
 *   that run from the f64 one, or, where the probes differ from it by more than 1 %, 5 % + 5 × the
 *   larger of the two distances (AB/PD 5, d mean [Ca] / d log gH: 2.13 in f64, probes ±0.35, the
 *   CPU engine in f32 0.13 off, the GPU 0.91: 3.5 times the probes' spread away). Two
 *   probes underestimate the scatter of f32 computations: on AB/PD 4, d mean [Ca] / d log gH moves
 *   0.1 % under them, while the CPU engine in f32 lands 5 % off (13 % with the step's divisions
 *   written as before this build: rounding alone decides) and the GPU 6.5 %; on AB/PD 3, d / d log gA
 *   0.5 %, 4.8 % and 6.1 %. Likewise on AB/PD 5, d mean [Ca] / d log gCaS was 38.4 in f64,
 *   36.9–39.4 over 12 probes, 32.9 from the CPU engine in f32, and 37.3, 44.3 and 47.3 from the GPU
 *   with three exp implementations of ≤ 1.5 ulp (or the builtin). So that the test keeps its teeth,
 *   at least 8 of the 16 cells must be well conditioned under the probes (every tangent within 1 %),
 *   which leaves their bound at 5 % + 3 × the f32 run's distance. How many are is itself decided by
 *   rounding near the 1 %: 10 before this build wrote a time constant's divisions as one, 9 after.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES, PRINZ_2004_CELLS } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import type { EnsembleResult } from '../src/engine/ensemble.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();
const DT = 0.025;
const RUN = { durationMs: 30_000, discardMs: 20_000, spikeCapacity: 1024 };
/**
 * Roundoff probes (emit-js.ts, RoundoffProbe): each step reads every state with an error of up to
 * ±½ f32 ulp, as the f32 kernel does (it keeps the lost bits in compensations but evaluates the
 * right-hand side on the rounded state); and exp/expm1/log scaled by 1 ± 2^-23, one ulp, the size of
 * the GPU's exp error (emit-wgsl.ts, expAccurate: ≤ 1.5 ulp), which repeats along a periodic orbit
 * like a bias. One probed run per sign.
 */
const PROBES = [+1, -1].map((sign) => ({ relative: 2 ** -23, seed: 7 + sign, transcendentalBias: sign * 2 ** -23 }));

interface Reference {
  clean: EnsembleResult;
  probed: EnsembleResult[];
  halfDt: EnsembleResult;
  /** the CPU engine in f32 (emit-js.ts): an f32 computation of the same step, independent of the GPU's */
  f32: EnsembleResult;
  gpu: EnsembleResult;
}

async function compare(model: string, N: number, params: Record<string, number[]>, lanes: string[], stimulus = [] as { startMs: number; stopMs: number; ampUAPerCm2: number }[]): Promise<Reference> {
  const m = libraryModel(model);
  const instanceParams = Object.keys(params);
  const program = compile(m, { dtMs: DT, instanceParams, tangents: lanes, stimulus });
  const primalHalf = compile(m, { dtMs: DT / 2, instanceParams, stimulus });
  const [clean, halfDt, f32, ...probed] = await Promise.all([
    runCpu({ program, N, params, ...RUN }),
    runCpu({ program: primalHalf, N, params, ...RUN }),
    runCpu({ program, N, params, ...RUN }, { precision: 'f32' }),
    ...PROBES.map((roundoffProbe) => runCpu({ program, N, params, ...RUN }, { roundoffProbe })),
  ]);
  const result = await runGpu({ program, N, params, ...RUN }, { gpu: gpu! });
  return { clean, probed, halfDt, f32, gpu: result };
}

/** How far the probed runs' spikes lie from the clean run's first and last spike in the window (ms). */
function phaseShiftMs(clean: EnsembleResult, probed: EnsembleResult[], i: number): number {
  const t = clean.spikes[0].timesOf(i);
  if (!t.length) return 0;
  const nearest = (u: number[], x: number) => Math.min(...u.map((y) => Math.abs(y - x)));
  return Math.max(...probed.map((p) => {
    const u = p.spikes[0].timesOf(i);
    return u.length ? Math.max(nearest(u, t[0]), nearest(u, t[t.length - 1])) : Infinity;
  }));
}

/** Distance from the window's edges to its first and last spike in the clean run (ms). */
function edgeMarginMs(clean: EnsembleResult, i: number): number {
  const t = clean.spikes[0].timesOf(i);
  return t.length ? Math.min(t[0] - RUN.discardMs, RUN.durationMs - t[t.length - 1]) : Infinity;
}

function checkAgreement(ref: Reference, names: string[], tangentOf: 'V' | 'Ca') {
  const { clean, probed, halfDt, f32, gpu: g } = ref;
  const o = clean.observed.findIndex((x) => x.name === tangentOf);
  let wellConditioned = 0;
  const report: string[] = [];
  names.forEach((name, i) => {
    const counts = [clean.spikes[0].count[i], halfDt.spikes[0].count[i], ...probed.map((p) => p.spikes[0].count[i])];
    const stable = counts.every((c) => c === counts[0]) && phaseShiftMs(clean, probed, i) < edgeMarginMs(clean, i);
    // an unstable count may land anywhere the f64 runs put it, or one beyond
    const [fewest, most] = stable ? [counts[0], counts[0]] : [Math.min(...counts) - 1, Math.max(...counts) + 1];
    expect(g.spikes[0].count[i], `${name}: spikes gpu ${g.spikes[0].count[i]}, cpu ${counts.join('/')}`).toBeGreaterThanOrEqual(fewest);
    expect(g.spikes[0].count[i], `${name}: spikes gpu ${g.spikes[0].count[i]}, cpu ${counts.join('/')}`).toBeLessThanOrEqual(most);
    expect(Math.abs(g.observed[0].mean[i] - clean.observed[0].mean[i]), `${name}: mean V`).toBeLessThan(0.5);
    const ca = clean.observed.findIndex((x) => x.kind === 'calcium');
    if (ca >= 0) expect(Math.abs(g.observed[ca].mean[i] / clean.observed[ca].mean[i] - 1), `${name}: mean Ca`).toBeLessThan(0.01);
    let cellOk = true;
    clean.lanes.forEach((lane, j) => {
      const ref = clean.observed[o].meanTangent[j][i];
      const spread = Math.max(...probed.map((p) => Math.abs(p.observed[o].meanTangent[j][i] - ref)));
      const conditioned = spread <= Math.max(0.01 * Math.abs(ref), 1e-3);
      // the CPU engine's own f32 run shows how far an actual f32 computation of the same step lands:
      // often farther than two probes reveal, so it widens every bound
      const f32Off = Math.abs(f32.observed[o].meanTangent[j][i] - ref);
      if (!conditioned) cellOk = false;
      const bound = Math.max(0.05 * Math.abs(ref), 1e-3) + (conditioned ? 3 * f32Off : 5 * Math.max(spread, f32Off));
      const got = g.observed[o].meanTangent[j][i];
      expect(Math.abs(got - ref), `${name}: d mean ${tangentOf} / d ${lane.key}: gpu ${got}, cpu ${ref}, f32-probe spread ${spread}, cpu f32 off by ${f32Off}`).toBeLessThanOrEqual(bound);
      if (!conditioned) report.push(`${name} d/d ${lane.key}: f64 ${ref.toPrecision(4)}, gpu ${got.toPrecision(4)}, cpu f32 ${f32.observed[o].meanTangent[j][i].toPrecision(4)}, probes ±${spread.toPrecision(2)}`);
    });
    if (cellOk) wellConditioned++;
    report.push(`${name}: ${cellOk ? 'well conditioned' : 'ill conditioned'}`);
  });
  console.log(report.join('; '));
  return wellConditioned;
}

describe.skipIf(!gpu)('GPU (f32) agrees with CPU (f64)', () => {
  let prinz: Reference;
  let hh: Reference;
  beforeAll(async () => {
    const params = Object.fromEntries(CONDUCTANCE_NAMES.map((g) => [g, PRINZ_2004_CELLS.map((c) => c.conductances[g])]));
    prinz = await compare('prinz', PRINZ_2004_CELLS.length, params, CONDUCTANCE_NAMES.map((g) => `log:${g}`));
    const currents = [0, 3, 6.5, 10, 20, 40];
    hh = await compare('hh', currents.length, { IExtUAPerCm2: currents }, ['log:gNa', 'log:gK', 'log:gL'], [
      { startMs: 21_000, stopMs: 25_000, ampUAPerCm2: 5 },
    ]);
  }, 600_000);

  it('on the 16 Prinz 2004 model neurons', () => {
    const good = checkAgreement(prinz, PRINZ_2004_CELLS.map((c) => c.name), 'Ca');
    expect(good, 'cells whose tangents are well conditioned at f32 rounding').toBeGreaterThanOrEqual(8);
  });

  it('on HH under current steps', () => {
    const good = checkAgreement(hh, ['0', '3', '6.5', '10', '20', '40'].map((i) => `HH at ${i} µA/cm²`), 'V');
    expect(good).toBeGreaterThanOrEqual(4);
  });

  it('reports the adapter', () => {
    expect(prinz.gpu.engine).toBe('gpu');
    expect(prinz.gpu.device.length).toBeGreaterThan(0);
  });
});
