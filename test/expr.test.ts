/**
 * The expression DAG (src/model/expr.ts), its symbolic derivative (derivative.ts) and the reference
 * interpreter (evaluate.ts).
 *
 * Structure is checked by node identity (hash-consing makes "the same expression" mean "the same
 * object"). Derivatives are checked against derivatives worked out by hand, evaluated with Math.*
 * directly, never through the code under test. The special functions exprel, exprel' and expm1 are
 * checked against a reference computed here in 320-bit fixed-point BigInt arithmetic (Taylor series
 * of exp, no library code), correctly rounded to f64, so their error is measured in ulps.
 */
import { describe, expect, it } from 'vitest';
import * as E from '../src/model/expr.ts';
import type { Expr } from '../src/model/expr.ts';
import { differentiate } from '../src/model/derivative.ts';
import { evaluate, evaluateAll } from '../src/model/evaluate.ts';

const x = E.state('x');
const y = E.state('y');
const z = E.state('z');
const a = E.param('a');

/** Evaluates with states x, y, z and parameter a. */
function at(e: Expr, xv: number, yv = 0.7, zv = -1.3, av = 2.5): number {
  return evaluate(e, { state: (n) => ({ x: xv, y: yv, z: zv })[n]!, param: (n) => (n === 'a' ? av : NaN) });
}

/** d/dx: seed x with 1, every other leaf with 0. */
const dByX = (e: Expr) => differentiate([e], (leaf) => (leaf === x ? E.ONE : E.ZERO))[0];

const ULP1 = 2 ** -52; // spacing of doubles at 1: relative errors below are measured in these units

describe('hash-consing', () => {
  it('gives the same node for the same structure', () => {
    expect(E.add(x, y)).toBe(E.add(x, y));
    expect(E.exp(E.mul(x, y))).toBe(E.exp(E.mul(x, y)));
    expect(E.num(3.5)).toBe(E.num(3.5));
    expect(E.state('x')).toBe(x);
    expect(E.param('x')).not.toBe(x); // a parameter and a state of one name are different leaves
    expect(E.tangent('x', 'a')).toBe(E.tangent('x', 'a'));
    expect(E.tangent('x', 'a')).not.toBe(E.tangent('x', 'log:a'));
    expect(E.powi(x, 3)).toBe(E.powi(x, 3));
    expect(E.powi(x, 3)).not.toBe(E.powi(x, 4));
  });

  it('orders the operands of commutative operations', () => {
    expect(E.add(x, y)).toBe(E.add(y, x));
    expect(E.mul(x, y)).toBe(E.mul(y, x));
    expect(E.mul(x, 2)).toBe(E.mul(2, x));
    expect(E.min(x, y)).toBe(E.min(y, x));
    expect(E.max(x, y)).toBe(E.max(y, x));
    expect(E.and(E.lt(x, y), E.lt(y, z))).toBe(E.and(E.lt(y, z), E.lt(x, y)));
    // ... and not of the others
    expect(E.sub(x, y)).not.toBe(E.sub(y, x));
    expect(E.div(x, y)).not.toBe(E.div(y, x));
    expect(E.lt(x, y)).not.toBe(E.lt(y, x));
  });

  it('keeps +0 and -0 apart (1/-0 = -inf)', () => {
    expect(E.num(-0)).not.toBe(E.num(0));
    expect(Object.is(E.num(-0).value, -0)).toBe(true);
  });

  it('shares common subexpressions: a DAG, not a tree', () => {
    const s = E.exp(E.add(x, y));
    const e = E.mul(E.add(s, 1), E.sub(s, 1));
    const nodes = E.topoOrder([e]);
    expect(nodes.filter((n) => n.op === 'exp')).toHaveLength(1);
    // children come before parents
    const index = new Map(nodes.map((n, i) => [n.id, i]));
    for (const n of nodes) for (const c of n.args) expect(index.get(c.id)!).toBeLessThan(index.get(n.id)!);
  });
});

