/**
 * Builds a single-compartment neuron from channels, the way NeuronBuilder.jl does: the user lists
 * channels (each a few gates in x∞/τ or α/β form, an exponent, a reversal potential) and optionally
 * a calcium pool; this module writes the membrane and gate ODEs (docs/models.md §1) and the calcium
 * balance (docs/models.md §3), so nobody writes a differential equation by hand.
 *
 *     C dV/dt = −Σ_i g_i Π_x x^p (V − E_i) + I_ext(t)
 *     τ_Ca d[Ca]/dt = −f · A · 1000 · I_Ca − [Ca] + [Ca]₀            (I_Ca in µA/cm², A in cm²)
 */
import { InputError } from '../errors.ts';
import * as E from './expr.ts';
import type { Expr } from './expr.ts';
import { checkName, own } from './names.ts';
import { parseExpr } from './parse.ts';
import { STIMULUS_SYMBOL, type InitKind, type Model, type ParamDef, type StateDef } from './model.ts';

/** A kinetic expression: text in the expression language, a number, or a built expression. */
export type ExprInput = string | number | Expr;

/** A parameter default: a bare number (unit and range then come from naming conventions) or a full definition. */
export type ParamInput = number | ParamDef;

export interface GateDef {
  /** short name, e.g. 'm' or 'h'; the state is called `${channel}.${gate}` */
  name: string;
  /** integer exponent p in g·x^p */
  power: number;
  /** value at the cold start: 0 for activation gates (default), 1 for inactivation gates */
  coldStart?: 0 | 1;
  /** steady state x∞ (dimensionless) and time constant τ (ms) ... */
  inf?: ExprInput;
  tau?: ExprInput;
  /** ... or opening and closing rates α, β (ms⁻¹) */
  alpha?: ExprInput;
  beta?: ExprInput;
  /** an instantaneous gate: x = x∞(V, [Ca]) at every moment (no state; give inf only) */
  instantaneous?: boolean;
}

export interface ChannelDef {
  /** unique within a neuron, e.g. 'Na' */
  name: string;
  /** name of the maximal-conductance parameter (mS/cm²) */
  conductance: string;
  /** name of the reversal-potential parameter (mV), or the Nernst potential of the calcium pool */
  reversal: string | 'nernst-ca';
  /** true when the current flows into the calcium pool (I_Ca) */
  carriesCalcium?: boolean;
  gates: GateDef[];
  /** factor on every rate (e.g. a Q10 temperature factor): multiplies α and β, divides τ */
  rateFactor?: ExprInput;
  /** factor on the maximal conductance (e.g. NeuroML's q10ConductanceScaling) */
  conductanceFactor?: ExprInput;
  /** defaults of the parameters this channel reads: its conductance, its reversal, named constants */
  params: Record<string, ParamInput>;
  /** where the equations come from (shown in docs and errors) */
  source?: string;
}

export interface CalciumPoolDef {
  /** defaults for tauCaMs, fCa, Ca0UM, CaOutUM (docs/models.md §3) */
  params?: Record<string, ParamInput>;
}

export interface NeuronDef {
  name: string;
  channels: ChannelDef[];
  calcium?: CalciumPoolDef;
  /** soma parameters and overrides of any channel default */
  params?: Record<string, ParamInput>;
  /** initial condition used unless a run asks otherwise */
  defaultInit?: InitKind;
}

/** Physical constants for the Nernst potential (CODATA 2018). */
const GAS_CONSTANT_J_PER_MOL_K = 8.314462618;
const FARADAY_C_PER_MOL = 96485.33212;

/** Parameters every soma has, with defaults from docs/models.md §3 (the Prinz cell). */
export const SOMA_PARAMS: Record<string, ParamDef> = {
  CmUFPerCm2: { value: 1, unit: 'µF/cm²', description: 'specific membrane capacitance', min: 0, exclusiveMin: true },
  areaCm2: { value: 0.628e-3, unit: 'cm²', description: 'membrane area (converts densities to absolute currents)', min: 0, exclusiveMin: true },
  initVMv: { value: -65, unit: 'mV', description: 'initial membrane potential', min: -200, max: 200 },
  IExtUAPerCm2: { value: 0, unit: 'µA/cm²', description: 'constant injected current density', min: -1e4, max: 1e4 },
  celsius: { value: 6.3, unit: '°C', description: 'temperature', min: -273.15, exclusiveMin: true, max: 100 },
};

