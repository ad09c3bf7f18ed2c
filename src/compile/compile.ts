/**
 * Model → StepProgram: fold fixed parameters, insert the stimulus, apply the integrator, and derive
 * the tangent lanes (forward mode of the discrete step, so tangents are the exact derivatives of what
 * the engines compute).
 */
import { InputError } from '../errors.ts';
import * as E from '../model/expr.ts';
import type { Expr } from '../model/expr.ts';
import { differentiate } from '../model/derivative.ts';
import { STIMULUS_SYMBOL, checkParamValue, requireParam, type InitKind, type Model } from '../model/model.ts';
import { validateModel } from '../model/validate.ts';
import { nameProblem } from '../model/names.ts';
import { forcedStep } from './integrators.ts';
import { METHODS, RESIDUAL_FORMS, parseLane, type CurrentStep, type Lane, type Method, type ResidualForm, type StepProgram } from './program.ts';

export interface CompileOptions {
  method?: Method;
  dtMs: number;
  /** which initial condition; the model's default when absent */
  init?: InitKind;
  /** parameters that vary per instance (read from a table); the rest become constants */
  instanceParams?: string[];
  /** values of parameters that do not vary per instance (model defaults otherwise) */
  values?: Record<string, number>;
  /** tangent lanes: parameter names, or 'log:name' for d/d log(name) */
  tangents?: string[];
  /** step currents added to the injected current (µA/cm²) */
  stimulus?: CurrentStep[];
  /** a recording (EnsembleSpec.inputs) added to the injected current (µA/cm²): a current waveform */
  currentInput?: string;
  /**
   * for a teacher-forced model (teacher-forcing.ts): the residual each forced state contributes per
   * step. 'equation-error' (default): Δx_data/(dt·exprel(−rate·dt)) − rhs, times dt (mV for V): for
   * exponential Euler this is linear in the conductances up to that exprel factor and does not
   * saturate during spikes. 'prediction-error': Δx_data − the step's increment (mV), the one-step
   * prediction error. For rk4 the two coincide.
   */
  residual?: ResidualForm;
  /**
   * standard deviation of each forced recording's measurement noise (its unit; mV for V), by recording
   * name: the engines also sum the part of the squared residuals this noise is expected to contribute
   * at the current conductances (NormalEquations.noise), which the fit subtracts. Exponential Euler
   * only. With noise ε in V the step's residual gains c_n·ε_{n+1} − d_n·ε_n: for the equation error
   * c = 1/exprel(−h), d = c − h, h = rate·dt (rate = G/C for V), a term that grows with the
   * conductances, so least squares on noisy data shrinks them (errors in variables); for the
   * prediction error c = 1, d = e^(−h), which favours larger conductances where h is small. Over a window of
   * steps s…e−1 its variance is σ²·(d_s² + Σ_{s<k<e} (c_{k−1} − d_k)² + c_{e−1}²), which is what is
   * summed. Noise carried into the gates is not compensated (it is second order in short windows).
   */
  recordingNoise?: Readonly<Record<string, number>>;
  /**
   * advance only the states that something reads: an observed quantity, a spike source, a recording's
   * residual, a state in `keep`, or (transitively) the increment of such a state. The rest keep their
   * initial value (their increment is 0 and StepProgram.frozen lists them), so their final values mean
   * nothing. Exact for everything else: what no read state depends on cannot change it. After fixed
   * parameters are folded this drops, e.g., the gates of a channel whose conductance is fixed at 0
   * (the Prinz 2004 database: every LP cell's CaT, every PY cell's KCa), and a state that repeats an
   * earlier one exactly is read from that one (repeatedStates). Off by default, because a
   * caller that reads final states (or records gates) must say which it reads.
   */
  skipUnreadStates?: { keep?: readonly string[] };
}

