/**
 * The expression language's trigonometric, hyperbolic and step functions (sin, cos, tan, sinh, cosh,
 * ceil, H), added once for every engine and the derivative rules: derivatives against central
 * differences, the f64 CPU engine against the reference interpreter, the GPU engine (f32) against the
 * f64 one, the LEMS spelling on export, and their parsing (precedence and unary minus).
 */
import { describe, expect, it } from 'vitest';
import * as E from '../src/model/expr.ts';
import { differentiate } from '../src/model/derivative.ts';
import { evaluate } from '../src/model/evaluate.ts';
import { parseExpr } from '../src/model/parse.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import { hh } from '../src/channels/index.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();
const FUNCTIONS = ['sin', 'cos', 'tan', 'sinh', 'cosh', 'ceil', 'H'] as const;
const at = (e: E.Expr, x: number) => evaluate(e, { sym: () => x });

describe('new functions', () => {
  it('have the values of Math and the derivatives of central differences (rel. 1e-7), 0 for the steps', () => {
    const truth: Record<string, (x: number) => number> = { sin: Math.sin, cos: Math.cos, tan: Math.tan, sinh: Math.sinh, cosh: Math.cosh, ceil: Math.ceil, H: (x) => (x > 0 ? 1 : 0) };
    for (const f of FUNCTIONS) {
      const e = parseExpr(`${f}(0.3*x - 0.1)`);
      const d = differentiate([e], (leaf) => (leaf.op === 'sym' ? E.ONE : E.ZERO))[0];
      for (const x of [-2.3, -0.7, 0.45, 1.9]) {
        expect(at(e, x), `${f}(${x})`).toBeCloseTo(truth[f](0.3 * x - 0.1), 14);
        const h = 1e-6, fd = (at(e, x + h) - at(e, x - h)) / (2 * h);
        if (f === 'ceil' || f === 'H') expect(at(d, x)).toBe(0);
        else expect(Math.abs(at(d, x) - fd) / Math.max(1e-3, Math.abs(fd)), `${f}' at ${x}`).toBeLessThan(1e-7);
      }
    }
  });

  it('parse with the usual precedence: -sin(x)^2 is -(sin(x)^2), H(x - 1)*2 a product', () => {
    expect(at(parseExpr('-sin(x)^2'), 1)).toBeCloseTo(-(Math.sin(1) ** 2), 15);
    expect(at(parseExpr('H(x - 1)*2 + ceil(x/2)'), 3)).toBe(2 + 2);
    expect(at(parseExpr('H(x - 1)*2 + ceil(x/2)'), 0.5)).toBe(0 + 1);
  });

  it('run on both engines inside a gate: the f64 CPU engine matches f32 on the GPU', async () => {
    // a potassium gate whose steady state and time constant use every new function
    const K = { ...hh.K, rateFactor: undefined, gates: [{ name: 'n', power: 4, inf: '0.5*(1 + tanh((V + 50)/10)) * (0.9 + 0.1*cos(V/40)) + 0.001*sinh(0.01*V)*H(V + 80)', tau: '1 + 4/cosh((V + 55)/30) + 0.5*abs(sin(V/25)) + 0.01*ceil((V + 100)/50)' }] };
    const model = buildNeuron({ name: 'trig', channels: [hh.Na, K, hh.Leak], params: { initVMv: -65, celsius: 6.3 } });
    const run = { model, durationMs: 100, currentUAPerCm2: 10 };
    const cpu = await simulate({ ...run, engine: 'cpu' });
    expect(cpu.status).toBe('ok');
    expect(cpu.spikeCount).toBeGreaterThan(2);
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const g = await simulate({ ...run, engine: 'gpu' });
    expect(g.spikeCount).toBe(cpu.spikeCount);
    g.spikeTimesMs.forEach((t, k) => expect(Math.abs(t - cpu.spikeTimesMs[k])).toBeLessThan(0.01));
  });

  it('export to LEMS and read back with the same values', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { exportNeuroML } = await import('../src/io/neuroml/export.ts');
    const { importNeuroML } = await import('../src/io/neuroml/import.ts');
    const gate = { name: 'n', power: 1, inf: '0.5*(1 + sin(V/30))*H(V + 90)', tau: '2 + cosh(V/50) + ceil(abs(V)/40)' };
    const def = { name: 'trigcell', channels: [{ ...hh.Leak, name: 'X', conductance: 'gX', reversal: 'EX', params: { gX: 1, EX: -70 }, gates: [gate] }] };
    const path = join(mkdtempSync(join(tmpdir(), 'ionsweep-fn-')), 'c.nml');
    writeFileSync(path, exportNeuroML(def));
    const back = buildNeuron([...(await importNeuroML([path])).cells.values()][0]);
    const orig = buildNeuron(def);
    for (const V of [-95, -60, -10, 35]) {
      for (const key of ['inf', 'tau'] as const) {
        const v = (m: typeof orig) => evaluate(m.states.find((s) => s.name === 'X.n')!.ode[key]!, { state: () => V, param: (n) => m.params[n].value });
        expect(v(back), `${key} at ${V}`).toBeCloseTo(v(orig), 12);
      }
    }
  });
});
