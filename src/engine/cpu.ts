/**
 * CPU engine: runs the JavaScript kernel of a compiled program, in f64 (the reference) or f32
 * (parity checks). Instances are split into contiguous groups, one per worker thread (Web Workers,
 * available in Deno and browsers); each group runs the whole time plan on its own, so the threads
 * never synchronise. Small runs stay on the calling thread.
 */
import { emitJs, instantiateJs, type ChunkArgs, type JsKernel, type KernelBuffers, type Precision, type RoundoffProbe } from '../compile/emit-js.ts';
import { bufferSlots, type Layout } from '../compile/layout.ts';
import type { StepProgram } from '../compile/program.ts';
import { packParams, type EnsembleResult, type EnsembleSpec } from './ensemble.ts';
import { chunksOf, makePlan, traceTimesMs, type Chunk, type RunPlan } from './plan.ts';
import { assembleResult, validateEnsembleSpec } from './results.ts';
import { inputLayoutOf, normalWindowsOf, packInputs, type InputLayout } from './inputs.ts';

export interface CpuOptions {
  precision?: Precision;
  /** worker threads; default: all cores (navigator.hardwareConcurrency) */
  threads?: number;
  /** perturb the f64 arithmetic at f32's error level, to measure conditioning (see emit-js.ts) */
  roundoffProbe?: RoundoffProbe;
}

/** Below this many neuron-steps a run stays on the calling thread (starting workers costs more). */
const INLINE_WORK = 4e6;
/** Neuron-steps per chunk and thread: sets how often progress is reported. */
const CHUNK_WORK = 2e7;

interface Group {
  start: number;
  n: number;
  buffers: KernelBuffers;
}

function allocate(layout: Layout, n: number, precision: Precision, traceRows: number, traceSamples: number): KernelBuffers {
  const slots = bufferSlots(layout);
  const real = (count: number) => (precision === 'f32' ? new Float32Array(count) : new Float64Array(count));
  return {
    state: real(slots.state * n),
    tangent: real(slots.tangent * n),
    params: real(slots.params * n),
    obsSum: new Float64Array(slots.obsSum * n),
    obsMin: new Float64Array(slots.obsMin * n).fill(Infinity),
    obsMax: new Float64Array(slots.obsMax * n).fill(-Infinity),
    obsTanSum: new Float64Array(slots.obsTanSum * n),
    events: new Float64Array(slots.events * n),
    traceRow: new Int32Array(n).fill(-1),
    trace: new Float64Array(traceRows * traceSamples * layout.traceWidth),
    inputs: new Float64Array(0),
    normal: new Float64Array(slots.normal * n),
  };
}

/**
 * Runs one group through every chunk. Self-contained (no imports, no closures) because workers
 * receive it as source text.
 */
function runGroup(
  kernel: JsKernel,
  b: KernelBuffers,
  n: number,
  chunks: Chunk[],
  trace: Pick<ChunkArgs, 'traceEvery' | 'traceFirstSample' | 'traceSamplesPerRow'>,
  onChunk: (steps: number) => void,
): void {
  kernel.init(b, n, 0, n);
  for (const c of chunks) {
    kernel.run(b, { N: n, i0: 0, i1: n, stepStart: c.stepStart, nSteps: c.nSteps, accumulate: c.accumulate, ...trace });
    onChunk(c.nSteps);
  }
}

const WORKER_SOURCE = `
const runGroup = ${runGroup.toString()};
self.onmessage = (event) => {
  const { source, buffers, n, chunks, trace } = event.data;
  try {
    const kernel = new Function(source)();
    runGroup(kernel, buffers, n, chunks, trace, (steps) => self.postMessage({ type: 'progress', steps }));
    self.postMessage({ type: 'done', buffers }, Object.values(buffers).map((a) => a.buffer));
  } catch (error) {
    self.postMessage({ type: 'error', message: String(error && error.stack || error) });
  }
};
`;

function workerUrl(): string {
  return URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
}

function runInWorker(
  url: string,
  source: string,
  group: Group,
  chunks: Chunk[],
  trace: Pick<ChunkArgs, 'traceEvery' | 'traceFirstSample' | 'traceSamplesPerRow'>,
  onSteps: (steps: number) => void,
): Promise<KernelBuffers> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { type: 'module' });
    worker.onmessage = (event: MessageEvent) => {
      const msg = event.data;
      if (msg.type === 'progress') onSteps(msg.steps);
      else {
        worker.terminate();
        if (msg.type === 'done') resolve(msg.buffers as KernelBuffers);
        else reject(new Error(`CPU worker failed: ${msg.message}`));
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      worker.terminate();
      reject(new Error(`CPU worker failed: ${event.message}`));
    };
    const transfer = Object.values(group.buffers).map((a: ArrayBufferView) => a.buffer as ArrayBuffer);
    worker.postMessage({ source, buffers: group.buffers, n: group.n, chunks, trace }, transfer);
  });
}

