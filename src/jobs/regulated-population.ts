/**
 * Regulated populations over long runs (O'Leary, Williams, Franci & Marder 2014): N cells, each with
 * its own initial conductances and regulation constants (per-instance columns of a table, as for any
 * parameter), regulated for hours of biological time in bounded memory (long-run.ts). Per interval:
 * each regulated conductance at the interval's end, the mean [Ca] over the interval and the activity
 * class; at the end, each cell's final conductances, class and whether its mean [Ca] reached the
 * target. Knock-outs remove a channel at a time T (its conductance 0 from then on, no longer
 * regulated); the other regulated conductances keep following the calcium error and compensate.
 */
import { resolveModel } from '../channels/index.ts';
import type { Method } from '../compile/program.ts';
import { InputError } from '../errors.ts';
import type { ModelDefinition } from '../model/model-file.ts';
import type { InitKind, Model } from '../model/model.ts';
import { regulate, type RegulationSpec } from '../model/regulation.ts';
import { checkMemory } from '../limits.ts';
import { runLong, type IntervalOutput, type LongRunPhase, type LongRunSpec } from './long-run.ts';

export interface Knockout {
  /** the conductance parameter removed (e.g. gCaS) */
  conductance: string;
  /** when (ms from the start; a multiple of intervalMs) */
  atMs: number;
}

export interface RegulatedPopulationSpec extends Pick<LongRunSpec, 'threads' | 'gpu' | 'gpuMath' | 'engine' | 'onProgress'> {
  /** the unregulated model: a library name, a model definition or a built Model */
  model: string | ModelDefinition | Model;
  regulation: RegulationSpec;
  N: number;
  /**
   * per-instance columns (length N): initial conductances (gCaS, ...), regulation constants
   * (regTauCaSMs, regM0CaS, regCaTargetUM, regTauGMs) or any other parameter
   */
  params?: Record<string, ArrayLike<number>>;
  /** parameters held for every cell */
  fixed?: Record<string, number>;
  durationMs: number;
  dtMs?: number;
  method?: Method;
  init?: InitKind;
  /** trajectory spacing (ms): one sample of every conductance and one mean [Ca] per interval */
  intervalMs: number;
  knockouts?: Knockout[];
  /** voltage maxima kept per cell and interval for its class (default 1024) */
  maximaCapacity?: number;
  /** a cell reached the target when its last interval's mean [Ca] is within this fraction of it (default 0.1) */
  targetTolerance?: number;
  /** keep the trajectories in memory (default true); false: only the final values (stream them with onInterval) */
  keepTrajectories?: boolean;
  onInterval?: (interval: IntervalOutput) => void | Promise<void>;
}

export interface RegulatedPopulationResult {
  N: number;
  /** the regulated conductances (parameter names), in tauMs's order */
  conductances: string[];
  /** ends of the intervals (ms) */
  timesMs: Float64Array;
  /** with keepTrajectories: per conductance [interval][cell] (mS/cm²); 0 after its knock-out */
  g?: Record<string, Float32Array>;
  /** with keepTrajectories: mean [Ca] over each interval, [interval][cell] (µM) */
  meanCaUM?: Float32Array;
  /** with keepTrajectories: activity class per interval, [interval][cell] */
  classes?: string[][];
  /** each cell's regulated conductances at the end (mS/cm²), NaN where diverged */
  finalG: Record<string, Float64Array>;
  /** each cell's mean [Ca] over the last interval (µM) */
  finalMeanCaUM: Float64Array;
  /** each cell's activity class over the last interval, or 'diverged' */
  finalClass: string[];
  /** each cell's target [Ca] (µM; per cell when regCaTargetUM is a column) */
  targetUM: Float64Array;
  /** per cell: its last mean [Ca] within targetTolerance of its target (false where diverged) */
  reachedTarget: boolean[];
  divergedAtMs: Float64Array;
  engine: string;
  device: string;
  wallMs: number;
}

const tagOf = (g: string) => g.replace(/^g/, '').replace(/\./g, '_');

