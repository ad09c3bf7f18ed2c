/**
 * GPU engine: runs the WGSL kernel of a compiled program on WebGPU.
 *
 * - Instances are split into batches sized from the device's limits (no binding may exceed
 *   maxStorageBufferBindingSize), so any N runs on any adapter; batches run one after another.
 * - Each dispatch runs a bounded number of steps (adapted to ~50 ms of GPU time, far from any
 *   watchdog; longer, up to 1 s, only where loading and storing the state would otherwise take more
 *   than a tenth of it, as on a software GPU: session.ts, nextDispatchSteps); every per-instance
 *   value, spike counters and rings included, stays in buffers between dispatches.
 * - Time averages: the kernel keeps Kahan-compensated f32 running sums in the accumulator buffer;
 *   every readback block (≤ 16,384 steps) the host reads them, adds them into f64 and clears them. A
 *   400,000-step average is then a sum of f64 block sums.
 * - Every resource creation and submission runs inside error scopes, and a lost device is reported
 *   with how far the run got, so no failure can come back as zeros.
 */
import { emitWgsl, type WgslKernel, type WgslKernelOptions } from '../../compile/emit-wgsl.ts';
import { GpuSession, kernelPipelines, maxBatch, type DispatchTuning, type KernelPipelines } from './session.ts';
import { InputError } from '../../errors.ts';
import { packParams, type EnsembleResult, type EnsembleSpec } from '../ensemble.ts';
import { makePlan, traceTimesMs, type RunPlan } from '../plan.ts';
import { assembleResult, validateEnsembleSpec, type GroupBuffers } from '../results.ts';
import { GpuError, exclusive, getGpu, type GpuContext } from './device.ts';
import { checkF32Params } from '../f32-range.ts';
import { inputLayoutOf, normalWindowsOf, packInputs } from '../inputs.ts';

export interface GpuOptions {
  /** a device context to use (see wrapDevice); default: the process's shared device */
  gpu?: GpuContext;
  /** GPU time per dispatch the step count adapts to (ms). Default 50. */
  targetDispatchMs?: number;
  /** cap on instances per batch (tests use it to force several batches) */
  maxBatch?: number;
  /** WGSL emitter options */
  kernel?: Pick<WgslKernelOptions, 'workgroupSize' | 'compensated' | 'math' | 'tangentForm' | 'expBatchWidth' | 'stepOrder'>;
}

/** steps summed (compensated f32) on the GPU before the host folds them into f64 */
const READBACK_BLOCK_STEPS = 16384;

/** Runs an ensemble on the GPU. Throws GpuError when no adapter is available or the GPU fails. */
export async function runGpu(spec: EnsembleSpec, options: GpuOptions = {}): Promise<EnsembleResult> {
  const ctx = options.gpu ?? (await getGpu());
  if (!ctx) throw new GpuError('no WebGPU adapter is available (navigator.gpu found none); use the CPU engine');
  return exclusive(ctx, () => runOn(ctx, spec, options));
}

/**
 * Compiles the pipelines a later runGpu of `spec` with these options will use (the cache is keyed by
 * the kernel's text), without waiting for the runs before it: a sweep compiles its next chunk's kernel
 * while a chunk runs, so the GPU does not wait for the compiler at each new kernel.
 */
export async function prepareGpuKernel(spec: EnsembleSpec, options: GpuOptions = {}): Promise<KernelPipelines | undefined> {
  const ctx = options.gpu ?? (await getGpu());
  if (!ctx) return undefined;
  const plan = makePlan({ ...spec, dtMs: spec.program.dtMs });
  return kernelPipelines(ctx.device, kernelFor(spec, validateEnsembleSpec(spec, plan), options.kernel, plan));
}

