/**
 * Builds a network of single-compartment cells joined by synapses into one Model, so that one network
 * is one ensemble instance and the compiler, both engines and tangent lanes take it as they take a
 * neuron.
 *
 * Cells are namespaces: every name of cell `LP` lives under `LP.` (`LP.V`, `LP.Ca`, `LP.gNa`,
 * `LP.Na.m`) with the cell's own parameter definitions (units and ranges), so any parameter of any cell
 * can be set, swept and differentiated. A synapse instance's parameters live under its name
 * (`ABtoLP.EsMv`), except its strength, an absolute conductance in nS named `gSyn<name>` (e.g.
 * `gSynABtoLP`) and converted to a density with the postsynaptic area:
 *
 *     chemical:   I_post = g·Π sᵖ·(V_post − E_s)        g = g_nS·1e-6 / A_post  (mS/cm²)
 *     electrical: I_post = g·(V_post − V_pre), and the mirror image on the presynaptic cell
 *
 * (membrane currents as in neuron.ts: outward positive, so C dV/dt = −I). Synaptic gates are stage-0
 * states like channel gates: exponential Euler advances them with the previous V_pre and V_post, then
 * each membrane potential advances with the new gates and the previous potentials of its partners.
 * A synaptic gate starts at its cold value (0 unless given) or, for the steady start, at its steady
 * state at the presynaptic and postsynaptic initial potentials.
 */
import { InputError } from '../errors.ts';
import * as E from './expr.ts';
import type { Expr } from './expr.ts';
import { type InitKind, type Model, type ParamDef, type StateDef } from './model.ts';
import { checkName } from './names.ts';
import { buildNeuron, gateState, toExpr, type ExprInput, type GateDef, type NeuronDef } from './neuron.ts';
import { validateModel } from './validate.ts';

/** A chemical synapse type: gates driven by V_pre (and V_post), a reversal potential, its constants. */
export interface ChemicalSynapseDef {
  /** type name, e.g. 'glutamatergic' */
  name: string;
  kind: 'chemical';
  /** gates in x∞/τ or α/β form; expressions read V_pre, V_post and the synapse's params */
  gates: GateDef[];
  /** name of the reversal-potential parameter among `params` (mV) */
  reversal: string;
  /** defaults of the constants the gates and the current read (units and ranges given in full) */
  params: Record<string, ParamDef>;
  source?: string;
}

/** A gap junction: a constant conductance between the two membranes, current on both cells. */
export interface ElectricalSynapseDef {
  name: string;
  kind: 'electrical';
  source?: string;
}

export type SynapseDef = ChemicalSynapseDef | ElectricalSynapseDef;

/** One synapse of a network: which cells it joins, its type and its strength. */
export interface SynapseInstance {
  from: string;
  to: string;
  type: SynapseDef;
  /** absolute strength (nS), the default of its strength parameter */
  gNs?: number;
  /** instance name (letters, digits, _), unique in the network; default `${from}to${to}` */
  name?: string;
  /** name of the strength parameter; default `gSyn${name}` */
  strengthParam?: string;
  /** overrides of the type's constants for this instance (by the type's parameter names) */
  params?: Record<string, number>;
}

export interface NetworkDef {
  name: string;
  /** cells by name (letters, digits, _): neuron definitions or built single-cell models */
  cells: Record<string, NeuronDef | Model>;
  synapses?: SynapseInstance[];
  /** initial condition used unless a run asks otherwise; default: the cells' own if they agree */
  defaultInit?: InitKind;
}

/** Cell and synapse-instance names are namespaces, so they cannot contain the separator. */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkPlainName(kind: string, name: string): void {
  checkName(kind, name);
  if (!PLAIN_NAME.test(name)) throw new InputError(`${kind} name '${name}' must be letters, digits and _ (it prefixes the names inside it)`);
}

const isModel = (x: NeuronDef | Model): x is Model => 'states' in x;

