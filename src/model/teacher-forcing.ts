/**
 * Teacher forcing (Huys, Ahrens & Paninski 2006; the simplest prediction-error method of Burghi,
 * Schoukens & Sepulchre 2021): a model transform that drives every gate, pool and synapse with a
 * *recorded* state (a cell's voltage) instead of the simulated one. The forced state leaves the
 * state list; its own equation, with the recording in its place, becomes a residual that the compiler
 * sums per window (compile.ts, CompileOptions.residual). Because nothing simulated feeds back into the
 * voltage, the gates are fixed functions of the data and the residual is (nearly) linear in the
 * maximal conductances: the fit becomes a least-squares problem without the spurious minima of a
 * freely running simulation. Unobserved states ([Ca]) are still simulated, from the data-driven
 * currents, with their tangents; they contract, so their tangents stay bounded.
 *
 * It works for any model, networks included: force every cell's V with its recording, and the
 * synapses read the presynaptic recordings (fit one cell with its neighbours' traces as inputs).
 */
import { InputError } from '../errors.ts';
import * as E from './expr.ts';
import type { Expr } from './expr.ts';
import type { ForcedState, Model } from './model.ts';
import { checkName, own } from './names.ts';

/** How one state is forced: by the recording `input`, its equation a residual unless `residual` is false. */
export interface ForcingSpec {
  input: string;
  /** add this state's residual to the cost (default true); false: the recording only drives the rest (a neighbour in a network) */
  residual?: boolean;
}

/**
 * A copy of `model` with the given states replaced by recordings: `{ V: 'V' }` forces V with the
 * recording named V; in a network, `{ 'LP.V': 'LP.V', 'AB.V': { input: 'AB.V', residual: false } }`
 * fits LP with AB's recording driving its synapse.
 */
export function teacherForce(model: Model, forcing: Readonly<Record<string, string | ForcingSpec>>): Model {
  const entries = Object.entries(forcing);
  if (!entries.length) throw new InputError('teacherForce: name at least one state to force with a recording');
  const byState = new Map<string, ForcingSpec>();
  for (const [stateName, spec] of entries) {
    const s = typeof spec === 'string' ? { input: spec } : spec;
    checkName('recording', s.input, `teacherForce ${stateName}: `);
    if (!model.states.some((x) => x.name === stateName)) {
      throw new InputError(`teacherForce: model ${model.name} has no state '${stateName}'; states: ${model.states.map((x) => x.name).join(', ')}`);
    }
    if (own(model.params, s.input) !== undefined) throw new InputError(`teacherForce: recording name '${s.input}' is also a parameter of ${model.name}`);
    byState.set(stateName, s);
  }
  const replace = (exprs: readonly Expr[]): Expr[] =>
    E.substitute(exprs, (node) => {
      if (node.op !== 'state') return undefined;
      const s = byState.get(node.name);
      return s ? E.input(s.input) : undefined;
    });
  const one = (e: Expr) => replace([e])[0];

  const forced: ForcedState[] = (model.forced ?? []).map((f) => {
    const [rhs, rate] = replace([f.ode.rhs, f.ode.rate]);
    return { ...f, ode: { rhs, rate } };
  });
  for (const def of model.states) {
    const s = byState.get(def.name);
    if (!s || s.residual === false) continue;
    const [rhs, rate] = replace([def.ode.rhs, def.ode.rate]);
    forced.push({ name: def.name, input: s.input, unit: def.unit, ode: { rhs, rate } });
  }
  const states = model.states.filter((def) => !byState.has(def.name)).map((def) => ({
    ...def,
    ode: {
      rhs: one(def.ode.rhs),
      rate: one(def.ode.rate),
      ...(def.ode.inf ? { inf: one(def.ode.inf) } : {}),
      ...(def.ode.tau ? { tau: one(def.ode.tau) } : {}),
    },
    init: { cold: one(def.init.cold), steady: one(def.init.steady) },
  }));
  if (!states.length) throw new InputError(`teacherForce: forcing every state of ${model.name} leaves nothing to simulate`);
  return {
    ...model,
    name: `${model.name} forced`.slice(0, 100),
    states,
    observed: model.observed.map((o) => ({ ...o, expr: one(o.expr) })),
    spikeSources: model.spikeSources.map((s) => ({ ...s, expr: one(s.expr) })),
    ...(model.currents ? { currents: model.currents.map((c) => ({ ...c, expr: one(c.expr) })) } : {}),
    forced,
  };
}
