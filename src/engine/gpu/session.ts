/**
 * A GPU session: one batch of instances of one compiled kernel, its buffers allocated once, advanced
 * step range by step range. The ensemble runner (gpu.ts) drives a session through a whole time plan;
 * a live view (the browser demos) advances one a frame at a time and draws straight from its buffers.
 */
import type { WgslKernel } from '../../compile/emit-wgsl.ts';
import { GpuError, scoped, type GpuContext } from './device.ts';

const UNIFORM_BYTES = 48;
const DISPATCHES_PER_SUBMIT = 8;
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, UNIFORM = 0x40, MAP_READ = 0x01, VERTEX = 0x20;

export type SessionBufferName = 'state' | 'tangent' | 'params' | 'acc' | 'extrema' | 'events' | 'trace';

function bindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  const storage = (binding: number, readOnly = false): GPUBindGroupLayoutEntry => ({
    binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: readOnly ? 'read-only-storage' : 'storage' },
  });
  return device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: UNIFORM_BYTES } },
      storage(1), storage(2), storage(3, true), storage(4), storage(5), storage(6), storage(7), storage(8, true),
    ],
  });
}

export interface KernelPipelines {
  bgl: GPUBindGroupLayout;
  init: GPUComputePipeline;
  run: GPUComputePipeline;
}

async function compileKernel(device: GPUDevice, kernel: WgslKernel): Promise<KernelPipelines> {
  const module = await scoped(device, 'compiling the WGSL kernel', () => device.createShaderModule({ code: kernel.code }));
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) throw new GpuError(`WGSL compilation failed: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`);
  const bgl = bindGroupLayout(device);
  const layout = device.createPipelineLayout({ bindGroupLayouts: [bgl] });
  // created inside a synchronous scope (see scoped); the creation itself reports through its promise
  const pending = await scoped(device, 'creating the compute pipelines', () =>
    ['init', 'run'].map((entryPoint) => device.createComputePipelineAsync({ layout, compute: { module, entryPoint } })),
  );
  const [init, run] = await Promise.all(pending).catch((error: Error) => {
    throw new GpuError(`creating the compute pipelines failed: ${error.message}`);
  });
  return { bgl, init, run };
}

/** Compiled pipelines per device and kernel text: a sweep's chunks reuse them instead of recompiling. */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<KernelPipelines>>>();

