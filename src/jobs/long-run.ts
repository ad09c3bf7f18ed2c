/**
 * Long runs (hours of biological time per instance) in bounded memory. The run is cut into intervals;
 * each interval is one ensemble run of the engine (which splits it into dispatches and readback blocks
 * as it splits any run), started from the state the previous interval ended in. What comes back per
 * interval is decimated: the time average of chosen observed quantities over the interval, the values
 * of chosen states at its end, and (with maxima) each instance's activity class over the interval. It
 * goes to a callback as it is made, so memory does not grow with the duration.
 *
 * The state is carried over by a model transform: every carried state's initial value becomes a
 * per-instance parameter (`carried_<state>`), and every state is observed, so the single trace sample
 * at an interval's end is the state the next interval starts from. On the f64 CPU engine this makes a
 * cut run the same trajectory as an uncut one to the last bit; on the f32 GPU engine the kernel's
 * Kahan compensations restart at zero at each cut (an f32-rounding-sized difference).
 *
 * A run may change its model at given times (phases: e.g. a channel knocked out at T); states are
 * carried by name, and a state the new model adds starts at its own cold value. Time restarts at 0
 * in every interval, so models whose equations read time (step stimuli) are refused.
 */
import { compile } from '../compile/compile.ts';
import type { Method } from '../compile/program.ts';
import type { StepProgram } from '../compile/program.ts';
import type { EnsembleResult } from '../engine/ensemble.ts';
import { runEnsemble, type EngineChoice, type RunOptions } from '../engine/run.ts';
import { classifyActivity } from '../analysis/classify.ts';
import { DIVERGED_CLASS } from '../analysis/features.ts';
import { InputError } from '../errors.ts';
import * as E from '../model/expr.ts';
import type { InitKind, Model } from '../model/model.ts';
import { withObserved } from '../model/observe.ts';

/** One stretch of a long run with one model. */
export interface LongRunPhase {
  model: Model;
  /** the phase ends here (ms from the run's start); the last phase's end is the run's duration */
  untilMs: number;
  /** values of parameters held for every instance in this phase (override table columns of the same name) */
  fixed?: Record<string, number>;
}

export interface LongRunSpec extends Pick<RunOptions, 'threads' | 'gpu' | 'gpuMath'> {
  phases: LongRunPhase[];
  /** number of instances */
  N: number;
  /** per-instance parameter columns (length N each); a phase uses the columns its model has */
  params?: Record<string, ArrayLike<number>>;
  dtMs: number;
  method?: Method;
  /** initial condition of the first phase (its model's default when absent) */
  init?: InitKind;
  /** length of one interval (ms): outputs come once per interval; phase ends must be multiples of it */
  intervalMs: number;
  /** observed quantities whose interval means are reported (names of the first phase's model) */
  means: string[];
  /** states whose values at each interval's end are reported */
  ends: string[];
  /** voltage maxima kept per instance and interval, to classify each interval's activity (0: no classes) */
  maximaCapacity?: number;
  engine?: EngineChoice;
  /** called with each interval's outputs, in order; awaited before the next interval starts */
  onInterval: (interval: IntervalOutput) => void | Promise<void>;
  /** fraction of the run done (0..1) */
  onProgress?: (fraction: number) => void;
}

export interface IntervalOutput {
  index: number;
  startMs: number;
  endMs: number;
  /** the phase this interval ran in (index into spec.phases) */
  phase: number;
  /** per name in spec.means: the mean over the interval per instance; NaN where diverged or absent in this phase */
  means: Record<string, Float64Array>;
  /** per name in spec.ends: the value at the interval's end per instance; NaN where diverged or absent in this phase */
  ends: Record<string, Float64Array>;
  /** with maxima: each instance's activity class over this interval, or 'diverged' */
  classes?: string[];
  /** per instance: when it diverged (ms from the run's start), NaN while it has not */
  divergedAtMs: Float64Array;
  engine: 'cpu' | 'gpu';
  device: string;
  wallMs: number;
}

const carriedName = (state: string) => `carried_${state.replace(/\./g, '_')}`;

/** Whether an expression reads time anywhere (such a model cannot be cut into intervals). */
function readsTime(root: E.Expr): boolean {
  const seen = new Set<E.Expr>();
  const stack = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (seen.has(e)) continue;
    seen.add(e);
    if (e.op === 'time') return true;
    stack.push(...e.args);
  }
  return false;
}

