/**
 * Fitting kinetics with the conductances (issue 16's non-goal, measured): AB/PD 1 recorded 4 s from
 * the cold start with the gates of Na, CaT, CaS, A, KCa and Kd shifted by +X mV along V (x∞ and τ),
 * fitted by teacher forcing with the 8 conductances and the shifts as parameters: one shift shared by
 * the six channels, or one per channel (`--per-channel`). A shift s enters the model as the parameter
 * s + 10 mV, fitted by its logarithm like a conductance, so the same fit (recording-fit.ts) runs it.
 * Starts: conductances log-uniform within a factor 2, shifts at 0. f64 CPU engine. Prints JSON.
 *
 *   deno run -A bench/fit-kinetics.ts [--shift-mv 1] [--per-channel] [--starts 4]
 */
import process from 'node:process';
import { prinzNeuron, stgChannels, stgGates, PRINZ_DEFAULT_CONDUCTANCES } from '../src/channels/prinz.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import { fitRecording } from '../src/jobs/fit/recording-fit.ts';
import { simulateRecording } from '../src/jobs/fit/record.ts';
import { freeActivity } from '../src/jobs/fit/free-check.ts';
import { matchesBursting } from '../src/jobs/fit/activity.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const SHIFT_MV = Number(flag('--shift-mv', '1')), PER_CHANNEL = args.includes('--per-channel'), STARTS = Number(flag('--starts', '4'));
const CHANNELS = ['Na', 'CaT', 'CaS', 'A', 'KCa', 'Kd'];
// shifts are fitted as log(s + OFFSET): positive while s > −10 mV
const OFFSET_MV = 10;
const TARGET: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0.01 };
const G = Object.keys(TARGET);
const DT = 0.05, DURATION = 4000;

/** The prinz cell with the six channels' gates read at V − shift(channel) (an expression in mV). */
function shiftedPrinz(shift: (channel: string) => string, params: Record<string, number>) {
  const gates = stgGates(1);
  const at = (e: unknown, channel: string) => String(e).replace(/\bV\b/g, `(V - ${shift(channel)})`);
  for (const c of CHANNELS) gates[c] = gates[c].map((g) => ({ ...g, inf: at(g.inf, c), tau: at(g.tau, c) }));
  return buildNeuron({ ...prinzNeuron, name: 'prinz_shifted', channels: stgChannels(gates, PRINZ_DEFAULT_CONDUCTANCES, 50), params: { ...prinzNeuron.params, ...params } });
}

const shiftNames = PER_CHANNEL ? CHANNELS.map((c) => `shift${c}`) : ['shift'];
const dataModel = shiftedPrinz(() => `${SHIFT_MV}`, {});
const fitModel = shiftedPrinz((c) => `(${PER_CHANNEL ? `shift${c}` : 'shift'} - ${OFFSET_MV})`, Object.fromEntries(shiftNames.map((s) => [s, OFFSET_MV])));
const V = await simulateRecording(dataModel, { dtMs: DT, values: TARGET, init: 'cold', durationMs: DURATION, observed: 'V' });
let seed = 3;
const u = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
const names = [...G, ...shiftNames];
const isShift = (p: string) => shiftNames.includes(p);
const starts = Array.from({ length: STARTS }, () => Float64Array.from(names, (p) => (isShift(p) ? Math.log(OFFSET_MV) : Math.log(TARGET[p]) + (2 * u() - 1) * Math.log(2))));
const fit = await fitRecording({
  model: fitModel, forcing: { V: 'V' }, recordings: { V: { values: V, intervalMs: DT } }, parameters: names, starts,
  dtMs: DT, init: 'cold', durationMs: DURATION, discardMs: 1000, windowMs: 1, iterations: 40, run: { engine: 'cpu' },
  // shifts within −9.5…+20 mV, conductances within 4,000× of the truth
  logLower: names.map((p) => (isShift(p) ? Math.log(0.5) : Math.log(TARGET[p] / 4000))), logUpper: names.map((p) => (isShift(p) ? Math.log(30) : Math.log(TARGET[p] * 4000))),
});
const check = { parameters: names, dtMs: DT, init: 'cold' as const, durationMs: 20_000, discardMs: 10_000, run: { engine: 'cpu' as const } };
const truth = await freeActivity({ ...check, model: dataModel, parameters: G }, [Float64Array.from(G, (p) => Math.log(TARGET[p]))]);
const activity = await freeActivity({ ...check, model: fitModel }, fit.starts.map((s) => s.best));
const rows = fit.starts.map((s, i) => ({
  stopped: s.stopped, evaluations: s.evaluations, cost: s.bestCost,
  conductanceErrors: Object.fromEntries(G.map((p, d) => [p, Math.exp(s.best[d]) / TARGET[p] - 1])),
  shiftsMv: Object.fromEntries(shiftNames.map((p, k) => [p, Math.exp(s.best[G.length + k]) - OFFSET_MV])),
  class: activity.class[i], burstPeriodMs: activity.burstPeriodMs[i],
  rhythmWithin2Percent: matchesBursting(activity, i, { burstPeriodMs: truth.burstPeriodMs[0]!, dutyCycle: truth.dutyCycle[0]! }, 0.02),
}));
const recovered = rows.filter((r) => Object.values(r.conductanceErrors).every((e) => Math.abs(e) < 1e-3) && Object.values(r.shiftsMv).every((v) => Math.abs(v - SHIFT_MV) < 1e-3)).length;
console.log(JSON.stringify({ shiftMv: SHIFT_MV, perChannel: PER_CHANNEL, starts: STARTS, recovered, truth: { burstPeriodMs: truth.burstPeriodMs[0], dutyCycle: truth.dutyCycle[0] }, rows }, null, 2));
