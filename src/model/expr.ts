/**
 * The expression DAG every model is written in.
 *
 * Nodes are hash-consed: building the same operation on the same operands twice returns the same
 * node, so common subexpressions are shared by construction (this is what keeps tangent lanes
 * cheap: the derivative rules reference primal nodes, which are then computed once). Constructors
 * also fold constants and drop neutral elements, so zero tangents vanish instead of being emitted.
 *
 * Leaves:
 *  - `const`   a number
 *  - `sym`     an unresolved name (from the parser or a builder), resolved when a model is assembled
 *  - `param`   a named model parameter
 *  - `state`   the current value of a named state variable
 *  - `tangent` d(state)/d(lane parameter) for one tangent lane
 *  - `time`    the time at the start of the current step (ms)
 *  - `input`   a recorded time series (`name`), read at the current step (`value` 0) or the next (1);
 *              the engines resample each recording onto the step grid before the run
 */

export type Op =
  | 'const' | 'sym' | 'param' | 'state' | 'tangent' | 'time' | 'input'
  | 'add' | 'sub' | 'mul' | 'div' | 'neg'
  | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'powi'
  | 'sin' | 'cos' | 'tan' | 'sinh' | 'cosh' | 'ceil' | 'heaviside'
  | 'expm1' | 'exprel' | 'exprelPrime'
  | 'min' | 'max'
  | 'lt' | 'le' | 'and' | 'select';

export const LEAF_OPS: ReadonlySet<Op> = new Set(['const', 'sym', 'param', 'state', 'tangent', 'time', 'input']);

export class Expr {
  /** @internal use the builders below; nodes are interned. */
  constructor(
    readonly id: number,
    readonly op: Op,
    readonly args: readonly Expr[],
    /** the number of a `const`, the exponent of a `powi`, the step offset (0 or 1) of an `input` */
    readonly value: number,
    /** the name of a `sym`, `param`, `state`, `tangent` or `input` leaf */
    readonly name: string,
    /** the lane key of a `tangent` leaf */
    readonly lane: string,
  ) {}

  get isConst(): boolean {
    return this.op === 'const';
  }

  toString(): string {
    return format(this);
  }
}

const interned = new Map<string, Expr>();
let nextId = 0;

function make(op: Op, args: readonly Expr[], value = 0, name = '', lane = ''): Expr {
  const key = `${op}|${Object.is(value, -0) ? '-0' : value}|${name}|${lane}|${args.map((a) => a.id).join(',')}`;
  let node = interned.get(key);
  if (!node) {
    node = new Expr(nextId++, op, args, value, name, lane);
    interned.set(key, node);
  }
  return node;
}

export type ExprLike = Expr | number;

export const num = (value: number): Expr => make('const', [], value);
export const sym = (name: string): Expr => make('sym', [], 0, name);
export const param = (name: string): Expr => make('param', [], 0, name);
export const state = (name: string): Expr => make('state', [], 0, name);
export const tangent = (stateName: string, lane: string): Expr => make('tangent', [], 0, stateName, lane);
export const time = (): Expr => make('time', []);
/**
 * A recorded series `name` at the current step (offset 0) or the next (offset 1). It has no
 * derivative with respect to any parameter: data are data.
 */
export function input(name: string, offset: 0 | 1 = 0): Expr {
  if (offset !== 0 && offset !== 1) throw new Error(`input offset must be 0 or 1, got ${offset}`);
  return make('input', [], offset, name);
}

export const ZERO = num(0);
export const ONE = num(1);

export function lift(x: ExprLike): Expr {
  return typeof x === 'number' ? num(x) : x;
}

const isConst = (e: Expr, v?: number): boolean => e.op === 'const' && (v === undefined || e.value === v);

/** Orders the operands of commutative operations so that a+b and b+a intern to one node. */
function ordered(a: Expr, b: Expr): [Expr, Expr] {
  return a.id <= b.id ? [a, b] : [b, a];
}

export function add(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value + b.value);
  if (isConst(a, 0)) return b;
  if (isConst(b, 0)) return a;
  if (b.op === 'neg') return sub(a, b.args[0]);
  if (a.op === 'neg') return sub(b, a.args[0]);
  return make('add', ordered(a, b));
}