/** Runs a regulated population (see the module comment). */
export async function runRegulatedPopulation(spec: RegulatedPopulationSpec): Promise<RegulatedPopulationResult> {
  const base = resolveModel(spec.model);
  const { N, intervalMs, durationMs } = spec;
  const conductances = Object.keys(spec.regulation.tauMs);
  const calcium = spec.regulation.calcium ?? 'Ca';
  const tolerance = spec.targetTolerance ?? 0.1;
  if (!(tolerance > 0)) throw new InputError(`targetTolerance must be a number > 0, got ${tolerance}`);
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new InputError(`intervalMs must be a finite number > 0 (ms), got ${intervalMs}`);
  const multiple = (ms: number) => Number.isFinite(ms) && ms > 0 && Math.abs(ms / intervalMs - Math.round(ms / intervalMs)) <= 1e-9 * (ms / intervalMs);
  if (!multiple(durationMs)) throw new InputError(`durationMs must be a positive multiple of intervalMs (${intervalMs} ms), got ${durationMs}`);
  (spec.knockouts ?? []).forEach((ko, k) => {
    if (!multiple(ko.atMs)) throw new InputError(`knockouts[${k}].atMs must be a positive multiple of intervalMs (${intervalMs} ms), got ${ko.atMs}`);
  });

  // phases: the regulated model until the first knock-out, then without each knocked channel
  const knockouts = [...(spec.knockouts ?? [])].sort((a, b) => a.atMs - b.atMs);
  const removed: string[] = [];
  const phases: LongRunPhase[] = [];
  let regulation = spec.regulation;
  const fixed = { ...spec.fixed };
  const push = (untilMs: number) => phases.push({ model: regulate(base, regulation), untilMs, fixed: { ...fixed } });
  for (const [k, ko] of knockouts.entries()) {
    if (!Object.hasOwn(base.params, ko.conductance)) throw new InputError(`knockouts[${k}].conductance: '${ko.conductance}' is not a parameter of model ${base.name}`);
    if (removed.includes(ko.conductance)) throw new InputError(`knockouts[${k}]: ${ko.conductance} is knocked out twice`);
    if (!(ko.atMs > 0 && ko.atMs < durationMs)) throw new InputError(`knockouts[${k}].atMs must be in (0, durationMs = ${durationMs}) ms, got ${ko.atMs}`);
    if (phases.length && phases[phases.length - 1].untilMs === ko.atMs) throw new InputError(`knockouts[${k}]: two knock-outs at ${ko.atMs} ms; give them at different times`);
    push(ko.atMs);
    removed.push(ko.conductance);
    const tauMs = Object.fromEntries(Object.entries(regulation.tauMs).filter(([g]) => g !== ko.conductance));
    if (!Object.keys(tauMs).length) throw new InputError(`knockouts[${k}]: removing ${ko.conductance} leaves no regulated conductance`);
    const m0 = regulation.m0 && Object.fromEntries(Object.entries(regulation.m0).filter(([g]) => g !== ko.conductance));
    regulation = { ...regulation, tauMs, ...(m0 ? { m0 } : {}) };
    fixed[ko.conductance] = 0;
  }
  push(durationMs);

  const intervals = Math.round(durationMs / intervalMs);
  const keep = spec.keepTrajectories ?? true;
  if (keep) checkMemory(`the trajectories of ${N} cells over ${intervals} intervals`, intervals * N * (4 * (conductances.length + 1) + 8), 'raise intervalMs, or set keepTrajectories: false and stream them with onInterval');
  const g: Record<string, Float32Array> = keep ? Object.fromEntries(conductances.map((c) => [c, new Float32Array(intervals * N)])) : {};
  const meanCaUM = keep ? new Float32Array(intervals * N) : undefined;
  const classes: string[][] = [];
  const timesMs = Float64Array.from({ length: intervals }, (_, k) => (k + 1) * intervalMs);
  let last: IntervalOutput | undefined;

  const first = phases[0].model;
  const caObserved = first.observed.find((o) => o.expr.op === 'state' && o.expr.name === calcium)?.name;
  if (!caObserved) throw new InputError(`regulation: model ${base.name} does not observe its calcium state '${calcium}'`);
  const states = conductances.map((c) => `reg.${tagOf(c)}.g`);
  const run = await runLong({
    phases, N, params: spec.params, dtMs: spec.dtMs ?? 0.05, method: spec.method, init: spec.init, intervalMs,
    means: [caObserved], ends: states, maximaCapacity: spec.maximaCapacity ?? 1024,
    engine: spec.engine, threads: spec.threads, gpu: spec.gpu, gpuMath: spec.gpuMath, onProgress: spec.onProgress,
    onInterval: async (out) => {
      // a knocked-out conductance is 0, not absent
      conductances.forEach((c, j) => {
        if (removed.includes(c) && phases[out.phase].fixed?.[c] === 0) out.ends[states[j]] = Float64Array.from(out.divergedAtMs, (d) => (Number.isNaN(d) ? 0 : NaN));
      });
      if (keep) {
        conductances.forEach((c, j) => g[c].set(out.ends[states[j]], out.index * N));
        meanCaUM!.set(out.means[caObserved], out.index * N);
        classes.push(out.classes!);
      }
      last = out;
      await spec.onInterval?.(out);
    },
  });

  const targetColumn = spec.params?.regCaTargetUM;
  const targetUM = Float64Array.from({ length: N }, (_, i) => (targetColumn ? targetColumn[i] : spec.fixed?.regCaTargetUM ?? spec.regulation.caTargetUM));
  const finalMeanCaUM = last!.means[caObserved];
  return {
    N, conductances, timesMs,
    ...(keep ? { g, meanCaUM, classes } : {}),
    finalG: Object.fromEntries(conductances.map((c, j) => [c, last!.ends[states[j]]])),
    finalMeanCaUM,
    finalClass: last!.classes!,
    targetUM,
    reachedTarget: Array.from({ length: N }, (_, i) => Math.abs(finalMeanCaUM[i] - targetUM[i]) <= tolerance * targetUM[i]),
    divergedAtMs: last!.divergedAtMs,
    engine: run.engine, device: run.device, wallMs: run.wallMs,
  };
}
