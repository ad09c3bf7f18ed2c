/** The ensemble library function: a parameter table in, observables and gradients out. */
import { describe, expect, it } from 'vitest';
import { runPopulation } from '../src/jobs/ensemble.ts';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();
const gNa = [100, 200, 300, 400], gKd = [50, 75, 100, 125];

describe('runPopulation', () => {
  it('gives the same rows from columns and from a row-major Float32Array', async () => {
    const columns = await runPopulation({ model: 'prinz', params: { gNa, gKd }, durationMs: 300, tangents: ['log:gKd'], engine: 'cpu' });
    const table = new Float32Array(gNa.flatMap((g, i) => [g, gKd[i]]));
    const rows = await runPopulation({ model: 'prinz', params: table, columns: ['gNa', 'gKd'], durationMs: 300, tangents: ['log:gKd'], engine: 'cpu' });
    expect(Array.from(rows.result.observed[1].mean)).toEqual(Array.from(columns.result.observed[1].mean));
    expect(Array.from(rows.result.observed[1].meanTangent[0])).toEqual(Array.from(columns.result.observed[1].meanTangent[0]));
    // each row is its own neuron: rows differ
    expect(new Set(columns.result.observed[0].mean).size).toBe(4);
  });

  it('rejects a malformed table with a message naming the problem', async () => {
    await expect(runPopulation({ model: 'prinz', params: new Float32Array(5), columns: ['gNa', 'gKd'], durationMs: 10 })).rejects.toThrow(/does not split into rows of 2 columns/);
    await expect(runPopulation({ model: 'prinz', params: new Float32Array(4), durationMs: 10 })).rejects.toThrow(/needs the names of its columns/);
    await expect(runPopulation({ model: 'prinz', params: { gFoo: [1] }, durationMs: 10 })).rejects.toThrow(/unknown parameter 'gFoo'/);
  });

  it.skipIf(!gpu)('runs on the GPU with the same table', async () => {
    const { result, note } = await runPopulation({ model: 'prinz', params: { gNa, gKd }, durationMs: 200, tangents: ['log:gKd'], engine: 'auto' });
    expect(result.engine).toBe('gpu');
    expect(note).toMatch(/GPU/);
    const cpu = await runPopulation({ model: 'prinz', params: { gNa, gKd }, durationMs: 200, tangents: ['log:gKd'], engine: 'cpu' });
    for (let i = 0; i < 4; i++) expect(Math.abs(result.observed[0].mean[i] - cpu.result.observed[0].mean[i])).toBeLessThan(0.01);
  });
});