export function sub(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value - b.value);
  if (isConst(b, 0)) return a;
  if (isConst(a, 0)) return neg(b);
  if (a === b) return ZERO;
  if (b.op === 'neg') return add(a, b.args[0]);
  return make('sub', [a, b]);
}

export function neg(x: ExprLike): Expr {
  const a = lift(x);
  if (isConst(a)) return num(-a.value);
  if (a.op === 'neg') return a.args[0];
  if (a.op === 'sub') return sub(a.args[1], a.args[0]);
  return make('neg', [a]);
}

export function mul(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value * b.value);
  if (isConst(a, 0) || isConst(b, 0)) return ZERO;
  if (isConst(a, 1)) return b;
  if (isConst(b, 1)) return a;
  if (isConst(a, -1)) return neg(b);
  if (isConst(b, -1)) return neg(a);
  if (a.op === 'neg' && b.op === 'neg') return mul(a.args[0], b.args[0]);
  if (a.op === 'neg') return neg(mul(a.args[0], b));
  if (b.op === 'neg') return neg(mul(a, b.args[0]));
  // (c1 * x) * c2 → (c1*c2) * x keeps constant chains from the derivative rules short
  if (isConst(a) && b.op === 'mul' && isConst(b.args[0])) return mul(a.value * b.args[0].value, b.args[1]);
  if (isConst(b) && a.op === 'mul' && isConst(a.args[0])) return mul(b.value * a.args[0].value, a.args[1]);
  // c · (1/b) → c/b: one division instead of a division and a multiplication
  if (b.op === 'div' && isConst(b.args[0], 1)) return div(a, b.args[1]);
  if (a.op === 'div' && isConst(a.args[0], 1)) return div(b, a.args[1]);
  const [p, q] = ordered(a, b);
  // constants first, so the rule above finds them
  return isConst(q) ? make('mul', [q, p]) : make('mul', [p, q]);
}

export function div(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value / b.value);
  if (isConst(a, 0)) return ZERO;
  if (isConst(b, 1)) return a;
  if (isConst(b, -1)) return neg(a);
  if (a === b) return ONE;
  if (a.op === 'neg') return neg(div(a.args[0], b));
  if (b.op === 'neg') return neg(div(a, b.args[0]));
  // multiplying by the reciprocal is several times cheaper on every backend; it moves the result by < 1 ulp
  if (isConst(b) && Number.isFinite(1 / b.value) && b.value !== 0) return mul(a, 1 / b.value);
  return mergedDivision(a, b) ?? make('div', [a, b]);
}

/**
 * A division into a quotient, rewritten with fewer divisions. A gate's relaxation divides dt by its
 * time constant, and most time constants are quotients themselves (τ = 2/(e₁ + e₂), τ = 2.64 −
 * 2.52/(1 + e)); on a GPU every division is an instruction of the special-function unit that bounds
 * the conductance kernels (bench/special-functions.ts), on a CPU a slow one. Each rule is an identity
 * of real numbers, so only rounding moves (by a few ulps), and none brings an overflow that the
 * original form does not have: the rules multiply only where the original divides by the same large
 * value, and the additive one bounds its factor first.
 */
function mergedDivision(a: Expr, b: Expr): Expr | undefined {
  // x/(c/y) = (x/c)·y
  if (b.op === 'div' && isConst(b.args[0])) return mul(div(a, b.args[0]), b.args[1]);
  // x/((c/y)·z) = (x/c)·y/z
  if (b.op === 'mul') {
    const [p, q] = b.args;
    if (p.op === 'div' && isConst(p.args[0])) return div(mul(div(a, p.args[0]), p.args[1]), q);
    if (q.op === 'div' && isConst(q.args[0])) return div(mul(div(a, q.args[0]), q.args[1]), p);
  }
  // (x/y)/z = x/(y·z)
  if (a.op === 'div') return div(a.args[0], mul(a.args[1], b));
  const reciprocal = reciprocalOfAffineQuotient(b);
  return reciprocal && mul(a, reciprocal);
}

/** 2^53: beyond s = 2^53·|q/p|, q/s is below half an f64 ulp of p. */
const NEGLIGIBLE_RATIO = 2 ** 53;

/**
 * 1/(p ± q/s) = s/(p·s ± q) for constants p ≠ 0, q and s ≥ 0 (a time constant's shifted logistic,
 * 2.64 − 2.52/(1 + e)): one division where there were two. Where s is so large that q/s is below half
 * an f64 ulp of p the original is 1/p; the rewritten form would divide ∞ by ∞ once s overflows, so s
 * is bounded there first, which leaves every value the original takes unchanged. The quotient stays
 * within a bounded range whatever s is, so the product it is multiplied into cannot overflow where
 * the original division would not.
 */
