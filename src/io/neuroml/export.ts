/**
 * NeuroML2 export: a neuron definition (library or user channels written in the model language) as a
 * NeuroML2 document that jNeuroML, NEURON (through pyNeuroML) and ionsweep's own importer read.
 *
 * Each gate's x∞, τ, α or β becomes a custom LEMS ComponentType (V = v/1 mV, [Ca] = caConc/1 µM, the
 * channel's constants folded in as numbers), its expression printed from the expression DAG:
 * operations as LEMS writes them, and every conditional (ifelse, min, max, the removable singularity
 * of exprel and linoid) as a ConditionalDerivedVariable. A rate factor of the form
 * q^((celsius − T)/10) becomes q10Settings (q10ExpTemp), so the temperature stays a parameter; any
 * other rate factor is folded in at the neuron's values. The soma is a sphere of the model's area, the
 * calcium pool a fixedFactorConcentrationModel (ρ = 1000·f·A/(1e-2·τ), the inverse of the import),
 * and a networkWithTemperature carries `celsius`. NeuroML has no cold start: gates start at steady
 * state (the importer's default too).
 */
import { InputError } from '../../errors.ts';
import * as E from '../../model/expr.ts';
import type { Expr } from '../../model/expr.ts';
import type { ParamDef } from '../../model/model.ts';
import { parseExpr } from '../../model/parse.ts';
import { CALCIUM_PARAMS, SOMA_PARAMS, type ExprInput, type NeuronDef } from '../../model/neuron.ts';

const valueOf = (p: number | ParamDef | undefined) => (p === undefined ? undefined : typeof p === 'number' ? p : p.value);
const num = (x: number) => {
  if (!Number.isFinite(x)) throw new InputError(`NeuroML export: a constant ${x} is not a finite number`);
  return String(x);
};
const xmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Derived {
  name: string;
  value?: string;
  cases?: { condition?: string; value: string }[];
}

/** Prints an expression DAG as LEMS text, collecting the conditionals it needs as derived variables. */
function lemsPrinter(prefix: string) {
  const derived: Derived[] = [];
  const memo = new Map<number, string>();
  const aux = (d: Omit<Derived, 'name'>) => {
    const name = `${prefix}${derived.length}`;
    derived.push({ name, ...d });
    return name;
  };
  const comparison = (c: Expr): string => {
    if (c.op === 'lt') return `${text(c.args[0])} .lt. ${text(c.args[1])}`;
    if (c.op === 'le') return `${text(c.args[0])} .leq. ${text(c.args[1])}`;
    throw new InputError(`NeuroML export: a condition '${E.format(c)}' is not a single comparison (LEMS conditions here are a .lt. b or a .leq. b)`);
  };
  const text = (e: Expr): string => {
    const cached = memo.get(e.id);
    if (cached !== undefined) return cached;
    const a = e.args.map(text);
    let out: string;
    switch (e.op) {
      case 'const': out = e.value < 0 ? `(${num(e.value)})` : num(e.value); break;
      case 'sym': out = e.name; break;
      case 'add': out = `(${a[0]} + ${a[1]})`; break;
      case 'sub': out = `(${a[0]} - ${a[1]})`; break;
      case 'mul': out = `(${a[0]} * ${a[1]})`; break;
      case 'div': out = `(${a[0]} / ${a[1]})`; break;
      case 'neg': out = `(-${a[0]})`; break;
      case 'exp': out = `exp(${a[0]})`; break;
      case 'sqrt': out = `sqrt(${a[0]})`; break;
      case 'abs': out = `abs(${a[0]})`; break;
      case 'tanh': out = `tanh(${a[0]})`; break;
      case 'sin': case 'cos': case 'tan': case 'sinh': case 'cosh': case 'ceil': out = `${e.op}(${a[0]})`; break;
      case 'heaviside': out = `H(${a[0]})`; break;
      case 'powi': out = `(${Array(e.value).fill(a[0]).join(' * ')})`; break;
      case 'min': out = aux({ cases: [{ condition: `${a[0]} .lt. ${a[1]}`, value: a[0] }, { value: a[1] }] }); break;
      case 'max': out = aux({ cases: [{ condition: `${a[0]} .lt. ${a[1]}`, value: a[1] }, { value: a[0] }] }); break;
      case 'select': out = aux({ cases: [{ condition: comparison(e.args[0]), value: a[1] }, { value: a[2] }] }); break;
      case 'exprel': {
        // (e^x − 1)/x with its limit at 0: the series' first terms where |x| is tiny (error < x²/6 < 1e-12)
        const x = aux({ value: a[0] });
        out = aux({ cases: [{ condition: `abs(${x}) .lt. 1e-6`, value: `(1 + ${x}/2)` }, { value: `((exp(${x}) - 1) / ${x})` }] });
        break;
      }
      default:
        throw new InputError(`NeuroML export: the operation ${e.op} has no LEMS spelling here`);
    }
    memo.set(e.id, out);
    return out;
  };
  return { text, derived };
}

