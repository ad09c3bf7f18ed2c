/**
 * The "isolated" start of a network, as Prinz, Bucher & Marder (2004) assembled their networks: each
 * cell first runs alone for a while from its cold start, then the cells are connected, every synaptic
 * gate at 0. A network with every synapse strength at 0 is exactly its cells run alone (network.ts), so
 * the first phase is the network itself with its strengths (the `nS` parameters) set to 0, on the f64
 * CPU engine; its final state becomes the cold start of the run.
 */
import { compile } from '../compile/compile.ts';
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
 * Refuses a step for the cells' runs alone (isolatedDtMs) without an isolated start, or coarser than
 * the run's own step (it would only add error). `field` names it in the message.
 */
export function checkIsolatedDt(field: string, isolatedDtMs: number | undefined, init: string | undefined, dtMs: number): void {
  if (isolatedDtMs === undefined) return;
  if (isolatedMs(init) === undefined) throw new InputError(`${field}: the step of the cells' runs alone is for init isolated:MS, got init ${init ?? 'unset'}`);
  if (isolatedDtMs > dtMs) throw new InputError(`${field} must be ≤ dtMs (${dtMs} ms), got ${isolatedDtMs}`);
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
