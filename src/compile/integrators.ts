/**
 * Integrators: turn a model's ODEs into the expressions of one step.
 *
 * exp-euler (default) is the scheme of docs/models.md §5 in the "gates first" order (xolotl's, and the one
 * that keeps burst periods within 0.1 % of an implicit reference at dt 0.025 ms): stage-0 states
 * (gates) advance with the previous V and [Ca]; stage-1 states (V, [Ca]) then advance with
 * conductances from the new gates and their own previous values. Each variable relaxes exactly for
 * frozen coefficients:
 *   relax form   x' = x∞ + (x − x∞)·exp(−dt/τ)
 *   linear form  x' = x + dt·(a − b·x)·exprel(−b·dt)     (= x∞ + (x − x∞)e^{−b dt} with x∞ = a/b,
 *                but finite at b = 0, where it is the forward-Euler step: docs/models.md §5 item 3)
 *
 * rk4 is the classical fourth-order Runge–Kutta method on the same right-hand sides; time-dependent
 * inputs are held at their value at the start of the step, so step currents on the grid keep order 4.
 */
import * as E from '../model/expr.ts';
import type { Expr } from '../model/expr.ts';
import type { StateDef } from '../model/model.ts';
import type { Method } from './program.ts';

type StateMap = Map<string, Expr>;

function replaceStates(exprs: readonly Expr[], values: StateMap): Expr[] {
  return E.substitute(exprs, (n) => (n.op === 'state' ? values.get(n.name) : undefined));
}

/** dx/dt of one state, with its coefficients evaluated at `values`. */
function rhs(def: StateDef, values: StateMap): Expr {
  return replaceStates([def.ode.rhs], values)[0];
}

/** The exponential-Euler increment of one state, everything but its own linear decay frozen at `values`. */
function expEulerIncrement(def: StateDef, values: StateMap, dtMs: number): Expr {
  const x = values.get(def.name)!;
  if (def.ode.inf) {
    // a gate: (x − x∞)·expm1(−dt·rate), i.e. x∞ + (x − x∞)·exp(−dt/τ) written as an increment
    const [inf, rate] = replaceStates([def.ode.inf, def.ode.rate], values);
    return E.mul(E.sub(x, inf), E.expm1(E.neg(E.mul(dtMs, rate))));
  }
  const [f, rate] = replaceStates([def.ode.rhs, def.ode.rate], values);
  return E.mul(E.mul(dtMs, f), E.exprel(E.neg(E.mul(rate, dtMs))));
}

function currentValues(states: readonly StateDef[]): StateMap {
  return new Map(states.map((s) => [s.name, E.state(s.name)]));
}

function expEulerStep(states: readonly StateDef[], dtMs: number): Expr[] {
  const old = currentValues(states);
  const increments = new Map<string, Expr>();
  for (const s of states) if (s.stage === 0) increments.set(s.name, expEulerIncrement(s, old, dtMs));
  const afterStage0 = new Map(states.map((s) => [s.name, s.stage === 0 ? E.add(old.get(s.name)!, increments.get(s.name)!) : old.get(s.name)!]));
  return states.map((s) => (s.stage === 0 ? increments.get(s.name)! : expEulerIncrement(s, afterStage0, dtMs)));
}

function rk4Step(states: readonly StateDef[], dtMs: number): Expr[] {
  const x0 = currentValues(states);
  const f = (values: StateMap) => states.map((s) => rhs(s, values));
  const shifted = (k: Expr[], h: number): StateMap =>
    new Map(states.map((s, i) => [s.name, E.add(x0.get(s.name)!, E.mul(h, k[i]))]));
  const k1 = f(x0);
  const k2 = f(shifted(k1, dtMs / 2));
  const k3 = f(shifted(k2, dtMs / 2));
  const k4 = f(shifted(k3, dtMs));
  return states.map((_, i) => E.mul(dtMs / 6, E.add(E.add(k1[i], E.mul(2, k2[i])), E.add(E.mul(2, k3[i]), k4[i]))));
}

/** The increment of each state over one step of `method`, as expressions of the state before it. */
export function integratorStep(method: Method, states: readonly StateDef[], dtMs: number): Expr[] {
  return method === 'rk4' ? rk4Step(states, dtMs) : expEulerStep(states, dtMs);
}

