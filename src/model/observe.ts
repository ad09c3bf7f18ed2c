/**
 * Extra observed quantities: any expression of a model's state becomes a quantity whose time
 * average, extremes and tangents the engines accumulate (the compiler differentiates it like the
 * rest of the step). Costs use this for a smoothed firing rate and for smooth indicators of V.
 *
 * Names in an expression resolve to: a state (V, Ca, or a gate such as Na.m), `dVdt` (the membrane
 * equation's right-hand side, mV/ms, evaluated on the current state), or a model parameter.
 */
import { InputError } from '../errors.ts';
import * as E from './expr.ts';
import type { Expr } from './expr.ts';
import { parseExpr } from './parse.ts';
import type { Model, ObservedDef } from './model.ts';
import { checkName } from './names.ts';

export interface ObservedInput {
  name: string;
  /** text in the expression language (see parse.ts) or a built expression */
  expr: string | Expr;
  unit: string;
  kind?: ObservedDef['kind'];
}

/** Name under which an expression reads dV/dt (mV/ms). */
export const DVDT_NAME = 'dVdt';

/** Resolves the names of an observed expression against a model's states and parameters. */
function resolve(model: Model, expr: Expr, where: string): Expr {
  const states = new Set(model.states.map((s) => s.name));
  const vState = model.states.find((s) => s.name === 'V');
  return E.substitute([expr], (node) => {
    if (node.op !== 'sym') return undefined;
    if (node.name === DVDT_NAME) {
      if (!vState) throw new InputError(`${where} reads ${DVDT_NAME}, but model ${model.name} has no state V`);
      return vState.ode.rhs;
    }
    if (states.has(node.name)) return E.state(node.name);
    if (Object.hasOwn(model.params, node.name)) return E.param(node.name);
    // the compiler resolves the stimulus symbol itself (dVdt contains it)
    if (node.name === 'stimulus') return undefined;
    throw new InputError(
      `${where} uses unknown name '${node.name}'; known: ${[...states, ...(vState ? [DVDT_NAME] : []), ...Object.keys(model.params)].join(', ')}`,
    );
  })[0];
}

/** A copy of `model` that also observes the given quantities (names must be new). */
export function withObserved(model: Model, extra: readonly ObservedInput[]): Model {
  const names = new Set(model.observed.map((o) => o.name));
  const added: ObservedDef[] = extra.map((o) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.name)) throw new InputError(`observed name '${o.name}' must be letters, digits and _ (starting with a letter)`);
    checkName('observed quantity', o.name);
    if (names.has(o.name)) throw new InputError(`observed quantity '${o.name}' already exists in model ${model.name}; observed: ${[...names].join(', ')}`);
    names.add(o.name);
    const parsed = typeof o.expr === 'string' ? parseExpr(o.expr) : o.expr;
    return { name: o.name, unit: o.unit, kind: o.kind ?? 'other', expr: resolve(model, parsed, `observed '${o.name}'`) };
  });
  return { ...model, observed: [...model.observed, ...added] };
}

export interface SmoothRateOptions {
  /** centre of the voltage window that counts an upward pass as a spike (mV). Default −15. */
  thresholdMv?: number;
  /** standard deviation of the Gaussian voltage window (mV). Default 15: narrower windows make the tangent a sum of larger cancelling terms, which f32 resolves worse (w = 5 mV: errors up to 3 % on the GPU, 15 mV: 0.7 %). */
  widthMv?: number;
  /** slopes well above this count fully, slopes below 0 not at all (mV/ms). Default 1. */
  slopeMvPerMs?: number;
}

/**
 * A smoothed firing rate (Hz) as an observed expression: 1000 · φ(V − θ) · p(dV/dt), with φ a
 * Gaussian of width w normalised to unit area (1/mV) and p(x) = (x + √(x² + κ²))/2 a smooth positive
 * part. Its time average counts upward passes through the window: during a fast upstroke p(V̇) ≈ V̇,
 * so ∫ φ(V − θ) V̇ dt = ∫ φ dV = 1 per spike, and downstrokes add ≈ ∫ φ κ²/(4V̇²) dV, which is tiny.
 * Unlike a spike count it is a smooth function of the trajectory, so its tangents exist and mean
 * something. (p has no exponential: x·logistic(x/κ) overflows f32 on a 100 mV/ms downstroke and its
 * derivative becomes inf/inf.)
 *
 * The engine sums the samples, and exponential Euler moves V further per step than dt·dV/dt on an
 * upstroke (gates advance first), so the mean falls short of the spike rate by a fraction ∝ dt:
 * about 12 % at dt = 0.025 ms for HH and Prinz cells, 6 % at 0.0125 ms (test/observe.test.ts). The
 * shortfall is nearly the same at every rate, so a cost whose target comes from a run at the same dt
 * is unaffected.
 */
export function smoothRateExpr(options: SmoothRateOptions = {}): string {
  const theta = options.thresholdMv ?? -15, w = options.widthMv ?? 15, kappa = options.slopeMvPerMs ?? 1;
  for (const [field, value] of [['thresholdMv', theta], ['widthMv', w], ['slopeMvPerMs', kappa]] as const) {
    if (!Number.isFinite(value)) throw new InputError(`rate.${field} must be a finite number, got ${value}`);
  }
  if (w <= 0) throw new InputError(`rate.widthMv must be > 0 (mV), got ${w}`);
  if (kappa <= 0) throw new InputError(`rate.slopeMvPerMs must be > 0 (mV/ms), got ${kappa}`);
  const norm = 1000 / (w * Math.sqrt(2 * Math.PI));
  return `${norm / 2} * exp(-0.5*((V - (${theta}))/${w})^2) * (${DVDT_NAME} + sqrt(${DVDT_NAME}^2 + ${kappa * kappa}))`;
}