function reciprocalOfAffineQuotient(b: Expr): Expr | undefined {
  if (b.op !== 'add' && b.op !== 'sub') return undefined;
  const [x, y] = b.args;
  // b = pSign·p + qSign·(q/s): p − q/s, p + q/s, or q/s − p
  const sign = b.op === 'sub' ? -1 : 1;
  const form = isConst(x) ? { p: x.value, pSign: 1, quotient: y, qSign: sign } : isConst(y) ? { p: y.value, pSign: sign, quotient: x, qSign: 1 } : undefined;
  if (!form || form.p === 0 || form.quotient.op !== 'div' || !isConst(form.quotient.args[0])) return undefined;
  const q = form.quotient.args[0].value, s = form.quotient.args[1];
  if (!isNonNegative(s)) return undefined;
  const bound = NEGLIGIBLE_RATIO * Math.abs(q / form.p);
  // f32 holds up to 3.4e38: p·s must stay finite where s is bounded
  if (!(Math.abs(form.p) * bound < 1e30)) return undefined;
  const m = min(s, bound);
  return div(m, add(mul(form.pSign * form.p, m), form.qSign * q));
}

/**
 * e as k·m + c for constants k and c (m = e itself, k = 1, c = 0 where e has no such form): how
 * ranges.ts and derivative.ts recognise the quotient reciprocalOfAffineQuotient writes.
 */
export function affineForm(e: Expr): { m: Expr; k: number; c: number } {
  const scaled = (t: Expr) => (t.op === 'mul' && t.args[0].isConst ? { m: t.args[1], k: t.args[0].value } : { m: t, k: 1 });
  if ((e.op === 'add' || e.op === 'sub') && (e.args[0].isConst || e.args[1].isConst)) {
    const constFirst = e.args[0].isConst;
    const { m, k } = scaled(e.args[constFirst ? 1 : 0]);
    const c = e.args[constFirst ? 0 : 1].value;
    if (e.op === 'add') return { m, k, c };
    return constFirst ? { m, k: -k, c } : { m, k, c: -c };
  }
  return { ...scaled(e), c: 0 };
}

/** True where the expression is ≥ 0 (or NaN) for every value of its leaves, by its form alone. */
function isNonNegative(e: Expr): boolean {
  switch (e.op) {
    case 'const': return e.value >= 0;
    case 'exp': return true;
    case 'add': case 'mul': return isNonNegative(e.args[0]) && isNonNegative(e.args[1]);
    default: return false;
  }
}

function unary(op: Op, fold: (v: number) => number) {
  return (x: ExprLike): Expr => {
    const a = lift(x);
    return isConst(a) ? num(fold(a.value)) : make(op, [a]);
  };
}

export const exp = unary('exp', Math.exp);
const naturalLog = unary('log', Math.log);
/** ln x; ln(c/x) is written ln c − ln x, which spares a division (a cell's E_Ca = γ·ln(3000/[Ca])). */
export function log(x: ExprLike): Expr {
  const a = lift(x);
  if (a.op === 'div' && isConst(a.args[0]) && a.args[0].value > 0) return sub(Math.log(a.args[0].value), naturalLog(a.args[1]));
  return naturalLog(a);
}
export const sqrt = unary('sqrt', Math.sqrt);
export const abs = unary('abs', Math.abs);
export const tanh = unary('tanh', Math.tanh);
export const sin = unary('sin', Math.sin);
export const cos = unary('cos', Math.cos);
export const tan = unary('tan', Math.tan);
export const sinh = unary('sinh', Math.sinh);
export const cosh = unary('cosh', Math.cosh);
export const ceil = unary('ceil', Math.ceil);
/** Heaviside's step: 1 where x > 0, else 0 (LEMS's H). */
export const heaviside = unary('heaviside', heavisideValue);

export function heavisideValue(x: number): number {
  return Number.isNaN(x) ? NaN : x > 0 ? 1 : 0;
}

/**
 * expm1(x) = exp(x) − 1, evaluated without the cancellation of the subtraction where that matters (f32:
 * 1 − exp(−dt/τ) for a slow gate is ~1e-5 and would keep only two or three digits).
 */