/** The equation of a state that a recording replaces: dx/dt = rhs, rate = −∂rhs/∂x (see model.ts, ForcedState). */
export interface ForcedOde {
  /** the recording that replaces the state (its `input` leaves at offset 0 stand for the state) */
  input: string;
  rhs: Expr;
  rate: Expr;
}

/**
 * One step of a model whose forced states are replaced by recordings (teacher forcing): the
 * increments of the other states, and for each forced state what the step would have added to it,
 * had it been integrated with the rest from its recorded value (the increment the recording is
 * compared with), with `stepScale`, the factor by which the equation error divides increments.
 * - exp-euler: the forced state does not feed back within a step, so the others' increments are the
 *   plain step with the recording in its place; the forced state's own increment is
 *   dt·rhs·exprel(−rate·dt) with the coefficients where the scheme evaluates a stage-1 state (gates
 *   already advanced, other stage-1 states not); stepScale = dt·exprel(−rate·dt), so that
 *   Δx_data/stepScale − rhs is linear in the conductances.
 * - rk4: the forced state is integrated with the rest through the four stages from its recorded
 *   value (every equation reads its stage values, as in the free run), so the step is the free
 *   model's step from the recorded state; stepScale = dt and rhsMean the weighted mean slope.
 * Either way a recording made by the same integrator at the same dt leaves residuals at rounding level.
 */
export function forcedStep(method: Method, states: readonly StateDef[], forced: readonly ForcedOde[], dtMs: number): { increments: Expr[]; forced: { increment: Expr; stepScale: Expr; rhsMean: Expr; rate?: Expr }[] } {
  if (method === 'exp-euler' || !forced.length) {
    const increments = integratorStep(method, states, dtMs);
    const old = currentValues(states);
    const afterStage0 = new Map(old);
    states.forEach((s, k) => {
      if (s.stage === 0) afterStage0.set(s.name, E.add(old.get(s.name)!, increments[k]));
    });
    return {
      increments,
      forced: forced.map((f) => {
        const [rhsValue, rate] = replaceStates([f.rhs, f.rate], afterStage0);
        const stepScale = E.mul(dtMs, E.exprel(E.neg(E.mul(rate, dtMs))));
        return { increment: E.mul(rhsValue, stepScale), stepScale, rhsMean: rhsValue, rate };
      }),
    };
  }
  // rk4: the recordings become states of the step (named after their recording, which no model state
  // shares: teacherForce refuses a recording named as a parameter, and forced states leave the list)
  const asState = (exprs: readonly Expr[]) => E.substitute(exprs, (n) => (n.op === 'input' && n.value === 0 && forced.some((f) => f.input === n.name) ? E.state(`${FORCED_PREFIX}${n.name}`) : undefined));
  const one = (e: Expr) => asState([e])[0];
  const pseudo: StateDef[] = [
    ...states.map((s) => ({ ...s, ode: { ...s.ode, rhs: one(s.ode.rhs), rate: one(s.ode.rate), ...(s.ode.inf ? { inf: one(s.ode.inf) } : {}) } })),
    ...forced.map((f) => ({ name: `${FORCED_PREFIX}${f.input}`, unit: '', description: '', stage: 1 as const, ode: { rhs: one(f.rhs), rate: one(f.rate) }, init: { cold: E.ZERO, steady: E.ZERO } })),
  ];
  const back = (exprs: readonly Expr[]) => E.substitute(exprs, (n) => {
    if (n.op !== 'state' || !n.name.startsWith(FORCED_PREFIX)) return undefined;
    return E.input(n.name.slice(FORCED_PREFIX.length));
  });
  const all = back(rk4Step(pseudo, dtMs));
  return {
    increments: all.slice(0, states.length),
    forced: forced.map((_, k) => {
      const increment = all[states.length + k];
      return { increment, stepScale: E.num(dtMs), rhsMean: E.mul(1 / dtMs, increment) };
    }),
  };
}

/** Prefix of the step-internal states that stand for recordings in an rk4 teacher-forced step. */
const FORCED_PREFIX = '__forced.';
