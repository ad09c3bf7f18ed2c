/**
 * Integrators: turn a model's ODEs into the expressions of one step.
 *
 * exp-euler (default) is the scheme of MODELS.md §5 in the "gates first" order (xolotl's, and the one
 * that keeps burst periods within 0.1 % of an implicit reference at dt 0.025 ms): stage-0 states
 * (gates) advance with the previous V and [Ca]; stage-1 states (V, [Ca]) then advance with
 * conductances from the new gates and their own previous values. Each variable relaxes exactly for
 * frozen coefficients:
 *   relax form   x' = x∞ + (x − x∞)·exp(−dt/τ)
 *   linear form  x' = x + dt·(a − b·x)·exprel(−b·dt)     (= x∞ + (x − x∞)e^{−b dt} with x∞ = a/b,
 *                but finite at b = 0, where it is the forward-Euler step: MODELS.md §5 item 3)
 *
 * rk4 is the classical fourth-order Runge–Kutta method on the same right-hand sides; time-dependent
 * inputs are held at their value at the start of the step, so step currents on the grid keep order 4.
 */
import * as E from '../model/expr.ts';
import type { Expr } from '../model/expr.ts';
import type { Ode, StateDef } from '../model/model.ts';
import type { Method } from './program.ts';

type StateMap = Map<string, Expr>;

function replaceStates(exprs: readonly Expr[], values: StateMap): Expr[] {
  return E.substitute(exprs, (n) => (n.op === 'state' ? values.get(n.name) : undefined));
}

function odeExprs(ode: Ode): Expr[] {
  return ode.kind === 'relax' ? [ode.inf, ode.tau] : [ode.a, ode.b];
}

/** dx/dt of one state, with its coefficients evaluated at `values`. */
function rhs(def: StateDef, values: StateMap): Expr {
  const x = values.get(def.name)!;
  const [c0, c1] = replaceStates(odeExprs(def.ode), values);
  return def.ode.kind === 'relax' ? E.div(E.sub(c0, x), c1) : E.sub(c0, E.mul(c1, x));
}

/** The exponential-Euler update of one state with coefficients frozen at `values`. */
function expEulerUpdate(def: StateDef, values: StateMap, dtMs: number): Expr {
  const x = E.state(def.name);
  const [c0, c1] = replaceStates(odeExprs(def.ode), values);
  if (def.ode.kind === 'relax') {
    return E.add(c0, E.mul(E.sub(x, c0), E.exp(E.neg(E.div(dtMs, c1)))));
  }
  const rate = E.mul(c1, dtMs);
  return E.add(x, E.mul(E.mul(dtMs, E.sub(c0, E.mul(c1, x))), E.exprel(E.neg(rate))));
}

function currentValues(states: readonly StateDef[]): StateMap {
  return new Map(states.map((s) => [s.name, E.state(s.name)]));
}

function expEulerStep(states: readonly StateDef[], dtMs: number): Expr[] {
  const old = currentValues(states);
  const afterStage0 = new Map(old);
  for (const s of states) if (s.stage === 0) afterStage0.set(s.name, expEulerUpdate(s, old, dtMs));
  return states.map((s) => (s.stage === 0 ? afterStage0.get(s.name)! : expEulerUpdate(s, afterStage0, dtMs)));
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
  return states.map((s, i) =>
    E.add(x0.get(s.name)!, E.mul(dtMs / 6, E.add(E.add(k1[i], E.mul(2, k2[i])), E.add(E.mul(2, k3[i]), k4[i])))),
  );
}

/** The state after one step of `method`, as expressions of the state before it. */
export function integratorStep(method: Method, states: readonly StateDef[], dtMs: number): Expr[] {
  return method === 'rk4' ? rk4Step(states, dtMs) : expEulerStep(states, dtMs);
}