/** Calcium-pool parameters (docs/models.md §3: Prinz 2003, after Liu 1998). */
export const CALCIUM_PARAMS: Record<string, ParamDef> = {
  tauCaMs: { value: 200, unit: 'ms', description: 'calcium buffering time constant', min: 0, exclusiveMin: true },
  fCa: { value: 14.96, unit: 'µM/nA', description: 'calcium influx per unit current (multiplies the total current in nA)', min: 0 },
  Ca0UM: { value: 0.05, unit: 'µM', description: 'resting intracellular calcium', min: 0, exclusiveMin: true },
  CaOutUM: { value: 3000, unit: 'µM', description: 'extracellular calcium (Nernst potential)', min: 0, exclusiveMin: true },
};

/** Unit and range that a bare-number parameter default gets from its name. */
export function inferParamDef(name: string, value: number): ParamDef {
  if (/^g[A-Z]/.test(name)) return { value, unit: 'mS/cm²', description: `maximal conductance ${name.slice(1)}`, min: 0 };
  if (/^E[A-Z]/.test(name)) return { value, unit: 'mV', description: `reversal potential ${name.slice(1)}`, min: -500, max: 500 };
  if (/Ms$/.test(name)) return { value, unit: 'ms', description: name, min: 0, exclusiveMin: true };
  if (/Mv$/.test(name)) return { value, unit: 'mV', description: name };
  return { value, unit: '', description: name };
}

function toParamDef(name: string, input: ParamInput): ParamDef {
  return typeof input === 'number' ? inferParamDef(name, input) : { ...input };
}

export function toExpr(input: ExprInput): Expr {
  if (typeof input === 'number') return E.num(input);
  if (typeof input === 'string') return parseExpr(input);
  return input;
}

/**
 * The state of one gate: its ODE in x∞/τ or α/β form (each rate multiplied by `rate`, e.g. a Q10
 * factor), the cold start and the steady state at the initial conditions (`atInit`). Channels and
 * synapses share it. `resolve` turns a gate's expression input into an expression of the model's names.
 */
export function gateState(
  stateName: string,
  description: string,
  gate: GateDef,
  resolve: (input: ExprInput, where: string) => Expr,
  rate: Expr,
  atInit: (expr: Expr) => Expr,
): StateDef {
  if (!Number.isInteger(gate.power) || gate.power < 1) throw new InputError(`gate ${stateName}: power must be a positive integer, got ${gate.power}`);
  const where = `gate ${stateName}`;
  const x = E.state(stateName);
  let ode: StateDef['ode'];
  let inf: Expr;
  if (gate.inf !== undefined && gate.tau !== undefined && gate.alpha === undefined && gate.beta === undefined) {
    inf = resolve(gate.inf, `${where} inf`);
    const tauOwn = resolve(gate.tau, `${where} tau`);
    // a constant τ ≤ 0 is caught here; one that depends on V may reach 0 only at run time, where the
    // relaxation takes the limit (x = x∞) and a negative τ grows until the run is marked diverged
    if (tauOwn.isConst && !(tauOwn.value > 0)) throw new InputError(`${where} tau is ${tauOwn.value} ms: a time constant must be > 0`);
    const tau = E.div(tauOwn, rate);
    const relaxRate = E.div(1, tau);
    ode = { rhs: E.mul(E.sub(inf, x), relaxRate), rate: relaxRate, inf, tau };
  } else if (gate.alpha !== undefined && gate.beta !== undefined && gate.inf === undefined && gate.tau === undefined) {
    const alphaOwn = resolve(gate.alpha, `${where} alpha`), betaOwn = resolve(gate.beta, `${where} beta`);
    for (const [name, r] of [['alpha', alphaOwn], ['beta', betaOwn]] as const) {
      if (r.isConst && !(r.value >= 0)) throw new InputError(`${where} ${name} is ${r.value} per ms: a rate must be ≥ 0`);
    }
    const alpha = E.mul(alphaOwn, rate);
    const beta = E.mul(betaOwn, rate);
    const sum = E.add(alpha, beta);
    inf = E.div(alpha, sum);
    // dx/dt = α(1 − x) − βx
    ode = { rhs: E.sub(alpha, E.mul(sum, x)), rate: sum, inf, tau: E.div(1, sum) };
  } else {
    throw new InputError(`${where}: give either inf and tau, or alpha and beta`);
  }
  return { name: stateName, unit: '1', description, ode, stage: 0, init: { cold: E.num(gate.coldStart ?? 0), steady: atInit(inf) } };
}