/**
 * One gate quantity as a ComponentType: `exposure` t (time), r (rate) or x (variable), `scale` the
 * LEMS unit it is multiplied by (ms, per_ms, none).
 */
function componentType(name: string, input: ExprInput, constants: Map<string, number>, rateFactor: Expr | undefined, role: 'time' | 'rate' | 'variable'): string {
  const raw = typeof input === 'string' ? parseExpr(input) : typeof input === 'number' ? E.num(input) : input;
  // fold the channel's and neuron's named constants; V and Ca stay as LEMS derived variables
  let expr = E.substitute([raw], (n) => (n.op === 'sym' && constants.has(n.name) ? E.num(constants.get(n.name)!) : undefined))[0];
  if (rateFactor) expr = role === 'time' ? E.div(expr, rateFactor) : role === 'rate' ? E.mul(expr, rateFactor) : expr;
  const unknown = E.topoOrder([expr]).find((n) => n.op === 'sym' && n.name !== 'V' && n.name !== 'Ca');
  if (unknown) throw new InputError(`NeuroML export: ${name} reads '${unknown.name}', which is neither V, Ca nor a parameter with a value`);
  const printer = lemsPrinter('aux');
  const body = printer.text(expr);
  const usesCa = E.topoOrder([expr]).some((n) => n.op === 'sym' && n.name === 'Ca');
  const base = role === 'time' ? 'Time' : role === 'rate' ? 'Rate' : 'Variable';
  const [exposure, scale] = role === 'time' ? ['t', ' * TIME_SCALE'] : role === 'rate' ? ['r', ' / TIME_SCALE'] : ['x', ''];
  const lines = [
    `    <ComponentType name="${name}" extends="baseVoltage${usesCa ? 'Conc' : ''}Dep${base}">`,
    '        <Constant name="TIME_SCALE" dimension="time" value="1 ms"/>',
    '        <Constant name="VOLT_SCALE" dimension="voltage" value="1 mV"/>',
    ...(usesCa ? ['        <Constant name="CONC_SCALE" dimension="concentration" value="0.001 mM"/>'] : []),
    '        <Dynamics>',
    '            <DerivedVariable name="V" dimension="none" value="v / VOLT_SCALE"/>',
    ...(usesCa ? ['            <DerivedVariable name="Ca" dimension="none" value="caConc / CONC_SCALE"/>'] : []),
    ...printer.derived.map((d) => (d.cases
      ? `            <ConditionalDerivedVariable name="${d.name}" dimension="none">\n${d.cases.map((c) => `                <Case${c.condition ? ` condition="${xmlAttr(c.condition)}"` : ''} value="${xmlAttr(c.value)}"/>`).join('\n')}\n            </ConditionalDerivedVariable>`
      : `            <DerivedVariable name="${d.name}" dimension="none" value="${xmlAttr(d.value!)}"/>`)),
    `            <DerivedVariable name="${exposure}" exposure="${exposure}" dimension="${role === 'time' ? 'time' : role === 'rate' ? 'per_time' : 'none'}" value="${xmlAttr(`${body}${scale}`)}"/>`,
    '        </Dynamics>',
    '    </ComponentType>',
  ];
  return lines.join('\n');
}

/** q^((celsius − T)/10) as NeuroML's q10ExpTemp, or undefined for any other rate factor. */
function q10Of(rateFactor: ExprInput | undefined): { q10Factor: number; experimentalTemp: number } | undefined {
  if (typeof rateFactor !== 'string') return undefined;
  const m = /^\s*([\d.]+)\s*\^\s*\(\s*\(\s*celsius\s*-\s*([\d.]+)\s*\)\s*\/\s*10\s*\)\s*$/.exec(rateFactor);
  return m ? { q10Factor: Number(m[1]), experimentalTemp: Number(m[2]) } : undefined;
}

