/**
 * The staged print order of a step (src/compile/step-order.ts): every temporary and exp batch is
 * defined before a line reads it, every increment is computed once, every state is added once, after
 * its own increment, and no line reads a state's leaf once that state has been added (the step stays
 * explicit: every increment sees the old states). Checked by an independent walk of the printed
 * lines' expressions on a cell (exponential Euler), HH with RK4 (exps that need other exps) and the
 * pyloric network, whose stages should be its cells.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { pyloric } from '../src/channels/pyloric.ts';
import { compile } from '../src/compile/compile.ts';
import { expBatches, EXP_BATCH_MAX_EXPS } from '../src/compile/exp-batches.ts';
import { scheduleStep, tempsByLane } from '../src/compile/kernel-common.ts';
import type { StepProgram } from '../src/compile/program.ts';
import { stagedStep } from '../src/compile/step-order.ts';
import { ZERO, topoOrder, type Expr } from '../src/model/expr.ts';

const programs: [string, StepProgram][] = [
  ['prinz, exponential Euler', compile(libraryModel('prinz'), { dtMs: 0.025, instanceParams: [...CONDUCTANCE_NAMES] })],
  ['HH, RK4', compile(libraryModel('hh'), { dtMs: 0.01, method: 'rk4', instanceParams: ['gNa', 'gK'] })],
  ['the pyloric network', compile(pyloric(), { dtMs: 0.025, skipUnreadStates: {} })],
];

const fnOf = (node: Expr) => (node.args[0].op === 'mul' ? 'exp2_' : 'exp_');

function staged(program: StepProgram, batchWidth: number) {
  const { step } = scheduleStep(program, 'smaller');
  const { shared } = tempsByLane(step.perStep, program.next.increment, []);
  const stateNames = program.states.map((s) => s.name);
  const adds = (k: number) => program.next.increment[k] !== ZERO;
  const plan = stagedStep(shared, program.next.increment, stateNames, step.names, adds, batchWidth
    ? (roots, batched, prefix) => expBatches(roots, fnOf, batchWidth, prefix, batched)
    : undefined);
  return { step, plan, stateNames, adds };
}

describe.each(programs)('the staged step of %s', (_, program) => {
  it.each([0, 4])('defines before reading, computes each increment once and adds each state after its last reader (exp batches of %i)', (width) => {
    const { step, plan, stateNames, adds } = staged(program, width);
    const hoisted = new Set(step.invariant.map((t) => t.expr.id));
    const named = (n: Expr) => plan.componentName.has(n.id) || (step.names.has(n.id) && !hoisted.has(n.id));
    // what a line's text reads: named or batched nodes and state leaves, not looking into names
    const reads = (nodes: readonly Expr[]) => {
      const ids: number[] = [];
      const states: string[] = [];
      const visit = (n: Expr) => {
        if (named(n)) ids.push(n.id);
        else if (n.op === 'state') states.push(n.name);
        else if (!hoisted.has(n.id)) n.args.forEach(visit);
      };
      nodes.forEach(visit);
      return { ids, states };
    };
    const defined = new Set<number>();
    const computed = new Set<number>();
    const added = new Set<string>();
    const check = (nodes: readonly Expr[], what: string) => {
      const { ids, states } = reads(nodes);
      for (const id of ids) expect(defined.has(id), `${what} reads node ${id} before it is defined`).toBe(true);
      for (const s of states) expect(added.has(s), `${what} reads ${s} after its add`).toBe(false);
    };
    for (const item of plan.items) {
      if ('batch' in item) {
        check(item.batch.members.flatMap((m) => m.args), `batch ${item.batch.name}`);
        item.batch.members.forEach((m) => defined.add(m.id));
      } else if ('temp' in item) {
        check(item.temp.expr.args, `temporary ${item.temp.name}`);
        defined.add(item.temp.expr.id);
      } else if ('increment' in item) {
        const root = program.next.increment[item.increment];
        check(named(root) ? [root] : root.args.length ? root.args : [root], `increment ${item.increment}`);
        expect(computed.has(item.increment)).toBe(false);
        computed.add(item.increment);
      } else {
        expect(computed.has(item.add), `${stateNames[item.add]} added before its increment`).toBe(true);
        expect(added.has(stateNames[item.add])).toBe(false);
        added.add(stateNames[item.add]);
      }
    }
    expect(computed.size).toBe(stateNames.length);
    expect([...added].sort()).toEqual(stateNames.filter((_, k) => adds(k)).sort());
    // every per-step exp is in exactly one batch when batched
    const variant = topoOrder(program.next.increment).filter((n) => n.op === 'exp' && topoOrder([n]).some((m) => m.op === 'state' || m.op === 'time'));
    const members = plan.batches.flatMap((b) => b.members.map((m) => m.id));
    expect(new Set(members).size).toBe(members.length);
    expect(members.length).toBe(width ? variant.length : 0);
  });
});

describe('stages', () => {
  it('a cell is one stage; the pyloric network one stage per cell, each within the exp budget', () => {
    expect(staged(programs[0][1], 4).plan.stages.length).toBe(1);
    const network = programs[2][1];
    const { plan, stateNames } = staged(network, 4);
    const cellOf = (k: number) => stateNames[k].split('.')[0];
    // each cell's states (its gates, V and [Ca]) in one stage, apart from the other cells'
    for (const cell of ['ABPD', 'LP', 'PY']) {
      const holding = plan.stages.filter((run) => run.some((k) => stateNames[k].startsWith(`${cell}.`)));
      expect(holding.length, cell).toBe(1);
      expect(new Set(holding[0].map(cellOf).filter((c) => !c.includes('to'))), cell).toEqual(new Set([cell]));
    }
    for (const b of plan.batches) expect(b.members.length).toBeLessThanOrEqual(4);
    const expsPerStage = plan.stages.map((_, s) => plan.batches.filter((b) => b.name.startsWith(`eb${s}_`)).reduce((n, b) => n + b.members.length, 0));
    for (const n of expsPerStage) expect(n).toBeLessThanOrEqual(EXP_BATCH_MAX_EXPS);
    expect(expsPerStage.filter((n) => n > 0).length).toBe(3);
  });
});