/** Checks options that do not depend on the model; throws one clear message per problem. */
export function validateStepOptions(options: { dtMs: number; method?: string }): void {
  if (!Number.isFinite(options.dtMs) || options.dtMs <= 0) {
    throw new InputError(`dtMs must be a finite number > 0 (ms), got ${options.dtMs}`);
  }
  if (options.method !== undefined && !METHODS.includes(options.method as Method)) {
    throw new InputError(`unknown method '${options.method}'; allowed: ${METHODS.join(', ')}`);
  }
}

/** The injected step currents as an expression of time: on for start ≤ t < stop, edges rounded to the step grid. */
export function stimulusExpr(steps: readonly CurrentStep[], dtMs: number): Expr {
  let total: Expr = E.ZERO;
  steps.forEach((step, i) => {
    for (const [field, value] of Object.entries(step)) {
      if (!Number.isFinite(value)) throw new InputError(`stimulus step ${i}: ${field} must be a finite number, got ${value}`);
    }
    if (step.stopMs <= step.startMs) throw new InputError(`stimulus step ${i}: stopMs (${step.stopMs}) must be greater than startMs (${step.startMs})`);
    // t is the start of the current step; comparing against edges shifted by half a step puts each edge
    // on the nearest grid point whatever the rounding of n·dt
    const t = E.time();
    const on = E.and(E.le(step.startMs - dtMs / 2, t), E.lt(t, step.stopMs - dtMs / 2));
    total = E.add(total, E.select(on, step.ampUAPerCm2, 0));
  });
  return total;
}

function resolveLanes(model: Model, keys: readonly string[]): Lane[] {
  const lanes = keys.map(parseLane);
  const seen = new Set<string>();
  for (const lane of lanes) {
    requireParam(model, lane.param);
    if (seen.has(lane.key)) throw new InputError(`tangent ${lane.key} is listed twice`);
    seen.add(lane.key);
  }
  return lanes;
}

/**
 * The tangent lanes of a step's increments in two exact forms, and which of them needs fewer operations:
 * - forward mode: each lane pushes its own derivative through the whole step graph;
 * - chain rule on the states: d inc_k/dθ = Σ_m (∂inc_k/∂s_m)·(ds_m/dθ) + ∂inc_k/∂θ, where the
 *   partials ∂inc_k/∂s_m are primal expressions shared by every lane, so that each lane costs one
 *   multiply-add per dependence of an increment on a state. For exponential Euler each gate depends
 *   on itself and V (and [Ca]), so prinz with 8 lanes needs 1,513 operations instead of 2,657;
 *   for RK4 every state depends on every other and forward mode is the smaller.
 * Both are the derivative of the same discrete step, evaluated in a different order. Every engine
 * runs the smaller form by default (prinz, 8 lanes: the CPU engine twice as fast, lavapipe 15 %
 * faster); forward mode is kept so that a target where it runs faster can choose it (TangentForm),
 * and the benchmark measures both.
 */
function stepTangents(increment: readonly Expr[], states: readonly string[], lanes: readonly Lane[], paramSeed: (lane: Lane) => (leaf: Expr) => Expr) {
  const forward = lanes.map((lane) => differentiate(increment, (leaf) => (leaf.op === 'state' ? E.tangent(leaf.name, lane.key) : paramSeed(lane)(leaf))));
  if (!lanes.length) return { tangentIncrement: forward, forwardTangentIncrement: forward };
  const partials = states.map((name) => differentiate(increment, (leaf) => (leaf.op === 'state' && leaf.name === name ? E.ONE : E.ZERO)));
  const chain = lanes.map((lane) => {
    const direct = differentiate(increment, paramSeed(lane));
    return increment.map((_, k) => states.reduce((sum, name, m) => E.add(sum, E.mul(partials[m][k], E.tangent(name, lane.key))), direct[k]));
  });
  const size = (tangents: Expr[][]) => E.topoOrder([...increment, ...tangents.flat()]).length;
  return { tangentIncrement: size(chain) < size(forward) ? chain : forward, forwardTangentIncrement: forward };
}