/** Emits the WGSL kernel of a run (the options a session needs). */
export function kernelFor(spec: EnsembleSpec, spikeCapacity: number, options: GpuOptions['kernel'] = {}, plan?: RunPlan): WgslKernel {
  const runPlan = plan ?? makePlan({ ...spec, dtMs: spec.program.dtMs });
  return emitWgsl(spec.program, {
    spikeCapacity, spikeThresholdMv: spec.spikeThresholdMv, maximaCapacity: spec.maximaCapacity, maximaHysteresisMv: spec.maximaHysteresisMv,
    traceTangents: spec.traceTangents, ...options,
    inputs: inputLayoutOf(spec.program, spec.inputs, runPlan, spec.N),
    windows: normalWindowsOf(spec.program, spec.windowMs, runPlan),
  });
}

async function runOn(ctx: GpuContext, spec: EnsembleSpec, options: GpuOptions): Promise<EnsembleResult> {
  const started = performance.now();
  const { program, N } = spec;
  const plan = makePlan({ ...spec, dtMs: program.dtMs });
  const spikeCapacity = validateEnsembleSpec(spec, plan);
  const allParams = new Float64Array(program.instanceParams.length * N);
  packParams(program, N, spec.params, allParams);
  // before emitting: a fixed parameter beyond f32 is named here, not as the constant it folds into
  checkF32Params(program, N, allParams, 'GPU');
  const kernel = kernelFor(spec, spikeCapacity, options.kernel, plan);
  const inputLayout = inputLayoutOf(program, spec.inputs, plan, N);
  const traced = spec.traceInstances ?? [];
  const samplesPerBlock = plan.traceEvery ? Math.ceil(READBACK_BLOCK_STEPS / plan.traceEvery) + 1 : 0;
  const maxBinding = Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
  const traceBytes = samplesPerBlock * kernel.layout.traceWidth * 4 * traced.length;
  if (traceBytes > maxBinding) {
    throw new InputError(`the traces need ${traceBytes} bytes per readback block, over the device limit of ${maxBinding}; trace fewer instances or raise traceEveryMs`);
  }
  const batch = Math.max(1, Math.min(N, maxBatch(ctx.device, kernel), options.maxBatch ?? Infinity));

  const groups: GroupBuffers[] = [];
  const totalWork = N * plan.totalSteps;
  let workDone = 0;
  const onSteps = (steps: number, n: number) => {
    workDone += steps * n;
    spec.onProgress?.(Math.min(1, workDone / totalWork));
  };
  const tuning: DispatchTuning = { stepsPerDispatch: 0, targetMs: options.targetDispatchMs ?? 50 };

  for (let start = 0; start < N; start += batch) {
    const n = Math.min(batch, N - start);
    const rows = traced.filter((i) => i >= start && i < start + n);
    const inputs = program.inputs.length ? packInputs(program, spec.inputs, inputLayout, plan, N, start, n, (length) => new Float32Array(length)) as Float32Array<ArrayBuffer> : undefined;
    groups.push(await runBatch(ctx, plan, kernel, allParams, start, n, rows, samplesPerBlock, tuning, onSteps, inputs));
  }

  return assembleResult({
    spec, plan, layout: kernel.layout, engine: 'gpu', precision: 'f32',
    device: ctx.adapterName,
    wallMs: performance.now() - started,
    groups,
    traceTimesMs: traceTimesMs(plan),
  });
}

/** Row of each instance of the batch in the trace, or −1. */
function traceRows(n: number, start: number, tracedInstances: number[]): Int32Array {
  const rows = new Int32Array(n).fill(-1);
  tracedInstances.forEach((instance, row) => (rows[instance - start] = row));
  return rows;
}

