/**
 * A small infix language for gate kinetics, so a channel can be written as text:
 *
 *     inf: '1/(1+exp((V+25.5)/-5.29))', tau: '2.64 - 2.52/(1+exp((V+120)/-25))'
 *
 * Grammar: numbers, names (resolved later: V, Ca, parameter names), + − * / ^ (integer powers
 * become products), unary minus, parentheses, comparisons < <= > >= inside `ifelse`, and the
 * functions listed in FUNCTIONS. Names are left as `sym` leaves; the model assembler resolves them
 * and reports unknown ones with the list of known names.
 */
import { InputError } from '../errors.ts';
import * as E from './expr.ts';
import type { Expr } from './expr.ts';
import { own } from './names.ts';

type Fn = { arity: number; build: (args: Expr[]) => Expr; doc: string };

/** Functions available in kinetic expressions. */
export const FUNCTIONS: Record<string, Fn> = {
  exp: { arity: 1, build: ([x]) => E.exp(x), doc: 'e^x' },
  log: { arity: 1, build: ([x]) => E.log(x), doc: 'natural logarithm' },
  sqrt: { arity: 1, build: ([x]) => E.sqrt(x), doc: 'square root' },
  abs: { arity: 1, build: ([x]) => E.abs(x), doc: 'absolute value' },
  tanh: { arity: 1, build: ([x]) => E.tanh(x), doc: 'hyperbolic tangent' },
  sin: { arity: 1, build: ([x]) => E.sin(x), doc: 'sine (radians)' },
  cos: { arity: 1, build: ([x]) => E.cos(x), doc: 'cosine (radians)' },
  tan: { arity: 1, build: ([x]) => E.tan(x), doc: 'tangent (radians)' },
  sinh: { arity: 1, build: ([x]) => E.sinh(x), doc: 'hyperbolic sine' },
  cosh: { arity: 1, build: ([x]) => E.cosh(x), doc: 'hyperbolic cosine' },
  ceil: { arity: 1, build: ([x]) => E.ceil(x), doc: 'smallest integer ≥ x (derivative 0)' },
  H: { arity: 1, build: ([x]) => E.heaviside(x), doc: "Heaviside's step: 1 where x > 0, else 0 (derivative 0)" },
  min: { arity: 2, build: ([a, b]) => E.min(a, b), doc: 'smaller of two' },
  max: { arity: 2, build: ([a, b]) => E.max(a, b), doc: 'larger of two' },
  exprel: { arity: 1, build: ([x]) => E.exprel(x), doc: '(exp(x)-1)/x, safe at 0' },
  logistic: { arity: 1, build: ([x]) => logistic(x), doc: '1/(1+exp(-x))' },
  linoid: { arity: 2, build: ([x, k]) => linoid(x, k), doc: 'x/(1-exp(-x/k)), safe at x = 0 (limit k)' },
  pow: { arity: 2, build: ([a, b]) => power(a, b), doc: 'a^b' },
  ifelse: { arity: 3, build: ([c, a, b]) => E.select(c, a, b), doc: 'c ? a : b' },
};

/** 1/(1 + exp(−x)), the standard logistic function. */
export function logistic(x: E.ExprLike): Expr {
  return E.div(1, E.add(1, E.exp(E.neg(x))));
}

/**
 * x/(1 − exp(−x/k)), the HH-style rate whose 0/0 at x = 0 has the limit k. Written as
 * k/exprel(−x/k) so every backend evaluates it (and its derivative) through the safe exprel.
 */
export function linoid(x: E.ExprLike, k: E.ExprLike): Expr {
  return E.div(k, E.exprel(E.neg(E.div(x, k))));
}

/** a^b: integer constant exponents (|b| ≤ 64) become products, exact for negative a; anything else exp(b·log a). */
export function power(a: Expr, b: Expr): Expr {
  if (b.isConst && Number.isInteger(b.value) && Math.abs(b.value) <= 64) return E.powi(a, b.value);
  return E.exp(E.mul(b, E.log(a)));
}

export class ParseError extends InputError {}

/**
 * Limits on expression text. The parser, the derivative rules and the printers recurse over the
 * expression tree, so an unbounded nesting (2,000 nested `exp(`) would overflow the stack; real
 * kinetics are a few dozen levels deep and a few hundred characters long.
 */
export const MAX_EXPR_CHARS = 20_000;
export const MAX_EXPR_DEPTH = 400;

const TOKEN = /(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_.]*)|(<=|>=|[-+*/^(),<>])|'([A-Za-z_][A-Za-z0-9_.]*)'/y;

