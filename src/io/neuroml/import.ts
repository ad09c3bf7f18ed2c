/**
 * NeuroML2 import, first part: HH-type ion channels and single-compartment cells become ionsweep
 * channel and neuron definitions (built by buildNeuron like any other), read with fast-xml-parser.
 *
 * Supported: `ionChannelHH`, `ionChannel` (type ionChannelHH or none), `ionChannelPassive`; gates
 * `gateHHrates`, `gateHHtauInf`, `gateHHratesInf`, `gateHHratesTau`, `gateHHratesTauInf`, as specific
 * tags or `<gate type=…>`; rates, variables and time courses `HHExpRate`, `HHSigmoidRate`,
 * `HHExpLinearRate`, `HHExpVariable`, `HHSigmoidVariable`, `HHExpLinearVariable`, `fixedTimeCourse`;
 * `q10Fixed` and `q10ExpTemp` (the temperature is the neuron's `celsius` parameter); `channelDensity`,
 * `specificCapacitance`, `initMembPotential`; a one-segment morphology (a sphere when its ends
 * coincide, else a cylinder) for the area; `<include href>` relative to the including file. Units come
 * from NeuroML's own table (units.ts). Anything else (custom LEMS ComponentTypes, instantaneous
 * gates, calcium pools, more than one segment) is refused naming the element, its line and why.
 *
 * NeuroML's channelDensity current is gDensity·fopen·(erev − v), inward positive; ionsweep writes the
 * same current as g·Πxᵖ·(V − E) outward, so the two agree term for term.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { InputError } from '../../errors.ts';
import type { ParamDef } from '../../model/model.ts';
import type { ChannelDef, GateDef, NeuronDef } from '../../model/neuron.ts';
import * as E from '../../model/expr.ts';
import type { Expr } from '../../model/expr.ts';
import { parseExpr } from '../../model/parse.ts';
import { componentExpr, type ComponentTypeDef } from './lems.ts';
import { quantity, quantitySI } from './units.ts';

type Element = Record<string, unknown> & { ':@'?: Record<string, string> };

export interface NeuroMLImport {
  /** channels by NeuroML id, with their gates (conductance and reversal filled in per cell) */
  channels: Map<string, NeuroMLChannel>;
  /** cells by NeuroML id, as neuron definitions ready for buildNeuron */
  cells: Map<string, NeuronDef>;
}

export interface NeuroMLChannel {
  id: string;
  gates: GateDef[];
  file: string;
  /** q10ConductanceScaling as a factor on the maximal conductance */
  conductanceFactor?: Expr;
}

const GATE_TAGS = ['gateHHrates', 'gateHHtauInf', 'gateHHratesInf', 'gateHHratesTau', 'gateHHratesTauInf', 'gateHHInstantaneous'] as const;
const IGNORED = new Set(['notes', 'annotation', 'property', '#comment', '#text']);