describe('constant folding and neutral elements', () => {
  it('folds operations on constants', () => {
    expect(E.add(2, 3)).toBe(E.num(5));
    expect(E.sub(2, 3)).toBe(E.num(-1));
    expect(E.mul(2, 3)).toBe(E.num(6));
    expect(E.div(3, 4)).toBe(E.num(0.75));
    expect(E.neg(2)).toBe(E.num(-2));
    expect(E.exp(0)).toBe(E.ONE);
    expect(E.log(1)).toBe(E.ZERO);
    expect(E.sqrt(16)).toBe(E.num(4));
    expect(E.powi(2, 10)).toBe(E.num(1024));
    expect(E.powi(2, -2)).toBe(E.num(0.25));
    expect(E.min(2, 3)).toBe(E.num(2));
    expect(E.max(2, 3)).toBe(E.num(3));
    expect(E.lt(2, 3)).toBe(E.ONE);
    expect(E.le(3, 3)).toBe(E.ONE);
    expect(E.lt(3, 3)).toBe(E.ZERO);
    expect(E.exprel(0)).toBe(E.ONE);
    expect(E.exprelPrime(0)).toBe(E.num(0.5));
    expect(E.expm1(0)).toBe(E.ZERO);
  });

  it('drops neutral elements and absorbs zeros', () => {
    expect(E.add(x, 0)).toBe(x);
    expect(E.add(0, x)).toBe(x);
    expect(E.sub(x, 0)).toBe(x);
    expect(E.sub(0, x)).toBe(E.neg(x));
    expect(E.sub(x, x)).toBe(E.ZERO);
    expect(E.mul(x, 1)).toBe(x);
    expect(E.mul(1, x)).toBe(x);
    expect(E.mul(x, 0)).toBe(E.ZERO);
    expect(E.mul(0, E.exp(x))).toBe(E.ZERO);
    expect(E.mul(-1, x)).toBe(E.neg(x));
    expect(E.div(x, 1)).toBe(x);
    expect(E.div(x, -1)).toBe(E.neg(x));
    expect(E.div(0, x)).toBe(E.ZERO);
    expect(E.div(x, x)).toBe(E.ONE);
    expect(E.neg(E.neg(x))).toBe(x);
    expect(E.neg(E.sub(x, y))).toBe(E.sub(y, x));
    expect(E.add(x, E.neg(y))).toBe(E.sub(x, y));
    expect(E.sub(x, E.neg(y))).toBe(E.add(x, y));
    expect(E.mul(E.neg(x), E.neg(y))).toBe(E.mul(x, y));
    expect(E.powi(x, 1)).toBe(x);
    expect(E.powi(x, 0)).toBe(E.ONE);
    expect(E.powi(x, -2)).toBe(E.div(1, E.powi(x, 2)));
    expect(() => E.powi(x, 1.5)).toThrow(/integer/);
  });

  it('chains constant factors into one', () => {
    expect(E.mul(3, E.mul(2, x))).toBe(E.mul(6, x));
    expect(E.mul(E.mul(x, 2), 3)).toBe(E.mul(6, x));
  });

  it('simplifies logic and select with constant operands', () => {
    const c = E.lt(x, y);
    expect(E.and(1, c)).toBe(c);
    expect(E.and(c, 0)).toBe(E.ZERO);
    expect(E.select(1, x, y)).toBe(x);
    expect(E.select(0, x, y)).toBe(y);
    expect(E.select(c, x, x)).toBe(x);
    expect(E.select(c, x, y).op).toBe('select');
  });
});

