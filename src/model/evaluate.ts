/**
 * A reference interpreter for expressions, in f64. The host uses it for initial states and spot
 * values; tests use it as an independent check of the emitted code.
 */
import { type Expr, topoOrder, exprelValue, exprelPrimeValue, heavisideValue } from './expr.ts';

/** Values of the leaves an expression may read. */
export interface Env {
  param?: (name: string) => number;
  state?: (name: string) => number;
  tangent?: (stateName: string, lane: string) => number;
  sym?: (name: string) => number;
  timeMs?: number;
  /** a recorded series at the current step (offset 0) or the next (1) */
  input?: (name: string, offset: number) => number;
}

function leafValue(node: Expr, env: Env): number {
  const missing = (what: string) => {
    throw new Error(`cannot evaluate: no value for ${what} '${node.name}'`);
  };
  switch (node.op) {
    case 'const': return node.value;
    case 'param': return env.param ? env.param(node.name) : missing('parameter');
    case 'state': return env.state ? env.state(node.name) : missing('state');
    case 'sym': return env.sym ? env.sym(node.name) : missing('symbol');
    case 'tangent': return env.tangent ? env.tangent(node.name, node.lane) : missing('tangent');
    case 'time': return env.timeMs ?? missing('time');
    case 'input': return env.input ? env.input(node.name, node.value) : missing('input');
    default: throw new Error(`not a leaf: ${node.op}`);
  }
}

function apply(node: Expr, v: number[]): number {
  switch (node.op) {
    case 'add': return v[0] + v[1];
    case 'sub': return v[0] - v[1];
    case 'mul': return v[0] * v[1];
    case 'div': return v[0] / v[1];
    case 'neg': return -v[0];
    case 'exp': return Math.exp(v[0]);
    case 'log': return Math.log(v[0]);
    case 'sqrt': return Math.sqrt(v[0]);
    case 'abs': return Math.abs(v[0]);
    case 'tanh': return Math.tanh(v[0]);
    case 'sin': return Math.sin(v[0]);
    case 'cos': return Math.cos(v[0]);
    case 'tan': return Math.tan(v[0]);
    case 'sinh': return Math.sinh(v[0]);
    case 'cosh': return Math.cosh(v[0]);
    case 'ceil': return Math.ceil(v[0]);
    case 'heaviside': return heavisideValue(v[0]);
    case 'powi': return v[0] ** node.value;
    case 'expm1': return Math.expm1(v[0]);
    case 'exprel': return exprelValue(v[0]);
    case 'exprelPrime': return exprelPrimeValue(v[0]);
    case 'min': return Math.min(v[0], v[1]);
    case 'max': return Math.max(v[0], v[1]);
    case 'lt': return v[0] < v[1] ? 1 : 0;
    case 'le': return v[0] <= v[1] ? 1 : 0;
    case 'and': return v[0] !== 0 && v[1] !== 0 ? 1 : 0;
    case 'select': return v[0] !== 0 ? v[1] : v[2];
    default: throw new Error(`cannot evaluate ${node.op}`);
  }
}

/** Evaluates several expressions at once, sharing their common subexpressions. */
export function evaluateAll(roots: readonly Expr[], env: Env): number[] {
  const values = new Map<number, number>();
  for (const node of topoOrder(roots)) {
    values.set(node.id, node.args.length === 0 ? leafValue(node, env) : apply(node, node.args.map((a) => values.get(a.id)!)));
  }
  return roots.map((r) => values.get(r.id)!);
}

export function evaluate(root: Expr, env: Env): number {
  return evaluateAll([root], env)[0];
}