/**
 * The states that sum a forced recording's expected noise contribution (CompileOptions.recordingNoise):
 * per noisy recording a carry σ·c_{n−1} (the previous step's c, 0 at a window's start) and the penalty
 * σ²·Σ(c_{n−1} − d_n)²; at a window's end the engines add carry² (kernel-common.ts, forcingCode).
 * Indices are among these states.
 */
function noiseStates(forced: readonly { name: string; input: string; unit: string }[], steps: readonly { stepScale: Expr; rate?: Expr }[],
  options: CompileOptions, method: Method, form: ResidualForm) {
  const sigmas = options.recordingNoise ?? {};
  const out = { states: [] as { name: string; unit: string }[], increments: [] as Expr[], pairs: [] as { penalty: number; carry: number }[] };
  for (const [name, sigma] of Object.entries(sigmas)) {
    if (!forced.some((f) => f.input === name)) {
      throw new InputError(`recordingNoise: '${name}' is not a forced recording; forced: ${forced.map((f) => f.input).join(', ') || 'none (teacherForce the model first)'}`);
    }
    if (!(Number.isFinite(sigma) && sigma >= 0)) throw new InputError(`recordingNoise.${name} must be a finite number ≥ 0, got ${sigma}`);
  }
  if (Object.values(sigmas).some((v) => v > 0) && method !== 'exp-euler') {
    throw new InputError(`recordingNoise: the noise compensation is derived for the exponential-Euler step; got method ${method}`);
  }
  forced.forEach((f, k) => {
    const sigma = sigmas[f.input] ?? 0;
    if (!(sigma > 0)) return;
    const { stepScale, rate } = steps[k];
    // the residual's coefficients on the next and the current sample: c·ε_{n+1} − d·ε_n
    const c = form === 'prediction-error' ? E.ONE : E.div(options.dtMs, stepScale);
    const d = form === 'prediction-error' ? E.sub(1, E.mul(rate!, stepScale)) : E.sub(c, E.mul(rate!, options.dtMs));
    const carry = `${f.name}.noiseCarry`;
    out.pairs.push({ carry: out.states.length, penalty: out.states.length + 1 });
    out.states.push({ name: carry, unit: f.unit }, { name: `${f.name}.noisePenalty`, unit: `${f.unit}²` });
    out.increments.push(E.sub(E.mul(sigma, c), E.state(carry)), E.powi(E.sub(E.state(carry), E.mul(sigma, d)), 2));
  });
  return out;
}

