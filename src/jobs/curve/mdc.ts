/**
 * Minimally disruptive curves (Raman, Anderson & Papachristodoulou 2017; the algorithm of
 * MinimallyDisruptiveCurves.jl), discretised: a curve γ(s) at unit speed from θ0, steered by a
 * costate λ that integrates −∇C, like a particle with energy H rolling along the valleys of the cost:
 *
 *     γ' = u,   u = λ/|λ| (never pointing back towards θ0),   λ' = −∇C,   |λ| = H − C(γ)
 *
 * The last relation (energy conservation) is exact for the continuous curve; the discrete steps
 * enforce it after every step, which is the costate reset MinimallyDisruptiveCurves.jl applies when
 * its residual grows. So the curve turns away from rising cost more sharply the closer the cost is to
 * H = C(θ0) + momentum, and a step whose cost would exceed H is refused and retried shorter: every
 * accepted point has C ≤ H. Only cost and gradient are used.
 *
 * Step length: halves after a refused step. Otherwise, in the plain dynamics, it grows by 1.5× after a
 * step that turned the direction by less than maxTurn/4 and halves after one that turned it by more
 * than maxTurn; in level-set mode it grows by 1.5× while the cost stays in the lower half of the band
 * [C0, H] and halves when it enters the upper half (the corrector keeps the curve on its level set,
 * so the turn of the direction says little there: on a rough cost it mostly reflects the roughness
 * of the gradient, and limiting it stalls the curve).
 *
 * Level-set mode (`levelSet`, the default of the curve job): in a narrow valley (a cost whose Hessian
 * is nearly rank one, docs/models.md §9) the costate makes the curve bounce between the valley's walls at
 * a turn rate |∇C|/(H − C), which forces tiny steps. With levelSet the direction u is also projected
 * onto the tangent space of the level set through the current point (no component along ∇C), and
 * each trial point is pulled back towards the start's cost by a Newton step along the gradient,
 * −(C − C0)·∇C/|∇C|² (a predictor–corrector continuation of the level set C = C0). The costate still
 * carries the direction from step to step, and the ceiling still bounds every accepted point.
 */
export interface CurveOptions {
  /** the cost ceiling H */
  ceiling: number;
  /** arc length to reach (coordinate units) */
  length: number;
  maxSteps: number;
  minStep: number;
  maxStep: number;
  /** largest change of direction per step (radians) */
  maxTurn: number;
  /** follow the level set of the start's cost (predictor–corrector), see above */
  levelSet: boolean;
}

/** 'diverged' (set by run.ts): the last trials, down to the smallest step, diverged (engine/ensemble.ts, DivergenceResult) */
export type CurveStop = 'length' | 'steps' | 'cost ceiling' | 'not finite' | 'diverged';

export interface CurveState {
  theta0: Float64Array;
  theta: Float64Array;
  lambda: Float64Array;
  cost: number;
  /** ∇C at theta */
  gradient: Float64Array;
  /** C(θ0) */
  cost0: number;
  /** arc length travelled */
  s: number;
  /** current step length */
  h: number;
  steps: number;
  /** refused steps */
  refused: number;
  /** H − C(θ0), the costate's initial length */
  energy0: number;
  stopped?: CurveStop;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));

/** A curve at θ0 heading along v (any length), with cost C0 (below the ceiling) and gradient g0 there. */
export function startCurve(theta0: ArrayLike<number>, v: ArrayLike<number>, cost0: number, gradient0: ArrayLike<number>, options: CurveOptions, firstStep: number): CurveState {
  const n = norm(v);
  const energy = options.ceiling - cost0;
  return {
    theta0: Float64Array.from(theta0), theta: Float64Array.from(theta0),
    lambda: Float64Array.from(v, (x) => (x / n) * energy),
    cost: cost0, gradient: Float64Array.from(gradient0), cost0, s: 0, h: firstStep, steps: 0, refused: 0, energy0: energy,
    stopped: energy > 0 && n > 0 ? undefined : 'cost ceiling',
  };
}

