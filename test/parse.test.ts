/**
 * The kinetics language (src/model/parse.ts) and the neuron builder (src/model/neuron.ts).
 *
 * Parsed expressions are evaluated and compared with the same arithmetic written directly in
 * JavaScript (whose precedence rules are the ones the language documents, except that `^` binds
 * tighter than a unary minus on its left, as in mathematics: -2^2 = -4). Errors are checked for the
 * position and the names they report. Custom neurons are checked against closed-form solutions
 * (a passive membrane) and their tangent lanes against finite differences of the simulation itself.
 */
import { describe, expect, it } from 'vitest';
import { parseExpr, ParseError, linoid, logistic } from '../src/model/parse.ts';
import * as E from '../src/model/expr.ts';
import { evaluate } from '../src/model/evaluate.ts';
import { differentiate } from '../src/model/derivative.ts';
import { buildNeuron, type ChannelDef, type NeuronDef } from '../src/model/neuron.ts';
import { hh } from '../src/channels/index.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { InputError } from '../src/errors.ts';

/** Evaluates parsed text with names bound to numbers. */
function ev(text: string, names: Record<string, number> = {}): number {
  return evaluate(parseExpr(text), {
    sym: (n) => {
      if (!(n in names)) throw new Error(`test: no value for ${n}`);
      return names[n];
    },
  });
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseExpr: numbers and precedence', () => {
  it('reads numbers with fractions and exponents', () => {
    expect(ev('42')).toBe(42);
    expect(ev('2.5')).toBe(2.5);
    expect(ev('2.')).toBe(2);
    expect(ev('.5')).toBe(0.5);
    expect(ev('1e3')).toBe(1000);
    expect(ev('1E+2')).toBe(100);
    expect(ev('1.5e-2')).toBe(0.015);
    expect(ev('.25e1')).toBe(2.5);
    expect(ev('0.628e-3')).toBe(0.628e-3);
  });

  it('gives ^ precedence over unary minus, and makes it right-associative', () => {
    expect(ev('-2^2')).toBe(-4);
    expect(ev('(-2)^2')).toBe(4);
    expect(ev('-x^2', { x: 3 })).toBe(-9);
    expect(ev('2^-1')).toBe(0.5);
    expect(ev('2^-1^2')).toBe(0.5); // 2^(-(1^2))
    expect(ev('2^3^2')).toBe(512); // 2^(3^2), not (2^3)^2 = 64
    expect(ev('2*3^2')).toBe(18);
    expect(ev('--3')).toBe(3);
    expect(ev('+3 - -2')).toBe(5);
  });

  it('makes - and / left-associative, * and / bind tighter than + and -', () => {
    expect(ev('8 - 3 - 2')).toBe(3);
    expect(ev('8 / 4 / 2')).toBe(1);
    expect(ev('8 / 4 * 2')).toBe(4);
    expect(ev('1 + 2 * 3')).toBe(7);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev('10 - 4 + 3')).toBe(9);
    expect(ev('x - y - z', { x: 1, y: 2, z: 3 })).toBe(-4);
  });

  it('evaluates a gate function exactly as JavaScript does', () => {
    const text = '2.64 - 2.52/(1 + exp((V + 120)/-25))';
    for (const V of [-80, -50.5, 0, 30]) expect(ev(text, { V })).toBeCloseTo(2.64 - 2.52 / (1 + Math.exp((V + 120) / -25)), 14);
  });

  it('turns integer powers into powi and other powers into exp(b·log a)', () => {
    expect(parseExpr('x^3')).toBe(E.powi(E.sym('x'), 3));
    expect(parseExpr('x^-2')).toBe(E.powi(E.sym('x'), -2));
    expect(ev('x^0.5', { x: 2 })).toBeCloseTo(Math.SQRT2, 15);
    expect(ev('pow(x, 3)', { x: -2 })).toBe(-8); // integer exponent: fine for negative bases
    expect(ev('3^((c - 6.3)/10)', { c: 16.3 })).toBeCloseTo(3, 14);
  });

  it('allows whitespace anywhere between tokens and dots inside names', () => {
    expect(ev(' 1+\t2 *\n3 ')).toBe(7);
    expect(parseExpr('Na.gbar')).toBe(E.sym('Na.gbar'));
  });
});