/**
 * A phase's model prepared for cutting: every state observed (reusing an observed quantity that is
 * already exactly the state), and (`carried`) the initial value of each carried state a parameter.
 */
function prepare(model: Model, carried: ReadonlySet<string> | null): { model: Model; probeOf: Map<string, string> } {
  const probeOf = new Map<string, string>();
  for (const o of model.observed) if (o.expr.op === 'state' && !probeOf.has(o.expr.name)) probeOf.set(o.expr.name, o.name);
  const extra = model.states.filter((s) => !probeOf.has(s.name)).map((s) => {
    const name = `probe_${s.name.replace(/\./g, '_')}`;
    probeOf.set(s.name, name);
    return { name, expr: E.state(s.name), unit: s.unit };
  });
  let out = extra.length ? withObserved(model, extra) : model;
  if (carried) {
    const params = { ...out.params };
    for (const s of out.states) {
      if (!carried.has(s.name)) continue;
      const p = carriedName(s.name);
      if (Object.hasOwn(params, p)) throw new InputError(`long run: model ${model.name} already has a parameter ${p}`);
      params[p] = { value: 0, unit: s.unit, description: `initial ${s.name}, carried over from the previous interval` };
    }
    out = { ...out, params, states: out.states.map((s) => (carried.has(s.name) ? { ...s, init: { cold: E.param(carriedName(s.name)), steady: E.param(carriedName(s.name)) } } : s)) };
  }
  return { model: out, probeOf };
}

function checkSpec(spec: LongRunSpec): void {
  const { intervalMs, dtMs, phases } = spec;
  if (!Number.isInteger(spec.N) || spec.N < 1) throw new InputError(`long run: N must be an integer ≥ 1, got ${spec.N}`);
  if (!(Number.isFinite(dtMs) && dtMs > 0)) throw new InputError(`long run: dtMs must be a finite number > 0 (ms), got ${dtMs}`);
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new InputError(`long run: intervalMs must be a finite number > 0 (ms), got ${intervalMs}`);
  if (!phases.length) throw new InputError('long run: phases: give at least one phase');
  let previous = 0;
  phases.forEach((p, k) => {
    const intervals = p.untilMs / intervalMs;
    if (!(p.untilMs > previous) || Math.abs(intervals - Math.round(intervals)) > 1e-9 * Math.max(1, intervals)) {
      throw new InputError(`long run: phases[${k}].untilMs must be a multiple of intervalMs (${intervalMs} ms) after ${previous} ms, got ${p.untilMs}`);
    }
    previous = p.untilMs;
    for (const s of p.model.states) if (readsTime(s.ode.rhs) || readsTime(s.ode.rate)) throw new InputError(`long run: model ${p.model.name} reads time (a step stimulus?): time restarts in every interval, so use a constant current`);
  });
  const first = phases[0].model;
  for (const name of spec.means) if (!first.observed.some((o) => o.name === name)) throw new InputError(`long run: means: '${name}' is not observed by model ${first.name}; observed: ${first.observed.map((o) => o.name).join(', ')}`);
  for (const name of spec.ends) if (!first.states.some((s) => s.name === name)) throw new InputError(`long run: ends: '${name}' is not a state of model ${first.name}`);
}

