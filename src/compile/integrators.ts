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
  rhs: Expr;
  rate: Expr;
}

/**
 * What one step of `method` would have added to each forced state, had it been integrated with the
 * rest from its recorded value: the increment the recording is compared with (teacher forcing).
 * exp-euler: dt·rhs·exprel(−rate·dt), with the coefficients where the scheme evaluates a stage-1
 * state's (gates already advanced, other stage-1 states not). It also returns `stepScale`,
 * dt·exprel(−rate·dt), the factor by which the equation error divides the increments so that it is
 * linear in the conductances (Δx_data/stepScale − rhs). rk4: the weighted mean of rhs over the four
 * stages times dt (the recording, like any input, held at its value at the start of the step);
 * `stepScale` is dt.
 */
export function forcedIncrements(method: Method, states: readonly StateDef[], forced: readonly ForcedOde[], dtMs: number): { increment: Expr; stepScale: Expr; rhsMean: Expr }[] {
  const old = currentValues(states);
  if (method === 'exp-euler') {
    const afterStage0 = new Map(old);
    const stage0 = expEulerStep(states, dtMs);
    states.forEach((s, k) => {
      if (s.stage === 0) afterStage0.set(s.name, E.add(old.get(s.name)!, stage0[k]));
    });
    return forced.map((f) => {
      const [rhsValue, rate] = replaceStates([f.rhs, f.rate], afterStage0);
      const stepScale = E.mul(dtMs, E.exprel(E.neg(E.mul(rate, dtMs))));
      return { increment: E.mul(rhsValue, stepScale), stepScale, rhsMean: rhsValue };
    });
  }
  const f = (values: StateMap) => states.map((s) => rhs(s, values));
  const shifted = (k: Expr[], h: number): StateMap => new Map(states.map((s, i) => [s.name, E.add(old.get(s.name)!, E.mul(h, k[i]))]));
  const k1 = f(old), k2 = f(shifted(k1, dtMs / 2)), k3 = f(shifted(k2, dtMs / 2));
  const stageValues = [old, shifted(k1, dtMs / 2), shifted(k2, dtMs / 2), shifted(k3, dtMs)];
  return forced.map((fo) => {
    const [r1, r2, r3, r4] = stageValues.map((values) => replaceStates([fo.rhs], values)[0]);
    const rhsMean = E.mul(1 / 6, E.add(E.add(r1, E.mul(2, r2)), E.add(E.mul(2, r3), r4)));
    return { increment: E.mul(dtMs, rhsMean), stepScale: E.num(dtMs), rhsMean };
  });
}
