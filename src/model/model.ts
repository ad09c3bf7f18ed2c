/**
 * Model: the assembled form every builder (neurons, networks, NeuroML import) produces and the
 * compiler consumes. It is a list of state variables with their ODEs, a table of named parameters
 * and what to observe. Nothing here knows about channels: those are gone once a model is built.
 */
import { InputError } from '../errors.ts';
import type { Expr } from './expr.ts';
import { own } from './names.ts';

/** A named model parameter with its default value and the range it may take. */
export interface ParamDef {
  value: number;
  unit: string;
  description: string;
  /** smallest allowed value (inclusive unless `exclusiveMin`) */
  min?: number;
  exclusiveMin?: boolean;
  /** largest allowed value (inclusive) */
  max?: number;
}

/**
 * The right-hand side of one state's ODE, in the form the integrators need:
 *   dx/dt = rhs, and rate = −∂rhs/∂x ≥ 0 with everything else held fixed (ms⁻¹).
 * Gates also give their steady state `inf` (then rhs = (inf − x)·rate) and time constant `tau`.
 * See integrators.ts for how exponential Euler uses each form.
 */
export interface Ode {
  rhs: Expr;
  rate: Expr;
  inf?: Expr;
  tau?: Expr;
}

export interface StateDef {
  name: string;
  unit: string;
  description: string;
  ode: Ode;
  /**
   * Exponential-Euler update order (docs/models.md §5, "gates first"): stage-0 states (gates, synaptic
   * activations) advance first, reading the previous state; stage-1 states (membrane potentials,
   * calcium) then advance reading the new stage-0 values and the previous stage-1 values.
   */
  stage: 0 | 1;
  /** Initial value as an expression of parameters only: the cold start and the steady state. */
  init: { cold: Expr; steady: Expr };
}

/** A quantity whose time average, extremes and tangents the engines accumulate. */
export interface ObservedDef {
  name: string;
  expr: Expr;
  unit: string;
  kind: 'voltage' | 'calcium' | 'other';
}

/** A voltage whose upward threshold crossings are recorded as spikes. */
export interface SpikeSource {
  name: string;
  expr: Expr;
}

export type InitKind = 'steady' | 'cold';

/**
 * A state that a recording replaces (teacher forcing, see teacher-forcing.ts): every other equation
 * reads the recording `input` where it read the state, and the state's own equation, kept here with
 * the recording in its place too, becomes a residual that the compiler adds as a cost (compile.ts).
 */
export interface ForcedState {
  /** the replaced state's name (e.g. V, or AB.V in a network) */
  name: string;
  /** the recording that replaces it */
  input: string;
  unit: string;
  /** the state's ODE with the state itself read from the recording */
  ode: Pick<Ode, 'rhs' | 'rate'>;
}

export interface Model {
  name: string;
  states: StateDef[];
  params: Record<string, ParamDef>;
  observed: ObservedDef[];
  spikeSources: SpikeSource[];
  /**
   * membrane currents a run may record (`--record INa`): each channel's I = g·Πxᵖ·(V − E) in µA/cm²,
   * outward positive, as expressions of states and parameters (optional: a model may name none)
   */
  currents?: { name: string; expr: Expr }[];
  /** which initial condition a run uses unless told otherwise */
  defaultInit: InitKind;
  /** states replaced by recordings (teacherForce); their equations become residuals */
  forced?: ForcedState[];
}

/** The symbol that an injected-current schedule replaces at compile time (µA/cm²). */
export const STIMULUS_SYMBOL = 'stimulus';

/** Checks a value against a parameter's allowed range; returns a message naming the range, or null. */
export function checkParamValue(name: string, def: ParamDef, value: number): string | null {
  const range = describeRange(def);
  if (!Number.isFinite(value)) return `parameter ${name} must be a finite number${range ? ` in ${range}` : ''}, got ${value}`;
  const belowMin = def.min !== undefined && (def.exclusiveMin ? value <= def.min : value < def.min);
  const aboveMax = def.max !== undefined && value > def.max;
  if (belowMin || aboveMax) return `parameter ${name} = ${value} is out of range: allowed ${range} ${def.unit}`.trimEnd();
  return null;
}

export function describeRange(def: ParamDef): string {
  if (def.min === undefined && def.max === undefined) return '';
  const lo = def.min === undefined ? '(-inf' : `${def.exclusiveMin ? '(' : '['}${def.min}`;
  const hi = def.max === undefined ? 'inf)' : `${def.max}]`;
  return `${lo}, ${hi}`;
}

/** Looks up a parameter or throws an error that lists the model's parameters. */
export function requireParam(model: Model, name: string): ParamDef {
  const def = own(model.params, name);
  if (!def) throw new InputError(`unknown parameter '${name}' for model ${model.name}; allowed: ${Object.keys(model.params).join(', ')}`);
  return def;
}