function defaultThreads(): number {
  const n = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency;
  return typeof n === 'number' && n > 0 ? n : 1;
}

/** Splits N instances into contiguous groups and gives each group its parameter slice and trace rows. */
function makeGroups(
  program: StepProgram, layout: Layout, spec: EnsembleSpec, count: number, precision: Precision, plan: RunPlan, inputLayout: InputLayout,
): Group[] {
  const N = spec.N;
  const all = allocate(layout, N, precision, 0, 0);
  packParams(program, N, spec.params, all.params);
  const traced = spec.traceInstances ?? [];
  const groups: Group[] = [];
  for (let g = 0; g < count; g++) {
    const start = Math.floor((g * N) / count), end = Math.floor(((g + 1) * N) / count);
    const n = end - start;
    const rows = traced.filter((i) => i >= start && i < end);
    const buffers = allocate(layout, n, precision, rows.length, plan.traceSamples);
    for (let q = 0; q < layout.params; q++) buffers.params.set(all.params.subarray(q * N + start, q * N + end), q * n);
    rows.forEach((i, r) => (buffers.traceRow[i - start] = r));
    if (program.inputs.length) {
      buffers.inputs = packInputs(program, spec.inputs, inputLayout, plan, N, start, n, (length) => (precision === 'f32' ? new Float32Array(length) : new Float64Array(length)));
    }
    groups.push({ start, n, buffers });
  }
  return groups;
}

/** Runs an ensemble on the CPU. */
export async function runCpu(spec: EnsembleSpec, options: CpuOptions = {}): Promise<EnsembleResult> {
  const started = performance.now();
  const precision = options.precision ?? 'f64';
  const { program } = spec;
  const plan = makePlan({ ...spec, dtMs: program.dtMs });
  const spikeCapacity = validateEnsembleSpec(spec, plan);
  const inputLayout = inputLayoutOf(program, spec.inputs, plan, spec.N);
  const kernelSource = emitJs(program, {
    precision, spikeCapacity, spikeThresholdMv: spec.spikeThresholdMv, roundoffProbe: options.roundoffProbe,
    maximaCapacity: spec.maximaCapacity, maximaHysteresisMv: spec.maximaHysteresisMv, traceTangents: spec.traceTangents,
    inputs: inputLayout, windows: normalWindowsOf(program, spec.windowMs, plan),
  });
  const { layout } = kernelSource;

  const work = spec.N * plan.totalSteps;
  const hasWorkers = typeof Worker === 'function' && typeof URL.createObjectURL === 'function';
  const threads = Math.max(1, Math.min(options.threads ?? defaultThreads(), spec.N, hasWorkers && work >= INLINE_WORK ? Infinity : 1));
  const groups = makeGroups(program, layout, spec, threads, precision, plan, inputLayout);
  const chunkSteps = Math.max(1, Math.floor(CHUNK_WORK / Math.ceil(spec.N / threads)));
  const chunks = chunksOf(plan, chunkSteps);
  let done = 0;
  const onSteps = (steps: number, n: number) => {
    done += steps * n;
    spec.onProgress?.(Math.min(1, done / work));
  };

  if (threads === 1) {
    const g = groups[0];
    const kernel = instantiateJs(kernelSource.source);
    const trace = { traceEvery: plan.traceEvery, traceFirstSample: plan.traceFirstSample, traceSamplesPerRow: plan.traceSamples };
    runGroup(kernel, g.buffers, g.n, chunks, trace, (steps) => onSteps(steps, g.n));
  } else {
    const url = workerUrl();
    try {
      const trace = { traceEvery: plan.traceEvery, traceFirstSample: plan.traceFirstSample, traceSamplesPerRow: plan.traceSamples };
      const results = await Promise.all(
        groups.map((g) => runInWorker(url, kernelSource.source, g, chunks, trace, (steps) => onSteps(steps, g.n))),
      );
      results.forEach((buffers, k) => (groups[k].buffers = buffers));
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  return assembleResult({
    spec, plan, layout, engine: 'cpu', precision,
    device: `cpu (${threads} thread${threads > 1 ? 's' : ''})`,
    wallMs: performance.now() - started,
    groups: groups.map((g) => ({ start: g.start, n: g.n, buffers: g.buffers })),
    traceTimesMs: traceTimesMs(plan),
  });
}
