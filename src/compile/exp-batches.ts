/**
 * Exponential batches: the exps of a step, grouped into short vectors that one call evaluates.
 *
 * A conductance-based step is a few dozen gate updates, independent of each other, each a chain of
 * dependent operations of which the exp is the longest link (about 20 of them). Printed one gate
 * after another, the chains reach lavapipe's SIMD code one after another too; evaluating the exps of
 * different gates side by side in a vec4 interleaves them operation by operation (prinz without
 * tangent lanes: 13 % faster, interleaved A/B on lavapipe). Grouping is by exp depth (the exps an
 * exp's argument needs all come earlier), and the batches are emitted as early as their arguments
 * allow, so the rest of each gate's chain finds its exps done. A vector operation rounds each
 * component as the scalar one does: batching changes the order of evaluation, never a value (the
 * GPU tests compare batched and unbatched runs bit for bit).
 */
import { topoOrder, type Expr } from '../model/expr.ts';
import { variantIds, type Temp } from './schedule.ts';

export interface ExpBatch<F extends string = string> {
  /** the variable holding the batch's values */
  name: string;
  /** the exp nodes, in component order (at most 4) */
  members: Expr[];
  /** which exp function evaluates them (an emitter's name, such as exp_ or exp2_) */
  fn: F;
}

/**
 * exps a step (or a stage of one, step-order.ts) may hold for them to be batched by default
 * (emit-wgsl.ts defaultExpBatchWidth); also the most a stage takes on.
 */
export const EXP_BATCH_MAX_EXPS = 40;

export const VECTOR_COMPONENTS = ['x', 'y', 'z', 'w'] as const;

/**
 * Groups the exp nodes reachable from `roots` that change every step (the rest are hoisted out of the
 * time loop), except those in `batched` (an earlier stage's, step-order.ts), into batches of at most
 * `width` (≤ 4) with the same exp depth and function `fnOf`. `componentName` of a member is how the
 * step reads it (`eb0.x`).
 */
export function expBatches<F extends string>(roots: readonly Expr[], fnOf: (node: Expr) => F, width: number, prefix = 'eb', batched: ReadonlySet<number> = new Set()) {
  if (!(Number.isInteger(width) && width >= 1 && width <= 4)) throw new Error(`exp batch width must be an integer from 1 to 4, got ${width}`);
  const depth = new Map<number, number>();
  const order = topoOrder(roots);
  const variant = variantIds(order);
  const groups = new Map<string, { depth: number; fn: F; nodes: Expr[] }>();
  for (const node of order) {
    // an exp an earlier batch computed is a value here, as a state is
    if (batched.has(node.id)) continue;
    const below = Math.max(0, ...node.args.map((a) => depth.get(a.id) ?? 0));
    const isExp = node.op === 'exp' && variant.has(node.id);
    depth.set(node.id, below + (isExp ? 1 : 0));
    if (!isExp) continue;
    const fn = fnOf(node);
    const key = `${below}:${fn}`;
    if (!groups.has(key)) groups.set(key, { depth: below, fn, nodes: [] });
    groups.get(key)!.nodes.push(node);
  }
  const batches: ExpBatch<F>[] = [];
  // by depth first, so a batch's arguments never need a later batch
  for (const { fn, nodes } of [...groups.values()].sort((a, b) => a.depth - b.depth)) {
    for (let k = 0; k < nodes.length; k += width) batches.push({ name: `${prefix}${batches.length}`, members: nodes.slice(k, k + width), fn });
  }
  const componentName = new Map<number, string>();
  for (const b of batches) {
    b.members.forEach((m, c) => componentName.set(m.id, b.members.length === 1 ? b.name : `${b.name}.${VECTOR_COMPONENTS[c]}`));
  }
  return { batches, componentName };
}

export type StepUnit<F extends string = string> = { temp: Temp } | { batch: ExpBatch<F> };

/**
 * The order to emit a step's temporaries and exp batches in: each batch as early as its arguments
 * allow (with the temporaries those need pulled ahead of it), then the remaining temporaries in their
 * given order. `names` holds every scheduled name (what is named is read by name, not looked into).
 */
export function orderUnits<F extends string>(temps: readonly Temp[], batches: readonly ExpBatch<F>[], names: ReadonlyMap<number, string>): StepUnit<F>[] {
  const tempOf = new Map(temps.map((t) => [t.expr.id, t]));
  const batchOf = new Map<number, ExpBatch<F>>();
  for (const b of batches) for (const m of b.members) batchOf.set(m.id, b);
  const done = new Set<Temp | ExpBatch<F>>();
  const out: StepUnit<F>[] = [];
  /** the temporaries and batches an expression reads, looking through what is printed inline */
  const depsOf = (roots: readonly Expr[]) => {
    const deps: (Temp | ExpBatch<F>)[] = [];
    const stack = roots.flatMap((r) => r.args);
    const seen = new Set<number>();
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      const unit = batchOf.get(node.id) ?? tempOf.get(node.id);
      if (unit) deps.push(unit);
      else if (!names.has(node.id)) stack.push(...node.args);
    }
    return deps;
  };
  const emit = (unit: Temp | ExpBatch<F>) => {
    if (done.has(unit)) return;
    done.add(unit);
    const isBatch = 'members' in unit;
    for (const dep of depsOf(isBatch ? unit.members : [unit.expr])) emit(dep);
    out.push(isBatch ? { batch: unit } : { temp: unit });
  };
  batches.forEach(emit);
  temps.forEach(emit);
  return out;
}