/** Removes from u (in place) its component along w. */
function removeComponent(u: Float64Array, w: ArrayLike<number>): void {
  const w2 = dot(w, w);
  if (!(w2 > 0)) return;
  const k = dot(u, w) / w2;
  for (let i = 0; i < u.length; i++) u[i] -= k * w[i];
}

/** The unit direction of travel: along λ (in level-set mode, tangent to the level set), never back towards θ0. */
export function direction(state: CurveState, levelSet = false): Float64Array {
  const u = Float64Array.from(state.lambda);
  if (levelSet) removeComponent(u, state.gradient);
  const d = state.theta.map((x, i) => x - state.theta0[i]);
  const dn = norm(d);
  if (dn > 0 && dot(u, d) < 0) {
    // the constraint ⟨u, γ − θ0⟩ ≥ 0 is active: project onto its boundary (MDC's multiplier μ1)
    const k = dot(u, d) / (dn * dn);
    for (let i = 0; i < u.length; i++) u[i] -= k * d[i];
  }
  const un = norm(u);
  return un > 0 ? u.map((x) => x / un) : u;
}

/** The trial point of the next step (predictor, and in level-set mode the Newton corrector). */
export function trialPoint(state: CurveState, options: Pick<CurveOptions, 'levelSet'>): Float64Array {
  const u = direction(state, options.levelSet);
  const trial = state.theta.map((x, i) => x + state.h * u[i]);
  const g2 = dot(state.gradient, state.gradient);
  if (options.levelSet && g2 > 0) {
    const k = (state.cost - state.cost0) / g2;
    for (let i = 0; i < trial.length; i++) trial[i] -= k * state.gradient[i];
  }
  return trial;
}

/** Accepts or refuses the step to `trial`, given the cost and gradient there; updates the state. */
export function advance(state: CurveState, trial: Float64Array, cost: number, gradient: ArrayLike<number>, options: CurveOptions): void {
  if (state.stopped) return;
  const finite = Number.isFinite(cost) && Array.from(gradient).every(Number.isFinite);
  if (!finite || cost > options.ceiling) {
    state.refused++;
    state.h /= 2;
    if (state.h < options.minStep) state.stopped = finite ? 'cost ceiling' : 'not finite';
    return;
  }
  const h = state.h;
  const before = direction(state, false);
  // λ += h·(−∇C), then |λ| = H − C (energy); a floor keeps the direction defined at the ceiling
  const lambda = state.lambda.map((l, i) => l - h * gradient[i]);
  const ln = norm(lambda);
  const energy = Math.max(options.ceiling - cost, 1e-6 * state.energy0);
  if (ln > 0) for (let i = 0; i < lambda.length; i++) lambda[i] *= energy / ln;
  state.lambda = lambda;
  // the arc length is the distance actually moved (the corrector adds to the predictor's h)
  state.s += norm(trial.map((x, i) => x - state.theta[i]));
  state.theta = trial;
  state.cost = cost;
  state.gradient = Float64Array.from(gradient);
  state.steps++;
  if (options.levelSet) {
    const upperHalf = cost - state.cost0 > state.energy0 / 2;
    state.h = upperHalf ? Math.max(options.minStep, h / 2) : Math.min(options.maxStep, h * 1.5);
  } else {
    const after = direction(state, false);
    const turn = Math.acos(Math.max(-1, Math.min(1, dot(before, after))));
    if (turn > options.maxTurn) state.h = Math.max(options.minStep, h / 2);
    else if (turn < options.maxTurn / 4) state.h = Math.min(options.maxStep, h * 1.5);
  }
  // never overshoot the requested length
  state.h = Math.min(state.h, Math.max(options.length - state.s, 0) || state.h);
  if (state.s >= options.length - 1e-12) state.stopped = 'length';
  else if (state.steps >= options.maxSteps) state.stopped = 'steps';
}
