/**
 * The teacher-forcing experiment (README, "Fitting a recording"): AB/PD 1 with gLeak 0.01 recorded for
 * 4 s from the cold start at dt 0.05 ms ([Ca] not recorded), fitted from random starts log-uniform
 * within a factor 2 and a factor 4 of the truth in all 8 conductances, by teacher forcing (equation
 * error over 1 ms windows from 1 s to 4 s, Levenberg–Marquardt from the normal equations the engine
 * accumulates), with a random search of the same boxes in the same run. A start succeeds when the
 * six large conductances are within 1 % of the truth and its free re-simulation (20 s, classified over
 * the last 10 s) bursts with period and duty cycle within 2 % of the truth's. Prints JSON.
 *
 *   deno run -A bench/fit-teacher-forcing.ts [--no-simulation-baseline] [--starts 1000] [--factors 2,4] [--random N] [--noise 0.5 --realisations 20 --noise-starts 20 [--uncompensated]] [--engine gpu|cpu|auto]
 *
 * With --noise, each realisation is fitted with the noise level given (fitRecording: the noise
 * compensation and the prediction-error polish); --uncompensated fits it as if noise-free.
 *                                            [--mismatch-mv X [--mismatch-channels Na,CaT,CaS,A,KCa,Kd]]
 *
 * --random: random points per factor (default: as many as the fit's evaluations, so that success per
 * evaluation compares like with like).
 * --mismatch-mv: model mismatch. The recording comes from a cell whose gate kinetics (x∞ and τ of every
 * gate of the listed channels; default the six large ones, not H) are shifted by +X mV along V, i.e.
 * x∞(V − X) and τ(V − X), with the same conductances; the fitted model keeps the nominal kinetics. The
 * conductance errors are against those conductances and the rhythm test against the shifted cell's own
 * free run (the recording's rhythm).
 */
import process from 'node:process';
import { libraryModel } from '../src/channels/index.ts';
import { prinzNeuron, stgChannels, stgGates, PRINZ_DEFAULT_CONDUCTANCES } from '../src/channels/prinz.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import { fitRecording } from '../src/jobs/fit/recording-fit.ts';
import { freeActivity } from '../src/jobs/fit/free-check.ts';
import { matchesBursting } from '../src/jobs/fit/activity.ts';
import { simulateRecording } from '../src/jobs/fit/record.ts';
import type { EngineChoice } from '../src/engine/run.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runFit } from '../src/jobs/fit/run.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : fallback;
};
const STARTS = Number(flag('--starts', '1000'));
const FACTORS = flag('--factors', '2,4').split(',').map(Number);
// default: as many random points as the fit's model evaluations (0: that)
const RANDOM_FLAG = Number(flag('--random', '0'));
const NOISE = Number(flag('--noise', '0'));
const REALISATIONS = Number(flag('--realisations', '20'));
const NOISE_STARTS = Number(flag('--noise-starts', '20'));
const ENGINE = flag('--engine', 'auto') as EngineChoice;
const ITERATIONS = Number(flag('--iterations', '20'));
const UNCOMPENSATED = args.includes('--uncompensated');
// model mismatch: the data's cell has these channels' gate kinetics shifted by +MISMATCH_MV along V
const MISMATCH_MV = Number(flag('--mismatch-mv', '0'));
const MISMATCH_CHANNELS = flag('--mismatch-channels', 'Na,CaT,CaS,A,KCa,Kd').split(',');

const TARGET: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0.01 };
const NAMES = Object.keys(TARGET);
const LARGE = ['gNa', 'gCaT', 'gCaS', 'gA', 'gKCa', 'gKd'];
const DT = 0.05, DURATION = 4000, BURN_IN = 1000, WINDOW = 1;
const CHECK = { durationMs: 20_000, discardMs: 10_000 };
// today's best on the simulation cost in the same run (examples/fit-abpd.yaml: screen 16, then
// Levenberg–Marquardt, ≤ 40 steps, patience 8), judged the same way; --no-simulation-baseline skips it
const SIMULATION_BASELINE = !args.includes('--no-simulation-baseline');
const model = libraryModel('prinz');
const log = (o: Record<string, unknown>) => process.stderr.write(JSON.stringify({ ...o, time: new Date().toISOString() }) + '\n');