type Token = { kind: 'num' | 'name' | 'op' | 'str' | 'end'; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  for (;;) {
    while (at < source.length && /\s/.test(source[at])) at++;
    if (at >= source.length) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(source);
    if (!m) throw new ParseError(`unexpected character '${source[at]}' at position ${at} in '${source}'`);
    const kind = m[1] !== undefined ? 'num' : m[2] !== undefined ? 'name' : m[3] !== undefined ? 'op' : 'str';
    tokens.push({ kind, text: kind === 'str' ? m[4] : m[0], at });
    at += m[0].length;
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

/** The function that reads a recorded series in expression text: `input('V')`. */
export const INPUT_FUNCTION = 'input';

/** Parses an expression; names stay as `sym` leaves. */
export function parseExpr(source: string): Expr {
  if (typeof source !== 'string') throw new ParseError(`an expression must be text, got ${typeof source}`);
  if (source.length > MAX_EXPR_CHARS) throw new ParseError(`expression of ${source.length} characters is too long (at most ${MAX_EXPR_CHARS}): '${source.slice(0, 40)}…'`);
  const tokens = tokenize(source);
  let nesting = 0;
  const nest = () => {
    if (++nesting > MAX_EXPR_DEPTH) throw new ParseError(`expression nests deeper than ${MAX_EXPR_DEPTH} levels (parentheses, functions, powers or signs) in '${source.slice(0, 40)}…'`);
  };
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (what: string): never => {
    const t = peek();
    throw new ParseError(`${what} at position ${t.at} in '${source}'${t.kind === 'end' ? ' (end of input)' : ` (found '${t.text}')`}`);
  };
  const accept = (text: string) => {
    if (peek().kind === 'op' && peek().text === text) {
      pos++;
      return true;
    }
    return false;
  };
  const expect = (text: string) => {
    if (!accept(text)) fail(`expected '${text}'`);
  };

  function comparison(): Expr {
    const left = additive();
    const t = peek();
    if (t.kind === 'op' && ['<', '<=', '>', '>='].includes(t.text)) {
      pos++;
      const right = additive();
      if (t.text === '<') return E.lt(left, right);
      if (t.text === '<=') return E.le(left, right);
      if (t.text === '>') return E.lt(right, left);
      return E.le(right, left);
    }
    return left;
  }
  function additive(): Expr {
    let left = multiplicative();
    for (;;) {
      if (accept('+')) left = E.add(left, multiplicative());
      else if (accept('-')) left = E.sub(left, multiplicative());
      else return left;
    }
  }
  function multiplicative(): Expr {
    let left = unary();
    for (;;) {
      if (accept('*')) left = E.mul(left, unary());
      else if (accept('/')) left = E.div(left, unary());
      else return left;
    }
  }
  function unary(): Expr {
    nest();
    try {
      if (accept('-')) return E.neg(unary());
      if (accept('+')) return unary();
      return powerExpr();
    } finally {
      nesting--;
    }
  }
  function powerExpr(): Expr {
    const base = primary();
    if (accept('^')) return power(base, unary()); // right-associative, binds tighter than unary minus on its left
    return base;
  }
  function primary(): Expr {
    const t = peek();
    if (t.kind === 'num') {
      pos++;
      return E.num(Number(t.text));
    }
    if (t.kind === 'name') {
      pos++;
      if (accept('(')) {
        // input('V') or input(V): a recorded series, read at the current step (see expr.ts, input)
        if (t.text === INPUT_FUNCTION) {
          const name = peek();
          if (name.kind !== 'name' && name.kind !== 'str') fail(`${INPUT_FUNCTION}() takes the name of a recording, e.g. ${INPUT_FUNCTION}('V')`);
          pos++;
          expect(')');
          return E.input(name.text);
        }
        const fn = own(FUNCTIONS, t.text);
        if (!fn) throw new ParseError(`unknown function '${t.text}' in '${source}'; known: ${Object.keys(FUNCTIONS).join(', ')}`);
        const args: Expr[] = [];
        if (!accept(')')) {
          do args.push(comparison()); while (accept(','));
          expect(')');
        }
        if (args.length !== fn.arity) throw new ParseError(`${t.text}() takes ${fn.arity} argument(s), got ${args.length} in '${source}'`);
        return fn.build(args);
      }
      return E.sym(t.text);
    }
    if (accept('(')) {
      const inner = comparison();
      expect(')');
      return inner;
    }
    return fail('expected a number, a name or (');
  }

  const result = comparison();
  if (peek().kind !== 'end') fail('unexpected input');
  // long chains (a + a + … + a) are deep trees without nesting in the text
  const depth = treeDepth(result);
  if (depth > MAX_EXPR_DEPTH) throw new ParseError(`expression is ${depth} operations deep (at most ${MAX_EXPR_DEPTH}): '${source.slice(0, 40)}…'`);
  return result;
}

/** Depth of an expression DAG (a leaf is 1), computed without recursion. */
export function treeDepth(root: Expr): number {
  const depth = new Map<number, number>();
  for (const node of E.topoOrder([root])) depth.set(node.id, 1 + Math.max(0, ...node.args.map((a) => depth.get(a.id)!)));
  return depth.get(root.id)!;
}
