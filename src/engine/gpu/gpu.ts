/**
 * GPU engine: runs the WGSL kernel of a compiled program on WebGPU.
 *
 * - Instances are split into batches sized from the device's limits (no binding may exceed
 *   maxStorageBufferBindingSize), so any N runs on any adapter; batches run one after another.
 * - Each dispatch runs a bounded number of steps (adapted to ~50 ms of GPU time, far from any
 *   watchdog); every per-instance value, spike counters and rings included, stays in buffers between
 *   dispatches.
 * - Time averages: each dispatch sums its own steps in f32 registers and adds that partial into the
 *   accumulator buffer; every readback block (≤ 16,384 steps) the host reads the accumulators, adds
 *   them into f64 and clears them. A 400,000-step average is then a sum of f64 block sums.
 * - Every resource creation and submission runs inside error scopes, and a lost device is reported
 *   with how far the run got, so no failure can come back as zeros.
 */
import { emitWgsl, type GpuMath, type WgslKernel } from '../../compile/emit-wgsl.ts';
import { InputError } from '../../errors.ts';
import { packParams, type EnsembleResult, type EnsembleSpec } from '../ensemble.ts';
import { makePlan, traceTimesMs, type RunPlan } from '../plan.ts';
import { assembleResult, validateEnsembleSpec, type GroupBuffers } from '../results.ts';
import { GpuError, exclusive, getGpu, scoped, type GpuContext } from './device.ts';

export interface GpuOptions {
  /** a device context to use (see wrapDevice); default: the process's shared device */
  gpu?: GpuContext;
  /** GPU time per dispatch the step count adapts to (ms). Default 50. */
  targetDispatchMs?: number;
  /** cap on instances per batch (tests use it to force several batches) */
  maxBatch?: number;
  /** WGSL emitter options */
  kernel?: { workgroupSize?: number; compensated?: boolean; math?: GpuMath };
}

const UNIFORM_BYTES = 48;
const DISPATCHES_PER_SUBMIT = 8;
/** steps summed in f32 on the GPU before the host folds them into f64 */
const READBACK_BLOCK_STEPS = 16384;
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, UNIFORM = 0x40, MAP_READ = 0x01;

interface BatchBuffers {
  uniforms: GPUBuffer;
  state: GPUBuffer;
  tangent: GPUBuffer;
  params: GPUBuffer;
  acc: GPUBuffer;
  extrema: GPUBuffer;
  events: GPUBuffer;
  trace: GPUBuffer;
  staging: GPUBuffer;
}

/** Runs an ensemble on the GPU. Throws GpuError when no adapter is available or the GPU fails. */
export async function runGpu(spec: EnsembleSpec, options: GpuOptions = {}): Promise<EnsembleResult> {
  const ctx = options.gpu ?? (await getGpu());
  if (!ctx) throw new GpuError('no WebGPU adapter is available (navigator.gpu found none); use the CPU engine');
  return exclusive(ctx, () => runOn(ctx, spec, options));
}

function bindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  const storage = (binding: number, readOnly = false): GPUBindGroupLayoutEntry => ({
    binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: readOnly ? 'read-only-storage' : 'storage' },
  });
  return device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_BYTES } },
      storage(1), storage(2), storage(3, true), storage(4), storage(5), storage(6), storage(7),
    ],
  });
}

/** Compiled pipelines per device and kernel text: a sweep's chunks reuse them instead of recompiling. */
const pipelineCache = new WeakMap<GPUDevice, Map<string, ReturnType<typeof compileKernel>>>();

function cachedPipelines(device: GPUDevice, kernel: WgslKernel): ReturnType<typeof compileKernel> {
  let byCode = pipelineCache.get(device);
  if (!byCode) pipelineCache.set(device, (byCode = new Map()));
  let entry = byCode.get(kernel.code);
  if (!entry) {
    entry = compileKernel(device, kernel);
    entry.catch(() => byCode!.delete(kernel.code));
    byCode.set(kernel.code, entry);
  }
  return entry;
}