/** One batch through the whole time plan: readback blocks of accumulation, then extremes and events. */
async function runBatch(
  ctx: GpuContext,
  plan: RunPlan,
  kernel: WgslKernel,
  allParams: Float64Array,
  start: number,
  n: number,
  tracedInstances: number[],
  samplesPerBlock: number,
  tuning: DispatchTuning,
  onSteps: (steps: number, n: number) => void,
  inputs?: Float32Array<ArrayBuffer>,
): Promise<GroupBuffers> {
  const { layout, slots } = kernel;
  const N = allParams.length / Math.max(1, layout.params);
  const O = layout.observed, L = layout.lanes, W = layout.traceWidth, P = layout.params;
  const params = new Float32Array(P * n);
  for (let q = 0; q < P; q++) for (let i = 0; i < n; i++) params[q * n + i] = allParams[q * N + start + i];
  if (tuning.stepsPerDispatch === 0) tuning.stepsPerDispatch = Math.max(1, Math.floor(2e5 / n));
  const session = await GpuSession.create(ctx, kernel, {
    n, params, traceRow: traceRows(n, start, tracedInstances), traceRows: tracedInstances.length,
    traceEvery: plan.traceEvery, traceSamplesPerRow: samplesPerBlock, inputs,
  }, tuning);
  try {
    await session.init();
    // host-side f64 accumulators and the full trace of this batch's traced instances
    const obsSum = new Float64Array(O * n), obsTanSum = new Float64Array(O * L * n);
    const NE = layout.normal, normal = new Float64Array(NE * n);
    const trace = new Float64Array(tracedInstances.length * plan.traceSamples * W);
    const context = `of ${plan.totalSteps} (instances ${start}..${start + n - 1})`;
    const blocks: [number, number, boolean][] = [];
    for (let s = 0; s < plan.discardSteps; s += READBACK_BLOCK_STEPS) blocks.push([s, Math.min(plan.discardSteps, s + READBACK_BLOCK_STEPS), false]);
    for (let s = plan.discardSteps; s < plan.totalSteps; s += READBACK_BLOCK_STEPS) blocks.push([s, Math.min(plan.totalSteps, s + READBACK_BLOCK_STEPS), true]);

    for (const [blockStart, blockEnd, accumulate] of blocks) {
      const firstSample = plan.traceEvery ? Math.max(plan.traceFirstSample, Math.floor(blockStart / plan.traceEvery)) : 0;
      await session.advance(blockStart, blockEnd, { accumulate, traceFirstSample: firstSample, context }, (steps) => onSteps(steps, n));
      if (!accumulate) continue;
      // the block's compensated sums: value − compensation, folded into f64
      const acc = await session.read('acc', slots.acc * n, true);
      const compensations = (slots.acc / 2) * n;
      for (let k = 0; k < O * n; k++) obsSum[k] += acc[k] - acc[compensations + k];
      for (let k = 0; k < O * L * n; k++) obsTanSum[k] += acc[O * n + k] - acc[compensations + O * n + k];
      const normalAt = O * (1 + L) * n;
      for (let k = 0; k < NE * n; k++) normal[k] += acc[normalAt + k] - acc[compensations + normalAt + k];
      const count = plan.traceEvery ? Math.floor(blockEnd / plan.traceEvery) - firstSample : 0;
      if (tracedInstances.length && count > 0) {
        const block = await session.read('trace', tracedInstances.length * samplesPerBlock * W);
        for (let row = 0; row < tracedInstances.length; row++) {
          for (let s = 0; s < count; s++) {
            const global = firstSample + s - plan.traceFirstSample;
            for (let w = 0; w < W; w++) trace[(row * plan.traceSamples + global) * W + w] = block[(row * samplesPerBlock + s) * W + w];
          }
        }
      }
    }

    const extrema = await session.read('extrema', slots.extrema * n);
    // shared: a sweep's encoder workers each read their slice of the maxima rings in it (chunk-slices.ts)
    const events = await session.read('events', slots.events * n, false, true);
    return {
      start,
      n,
      buffers: {
        obsSum,
        obsMin: extrema.subarray(0, O * n),
        obsMax: extrema.subarray(O * n, 2 * O * n),
        obsTanSum,
        events,
        traceRow: traceRows(n, start, tracedInstances),
        trace,
        ...(NE ? { normal } : {}),
      },
    };
  } finally {
    session.destroy();
  }
}
