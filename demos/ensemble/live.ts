/**
 * A live ensemble: one GPU session of N instances advanced a frame at a time, its traces kept in a
 * ring of R samples per traced instance inside the session's own trace buffer, which the renderer
 * draws from directly (nothing is copied to JavaScript per frame).
 *
 * The kernel writes sample k (taken after step (k+1)·traceEvery) at row offset k − traceFirstSample.
 * Each advance is cut at the steps where the sample index crosses a multiple of R, and runs with
 * traceFirstSample = R·⌊k/R⌋, so sample k always lands in slot k mod R.
 */
import { emitWgsl, type WgslKernel } from '../../src/compile/emit-wgsl.ts';
import { eventSlots } from '../../src/compile/layout.ts';
import type { StepProgram } from '../../src/compile/program.ts';
import type { GpuContext } from '../../src/engine/gpu/device.ts';
import { GpuSession, maxBatch } from '../../src/engine/gpu/session.ts';

export interface LiveOptions {
  N: number;
  /** per-instance parameters, [P][N] */
  params: Float32Array;
  /** instances 0..traceRows−1 are traced */
  traceRows: number;
  /** samples kept per traced instance */
  ringSamples: number;
  /** steps between samples */
  traceEvery: number;
  /** spike times kept per instance (the raster's ring) */
  spikeCapacity: number;
  /** voltage maxima kept per instance (classification) */
  maximaCapacity: number;
  /** wall time per frame that the step count adapts to (ms) */
  frameBudgetMs: number;
}

const MAP_READ = 0x01, COPY_DST = 0x08;

export class LiveEnsemble {
  /** steps done */
  step = 0;
  /** steps the next frame runs, adapted to the frame budget by `frameDone` */
  stepsPerFrame: number;
  private frameMsAverage = 0;
  private history: [number, number][] = [];
  private frames = 0;
  private readStaging: GPUBuffer | null = null;

  private constructor(readonly ctx: GpuContext, readonly program: StepProgram, readonly kernel: WgslKernel, readonly session: GpuSession, readonly options: LiveOptions) {
    this.stepsPerFrame = Math.max(1, Math.floor(2e4 / options.N));
  }

  static async create(ctx: GpuContext, program: StepProgram, options: LiveOptions): Promise<LiveEnsemble> {
    const kernel = emitWgsl(program, { spikeCapacity: options.spikeCapacity, maximaCapacity: options.maximaCapacity });
    const limit = maxBatch(ctx.device, kernel);
    if (options.N > limit) throw new Error(`${options.N} instances exceed this device's binding limits (at most ${limit})`);
    const traceRow = new Int32Array(options.N).fill(-1);
    for (let i = 0; i < options.traceRows; i++) traceRow[i] = i;
    const session = await GpuSession.create(ctx, kernel, {
      n: options.N, params: options.params, traceRow, traceRows: options.traceRows,
      traceEvery: options.traceEvery, traceSamplesPerRow: options.ringSamples,
    }, { stepsPerDispatch: 1, targetMs: options.frameBudgetMs, maxOverheadShare: 0.25 }); // frames keep their budget
    await session.init();
    return new LiveEnsemble(ctx, program, kernel, session, options);
  }

  get dtMs(): number {
    return this.program.dtMs;
  }
  get simMs(): number {
    return this.step * this.program.dtMs;
  }
  /** trace samples taken so far (the newest is sample samplesTaken − 1) */
  get samplesTaken(): number {
    return Math.floor(this.step / this.options.traceEvery);
  }
  get windowMs(): number {
    return this.options.ringSamples * this.options.traceEvery * this.program.dtMs;
  }
  /**
   * Adapts the steps per frame to the frame budget from the wall time of whole frames (simulation,
   * drawing, waiting for the GPU; dispatch time alone would mislead, as it includes the previous
   * frame's drawing). Frame time is fitted as a + b·steps over the last frames: steps = (budget − a)/b.
   * When the fixed part a alone exceeds the budget (a big ensemble on a slow device), frames may take
   * 1.5 a, so that steps amortise it. Every 8th frame probes a few more steps, so the fit always has
   * spread; changes are limited to −50 % … +25 % per frame.
   */
  frameDone(frameMs: number, stepsRun: number): void {
    if (stepsRun < this.stepsPerFrame) return; // a short frame (ring lap, stop, speed limit, pause) says little
    const h = this.history;
    h.push([stepsRun, frameMs]);
    if (h.length > 16) h.shift();
    const budget = this.options.frameBudgetMs;
    this.frameMsAverage = this.frameMsAverage ? 0.7 * this.frameMsAverage + 0.3 * frameMs : frameMs;
    let next = this.stepsPerFrame * (budget / Math.max(0.1, this.frameMsAverage));
    const n = h.length, mx = h.reduce((t, [x]) => t + x, 0) / n, my = h.reduce((t, [, y]) => t + y, 0) / n;
    const sxx = h.reduce((t, [x]) => t + (x - mx) ** 2, 0), sxy = h.reduce((t, [x, y]) => t + (x - mx) * (y - my), 0);
    if (n >= 4 && sxx > 0.01 * n * mx * mx) {
      const b = sxy / sxx, a = my - b * mx;
      if (b > 0) next = (Math.max(budget, 1.5 * a) - Math.max(0, a)) / b;
    }
    const steps = this.stepsPerFrame;
    next = Math.min(Math.max(next, 0.5 * steps), 1.25 * steps + 1);
    this.frames++;
    if (this.frames % 8 === 0) next = Math.max(next, steps + Math.ceil(steps / 8));
    this.stepsPerFrame = Math.max(1, Math.min(Math.round(next), 1 << 20));
  }

