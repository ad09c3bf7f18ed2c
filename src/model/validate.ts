/**
 * Checks that a value is a Model as the builders make it, before anything is generated from it.
 *
 * Compiled kernels are source text (JavaScript run by `new Function`, WGSL, gpu.js), so whatever
 * reaches an emitter must be typed data: expression nodes made by the interning builders of expr.ts
 * (never plain objects that merely look like them, e.g. parsed from a YAML spec), constants that are
 * numbers, names that follow the naming rules and resolve within the model. The compiler calls this
 * on every model, whatever path it came by; a spec may name a library model, and a Model object is
 * accepted only when it passes here.
 */
import { InputError } from '../errors.ts';
import { Expr, LEAF_OPS, type Op } from './expr.ts';
import { STIMULUS_SYMBOL, type Model } from './model.ts';
import { nameProblem } from './names.ts';

const OPS: ReadonlySet<Op> = new Set<Op>([
  ...LEAF_OPS, 'add', 'sub', 'mul', 'div', 'neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'powi',
  'sin', 'cos', 'tan', 'sinh', 'cosh', 'ceil', 'heaviside',
  'expm1', 'exprel', 'exprelPrime', 'min', 'max', 'lt', 'le', 'and', 'select',
]);
const ARITY: Partial<Record<Op, number>> = {
  add: 2, sub: 2, mul: 2, div: 2, min: 2, max: 2, lt: 2, le: 2, and: 2, select: 3,
  neg: 1, exp: 1, log: 1, sqrt: 1, abs: 1, tanh: 1, powi: 1, expm1: 1, exprel: 1, exprelPrime: 1,
  sin: 1, cos: 1, tan: 1, sinh: 1, cosh: 1, ceil: 1, heaviside: 1,
};
/** model names appear in kernel comments: one line of plain characters */
const MODEL_NAME = /^[A-Za-z0-9_.+\- ]{1,100}$/;
const TEXT_FIELD_MAX = 1000;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const fail = (message: string): never => {
  throw new InputError(`invalid model: ${message}`);
};