/** Runs a long run interval by interval (see the module comment); resolves when the last interval is reported. */
export async function runLong(spec: LongRunSpec): Promise<{ intervals: number; engine: string; device: string; wallMs: number }> {
  checkSpec(spec);
  const started = performance.now();
  const { N, dtMs, intervalMs } = spec;
  const table = spec.params ?? {};
  for (const [name, column] of Object.entries(table)) if (column.length !== N) throw new InputError(`long run: params.${name} has ${column.length} values, expected N = ${N}`);
  const totalMs = spec.phases[spec.phases.length - 1].untilMs;
  const totalIntervals = Math.round(totalMs / intervalMs);
  const divergedAtMs = new Float64Array(N).fill(NaN);
  let carried: Map<string, Float64Array> | null = null;
  let engine: 'cpu' | 'gpu' = 'cpu', device = '';
  let index = 0;
  let phaseStartMs = 0;

  for (let p = 0; p < spec.phases.length; p++) {
    const phase = spec.phases[p];
    const fixed = phase.fixed ?? {};
    const columns = (model: Model) => Object.keys(table).filter((name) => Object.hasOwn(model.params, name) && !Object.hasOwn(fixed, name));
    // two programs per phase at most: the first interval of the run starts from the model's own initial state
    const compiled = new Map<string, { program: StepProgram; probeOf: Map<string, string>; carriedStates: string[] }>();
    const programFor = (carry: ReadonlySet<string> | null) => {
      const key = carry ? 'carried' : 'initial';
      let entry = compiled.get(key);
      if (!entry) {
        const prepared = prepare(phase.model, carry);
        const tableColumns = columns(prepared.model);
        const carriedStates = carry ? prepared.model.states.filter((s) => carry.has(s.name)).map((s) => s.name) : [];
        const program = compile(prepared.model, {
          method: spec.method, dtMs, init: carry ? 'cold' : spec.init, values: fixed,
          instanceParams: [...tableColumns, ...carriedStates.map(carriedName)],
        });
        entry = { program, probeOf: prepared.probeOf, carriedStates };
        compiled.set(key, entry);
      }
      return entry;
    };
    const phaseIntervals = Math.round((phase.untilMs - phaseStartMs) / intervalMs);
    for (let k = 0; k < phaseIntervals; k++, index++) {
      const carry = carried ? new Set([...carried.keys()].filter((s) => phase.model.states.some((x) => x.name === s))) : null;
      const { program, probeOf, carriedStates } = programFor(carry);
      const params: Record<string, ArrayLike<number>> = {};
      for (const name of columns(phase.model)) params[name] = table[name];
      for (const s of carriedStates) params[carriedName(s)] = carried!.get(s)!;
      const run = await runEnsemble({
        program, N, params, durationMs: intervalMs, spikeCapacity: 1,
        maximaCapacity: spec.maximaCapacity ?? 0,
        traceEveryMs: intervalMs, traceInstances: Array.from({ length: N }, (_, i) => i),
        onProgress: spec.onProgress && ((f) => spec.onProgress!((index + f) / totalIntervals)),
      }, { engine: spec.engine, threads: spec.threads, gpu: spec.gpu, gpuMath: spec.gpuMath });
      const r = run.result;
      engine = r.engine;
      device = r.device;
      const startMs = index * intervalMs, endMs = startMs + intervalMs;
      for (let i = 0; i < N; i++) if (r.divergence.state[i] >= 0 && Number.isNaN(divergedAtMs[i])) divergedAtMs[i] = startMs + r.divergence.timeMs[i];
      const dead = (i: number) => !Number.isNaN(divergedAtMs[i]);

      // the state at the interval's end (the trace's one sample), by state name
      const next = new Map<string, Float64Array>();
      for (const s of phase.model.states) {
        const series = r.traces!.values;
        const w = r.traces!.width, col = r.observed.findIndex((o) => o.name === probeOf.get(s.name));
        const values = new Float64Array(N);
        // a diverged instance restarts from zeros, kept out of every output (its values would be NaN)
        for (let i = 0; i < N; i++) values[i] = dead(i) ? 0 : series[i * w + col];
        next.set(s.name, values);
      }
      carried = next;

      const means: Record<string, Float64Array> = {};
      for (const name of spec.means) {
        const o = r.observed.find((x) => x.name === name);
        means[name] = Float64Array.from({ length: N }, (_, i) => (o && !dead(i) ? o.mean[i] : NaN));
      }
      const ends: Record<string, Float64Array> = {};
      for (const name of spec.ends) {
        const v = next.get(name);
        ends[name] = Float64Array.from({ length: N }, (_, i) => (v && !dead(i) ? v[i] : NaN));
      }
      await spec.onInterval({
        index, startMs, endMs, phase: p, means, ends,
        ...(spec.maximaCapacity ? { classes: classesOf(r, dead, intervalMs) } : {}),
        divergedAtMs: divergedAtMs.slice(), engine, device, wallMs: r.wallMs,
      });
    }
    phaseStartMs = phase.untilMs;
  }
  return { intervals: totalIntervals, engine, device, wallMs: performance.now() - started };
}

/** Each instance's activity class over one interval (docs/models.md §8), 'diverged' where it has. */
function classesOf(r: EnsembleResult, dead: (i: number) => boolean, intervalMs: number): string[] {
  const maxima = r.maxima![0];
  return Array.from({ length: r.N }, (_, i) => {
    if (dead(i)) return DIVERGED_CLASS;
    const { timesMs, valuesMv } = maxima.of(i);
    return classifyActivity({
      maximaTimesMs: timesMs, maximaValuesMv: valuesMv, windowStartMs: 0, windowEndMs: intervalMs,
      totalMaxima: maxima.count[i], totalSpikes: maxima.spikeCount[i],
    }).class;
  });
}
