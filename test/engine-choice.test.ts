/**
 * Engine choice on the command line: the GPU engine gives the same JSON as the CPU engine, and
 * without an adapter `--engine auto` falls back and says so while `--engine gpu` fails clearly.
 * IONSWEEP_NO_GPU=1 hides every adapter, as on a machine without one.
 */
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { describe, expect, it } from 'vitest';
import { gpuForTests } from './gpu-helper.ts';

const gpu = await gpuForTests();
const cli = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync('node', ['bin/ionsweep.mjs', 'simulate', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const args = ['--model', 'hh', '--duration-ms', '60', '--step-ua-per-cm2', '10,50,10', '--tangents', 'gNa,log:gK'];

describe('engine choice', () => {
  it('falls back to the CPU engine without an adapter, and says so', () => {
    const r = cli([...args, '--engine', 'auto', '--threads', '1'], { IONSWEEP_NO_GPU: '1' });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    // a single neuron prefers the CPU anyway; a population would fall back: both notes name the CPU engine
    expect(doc.engine).toBe('cpu');
    expect(doc.engineNote).toMatch(/CPU engine/);
  });

  it('fails clearly with --engine gpu and no adapter', () => {
    const r = cli([...args, '--engine', 'gpu'], { IONSWEEP_NO_GPU: '1' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--engine gpu: no WebGPU adapter.*--engine cpu/);
  });

  it.skipIf(!gpu)('--engine gpu gives the CPU engine\'s JSON, within f32 agreement', () => {
    const [g, c] = [cli([...args, '--engine', 'gpu']), cli([...args, '--engine', 'cpu'])];
    expect(g.code, g.stderr).toBe(0);
    const [dg, dc] = [JSON.parse(g.stdout), JSON.parse(c.stdout)];
    expect(Object.keys(dg).filter((k) => k !== 'engineNote').sort()).toEqual(Object.keys(dc).filter((k) => k !== 'engineNote').sort());
    expect(dg.engine).toBe('gpu');
    expect(dg.device).not.toMatch(/^cpu/);
    expect(dg.spikeCount).toBe(dc.spikeCount);
    // 60 ms of HH: spike times agree to microseconds, means and gradients to ~1e-5 relative
    dg.spikeTimesMs.forEach((t: number, k: number) => expect(Math.abs(t - dc.spikeTimesMs[k])).toBeLessThan(1e-3));
    expect(Math.abs(dg.meanVMv - dc.meanVMv)).toBeLessThan(1e-3);
    for (const p of ['gNa', 'log:gK']) expect(Math.abs(dg.tangents.meanVMv[p] / dc.tangents.meanVMv[p] - 1)).toBeLessThan(1e-3);
  });
});