/** The neuron as a NeuroML2 document (text). */
export function exportNeuroML(def: NeuronDef): string {
  const params = new Map<string, number>();
  const put = (table: Record<string, number | ParamDef> | undefined) => {
    for (const [k, v] of Object.entries(table ?? {})) params.set(k, valueOf(v)!);
  };
  put(SOMA_PARAMS);
  if (def.calcium) put({ ...CALCIUM_PARAMS, ...(def.calcium.params ?? {}) });
  for (const ch of def.channels) put(ch.params);
  put(def.params);
  const p = (name: string) => params.get(name)!;
  const id = def.name.replace(/[^A-Za-z0-9_]/g, '_');
  const types: string[] = [];
  const channels: string[] = [];
  const densities: string[] = [];
  for (const ch of def.channels) {
    const chId = `${id}_${ch.name}`;
    const q10 = q10Of(ch.rateFactor);
    const rateFactor = ch.rateFactor === undefined || q10 ? undefined
      : E.substitute([typeof ch.rateFactor === 'string' ? parseExpr(ch.rateFactor) : E.lift(ch.rateFactor as Expr | number)], (n) => (n.op === 'sym' && params.has(n.name) ? E.num(params.get(n.name)!) : undefined))[0];
    const gates = ch.gates.map((g) => {
      const type = (what: string) => `${chId}_${g.name}_${what}`;
      const q10Line = q10 ? `\n            <q10Settings type="q10ExpTemp" q10Factor="${q10.q10Factor}" experimentalTemp="${q10.experimentalTemp} degC"/>` : '';
      if (g.inf !== undefined && g.tau !== undefined) {
        types.push(componentType(type('inf'), g.inf, params, rateFactor, 'variable'), componentType(type('tau'), g.tau, params, rateFactor, 'time'));
        return `        <gate id="${g.name}" type="gateHHtauInf" instances="${g.power}">${q10Line}\n            <timeCourse type="${type('tau')}"/>\n            <steadyState type="${type('inf')}"/>\n        </gate>`;
      }
      if (g.alpha !== undefined && g.beta !== undefined) {
        types.push(componentType(type('alpha'), g.alpha, params, rateFactor, 'rate'), componentType(type('beta'), g.beta, params, rateFactor, 'rate'));
        return `        <gate id="${g.name}" type="gateHHrates" instances="${g.power}">${q10Line}\n            <forwardRate type="${type('alpha')}"/>\n            <reverseRate type="${type('beta')}"/>\n        </gate>`;
      }
      throw new InputError(`NeuroML export: gate ${ch.name}.${g.name} gives neither inf and tau nor alpha and beta`);
    });
    channels.push(`    <ionChannel id="${chId}" type="ionChannelHH" conductance="10pS">\n${gates.join('\n')}\n    </ionChannel>`);
    const g = `${num(p(ch.conductance))} mS_per_cm2`;
    if (ch.reversal === 'nernst-ca') {
      densities.push(`                <channelDensityNernst id="${ch.name}" ionChannel="${chId}" condDensity="${g}" ion="ca"/>`);
    } else {
      densities.push(`                <channelDensity id="${ch.name}" ionChannel="${chId}" condDensity="${g}" erev="${num(p(ch.reversal))} mV" ion="${ch.carriesCalcium ? 'ca' : 'non_specific'}"/>`);
    }
  }
  const areaCm2 = p('areaCm2');
  const diameterUm = Math.sqrt(areaCm2 / Math.PI) * 1e4;
  const pool = def.calcium
    ? `    <fixedFactorConcentrationModel id="${id}_pool" ion="ca" restingConc="${num(p('Ca0UM') * 1e-3)} mM" decayConstant="${num(p('tauCaMs'))} ms" rho="${num((1000 * p('fCa') * areaCm2) / (1e-2 * p('tauCaMs')))} mol_per_m_per_A_per_s"/>\n`
    : '';
  const species = def.calcium
    ? `            <intracellularProperties>\n                <species id="ca" ion="ca" concentrationModel="${id}_pool" initialConcentration="${num(p('Ca0UM') * 1e-3)} mM" initialExtConcentration="${num(p('CaOutUM') * 1e-3)} mM"/>\n            </intracellularProperties>\n`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="${id}">
    <notes>Exported by ionsweep from model ${xmlAttr(def.name)}</notes>
${types.join('\n')}
${channels.join('\n')}
${pool}    <cell id="${id}">
        <morphology id="${id}_morphology">
            <segment id="0" name="soma">
                <proximal x="0" y="0" z="0" diameter="${num(diameterUm)}"/>
                <distal x="0" y="0" z="0" diameter="${num(diameterUm)}"/>
            </segment>
        </morphology>
        <biophysicalProperties id="${id}_biophysics">
            <membraneProperties>
${densities.join('\n')}
                <specificCapacitance value="${num(p('CmUFPerCm2'))} uF_per_cm2"/>
                <initMembPotential value="${num(p('initVMv'))} mV"/>
            </membraneProperties>
${species}        </biophysicalProperties>
    </cell>
    <network id="${id}_network" type="networkWithTemperature" temperature="${num(p('celsius'))} degC">
        <population id="${id}_population" component="${id}" size="1"/>
    </network>
</neuroml>
`;
}
