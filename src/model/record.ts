/**
 * Quantities a run records into its trace, by name: `simulate --record` and a sweep's `traces.record`
 * resolve names here, so both accept the same names and name their columns alike. A name is a state
 * (V, Na.m, LP.Ca), a channel current (INa, LP.IKd: Model.currents, µA/cm², outward positive) or an
 * observed quantity (already traced). States and currents become observed quantities, because the
 * engines trace observed quantities only; observed names cannot hold dots, so `Na.m` is observed as
 * `Na_m`.
 */
import { InputError } from '../errors.ts';
import { observableKey } from '../analysis/names.ts';
import * as E from './expr.ts';
import type { Model } from './model.ts';
import { withObserved, type ObservedInput } from './observe.ts';

/** One recorded quantity: the name asked for, the observed quantity that traces it, its column name and unit. */
export interface RecordedColumn {
  name: string;
  observed: string;
  /** column name in outputs (simulate's trace columns: VMv, Na_m, INaUAPerCm2, LP_CaUM) */
  column: string;
  unit: string;
}

/**
 * The model with the named quantities observed (those it does not observe already), and one column
 * per name, in the order given. `field` names the input in messages (`record`, `traces.record`).
 */
export function withRecorded(model: Model, record: readonly string[], field = 'record'): { model: Model; columns: RecordedColumn[] } {
  const seen = new Set<string>();
  const extra: ObservedInput[] = [];
  const columns: RecordedColumn[] = [];
  for (const name of record) {
    if (seen.has(name)) throw new InputError(`${field}: ${name} is listed twice`);
    seen.add(name);
    const observed = model.observed.find((o) => o.name === name);
    if (observed) {
      columns.push({ name, observed: name, column: observableKey('', name, observed.unit), unit: observed.unit });
      continue;
    }
    const state = model.states.find((s) => s.name === name);
    const current = model.currents?.find((c) => c.name === name);
    if (!state && !current) {
      const known = [...model.states.map((s) => s.name), ...(model.currents ?? []).map((c) => c.name),
        ...model.observed.filter((o) => !model.states.some((s) => s.name === o.name)).map((o) => o.name)];
      throw new InputError(`${field}: unknown quantity '${name}' of model ${model.name}; states and currents: ${known.join(', ')}`);
    }
    const unit = state ? state.unit : 'µA/cm²';
    const observedName = name.replace(/\./g, '_');
    extra.push({ name: observedName, expr: state ? E.state(name) : current!.expr, unit, kind: 'other' });
    columns.push({ name, observed: observedName, column: observableKey('', observedName, unit), unit });
  }
  return { model: extra.length ? withObserved(model, extra) : model, columns };
}