/** Compiles a model into one integrator step with its tangent lanes. */
export function compile(model: Model, options: CompileOptions): StepProgram {
  // the model's expressions become kernel source: only typed, resolved data may pass (validate.ts)
  validateModel(model);
  validateStepOptions(options);
  const method = options.method ?? 'exp-euler';
  const init = options.init ?? model.defaultInit;
  if (init !== 'steady' && init !== 'cold') throw new InputError(`unknown init '${init}'; allowed: steady, cold`);
  const lanes = resolveLanes(model, options.tangents ?? []);

  const instanceParams = [...new Set([...(options.instanceParams ?? []), ...lanes.map((l) => l.param)])];
  for (const name of instanceParams) requireParam(model, name);
  const values: Record<string, number> = {};
  for (const [name, def] of Object.entries(model.params)) values[name] = def.value;
  for (const [name, value] of Object.entries(options.values ?? {})) {
    const problem = checkParamValue(name, requireParam(model, name), value);
    if (problem) throw new InputError(problem);
    values[name] = value;
  }
  const foldedParams: Record<string, number> = {};
  for (const name of Object.keys(model.params)) if (!instanceParams.includes(name)) foldedParams[name] = values[name];

  if (options.residual !== undefined && !RESIDUAL_FORMS.includes(options.residual)) {
    throw new InputError(`unknown residual '${options.residual}'; allowed: ${RESIDUAL_FORMS.join(', ')}`);
  }
  if (options.currentInput !== undefined) {
    const problem = nameProblem('recording', options.currentInput);
    if (problem) throw new InputError(`currentInput: ${problem}`);
  }
  const stimulus = E.add(stimulusExpr(options.stimulus ?? [], options.dtMs), options.currentInput === undefined ? E.ZERO : E.input(options.currentInput));
  const fold = (exprs: readonly Expr[]) =>
    E.substitute(exprs, (n) => {
      if (n.op === 'param' && Object.hasOwn(foldedParams, n.name)) return E.num(foldedParams[n.name]);
      if (n.op === 'sym') {
        if (n.name === STIMULUS_SYMBOL) return stimulus;
        throw new InputError(`model ${model.name} has an unresolved name '${n.name}'`);
      }
      return undefined;
    });

  const foldedStates = model.states.map((s) => {
    const [rhs, rate] = fold([s.ode.rhs, s.ode.rate]);
    // a gate keeps its steady state: the integrator advances gates by (x − x∞)·expm1(−dt·rate)
    return { ...s, ode: { rhs, rate, ...(s.ode.inf ? { inf: fold([s.ode.inf])[0] } : {}) } };
  });

  // teacher forcing: each forced state's residual is a state of its own that sums it (the engines
  // read it and its tangents at window ends and clear it: emit-js.ts, normal equations)
  const forced = (model.forced ?? []).map((f) => {
    const [rhs, rate] = fold([f.ode.rhs, f.ode.rate]);
    return { ...f, rhs, rate };
  });
  const form = options.residual ?? 'equation-error';
  const step = forcedStep(method, foldedStates, forced, options.dtMs);
  const modelInitial = fold(model.states.map((s) => s.init[init]));
  // skipUnreadStates: every read of a state that repeats an earlier one reads the earlier one instead
  const copies = options.skipUnreadStates ? repeatedStates(model, step.increments, modelInitial, options.skipUnreadStates.keep ?? []) : new Map<string, string>();
  const readFirstCopy = (exprs: readonly Expr[]) =>
    copies.size ? E.substitute(exprs, (n) => (n.op === 'state' && copies.has(n.name) ? E.state(copies.get(n.name)!) : undefined)) : [...exprs];
  const observed0 = readFirstCopy(model.observed.map((o) => fold([o.expr])[0]));
  const spikeSources = readFirstCopy(model.spikeSources.map((s) => fold([s.expr])[0])).map((expr, k) => ({ name: model.spikeSources[k].name, expr }));
  const residualIncrement = readFirstCopy(step.forced.map((f, k) => {
    const change = E.sub(E.input(forced[k].input, 1), E.input(forced[k].input, 0));
    return form === 'prediction-error' ? E.sub(change, f.increment) : E.mul(options.dtMs, E.sub(E.div(change, f.stepScale), f.rhsMean));
  }));
  const residualStates = forced.map((f) => ({ name: `${f.name}.residual`, unit: f.unit }));
  const noise = noiseStates(forced, step.forced, options, method, form);
  const noiseIncrement = readFirstCopy(noise.increments);
  const stepIncrement = readFirstCopy(step.increments);
  const frozen = options.skipUnreadStates
    ? unreadStates(model, stepIncrement, [...observed0, ...spikeSources.map((s) => s.expr), ...residualIncrement, ...noiseIncrement], options.skipUnreadStates.keep ?? [])
    : [];
  const modelIncrement = stepIncrement.map((inc, k) => (frozen.includes(k) ? E.ZERO : inc));
  const increment = [...modelIncrement, ...residualIncrement, ...noiseIncrement];
  const stateNames = [...model.states.map((s) => s.name), ...residualStates.map((s) => s.name), ...noise.states.map((s) => s.name)];
  const initialState = [...modelInitial, ...residualStates.map(() => E.ZERO), ...noise.states.map(() => E.ZERO)];

  const paramSeed = (lane: Lane) => (leaf: Expr): Expr => {
    if (leaf.op === 'param' && leaf.name === lane.param) return lane.log ? leaf : E.ONE;
    return E.ZERO;
  };
  const stepSeed = (lane: Lane) => {
    const fromParams = paramSeed(lane);
    return (leaf: Expr): Expr => (leaf.op === 'state' ? E.tangent(leaf.name, lane.key) : fromParams(leaf));
  };

  const observed = model.observed.map((o, k) => {
    const expr = observed0[k];
    return { name: o.name, unit: o.unit, kind: o.kind, expr, tangent: lanes.map((lane) => differentiate([expr], stepSeed(lane))[0]) };
  });

  const inputs = new Set<string>();
  for (const node of E.topoOrder([...increment, ...initialState, ...observed.map((o) => o.expr), ...spikeSources.map((s) => s.expr)])) {
    if (node.op === 'input') inputs.add(node.name);
  }
  return {
    modelName: model.name,
    method,
    dtMs: options.dtMs,
    init,
    states: [...model.states.map((s) => ({ name: s.name, unit: s.unit })), ...residualStates, ...noise.states],
    instanceParams,
    values,
    lanes,
    initial: { state: initialState, tangent: lanes.map((lane) => differentiate(initialState, paramSeed(lane))) },
    next: { increment, ...stepTangents(increment, stateNames, lanes, paramSeed) },
    observed,
    spikeSources,
    inputs: [...inputs].sort(),
    residuals: residualStates.map((_, k) => model.states.length + k),
    noisePenalties: noise.pairs.map(({ penalty, carry }) => {
      const base = model.states.length + residualStates.length;
      return { penalty: base + penalty, carry: base + carry };
    }),
    ...(forced.length ? { residualForm: form } : {}),
    ...(frozen.length ? { frozen } : {}),
  };
}

