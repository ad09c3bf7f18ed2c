/**
 * The traces of a fit's best starts beside the target's, for the fit figure: one run of the f64 CPU
 * engine (no tangents) with the target (when the spec gives target parameters) and the k best
 * fits as instances, tracing V and, for a model with a calcium pool, [Ca] after the discard.
 */
import { compile } from '../../compile/compile.ts';
import { runCpu } from '../../engine/cpu.ts';
import { paramValue } from '../cost/problem.ts';
import type { FitResult } from './run.ts';

export interface TracedRun {
  /** 'target', or 'start N (cost C)' */
  label: string;
  cost?: number;
  series: Record<string, Float64Array>;
}

export interface BestTraces {
  timesMs: Float64Array;
  /** observed name → unit (V → mV, Ca → µM) */
  units: Record<string, string>;
  runs: TracedRun[];
}

/**
 * Simulates the target and the `count` best finite starts (default 3) with traces every
 * `traceEveryMs` (default: the spec's, else a 2,000th of the window).
 */
export async function bestFitTraces(r: FitResult, count = 3, traceEveryMs?: number): Promise<BestTraces> {
  const { setup, coords } = r.problem;
  const best = r.starts.filter((s) => Number.isFinite(s.bestCost)).sort((a, b) => a.bestCost - b.bestCost).slice(0, count);
  const target = setup.target;
  const names = [...new Set([...coords.map((c) => c.param), ...Object.keys(target ?? {})])];
  const base = (name: string) => setup.values[name] ?? setup.model.params[name].value;
  const rows: { label: string; cost?: number; values: Record<string, number> }[] = [];
  if (target) rows.push({ label: 'target', values: Object.fromEntries(names.map((n) => [n, target[n] ?? base(n)])) });
  for (const s of best) {
    const values = Object.fromEntries(names.map((n) => [n, base(n)]));
    coords.forEach((c, d) => (values[c.param] = paramValue(c, s.best[d])));
    rows.push({ label: `start ${s.start} (cost ${Number(s.bestCost.toPrecision(3))})`, cost: s.bestCost, values });
  }
  const fixed = Object.fromEntries(Object.entries(setup.values).filter(([n]) => !names.includes(n)));
  const program = compile(setup.model, { dtMs: setup.dtMs, method: setup.method, init: setup.init, values: fixed, instanceParams: names });
  // a whole number of steps: the engines refuse a trace interval off the step grid
  const every = traceEveryMs ?? setup.traceEveryMs ?? setup.dtMs * Math.max(1, Math.round((setup.durationMs - setup.discardMs) / 2000 / setup.dtMs));
  const result = await runCpu({
    program, N: rows.length, durationMs: setup.durationMs, discardMs: setup.discardMs, traceEveryMs: every,
    params: Object.fromEntries(names.map((n) => [n, Float64Array.from(rows, (row) => row.values[n])])),
    traceInstances: rows.map((_, i) => i),
  });
  const observed = result.observed.filter((o) => o.name === 'V' || o.name === 'Ca');
  const traces = result.traces!;
  return {
    timesMs: traces.timesMs,
    units: Object.fromEntries(observed.map((o) => [o.name, o.unit])),
    runs: rows.map((row, i) => ({ label: row.label, cost: row.cost, series: Object.fromEntries(observed.map((o) => [o.name, traces.series(i, o.name)])) })),
  };
}
