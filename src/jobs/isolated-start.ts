/**
 * The "isolated" start of a network, as Prinz, Bucher & Marder (2004) assembled their networks: each
 * cell first runs alone for a while from its cold start, then the cells are connected, every synaptic
 * gate at 0. A network with every synapse strength at 0 is exactly its cells run alone (network.ts), so
 * the first phase is the network itself with its strengths (the `nS` parameters) set to 0, on the f64
 * CPU engine; its final state becomes the cold start of the run.
 */
import { compile } from '../compile/compile.ts';
import { STEPS_MAX, stepsOf } from '../engine/plan.ts';
import { positive } from './schema.ts';
import { runEnsemble } from '../engine/run.ts';
import { InputError } from '../errors.ts';
import * as E from '../model/expr.ts';
import type { Method } from '../compile/program.ts';
import type { Model } from '../model/model.ts';
import { networkCells } from '../model/network.ts';
import { withObserved } from '../model/observe.ts';

/** Every initial condition a run may ask for: steady, cold, or (networks) isolated:MS. */
export const INIT_PATTERN = /^(steady|cold|isolated:\d+(\.\d+)?)$/;
export const INIT_CHOICES = 'steady, cold or isolated:MS (networks: each cell alone for MS ms first)';
const ISOLATED = /^isolated:(\d+(?:\.\d+)?)$/;

/**
 * The spec field isolatedDtMs (simulate and sweep specs): the step (ms) of the cells' runs alone;
 * default dtMs. The cells' phases when they are connected carry that run's error, and some networks
 * settle on another rhythm for another phase: a finer step (e.g. dtMs / 10; each cell's run alone
 * costs that many more steps) lands them where an accurate integration does (README, Network
 * database). Checked against init and dtMs by checkIsolatedStart.
 */
export const isolatedDtMsSchema = positive('ms').optional();

/**
 * Checks the cells' runs alone before a run starts, naming the spec's own fields (`name` turns a
 * field into what the user wrote, e.g. a flag; `prefix` leads every message): a step for them
 * (isolatedDtMs) needs an isolated start and may not be coarser than the run's (it would only add
 * error), and MS must be a whole number of those steps, within the step limit. Checked here, the
 * run plan of the cells alone would name the run's durationMs and dtMs instead.
 */
export function checkIsolatedStart(
  spec: { init?: string; dtMs: number; isolatedDtMs?: number },
  name: (field: 'init' | 'isolatedDtMs') => string = (field) => field,
  prefix = '',
): void {
  const ms = isolatedMs(spec.init);
  if (spec.isolatedDtMs !== undefined) {
    if (ms === undefined) throw new InputError(`${prefix}${name('isolatedDtMs')}: the step of the cells' runs alone is for ${name('init')} isolated:MS, got ${name('init')} ${spec.init ?? 'unset'}`);
    if (spec.isolatedDtMs > spec.dtMs) throw new InputError(`${prefix}${name('isolatedDtMs')} must be ≤ dtMs (${spec.dtMs} ms), got ${spec.isolatedDtMs}`);
  }
  if (ms === undefined) return;
  const stepMs = spec.isolatedDtMs ?? spec.dtMs;
  const what = `${prefix}${name('init')} isolated:${ms}`;
  if (ms / stepMs > STEPS_MAX) throw new InputError(`${what}: ${ms / stepMs} steps of ${stepMs} ms alone exceed the limit of 2^31 steps`);
  stepsOf(what, ms, stepMs);
}

/** `isolated:MS` → MS (ms), or undefined for any other init. */
export function isolatedMs(init: string | undefined): number | undefined {
  const m = init === undefined ? null : ISOLATED.exec(init);
  if (!m) return undefined;
  const ms = Number(m[1]);
  if (!(ms > 0)) throw new InputError(`init isolated:MS needs MS > 0 (ms), got '${init}'`);
  return ms;
}

/** A model whose states' cold start holds the given values (states not given keep theirs). */
export function withColdStart(model: Model, values: ReadonlyMap<string, number>): Model {
  return { ...model, states: model.states.map((s) => (values.has(s.name) ? { ...s, init: { ...s.init, cold: E.num(values.get(s.name)!) } } : s)) };
}

/**
 * The network with each cell's state after `ms` ms alone (from the cold start, with `values` applied)
 * as its cold start, synaptic gates at their cold value (0).
 */
export async function isolatedStart(model: Model, ms: number, options: { values: Record<string, number>; dtMs: number; method: Method }): Promise<Model> {
  const cells = networkCells(model);
  if (cells.length < 2) throw new InputError(`init isolated:MS is for networks (each cell runs alone first); model ${model.name} is a single cell: use --init cold or steady`);
  const strengths = Object.entries(model.params).filter(([, def]) => def.unit === 'nS').map(([name]) => name);
  const cellStates = model.states.filter((s) => cells.some((c) => s.name.startsWith(`${c}.`)));
  // every cell state observed under a plain name, so its last trace sample is the state at `ms`
  const probes = withObserved(model, cellStates.map((s, k) => ({ name: `isolatedState${k}`, expr: E.state(s.name), unit: '' })));
  const program = compile(probes, {
    method: options.method, dtMs: options.dtMs, init: 'cold',
    values: { ...options.values, ...Object.fromEntries(strengths.map((name) => [name, 0])) },
  });
  const run = await runEnsemble({ program, N: 1, durationMs: ms, traceEveryMs: ms, traceInstances: [0] }, { engine: 'cpu', singleInstance: true });
  const r = run.result;
  if (r.divergence.state[0] >= 0) throw new InputError(`init isolated:${ms}: a cell diverged while running alone (state ${r.divergence.stateNames[r.divergence.state[0]]} at ${r.divergence.timeMs[0]} ms): try a smaller dt`);
  const traces = r.traces!;
  const last = traces.timesMs.length - 1;
  const values = new Map(cellStates.map((s, k) => [s.name, traces.series(0, `isolatedState${k}`)[last]]));
  return withColdStart(model, values);
}
