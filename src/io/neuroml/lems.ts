/**
 * Custom LEMS ComponentTypes for gate kinetics (the form NeuroML files use for rates, time constants
 * and steady states that the standard HH forms do not cover): Constants, DerivedVariables and
 * ConditionalDerivedVariables in LEMS's expression syntax, evaluated symbolically into ionsweep
 * expressions. LEMS computes in SI, so `v` is V·1e-3 (V in mV), `caConc` is [Ca]·1e-3 (mol/m³ from
 * µM), constants are taken to SI, and the exposed value is brought back: a time (s) to ms, a rate
 * (1/s) to 1/ms, a variable as it is.
 */
import { InputError } from '../../errors.ts';
import * as E from '../../model/expr.ts';
import type { Expr } from '../../model/expr.ts';
import { parseExpr } from '../../model/parse.ts';
import { quantitySI } from './units.ts';

type Attrs = Record<string, string>;

export interface ComponentTypeDef {
  name: string;
  extends?: string;
  constants: Attrs[];
  derived: { name: string; value?: string; exposure?: string; cases?: Attrs[] }[];
  requirements: Attrs[];
  where: string;
}

/** What each base type exposes and how its SI value becomes ionsweep's. */
const BASES: Record<string, { exposure: string; toIonsweep: number }> = {
  baseVoltageDepTime: { exposure: 't', toIonsweep: 1e3 },
  baseVoltageConcDepTime: { exposure: 't', toIonsweep: 1e3 },
  baseVoltageDepRate: { exposure: 'r', toIonsweep: 1e-3 },
  baseVoltageConcDepRate: { exposure: 'r', toIonsweep: 1e-3 },
  baseVoltageDepVariable: { exposure: 'x', toIonsweep: 1 },
  baseVoltageConcDepVariable: { exposure: 'x', toIonsweep: 1 },
};

/** LEMS's comparison operators in the expression language's spelling (.eq., .neq., .and., .or. are handled by condition). */
function lemsToText(source: string): string {
  // LEMS's ln is the natural logarithm, the expression language's log
  return source.replace(/\bln\s*\(/g, 'log(').replace(/\.gt\./g, '>').replace(/\.lt\./g, '<').replace(/\.geq\./g, '>=').replace(/\.leq\./g, '<=');
}

/**
 * A Case condition: conditions joined by `.and.`/`.or.` (or binds looser, as in LEMS), `a .eq. b` as
 * a ≤ b and b ≤ a, `.neq.` its negation, anything else as written.
 */
function condition(text: string, where: string, parse: (t: string) => Expr): Expr {
  if (/\.or\./.test(text)) {
    return text.split('.or.').map((t) => condition(t, where, parse)).reduce((a, b) => E.select(a, 1, b));
  }
  if (/\.and\./.test(text)) return text.split('.and.').map((t) => condition(t, where, parse)).reduce((a, b) => E.and(a, b));
  const m = /^(.*?)\.(eq|neq)\.(.*)$/.exec(text);
  if (!m) return parse(text);
  if (/\.(eq|neq)\./.test(m[3])) throw new InputError(`${where}: '${text}': one .eq./.neq. per condition`);
  const [a, b] = [parse(m[1]), parse(m[3])];
  const equal = E.and(E.le(a, b), E.le(b, a));
  return m[2] === 'eq' ? equal : E.sub(1, equal);
}

/**
 * The component's exposed value as an ionsweep expression of V (mV) and Ca (µM). `required` gives
 * what its Requirements read, in SI (a gate's own rates alpha and beta, in 1/s, for a time course).
 */
export function componentExpr(type: ComponentTypeDef, required: ReadonlyMap<string, Expr> = new Map()): Expr {
  const base = type.extends === undefined ? undefined : BASES[type.extends];
  if (!base) throw new InputError(`${type.where}: a ComponentType extending '${type.extends ?? '(nothing)'}' is not supported (${Object.keys(BASES).join(', ')})`);
  const missing = type.requirements.filter((r) => !required.has(r.name));
  if (missing.length) throw new InputError(`${type.where}: Requirements (${missing.map((r) => r.name).join(', ')}) are not supported here (a time course or steady state of a gate with rates may read alpha and beta)`);
  const env = new Map<string, Expr>([
    ['v', E.mul(E.sym('V'), 1e-3)],
    ['caConc', E.mul(E.sym('Ca'), 1e-3)],
    ...required,
  ]);
  for (const c of type.constants) env.set(c.name, E.num(quantitySI(c.value, `${type.where} Constant ${c.name}`).value));
  const resolve = (text: string, where: string): Expr =>
    E.substitute([parseExpr(lemsToText(text))], (n) => {
      if (n.op !== 'sym') return undefined;
      const value = env.get(n.name);
      if (!value) throw new InputError(`${where}: unknown name '${n.name}' (known: ${[...env.keys()].join(', ')})`);
      return value;
    })[0];
  for (const d of type.derived) {
    const where = `${type.where} ${d.name}`;
    if (d.cases) {
      // the Cases in order as nested ifelse, closed by the one without a condition; without one, by the
      // last Case (files write complementary conditions, and LEMS leaves a value no Case matches undefined)
      if (!d.cases.length) throw new InputError(`${where}: a ConditionalDerivedVariable needs Cases`);
      const conditioned = d.cases.filter((x) => x.condition !== undefined);
      const otherwise = d.cases.find((c) => c.condition === undefined) ?? conditioned.pop()!;
      let value = resolve(otherwise.value, where);
      for (const c of conditioned.reverse()) value = E.select(condition(c.condition, where, (t) => resolve(t, where)), resolve(c.value, where), value);
      env.set(d.name, value);
    } else {
      if (d.value === undefined) throw new InputError(`${where}: a DerivedVariable needs a value`);
      env.set(d.name, resolve(d.value, where));
    }
  }
  const exposed = type.derived.find((d) => d.exposure === base.exposure);
  if (!exposed) throw new InputError(`${type.where}: exposes no '${base.exposure}' (what ${type.extends} provides)`);
  return E.mul(env.get(exposed.name)!, base.toIonsweep);
}
