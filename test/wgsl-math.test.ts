/**
 * The GPU kernel's special functions (exp_, exp2_, expm1, exprel and the bounded series), run on the GPU and
 * measured in f32 ulps against f64 values (Math.exp/Math.expm1 of the same f32 inputs, far more
 * accurate than the f32 results they judge). The accurate exp is what keeps spike counts and burst
 * periods of f32 runs on those of the f64 engine (emit-wgsl.ts, expAccurate), so its error bound and
 * its lack of bias are asserted here rather than taken on trust.
 */
import { describe, expect, it } from 'vitest';
import { mathFunctions, seriesFunction, vectorExp, GPU_MATH } from '../src/compile/emit-wgsl.ts';
import { f32SeriesTerms } from '../src/compile/kernel-common.ts';
import { evaluateWgsl, gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();

/** the spacing of f32 numbers at |y| (for normal numbers) */
const ulp32 = (y: number) => 2 ** (Math.floor(Math.log2(Math.abs(y))) - 23);

function grid(lo: number, hi: number, count: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: count }, (_, k) => lo + ((hi - lo) * k) / (count - 1));
}

/** f32 inputs spread over many binades on both sides of 0: ±2^-30 … ±hi */
function logGrid(hi: number, count: number): Float32Array<ArrayBuffer> {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const m = 2 ** (-30 + (Math.log2(hi) + 30) * (k / (count - 1)));
    out.push(m, -m);
  }
  return Float32Array.from(out);
}

function worstUlps(xs: Float32Array, got: Float32Array, truth: (x: number) => number): number {
  let worst = 0;
  for (let k = 0; k < xs.length; k++) {
    const t = truth(xs[k]);
    worst = Math.max(worst, Math.abs(got[k] - t) / ulp32(t));
  }
  return worst;
}

const exprel = (x: number) => (x === 0 ? 1 : Math.expm1(x) / x);

