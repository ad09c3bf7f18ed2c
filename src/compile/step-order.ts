/**
 * The order a step's code is printed in: in stages, each advancing the states it can as soon as
 * nothing else needs their old values.
 *
 * An explicit step computes every increment from the old states and only then adds them. Printed as
 * "every temporary, every increment, every add", a network's step holds every cell's gate updates
 * live at once (the pyloric network: 46 increments and 76 exps); a compiler that schedules a long
 * straight-line block mostly in the printed order then spills them on a CPU's 16 vector registers
 * (lavapipe). Staged, the increments are cut into the smallest runs whose temporaries no later
 * increment within the exp budget reads (in a network: one cell with the synapses onto it; a
 * synapse's gate that a second cell reads is carried to it), each run's exps are batched among
 * themselves and computed first, and each state's add follows the last increment that reads it. The
 * values are the same bit for bit (the same operations on the same operands); only their lifetimes
 * shrink.
 */
import { type Expr } from '../model/expr.ts';
import { EXP_BATCH_MAX_EXPS, orderUnits, type ExpBatch, type StepUnit } from './exp-batches.ts';
import type { Temp } from './schedule.ts';

export type StepItem<F extends string = string> = StepUnit<F> | { increment: number } | { add: number };

/** Groups a stage's exps into batches, leaving out those already batched (exp-batches.ts expBatches). */
export type StageBatcher<F extends string> = (roots: readonly Expr[], batched: ReadonlySet<number>, prefix: string) => {
  batches: ExpBatch<F>[];
  componentName: Map<number, string>;
};

export interface StagedStep<F extends string> {
  items: StepItem<F>[];
  /** how each batched exp is read (`eb0_1.x`) */
  componentName: Map<number, string>;
  batches: ExpBatch<F>[];
  /** the stages, as runs of increments (state indices), for tests and diagnostics */
  stages: number[][];
}

/**
 * Stages the step of `increment` (state k's increment; `stateNames[k]` its state) over the step's
 * temporaries `temps` (in dependency order; `names` holds every scheduled name). `adds(k)` says
 * whether state k is added at all (a zero increment is not). `batch`, if given, batches each stage's
 * exps. `stageExps`: the exps a stage may reach ahead to close over a temporary (the budget above).
 */
