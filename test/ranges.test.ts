/**
 * Interval bounds (src/compile/ranges.ts) and the series they select (kernel-common.ts): bounds must
 * contain every value an expression takes, checked by evaluating the library models' series arguments
 * at random states far outside their physiological range; and the selected series must be accurate.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import { f32SeriesTerms, seriesTermsOf } from '../src/compile/kernel-common.ts';
import { intervals } from '../src/compile/ranges.ts';
import { EXPREL_SERIES, horner, topoOrder, type Expr } from '../src/model/expr.ts';
import { evaluate } from '../src/model/evaluate.ts';
import { parseExpr } from '../src/model/parse.ts';

const boundOf = (source: string) => intervals([parseExpr(source)]).get(parseExpr(source).id)!;

/** a deterministic generator in [0, 1) */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('interval bounds', () => {
  it('bound kinetic functions over every V (docs/models.md §3)', () => {
    // Na τm = 2.64 − 2.52 σ((V+120)/−25) lies in [0.12, 2.64]
    const na = boundOf('2.64 - 2.52/(1 + exp((V + 120)/-25))');
    expect(na.lo).toBeCloseTo(0.12, 12);
    expect(na.hi).toBeCloseTo(2.64, 12);
    // CaS τm = 2.8 + 14/(exp((V+27)/10) + exp((V+70)/−13)) ≥ 2.8, with no upper bound
    const cas = boundOf('2.8 + 14/(exp((V + 27)/10) + exp((V + 70)/-13))');
    expect(cas.lo).toBe(2.8);
    expect(cas.hi).toBe(Infinity);
    // a logistic is in [0, 1]; its reciprocal has no upper bound
    expect(boundOf('1/(1 + exp(V))')).toEqual({ lo: 0, hi: 1 });
    expect(boundOf('1/(1/(1 + exp(V)))').hi).toBe(Infinity);
    // dt/τ of the same Na τ, as expr.ts writes it with one division (dt·s/(2.64·s − 2.52), s = 1 + e):
    // numerator and denominator share s, so its bound is [dt/2.64, dt/0.12], not the independent quotient's
    const rate = boundOf('0.025/(2.64 - 2.52/(1 + exp((V + 120)/-25)))');
    expect(rate.lo).toBeCloseTo(0.025 / 2.64, 12);
    expect(rate.hi).toBeCloseTo(0.025 / 0.12, 12);
    // nothing is assumed about states and parameters
    expect(boundOf('V * 2')).toEqual({ lo: -Infinity, hi: Infinity });
    // a divisor that straddles 0 gives no bound
    expect(boundOf('1/(V - 3)')).toEqual({ lo: -Infinity, hi: Infinity });
  });

  for (const model of ['prinz', 'liu', 'hh']) {
    it(`contain the series arguments of ${model} at random states`, () => {
      const instanceParams = model === 'hh' ? ['gNa', 'gK', 'gL'] : [...CONDUCTANCE_NAMES];
      const program = compile(libraryModel(model), { dtMs: 0.1, instanceParams, tangents: ['log:gNa'] });
      const terms = seriesTermsOf(program, 'forward');
      const roots = [...program.next.increment, ...program.next.forwardTangentIncrement.flat()];
      const bounded = topoOrder(roots).filter((n) => terms(n) > 0);
      if (model !== 'hh') expect(bounded.length, 'gates with bounded −dt/τ').toBeGreaterThanOrEqual(8);
      const bounds = intervals(roots);
      const random = rng(5);
      for (let trial = 0; trial < 2000; trial++) {
        // V far beyond physiology, gates anywhere in [0, 1], [Ca] over six decades
        const state = (name: string) => (name === 'V' ? -300 + 500 * random() : name === 'Ca' ? 10 ** (-3 + 6 * random()) : random());
        const param = () => 1000 * random();
        for (const node of bounded) {
          const arg: Expr = node.args[0];
          const value = evaluate(arg, { state, param, tangent: () => random() - 0.5 });
          const { lo, hi } = bounds.get(arg.id)!;
          expect(value).toBeGreaterThanOrEqual(lo - 1e-12 * Math.abs(lo));
          expect(value).toBeLessThanOrEqual(hi + 1e-12 * Math.abs(hi));
        }
      }
    });
  }
});

describe('series terms for a bound', () => {
  it('keep the truncation below a quarter of an f32 ulp, with no term to spare', () => {
    const exprel = (x: number) => Math.expm1(x) / x;
    for (const bound of [1e-5, 2e-4, 1e-3, 0.01, 0.05, 0.21, 0.45]) {
      const n = f32SeriesTerms(bound);
      const error = (terms: number) => Math.max(...[-bound, bound].map((x) => Math.abs(horner(EXPREL_SERIES.slice(0, terms), x) / exprel(x) - 1)));
      expect(error(n), `bound ${bound}: ${n} terms`).toBeLessThanOrEqual(2 ** -26);
      if (n > 1) expect(error(n - 1), `bound ${bound}: ${n - 1} terms would do`).toBeGreaterThan(2 ** -26);
    }
  });

  it('are none where the series cannot reach f32 accuracy or the range is unknown', () => {
    expect(f32SeriesTerms(0.9)).toBe(0);
    expect(f32SeriesTerms(Infinity)).toBe(0);
    expect(f32SeriesTerms(NaN)).toBe(0);
  });
});
