/**
 * The special functions at the edges of the f32 domain, on every target: the WGSL kernel's own (expm1,
 * exprel, exprel' on the whole domain; exp_ and exp2_, scalar and vector, below |x| = 2^23; accurate
 * and fast), the f64 JavaScript engine's,
 * its f32 mirror's and the f64 reference values of expr.ts. A rate that becomes infinite (a time
 * constant that rounds to 0 in f32) must relax its state at once, not make it NaN: exp(−∞) = 0,
 * expm1(−∞) = −1, exprel(−∞) = 0, exprel'(−∞) = 0; at +∞ each is +∞; NaN in gives NaN out; subnormal
 * and zero arguments give the functions' values at 0 (or the argument, for expm1; WGSL may flush
 * subnormals to 0).
 */
import { describe, expect, it } from 'vitest';
import { GPU_MATH, mathFunctions, vectorExp } from '../src/compile/emit-wgsl.ts';
import { exprelPrimeValue, exprelValue } from '../src/model/expr.ts';
import { evaluateWgsl, gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();

const SUBNORMAL = 1e-40;
const INPUTS = [-Infinity, Infinity, NaN, 0, -0, SUBNORMAL, -SUBNORMAL, -1e30, 1e30, -200, 200, -88, 88, -1, 1];

/** What each function must give: the limit at ±∞, NaN for NaN, and for finite x a value near the truth. */
const LIMITS: Record<string, { at: (x: number) => number; minusInf: number; plusInf: number }> = {
  exp: { at: Math.exp, minusInf: 0, plusInf: Infinity },
  expm1: { at: Math.expm1, minusInf: -1, plusInf: Infinity },
  exprel: { at: (x) => (x === 0 ? 1 : Math.expm1(x) / x), minusInf: 0, plusInf: Infinity },
  exprelPrime: { at: (x) => (x === 0 ? 0.5 : exprelPrimeValue(x)), minusInf: 0, plusInf: Infinity },
};

/**
 * Checks one function's values at `inputs` (INPUTS unless given) against its limits and (for finite x)
 * its value.
 */
function checkLimits(name: keyof typeof LIMITS, got: ArrayLike<number>, where: string, inputs: readonly number[] = INPUTS) {
  const f = LIMITS[name];
  inputs.forEach((x, k) => {
    const y = got[k];
    const label = `${where} ${name}(${x}) = ${y}`;
    if (Number.isNaN(x)) return expect(Number.isNaN(y), label).toBe(true);
    expect(Number.isNaN(y), label).toBe(false);
    if (x === -Infinity) return expect(Math.abs(y - f.minusInf), label).toBeLessThan(1e-30);
    if (x === Infinity) return expect(y, label).toBe(f.plusInf);
    const t = f.at(Math.fround(x));
    // beyond f32's range the kernels saturate (finite, > 1e30: e.g. 2^127·e^r/x for exprel) or overflow to +∞; below it they go to 0
    if (!Number.isFinite(Math.fround(t)) || Math.abs(t) > 1e36) return expect(y, label).toBeGreaterThan(1e30);
    if (Math.abs(t) < 1e-35) return expect(Math.abs(y), label).toBeLessThan(1e-30);
    if (name === 'expm1' && Math.abs(x) < 1e-30) return expect(y === x || y === 0, label).toBe(true);
    expect(Math.abs(y - t) / Math.abs(t), label).toBeLessThan(1e-5);
  });
}

describe('special functions at the edges of the domain', () => {
  it('the f64 reference values (constant folding, tests) take every limit', () => {
    checkLimits('exp', INPUTS.map(Math.exp), 'Math');
    checkLimits('exprel', INPUTS.map(exprelValue), 'expr.ts');
    checkLimits('exprelPrime', INPUTS.map(exprelPrimeValue), 'expr.ts');
  });

  it.each(GPU_MATH)('WGSL (%s): exp_, exp2_, expm1, exprel, exprel\' and the vector exps', async (math) => {
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const xs = Float32Array.from(INPUTS);
    const [em1, er, erp] = await evaluateWgsl(gpu, mathFunctions(math), ['expm1(x)', 'exprel(x)', 'exprel_prime(x)'], xs);
    // the plain exps are not guarded beyond |x| = 2^23 (a guard cost the prinz kernel 5 %, emit-wgsl.ts):
    // checked below that, where they saturate; what reaches ±∞ in a kernel (−dt·rate) goes through
    // expm1 and exprel, checked on the whole domain
    const plain = INPUTS.filter((x) => !(Math.abs(x) >= 2 ** 23));
    const vectors = [2, 4].map((w) => vectorExp('exp_', w, math)).join('\n');
    const [e, e2, v2, v4] = await evaluateWgsl(gpu, `${mathFunctions(math)}\n${vectors}`,
      ['exp_(x)', 'exp2_(x * 1.4426950408889634)', 'exp_v2(vec2<f32>(x, 0.5)).x', 'exp_v4(vec4<f32>(0.5, 1.0, x, 2.0)).z'], Float32Array.from(plain));
    checkLimits('exp', e, `WGSL ${math}`, plain);
    checkLimits('exp', e2, `WGSL ${math} (exp2_)`, plain);
    checkLimits('exp', v2, `WGSL ${math} (vec2)`, plain);
    checkLimits('exp', v4, `WGSL ${math} (vec4)`, plain);
    checkLimits('expm1', em1, `WGSL ${math}`);
    checkLimits('exprel', er, `WGSL ${math}`);
    checkLimits('exprelPrime', erp, `WGSL ${math}`);
  });

  it.each(['f64', 'f32'] as const)('the JavaScript engine (%s)', async (precision) => {
    const { specialFunctions } = await import('../src/compile/emit-js.ts');
    const fns = new Function(`${specialFunctions(precision)}\nreturn { exprel, exprelPrime, ...(typeof expm1 === 'function' ? { expm1 } : {}) };`)() as Record<string, (x: number) => number>;
    const at = (f: (x: number) => number) => INPUTS.map((x) => f(precision === 'f32' ? Math.fround(x) : x));
    checkLimits('exprel', at(fns.exprel), `JS ${precision}`);
    checkLimits('exprelPrime', at(fns.exprelPrime), `JS ${precision}`);
    // f64 spells expm1 as Math.exp(x) − 1 inline; f32 has its own
    checkLimits('expm1', at(fns.expm1 ?? ((x: number) => Math.exp(x) - 1)), `JS ${precision}`);
  });
});

describe('a rate that becomes infinite at run time', () => {
  it('relaxes its gate at once on both engines instead of making it NaN (tau = 0 while V < 200 mV)', async () => {
    const { hh } = await import('../src/channels/index.ts');
    const { buildNeuron } = await import('../src/model/neuron.ts');
    const { simulate } = await import('../src/jobs/simulate.ts');
    // an instantaneous potassium gate written as a relaxation with τ = max(0, V − 200) = 0: its rate
    // 1/τ is +∞ at run time (the compiler cannot fold it), so each step takes n = n∞(V)
    const K = { ...hh.K, gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(-(V + 50)/10))', tau: 'max(0, V - 200)' }] };
    const model = buildNeuron({ name: 'instantK', channels: [hh.Na, K, hh.Leak], params: { initVMv: -65, celsius: 6.3 } });
    const engines = gpu ? (['cpu', 'gpu'] as const) : (['cpu'] as const);
    const runs = [];
    for (const engine of engines) {
      const r = await simulate({ model, engine, durationMs: 100, dtMs: 0.025, currentUAPerCm2: 10 });
      expect(r.status, `${engine}: ${r.divergence?.description}`).toBe('ok');
      expect(Number.isFinite(r.observables.meanVMv), engine).toBe(true);
      runs.push(r);
    }
    if (runs.length === 2) {
      expect(runs[1].spikeCount).toBe(runs[0].spikeCount);
      expect(Math.abs(runs[1].observables.meanVMv! - runs[0].observables.meanVMv!)).toBeLessThan(0.5);
    }
  });
});