async function compileKernel(device: GPUDevice, kernel: WgslKernel) {
  const module = await scoped(device, 'compiling the WGSL kernel', () => device.createShaderModule({ code: kernel.code }));
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) throw new GpuError(`WGSL compilation failed: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`);
  const bgl = bindGroupLayout(device);
  const layout = device.createPipelineLayout({ bindGroupLayouts: [bgl] });
  const [init, run] = await scoped(device, 'creating the compute pipelines', () =>
    Promise.all(['init', 'run'].map((entryPoint) => device.createComputePipelineAsync({ layout, compute: { module, entryPoint } }))),
  );
  return { bgl, init, run };
}

/** Largest batch whose every buffer fits one binding; the whole of N when it fits. */
function batchSize(device: GPUDevice, kernel: WgslKernel, N: number, traceBytesPerRow: number, maxBatch?: number): number {
  const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const maxSlots = Math.max(1, ...Object.values(kernel.slots));
  const fits = Math.floor(maxBinding / (4 * maxSlots));
  if (fits < 1) throw new GpuError(`one instance needs ${4 * maxSlots} bytes in a binding, over the device limit of ${maxBinding}`);
  if (traceBytesPerRow > maxBinding) {
    throw new InputError(`one trace row needs ${traceBytesPerRow} bytes per readback block, over the device limit of ${maxBinding}; raise traceEveryMs`);
  }
  return Math.max(1, Math.min(N, fits, maxBatch ?? Infinity));
}

function grid(device: GPUDevice, n: number, workgroupSize: number) {
  const groups = Math.ceil(n / workgroupSize);
  const x = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
  const y = Math.ceil(groups / x);
  if (y > device.limits.maxComputeWorkgroupsPerDimension) throw new GpuError(`batch of ${n} instances exceeds the dispatch grid`);
  return { x, y, width: x * workgroupSize };
}

/** Row of each instance of the batch in the trace, or −1. */
function traceRows(n: number, start: number, tracedInstances: number[]): Int32Array {
  const rows = new Int32Array(n).fill(-1);
  tracedInstances.forEach((instance, row) => (rows[instance - start] = row));
  return rows;
}

async function readback(device: GPUDevice, staging: GPUBuffer, src: GPUBuffer, bytes: number, clear: boolean): Promise<Float32Array> {
  await scoped(device, 'reading results back', () => {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(src, 0, staging, 0, bytes);
    if (clear) encoder.clearBuffer(src);
    device.queue.submit([encoder.finish()]);
  });
  await staging.mapAsync(MAP_READ, 0, bytes);
  const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
  staging.unmap();
  return out;
}

async function runOn(ctx: GpuContext, spec: EnsembleSpec, options: GpuOptions): Promise<EnsembleResult> {
  const started = performance.now();
  const { device } = ctx;
  const { program, N } = spec;
  const plan = makePlan({ ...spec, dtMs: program.dtMs });
  const spikeCapacity = validateEnsembleSpec(spec, plan);
  const kernel = emitWgsl(program, {
    spikeCapacity, spikeThresholdMv: spec.spikeThresholdMv, maximaCapacity: spec.maximaCapacity, maximaHysteresisMv: spec.maximaHysteresisMv,
    ...options.kernel,
  });
  const pipelines = await cachedPipelines(device, kernel);
  const traced = spec.traceInstances ?? [];
  const O = kernel.layout.observed;
  const samplesPerBlock = plan.traceEvery ? Math.ceil(READBACK_BLOCK_STEPS / plan.traceEvery) + 1 : 0;
  const batch = batchSize(device, kernel, N, samplesPerBlock * O * 4 * Math.max(1, traced.length), options.maxBatch);

  const allParams = new Float64Array(program.instanceParams.length * N);
  packParams(program, N, spec.params, allParams);

  const groups: GroupBuffers[] = [];
  const totalWork = N * plan.totalSteps;
  let workDone = 0;
  const progress = { onSteps: (steps: number, n: number) => {
    workDone += steps * n;
    spec.onProgress?.(Math.min(1, workDone / totalWork));
  } };
  const tuning = { stepsPerDispatch: 0, targetMs: options.targetDispatchMs ?? 50 };

  for (let start = 0; start < N; start += batch) {
    const n = Math.min(batch, N - start);
    const rows = traced.filter((i) => i >= start && i < start + n);
    groups.push(await runBatch(ctx, plan, kernel, pipelines, allParams, start, n, rows, samplesPerBlock, tuning, progress));
  }

  return assembleResult({
    spec, plan, layout: kernel.layout, engine: 'gpu', precision: 'f32',
    device: ctx.adapterName,
    wallMs: performance.now() - started,
    groups,
    traceTimesMs: traceTimesMs(plan),
  });
}