describe('parseExpr: functions', () => {
  it('knows its functions and their arity', () => {
    expect(ev('exp(1)')).toBe(Math.E);
    expect(ev('log(exp(2))')).toBe(2);
    expect(ev('sqrt(16)')).toBe(4);
    expect(ev('abs(-3)')).toBe(3);
    expect(ev('tanh(0.5)')).toBe(Math.tanh(0.5));
    expect(ev('min(2, -1)')).toBe(-1);
    expect(ev('max(2, -1)')).toBe(2);
    expect(ev('exprel(0)')).toBe(1);
    expect(ev('exprel(x)', { x: 1 })).toBeCloseTo(Math.E - 1, 15);
  });

  it('reports a wrong number of arguments', () => {
    expect(() => parseExpr('exp(1, 2)')).toThrow("exp() takes 1 argument(s), got 2 in 'exp(1, 2)'");
    expect(() => parseExpr('min(1)')).toThrow('min() takes 2 argument(s), got 1');
    expect(() => parseExpr('exp()')).toThrow('exp() takes 1 argument(s), got 0');
    expect(() => parseExpr('ifelse(V < 1, 2)')).toThrow('ifelse() takes 3 argument(s), got 2');
    expect(errorOf(() => parseExpr('linoid(x)'))).toBeInstanceOf(ParseError);
  });

  it('reports an unknown function with the list of known ones', () => {
    const e = errorOf(() => parseExpr('1 + sech(x)'));
    expect(e).toBeInstanceOf(ParseError);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/unknown function 'sech'/);
    for (const f of ['exp', 'log', 'logistic', 'linoid', 'ifelse', 'exprel']) expect(e.message).toContain(f);
  });

  it('linoid(x, k) = x/(1 − exp(−x/k)), with the limit k at x = 0', () => {
    // exact at 0: k/exprel(0) = k
    expect(ev('linoid(0, 10)')).toBe(10);
    expect(ev('linoid(x, k)', { x: 0, k: 10 })).toBe(10);
    expect(ev('linoid(x, k)', { x: 0, k: -4 })).toBe(-4);
    // away from 0 against the closed form, written with Math.expm1 so that it does not cancel:
    // x/(1 − e^(−x/k)) = −x/expm1(−x/k). Both sides ≤ ~4 roundings: 1e-14 relative.
    for (const [xv, k] of [[25, 10], [-25, 10], [5, 10], [-5, 10], [1e-3, 10], [-1e-3, 10], [40, -18], [0.3, 1]]) {
      const closed = -xv / Math.expm1(-xv / k);
      expect(Math.abs(ev('linoid(x, k)', { x: xv, k }) / closed - 1), `linoid(${xv}, ${k})`).toBeLessThan(1e-14);
    }
    // next to 0, against the Taylor expansion k + x/2 + x²/(12k) (next term −x⁴/(720k³) is < 1e-27 here)
    for (const xv of [1e-12, -1e-12, 1e-7, -1e-7, 1e-300]) {
      expect(ev('linoid(x, 10)', { x: xv })).toBeCloseTo(10 + xv / 2 + (xv * xv) / 120, 14);
    }
    // and its derivative is 1/2 at 0 (d/dx of k + x/2 + …)
    const xs = E.sym('x');
    const d = differentiate([linoid(xs, 10)], (leaf) => (leaf === xs ? E.ONE : E.ZERO))[0];
    expect(evaluate(d, { sym: () => 0 })).toBeCloseTo(0.5, 15);
    expect(evaluate(d, { sym: () => 1e-9 })).toBeCloseTo(0.5, 9);
  });

  it('the HH rate 0.1·linoid(V + 40, 10) matches αm = 0.1(V+40)/(1 − exp(−(V+40)/10)) of docs/models.md §2', () => {
    for (const V of [-80, -65, -41, -39, 0, 30]) {
      const direct = (0.1 * (V + 40)) / (1 - Math.exp(-(V + 40) / 10));
      expect(ev('0.1*linoid(V + 40, 10)', { V }) / direct).toBeCloseTo(1, 13);
    }
    expect(ev('0.1*linoid(V + 40, 10)', { V: -40 })).toBeCloseTo(1, 15); // the removable singularity: 0.1·10
  });

  it('logistic(x) = 1/(1 + e^(−x))', () => {
    expect(ev('logistic(0)')).toBe(0.5);
    for (const xv of [-30, -2, 0.5, 3, 30]) expect(ev('logistic(x)', { x: xv })).toBeCloseTo(1 / (1 + Math.exp(-xv)), 15);
    expect(parseExpr('logistic(x)')).toBe(logistic(E.sym('x')));
    // σ' = σ(1 − σ)
    const xs = E.sym('x');
    const d = differentiate([logistic(xs)], (leaf) => (leaf === xs ? E.ONE : E.ZERO))[0];
    for (const xv of [-2, 0, 1.5]) {
      const s = 1 / (1 + Math.exp(-xv));
      expect(evaluate(d, { sym: () => xv })).toBeCloseTo(s * (1 - s), 15);
    }
  });
});