  /** Runs `steps` steps (in pieces that keep each ring lap in one dispatch range). */
  async advance(steps: number): Promise<void> {
    const { traceEvery, ringSamples } = this.options;
    const lapSteps = traceEvery * ringSamples;
    const end = this.step + steps;
    while (this.step < end) {
      const lap = Math.floor(this.step / lapSteps);
      const to = Math.min(end, (lap + 1) * lapSteps);
      // one dispatch per piece: the frame controller, not the session's tuning, sets the length
      this.session.tuning.stepsPerDispatch = to - this.step;
      await this.session.advance(this.step, to, { accumulate: true, traceFirstSample: lap * ringSamples });
      this.step = to;
    }
  }

  /**
   * Submits `steps` steps without waiting (in pieces that keep each ring lap in one dispatch range)
   * and counts them at once: work submitted afterwards (drawing, a readback) runs after them, so it
   * sees `step`, `simMs` and `samplesTaken` as they are now. The promise settles when the GPU has run them.
   */
  submit(steps: number): Promise<void> {
    const { traceEvery, ringSamples } = this.options;
    const lapSteps = traceEvery * ringSamples;
    const end = this.step + steps;
    const done: Promise<void>[] = [];
    while (this.step < end) {
      const lap = Math.floor(this.step / lapSteps);
      const to = Math.min(end, (lap + 1) * lapSteps);
      done.push(this.session.submitSteps(this.step, to, { accumulate: true, traceFirstSample: lap * ringSamples }));
      this.step = to;
    }
    return Promise.all(done).then(() => undefined);
  }

  private async readRange(buffer: GPUBuffer, offsetFloats: number, floats: number): Promise<Float32Array> {
    const { device } = this.ctx;
    const bytes = floats * 4;
    if (!this.readStaging || this.readStaging.size < bytes) {
      this.readStaging?.destroy();
      this.readStaging = device.createBuffer({ size: Math.max(bytes, 1 << 16), usage: MAP_READ | COPY_DST });
    }
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offsetFloats * 4, this.readStaging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await this.readStaging.mapAsync(MAP_READ, 0, bytes);
    const out = new Float32Array(this.readStaging.getMappedRange(0, bytes).slice(0));
    this.readStaging.unmap();
    return out;
  }

  /** The events buffer (spike counts and rings, maxima), slot-major: slot s of instance i at s·N + i. */
  readEvents(): Promise<Float32Array> {
    return this.readRange(this.session.buffers.events, 0, eventSlots(this.kernel.layout).total * this.options.N);
  }

  /**
   * The ring of one traced instance, oldest sample first: { values[sample·W + k], firstSample }.
   * Only for inspection and tests: the renderer reads the ring on the GPU.
   */
  async readTraceRow(row: number): Promise<{ values: Float32Array; firstSample: number; width: number }> {
    const { ringSamples } = this.options;
    const W = this.kernel.layout.traceWidth;
    const raw = await this.readRange(this.session.buffers.trace, row * ringSamples * W, ringSamples * W);
    const taken = this.samplesTaken;
    const count = Math.min(taken, ringSamples);
    const first = taken - count;
    const values = new Float32Array(count * W);
    for (let s = 0; s < count; s++) {
      const slot = (first + s) % ringSamples;
      values.set(raw.subarray(slot * W, slot * W + W), s * W);
    }
    return { values, firstSample: first, width: W };
  }

  /** One instance's state (values, f32) as the GPU holds it now. */
  async readState(i: number): Promise<Float32Array> {
    const S = this.kernel.layout.states;
    const all = await this.readRange(this.session.buffers.state, 0, S * this.options.N);
    return Float32Array.from({ length: S }, (_, k) => all[k * this.options.N + i]);
  }

  destroy(): void {
    this.session.destroy();
    this.readStaging?.destroy();
  }
}