export function kernelPipelines(device: GPUDevice, kernel: WgslKernel): Promise<KernelPipelines> {
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

/** Largest batch whose every buffer fits one binding of this device. */
export function maxBatch(device: GPUDevice, kernel: WgslKernel): number {
  const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const maxSlots = Math.max(1, ...Object.values(kernel.slots));
  const fits = Math.floor(maxBinding / (4 * maxSlots));
  if (fits < 1) throw new GpuError(`one instance needs ${4 * maxSlots} bytes in a binding, over the device limit of ${maxBinding}`);
  return fits;
}

export interface SessionSpec {
  /** instances in this session */
  n: number;
  /** per-instance parameters, [P][n] */
  params: Float32Array;
  /** per instance: its trace row, or −1 */
  traceRow: Int32Array;
  /** number of trace rows (traced instances) */
  traceRows: number;
  /** steps between trace samples (0: no traces) */
  traceEvery: number;
  /** samples each trace row holds */
  traceSamplesPerRow: number;
  /** extra buffer usages for the trace (e.g. VERTEX, to draw from it) */
  traceUsage?: number;
  /** the recordings on the step grid (engine/inputs.ts, packInputs); absent: the model reads none */
  inputs?: Float32Array<ArrayBuffer>;
}

export interface AdvanceOptions {
  accumulate: boolean;
  /** global index of the sample stored first in the trace buffer */
  traceFirstSample?: number;
  /** what a failure message calls the steps, e.g. 'of 400000' */
  context?: string;
}

/** Dispatch length control: steps per dispatch adapt toward `targetMs` of GPU time. */
export interface DispatchTuning {
  stepsPerDispatch: number;
  targetMs: number;
  /**
   * the largest share of a dispatch's time the fixed cost may take (default 0.1): the target is
   * raised, up to 20 × targetMs, until it does
   */
  maxOverheadShare?: number;
  /** the last two measurements with different step counts: [steps, ms per dispatch] */
  seen?: [number, number][];
  /** the fixed cost per dispatch (ms) from the last fit over lengths far enough apart */
  fixedMs?: number;
  /** the last change of length was small: dispatches may go out several to a submission */
  settled?: boolean;
}

/**
 * The next dispatch length. Time per dispatch is a + b·steps: a fixed cost (loading and storing every
 * instance's state and tangents) plus the steps. Two measurements whose lengths differ by 2× or more
 * give a; between such fits the last a stands and b follows the latest measurement (lengths 17 %
 * apart, with the ±10 ms by which Deno's wait for a submission varies, could give a negative a, and
 * the length swung between 45 and 316 steps at N = 65,536 instead of settling). Until
 * there is an a, a dispatch that took over half the target doubles (its time may be all fixed cost,
 * which a proportional guess would mistake for slow steps and shrink the dispatch further). The
 * target is raised until the fixed cost is at most `maxOverheadShare` of it: on a software GPU moving
 * 100 MB of tangents per dispatch the fixed cost is tens of ms, and at a quarter of the time (the
 * first rule here) 8 tangent lanes at N = 65,536 ran 4× slower than at a tenth.
 */
export function nextDispatchSteps(tuning: DispatchTuning, steps: number, ms: number): number {
  const seen = (tuning.seen ??= []);
  if (seen.length === 0 || seen[seen.length - 1][0] !== steps) seen.push([steps, ms]);
  else seen[seen.length - 1][1] = ms;
  if (seen.length > 2) seen.shift();
  if (seen.length === 2) {
    const [[s1, t1], [s2, t2]] = seen;
    const perStep = (t2 - t1) / (s2 - s1);
    if (Math.max(s1, s2) >= 2 * Math.min(s1, s2) && perStep > 0) tuning.fixedMs = Math.max(0, t1 - perStep * s1);
  }
  let ideal = steps * (tuning.targetMs / Math.max(ms, 0.05));
  const fixed = tuning.fixedMs;
  const fitted = fixed !== undefined && ms > fixed;
  if (fitted) {
    const perStep = (ms - fixed) / steps;
    const target = Math.min(Math.max(tuning.targetMs, fixed / (tuning.maxOverheadShare ?? 0.1)), 20 * tuning.targetMs);
    ideal = (target - fixed) / perStep;
  } else if (ms > tuning.targetMs / 2 && ms < 4 * tuning.targetMs) ideal = 2 * steps;
  // growth per submission is bounded all the same, so a misestimate never makes one dispatch huge
  const next = Math.max(1, Math.min(Math.round(ideal), steps * 16, 1 << 20));
  tuning.settled = fitted && Math.abs(next - steps) <= 0.25 * steps;
  return next;
}

export class GpuSession {
  readonly buffers: Record<SessionBufferName, GPUBuffer>;
  private readonly uniforms: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly inputs: GPUBuffer;
  private readonly bindGroup: GPUBindGroup;
  private readonly stride: number;
  private readonly grid: { x: number; y: number; width: number };

  private constructor(
    readonly ctx: GpuContext,
    readonly kernel: WgslKernel,
    readonly pipelines: KernelPipelines,
    readonly spec: SessionSpec,
    parts: { buffers: Record<SessionBufferName, GPUBuffer>; uniforms: GPUBuffer; staging: GPUBuffer; inputs: GPUBuffer; bindGroup: GPUBindGroup; stride: number },
    readonly tuning: DispatchTuning,
  ) {
    this.buffers = parts.buffers;
    this.uniforms = parts.uniforms;
    this.staging = parts.staging;
    this.inputs = parts.inputs;
    this.bindGroup = parts.bindGroup;
    this.stride = parts.stride;
    const device = ctx.device;
    const groups = Math.ceil(spec.n / kernel.workgroupSize);
    const x = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
    const y = Math.ceil(groups / x);
    if (y > device.limits.maxComputeWorkgroupsPerDimension) throw new GpuError(`batch of ${spec.n} instances exceeds the dispatch grid`);
    this.grid = { x, y, width: x * kernel.workgroupSize };
  }

  /** Allocates the buffers of a session and writes its parameters; call `init` next. */
  static async create(ctx: GpuContext, kernel: WgslKernel, spec: SessionSpec, tuning?: DispatchTuning): Promise<GpuSession> {
    const { device } = ctx;
    const { slots, layout } = kernel;
    const { n } = spec;
    if (n > maxBatch(device, kernel)) throw new GpuError(`a session of ${n} instances exceeds this device's binding limits (at most ${maxBatch(device, kernel)})`);
    const pipelines = await kernelPipelines(device, kernel);
    const stride = Math.max(device.limits.minUniformBufferOffsetAlignment, UNIFORM_BYTES);
    const bytesOf = (slotCount: number) => Math.max(16, slotCount * n * 4);
    const traceBytes = Math.max(16, spec.traceRows * spec.traceSamplesPerRow * layout.traceWidth * 4);
    const parts = await scoped(device, `allocating GPU buffers for ${n} instances`, () => {
      const storage = (size: number, extra = 0) => device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST | extra });
      const buffers: Record<SessionBufferName, GPUBuffer> = {
        state: storage(bytesOf(slots.state)),
        tangent: storage(bytesOf(slots.tangent)),
        params: storage(bytesOf(slots.params)),
        acc: storage(bytesOf(slots.acc)),
        extrema: storage(bytesOf(slots.extrema)),
        events: storage(bytesOf(slots.events)),
        trace: storage(traceBytes, spec.traceUsage ?? 0),
      };
      const uniforms = device.createBuffer({ size: stride * DISPATCHES_PER_SUBMIT, usage: UNIFORM | COPY_DST });
      const staging = device.createBuffer({ size: Math.max(...Object.values(buffers).map((b) => b.size)), usage: MAP_READ | COPY_DST });
      // always bound (one bind group layout for every kernel); 16 bytes where the model reads no recording
      const inputs = device.createBuffer({ size: Math.max(16, (spec.inputs?.length ?? 0) * 4), usage: STORAGE | COPY_DST });
      const bindGroup = device.createBindGroup({
        layout: pipelines.bgl,
        entries: [
          { binding: 0, resource: { buffer: uniforms, size: UNIFORM_BYTES } },
          ...(['state', 'tangent', 'params', 'acc', 'extrema', 'events', 'trace'] as const).map((name, k) => ({ binding: k + 1, resource: { buffer: buffers[name] } })),
          { binding: 8, resource: { buffer: inputs } },
        ],
      });
      return { buffers, uniforms, staging, inputs, bindGroup, stride };
    });
    // parameters, then the trace row of each instance in the last slot (−1: not traced)
    const params = new Float32Array(slots.params * n);
    params.set(spec.params.subarray(0, layout.params * n));
    for (let i = 0; i < n; i++) params[layout.params * n + i] = spec.traceRow[i];
    device.queue.writeBuffer(parts.buffers.params, 0, params);
    if (spec.inputs?.length) device.queue.writeBuffer(parts.inputs, 0, spec.inputs);
    return new GpuSession(ctx, kernel, pipelines, spec, parts, tuning ?? { stepsPerDispatch: Math.max(1, Math.floor(2e5 / n)), targetMs: 50 });
  }

  private uniform(stepStart: number, nSteps: number, accumulate: boolean, traceFirstSample: number): Uint32Array<ArrayBuffer> {
    const u = new Uint32Array(UNIFORM_BYTES / 4);
    u.set([this.spec.n, stepStart, nSteps, accumulate ? 1 : 0, this.spec.traceEvery, traceFirstSample, this.spec.traceSamplesPerRow, this.grid.width]);
    new Float32Array(u.buffer)[8] = 1; // chunk.one
    return u;
  }

  /** Encodes and submits dispatches (each a uniform slot), waits for them, and checks for device loss. */
  private async submit(pipeline: GPUComputePipeline, dispatches: Uint32Array<ArrayBuffer>[], what: string): Promise<void> {
    const { device } = this.ctx;
    dispatches.forEach((u, k) => device.queue.writeBuffer(this.uniforms, k * this.stride, u));
    await scoped(device, what, () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      dispatches.forEach((_, k) => {
        pass.setBindGroup(0, this.bindGroup, [k * this.stride]);
        pass.dispatchWorkgroups(this.grid.x, this.grid.y);
      });
      pass.end();
      device.queue.submit([encoder.finish()]);
    });
    await device.queue.onSubmittedWorkDone();
    if (this.ctx.lost) throw new GpuError(`GPU device lost during ${what}: ${this.ctx.lost.message}`);
  }

  /** Writes the initial state (and clears observables, events and compensations). */
  init(): Promise<void> {
    return this.submit(this.pipelines.init, [this.uniform(0, 0, false, 0)], 'initialising the instances');
  }

  /**
   * Runs steps [from, to), in dispatches whose length adapts to the tuning's target, a submission of
   * several dispatches at a time. `onSteps` hears how many steps each submission completed.
   */
  async advance(from: number, to: number, options: AdvanceOptions, onSteps?: (steps: number) => void): Promise<void> {
    const tuning = this.tuning;
    let pos = from;
    while (pos < to) {
      const dispatches: Uint32Array<ArrayBuffer>[] = [];
      const submitStart = pos;
      // one dispatch a submission while the length is still being learnt, so it is learnt quickly
      const perSubmit = tuning.settled ? DISPATCHES_PER_SUBMIT : 1;
      while (pos < to && dispatches.length < perSubmit) {
        const steps = Math.min(tuning.stepsPerDispatch, to - pos);
        dispatches.push(this.uniform(pos, steps, options.accumulate, options.traceFirstSample ?? 0));
        pos += steps;
      }
      const t0 = performance.now();
      await this.submit(this.pipelines.run, dispatches, `steps ${submitStart}..${pos}${options.context ? ` ${options.context}` : ''}`);
      const perDispatchMs = (performance.now() - t0) / dispatches.length;
      tuning.stepsPerDispatch = nextDispatchSteps(tuning, dispatches[0][2], perDispatchMs);
      onSteps?.(pos - submitStart);
    }
  }

  /**
   * Submits steps [from, to) as one dispatch and returns at once (the submission happens before this
   * returns): the promise settles when the GPU has run them, and rejects on a validation error or a lost
   * device. Work submitted later (a drawing, a readback) runs after them. For pages that draw while
   * the GPU steps; `advance` waits for each submission and tunes dispatch lengths instead.
   */
  submitSteps(from: number, to: number, options: AdvanceOptions): Promise<void> {
    return this.submit(this.pipelines.run, [this.uniform(from, to - from, options.accumulate, options.traceFirstSample ?? 0)], `steps ${from}..${to}${options.context ? ` ${options.context}` : ''}`);
  }

  /**
   * Copies the first `floats` values of a buffer to the host (and clears the buffer if asked). With
   * `shared`, into a SharedArrayBuffer where the runtime has one (the same one copy): worker threads
   * that each read part of it (a sweep's encoder workers) are then posted it without another copy.
   */
  async read(name: SessionBufferName, floats: number, clear = false, shared = false): Promise<Float32Array> {
    const { device } = this.ctx;
    const bytes = floats * 4;
    await scoped(device, `reading ${name} back`, () => {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(this.buffers[name], 0, this.staging, 0, bytes);
      if (clear) encoder.clearBuffer(this.buffers[name]);
      device.queue.submit([encoder.finish()]);
    });
    await this.staging.mapAsync(MAP_READ, 0, bytes);
    let out: Float32Array;
    if (shared && typeof SharedArrayBuffer === 'function') {
      out = new Float32Array(new SharedArrayBuffer(bytes) as unknown as ArrayBuffer);
      out.set(new Float32Array(this.staging.getMappedRange(0, bytes)));
    } else out = new Float32Array(this.staging.getMappedRange(0, bytes).slice(0));
    this.staging.unmap();
    return out;
  }

  destroy(): void {
    for (const b of [...Object.values(this.buffers), this.uniforms, this.staging, this.inputs]) b.destroy();
  }
}

export { VERTEX as TRACE_VERTEX_USAGE };
