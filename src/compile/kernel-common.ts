/**
 * What every emitter shares: the names of the kernel's local variables, the spelling of leaves,
 * the scheduling of a step program, integer powers, and the f32 series threshold of exprel.
 */
import type { Expr } from '../model/expr.ts';
import type { StepProgram } from './program.ts';
import { schedule, type Temp } from './schedule.ts';

/** Below this |x| the f32 backends use the series (truncation < 1e-9; the closed form would lose ~log10(1/|x|) of 7 digits). */
export const F32_SERIES_BELOW = 0.5;

/** x^n as a left-to-right product (both backends multiply in the same order). */
export function powiText(x: string, n: number, round: (s: string) => string): string {
  let acc = x;
  for (let k = 1; k < n; k++) acc = round(`${acc} * ${x}`);
  return `(${acc})`;
}

/** Names of the kernel's local variables. */
export const vars = {
  param: (q: number) => `p${q}`,
  state: (k: number) => `s${k}`,
  tangent: (j: number, k: number) => `d${j}_${k}`,
  next: (k: number) => `n${k}`,
  nextTangent: (j: number, k: number) => `nd${j}_${k}`,
};

/** Leaf spelling shared by the emitters: leaves map to the kernel's local variables. */
export function leafNamer(program: StepProgram, timeName: string): (node: Expr) => string {
  const stateIndex = new Map(program.states.map((s, k) => [s.name, k]));
  const laneIndex = new Map(program.lanes.map((l, j) => [l.key, j]));
  const paramIndex = new Map(program.instanceParams.map((p, q) => [p, q]));
  return (node) => {
    switch (node.op) {
      case 'param': {
        const q = paramIndex.get(node.name);
        if (q === undefined) throw new Error(`parameter ${node.name} is neither folded nor per instance`);
        return vars.param(q);
      }
      case 'state': return vars.state(stateIndex.get(node.name)!);
      case 'tangent': return vars.tangent(laneIndex.get(node.lane)!, stateIndex.get(node.name)!);
      case 'time': return timeName;
      default: throw new Error(`unexpected leaf ${node.op} '${node.name}'`);
    }
  };
}

/** The expressions one step computes, scheduled: next states and tangents, then observables and spike levels. */
export function scheduleStep(program: StepProgram) {
  const nextRoots = [...program.next.increment, ...program.next.tangentIncrement.flat()];
  const step = schedule(nextRoots, '');
  const observedRoots = [...program.observed.map((o) => o.expr), ...program.observed.flatMap((o) => o.tangent), ...program.spikeSources.map((s) => s.expr)];
  const observed = schedule(observedRoots, 'o', false);
  const initRoots = [...program.initial.state, ...program.initial.tangent.flat()];
  const init = schedule(initRoots, 'i', false);
  return { step, observed, init };
}


/** One line per temporary: `<keyword> name = body;`. */
export function declareTemps(temps: readonly Temp[], body: (e: Expr) => string, indent: string, keyword: string): string {
  return temps.map((t) => `${indent}${keyword} ${t.name} = ${body(t.expr)};`).join('\n');
}