describe('division by a constant', () => {
  it('becomes a multiplication by the reciprocal', () => {
    const q = E.div(x, 4);
    expect(q).toBe(E.mul(0.25, x));
    expect(q.op).toBe('mul');
    const third = E.div(x, 3);
    expect(third.op).toBe('mul');
    expect(third.args[0].value).toBe(1 / 3);
    // x·fl(1/3) is within one ulp of the correctly rounded x/3: fl(1/3) carries ≤ 0.5 ulp, the
    // product rounds once more; a whole ulp is the bound that statement allows
    for (const v of [1, 7, -2.5, 1e-300, 123456.789, Math.PI]) {
      const got = at(third, v), exact = v / 3;
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(exact))) - 52);
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(ulp);
    }
  });

  it('stays a division where the reciprocal is not finite', () => {
    expect(E.div(x, 0).op).toBe('div');
    expect(at(E.div(x, 0), 2)).toBe(Infinity);
    expect(E.div(x, 5e-324).op).toBe('div'); // 1/5e-324 overflows
  });

  it('folds 1/b inside products: c·(1/b) → c/b', () => {
    expect(E.mul(x, E.div(1, y))).toBe(E.div(x, y));
    expect(E.mul(E.div(1, y), x)).toBe(E.div(x, y));
  });
});

describe('divisions into quotients, merged', () => {
  const divisions = (e: Expr) => E.topoOrder([e]).filter((n) => n.op === 'div' && !n.args[1].isConst).length;
  /** relative difference, measured in f64 ulps at 1 */
  const ulps = (got: number, want: number) => Math.abs(got - want) / Math.abs(want) / ULP1;

  it('x/(c/y) becomes (x/c)·y, and (x/y)/z becomes x/(y·z)', () => {
    expect(E.div(0.025, E.div(2, y))).toBe(E.mul(0.0125, y));
    expect(E.div(x, E.div(4, y))).toBe(E.mul(y, E.mul(0.25, x)));
    expect(E.div(E.div(x, y), z)).toBe(E.div(x, E.mul(y, z)));
    // x/((c/y)·z): the hNa time constant 1.34·σ₁·(1.5 + σ₂) divided into dt
    expect(divisions(E.div(x, E.mul(E.div(4, y), z)))).toBe(1);
  });

  it('ln(c/x) becomes ln c − ln x', () => {
    expect(E.log(E.div(3000, x))).toBe(E.sub(Math.log(3000), E.log(x)));
    expect(at(E.log(E.div(3000, x)), 0.05)).toBeCloseTo(Math.log(3000 / 0.05), 13);
    // a negative constant keeps the quotient: ln(−3/x) is not ln(−3) − ln(x)
    expect(E.log(E.div(-3, x)).args[0].op).toBe('div');
  });

  // a gate's relaxation rate dt/τ with τ = p ± q·σ(k(V + h)), σ(u) = 1/(1 + e^u): the prinz cell's Na m, CaT m/h, A m/h, Kd m, KCa m
  const shifted = [
    { name: 'Na m: 2.64 − 2.52σ((V+120)/−25)', p: 2.64, q: -2.52, k: -1 / 25, h: 120 },
    { name: 'CaT h: 210 − 179.6σ((V+55)/−16.9)', p: 210, q: -179.6, k: -1 / 16.9, h: 55 },
    { name: 'hNa factor: 1.5 + σ((V+34.9)/3.6)', p: 1.5, q: 1, k: 1 / 3.6, h: 34.9 },
  ];
  for (const g of shifted) {
    it(`dt/τ in one division, equal to the direct formula over every V, overflow included: ${g.name}`, () => {
      const dt = 0.025;
      const tau = E.add(g.p, E.div(g.q, E.add(1, E.exp(E.mul(g.k, E.add(x, g.h))))));
      const rate = E.div(dt, tau);
      expect(divisions(tau)).toBe(1);
      expect(divisions(rate)).toBe(1); // was 2: the logistic's and dt's
      // V up to ±1e4 mV sends e^u far past f64's overflow (u > 709): there the direct formula is dt/p
      for (let v = -10000; v <= 10000; v += 7.3) {
        const sigmoidTerm = g.q / (1 + Math.exp(g.k * (v + g.h)));
        const direct = dt / (g.p + sigmoidTerm);
        const got = at(rate, v);
        expect(Number.isFinite(got), `V = ${v}`).toBe(true);
        // both forms add p and q/s: their rounding errors, a few ulps, are amplified by that sum's
        // condition number (|p| + |q/s|)/|τ| (up to 28 for Na m near V = −28 mV, where τ = 0.18 ms)
        const condition = (Math.abs(g.p) + Math.abs(sigmoidTerm)) / Math.abs(g.p + sigmoidTerm);
        expect(ulps(got, direct), `V = ${v}`).toBeLessThan(4 * condition);
      }
    });
  }

  it('its derivative keeps full precision where the logistic saturates (no cancellation in the quotient rule)', () => {
    // Na m again: d(dt/τ)/dV = −dt·τ'/τ², τ' = −q·k·e/s², worked out by hand. The general quotient
    // rule on dt·s/(p·s + q) computes 1 − p·s/(p·s + q), which cancels to q/(p·s + q) and keeps only
    // the digits beyond p·s/q: at V = −1000 mV (s ≈ 2e15) none of f64's
    const [dt, p, q, k, h] = [0.025, 2.64, -2.52, -1 / 25, 120];
    const rate = E.div(dt, E.add(p, E.div(q, E.add(1, E.exp(E.mul(k, E.add(x, h)))))));
    const slope = dByX(rate);
    for (let v = -1000; v <= 1000; v += 3.1) {
      const e = Math.exp(k * (v + h)), s1 = 1 + e, tau = p + q / s1;
      const want = (-dt / (tau * tau)) * (-q * k * e / (s1 * s1));
      expect(Math.abs(at(slope, v) - want), `V = ${v}`).toBeLessThanOrEqual(1e-13 * Math.abs(want));
    }
  });

  it('CaS-like τ = p + q/(e₁ + e₂), including where both exps overflow', () => {
    const tau = E.add(2.8, E.div(14, E.add(E.exp(E.mul(0.1, E.add(x, 27))), E.exp(E.mul(-1 / 13, E.add(x, 70))))));
    const rate = E.div(0.025, tau);
    expect(divisions(rate)).toBe(1);
    for (let v = -20000; v <= 20000; v += 11.7) {
      const direct = 0.025 / (2.8 + 14 / (Math.exp((v + 27) / 10) + Math.exp(-(v + 70) / 13)));
      expect(ulps(at(rate, v), direct), `V = ${v}`).toBeLessThan(8);
    }
  });

  it('keeps the quotient where the divisor\'s sign is unknown or its factor could overflow f32', () => {
    // s = y may be negative: p·s − q could overflow where p − q/s does not
    expect(divisions(E.div(1, E.add(2, E.div(3, y))))).toBe(2);
    // |p|·2^53·|q/p| = 2^53·|q| ≥ 1e30: the bounded factor itself would not fit in f32
    expect(divisions(E.div(1, E.add(2, E.div(1e20, E.add(1, E.exp(y))))))).toBe(2);
  });
});