/** Where an element is, for messages: the file and the line of its opening tag (by tag and id). */
function locate(text: string, file: string, tag: string, id?: string): string {
  const pattern = new RegExp(`<${tag}\\b[^>]*${id ? `\\bid\\s*=\\s*["']${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']` : ''}`);
  const m = pattern.exec(text);
  const line = m ? text.slice(0, m.index).split('\n').length : undefined;
  return `${file}${line ? `:${line}` : ''} <${tag}${id ? ` id="${id}"` : ''}>`;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, allowBooleanAttributes: true, parseAttributeValue: false, trimValues: true });

/** The tag name of a preserveOrder node. */
const tagOf = (node: Element) => Object.keys(node).find((k) => k !== ':@')!;
const childrenOf = (node: Element) => (node[tagOf(node)] as Element[]) ?? [];
const attrs = (node: Element) => node[':@'] ?? {};

/** Custom ComponentTypes by name, from every file read (lems.ts). */
type Types = Map<string, ComponentTypeDef>;

/** A rate, variable or time course element as an expression of V (mV) in ms⁻¹, 1 or ms. */
function kinetic(node: Element, role: 'rate' | 'variable' | 'time', where: string, types: Types, required?: ReadonlyMap<string, Expr>): Expr {
  const custom = types.get(attrs(node).type);
  if (custom) return componentExpr(custom, required);
  return parseExpr(standardKinetic(node, role, where));
}

function standardKinetic(node: Element, role: 'rate' | 'variable' | 'time', where: string): string {
  const a = attrs(node);
  const type = a.type;
  const mid = () => quantity(a.midpoint, 'voltage', `${where} midpoint`);
  const scale = () => quantity(a.scale, 'voltage', `${where} scale`);
  const amount = () => {
    if (role === 'rate') return quantity(a.rate, 'per_time', `${where} rate`);
    // a variable's rate is a plain number (its maximum); missing or not a number is refused, not NaN
    const x = a.rate === undefined ? NaN : Number(a.rate);
    if (!Number.isFinite(x)) throw new InputError(`${where} rate: '${a.rate ?? '(missing)'}' must be a dimensionless number`);
    return x;
  };
  const n = (x: number) => `(${x})`;
  switch (type) {
    case 'HHExpRate': case 'HHExpVariable':
      return `${n(amount())}*exp((V - ${n(mid())})/${n(scale())})`;
    case 'HHSigmoidRate': case 'HHSigmoidVariable':
      return `${n(amount())}/(1 + exp((${n(mid())} - V)/${n(scale())}))`;
    case 'HHExpLinearRate': case 'HHExpLinearVariable':
      // r·x/(1 − e^−x), x = (V − midpoint)/scale: linoid(x, 1), safe at x = 0 as NeuroML's Case guard
      return `${n(amount())}*linoid((V - ${n(mid())})/${n(scale())}, 1)`;
    case 'fixedTimeCourse':
      if (role !== 'time') break;
      return n(quantity(a.tau, 'time', `${where} tau`));
    default:
      throw new InputError(`${where}: type '${type ?? '(none)'}' is neither a standard form (HHExpRate, HHSigmoidRate, HHExpLinearRate, HHExpVariable, HHSigmoidVariable, HHExpLinearVariable, fixedTimeCourse) nor a ComponentType defined in the files read`);
  }
  throw new InputError(`${where}: ${type} cannot be a ${role}`);
}

/** The q10 factor of a gate as an expression of the neuron's celsius parameter (1 without one). */
function q10Of(gate: Element, where: string): Expr | undefined {
  const settings = childrenOf(gate).filter((c) => tagOf(c) === 'q10Settings');
  if (!settings.length) return undefined;
  if (settings.length > 1) throw new InputError(`${where}: more than one q10Settings`);
  const a = attrs(settings[0]);
  if (a.type === 'q10Fixed') return E.num(Number(a.fixedQ10));
  if (a.type === 'q10ExpTemp') {
    const base = Number(a.q10Factor), t0 = quantity(a.experimentalTemp, 'temperature', `${where} q10Settings experimentalTemp`);
    if (!(base > 0)) throw new InputError(`${where} q10Settings q10Factor must be > 0, got '${a.q10Factor}'`);
    return parseExpr(`(${base})^((celsius - (${t0}))/10)`);
  }
  throw new InputError(`${where} q10Settings: type '${a.type}' is not supported (q10Fixed, q10ExpTemp)`);
}

function gateOf(gate: Element, kind: string, where: string, types: Types): GateDef {
  const a = attrs(gate);
  const power = Number(a.instances ?? 1);
  if (!Number.isInteger(power) || power < 1) throw new InputError(`${where}: instances must be a positive integer, got '${a.instances}'`);
  const child = (tag: string) => childrenOf(gate).find((c) => tagOf(c) === tag);
  const need = (tag: string, role: 'rate' | 'variable' | 'time', required?: ReadonlyMap<string, Expr>) => {
    const c = child(tag);
    if (!c) throw new InputError(`${where}: ${kind} needs a <${tag}>`);
    return kinetic(c, role, `${where} <${tag}>`, types, required);
  };
  // a time course or steady state may read the gate's own rates (LEMS Requirements alpha, beta: in
  // SI, 1/s, and without the q10 factor, which NeuroML applies to the time constant afterwards)
  const rates = () => (child('forwardRate') && child('reverseRate')
    ? new Map([['alpha', E.mul(need('forwardRate', 'rate'), 1e3)], ['beta', E.mul(need('reverseRate', 'rate'), 1e3)]])
    : undefined);
  const q = q10Of(gate, where);
  const faster = (rate: Expr) => (q ? E.mul(rate, q) : rate);
  const slower = (tau: Expr) => (q ? E.div(tau, q) : tau);
  switch (kind) {
    case 'gateHHrates':
      return { name: a.id, power, alpha: faster(need('forwardRate', 'rate')), beta: faster(need('reverseRate', 'rate')) };
    case 'gateHHtauInf':
      return { name: a.id, power, inf: need('steadyState', 'variable'), tau: slower(need('timeCourse', 'time')) };
    case 'gateHHratesInf': {
      const alpha = need('forwardRate', 'rate'), beta = need('reverseRate', 'rate');
      return { name: a.id, power, inf: need('steadyState', 'variable', rates()), tau: slower(E.div(1, E.add(alpha, beta))) };
    }
    case 'gateHHratesTau': {
      const alpha = need('forwardRate', 'rate'), beta = need('reverseRate', 'rate');
      return { name: a.id, power, inf: E.div(alpha, E.add(alpha, beta)), tau: slower(need('timeCourse', 'time', rates())) };
    }
    case 'gateHHratesTauInf':
      return { name: a.id, power, inf: need('steadyState', 'variable', rates()), tau: slower(need('timeCourse', 'time', rates())) };
    case 'gateHHInstantaneous':
      return { name: a.id, power, instantaneous: true, inf: need('steadyState', 'variable') };
    default:
      throw new InputError(`${where}: gate type '${kind}' is not supported yet (supported: ${GATE_TAGS.join(', ')})`);
  }
}

function channelOf(node: Element, tag: string, text: string, file: string, types: Types): NeuroMLChannel {
  const a = attrs(node);
  const where = locate(text, file, tag, a.id);
  if (tag === 'ionChannel' && a.type !== undefined && a.type !== 'ionChannelHH' && a.type !== 'ionChannelPassive') {
    throw new InputError(`${where}: channel type '${a.type}' is not supported yet (ionChannelHH, ionChannelPassive)`);
  }
  const gates: GateDef[] = [];
  let conductanceFactor: Expr | undefined;
  for (const c of childrenOf(node)) {
    const t = tagOf(c);
    if (IGNORED.has(t)) continue;
    if (t === 'q10ConductanceScaling') {
      const q = attrs(c);
      const base = Number(q.q10Factor), t0 = quantity(q.experimentalTemp, 'temperature', `${where} <q10ConductanceScaling> experimentalTemp`);
      if (!(base > 0)) throw new InputError(`${where} <q10ConductanceScaling> q10Factor must be > 0, got '${q.q10Factor}'`);
      conductanceFactor = parseExpr(`(${base})^((celsius - (${t0}))/10)`);
      continue;
    }
    const kind = t === 'gate' ? attrs(c).type : t;
    if (t === 'gate' || (GATE_TAGS as readonly string[]).includes(t)) {
      gates.push(gateOf(c, kind ?? '(none)', `${where} <${t} id="${attrs(c).id}">`, types));
      continue;
    }
    throw new InputError(`${where}: <${t}> is not supported in a channel yet`);
  }
  if (tag === 'ionChannelPassive' && gates.length) throw new InputError(`${where}: a passive channel has no gates`);
  return { id: a.id, gates, file, ...(conductanceFactor ? { conductanceFactor } : {}) };
}

/** Membrane area (cm²) of a one-segment morphology: a sphere when its ends coincide, else a cylinder. */
function areaOf(morphology: Element, where: string): number {
  const segments = childrenOf(morphology).filter((c) => tagOf(c) === 'segment');
  if (segments.length !== 1) throw new InputError(`${where}: ${segments.length} segments; ionsweep models single compartments (one segment, the soma)`);
  const point = (tag: string) => {
    const p = childrenOf(segments[0]).find((c) => tagOf(c) === tag);
    return p ? attrs(p) : undefined;
  };
  const distal = point('distal'), proximal = point('proximal') ?? distal;
  if (!distal || !proximal) throw new InputError(`${where}: the segment needs a <distal> point`);
  const um = (v: string | undefined, what: string) => {
    const x = Number(v);
    if (!Number.isFinite(x)) throw new InputError(`${where}: segment ${what} '${v}' is not a number (µm)`);
    return x;
  };
  const [dp, dd] = [um(proximal.diameter, 'diameter'), um(distal.diameter, 'diameter')];
  const length = Math.hypot(um(distal.x, 'x') - um(proximal.x, 'x'), um(distal.y, 'y') - um(proximal.y, 'y'), um(distal.z, 'z') - um(proximal.z, 'z'));
  const areaUm2 = length === 0 ? Math.PI * dd * dd : Math.PI * ((dp + dd) / 2) * length;
  return areaUm2 * 1e-8;
}

/** A concentration model (calcium pool) element, kept until a cell's species names it. */
interface PoolNode {
  tag: string;
  attrs: Record<string, string>;
  where: string;
}

/** Options of the import that the files themselves may not give. */
export interface NeuroMLOptions {
  /** temperature (°C) for Nernst potentials and q10 factors: the cell's `celsius` parameter */
  celsius?: number;
}

/**
 * The calcium pool of a species: a fixedFactorConcentrationModel as ionsweep's pool (neuron.ts:
 * τ d[Ca]/dt = −f·A·1000·I_Ca − [Ca] + [Ca]₀). NeuroML's d[Ca]/dt = (iCa/area)·ρ − ([Ca] − [Ca]₀)/τ with
 * iCa inward in A and ρ in mol/(m·A·s) is the same equation with f = 1e-2·ρ·τ/(1000·A) (µM/nA; τ in
 * ms, A in cm²): 14.96 µM/nA for the Prinz cell, as published.
 */
function poolOf(species: Record<string, string>, pools: Map<string, PoolNode>, areaCm2: number, where: string): Record<string, number> {
  if (species.ion !== 'ca') throw new InputError(`${where} <species ion="${species.ion}">: only calcium (ca) pools are supported`);
  const pool = pools.get(species.concentrationModel);
  if (!pool) throw new InputError(`${where} <species>: concentrationModel '${species.concentrationModel}' is not defined in the files read`);
  const tauCaMs = quantity(pool.attrs.decayConstant, 'time', `${pool.where} decayConstant`);
  const Ca0UM = quantity(pool.attrs.restingConc, 'concentration', `${pool.where} restingConc`);
  let fCa: number;
  if (pool.tag === 'fixedFactorConcentrationModel') {
    const rho = quantitySI(pool.attrs.rho, `${pool.where} rho`);
    if (rho.dimension !== 'rho_factor') throw new InputError(`${pool.where} rho: '${pool.attrs.rho}' is a ${rho.dimension}, expected a rho_factor`);
    fCa = (1e-2 * rho.value * tauCaMs) / (1000 * areaCm2);
  } else {
    // d[Ca]/dt = iCa/(2F·V_shell) − …, the shell of the given thickness under a sphere of the soma's
    // area (NeuroML's Cells.xml, its constants included: F = 96485.3 C/mol, π as 3.14159): the same
    // pool with f = τ·1e-9/(2F·V_shell) (τ in ms, V_shell in m³)
    const shell = quantitySI(pool.attrs.shellThickness, `${pool.where} shellThickness`);
    if (shell.dimension !== 'length') throw new InputError(`${pool.where} shellThickness: '${pool.attrs.shellThickness}' is a ${shell.dimension}, expected a length`);
    const r = Math.sqrt((areaCm2 * 1e-4) / (4 * 3.14159)), inner = r - shell.value;
    if (!(inner >= 0)) throw new InputError(`${pool.where} shellThickness: ${pool.attrs.shellThickness} is thicker than the soma's radius`);
    const volume = (4 * r ** 3 * 3.14159) / 3 - (4 * inner ** 3 * 3.14159) / 3;
    fCa = (tauCaMs * 1e-9) / (2 * 96485.3 * volume);
  }
  const initial = quantity(species.initialConcentration, 'concentration', `${where} <species> initialConcentration`);
  if (Math.abs(initial - Ca0UM) > 1e-9 * Ca0UM) throw new InputError(`${where} <species>: initialConcentration ${initial} µM differs from the pool's restingConc ${Ca0UM} µM; ionsweep's pool starts at its resting level`);
  return {
    tauCaMs, Ca0UM,
    fCa: Number(fCa.toPrecision(15)),
    CaOutUM: quantity(species.initialExtConcentration, 'concentration', `${where} <species> initialExtConcentration`),
  };
}

function cellOf(node: Element, channels: Map<string, NeuroMLChannel>, pools: Map<string, PoolNode>, text: string, file: string, options: NeuroMLOptions): NeuronDef {
  const id = attrs(node).id;
  const where = locate(text, file, 'cell', id);
  const find = (parent: Element | undefined, tag: string) => parent && childrenOf(parent).find((c) => tagOf(c) === tag);
  const morphology = find(node, 'morphology');
  if (!morphology) throw new InputError(`${where}: needs a <morphology> (its soma's area)`);
  const bio = find(node, 'biophysicalProperties');
  const membrane = find(bio, 'membraneProperties');
  if (!membrane) throw new InputError(`${where}: needs <biophysicalProperties><membraneProperties>`);
  const params: Record<string, ParamDef | number> = { areaCm2: areaOf(morphology, where) };
  const cellChannels: ChannelDef[] = [];
  for (const c of childrenOf(membrane)) {
    const t = tagOf(c), a = attrs(c);
    const at = `${where} <${t}${a.id ? ` id="${a.id}"` : ''}>`;
    if (IGNORED.has(t) || t === 'spikeThresh') continue;
    if (t === 'specificCapacitance') params.CmUFPerCm2 = quantity(a.value, 'specificCapacitance', `${at} value`);
    else if (t === 'initMembPotential') params.initVMv = quantity(a.value, 'voltage', `${at} value`);
    else if (t === 'channelDensity') {
      const channel = channels.get(a.ionChannel);
      if (!channel) throw new InputError(`${at}: ionChannel '${a.ionChannel}' is not defined in the files read (${[...channels.keys()].join(', ') || 'none'})`);
      const name = String(a.id).replace(/[^A-Za-z0-9_]/g, '_');
      const g = `g_${name}`, e = `E_${name}`;
      // a calcium current with a fixed reversal still feeds the cell's calcium pool (NeuroML's iCa)
      cellChannels.push({
        name, conductance: g, reversal: e, gates: channel.gates, ...(a.ion === 'ca' ? { carriesCalcium: true } : {}),
        ...(channel.conductanceFactor ? { conductanceFactor: channel.conductanceFactor } : {}),
        params: {
          [g]: { value: quantity(a.condDensity, 'conductanceDensity', `${at} condDensity`), unit: 'mS/cm²', description: `maximal conductance of ${a.ionChannel} (${a.id})`, min: 0 },
          [e]: { value: quantity(a.erev, 'voltage', `${at} erev`), unit: 'mV', description: `reversal potential of ${a.ionChannel} (${a.id})`, min: -500, max: 500 },
        },
        source: `NeuroML ${channel.file}: ${a.ionChannel}`,
      });
    } else if (t === 'channelDensityNernst') {
      if (a.ion !== 'ca') throw new InputError(`${at}: Nernst potentials are supported for calcium (ion="ca") only`);
      const channel = channels.get(a.ionChannel);
      if (!channel) throw new InputError(`${at}: ionChannel '${a.ionChannel}' is not defined in the files read (${[...channels.keys()].join(', ') || 'none'})`);
      if (options.celsius === undefined) throw new InputError(`${at}: a Nernst potential needs a temperature, which the cell file does not give: set it (--set celsius=…, e.g. 9.85 for the Prinz cells' 283 K)`);
      const name = String(a.id).replace(/[^A-Za-z0-9_]/g, '_');
      const g = `g_${name}`;
      cellChannels.push({
        name, conductance: g, reversal: 'nernst-ca', carriesCalcium: true, gates: channel.gates,
        ...(channel.conductanceFactor ? { conductanceFactor: channel.conductanceFactor } : {}),
        params: { [g]: { value: quantity(a.condDensity, 'conductanceDensity', `${at} condDensity`), unit: 'mS/cm²', description: `maximal conductance of ${a.ionChannel} (${a.id})`, min: 0 } },
        source: `NeuroML ${channel.file}: ${a.ionChannel}`,
      });
    } else {
      throw new InputError(`${at}: not supported yet (channelDensity, channelDensityNernst, specificCapacitance, initMembPotential, spikeThresh)`);
    }
  }
  const intracellular = find(bio, 'intracellularProperties');
  let calcium: Record<string, number> | undefined;
  for (const c of intracellular ? childrenOf(intracellular) : []) {
    if (tagOf(c) === 'species') {
      if (calcium) throw new InputError(`${where}: more than one <species>; one calcium pool is supported`);
      calcium = poolOf(attrs(c), pools, params.areaCm2 as number, where);
    }
  }
  if (!cellChannels.length) throw new InputError(`${where}: no channelDensity`);
  if (cellChannels.some((ch) => ch.carriesCalcium) && !calcium) throw new InputError(`${where}: calcium channels need a <species ion="ca"> with its concentration model`);
  if (options.celsius !== undefined) params.celsius = options.celsius;
  return { name: String(id).replace(/[^A-Za-z0-9_]/g, '_'), channels: cellChannels, ...(calcium ? { calcium: { params: calcium } } : {}), params, defaultInit: 'steady' };
}

/** A ComponentType element as data for lems.ts. */
function componentTypeOf(node: Element, where: string): ComponentTypeDef {
  const a = attrs(node);
  const def: ComponentTypeDef = { name: a.name, extends: a.extends, constants: [], derived: [], requirements: [], where };
  for (const c of childrenOf(node)) {
    const t = tagOf(c);
    if (t === 'Constant') def.constants.push(attrs(c));
    else if (t === 'Requirement') def.requirements.push(attrs(c));
    else if (t === 'Dynamics') {
      for (const d of childrenOf(c)) {
        const dt = tagOf(d), da = attrs(d);
        if (dt === 'DerivedVariable') def.derived.push({ name: da.name, value: da.value, exposure: da.exposure });
        else if (dt === 'ConditionalDerivedVariable') def.derived.push({ name: da.name, exposure: da.exposure, cases: childrenOf(d).filter((x) => tagOf(x) === 'Case').map(attrs) });
        else if (!IGNORED.has(dt)) throw new InputError(`${where}: <${dt}> in Dynamics is not supported (DerivedVariable, ConditionalDerivedVariable)`);
      }
    } else if (!IGNORED.has(t) && t !== 'Exposure' && t !== 'Parameter') {
      throw new InputError(`${where}: <${t}> is not supported in a ComponentType (Constant, Requirement, Dynamics)`);
    }
  }
  return def;
}

/** NeuroML's core LEMS type files, which LEMS models include by name alone. */
const CORE_TYPE_FILES = new Set(['Cells.xml', 'Networks.xml', 'Simulation.xml', 'Synapses.xml', 'Inputs.xml', 'Channels.xml', 'NeuroMLCoreDimensions.xml', 'NeuroMLCoreCompTypes.xml', 'PyNN.xml']);
/** LEMS elements that say how to run or show a model, not what it is. */
const LEMS_RUN_ELEMENTS = new Set(['Target', 'Simulation', 'Display', 'OutputFile', 'EventOutputFile']);

/** Reads NeuroML2 files (and what they include) into channel and cell definitions. */
export async function importNeuroML(paths: readonly string[], options: NeuroMLOptions = {}): Promise<NeuroMLImport> {
  const temperatures: { celsius: number; where: string }[] = [];
  const pools = new Map<string, PoolNode>();
  const channels = new Map<string, NeuroMLChannel>();
  const channelNodes: { node: Element; tag: string; text: string; file: string }[] = [];
  const cellNodes: { node: Element; text: string; file: string }[] = [];
  const types: Types = new Map();
  const seen = new Set<string>();
  const read = async (path: string, from?: string): Promise<void> => {
    const full = resolve(path);
    if (CORE_TYPE_FILES.has(basename(full))) throw new InputError(`${path}: one of NeuroML's core LEMS type files; ionsweep has their semantics built in, so it reads models that use them, not the files`);
    if (seen.has(full)) return;
    seen.add(full);
    let text: string;
    try {
      text = await readFile(full, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read NeuroML file ${path}${from ? ` (included from ${from})` : ''}: ${(error as Error).message}`);
    }
    let doc: Element[];
    try {
      doc = parser.parse(text) as Element[];
    } catch (error) {
      throw new InputError(`${path} is not valid XML: ${(error as Error).message.split('\n')[0]}`);
    }
    const root = doc.find((n) => tagOf(n) === 'neuroml' || tagOf(n) === 'Lems');
    if (!root) throw new InputError(`${path}: neither a <neuroml> nor a <Lems> root element`);
    const lems = tagOf(root) === 'Lems';
    for (const node of childrenOf(root)) {
      const tag = tagOf(node), a = attrs(node);
      if (IGNORED.has(tag)) continue;
      if (tag === 'include') {
        await read(resolve(dirname(full), a.href), path);
      } else if (tag === 'ionChannelHH' || tag === 'ionChannel' || tag === 'ionChannelPassive') {
        if (channelNodes.some((c) => attrs(c.node).id === a.id)) throw new InputError(`${locate(text, path, tag, a.id)}: a channel with id '${a.id}' is defined twice`);
        channelNodes.push({ node, tag, text, file: path });
      } else if (tag === 'fixedFactorConcentrationModel' || tag === 'decayingPoolConcentrationModel') {
        pools.set(a.id, { tag, attrs: a, where: locate(text, path, tag, a.id) });
      } else if (tag === 'ComponentType') {
        types.set(a.name, componentTypeOf(node, `${locate(text, path, 'ComponentType')} name="${a.name}"`));
      } else if (tag === 'cell') {
        cellNodes.push({ node, text, file: path });
      } else if (tag === 'Include' && lems) {
        // NeuroML's core type files (Cells.xml, …) are found on jLEMS's search path, not beside the
        // file: ionsweep has their semantics built in; anything else is read relative to the file
        if (CORE_TYPE_FILES.has(basename(a.file))) continue;
        await read(resolve(dirname(full), a.file), path);
      } else if (tag === 'network' && (a.type === 'networkWithTemperature' || a.temperature !== undefined)) {
        temperatures.push({ celsius: quantity(a.temperature, 'temperature', `${locate(text, path, tag, a.id)} temperature`), where: locate(text, path, tag, a.id) });
      } else if (tag === 'networkWithTemperature') {
        temperatures.push({ celsius: quantity(a.temperature, 'temperature', `${locate(text, path, tag, a.id)} temperature`), where: locate(text, path, tag, a.id) });
      } else if (lems && LEMS_RUN_ELEMENTS.has(tag)) {
        // how jLEMS runs it (length, step, plots): ionsweep's own flags say that
        continue;
      } else if (tag === 'network' || tag === 'pulseGenerator') {
        // runs and inputs are the simulator's side: ionsweep's own flags give them
        continue;
      } else {
        throw new InputError(`${locate(text, path, tag, a.id)}: not supported yet`);
      }
    }
  };
  for (const p of paths) await read(p);
  // channels after every file is read: a gate may use a ComponentType defined later or elsewhere
  for (const { node, tag, text, file } of channelNodes) channels.set(attrs(node).id, channelOf(node, tag, text, file, types));
  // a network's temperature sets the cells' celsius unless the caller gives one
  if (new Set(temperatures.map((t) => t.celsius)).size > 1) throw new InputError(`${temperatures[1].where}: the files give more than one temperature (${temperatures.map((t) => `${t.celsius} °C`).join(', ')})`);
  const cellOptions = { ...options, celsius: options.celsius ?? temperatures[0]?.celsius };
  const cells = new Map(cellNodes.map(({ node, text, file }) => [attrs(node).id, cellOf(node, channels, pools, text, file, cellOptions)]));
  return { channels, cells };
}
