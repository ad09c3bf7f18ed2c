/**
 * Exp batches (src/compile/exp-batches.ts): every exp computed each step is in exactly one batch, a
 * batch never needs its own or a later batch's values, and the emission order defines everything
 * before it is read. Checked on exponential Euler (exps of one depth) and RK4 (each stage's exps
 * need the previous stage's), by independent traversals of the expressions.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import { EXP_BATCH_MAX_EXPS, expBatches, orderUnits } from '../src/compile/exp-batches.ts';
import { defaultExpBatchWidth, emitWgsl } from '../src/compile/emit-wgsl.ts';
import { regulate } from '../src/model/regulation.ts';
import { pyloric } from '../src/channels/pyloric.ts';
import { scheduleStep, tempsByLane } from '../src/compile/kernel-common.ts';
import { topoOrder, type Expr } from '../src/model/expr.ts';
import type { StepProgram } from '../src/compile/program.ts';

const programs: [string, StepProgram][] = [
  ['prinz, exponential Euler', compile(libraryModel('prinz'), { dtMs: 0.025, instanceParams: [...CONDUCTANCE_NAMES] })],
  ['HH, RK4', compile(libraryModel('hh'), { dtMs: 0.01, method: 'rk4', instanceParams: ['gNa', 'gK'] })],
];

/** exps that change every step: those with a state, tangent or time leaf below them */
function variantExps(roots: readonly Expr[]): Expr[] {
  return topoOrder(roots).filter((n) => n.op === 'exp' && topoOrder([n]).some((m) => m.op === 'state' || m.op === 'time'));
}

/** every exp node strictly below a node */
const expsBelow = (node: Expr) => topoOrder(node.args).filter((n) => n.op === 'exp');

describe.each(programs)('exp batches of %s', (_, program) => {
  const roots = program.next.increment;
  const fnOf = (node: Expr) => (node.args[0].op === 'mul' ? 'exp2_' : 'exp_');

  it.each([1, 3, 4])('puts each per-step exp in exactly one batch of at most %i, after every batch it needs', (width) => {
    const { batches, componentName } = expBatches(roots, fnOf, width);
    const members = batches.flatMap((b) => b.members);
    const expected = variantExps(roots);
    expect(expected.length).toBeGreaterThan(width);
    expect(new Set(members.map((m) => m.id))).toEqual(new Set(expected.map((m) => m.id)));
    expect(members.length).toBe(expected.length);
    const position = new Map(batches.flatMap((b, k) => b.members.map((m) => [m.id, k] as const)));
    for (const [k, b] of batches.entries()) {
      expect(b.members.length).toBeGreaterThanOrEqual(1);
      expect(b.members.length).toBeLessThanOrEqual(width);
      for (const m of b.members) {
        expect(fnOf(m)).toBe(b.fn);
        for (const below of expsBelow(m)) if (position.has(below.id)) expect(position.get(below.id)!).toBeLessThan(k);
      }
    }
    expect(componentName.get(batches[0].members[0].id)).toBe(width === 1 ? 'eb0' : 'eb0.x');
  });

  it('orders temporaries and batches so that each is defined before it is read', () => {
    const { step } = scheduleStep(program, 'smaller');
    const { batches, componentName } = expBatches(roots, fnOf, 4);
    const shared = tempsByLane(step.perStep, roots, program.next.tangentIncrement).shared.filter((t) => !componentName.has(t.expr.id));
    const units = orderUnits(shared, batches, step.names);
    expect(units.length).toBe(shared.length + batches.length);
    const defined = new Set<number>();
    // what a unit's printed text reads: named or batched nodes, found through inline subexpressions
    const reads = (nodes: readonly Expr[]) => {
      const out: number[] = [];
      const visit = (n: Expr) => {
        if (componentName.has(n.id) || step.names.has(n.id)) out.push(n.id);
        else n.args.forEach(visit);
      };
      nodes.forEach((n) => n.args.forEach(visit));
      return out;
    };
    const hoisted = new Set(step.invariant.map((t) => t.expr.id));
    for (const u of units) {
      const [own, body] = 'batch' in u ? [u.batch.members, u.batch.members] : [[u.temp.expr], [u.temp.expr]];
      for (const id of reads(body)) if (!hoisted.has(id)) expect(defined.has(id), `read before it is defined: node ${id}`).toBe(true);
      for (const n of own) defined.add(n.id);
    }
    // the exps of RK4's later stages need earlier stages' exps: batches come in several depths
    if (program.method === 'rk4') expect(batches.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a width that is not an integer from 1 to 4', () => {
    expect(() => expBatches(roots, fnOf, 5)).toThrow(/1 to 4, got 5/);
    expect(() => expBatches(roots, fnOf, 0)).toThrow(/1 to 4, got 0/);
    expect(() => expBatches(roots, fnOf, 2.5)).toThrow(/integer from 1 to 4, got 2.5/);
  });
});

describe('when exps are batched by default', () => {
  const exps = (p: StepProgram) => topoOrder(p.next.increment).filter((n) => n.op === 'exp').length;
  it('a cell without lanes (regulated too): batches of 4; with lanes: none; a network of 76 exps: none printed flat, batches within each cell staged', () => {
    const prinz = libraryModel('prinz');
    const cell = compile(prinz, { dtMs: 0.025, instanceParams: [...CONDUCTANCE_NAMES] });
    expect(defaultExpBatchWidth(cell)).toBe(4);
    expect(emitWgsl(cell, { spikeCapacity: 8 }).code).toMatch(/exp2?_v4\(/);
    expect(defaultExpBatchWidth(compile(prinz, { dtMs: 0.025, tangents: ['gNa'] }))).toBe(0);
    // regulation adds states, not exps: every conductance regulated, 29 states, still batched
    const tauMs = Object.fromEntries(CONDUCTANCE_NAMES.map((g) => [g, 5000]));
    const regulated = compile(regulate(prinz, { tauMs, tauGMs: 200, caTargetUM: 200 }), { dtMs: 0.025 });
    expect(regulated.states.length).toBe(29);
    expect(defaultExpBatchWidth(regulated)).toBe(4);
    const network = compile(pyloric(), { dtMs: 0.025, skipUnreadStates: {} });
    expect(exps(network)).toBeGreaterThan(EXP_BATCH_MAX_EXPS);
    expect(defaultExpBatchWidth(network)).toBe(0);
    expect(emitWgsl(network, { spikeCapacity: 8, stepOrder: 'flat' }).code).not.toMatch(/exp2?_v[234]\(/);
    // asked for, a network printed flat is still batched
    expect(emitWgsl(network, { spikeCapacity: 8, stepOrder: 'flat', expBatchWidth: 4 }).code).toMatch(/exp2?_v4\(/);
    // staged (the default), each stage is one cell, of at most EXP_BATCH_MAX_EXPS exps: batched
    const staged = emitWgsl(network, { spikeCapacity: 8 }).code;
    expect(staged).toMatch(/let eb2_\d+ = exp2?_v4\(/);
    expect(emitWgsl(network, { spikeCapacity: 8, expBatchWidth: 0 }).code).not.toMatch(/exp2?_v[234]\(/);
  });
});
