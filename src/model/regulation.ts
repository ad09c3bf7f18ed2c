/**
 * Homeostatic regulation (O'Leary, Williams, Franci & Marder 2014, Neuron 82:809): each regulated
 * channel's maximal conductance becomes a state driven by the calcium error through an "mRNA" state,
 *
 *     τ_i · dm_i/dt = Ca_target − [Ca]        m_i(0) = m0_i (0 unless given)
 *     τ_g · dg_i/dt = m_i − g_i               g_i(0) = the channel's conductance parameter
 *
 * All channels see the same error, so m_i·τ_i is the same for every channel at every time, and once g
 * tracks m the ratios g_i/g_j tend to τ_j/τ_i. A model transform: the conductance parameter is replaced
 * by the state g_i wherever it is read (it stays a parameter, the initial value). Every constant is a
 * parameter (`regTau<channel>Ms`, `regTauGMs`, `regCaTargetUM`, `regM0<channel>`), so it can be set,
 * swept per instance and differentiated. The m and g states advance in the membrane's stage (exponential
 * Euler: dm/dt does not depend on m, so its step is exact for the frozen [Ca]; g relaxes exactly towards
 * m). Observed: `regM<channel>` and `regG<channel>` (mS/cm²), for traces and means.
 */
import { InputError } from '../errors.ts';
import * as E from './expr.ts';
import type { Model, ParamDef, StateDef } from './model.ts';
import { validateModel } from './validate.ts';

export interface RegulationSpec {
  /** the regulated conductances by parameter name (e.g. gNa, LP.gCaS) with each one's τ_i (ms) */
  tauMs: Record<string, number>;
  /** τ_g (ms): how fast a conductance follows its m */
  tauGMs: number;
  /** the calcium the cell regulates towards (µM) */
  caTargetUM: number;
  /** initial m_i (default 0) */
  m0?: Record<string, number>;
  /** the calcium state the error reads (default Ca; in a network e.g. LP.Ca) */
  calcium?: string;
}

const positiveMs = (value: number, description: string): ParamDef => ({ value, unit: 'ms', description, min: 0, exclusiveMin: true });

/** The model with the given conductances regulated (see the module comment). */
export function regulate(model: Model, spec: RegulationSpec): Model {
  const calcium = spec.calcium ?? 'Ca';
  if (!model.states.some((s) => s.name === calcium)) throw new InputError(`regulate: model ${model.name} has no calcium state '${calcium}' for the error`);
  const channels = Object.keys(spec.tauMs);
  if (!channels.length) throw new InputError('regulate: name at least one conductance in tauMs');
  const check = (what: string, value: number, positive: boolean) => {
    if (!Number.isFinite(value) || (positive && !(value > 0))) throw new InputError(`regulate: ${what} must be a finite number${positive ? ' > 0' : ''}, got ${value}`);
  };
  check('tauGMs', spec.tauGMs, true);
  check('caTargetUM', spec.caTargetUM, true);
  const params: Record<string, ParamDef> = { ...model.params };
  const add = (name: string, def: ParamDef) => {
    if (Object.hasOwn(params, name)) throw new InputError(`regulate: parameter ${name} already exists in model ${model.name}`);
    params[name] = def;
  };
  add('regTauGMs', positiveMs(spec.tauGMs, 'regulation: time constant of a conductance following its mRNA'));
  add('regCaTargetUM', { value: spec.caTargetUM, unit: 'µM', description: 'regulation: target intracellular calcium', min: 0, exclusiveMin: true });
  const tag = (g: string) => g.replace(/^g/, '').replace(/\./g, '_');
  const replaced = new Map<string, E.Expr>();
  const extra: StateDef[] = [];
  const observed: Model['observed'] = [];
  for (const g of channels) {
    if (!Object.hasOwn(model.params, g)) throw new InputError(`regulate: '${g}' is not a parameter of model ${model.name}; conductances: ${Object.keys(model.params).filter((p) => /(^|\.)g[A-Z]/.test(p)).join(', ')}`);
    check(`tauMs.${g}`, spec.tauMs[g], true);
    const t = tag(g);
    const tauName = `regTau${t}Ms`, m0Name = `regM0${t}`;
    add(tauName, positiveMs(spec.tauMs[g], `regulation: mRNA time constant of ${g}`));
    add(m0Name, { value: spec.m0?.[g] ?? 0, unit: 'mS/cm²', description: `regulation: initial mRNA of ${g}` });
    const m = `reg.${t}.m`, gs = `reg.${t}.g`;
    extra.push(
      {
        name: m, unit: 'mS/cm²', description: `regulation mRNA of ${g}`, stage: 1,
        ode: { rhs: E.div(E.sub(E.param('regCaTargetUM'), E.state(calcium)), E.param(tauName)), rate: E.ZERO },
        init: { cold: E.param(m0Name), steady: E.param(m0Name) },
      },
      {
        name: gs, unit: 'mS/cm²', description: `regulated conductance ${g}`, stage: 1,
        ode: { rhs: E.div(E.sub(E.state(m), E.state(gs)), E.param('regTauGMs')), rate: E.div(E.ONE, E.param('regTauGMs')) },
        init: { cold: E.param(g), steady: E.param(g) },
      },
    );
    replaced.set(g, E.state(gs));
    observed.push({ name: `regM${t}`, expr: E.state(m), unit: 'mS/cm²', kind: 'other' }, { name: `regG${t}`, expr: E.state(gs), unit: 'mS/cm²', kind: 'other' });
  }
  for (const g of Object.keys(spec.m0 ?? {})) if (!Object.hasOwn(spec.tauMs, g)) throw new InputError(`regulate: m0.${g} names a conductance that is not regulated (not in tauMs)`);
  const swap = (e: E.Expr) => E.substitute([e], (n) => (n.op === 'param' && replaced.has(n.name) ? replaced.get(n.name) : undefined))[0];
  const states = model.states.map((s) => ({
    ...s,
    // the ODEs read the regulated conductance; the initial conditions keep reading the parameter
    ode: { rhs: swap(s.ode.rhs), rate: swap(s.ode.rate), ...(s.ode.inf ? { inf: swap(s.ode.inf) } : {}), ...(s.ode.tau ? { tau: swap(s.ode.tau) } : {}) },
  }));
  return validateModel({
    ...model,
    states: [...states, ...extra],
    params,
    observed: [...model.observed.map((o) => ({ ...o, expr: swap(o.expr) })), ...observed],
    spikeSources: model.spikeSources.map((s) => ({ ...s, expr: swap(s.expr) })),
    ...(model.currents ? { currents: model.currents.map((c) => ({ ...c, expr: swap(c.expr) })) } : {}),
  });
}