describe('parseExpr: comparisons and ifelse', () => {
  it('implements <, <=, >, >= with the right behaviour at equality', () => {
    // [operator, result at V = −40 (equal), result at V = −30 (above)], 1 = true branch
    const cases: [string, number, number][] = [['<', 2, 2], ['<=', 1, 2], ['>', 2, 1], ['>=', 1, 1]];
    for (const [op, atEqual, above] of cases) {
      expect(ev(`ifelse(V ${op} -40, 1, 2)`, { V: -40 }), `V ${op} -40 at -40`).toBe(atEqual);
      expect(ev(`ifelse(V ${op} -40, 1, 2)`, { V: -30 }), `V ${op} -40 at -30`).toBe(above);
    }
    expect(ev('ifelse(V < -40, 1, 2)', { V: -50 })).toBe(1);
  });

  it('compares whole sums, and folds constant conditions', () => {
    expect(ev('ifelse(1 + 2 < 2 + 2, 10, 20)')).toBe(10);
    expect(parseExpr('ifelse(1 > 2, x, y)')).toBe(E.sym('y'));
    expect(ev('V < 0', { V: -1 })).toBe(1); // a comparison is an expression (1 or 0) on its own
  });

  it('does not chain comparisons', () => {
    expect(() => parseExpr('1 < 2 < 3')).toThrow("unexpected input at position 6 in '1 < 2 < 3' (found '<')");
  });
});

describe('parseExpr: errors name the position', () => {
  const cases: [string, string][] = [
    ['1 + * 2', "expected a number, a name or ( at position 4 in '1 + * 2' (found '*')"],
    ['(1 + 2', "expected ')' at position 6 in '(1 + 2' (end of input)"],
    ['1 + 2)', "unexpected input at position 5 in '1 + 2)' (found ')')"],
    ['1 $ 2', "unexpected character '$' at position 2 in '1 $ 2'"],
    ['', "expected a number, a name or ( at position 0 in '' (end of input)"],
    ['2 3', "unexpected input at position 2 in '2 3' (found '3')"],
    ['exp(1,)', "expected a number, a name or ( at position 6 in 'exp(1,)' (found ')')"],
    ['1e', "unexpected input at position 1 in '1e' (found 'e')"],
  ];
  for (const [text, message] of cases) {
    it(JSON.stringify(text), () => {
      const e = errorOf(() => parseExpr(text));
      expect(e).toBeInstanceOf(ParseError);
      expect(e.message).toBe(message);
      expect(e.message.includes('\n')).toBe(false);
    });
  }
});

// ---- the neuron builder ----

const leak: ChannelDef = { name: 'Leak', conductance: 'gL', reversal: 'EL', params: { gL: 0.1, EL: -70 }, gates: [] };
const kv: ChannelDef = {
  name: 'Kv', conductance: 'gKv', reversal: 'EK', params: { gKv: 20, EK: -80, VhalfMv: -30 },
  gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(-(V - VhalfMv)/9))', tau: '2 + 8*exp(-((V + 40)/20)^2)' }],
};