/** A copy of a single-cell model with every state, parameter, observed quantity and spike source under `prefix.`. */
export function prefixModel(model: Model, prefix: string): Model {
  const rename = (name: string) => `${prefix}.${name}`;
  const map = (exprs: readonly Expr[]) =>
    E.substitute(exprs, (n) => (n.op === 'param' ? E.param(rename(n.name)) : n.op === 'state' ? E.state(rename(n.name)) : undefined));
  const one = (e: Expr) => map([e])[0];
  const states: StateDef[] = model.states.map((s) => ({
    ...s,
    name: rename(s.name),
    description: `${s.description} of cell ${prefix}`,
    ode: { rhs: one(s.ode.rhs), rate: one(s.ode.rate), ...(s.ode.inf ? { inf: one(s.ode.inf) } : {}), ...(s.ode.tau ? { tau: one(s.ode.tau) } : {}) },
    init: { cold: one(s.init.cold), steady: one(s.init.steady) },
  }));
  const params: Record<string, ParamDef> = {};
  for (const [name, def] of Object.entries(model.params)) params[rename(name)] = { ...def, description: `${def.description} (cell ${prefix})` };
  return {
    name: model.name,
    states,
    params,
    observed: model.observed.map((o) => ({ ...o, name: rename(o.name), expr: one(o.expr) })),
    spikeSources: model.spikeSources.map((s) => ({ ...s, name: rename(s.name), expr: one(s.expr) })),
    ...(model.currents ? { currents: model.currents.map((c) => ({ name: rename(c.name), expr: one(c.expr) })) } : {}),
    defaultInit: model.defaultInit,
  };
}

/** What a synapse adds to one membrane: a current term Σ g·(E − V) and a conductance Σ g (both per µF/cm²). */
interface MembraneInput {
  current: Expr;
  conductance: Expr;
}