export const expm1 = unary('expm1', Math.expm1);
/** exprel(x) = (exp(x) − 1)/x with its limit 1 at x = 0; every backend evaluates it in a numerically safe form. */
export const exprel = unary('exprel', exprelValue);
/** d exprel / dx, with its limit 1/2 at x = 0. */
export const exprelPrime = unary('exprelPrime', exprelPrimeValue);

/** x^n for an integer n (emitted as a product chain, so negative bases are fine). */
export function powi(x: ExprLike, n: number): Expr {
  if (!Number.isInteger(n)) throw new Error(`powi: exponent must be an integer, got ${n}`);
  const a = lift(x);
  if (n === 0) return ONE;
  if (n === 1) return a;
  if (n < 0) return div(ONE, powi(a, -n));
  if (isConst(a)) return num(a.value ** n);
  return make('powi', [a], n);
}

export function min(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(Math.min(a.value, b.value));
  return make('min', ordered(a, b));
}

export function max(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(Math.max(a.value, b.value));
  return make('max', ordered(a, b));
}

/** 1 where x < y, else 0. */
export function lt(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value < b.value ? 1 : 0);
  return make('lt', [a, b]);
}

/** 1 where x ≤ y, else 0. */
export function le(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value <= b.value ? 1 : 0);
  return make('le', [a, b]);
}

export function and(x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (isConst(a) && isConst(b)) return num(a.value !== 0 && b.value !== 0 ? 1 : 0);
  if (isConst(a)) return a.value !== 0 ? b : ZERO;
  if (isConst(b)) return b.value !== 0 ? a : ZERO;
  return make('and', ordered(a, b));
}

/** cond ? whenTrue : whenFalse, with cond a comparison (nonzero = true). */
export function select(cond: ExprLike, whenTrue: ExprLike, whenFalse: ExprLike): Expr {
  const c = lift(cond), t = lift(whenTrue), f = lift(whenFalse);
  if (isConst(c)) return c.value !== 0 ? t : f;
  if (t === f) return t;
  return make('select', [c, t, f]);
}

/** Rebuilds a node of the given kind from new operands, through the simplifying builders. */
export function rebuild(node: Expr, args: readonly Expr[]): Expr {
  switch (node.op) {
    case 'add': return add(args[0], args[1]);
    case 'sub': return sub(args[0], args[1]);
    case 'mul': return mul(args[0], args[1]);
    case 'div': return div(args[0], args[1]);
    case 'neg': return neg(args[0]);
    case 'exp': return exp(args[0]);
    case 'log': return log(args[0]);
    case 'sqrt': return sqrt(args[0]);
    case 'abs': return abs(args[0]);
    case 'tanh': return tanh(args[0]);
    case 'sin': return sin(args[0]);
    case 'cos': return cos(args[0]);
    case 'tan': return tan(args[0]);
    case 'sinh': return sinh(args[0]);
    case 'cosh': return cosh(args[0]);
    case 'ceil': return ceil(args[0]);
    case 'heaviside': return heaviside(args[0]);
    case 'powi': return powi(args[0], node.value);
    case 'expm1': return expm1(args[0]);
    case 'exprel': return exprel(args[0]);
    case 'exprelPrime': return exprelPrime(args[0]);
    case 'min': return min(args[0], args[1]);
    case 'max': return max(args[0], args[1]);
    case 'lt': return lt(args[0], args[1]);
    case 'le': return le(args[0], args[1]);
    case 'and': return and(args[0], args[1]);
    case 'select': return select(args[0], args[1], args[2]);
    default: return node;
  }
}

// ---- reference values of the special functions (f64); the emitters carry their own spellings ----

/** Series coefficients of exprel(x) = Σ x^k/(k+1)!, k = 0..8. */
export const EXPREL_SERIES = [1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880];
/** Series coefficients of exprel'(x) = Σ (k+1) x^k/(k+2)!, k = 0..8. */
export const EXPREL_PRIME_SERIES = [1 / 2, 1 / 3, 1 / 8, 1 / 30, 1 / 144, 1 / 840, 1 / 5760, 1 / 45360, 1 / 403200];

export function horner(coefficients: readonly number[], x: number): number {
  let acc = 0;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = acc * x + coefficients[k];
  return acc;
}