/**
 * States that repeat an earlier state exactly: the same initial value, and the same increment once
 * each reads itself in place of the other (in the pyloric network AB→LP and AB→PY: one presynaptic
 * cell, one synapse type, gates at 0). Their trajectories are then equal in any arithmetic, tangents
 * included, so the program reads each from its first copy, and the copies, unread, are not advanced.
 * Kept states are left as they are. Map: copy → first copy.
 */
function repeatedStates(model: Model, increments: readonly Expr[], initial: readonly Expr[], keep: readonly string[]): Map<string, string> {
  const self = E.state('\u0000self');
  const firstOf = new Map<string, string>();
  const copies = new Map<string, string>();
  model.states.forEach((s, k) => {
    if (keep.includes(s.name)) return;
    const own = E.substitute([increments[k]], (n) => (n.op === 'state' && n.name === s.name ? self : undefined))[0];
    const key = `${initial[k].id} ${own.id}`;
    const first = firstOf.get(key);
    if (first === undefined) firstOf.set(key, s.name);
    else copies.set(s.name, first);
  });
  return copies;
}

/**
 * Indices of the model's states that nothing in `roots` reads, directly or through the increments of
 * the states it reads (CompileOptions.skipUnreadStates); `keep` names states that count as read.
 */
function unreadStates(model: Model, increments: readonly Expr[], roots: readonly Expr[], keep: readonly string[]): number[] {
  const index = new Map(model.states.map((s, k) => [s.name, k]));
  for (const name of keep) {
    if (!index.has(name)) throw new InputError(`skipUnreadStates.keep: '${name}' is not a state of model ${model.name}; states: ${model.states.map((s) => s.name).join(', ')}`);
  }
  const read = new Set<number>();
  const pending: number[] = [];
  const visit = (exprs: readonly Expr[]) => {
    for (const node of E.topoOrder(exprs)) {
      const k = node.op === 'state' ? index.get(node.name) : undefined;
      if (k !== undefined && !read.has(k)) {
        read.add(k);
        pending.push(k);
      }
    }
  };
  visit(roots);
  visit(keep.map((name) => E.state(name)));
  while (pending.length) visit([increments[pending.pop()!]]);
  return model.states.map((_, k) => k).filter((k) => !read.has(k));
}