/** Assembles cells and synapses into one Model; see the module comment for names and equations. */
export function buildNetwork(def: NetworkDef): Model {
  checkName('network', def.name);
  const cellNames = Object.keys(def.cells);
  if (cellNames.length === 0) throw new InputError(`network ${def.name} needs at least one cell`);
  const params: Record<string, ParamDef> = {};
  const states: StateDef[] = [];
  const observed: Model['observed'] = [];
  const spikeSources: Model['spikeSources'] = [];
  const currents: NonNullable<Model['currents']> = [];
  const inits = new Set<InitKind>();
  for (const cell of cellNames) {
    checkPlainName('cell', cell);
    const input = def.cells[cell];
    const model = prefixModel(isModel(input) ? validateModel(input) : buildNeuron(input), cell);
    if (!model.states.some((s) => s.name === `${cell}.V`)) throw new InputError(`cell ${cell} has no membrane potential V`);
    Object.assign(params, model.params);
    states.push(...model.states);
    observed.push(...model.observed);
    spikeSources.push(...model.spikeSources);
    currents.push(...(model.currents ?? []));
    inits.add(model.defaultInit);
  }
  if (!def.defaultInit && inits.size > 1) throw new InputError(`network ${def.name}: its cells start differently (${[...inits].join(', ')}); give defaultInit`);

  const inputs = new Map<string, MembraneInput>(cellNames.map((c) => [c, { current: E.ZERO, conductance: E.ZERO }]));
  const addInput = (cell: string, g: Expr, reversal: Expr) => {
    const m = inputs.get(cell)!;
    m.current = E.add(m.current, E.mul(g, E.sub(reversal, E.state(`${cell}.V`))));
    m.conductance = E.add(m.conductance, g);
  };
  const addParam = (name: string, paramDef: ParamDef, where: string) => {
    checkName('parameter', name, `${where}: `);
    if (Object.hasOwn(params, name)) throw new InputError(`${where}: parameter ${name} already exists in network ${def.name}`);
    params[name] = paramDef;
  };

  const instanceNames = new Set<string>();
  for (const [k, syn] of (def.synapses ?? []).entries()) {
    const where = `synapses[${k}]`;
    for (const end of ['from', 'to'] as const) {
      if (!Object.hasOwn(def.cells, syn[end])) throw new InputError(`${where}.${end}: unknown cell '${syn[end]}'; cells: ${cellNames.join(', ')}`);
    }
    const name = syn.name ?? `${syn.from}to${syn.to}`;
    checkPlainName('synapse', name);
    if (instanceNames.has(name) || Object.hasOwn(def.cells, name)) {
      throw new InputError(`${where}: synapse name ${name} is taken; give each synapse between the same cells its own name`);
    }
    instanceNames.add(name);
    const strength = syn.strengthParam ?? `gSyn${name}`;
    const gNs = syn.gNs ?? 0;
    addParam(strength, { value: gNs, unit: 'nS', description: `strength of the ${syn.type.name} synapse ${syn.from} → ${syn.to}`, min: 0 }, where);
    // nS → mS/cm² with the area of the membrane the current enters
    const density = (cell: string) => E.div(E.mul(E.param(strength), 1e-6), E.param(`${cell}.areaCm2`));
    const vPre = E.state(`${syn.from}.V`), vPost = E.state(`${syn.to}.V`);

    if (syn.type.kind === 'electrical') {
      if (syn.from === syn.to) throw new InputError(`${where}: a gap junction joins two different cells`);
      addInput(syn.to, density(syn.to), vPre);
      addInput(syn.from, density(syn.from), vPost);
      continue;
    }
    const type = syn.type;
    const local = (p: string) => `${name}.${p}`;
    for (const [p, paramDef] of Object.entries(type.params)) addParam(local(p), { ...paramDef, description: `${paramDef.description} (synapse ${name})` }, where);
    for (const [p, value] of Object.entries(syn.params ?? {})) {
      if (!Object.hasOwn(type.params, p)) throw new InputError(`${where}.params: unknown constant '${p}' of synapse type ${type.name}; known: ${Object.keys(type.params).join(', ')}`);
      params[local(p)] = { ...params[local(p)], value };
    }
    if (!Object.hasOwn(type.params, type.reversal)) throw new InputError(`synapse type ${type.name}: its reversal ${type.reversal} needs a default in its params`);
    const resolve = (input: ExprInput, at: string): Expr =>
      E.substitute([toExpr(input)], (n) => {
        if (n.op !== 'sym') return undefined;
        if (n.name === 'V_pre') return vPre;
        if (n.name === 'V_post') return vPost;
        if (Object.hasOwn(type.params, n.name)) return E.param(local(n.name));
        throw new InputError(`${at} uses unknown name '${n.name}'; known: V_pre, V_post, ${Object.keys(type.params).join(', ')}`);
      })[0];
    const atInit = (e: Expr) =>
      E.substitute([e], (n) => (n === vPre ? E.param(`${syn.from}.initVMv`) : n === vPost ? E.param(`${syn.to}.initVMv`) : undefined))[0];
    let g = density(syn.to);
    for (const gate of type.gates) {
      const stateName = local(gate.name);
      states.push(gateState(stateName, `gate ${gate.name} of synapse ${name} (${type.name}, ${syn.from} → ${syn.to})`, gate, resolve, E.ONE, atInit));
      g = E.mul(g, E.powi(E.state(stateName), gate.power));
    }
    addInput(syn.to, g, E.param(local(type.reversal)));
  }

  // each membrane: C dV/dt gains Σ g·(E − V), and −∂/∂V of the right-hand side gains Σ g / C
  const withSynapses = states.map((s): StateDef => {
    const cell = s.name.endsWith('.V') ? s.name.slice(0, -2) : undefined;
    const input = cell === undefined ? undefined : inputs.get(cell);
    if (!input || input.conductance === E.ZERO) return s;
    const cm = E.param(`${cell}.CmUFPerCm2`);
    return { ...s, ode: { ...s.ode, rhs: E.add(s.ode.rhs, E.div(input.current, cm)), rate: E.add(s.ode.rate, E.div(input.conductance, cm)) } };
  });

  const model: Model = {
    name: def.name,
    states: withSynapses,
    params,
    observed,
    spikeSources,
    currents,
    defaultInit: def.defaultInit ?? [...inits][0],
  };
  return validateModel(model);
}

/** The cell names of a network model, in order (the prefixes of its membrane potentials). */
export function networkCells(model: Model): string[] {
  return model.states.filter((s) => s.name.endsWith('.V') && s.unit === 'mV').map((s) => s.name.slice(0, -2));
}
