/**
 * The gpu.js path without a browser: the emitted kernel (emit-gpujs.ts) against the f64 CPU engine,
 * run as plain JavaScript and through gpu.js itself in its CPU mode (gpu.js parses our source and
 * regenerates it, as it does for WebGL2; the WebGL2 runs are in demos-landscape.test.ts). Also the
 * case gpu.js gets wrong by default: loops capped at loopMaxIterations = 1,000 iterations, silently.
 */
import { describe, expect, it } from 'vitest';
import { GPU } from 'gpu.js';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { GPUJS_MAX_OUTPUTS, emitGpuJs, instantiateGpuJsAsJs, type GpuJsOutput } from '../src/compile/emit-gpujs.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { gpuJsKernel, runGpuJs, type GpuJsLike } from '../src/engine/gpujs/run.ts';

const prinz = libraryModel('prinz');
const params = { gCaS: Float64Array.of(4, 6, 8), gKCa: Float64Array.of(5, 10, 20) };
const outputs: GpuJsOutput[] = [
  { kind: 'mean', observed: 'Ca' }, { kind: 'mean', observed: 'Ca', lane: 'log:gCaS' }, { kind: 'mean', observed: 'V' }, { kind: 'spikes' },
];

describe('gpu.js kernel (emit-gpujs.ts)', () => {
  it('spells the same computation as the CPU engine (run as plain JavaScript in f64)', async () => {
    const program = compile(prinz, { dtMs: 0.05, instanceParams: ['gCaS', 'gKCa'], tangents: ['log:gCaS'] });
    const kernel = emitGpuJs(program, { outputs });
    expect(kernel.returnType).toBe('Array(4)');
    const run = instantiateGpuJsAsJs(kernel);
    const cpu = await runCpu({ program, N: 3, params, durationMs: 1500, discardMs: 500 }, { threads: 1 });
    for (let i = 0; i < 3; i++) {
      const [ca, dca, v, spikes] = run([params.gCaS, params.gKCa], i, 30000, 10000);
      // f64 both; the kernel's exprel switches to its series below |x| = 0.5 (the f32 threshold), the
      // CPU engine below 0.1, a difference of ~1e-9 of the value
      expect(Math.abs(ca / cpu.observed[1].mean[i] - 1)).toBeLessThan(1e-8);
      expect(Math.abs(v / cpu.observed[0].mean[i] - 1)).toBeLessThan(1e-8);
      const ref = cpu.observed[1].meanTangent[0][i];
      expect(Math.abs(dca - ref)).toBeLessThan(1e-5 * (Math.abs(ref) + cpu.observed[1].mean[i]));
      expect(spikes).toBe(cpu.spikes[0].count[i]);
    }
  });

  it('runs through gpu.js (CPU mode: the same transpiler front end as WebGL2) and matches the CPU engine', async () => {
    const gpu = new GPU({ mode: 'cpu' }) as unknown as GpuJsLike;
    for (const [name, method, dtMs, p] of [
      ['prinz', 'exp-euler', 0.05, params],
      ['hh', 'rk4', 0.01, { gNa: Float64Array.of(120, 90, 150), IExtUAPerCm2: Float64Array.of(10, 0, 15) }],
    ] as const) {
      const program = compile(libraryModel(name), { dtMs, method, instanceParams: Object.keys(p) });
      const out: GpuJsOutput[] = [{ kind: 'mean', observed: 'V' }, { kind: 'spikes' }];
      const durationMs = name === 'hh' ? 200 : 1000;
      const r = await runGpuJs({ program, N: 3, params: p, durationMs, discardMs: durationMs / 4, outputs: out }, { gpu, batch: 2 });
      const cpu = await runCpu({ program, N: 3, params: p, durationMs, discardMs: durationMs / 4 }, { threads: 1 });
      expect(r.engine).toBe('gpu.js');
      for (let i = 0; i < 3; i++) {
        // gpu.js returns f32: the mean is rounded to single precision
        expect(Math.abs(r.outputs[0][i] / cpu.observed[0].mean[i] - 1), `${name} instance ${i}`).toBeLessThan(2e-7);
        expect(r.outputs[1][i]).toBe(cpu.spikes[0].count[i]);
      }
    }
  });

  it('shows the case gpu.js gets wrong by default: a time loop silently capped at 1,000 iterations', async () => {
    const program = compile(prinz, { dtMs: 0.05, instanceParams: ['gCaS', 'gKCa'] });
    const kernel = emitGpuJs(program, { outputs: [{ kind: 'mean', observed: 'V' }, { kind: 'spikes' }] });
    const gpu = new GPU({ mode: 'cpu' });
    for (const f of kernel.jsFunctions) gpu.addFunction(f.source as unknown as () => number, { argumentTypes: { x: 'Number' }, returnType: 'Number' });
    const nSteps = 20000, discard = 0; // 1 s at 0.05 ms
    const make = (settings: Record<string, unknown>) => gpu.createKernel(kernel.source as unknown as () => number[], { output: [3], returnType: kernel.returnType, ...settings } as never) as unknown as (...args: unknown[]) => ArrayLike<ArrayLike<number>>;
    const rows = [Float32Array.from(params.gCaS), Float32Array.from(params.gKCa)];
    const capped = make({})(rows, nSteps, discard, 1);
    const raised = make({ loopMaxIterations: nSteps })(rows, nSteps, discard, 1);
    const cpu = await runCpu({ program, N: 3, params, durationMs: 1000 }, { threads: 1 });
    const cpuShort = await runCpu({ program, N: 3, params, durationMs: 50 }, { threads: 1 });
    for (let i = 0; i < 3; i++) {
      // default: only 1,000 steps ran (50 ms), yet the sum is divided by 20,000 samples and no error is raised
      expect(Math.abs(capped[i][0] - (cpuShort.observed[0].mean[i] * 1000) / nSteps)).toBeLessThan(1e-3 * Math.abs(cpuShort.observed[0].mean[i]));
      expect(Math.abs(capped[i][0] / cpu.observed[0].mean[i] - 1)).toBeGreaterThan(0.5);
      // raised to the step count (as runGpuJs does): the whole run
      expect(Math.abs(raised[i][0] / cpu.observed[0].mean[i] - 1)).toBeLessThan(2e-7);
      expect(raised[i][1]).toBe(cpu.spikes[0].count[i]);
    }
    // and runGpuJs sets it from the plan
    const fn = gpuJsKernel(gpu as unknown as GpuJsLike, kernel, nSteps, 3) as unknown as { loopMaxIterations: number };
    expect(fn.loopMaxIterations).toBe(nSteps);
  });

  it('refuses what a WebGL2 thread cannot return (more than four values per instance)', () => {
    const program = compile(prinz, { dtMs: 0.05, instanceParams: ['gCaS'], tangents: ['log:gCaS'] });
    const five: GpuJsOutput[] = [...outputs, { kind: 'mean', observed: 'V', lane: 'log:gCaS' }];
    expect(five.length).toBe(GPUJS_MAX_OUTPUTS + 1);
    expect(() => emitGpuJs(program, { outputs: five })).toThrow(/1 to 4 values per instance/);
    expect(() => emitGpuJs(program, { outputs: [{ kind: 'mean', observed: 'Ca', lane: 'log:gNa' }] })).toThrow(/no tangent lane 'log:gNa'/);
  });
});
