/**
 * Scheduling: turns a set of root expressions into an ordered list of named temporaries, the form
 * every emitter writes out. A node becomes a temporary when it is used more than once (so shared
 * subexpressions, including the primal values the tangent lanes read, are computed once), or when it
 * depends only on per-instance parameters and feeds the time loop (then it is hoisted out of the loop,
 * the "scalar" part in Brian2's terms). Everything else is inlined into its single parent.
 */
import { type Expr, topoOrder } from '../model/expr.ts';

export interface Temp {
  name: string;
  expr: Expr;
}

export interface Schedule {
  /** temporaries that depend only on parameters: computed once per instance, before the loop */
  invariant: Temp[];
  /** temporaries computed every step, in dependency order */
  perStep: Temp[];
  /** the name of each scheduled node, by node id */
  names: Map<number, string>;
}

/** Leaves that change during a run (the rest are parameters and constants). */
const isVariantLeaf = (n: Expr) => n.op === 'state' || n.op === 'tangent' || n.op === 'time' || n.op === 'input';

/** Ids of the nodes of `order` (in topological order) that change during a run: variant leaves and whatever is computed from one. */
export function variantIds(order: readonly Expr[]): Set<number> {
  const variant = new Set<number>();
  for (const node of order) if (node.args.length === 0 ? isVariantLeaf(node) : node.args.some((a) => variant.has(a.id))) variant.add(node.id);
  return variant;
}

/**
 * Schedules `roots`. `prefix` keeps the names of separate schedules apart; `hoist` false puts every
 * temporary in `perStep` (for code that runs once, such as initial conditions).
 */
export function schedule(roots: readonly Expr[], prefix: string, hoist = true): Schedule {
  const order = topoOrder(roots);
  const uses = new Map<number, number>();
  const variantParent = new Set<number>();
  const variant = variantIds(order);
  for (const node of order) {
    const weight = node.op === 'powi' ? node.value : 1; // x^n is spelled as n factors of x
    for (const a of node.args) {
      uses.set(a.id, (uses.get(a.id) ?? 0) + weight);
      if (variant.has(node.id)) variantParent.add(a.id);
    }
  }
  for (const r of roots) uses.set(r.id, (uses.get(r.id) ?? 0) + 1);

  const invariant: Temp[] = [];
  const perStep: Temp[] = [];
  const names = new Map<number, string>();
  for (const node of order) {
    if (node.args.length === 0) continue;
    const used = uses.get(node.id) ?? 0;
    const isVariant = variant.has(node.id);
    const hoisted = hoist && !isVariant && (variantParent.has(node.id) || used >= 2);
    if (!hoisted && used < 2) continue;
    const list = hoisted ? invariant : perStep;
    // h… (hoisted) and t… (per step): emitters use c… for compensations
    const name = `${prefix}${hoisted ? 'h' : 't'}${list.length}`;
    names.set(node.id, name);
    list.push({ name, expr: node });
  }
  return { invariant, perStep, names };
}