export function stagedStep<F extends string>(
  temps: readonly Temp[],
  increment: readonly Expr[],
  stateNames: readonly string[],
  names: ReadonlyMap<number, string>,
  adds: (k: number) => boolean,
  batch?: StageBatcher<F>,
  stageExps = EXP_BATCH_MAX_EXPS,
): StagedStep<F> {
  const tempIndex = new Map(temps.map((t, i) => [t.expr.id, i]));
  const stateIndex = new Map(stateNames.map((name, k) => [name, k]));
  // the temporaries and states an expression reads, looking through what is printed inline
  const direct = (roots: readonly Expr[]) => {
    const needs = new Set<number>();
    const reads = new Set<number>();
    const stack = [...roots];
    const seen = new Set<number>();
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      const t = tempIndex.get(node.id);
      if (t !== undefined) needs.add(t);
      else if (node.op === 'state') reads.add(stateIndex.get(node.name)!);
      else if (!names.has(node.id)) stack.push(...node.args);
    }
    return { needs, reads };
  };
  // closures over temporaries: each reads only earlier ones
  const tempNeeds: Set<number>[] = [];
  const tempReads: Set<number>[] = [];
  temps.forEach((t, i) => {
    const { needs, reads } = direct(t.expr.args);
    for (const d of [...needs]) {
      tempNeeds[d].forEach((x) => needs.add(x));
      tempReads[d].forEach((x) => reads.add(x));
    }
    tempNeeds[i] = needs;
    tempReads[i] = reads;
  });
  const incrementNeeds = increment.map((root) => {
    const { needs, reads } = direct([root]);
    for (const d of [...needs]) tempNeeds[d].forEach((x) => needs.add(x));
    for (const d of needs) tempReads[d].forEach((x) => reads.add(x));
    return { needs: [...needs].sort((a, b) => a - b), reads };
  });

  // the print order of the increments: by state, each followed at once by the later ones that need
  // nothing new (a synapse's gate, computed as a temporary of the cell it drives)
  const order: number[] = [];
  const placed = new Set<number>();
  const available = new Set<number>();
  for (let k = 0; k < increment.length; k++) {
    if (placed.has(k)) continue;
    placed.add(k);
    order.push(k);
    incrementNeeds[k].needs.forEach((t) => available.add(t));
    for (let j = k + 1; j < increment.length; j++) {
      if (placed.has(j) || incrementNeeds[j].needs.length === 0 || !incrementNeeds[j].needs.every((t) => available.has(t))) continue;
      placed.add(j);
      order.push(j);
    }
  }
  const lastReader = stateNames.map(() => -1);
  order.forEach((k, at) => {
    lastReader[k] = Math.max(lastReader[k], at);
    incrementNeeds[k].reads.forEach((s) => (lastReader[s] = Math.max(lastReader[s], at)));
  });
  const addsAfter = order.map(() => [] as number[]);
  lastReader.forEach((at, s) => adds(s) && addsAfter[at].push(s));
  const lastUse = temps.map(() => -1);
  order.forEach((k, at) => incrementNeeds[k].needs.forEach((t) => (lastUse[t] = at)));
  // exps a temporary or an increment computes in its own text (not inside temporaries)
  const ownExps = (root: Expr) => {
    let count = 0;
    const stack = [root];
    const seen = new Set<number>();
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node.id) || (node !== root && (tempIndex.has(node.id) || names.has(node.id)))) continue;
      seen.add(node.id);
      if (node.op === 'exp') count++;
      stack.push(...node.args);
    }
    return count;
  };
  const expCount = temps.map((t) => ownExps(t.expr));
  const incrementExps = increment.map((root) => (tempIndex.has(root.id) || names.has(root.id) ? 0 : ownExps(root)));

  const emitted = new Set<number>();
  const batched = new Set<number>();
  const items: StepItem<F>[] = [];
  const batches: ExpBatch<F>[] = [];
  const componentName = new Map<number, string>();
  const stages: number[][] = [];
  for (let at = 0; at < order.length;) {
    // the smallest run of increments after which nothing it computed is needed again, where
    // needed again within the exp budget: a temporary read much later (a synapse's gate that two
    // cells read, in a network) is carried across stages instead of joining them
    // expsUntil[p - at]: the exps of a stage that ran from `at` through increment p
    const expsUntil: number[] = [];
    const counted = new Set<number>();
    for (let p = at, exps = 0; p < order.length; p++) {
      for (const t of incrementNeeds[order[p]].needs) {
        if (emitted.has(t) || counted.has(t)) continue;
        counted.add(t);
        exps += expCount[t];
      }
      exps += incrementExps[order[p]];
      expsUntil.push(exps);
    }
    const stageTemps = new Set<number>();
    let end = at;
    let until = at;
    while (end <= until && end < order.length) {
      for (const t of incrementNeeds[order[end]].needs) {
        if (emitted.has(t) || stageTemps.has(t)) continue;
        stageTemps.add(t);
        if (expsUntil[lastUse[t] - at] <= stageExps) until = Math.max(until, lastUse[t]);
      }
      end++;
    }
    const run = order.slice(at, end);
    const stageList = [...stageTemps].sort((a, b) => a - b).map((t) => temps[t]);
    stageTemps.forEach((t) => emitted.add(t));
    const own = batch?.([...stageList.map((t) => t.expr), ...run.map((k) => increment[k])], batched, `eb${stages.length}_`);
    for (const b of own?.batches ?? []) for (const m of b.members) batched.add(m.id);
    own?.componentName.forEach((name, id) => componentName.set(id, name));
    batches.push(...(own?.batches ?? []));
    // a batched exp that is also a temporary is read from its batch
    items.push(...orderUnits(stageList.filter((t) => !componentName.has(t.expr.id)), own?.batches ?? [], names));
    for (; at < end; at++) {
      items.push({ increment: order[at] });
      for (const s of addsAfter[at]) items.push({ add: s });
    }
    stages.push(run);
  }
  // temporaries no increment reads follow the step's own
  temps.forEach((t, i) => emitted.has(i) || componentName.has(t.expr.id) || items.push({ temp: t }));
  return { items, componentName, batches, stages };
}

/**
 * The flat order (every temporary and batch, then every increment; the caller adds the states after
 * everything that reads them, tangent lanes included), with the whole step's exp batches `batching`.
 */
export function flatStep<F extends string>(
  temps: readonly Temp[],
  states: number,
  names: ReadonlyMap<number, string>,
  batching: { batches: ExpBatch<F>[]; componentName: Map<number, string> },
): StagedStep<F> {
  const { batches, componentName } = batching;
  const increments = [...Array(states).keys()];
  // a batched exp that is also a temporary is read from its batch
  const units = orderUnits(temps.filter((t) => !componentName.has(t.expr.id)), batches, names);
  return { items: [...units, ...increments.map((k) => ({ increment: k }))], componentName, batches, stages: [increments] };
}