/** xorshift-based uniform numbers in [0, 1), seeded: the experiment is repeatable */
function uniforms(seed: number) {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
const gaussian = (u: () => number) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
const truthLog = NAMES.map((p) => Math.log(TARGET[p]));
const pointsWithin = (factor: number, count: number, seed: number) => {
  const u = uniforms(seed);
  return Array.from({ length: count }, () => Float64Array.from(truthLog, (t) => t + (2 * u() - 1) * Math.log(factor)));
};

/** The prinz cell with the named channels' gates read at V − shiftMv (x∞ and τ both: the kinetics move along V). */
function shiftedPrinz(shiftMv: number, channels: readonly string[]) {
  const gates = stgGates(1);
  for (const name of channels) {
    if (!gates[name]) throw new Error(`--mismatch-channels: no channel '${name}'; channels: ${Object.keys(gates).join(', ')}`);
    const at = (e: unknown) => String(e).replace(/\bV\b/g, `(V - ${shiftMv})`);
    gates[name] = gates[name].map((g) => ({ ...g, inf: at(g.inf), tau: at(g.tau) }));
  }
  return buildNeuron({ ...prinzNeuron, name: 'prinz_shifted', channels: stgChannels(gates, PRINZ_DEFAULT_CONDUCTANCES, 50) });
}
const dataModel = MISMATCH_MV ? shiftedPrinz(MISMATCH_MV, MISMATCH_CHANNELS) : model;
const V = await simulateRecording(dataModel, { dtMs: DT, values: TARGET, init: 'cold', durationMs: DURATION, observed: 'V' });
const checkOptions = { model, parameters: NAMES, dtMs: DT, init: 'cold' as const, ...CHECK, run: { engine: ENGINE } };
// the rhythm to reproduce is the recorded cell's (the shifted one under --mismatch-mv)
const truthActivity = await freeActivity({ ...checkOptions, model: dataModel, run: { engine: 'cpu' } }, [Float64Array.from(truthLog)]);
const truth = { burstPeriodMs: truthActivity.burstPeriodMs[0]!, dutyCycle: truthActivity.dutyCycle[0]! };
log({ event: 'truth', ...truth, class: truthActivity.class[0] });
// under mismatch: what the nominal model does at the true conductances (the shift's own effect on the rhythm)
const nominalAtTruth = MISMATCH_MV ? await freeActivity({ ...checkOptions, run: { engine: 'cpu' } }, [Float64Array.from(truthLog)]) : undefined;
if (nominalAtTruth) log({ event: 'nominal model at the true conductances', class: nominalAtTruth.class[0], burstPeriodMs: nominalAtTruth.burstPeriodMs[0], dutyCycle: nominalAtTruth.dutyCycle[0] });

const largeWithin = (x: ArrayLike<number>, tol: number) => LARGE.every((p) => Math.abs(Math.exp(x[NAMES.indexOf(p)]) / TARGET[p] - 1) <= tol);

async function fitFrom(starts: Float64Array[], recording: Float64Array, noiseMv = 0) {
  let last = 0;
  return fitRecording({
    windowMs: WINDOW, noise: noiseMv > 0 ? { V: noiseMv } : undefined,
    model, forcing: { V: 'V' }, recordings: { V: { values: recording, intervalMs: DT } }, parameters: NAMES, starts,
    dtMs: DT, init: 'cold', durationMs: DURATION, discardMs: BURN_IN, iterations: ITERATIONS, run: { engine: ENGINE },
    // as the CLI: the optimiser stays within a factor 1,000 beyond a factor-4 box (a conductance the data
    // push towards 0 or ∞ stops there instead of running off along its log)
    logLower: truthLog.map((t) => t - Math.log(4) - Math.log(1000)), logUpper: truthLog.map((t) => t + Math.log(4) + Math.log(1000)),
    onProgress: (p) => {
      if (p.fraction < 1 && performance.now() - last < 15_000) return;
      last = performance.now();
      log({ event: 'fit progress', ...p });
    },
  });
}

const report: Record<string, unknown> = {
  target: TARGET, truth,
  ...(nominalAtTruth ? { mismatch: { shiftMv: MISMATCH_MV, channels: MISMATCH_CHANNELS, nominalModelAtTruth: { class: nominalAtTruth.class[0], burstPeriodMs: nominalAtTruth.burstPeriodMs[0], dutyCycle: nominalAtTruth.dutyCycle[0] } } } : {}), dtMs: DT, durationMs: DURATION, burnInMs: BURN_IN, windowMs: WINDOW, iterations: ITERATIONS, engine: ENGINE };
const experiments: Record<string, unknown>[] = [];
for (const [e, factor] of (STARTS > 0 ? FACTORS : []).entries()) {
  const t0 = performance.now();
  const fit = await fitFrom(pointsWithin(factor, STARTS, 100 + e), V);
  const fitSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const activity = await freeActivity(checkOptions, fit.starts.map((s) => s.best));
  const checkSeconds = (performance.now() - t1) / 1000;
  const conductances = fit.starts.map((s) => largeWithin(s.best, 0.01));
  const rhythm = fit.starts.map((_, i) => matchesBursting(activity, i, truth, 0.02));
  const success = conductances.map((c, i) => c && rhythm[i]).filter(Boolean).length;
  // the baseline: as many random points of the same box, simulated freely and judged the same way
  const t2 = performance.now();
  const RANDOM = RANDOM_FLAG || fit.evaluations;
  const random = pointsWithin(factor, RANDOM, 900 + e);
  const randomActivity = await freeActivity(checkOptions, random);
  const randomSeconds = (performance.now() - t2) / 1000;
  const randomRhythm = random.map((_, i) => matchesBursting(randomActivity, i, truth, 0.02)).filter(Boolean).length;
  const randomBoth = random.filter((x, i) => largeWithin(x, 0.01) && matchesBursting(randomActivity, i, truth, 0.02)).length;
  const maxError = (s: { best: Float64Array }) => Math.max(...LARGE.map((p) => Math.abs(Math.exp(s.best[NAMES.indexOf(p)]) / TARGET[p] - 1)));
  const errors = fit.starts.map(maxError).sort((a, b) => a - b);
  const evaluationsPerStart = fit.starts.map((s) => s.evaluations).sort((a, b) => a - b);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bestStart = fit.starts.reduce((a, b) => (a.bestCost <= b.bestCost ? a : b));
  const classes = activity.class.reduce((m, c) => ({ ...m, [c]: (m[c] ?? 0) + 1 }), {} as Record<string, number>);
  const result = {
    factor, starts: STARTS, engine: fit.engine, device: fit.device,
    teacherForcing: {
      success, fraction: success / STARTS, conductancesWithin1Percent: conductances.filter(Boolean).length, rhythmWithin2Percent: rhythm.filter(Boolean).length,
      evaluations: fit.evaluations, evaluationsPerStart: { median: evaluationsPerStart[Math.floor(STARTS / 2)], max: evaluationsPerStart[STARTS - 1] },
      successPerEvaluation: success / fit.evaluations,
      largestLargeConductanceError: { median: errors[Math.floor(STARTS / 2)], p95: errors[Math.floor(0.95 * (STARTS - 1))], max: errors[STARTS - 1] },
      stopped: fit.starts.reduce((m, s) => ({ ...m, [s.stopped]: (m[s.stopped] ?? 0) + 1 }), {} as Record<string, number>),
      // signed relative errors: the median over starts, and the lowest-cost start's with its cost
      medianRelativeError: Object.fromEntries(NAMES.map((p, d) => [p, median(fit.starts.map((s) => Math.exp(s.best[d]) / TARGET[p] - 1))])),
      spreadOfLogs: Math.max(...NAMES.map((_, d) => Math.max(...fit.starts.map((s) => s.best[d])) - Math.min(...fit.starts.map((s) => s.best[d])))),
      lowestCost: { cost: bestStart.bestCost, relativeError: Object.fromEntries(NAMES.map((p, d) => [p, Math.exp(bestStart.best[d]) / TARGET[p] - 1])), flagged: NAMES.filter((_, d) => !bestStart.identified[d]) },
      freeClasses: classes,
      medianPeriodMs: median(activity.burstPeriodMs.filter((x): x is number => x !== null)), medianDutyCycle: median(activity.dutyCycle.filter((x): x is number => x !== null)),
      wallSeconds: { fit: fitSeconds, freeCheck: checkSeconds },
    },
    randomSearch: {
      evaluations: RANDOM, rhythmWithin2Percent: randomRhythm, conductancesAndRhythm: randomBoth,
      successPerEvaluation: randomRhythm / RANDOM, wallSeconds: randomSeconds,
    },
    // random search's rate counts the looser test (rhythm only); with 0 hits its rate is below 1/RANDOM
    successPerEvaluationRatio: (success / fit.evaluations) / Math.max(randomRhythm, 1) * RANDOM,
    successPerEvaluationRatioIsLowerBound: randomRhythm === 0,
  };
  const simulation = SIMULATION_BASELINE ? await simulationBaseline(factor, 300 + e) : undefined;
  log({ event: 'experiment', ...result, ...(simulation ? { simulationCost: simulation } : {}) });
  experiments.push({ ...result, ...(simulation ? { simulationCost: simulation } : {}) });
}
report.noiseFree = experiments;

/**
 * The simulation-cost fit of examples/fit-abpd.yaml (features of [Ca] and V from a free run) from
 * STARTS starts of the same box, screen 16 then Levenberg–Marquardt, judged by the teacher-forcing
 * fits' test: six large conductances within 1 % and the free re-simulation's rhythm within 2 %.
 */
async function simulationBaseline(factor: number, seed: number) {
  const raw = parse(await readFile(join(import.meta.dirname!, '..', 'examples', 'fit-abpd.yaml'), 'utf8')) as Record<string, unknown>;
  Object.assign(raw, {
    starts: STARTS, screen: 16, optimizer: 'levenberg-marquardt', iterations: 40, stopping: { patience: 8, minImprovement: 1e-3, costBelow: 0 },
    engine: ENGINE, randomSearch: false, seed, parameters: Object.fromEntries(NAMES.map((p) => [p, [TARGET[p] / factor, TARGET[p] * factor]])),
  });
  let last = 0;
  const fit = await runFit(raw as never, {
    onProgress: (p) => {
      if (p.fraction < 1 && performance.now() - last < 15_000) return;
      last = performance.now();
      log({ event: 'simulation-cost fit progress', ...p });
    },
  });
  const coords = fit.problem.coords;
  // each start's best point as log-conductances in NAMES order
  const points = fit.starts.map((s) => Float64Array.from(NAMES, (p) => {
    const d = coords.findIndex((c) => c.param === p);
    return coords[d].log ? s.best[d] : Math.log(s.best[d]);
  }));
  const activity = await freeActivity(checkOptions, points);
  const rhythm = points.map((_, i) => matchesBursting(activity, i, truth, 0.02));
  const success = points.filter((x, i) => largeWithin(x, 0.01) && rhythm[i]).length;
  return {
    success, rhythmWithin2Percent: rhythm.filter(Boolean).length, conductancesWithin1Percent: points.filter((x) => largeWithin(x, 0.01)).length,
    evaluations: fit.evaluations, screenEvaluations: fit.screenEvaluations, successPerEvaluation: success / fit.evaluations,
    wallSeconds: { screen: fit.wallMs.screen / 1000, fit: fit.wallMs.fit / 1000 },
  };
}

if (NOISE > 0) {
  const realisations: Record<string, unknown>[] = [];
  for (let r = 0; r < REALISATIONS; r++) {
    const u = uniforms(5000 + r);
    const noisy = Float64Array.from(V, (v) => v + NOISE * gaussian(u));
    const fit = await fitFrom(pointsWithin(2, NOISE_STARTS, 7000 + r), noisy, UNCOMPENSATED ? 0 : NOISE);
    const ok = fit.starts.filter((s) => Number.isFinite(s.bestCost));
    const best = ok.reduce((a, b) => (a.bestCost <= b.bestCost ? a : b));
    const spread = Math.max(...NAMES.map((_, d) => Math.max(...ok.map((s) => s.best[d])) - Math.min(...ok.map((s) => s.best[d]))));
    const activity = await freeActivity(checkOptions, [best.best]);
    const errors = Object.fromEntries(NAMES.map((p, d) => [p, Math.exp(best.best[d]) / TARGET[p] - 1]));
    const row = {
      realisation: r, evaluationsPerStart: fit.evaluations / NOISE_STARTS, fitSeconds: fit.wallMs / 1000, spreadOfLogs: spread, errors, largeWithin6Percent: largeWithin(best.best, 0.06),
      stdLog: Object.fromEntries(NAMES.map((p, d) => [p, best.stdLog[d]])),
      flagged: NAMES.filter((_, d) => !best.identified[d]),
      rhythmWithin2Percent: matchesBursting(activity, 0, truth, 0.02), burstPeriodMs: activity.burstPeriodMs[0], dutyCycle: activity.dutyCycle[0],
    };
    log({ event: 'noise realisation', ...row });
    realisations.push(row);
  }
  report.noise = {
    noiseMv: NOISE, compensated: !UNCOMPENSATED, realisations: realisations.length, startsPerRealisation: NOISE_STARTS,
    allStartsAgree: realisations.filter((r) => (r.spreadOfLogs as number) < 1e-3).length,
    largeWithin6Percent: realisations.filter((r) => r.largeWithin6Percent).length,
    gHAndGLeakFlagged: realisations.filter((r) => (r.flagged as string[]).includes('gH') && (r.flagged as string[]).includes('gLeak')).length,
    rhythmWithin2Percent: realisations.filter((r) => r.rhythmWithin2Percent).length,
    rows: realisations,
  };
}
console.log(JSON.stringify(report, null, 2));
