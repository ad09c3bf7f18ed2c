/**
 * Engine selection: runs an ensemble on the engine asked for, or picks one (`auto`) and says why.
 */
import type { GpuMath } from '../compile/emit-wgsl.ts';
import { InputError } from '../errors.ts';
import { THREADS_MAX } from '../limits.ts';
import type { EnsembleResult, EnsembleSpec } from './ensemble.ts';
import { runCpu } from './cpu.ts';
import { getGpu, type GpuContext } from './gpu/device.ts';
import { prepareGpuKernel, runGpu } from './gpu/gpu.ts';

export const ENGINE_CHOICES = ['cpu', 'gpu', 'auto'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export interface RunOptions {
  engine?: EngineChoice;
  /** CPU worker threads */
  threads?: number;
  /** GPU exp: 'accurate' (default) or 'fast' */
  gpuMath?: GpuMath;
  /** a GPU device to use instead of the process's own */
  gpu?: GpuContext;
  /** a single-instance run: `auto` prefers the f64 CPU engine, which is faster than a GPU for one neuron */
  singleInstance?: boolean;
}

export interface EngineRun {
  result: EnsembleResult;
  /** why `auto` chose this engine, or a fallback notice */
  note?: string;
}

/**
 * Starts compiling what a later runEnsemble of `spec` on `engine` will need, so that it is ready when
 * that run starts: the GPU kernel's pipelines (nothing on the CPU engine, whose compile is quick). A
 * failure is left for the run to report.
 */
export function prepareEnsemble(spec: EnsembleSpec, engine: 'cpu' | 'gpu', options: Pick<RunOptions, 'gpu' | 'gpuMath'> = {}): void {
  if (engine !== 'gpu') return;
  prepareGpuKernel(spec, gpuOptionsOf(options, options.gpu)).catch(() => {});
}

/** The GPU engine's options for RunOptions: one spelling for runs and prepared kernels, so both emit the same kernel. */
function gpuOptionsOf(options: Pick<RunOptions, 'gpuMath'>, gpu: GpuContext | undefined) {
  return { gpu, kernel: { math: options.gpuMath } };
}

/** Runs an ensemble on the chosen engine. `auto`: the GPU when there is one (and more than one instance), else the CPU. */
export async function runEnsemble(spec: EnsembleSpec, options: RunOptions = {}): Promise<EngineRun> {
  const engine = options.engine ?? 'auto';
  // every job's threads come through here: a count, 1 to THREADS_MAX (limits.ts), from any caller
  const threads = options.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= THREADS_MAX)) {
    throw new InputError(`threads must be an integer in [1, ${THREADS_MAX}], got ${threads}`);
  }
  const cpu = () => runCpu(spec, { threads: options.threads });
  const gpuRun = (ctx: GpuContext) => runGpu(spec, gpuOptionsOf(options, ctx));
  if (engine === 'cpu') return { result: await cpu() };
  if (engine === 'gpu') {
    const ctx = options.gpu ?? (await getGpu());
    if (!ctx) {
      throw new InputError('--engine gpu: no WebGPU adapter is available (navigator.gpu found none; under Deno this needs a Vulkan, Metal or D3D12 driver); use --engine cpu or auto');
    }
    return { result: await gpuRun(ctx) };
  }
  if (options.singleInstance) return { result: await cpu(), note: 'auto: a single neuron runs on the CPU engine (f64), faster than a GPU dispatch' };
  const ctx = options.gpu ?? (await getGpu());
  if (!ctx) return { result: await cpu(), note: 'auto: no WebGPU adapter found, ran on the CPU engine (f64)' };
  return { result: await gpuRun(ctx), note: `auto: ran on the GPU (${ctx.adapterName})` };
}