async function runBatch(
  ctx: GpuContext,
  plan: RunPlan,
  kernel: WgslKernel,
  pipelines: Awaited<ReturnType<typeof compileKernel>>,
  allParams: Float64Array,
  start: number,
  n: number,
  tracedInstances: number[],
  samplesPerBlock: number,
  tuning: { stepsPerDispatch: number; targetMs: number },
  progress: { onSteps: (steps: number, n: number) => void },
): Promise<GroupBuffers> {
  const { device } = ctx;
  const { layout, slots } = kernel;
  const N = allParams.length / Math.max(1, layout.params);
  const O = layout.observed, L = layout.lanes;
  const stride = Math.max(device.limits.minUniformBufferOffsetAlignment, UNIFORM_BYTES);
  const traceFloats = Math.max(4, tracedInstances.length * samplesPerBlock * O);
  const bytesOf = (slotCount: number) => Math.max(16, slotCount * n * 4);

  const buffers: BatchBuffers = await scoped(device, `allocating GPU buffers for ${n} instances`, () => {
    const storage = (size: number) => device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
    const accBytes = bytesOf(slots.acc), extremaBytes = bytesOf(slots.extrema), eventsBytes = bytesOf(slots.events);
    return {
      uniforms: device.createBuffer({ size: stride * DISPATCHES_PER_SUBMIT, usage: UNIFORM | COPY_DST }),
      state: storage(bytesOf(slots.state)),
      tangent: storage(bytesOf(slots.tangent)),
      params: storage(bytesOf(slots.params)),
      acc: storage(accBytes),
      extrema: storage(extremaBytes),
      events: storage(eventsBytes),
      trace: storage(traceFloats * 4),
      staging: device.createBuffer({ size: Math.max(accBytes, extremaBytes, eventsBytes, traceFloats * 4), usage: MAP_READ | COPY_DST }),
    };
  });

  try {
    // parameters, then the trace row of each instance in the last slot (−1: not traced)
    const P = layout.params;
    const params = new Float32Array(slots.params * n);
    for (let q = 0; q < P; q++) for (let i = 0; i < n; i++) params[q * n + i] = allParams[q * N + start + i];
    params.fill(-1, P * n, (P + 1) * n);
    tracedInstances.forEach((instance, row) => (params[P * n + instance - start] = row));
    device.queue.writeBuffer(buffers.params, 0, params);

    const bindGroup = await scoped(device, 'creating the bind group', () =>
      device.createBindGroup({
        layout: pipelines.bgl,
        entries: (['uniforms', 'state', 'tangent', 'params', 'acc', 'extrema', 'events', 'trace'] as const).map((name, binding) => ({
          binding,
          resource: name === 'uniforms' ? { buffer: buffers.uniforms, size: UNIFORM_BYTES } : { buffer: buffers[name] },
        })),
      }),
    );
    const g = grid(device, n, kernel.workgroupSize);
    const uniform = (stepStart: number, nSteps: number, accumulate: boolean, traceFirstSample: number) => {
      const u = new Uint32Array(UNIFORM_BYTES / 4);
      u.set([n, stepStart, nSteps, accumulate ? 1 : 0, plan.traceEvery, traceFirstSample, samplesPerBlock, g.width]);
      new Float32Array(u.buffer)[8] = 1; // chunk.one
      return u;
    };

    /** Encodes and submits up to DISPATCHES_PER_SUBMIT dispatches, waits for them, checks for loss. */
    const submit = async (pipeline: GPUComputePipeline, dispatches: Uint32Array<ArrayBuffer>[], stepsDone: number) => {
      dispatches.forEach((u, k) => device.queue.writeBuffer(buffers.uniforms, k * stride, u));
      await scoped(device, `running steps ${stepsDone}..${stepsDone + dispatches.reduce((a, u) => a + u[2], 0)} of ${plan.totalSteps}`, () => {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        dispatches.forEach((_, k) => {
          pass.setBindGroup(0, bindGroup, [k * stride]);
          pass.dispatchWorkgroups(g.x, g.y);
        });
        pass.end();
        device.queue.submit([encoder.finish()]);
      });
      await device.queue.onSubmittedWorkDone();
      if (ctx.lost) {
        throw new GpuError(`GPU device lost after ${stepsDone} of ${plan.totalSteps} steps (instances ${start}..${start + n - 1}): ${ctx.lost.message}`);
      }
    };

    await submit(pipelines.init, [uniform(0, 0, false, 0)], 0);

    // host-side f64 accumulators and the full trace of this batch's traced instances
    const obsSum = new Float64Array(O * n), obsTanSum = new Float64Array(O * L * n);
    const trace = new Float64Array(tracedInstances.length * plan.traceSamples * O);
    if (tuning.stepsPerDispatch === 0) tuning.stepsPerDispatch = Math.max(1, Math.floor(2e5 / n));

    const blocks: [number, number, boolean][] = [];
    for (let s = 0; s < plan.discardSteps; s += READBACK_BLOCK_STEPS) blocks.push([s, Math.min(plan.discardSteps, s + READBACK_BLOCK_STEPS), false]);
    for (let s = plan.discardSteps; s < plan.totalSteps; s += READBACK_BLOCK_STEPS) blocks.push([s, Math.min(plan.totalSteps, s + READBACK_BLOCK_STEPS), true]);

    for (const [blockStart, blockEnd, accumulate] of blocks) {
      const firstSample = plan.traceEvery ? Math.max(plan.traceFirstSample, Math.floor(blockStart / plan.traceEvery)) : 0;
      let pos = blockStart;
      while (pos < blockEnd) {
        const dispatches: Uint32Array<ArrayBuffer>[] = [];
        const submitStart = pos;
        while (pos < blockEnd && dispatches.length < DISPATCHES_PER_SUBMIT) {
          const steps = Math.min(tuning.stepsPerDispatch, blockEnd - pos);
          dispatches.push(uniform(pos, steps, accumulate, firstSample));
          pos += steps;
        }
        const t0 = performance.now();
        await submit(pipelines.run, dispatches, submitStart);
        const perDispatchMs = (performance.now() - t0) / dispatches.length;
        const fullSteps = dispatches[0][2];
        // grow at most 4× per submit so a slow device never sees a dispatch far over the target
        const ideal = fullSteps * (tuning.targetMs / Math.max(perDispatchMs, 0.05));
        tuning.stepsPerDispatch = Math.max(1, Math.min(Math.round(ideal), fullSteps * 4, 1 << 20));
        progress.onSteps(pos - submitStart, n);
      }
      if (accumulate) {
        // the block's compensated sums: value − compensation, folded into f64
        const acc = await readback(device, buffers.staging, buffers.acc, slots.acc * n * 4, true);
        const compensations = (slots.acc / 2) * n;
        for (let k = 0; k < O * n; k++) obsSum[k] += acc[k] - acc[compensations + k];
        for (let k = 0; k < O * L * n; k++) obsTanSum[k] += acc[O * n + k] - acc[compensations + O * n + k];
        if (tracedInstances.length && plan.traceEvery) {
          const count = Math.floor(blockEnd / plan.traceEvery) - firstSample;
          if (count > 0) {
            const block = await readback(device, buffers.staging, buffers.trace, tracedInstances.length * samplesPerBlock * O * 4, false);
            for (let row = 0; row < tracedInstances.length; row++) {
              for (let s = 0; s < count; s++) {
                const global = firstSample + s - plan.traceFirstSample;
                for (let o = 0; o < O; o++) trace[(row * plan.traceSamples + global) * O + o] = block[(row * samplesPerBlock + s) * O + o];
              }
            }
          }
        }
      }
    }

    const extrema = await readback(device, buffers.staging, buffers.extrema, slots.extrema * n * 4, false);
    const events = await readback(device, buffers.staging, buffers.events, slots.events * n * 4, false);
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
      },
    };
  } finally {
    for (const b of Object.values(buffers)) b.destroy();
  }
}