describe('substitute', () => {
  it('replaces leaves and re-simplifies the parents', () => {
    const e = E.add(E.mul(x, y), x);
    const [r] = E.substitute([e], (n) => (n === x ? E.num(2) : undefined));
    expect(r).toBe(E.add(E.mul(2, y), 2));
    const [zero] = E.substitute([E.mul(E.add(x, y), z)], (n) => (n === x || n === y ? E.ZERO : undefined));
    expect(zero).toBe(E.ZERO);
    const [folded] = E.substitute([E.exp(E.mul(x, y))], (n) => (n === x ? E.num(2) : n === y ? E.num(0.5) : undefined));
    expect(folded).toBe(E.num(Math.exp(1)));
  });

  it('returns the same nodes when nothing is replaced', () => {
    const e = E.div(E.exp(x), E.add(y, 1));
    const roots = E.substitute([e, x], () => undefined);
    expect(roots[0]).toBe(e);
    expect(roots[1]).toBe(x);
  });

  it('replaces inner nodes too, and every occurrence of a shared one', () => {
    const s = E.exp(x);
    const e = E.add(E.mul(s, y), E.mul(s, z));
    const [r] = E.substitute([e], (n) => (n === s ? a : undefined));
    expect(r).toBe(E.add(E.mul(a, y), E.mul(a, z)));
    expect(E.dependsOn(r, (leaf) => leaf === x)).toBe(false);
    expect(E.dependsOn(e, (leaf) => leaf === x)).toBe(true);
  });

  it('keeps values: substituting then evaluating equals evaluating with the values', () => {
    const e = E.div(E.tanh(E.sub(x, y)), E.add(1, E.powi(z, 2)));
    const [r] = E.substitute([e], (n) => (n === y ? E.mul(2, x) : undefined));
    // r(x) = tanh(x − 2x)/(1 + z²) = tanh(−x)/(1 + z²)
    for (const v of [-1, 0.3, 2]) expect(at(r, v)).toBeCloseTo(Math.tanh(-v) / (1 + 1.3 ** 2), 15);
  });
});