describe.skipIf(!gpu)('WGSL special functions', () => {
  // exp_ and exp2_ (exp of constant slopes: emit-wgsl.ts, base2Argument) share the polynomial, the
  // saturation and so the bounds; `scale` maps exp's range to exp2's
  const exps = [
    { name: 'exp_', truth: Math.exp, scale: 1 },
    { name: 'exp2_', truth: (x: number) => 2 ** x, scale: Math.LOG2E },
  ];

  it.each(exps)('$name is within 1.5 ulp on the whole normal range and unbiased', async ({ name, truth, scale }) => {
    // ≤ 1.5 ulp is the design bound of expAccurate: the degree-6 polynomial errs by < 1.9e-9
    // (0.03 ulp), the reduction (k·ln2 split, or x − k for exp2_) is exact, and Horner plus the final
    // scaling round ~1.3 ulp
    const xs = grid(-87 * scale, 88 * scale, 400_001);
    const [y] = await evaluateWgsl(gpu!, mathFunctions(), [`${name}(x)`], xs);
    expect(worstUlps(xs, y, truth)).toBeLessThanOrEqual(1.5);
    // bias: the mean relative error over the range kinetics use. The builtin exp on lavapipe is biased
    // by up to 4e-7 (emit-wgsl.ts); rounding errors of this one average out to ~1e-9 or less
    let bias = 0, count = 0;
    for (let k = 0; k < xs.length; k++) {
      if (Math.abs(xs[k]) > 30 * scale) continue;
      bias += (y[k] - truth(xs[k])) / truth(xs[k]);
      count++;
    }
    expect(Math.abs(bias / count)).toBeLessThan(5e-9);
  });

  it.each(exps)('$name saturates near the builtin limits outside the normal range and lets NaN through', async ({ name, truth, scale }) => {
    const xs = Float32Array.from([88, 88.3, 100, 1e6, -87.3, -100, -1e6, NaN, 0].map((x) => x * scale));
    const [y] = await evaluateWgsl(gpu!, mathFunctions(), [`${name}(x)`], xs);
    expect(y[0] / truth(xs[0])).toBeCloseTo(1, 6);
    expect(y[1] / truth(xs[1])).toBeCloseTo(1, 5);
    // above: 2^127 times exp of the reduced argument, finite and at least e^88 (so 1/(1 + e^x) → 0)
    for (const k of [2, 3]) {
      expect(Number.isFinite(y[k]), `${name}(${xs[k]}) is finite`).toBe(true);
      expect(y[k]).toBeGreaterThanOrEqual(y[0]);
    }
    // below: 2^−126 times exp of the reduced argument, positive and below 2^−125
    expect(y[4] / truth(xs[4])).toBeCloseTo(1, 5);
    for (const k of [5, 6]) {
      expect(y[k], `${name}(${xs[k]})`).toBeGreaterThan(0);
      expect(y[k]).toBeLessThan(2 ** -125);
    }
    expect(Number.isNaN(y[7])).toBe(true);
    expect(y[8]).toBe(1);
  });

  it.each(GPU_MATH)('the vector exps (batched exps, exp-batches.ts) equal the scalar ones bit for bit (%s)', async (math) => {
    // each component in a different binade and regime: saturation, NaN, the normal range
    const xs = Float32Array.from([...grid(-130, 130, 20_001), ...logGrid(100, 2_000), 1e6, -1e6, NaN, 0]);
    const vectors = [2, 3, 4].flatMap((w) => (['exp_', 'exp2_'] as const).map((fn) => vectorExp(fn, w, math)));
    const components = ['x', 'y', 'z', 'w'];
    // x lands in a different component at each width, next to other arguments
    const calls = [2, 3, 4].flatMap((w) => (['exp_', 'exp2_'] as const).flatMap((fn) => components.slice(0, w).map((c, k) => {
      const args = components.slice(0, w).map((_, m) => (m === k ? 'x' : `(x * ${0.5 + m}) - 1.0`));
      return { scalar: `${fn}(x)`, vector: `${fn}v${w}(vec${w}<f32>(${args.join(', ')})).${c}` };
    })));
    const results = await evaluateWgsl(gpu!, `${mathFunctions(math)}\n${vectors.join('\n')}`, [...new Set(calls.map((c) => c.scalar)), ...calls.map((c) => c.vector)], xs);
    const scalar = { 'exp_(x)': results[0], 'exp2_(x)': results[1] } as Record<string, Float32Array>;
    calls.forEach((c, k) => {
      const got = results[2 + k], want = scalar[c.scalar];
      const differs = got.findIndex((y, i) => !Object.is(y, want[i]) && !(Number.isNaN(y) && Number.isNaN(want[i])));
      expect(differs, `${c.vector} at x = ${xs[differs]}: ${got[differs]} vs ${want[differs]}`).toBe(-1);
    });
  });

  it('expm1 and exprel are accurate near 0 and far from it', async () => {
    const xs = Float32Array.from([...logGrid(20, 20_000), ...grid(-20, 20, 40_001)].filter((x) => x !== 0));
    const [em1, er] = await evaluateWgsl(gpu!, mathFunctions(), ['expm1(x)', 'exprel(x)'], xs);
    // series below |x| = 0.5 (truncation 1e-9, Horner ~1 ulp); above, exp_(x) − 1, whose 1.5 ulp
    // of e^x grows by e^x/|e^x − 1| (≤ 2.6 at |x| = 0.5): ≤ 4 ulp; exprel adds one division
    expect(worstUlps(xs, em1, Math.expm1)).toBeLessThanOrEqual(4);
    expect(worstUlps(xs, er, exprel)).toBeLessThanOrEqual(4.5);
  });

  it('the bounded series are accurate over the whole range they are chosen for', async () => {
    for (const bound of [2e-4, 1e-3, 0.01, 0.05, 0.21, 0.45]) {
      const n = f32SeriesTerms(bound);
      expect(n, `bound ${bound}`).toBeGreaterThan(0);
      const xs = Float32Array.from([...grid(-bound, bound, 20_001), ...logGrid(bound, 2_000)].filter((x) => x !== 0 && Math.abs(x) <= bound));
      const code = `${seriesFunction('expm1', n)}\n${seriesFunction('exprel', n)}`;
      const [em1, er] = await evaluateWgsl(gpu!, code, [`expm1_s${n}(x)`, `exprel_s${n}(x)`], xs);
      // truncation ≤ 1/4 ulp by construction (f32SeriesTerms), Horner rounding ≤ ~1 ulp
      expect(worstUlps(xs, em1, Math.expm1), `expm1, ${n} terms, |x| ≤ ${bound}`).toBeLessThanOrEqual(1.5);
      expect(worstUlps(xs, er, exprel), `exprel, ${n} terms, |x| ≤ ${bound}`).toBeLessThanOrEqual(1.5);
    }
  });
});
