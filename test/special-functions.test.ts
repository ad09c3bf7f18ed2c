/**
 * bench/special-functions.ts counts the special functions of a compiled step (exp, log, divisions by
 * a value that changes per step, others), on which the database's second H200 projection rests.
 * The expected counts are read off the equations written below, not off the counter.
 */
import { describe, expect, it } from 'vitest';
import { specialFunctionOps } from '../bench/special-functions.ts';
import { compile } from '../src/compile/compile.ts';
import { buildNeuron } from '../src/model/neuron.ts';

const kv = { name: 'Kv', conductance: 'gKv', reversal: 'EK', params: { gKv: 20, EK: -80 },
  gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(-(V + 30)/9))', tau: '2 + 8*exp(-((V + 40)/20)^2)' }] };

describe('special functions of a step', () => {
  it('one gate: an exp and a reciprocal in n∞, an exp in τ, the division dt/τ; a constant divisor is no division', () => {
    const cell = buildNeuron({ name: 'kv', channels: [kv], params: { initVMv: -70 } });
    const ops = specialFunctionOps(compile(cell, { dtMs: 0.025 }));
    expect(ops).toMatchObject({ exp: 2, log: 0, division: 2, other: 0 });
    // the voltage's update exprel(−dt·G/C) takes exp beyond the series' range where G is not bounded
    expect(ops.expm1General).toBeLessThanOrEqual(1);
    expect(ops.total).toBe(ops.exp + ops.log + ops.division + ops.expm1General + ops.other);
  });

  it('a gate with a log, a square root and their quotient; a constant τ adds nothing per step', () => {
    const odd = { name: 'Odd', conductance: 'gOdd', reversal: 'EOdd', params: { gOdd: 0.1, EOdd: -60 },
      gates: [{ name: 'q', power: 1, inf: 'log(2 + V*V)/sqrt(3 + V*V)', tau: '1' }] };
    const ops = specialFunctionOps(compile(buildNeuron({ name: 'odd', channels: [kv, odd], params: { initVMv: -70 } }), { dtMs: 0.025 }));
    expect(ops).toMatchObject({ exp: 2, log: 1, division: 3, other: 1 });
  });

  it('a time constant written as a quotient costs one division with dt, not two', () => {
    // Na m of the prinz cell: τ = 2.64 − 2.52/(1 + e); dt/τ = dt·s/(2.64·s − 2.52) with s = 1 + e
    const na = { name: 'NaM', conductance: 'gNaM', reversal: 'ENa', params: { gNaM: 100, ENa: 50 },
      gates: [{ name: 'm', power: 3, inf: '1/(1 + exp((V + 25.5)/-5.29))', tau: '2.64 - 2.52/(1 + exp((V + 120)/-25))' }] };
    const ops = specialFunctionOps(compile(buildNeuron({ name: 'na', channels: [na], params: { initVMv: -70 } }), { dtMs: 0.025 }));
    // m∞: an exp and a reciprocal; τ: an exp; dt/τ: one division (the Kv gate above: the same 2 + 2)
    expect(ops).toMatchObject({ exp: 2, log: 0, division: 2, other: 0 });
    // the gate's expm1(−dt/τ) keeps its branch-free series: −dt/τ is bounded although τ is now a quotient of two sums
    expect(ops.expm1General).toBeLessThanOrEqual(1);
  });

  it('what depends only on parameters is not counted: it runs once, outside the time loop', () => {
    const withParams = buildNeuron({ name: 'kvp', channels: [{ ...kv, gates: [{ ...kv.gates[0], tau: '2 + gKv/exp(gKv)' }] }], params: { initVMv: -70 } });
    const ops = specialFunctionOps(compile(withParams, { dtMs: 0.025, instanceParams: ['gKv'] }));
    // τ, its exp, its division and dt/τ depend on gKv alone: per step only n∞'s exp and reciprocal remain
    expect(ops).toMatchObject({ exp: 1, division: 1 });
  });
});
