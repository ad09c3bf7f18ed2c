/**
 * The gpu.js engine: runs a program's gpu.js kernel (emit-gpujs.ts) on WebGL2 for workloads with a
 * few scalar outputs per instance (landscapes, sweep features) in browsers without WebGPU.
 *
 * gpu.js itself is passed in (a `new GPU({ mode: 'webgl2' })` made by the page), so the library does
 * not load it, and nothing here knows about the DOM. Each kernel call runs a batch of instances
 * through the whole time plan (one thread per instance; see emit-gpujs.ts for why); batches are
 * separate calls, with the event loop given a turn in between, so a page stays responsive and each
 * draw call stays short on GPUs with a watchdog.
 */
import { GPUJS_DIVERGED, emitGpuJs, type GpuJsKernel, type GpuJsOutput } from '../../compile/emit-gpujs.ts';
import { InputError } from '../../errors.ts';
import { packParams, type ParamTable } from '../ensemble.ts';
import { makePlan } from '../plan.ts';
import { checkF32Params } from '../f32-range.ts';
import type { StepProgram } from '../../compile/program.ts';

/** The part of gpu.js's GPU object the engine uses. */
export interface GpuJsLike {
  mode?: string;
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernelFunction;
  addNativeFunction(name: string, source: string, settings?: Record<string, unknown>): unknown;
  addFunction(source: string, settings?: Record<string, unknown>): unknown;
}

export interface GpuJsKernelFunction {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): unknown;
  destroy?(removeCanvasReferences?: boolean): void;
}

export interface GpuJsRunSpec {
  program: StepProgram;
  N: number;
  params?: ParamTable;
  durationMs: number;
  discardMs?: number;
  outputs: GpuJsOutput[];
  spikeThresholdMv?: number;
}

export interface GpuJsRunOptions {
  gpu: GpuJsLike;
  /** instances per kernel call (default 256) */
  batch?: number;
  onProgress?: (fraction: number) => void;
}

export interface GpuJsResult {
  engine: 'gpu.js';
  /** gpu.js's mode, e.g. 'webgl2' */
  device: string;
  N: number;
  /** one column per requested output, in order; NaN for diverged instances */
  outputs: Float64Array[];
  /**
   * per instance: 1 when a watched state left the finite range (NaN, ±Inf or |x| ≥ 1e9: kernel-common.ts,
   * divergenceCode); gpu.js returns too few values to say when or which state
   */
  diverged: Uint8Array;
  /** number of diverged instances */
  divergedCount: number;
  wallMs: number;
}

const nativeAdded = new WeakMap<GpuJsLike, Set<string>>();

/** Compiles the kernel of a spec on a gpu.js instance (its native functions added once per instance). */
export function gpuJsKernel(gpu: GpuJsLike, kernel: GpuJsKernel, totalSteps: number, batch: number): GpuJsKernelFunction {
  let added = nativeAdded.get(gpu);
  if (!added) nativeAdded.set(gpu, (added = new Set()));
  // GLSL on the GPU; in gpu.js's CPU mode (tests, no WebGL) the JavaScript twins
  const cpuMode = gpu.mode === 'cpu';
  for (const f of cpuMode ? kernel.jsFunctions : kernel.nativeFunctions) {
    if (added.has(f.name)) continue;
    if (cpuMode) gpu.addFunction(f.source, { argumentTypes: { x: 'Number' }, returnType: 'Number' });
    else gpu.addNativeFunction(f.name, f.source, { returnType: 'Number' });
    added.add(f.name);
  }
  return gpu.createKernel(kernel.source, {
    output: [batch],
    returnType: kernel.returnType,
    // the loop bound is an argument: gpu.js caps such loops at loopMaxIterations (default 1,000)
    loopMaxIterations: totalSteps,
    precision: 'single',
    tactic: 'precision',
    dynamicOutput: true,
    dynamicArguments: true,
  });
}

/** Runs an ensemble through a gpu.js kernel; returns the requested outputs per instance. */
export async function runGpuJs(spec: GpuJsRunSpec, options: GpuJsRunOptions): Promise<GpuJsResult> {
  const started = performance.now();
  const { program, N } = spec;
  if (!Number.isInteger(N) || N < 1) throw new InputError(`N must be an integer ≥ 1, got ${N}`);
  const plan = makePlan({ durationMs: spec.durationMs, discardMs: spec.discardMs, dtMs: program.dtMs });
  const P = program.instanceParams.length;
  const all = new Float64Array(P * N);
  packParams(program, N, spec.params, all);
  // before emitting: a fixed parameter beyond f32 is named here, not as the constant it folds into
  checkF32Params(program, N, all, 'gpu.js');
  const kernel = emitGpuJs(program, { outputs: spec.outputs, spikeThresholdMv: spec.spikeThresholdMv });
  const batch = Math.max(1, Math.min(N, options.batch ?? 256));
  const fn = gpuJsKernel(options.gpu, kernel, plan.totalSteps, batch);
  const outputs = spec.outputs.map(() => new Float64Array(N));
  try {
    for (let start = 0; start < N; start += batch) {
      const n = Math.min(batch, N - start);
      fn.setOutput([n]);
      // at least one parameter row: gpu.js needs a non-empty 2-D input
      const params = Array.from({ length: Math.max(1, P) }, (_, q) => (q < P ? Float32Array.from(all.subarray(q * N + start, q * N + start + n)) : new Float32Array(n)));
      const r = fn(params, plan.totalSteps, plan.discardSteps, 1) as ArrayLike<number> | ArrayLike<ArrayLike<number>>;
      for (let i = 0; i < n; i++) {
        const row = r[i];
        if (typeof row === 'number') outputs[0][start + i] = row;
        else for (let k = 0; k < outputs.length; k++) outputs[k][start + i] = row[k];
      }
      options.onProgress?.((start + n) / N);
      if (start + n < N) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    fn.destroy?.();
  }
  const diverged = new Uint8Array(N);
  let divergedCount = 0;
  for (let i = 0; i < N; i++) {
    // GPUJS_DIVERGED as f32 (WebGL2) or f64 (gpu.js's CPU mode); no mean or count comes near it
    if (!outputs.some((column) => column[i] <= GPUJS_DIVERGED / 2)) continue;
    diverged[i] = 1;
    divergedCount++;
    for (const column of outputs) column[i] = NaN;
  }
  return { engine: 'gpu.js', device: options.gpu.mode ?? 'gpu.js', N, outputs, diverged, divergedCount, wallMs: performance.now() - started };
}