/** Merges parameter defaults; two sources that give one name different defaults is an error unless overridden. */
function mergeParams(
  into: Record<string, ParamDef>,
  origin: Record<string, string>,
  from: Record<string, ParamInput>,
  source: string,
  overrides: Record<string, ParamInput>,
): void {
  for (const [name, input] of Object.entries(from)) {
    checkName('parameter', name, `${source}: `);
    const def = toParamDef(name, input);
    const existing = own(into, name);
    if (existing && existing.value !== def.value && !Object.hasOwn(overrides, name)) {
      throw new InputError(
        `parameter ${name} has default ${existing.value} in ${origin[name]} but ${def.value} in ${source}; ` +
          `set it in the neuron's params to choose one`,
      );
    }
    if (!existing) {
      into[name] = def;
      origin[name] = source;
    }
  }
}

/** Assembles a neuron definition into a Model (states with ODEs, parameters, observables). */
export function buildNeuron(def: NeuronDef): Model {
  checkName('neuron', def.name);
  const overrides = def.params ?? {};
  const params: Record<string, ParamDef> = {};
  const origin: Record<string, string> = {};
  mergeParams(params, origin, SOMA_PARAMS, 'the soma', overrides);
  if (def.calcium) {
    // the pool's own params replace its defaults (they are one source, not two that could conflict)
    const own = Object.fromEntries(Object.entries(def.calcium.params ?? {}).map(([k, v]) => [k, toParamDef(k, v)]));
    const pool = Object.fromEntries(Object.entries({ ...CALCIUM_PARAMS, ...own }).map(([k, v]) => [k, { ...CALCIUM_PARAMS[k], ...v }]));
    mergeParams(params, origin, pool, 'the calcium pool', overrides);
  }
  const names = new Set<string>();
  for (const ch of def.channels) {
    checkName('channel', ch.name, `neuron ${def.name}: `);
    for (const gate of ch.gates) checkName('gate', gate.name, `channel ${ch.name}: `);
    if (names.has(ch.name)) throw new InputError(`channel name ${ch.name} appears twice in neuron ${def.name}`);
    names.add(ch.name);
    mergeParams(params, origin, ch.params, `channel ${ch.name}`, overrides);
  }
  for (const [name, input] of Object.entries(overrides)) {
    checkName('parameter', name, `neuron ${def.name} params: `);
    params[name] = Object.hasOwn(params, name) ? { ...params[name], ...(typeof input === 'number' ? { value: input } : input) } : toParamDef(name, input);
  }

  const hasCa = def.calcium !== undefined;
  const V = E.state('V');
  const Ca = E.state('Ca');

  /** Resolves names in a channel's expressions: V, Ca, parameters. */
  const resolve = (expr: Expr, where: string): Expr =>
    E.substitute([expr], (node) => {
      if (node.op !== 'sym') return undefined;
      if (node.name === 'V') return V;
      if (node.name === 'Ca') {
        if (!hasCa) throw new InputError(`${where} reads Ca, but neuron ${def.name} has no calcium pool`);
        return Ca;
      }
      if (Object.hasOwn(params, node.name)) return E.param(node.name);
      throw new InputError(
        `${where} uses unknown name '${node.name}'; known: V${hasCa ? ', Ca' : ''}, ${Object.keys(params).join(', ')} ` +
          `(declare it in the channel's params to make it a parameter)`,
      );
    })[0];

  const states: StateDef[] = [];
  let conductanceSum: Expr = E.ZERO; // G = Σ g (mS/cm²)
  let membraneCurrent: Expr = E.ZERO; // Σ g·(E − V) (µA/cm²), written per channel so f32 never subtracts Σg·E − G·V
  let calciumCurrent: Expr = E.ZERO; // I_Ca (µA/cm²), frozen at the previous V and [Ca]
  const currents: { name: string; expr: Expr }[] = [];

  // E_Ca = (RT/2F) ln([Ca]out/[Ca]) in mV; at 283 K (celsius 9.85) RT/2F = 12.1936 mV (docs/models.md §3)
  const rtOver2FMv = E.mul((GAS_CONSTANT_J_PER_MOL_K * 1000) / (2 * FARADAY_C_PER_MOL), E.add(E.param('celsius'), 273.15));
  const eCa = hasCa ? E.mul(rtOver2FMv, E.log(E.div(E.param('CaOutUM'), Ca))) : undefined;

  // V and Ca at their initial values, for steady-state gate initialisation
  const atInit = (expr: Expr) =>
    E.substitute([expr], (n) => (n === V ? E.param('initVMv') : n === Ca ? E.param('Ca0UM') : undefined))[0];

  for (const ch of def.channels) {
    for (const required of [ch.conductance, ...(ch.reversal === 'nernst-ca' ? [] : [ch.reversal])]) {
      if (!Object.hasOwn(params, required)) throw new InputError(`channel ${ch.name} needs a default for parameter ${required} in its params`);
    }
    const rate = ch.rateFactor === undefined ? E.ONE : resolve(toExpr(ch.rateFactor), `channel ${ch.name} rateFactor`);
    let g: Expr = ch.conductanceFactor === undefined ? E.param(ch.conductance) : E.mul(E.param(ch.conductance), resolve(toExpr(ch.conductanceFactor), `channel ${ch.name} conductanceFactor`));
    for (const gate of ch.gates) {
      const stateName = `${ch.name}.${gate.name}`;
      if (gate.instantaneous) {
        if (gate.inf === undefined || gate.tau !== undefined || gate.alpha !== undefined || gate.beta !== undefined) throw new InputError(`gate ${stateName}: an instantaneous gate gives inf only`);
        if (!Number.isInteger(gate.power) || gate.power < 1) throw new InputError(`gate ${stateName}: power must be a positive integer, got ${gate.power}`);
        g = E.mul(g, E.powi(resolve(toExpr(gate.inf), `gate ${stateName} inf`), gate.power));
        continue;
      }
      states.push(gateState(stateName, `gate ${gate.name} of channel ${ch.name}`, gate, (input, where) => resolve(toExpr(input), where), rate, atInit));
      g = E.mul(g, E.powi(E.state(stateName), gate.power));
    }
    const reversal = ch.reversal === 'nernst-ca' ? eCa : E.param(ch.reversal);
    if (!reversal) throw new InputError(`channel ${ch.name} uses the calcium Nernst potential, but neuron ${def.name} has no calcium pool`);
    conductanceSum = E.add(conductanceSum, g);
    membraneCurrent = E.add(membraneCurrent, E.mul(g, E.sub(reversal, V)));
    currents.push({ name: `I${ch.name}`, expr: E.mul(g, E.sub(V, reversal)) });
    if (ch.carriesCalcium) {
      if (!hasCa) throw new InputError(`channel ${ch.name} carries calcium, but neuron ${def.name} has no calcium pool`);
      calciumCurrent = E.add(calciumCurrent, E.mul(g, E.sub(V, reversal)));
    }
  }

  const cm = E.param('CmUFPerCm2');
  const injected = E.add(E.param('IExtUAPerCm2'), E.sym(STIMULUS_SYMBOL));
  states.push({
    name: 'V',
    unit: 'mV',
    description: 'membrane potential',
    ode: { rhs: E.div(E.add(membraneCurrent, injected), cm), rate: E.div(conductanceSum, cm) },
    stage: 1,
    init: { cold: E.param('initVMv'), steady: E.param('initVMv') },
  });
  if (hasCa) {
    const tau = E.param('tauCaMs');
    // f multiplies the total current in nA: A (cm²) · 1000 · I (µA/cm²) (docs/models.md §3: the factor-10 bug of some ports)
    const influx = E.mul(E.mul(E.param('fCa'), E.mul(E.param('areaCm2'), 1000)), calciumCurrent);
    states.push({
      name: 'Ca',
      unit: 'µM',
      description: 'intracellular calcium concentration',
      ode: { rhs: E.div(E.sub(E.sub(E.param('Ca0UM'), influx), Ca), tau), rate: E.div(E.ONE, tau) },
      stage: 1,
      init: { cold: E.param('Ca0UM'), steady: E.param('Ca0UM') },
    });
  }

  return {
    name: def.name,
    states,
    params,
    observed: [
      { name: 'V', expr: V, unit: 'mV', kind: 'voltage' },
      ...(hasCa ? [{ name: 'Ca', expr: Ca, unit: 'µM', kind: 'calcium' as const }] : []),
    ],
    spikeSources: [{ name: 'V', expr: V }],
    currents,
    defaultInit: def.defaultInit ?? 'steady',
  };
}