describe('buildNeuron: errors', () => {
  it('an unknown name in a channel expression: names it, where it is, and lists the known names', () => {
    const bad: ChannelDef = { ...kv, gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(-(V - Vh)/9))', tau: '5' }] };
    const e = errorOf(() => buildNeuron({ name: 'cell', channels: [bad, leak] }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/^gate Kv\.n inf uses unknown name 'Vh'; known: V, /);
    for (const known of ['gKv', 'EK', 'VhalfMv', 'gL', 'EL', 'CmUFPerCm2', 'initVMv']) expect(e.message).toContain(known);
    expect(e.message).not.toMatch(/known: V, Ca/); // no calcium pool, so Ca is not offered
    expect(e.message.includes('\n')).toBe(false);
  });

  it('a gate given both inf/tau and alpha/beta (or neither complete pair)', () => {
    const both: ChannelDef = { ...kv, gates: [{ name: 'n', power: 4, inf: '0.5', tau: '1', alpha: '0.1', beta: '0.1' }] };
    expect(() => buildNeuron({ name: 'cell', channels: [both] })).toThrow('gate Kv.n: give either inf and tau, or alpha and beta');
    const half: ChannelDef = { ...kv, gates: [{ name: 'n', power: 4, inf: '0.5', beta: '0.1' }] };
    expect(() => buildNeuron({ name: 'cell', channels: [half] })).toThrow('gate Kv.n: give either inf and tau, or alpha and beta');
  });

  it('a gate power that is not a positive integer', () => {
    const frac: ChannelDef = { ...kv, gates: [{ name: 'n', power: 1.5, inf: '0.5', tau: '1' }] };
    expect(() => buildNeuron({ name: 'cell', channels: [frac] })).toThrow(/power must be a positive integer, got 1.5/);
  });

  it('duplicate channel names', () => {
    expect(() => buildNeuron({ name: 'cell', channels: [leak, kv, leak] })).toThrow('channel name Leak appears twice in neuron cell');
  });

  it('conflicting parameter defaults, unless the neuron chooses one', () => {
    const kv2: ChannelDef = { ...kv, name: 'Kv2', conductance: 'gKv2', params: { gKv2: 5, EK: -90 } };
    expect(() => buildNeuron({ name: 'cell', channels: [kv, kv2] })).toThrow(
      "parameter EK has default -80 in channel Kv but -90 in channel Kv2; set it in the neuron's params to choose one",
    );
    const model = buildNeuron({ name: 'cell', channels: [kv, kv2], params: { EK: -85 } });
    expect(model.params.EK.value).toBe(-85);
    // the same default twice is no conflict
    const kv3: ChannelDef = { ...kv2, name: 'Kv3', params: { gKv2: 5, EK: -80 } };
    expect(buildNeuron({ name: 'cell', channels: [kv, kv3] }).params.EK.value).toBe(-80);
  });

  it('a missing default for the conductance or the reversal', () => {
    const noE: ChannelDef = { ...leak, params: { gL: 0.1 } };
    expect(() => buildNeuron({ name: 'cell', channels: [noE] })).toThrow('channel Leak needs a default for parameter EL in its params');
  });

  it('calcium used without a calcium pool', () => {
    const kca: ChannelDef = { name: 'KCa', conductance: 'gKCa', reversal: 'EK', params: { gKCa: 5, EK: -80 }, gates: [{ name: 'm', power: 4, inf: 'Ca/(Ca + 3)', tau: '100' }] };
    expect(() => buildNeuron({ name: 'cell', channels: [kca] })).toThrow('gate KCa.m inf reads Ca, but neuron cell has no calcium pool');
    const cat: ChannelDef = { name: 'CaT', conductance: 'gCaT', reversal: 'nernst-ca', params: { gCaT: 1 }, gates: [] };
    expect(() => buildNeuron({ name: 'cell', channels: [cat] })).toThrow('channel CaT uses the calcium Nernst potential, but neuron cell has no calcium pool');
    const carrier: ChannelDef = { name: 'CaX', conductance: 'gCaX', reversal: 'ECa', carriesCalcium: true, params: { gCaX: 1, ECa: 120 }, gates: [] };
    expect(() => buildNeuron({ name: 'cell', channels: [carrier] })).toThrow('channel CaX carries calcium, but neuron cell has no calcium pool');
    // with a pool, all three build
    expect(() => buildNeuron({ name: 'cell', channels: [kca, cat, carrier], calcium: {} })).not.toThrow();
  });

  it('a parse error inside a channel is an InputError that quotes the expression', () => {
    const bad: ChannelDef = { ...kv, gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(V)', tau: '5' }] };
    const e = errorOf(() => buildNeuron({ name: 'cell', channels: [bad] }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain("'1/(1 + exp(V)'");
  });
});

describe('buildNeuron: a custom neuron simulates', () => {
  it('a passive membrane follows its closed-form solution', async () => {
    // C dV/dt = gL(EL − V) + I: V(t) = V∞ + (V0 − V∞)e^(−t/τ), V∞ = EL + I/gL, τ = C/gL.
    // Exponential Euler is exact for a linear ODE with constant coefficients (docs/models.md §5), so the
    // only error is rounding, accumulated over 4000 steps: bound 1e-11 mV.
    const cell = buildNeuron({ name: 'passive', channels: [leak], params: { initVMv: -70, CmUFPerCm2: 2 } });
    const I = 1.5;
    const r = await simulate({ model: cell, durationMs: 100, dtMs: 0.025, currentUAPerCm2: I, traceEveryMs: 5, engine: 'cpu' });
    const vInf = -70 + I / 0.1, tau = 2 / 0.1;
    const v = r.trace!.series.VMv;
    r.trace!.timesMs.forEach((t, k) => expect(Math.abs(v[k] - (vInf + (-70 - vInf) * Math.exp(-t / tau))), `t = ${t}`).toBeLessThan(1e-11));
    expect(r.observables.meanCaUM).toBeNull();
  });

  it('a Kv + Na + leak cell written in a few lines fires, and its parameters can be set and differentiated', async () => {
    const cell = buildNeuron({ name: 'mycell', channels: [hh.Na, kv, hh.Leak], params: { EK: -80, initVMv: -70 } });
    expect(Object.keys(cell.params)).toEqual(expect.arrayContaining(['gNa', 'gKv', 'VhalfMv', 'gL', 'celsius']));
    expect(cell.states.map((s) => s.name)).toEqual(['Na.m', 'Na.h', 'Kv.n', 'V']);
    const fires = await simulate({ model: cell, durationMs: 200, currentUAPerCm2: 10, engine: 'cpu' });
    expect(fires.spikeCount).toBeGreaterThan(3);
    expect(fires.observables.maxVMv!).toBeGreaterThan(20);

    // A short window (30 ms, four spikes), where the mean is a smooth function of the parameters: the
    // tangent of the mean w.r.t. the promoted constant VhalfMv and log gKv against central
    // differences of simulate itself, Richardson-extrapolated from h and h/2 (O(h⁴)). With h = 1e-3
    // (relative) the plain central difference is off by up to 7e-7 (O(h²)), the extrapolated one by
    // 8e-12 (measured). Bound 1e-6: room for the extrapolation's remainder and roundoff, while a
    // wrong derivative rule gives errors of order one.
    const spec = { model: cell, durationMs: 30, currentUAPerCm2: 10, engine: 'cpu' as const };
    const base = await simulate({ ...spec, tangents: ['VhalfMv', 'log:gKv'] });
    const mean = async (set: Record<string, number>) => (await simulate({ ...spec, set })).observables.meanVMv!;
    for (const [lane, name, p0, log] of [['VhalfMv', 'VhalfMv', -30, false], ['log:gKv', 'gKv', 20, true]] as const) {
      const central = async (h: number) => ((await mean({ [name]: p0 + h })) - (await mean({ [name]: p0 - h }))) / (2 * h) * (log ? p0 : 1);
      const h = 1e-3 * Math.abs(p0);
      const [wide, narrow] = [await central(h), await central(h / 2)];
      const fd = narrow + (narrow - wide) / 3;
      const tangent = base.tangents.meanVMv[lane];
      expect(Math.abs(fd)).toBeGreaterThan(1e-3); // the parameter matters on this run
      expect(Math.abs(tangent - fd) / Math.abs(fd), `${lane}: tangent ${tangent}, finite difference ${fd}`).toBeLessThan(1e-6);
    }
    // setting the promoted constant changes the run
    expect(await mean({ VhalfMv: -20 })).not.toBe(base.observables.meanVMv);
  });

  it('rejects setting a parameter the neuron does not have, listing the ones it has', async () => {
    const cell = buildNeuron({ name: 'mycell', channels: [kv, leak] });
    await expect(simulate({ model: cell, durationMs: 1, set: { gNa: 1 } })).rejects.toThrow(/unknown parameter 'gNa' for model mycell; allowed: .*VhalfMv/);
    await expect(simulate({ model: cell, durationMs: 1, tangents: ['log:Vh'] })).rejects.toThrow(/unknown parameter 'Vh'/);
  });

  it('alpha/beta gates with a rate factor: x∞ = α/(α+β) and τ = 1/(q(α+β))', () => {
    const def: NeuronDef = {
      name: 'ab',
      channels: [{ name: 'X', conductance: 'gX', reversal: 'EX', rateFactor: 'q', params: { gX: 1, EX: 0, q: 3 }, gates: [{ name: 'x', power: 2, alpha: '0.2*exp(V/20)', beta: '0.1' }] }],
    };
    const model = buildNeuron(def);
    const gate = model.states.find((s) => s.name === 'X.x')!;
    const env = { param: (n: string) => model.params[n].value, state: (s: string) => (s === 'V' ? -10 : NaN) };
    const alpha = 0.2 * Math.exp(-10 / 20), beta = 0.1;
    expect(evaluate(gate.ode.inf!, env)).toBeCloseTo(alpha / (alpha + beta), 15);
    expect(evaluate(gate.ode.tau!, env)).toBeCloseTo(1 / (3 * (alpha + beta)), 14);
    // the steady initial state is x∞ at initVMv (−65 by default)
    const a65 = 0.2 * Math.exp(-65 / 20);
    expect(evaluate(gate.init.steady, { param: (n) => model.params[n].value })).toBeCloseTo(a65 / (a65 + beta), 15);
  });
});
