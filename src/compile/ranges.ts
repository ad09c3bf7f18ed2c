/**
 * Interval bounds of expressions over every value of their leaves: states, per-instance parameters,
 * tangents and time are unbounded, constants are themselves. Kinetic functions are mostly bounded
 * whatever V is (a logistic lies in [0, 1], so a time constant 2.64 − 2.52·σ lies in [0.12, 2.64]),
 * and that bounds −dt/τ, the argument of each gate's expm1. The f32 emitters use those bounds to
 * evaluate expm1 and exprel by a short series without a branch where the series is accurate over the
 * whole interval (series.ts): on lavapipe the branch cost the prinz kernel a fifth of its speed.
 *
 * Plain interval arithmetic, without outward rounding: a bound can be off by a few ulps, which the
 * series' accuracy margin absorbs. NaN anywhere makes an interval unbounded.
 */
import { affineForm, topoOrder, exprelPrimeValue, exprelValue, type Expr } from '../model/expr.ts';

export interface Interval {
  lo: number;
  hi: number;
}

const ALL: Interval = { lo: -Infinity, hi: Infinity };
const UNIT: Interval = { lo: 0, hi: 1 };

function of(...values: number[]): Interval {
  if (values.some(Number.isNaN)) return ALL;
  return { lo: Math.min(...values), hi: Math.max(...values) };
}

function monotone(a: Interval, f: (x: number) => number): Interval {
  return of(f(a.lo), f(a.hi));
}

/** An endpoint product: 0·∞ is 0 here, since every value the interval stands for is finite. */
const times = (x: number, y: number) => (x === 0 || y === 0 ? 0 : x * y);

function mul(a: Interval, b: Interval): Interval {
  return of(times(a.lo, b.lo), times(a.lo, b.hi), times(a.hi, b.lo), times(a.hi, b.hi));
}

function div(a: Interval, b: Interval): Interval {
  // a divisor that reaches 0 from one side gives a half-infinite quotient (14/[0, ∞] = [0, ∞]); one
  // that straddles 0 gives no bound
  if (b.lo >= 0) return b.hi === 0 ? ALL : mul(a, { lo: 1 / b.hi, hi: b.lo === 0 ? Infinity : 1 / b.lo });
  if (b.hi < 0) return mul(a, { lo: 1 / b.hi, hi: 1 / b.lo });
  return ALL;
}

function powi(a: Interval, n: number): Interval {
  const p = (x: number) => x ** n;
  if (n % 2 === 1 || a.lo >= 0) return monotone(a, p);
  if (a.hi <= 0) return of(p(a.lo), p(a.hi));
  return { lo: 0, hi: Math.max(p(a.lo), p(a.hi)) };
}

/**
 * Bounds of (k₁m + c₁)/(k₂m + c₂), a quotient of two affine forms of one value m (how expr.ts writes
 * dt/τ for τ = p − q/s: dt·m/(p·m − q)). Interval division of the two would treat numerator and
 * denominator as independent and lose the bound; the quotient is monotone in m wherever its
 * denominator keeps its sign, so its ends are its values at m's ends.
 */
function affineQuotient(node: Expr, boundOfNode: (e: Expr) => Interval): Interval | undefined {
  const n = affineForm(node.args[0]), d = affineForm(node.args[1]);
  if (n.m !== d.m || n.m.isConst || d.k === 0) return undefined;
  const { lo, hi } = boundOfNode(n.m);
  const pole = -d.c / d.k;
  if (!(pole < lo || pole > hi)) return undefined;
  const at = (m: number) => (Number.isFinite(m) ? (n.k * m + n.c) / (d.k * m + d.c) : n.k / d.k);
  return of(at(lo), at(hi));
}

function boundOf(node: Expr, boundOfNode: (e: Expr) => Interval): Interval {
  const [a, b, c] = node.args.map(boundOfNode);
  switch (node.op) {
    case 'const': return { lo: node.value, hi: node.value };
    case 'add': return of(a.lo + b.lo, a.hi + b.hi);
    case 'sub': return of(a.lo - b.hi, a.hi - b.lo);
    case 'neg': return { lo: -a.hi, hi: -a.lo };
    case 'mul': return mul(a, b);
    case 'div': return affineQuotient(node, boundOfNode) ?? div(a, b);
    case 'exp': return monotone(a, Math.exp);
    case 'expm1': return monotone(a, Math.expm1);
    case 'exprel': return monotone(a, exprelValue);
    // exprel is convex, so its derivative increases
    case 'exprelPrime': return monotone(a, exprelPrimeValue);
    case 'tanh': return monotone(a, Math.tanh);
    case 'sin': case 'cos': return { lo: -1, hi: 1 };
    case 'sinh': return monotone(a, Math.sinh);
    case 'cosh': return a.lo >= 0 ? monotone(a, Math.cosh) : a.hi <= 0 ? monotone({ lo: -a.hi, hi: -a.lo }, Math.cosh) : of(1, Math.cosh(a.lo), Math.cosh(a.hi));
    case 'ceil': return monotone(a, Math.ceil);
    case 'heaviside': return UNIT;
    case 'log': return a.lo >= 0 ? monotone(a, Math.log) : ALL;
    case 'sqrt': return a.lo >= 0 ? monotone(a, Math.sqrt) : ALL;
    case 'abs': return a.lo >= 0 ? a : a.hi <= 0 ? { lo: -a.hi, hi: -a.lo } : { lo: 0, hi: Math.max(-a.lo, a.hi) };
    case 'powi': return powi(a, node.value);
    case 'min': return of(Math.min(a.lo, b.lo), Math.min(a.hi, b.hi));
    case 'max': return of(Math.max(a.lo, b.lo), Math.max(a.hi, b.hi));
    case 'lt': case 'le': case 'and': return UNIT;
    case 'select': return of(b.lo, b.hi, c.lo, c.hi);
    // states, parameters, tangents, time and anything new: no bound
    default: return ALL;
  }
}

/** Bounds of every node reachable from the roots, by node id. */
export function intervals(roots: readonly Expr[]): Map<number, Interval> {
  const out = new Map<number, Interval>();
  const boundOfNode = (e: Expr) => out.get(e.id)!;
  for (const node of topoOrder(roots)) out.set(node.id, boundOf(node, boundOfNode));
  return out;
}

/** max |x| over an interval (Infinity when unbounded). */
export function magnitude(i: Interval): number {
  return Math.max(Math.abs(i.lo), Math.abs(i.hi));
}