describe('differentiate against derivatives worked out by hand', () => {
  // (expression, its derivative in x by hand, points); relative bound 1e-13: both sides are a few
  // f64 operations (≤ ~10 roundings of ≤ 0.5 ulp, 1.1e-16 each) on well-conditioned values
  const cases: { name: string; f: Expr; df: (v: number) => number; xs: number[] }[] = [
    { name: 'exp(2x)', f: E.exp(E.mul(2, x)), df: (v) => 2 * Math.exp(2 * v), xs: [-3, 0, 0.4, 5] },
    { name: 'log(1 + x²)', f: E.log(E.add(1, E.powi(x, 2))), df: (v) => (2 * v) / (1 + v * v), xs: [-2, 0.5, 3] },
    { name: 'x³', f: E.powi(x, 3), df: (v) => 3 * v * v, xs: [-2, 0.5, 3] },
    { name: 'x⁻²', f: E.powi(x, -2), df: (v) => -2 / v ** 3, xs: [-2, 0.5, 3] },
    { name: 'x/(1 + x²)', f: E.div(x, E.add(1, E.powi(x, 2))), df: (v) => (1 - v * v) / (1 + v * v) ** 2, xs: [-2, 0.5, 3] },
    { name: 'y/x (y constant)', f: E.div(y, x), df: (v) => -0.7 / (v * v), xs: [-2, 0.5, 3] },
    { name: 'select(x < 1, x², 3x)', f: E.select(E.lt(x, 1), E.powi(x, 2), E.mul(3, x)), df: (v) => (v < 1 ? 2 * v : 3), xs: [-2, 0.5, 3] },
    // exprel' by hand: ((x − 1)eˣ + 1)/x², away from 0 where it does not cancel
    { name: 'exprel(x)', f: E.exprel(x), df: (v) => ((v - 1) * Math.exp(v) + 1) / (v * v), xs: [-20, -3, 0.75, 2, 10] },
    { name: 'exprel(−x/10)', f: E.exprel(E.div(E.neg(x), 10)), df: (v) => -(((-v / 10 - 1) * Math.exp(-v / 10) + 1) / ((v / 10) ** 2)) / 10, xs: [-30, 15, 40] },
    { name: 'expm1(3x)', f: E.expm1(E.mul(3, x)), df: (v) => 3 * Math.exp(3 * v), xs: [-2, 1e-9, 0.5] },
    { name: 'tanh(2x)', f: E.tanh(E.mul(2, x)), df: (v) => 2 / Math.cosh(2 * v) ** 2, xs: [-1, 0, 0.3, 2] },
    { name: 'sqrt(1 + x²)', f: E.sqrt(E.add(1, E.powi(x, 2))), df: (v) => v / Math.sqrt(1 + v * v), xs: [-2, 0, 3] },
    { name: '|x|', f: E.abs(x), df: (v) => Math.sign(v), xs: [-2, 3] },
    { name: 'min(x, 2 − x)', f: E.min(x, E.sub(2, x)), df: (v) => (v < 1 ? 1 : -1), xs: [-1, 0.3, 1.7, 4] },
    { name: 'max(x, 2 − x)', f: E.max(x, E.sub(2, x)), df: (v) => (v < 1 ? -1 : 1), xs: [-1, 0.3, 1.7, 4] },
    { name: 'x·exp(−x)·y', f: E.mul(E.mul(x, E.exp(E.neg(x))), y), df: (v) => 0.7 * (1 - v) * Math.exp(-v), xs: [-1, 0.3, 2] },
    { name: 'exp(a·x) (a a parameter)', f: E.exp(E.mul(a, x)), df: (v) => 2.5 * Math.exp(2.5 * v), xs: [-1, 0.3, 2] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = dByX(c.f);
      for (const v of c.xs) {
        const want = c.df(v), got = at(d, v);
        expect(Math.abs(got - want), `d/dx ${c.name} at x = ${v}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-13 * Math.max(Math.abs(want), 1e-300));
      }
    });
  }

  it('exprel, exprel(−x/k) and expm1 have the right derivative at 0, where the closed form is 0/0', () => {
    expect(at(dByX(E.exprel(x)), 0)).toBe(0.5);
    expect(at(dByX(E.exprel(x)), 1e-12)).toBeCloseTo(0.5, 12);
    expect(at(dByX(E.expm1(x)), 0)).toBe(1);
  });

  it('differentiates with respect to a parameter through the seed', () => {
    const f = E.exp(E.mul(a, x));
    const [d] = differentiate([f], (leaf) => (leaf === a ? E.ONE : E.ZERO));
    for (const v of [-1, 0.3, 2]) expect(at(d, v) / (v * Math.exp(2.5 * v))).toBeCloseTo(1, 14);
  });

  it('reuses the primal nodes and drops zero tangents', () => {
    expect(dByX(E.exp(x))).toBe(E.exp(x)); // d eˣ = eˣ·1: the primal node itself
    expect(dByX(E.mul(x, y))).toBe(y);
    expect(dByX(E.exp(E.mul(y, z)))).toBe(E.ZERO);
    const tanh = E.tanh(x);
    expect(E.topoOrder([dByX(tanh)]).includes(tanh)).toBe(true);
  });

  it('refuses second derivatives of exprel', () => {
    expect(() => dByX(dByX(E.exprel(x)))).toThrow(/second derivatives/);
  });

  it('agrees with central differences on a composite expression (a check independent of the rules)', () => {
    // f = tanh(x·y)·exprel(x − z)/(1 + |x|) + max(x², z); central difference with step 1e-5 has
    // O(h²) ≈ 1e-10 truncation and 1e-16/1e-5 = 1e-11 roundoff: bound 1e-8
    const f = E.add(E.div(E.mul(E.tanh(E.mul(x, y)), E.exprel(E.sub(x, z))), E.add(1, E.abs(x))), E.max(E.powi(x, 2), z));
    const d = dByX(f);
    for (const v of [-0.8, 0.37, 1.9]) {
      const h = 1e-5;
      const fd = (at(f, v + h) - at(f, v - h)) / (2 * h);
      expect(Math.abs(at(d, v) - fd)).toBeLessThan(1e-8 * Math.max(1, Math.abs(fd)));
    }
  });
});

// ---- a high-precision reference for exprel, exprel' and expm1 ----

const FRAC_BITS = 320n;
const FIX_ONE = 1n << FRAC_BITS;

/** x as a fixed-point BigInt with 320 fractional bits: exact for |x| ≥ 2^-268, else rounded toward zero (error < 2^-320). */
function toFixed(v: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  const shift = BigInt(exponent) + FRAC_BITS;
  const magnitude = shift >= 0n ? mantissa << shift : mantissa >> -shift;
  return hi >>> 31 ? -magnitude : magnitude;
}

/** Fixed point → nearest double: Number(BigInt) rounds to nearest, the division by 2^320 is exact. */
const toDouble = (f: bigint) => Number(f) / 2 ** 320;
const fixMul = (p: bigint, q: bigint) => (p * q) >> FRAC_BITS;

/** e^u for u ≥ 0 by its Taylor series, to an absolute 2^-310 or better. */
function expNonNegative(u: bigint): bigint {
  let term = FIX_ONE, sum = FIX_ONE;
  for (let k = 1n; term !== 0n; k++) {
    term = fixMul(term, u) / k;
    sum += term;
  }
  return sum;
}

/**
 * [expm1(x), exprel(x), exprel'(x)] to ≥ 200 significant bits, rounded to f64 once at the end.
 * For |x| ≤ 2 the series Σ xᵏ/(k+1)! and Σ (k+1)xᵏ/(k+2)! (all the cancellation of the closed forms
 * is gone); beyond, the closed forms (eˣ − 1)/x and ((x − 1)eˣ + 1)/x², which do not cancel there
 * ((x − 1)eˣ + 1 ≥ 0.59 for |x| ≥ 2).
 */
function reference(v: number): [number, number, number] {
  const X = toFixed(v);
  if (Math.abs(v) <= 2) {
    let term = FIX_ONE; // xᵏ/(k+1)!
    let s1 = 0n, s2 = 0n;
    for (let k = 0n; term !== 0n; k++) {
      s1 += term;
      s2 += (term * (k + 1n)) / (k + 2n);
      term = fixMul(term, X) / (k + 2n);
    }
    // expm1 = x·exprel(x). Below |x| = 2^-200 the fixed-point product is no longer accurate relative
    // to x, but there expm1(x) = x·(1 + x/2 + …) with x/2 < 2^-201 rounds to the double x itself
    const em1 = Math.abs(v) < 2 ** -200 ? v : toDouble(fixMul(X, s1));
    return [em1, toDouble(s1), toDouble(s2)];
  }
  const e = X >= 0n ? expNonNegative(X) : (FIX_ONE * FIX_ONE) / expNonNegative(-X);
  const em1 = e - FIX_ONE;
  return [toDouble(em1), toDouble((em1 * FIX_ONE) / X), toDouble(((fixMul(X - FIX_ONE, e) + FIX_ONE) * FIX_ONE) / fixMul(X, X))];
}

describe('exprel, exprel′ and expm1 against a 320-bit reference', () => {
  const xs: number[] = [0, 5e-324, -5e-324, 1e-300, -1e-300, 0.1, -0.1, 0.1 - 2 ** -56, -0.1 + 2 ** -56, 0.1 + 2 ** -55, 50, -50];
  for (let i = -5000; i <= 5000; i += 7) xs.push(i / 100); // [-50, 50], step 0.07
  for (let p = -300; p <= 0; p += 0.5) xs.push(10 ** p, -(10 ** p)); // tiny values down to 1e-300
  for (let i = 1; i <= 60; i++) xs.push(0.1 * (1 + (i - 30) / 1000), -0.1 * (1 + (i - 30) / 1000)); // both sides of the series switch

  const rel = (got: number, want: number) => (want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want));

  it('the reference itself reproduces known values (e − 1, and the limits at 0)', () => {
    // e − 1 = 1.71828182845904523536028747135… (OEIS A091131); Number() of the decimal rounds correctly
    expect(reference(1)[0]).toBe(Number('1.71828182845904523536028747135'));
    expect(reference(-1)[0]).toBe(Number('-0.632120558828557678404476229838')); // 1/e − 1 (OEIS A068985: 1/e)
    expect(reference(0)[1]).toBe(1);
    expect(reference(0)[2]).toBe(0.5);
    expect(reference(-50)[1]).toBeCloseTo(1 / 50, 17); // (e^-50 − 1)/(−50) = 0.02 − 3.9e-24
  });

  it('exprel is within 3 ulp everywhere on [-50, 50], tiny values included', () => {
    // closed form: Math.expm1 (≤ 1 ulp in V8's fdlibm port) then one division (0.5 ulp); series:
    // truncation < 3e-16 (expr.ts) plus Horner rounding ~1 ulp. Measured worst: 1.6 ulp.
    let worst = 0, worstX = 0;
    for (const v of xs) {
      const e = rel(E.exprelValue(v), reference(v)[1]);
      if (e > worst) [worst, worstX] = [e, v];
    }
    expect(worst / ULP1, `worst at x = ${worstX}`).toBeLessThanOrEqual(3);
  });

  it("exprel' is within 32 ulp (≈ 7e-15) on [-50, 50], tiny values included", () => {
    // The closed form (x·expm1(x) + x − expm1(x))/x² cancels in two places: for |x| just above the
    // series switch at 0.1 (≈ log10(2/|x|) digits, as expr.ts documents) and for x ≪ −1, where
    // x·expm1(x) + x = x·eˣ is computed as a difference of two numbers ≈ |x| (≈ log2|x| bits).
    // Measured worst: 10 ulp near ±0.1 and 24 ulp near x = −32. 32 ulp bounds both; the tangent
    // lanes that use exprel' are compared to 1e-6, so this is far inside what matters.
    let worst = 0, worstX = 0;
    for (const v of xs) {
      const e = rel(E.exprelPrimeValue(v), reference(v)[2]);
      if (e > worst) [worst, worstX] = [e, v];
    }
    expect(worst / ULP1, `worst at x = ${worstX}`).toBeLessThanOrEqual(32);
    // where neither cancellation occurs (series region and x ≥ 0.3) it is within 3 ulp
    for (const v of xs.filter((w) => Math.abs(w) < 0.1 || w >= 0.3)) {
      expect(rel(E.exprelPrimeValue(v), reference(v)[2]) / ULP1, `x = ${v}`).toBeLessThanOrEqual(3);
    }
  });

  it('limits at 0: exprel → 1, exprel′ → 1/2 exactly in f64 for |x| < 1e-17', () => {
    for (const v of [0, 1e-300, -1e-300, 5e-324, 1e-18, -1e-18]) {
      expect(E.exprelValue(v)).toBe(1);
      expect(E.exprelPrimeValue(v)).toBe(0.5);
    }
  });

  it('the expm1 node (evaluated by Math.expm1) is within 1 ulp, keeping tiny values exact', () => {
    let worst = 0;
    for (const v of xs) worst = Math.max(worst, rel(at(E.expm1(x), v), reference(v)[0]));
    // the reference is correctly rounded; fdlibm's expm1 (V8's Math.expm1) is documented < 1 ulp
    expect(worst / ULP1).toBeLessThanOrEqual(1);
    expect(at(E.expm1(x), 1e-300)).toBe(1e-300);
    // and it is what makes 1 − exp(−dt/τ) accurate: exp(x) − 1 at x = −1e-10 keeps only ~6 digits
    expect(rel(Math.exp(-1e-10) - 1, reference(-1e-10)[0])).toBeGreaterThan(1e-8);
  });

  it('evaluate() uses the same special functions as exprelValue / exprelPrimeValue', () => {
    const vals = [-37.4, -0.1, 0, 0.05, 0.1, 3];
    const got = evaluateAll([E.exprel(x), E.exprelPrime(x)], { state: () => 0 });
    expect(got).toEqual([1, 0.5]);
    for (const v of vals) {
      expect(at(E.exprel(x), v)).toBe(E.exprelValue(v));
      expect(at(E.exprelPrime(x), v)).toBe(E.exprelPrimeValue(v));
    }
  });
});

describe('evaluate', () => {
  it('reports the leaf it has no value for', () => {
    expect(() => evaluate(E.add(x, a), { state: () => 1 })).toThrow(/parameter 'a'/);
    expect(() => evaluate(E.sym('q'), {})).toThrow(/symbol 'q'/);
    expect(() => evaluate(E.time(), {})).toThrow(/time/);
  });

  it('computes comparisons and select with 1/0 truth values', () => {
    const e = E.select(E.and(E.le(x, 1), E.lt(-1, x)), E.num(10), E.num(20));
    expect([at(e, -1), at(e, 0), at(e, 1), at(e, 2)]).toEqual([20, 10, 10, 20]);
  });
});