/** The first problem validateModel finds, as text, or null for a valid model. */
export function modelProblem(value: unknown): string | null {
  try {
    validateModel(value);
    return null;
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
}

/** Throws an InputError naming the first problem, or returns the model typed as a Model. */
export function validateModel(value: unknown): Model {
  if (!isObject(value)) return fail(`expected a model object, got ${value === null ? 'null' : typeof value}`);
  const m = value as Partial<Model>;
  if (typeof m.name !== 'string' || !MODEL_NAME.test(m.name)) fail(`name must be 1-100 letters, digits, spaces and _ . + -, got ${JSON.stringify(m.name)?.slice(0, 80)}`);
  if (!isObject(m.params)) fail('params must be a table of parameter definitions');
  if (!Array.isArray(m.states) || m.states.length === 0) fail('states must be a non-empty list');
  if (!Array.isArray(m.observed)) fail('observed must be a list');
  if (!Array.isArray(m.spikeSources)) fail('spikeSources must be a list');
  if (m.defaultInit !== 'steady' && m.defaultInit !== 'cold') fail(`defaultInit must be steady or cold, got ${JSON.stringify(m.defaultInit)}`);
  const model = m as Model;

  for (const [name, def] of Object.entries(model.params)) {
    const where = `parameter ${name}`;
    const problem = nameProblem('parameter', name);
    if (problem) fail(problem);
    if (!isObject(def)) fail(`${where} must be a definition (value, unit, description)`);
    if (typeof def.value !== 'number') fail(`${where}: value must be a number`);
    for (const bound of ['min', 'max'] as const) if (def[bound] !== undefined && typeof def[bound] !== 'number') fail(`${where}: ${bound} must be a number`);
    if (def.exclusiveMin !== undefined && typeof def.exclusiveMin !== 'boolean') fail(`${where}: exclusiveMin must be true or false`);
    for (const text of ['unit', 'description'] as const) {
      if (typeof def[text] !== 'string' || def[text].length > TEXT_FIELD_MAX) fail(`${where}: ${text} must be text of at most ${TEXT_FIELD_MAX} characters`);
    }
  }

  const stateNames = new Set<string>();
  const roots: { where: string; expr: unknown }[] = [];
  model.states.forEach((s, k) => {
    if (!isObject(s)) fail(`states[${k}] must be a state definition`);
    const problem = nameProblem('state', s.name);
    if (problem) fail(`states[${k}]: ${problem}`);
    if (stateNames.has(s.name)) fail(`state ${s.name} appears twice`);
    stateNames.add(s.name);
    if (s.stage !== 0 && s.stage !== 1) fail(`state ${s.name}: stage must be 0 or 1`);
    if (!isObject(s.ode) || !isObject(s.init)) fail(`state ${s.name} needs an ode and an init`);
    for (const key of ['rhs', 'rate'] as const) roots.push({ where: `state ${s.name} ode.${key}`, expr: s.ode[key] });
    for (const key of ['inf', 'tau'] as const) if (s.ode[key] !== undefined) roots.push({ where: `state ${s.name} ode.${key}`, expr: s.ode[key] });
    for (const key of ['cold', 'steady'] as const) roots.push({ where: `state ${s.name} init.${key}`, expr: s.init[key] });
  });
  for (const [list, kind] of [[model.observed, 'observed'], [model.spikeSources, 'spikeSources']] as const) {
    list.forEach((o, k) => {
      if (!isObject(o)) fail(`${kind}[${k}] must be a definition`);
      const problem = nameProblem(kind === 'observed' ? 'observed quantity' : 'spike source', o.name);
      if (problem) fail(`${kind}[${k}]: ${problem}`);
      roots.push({ where: `${kind} ${o.name}`, expr: o.expr });
    });
  }
  if (model.currents !== undefined) {
    if (!Array.isArray(model.currents)) fail('currents must be a list');
    model.currents.forEach((c, k) => {
      if (!isObject(c)) fail(`currents[${k}] must be a definition`);
      const problem = nameProblem('current', c.name);
      if (problem) fail(`currents[${k}]: ${problem}`);
      roots.push({ where: `current ${c.name}`, expr: c.expr });
    });
  }
  if (model.forced !== undefined) {
    if (!Array.isArray(model.forced)) fail('forced must be a list');
    model.forced.forEach((f, k) => {
      if (!isObject(f) || !isObject(f.ode)) fail(`forced[${k}] must be a forced-state definition`);
      for (const [kind, name] of [['state', f.name], ['recording', f.input]] as const) {
        const problem = nameProblem(kind, name);
        if (problem) fail(`forced[${k}]: ${problem}`);
      }
      if (stateNames.has(f.name)) fail(`forced state ${f.name} is also a state`);
      for (const key of ['rhs', 'rate'] as const) roots.push({ where: `forced ${f.name} ode.${key}`, expr: f.ode[key] });
    });
  }
  model.observed.forEach((o) => {
    if (!['voltage', 'calcium', 'other'].includes(o.kind)) fail(`observed ${o.name}: kind must be voltage, calcium or other`);
    if (typeof o.unit !== 'string' || o.unit.length > TEXT_FIELD_MAX) fail(`observed ${o.name}: unit must be text`);
  });

  for (const { where, expr } of roots) checkExpr(expr, where, model, stateNames);
  return model;
}

/**
 * Every node must be an interned Expr (instanceof: plain objects from a file never are), of a known
 * operation with its arity, a number where a number is printed, and leaves that resolve in the model.
 */
function checkExpr(root: unknown, where: string, model: Model, stateNames: ReadonlySet<string>): void {
  if (!(root instanceof Expr)) fail(`${where} must be an expression built by the model builders, got ${isObject(root) ? 'a plain object' : typeof root}`);
  const checked = new Set<number>();
  const pending: unknown[] = [root];
  while (pending.length) {
    const node = pending.pop();
    if (!(node instanceof Expr)) return fail(`${where} contains a node that is not an expression`);
    if (checked.has(node.id)) continue;
    checked.add(node.id);
    if (!OPS.has(node.op)) fail(`${where} uses unknown operation ${JSON.stringify(node.op)}`);
    if (typeof node.value !== 'number') fail(`${where}: a ${node.op} node's value must be a number`);
    if (typeof node.name !== 'string' || typeof node.lane !== 'string' || !Array.isArray(node.args)) fail(`${where}: malformed ${node.op} node`);
    const arity = LEAF_OPS.has(node.op) ? 0 : ARITY[node.op];
    if (node.args.length !== arity) fail(`${where}: ${node.op} takes ${arity} operand(s), got ${node.args.length}`);
    if (node.op === 'powi' && !Number.isInteger(node.value)) fail(`${where}: integer power must have an integer exponent`);
    if (node.op === 'param' && !Object.hasOwn(model.params, node.name)) fail(`${where} reads unknown parameter '${node.name}'`);
    if (node.op === 'state' && !stateNames.has(node.name)) fail(`${where} reads unknown state '${node.name}'`);
    if (node.op === 'sym' && node.name !== STIMULUS_SYMBOL) fail(`${where} has an unresolved name '${node.name}'`);
    if (node.op === 'input') {
      const problem = nameProblem('recording', node.name);
      if (problem) fail(`${where}: ${problem}`);
      if (node.value !== 0 && node.value !== 1) fail(`${where}: a recording is read at offset 0 or 1, got ${node.value}`);
    }
    if (node.op === 'tangent') fail(`${where} contains a tangent leaf (tangents are made by the compiler)`);
    pending.push(...node.args);
  }
}