/**
 * Below this |x| the f64 backends use the series: the truncation error there is < 3e-16, while the
 * closed form of exprel' loses about log10(2/|x|) digits to cancellation.
 */
export const EXPREL_SERIES_BELOW_F64 = 0.1;

/**
 * exprel and exprel' take their limits where the closed forms give ∞/∞ or ∞·0: exprel(+∞) = +∞,
 * exprel'(−∞) = 0, exprel'(x) = +∞ once e^x overflows. Every backend does the same (a rate that
 * became infinite relaxes its state at once instead of making it NaN).
 */
export function exprelValue(x: number): number {
  if (x === Infinity) return Infinity;
  return Math.abs(x) < EXPREL_SERIES_BELOW_F64 ? horner(EXPREL_SERIES, x) : Math.expm1(x) / x;
}

export function exprelPrimeValue(x: number): number {
  if (x === -Infinity) return 0;
  if (x > 709) return Infinity; // e^x overflows f64; the value, ~e^x/x, does too
  if (Math.abs(x) < EXPREL_SERIES_BELOW_F64) return horner(EXPREL_PRIME_SERIES, x);
  // two closed forms, each used where it does not cancel: (x·(eˣ−1) + x − (eˣ−1))/x² loses digits for
  // x ≪ −1, ((x − 1)eˣ + 1)/x² near 0
  if (x < -1) return ((x - 1) * Math.exp(x) + 1) / (x * x);
  const em1 = Math.expm1(x);
  return (x * em1 + x - em1) / (x * x);
}

// ---- printing (for error messages and debugging) ----

const INFIX: Partial<Record<Op, string>> = { add: '+', sub: '-', mul: '*', div: '/', lt: '<', le: '<=', and: '&&' };

export function format(e: Expr): string {
  switch (e.op) {
    case 'const': return String(e.value);
    case 'sym': case 'param': case 'state': return e.name;
    case 'tangent': return `d(${e.name})/d(${e.lane})`;
    case 'time': return 't';
    case 'input': return e.value ? `input(${e.name}, next)` : `input(${e.name})`;
    case 'neg': return `-(${format(e.args[0])})`;
    case 'powi': return `(${format(e.args[0])})^${e.value}`;
    case 'select': return `(${format(e.args[0])} ? ${format(e.args[1])} : ${format(e.args[2])})`;
    default: {
      const infix = INFIX[e.op];
      if (infix) return `(${format(e.args[0])} ${infix} ${format(e.args[1])})`;
      return `${e.op}(${e.args.map(format).join(', ')})`;
    }
  }
}

/** Every node reachable from the roots, children before parents. */
export function topoOrder(roots: readonly Expr[]): Expr[] {
  const seen = new Set<number>();
  const out: Expr[] = [];
  // iterative post-order: expression chains from RK4 can be deep
  const stack: { node: Expr; next: number }[] = [];
  for (const root of roots) {
    if (seen.has(root.id)) continue;
    stack.push({ node: root, next: 0 });
    seen.add(root.id);
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next < top.node.args.length) {
        const child = top.node.args[top.next++];
        if (!seen.has(child.id)) {
          seen.add(child.id);
          stack.push({ node: child, next: 0 });
        }
      } else {
        out.push(top.node);
        stack.pop();
      }
    }
  }
  return out;
}

/**
 * Replaces leaves (and any node) by the mapping's results, rebuilding parents through the
 * simplifying builders. `map` returns undefined to keep a node (and recurse into it).
 */
export function substitute(roots: readonly Expr[], map: (node: Expr) => Expr | undefined): Expr[] {
  const memo = new Map<number, Expr>();
  for (const node of topoOrder(roots)) {
    const replaced = map(node);
    if (replaced) {
      memo.set(node.id, replaced);
      continue;
    }
    if (node.args.length === 0) {
      memo.set(node.id, node);
      continue;
    }
    const args = node.args.map((a) => memo.get(a.id)!);
    memo.set(node.id, args.every((a, i) => a === node.args[i]) ? node : rebuild(node, args));
  }
  return roots.map((r) => memo.get(r.id)!);
}

/** True when the expression reads any leaf for which `isLeaf` holds. */
export function dependsOn(root: Expr, isLeaf: (leaf: Expr) => boolean): boolean {
  return topoOrder([root]).some((n) => n.args.length === 0 && isLeaf(n));
}
