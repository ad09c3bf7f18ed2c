/**
 * GPU-engine throughput for the prinz model (neuron-steps per second) over ensemble sizes and tangent
 * lanes, with the CPU engine measured in the same run for the ratio. Each configuration runs long
 * enough (a budget of neuron-steps) that compilation and readback are a small part of its time.
 */
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import type { GpuMath } from '../src/compile/emit-wgsl.ts';
import type { TangentForm } from '../src/compile/program.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { cellTable, cpuEngineRate } from './cpu.ts';

const DT = 0.025;

export interface GpuBenchOptions {
  sizes: number[];
  lanes: number[];
  maths: GpuMath[];
  /** neuron-steps per timed run; scaled down for lane counts (8 lanes cost several times more) */
  budget: number;
}

async function gpuRate(N: number, lanes: number, math: GpuMath, budget: number, tangentForm: TangentForm = 'smaller') {
  const program = compile(libraryModel('prinz'), {
    dtMs: DT, instanceParams: [...CONDUCTANCE_NAMES], tangents: CONDUCTANCE_NAMES.slice(0, lanes).map((g) => `log:${g}`),
  });
  const params = cellTable(N);
  // enough steps for the dispatch length to settle (it starts short and grows toward ~50 ms)
  const steps = Math.max(lanes ? 2000 : 1000, Math.round(budget / (lanes ? 5 : 1) / N));
  const kernel = { math, tangentForm };
  await runGpu({ program, N, params, durationMs: 4 * DT }, { kernel }); // compile and warm up
  const r = await runGpu({ program, N, params, durationMs: steps * DT }, { kernel });
  return { N, lanes, math, ...(lanes ? { tangentForm } : {}), steps, wallMs: Math.round(r.wallMs), neuronStepsPerS: (N * steps) / (r.wallMs / 1000) };
}

/**
 * GPU engine over CPU engine at N = 65,536 without lanes, from runs taken in alternation: both engines
 * use every core, so load from elsewhere on a shared host slows both, but it comes and goes over
 * minutes, and rates measured minutes apart moved the ratio by ±15 %. Each pair runs the CPU engine
 * (1,000 instances, 250 ms) right before the GPU engine; the median of the pairs' ratios is reported.
 */
async function pairedRatio(math: GpuMath, budget: number, pairs = 5) {
  const ratios: number[] = [];
  for (let k = 0; k < pairs; k++) {
    const cpu = (await cpuEngineRate(1000, 0, 250)).neuronStepsPerS;
    const gpu = (await gpuRate(65536, 0, math, budget)).neuronStepsPerS;
    ratios.push(gpu / cpu);
  }
  const sorted = ratios.slice().sort((a, b) => a - b);
  return { median: sorted[Math.floor(pairs / 2)], pairs: ratios };
}

export async function gpuBenchmark(options: GpuBenchOptions, cpuRates?: { lanes0: number; lanes8: number }) {
  const gpu = await getGpu();
  if (!gpu) return { adapter: null, note: 'no WebGPU adapter: GPU benchmarks skipped' };
  // the CPU engine in this run, for the ratios: reuse the CPU benchmark's rates when it ran
  // (measured here with --gpu-only, after a warm-up: a cold engine ran 30 % slower, its JIT still compiling)
  if (!cpuRates) await cpuEngineRate(64, 0, 50);
  const cpu = cpuRates ?? { lanes0: (await cpuEngineRate(1000, 0, 500)).neuronStepsPerS, lanes8: (await cpuEngineRate(1000, 8, 125)).neuronStepsPerS };
  const runs: (Awaited<ReturnType<typeof gpuRate>> & { gpuOverCpu: number })[] = [];
  for (const lanes of options.lanes) {
    for (const math of options.maths) {
      for (const N of options.sizes) {
        const r = await gpuRate(N, lanes, math, options.budget);
        const cpuRate = lanes ? cpu.lanes8 : cpu.lanes0;
        runs.push({ ...r, gpuOverCpu: r.neuronStepsPerS / cpuRate });
        console.error(`gpu ${JSON.stringify(runs[runs.length - 1])}`);
      }
    }
  }
  // the kernel's other tangent form (compile.ts, stepTangents), for the target to show which it runs faster
  for (const N of options.sizes) {
    const r = await gpuRate(N, 8, 'accurate', options.budget, 'forward');
    runs.push({ ...r, gpuOverCpu: r.neuronStepsPerS / cpu.lanes8 });
    console.error(`gpu ${JSON.stringify(runs[runs.length - 1])}`);
  }
  const rate = (N: number, lanes: number, math: GpuMath) =>
    runs.find((r) => r.N === N && r.lanes === lanes && r.math === math && (!lanes || r.tangentForm === 'smaller'))?.neuronStepsPerS;
  const lanesCost = Object.fromEntries(options.maths.flatMap((math) => options.sizes.flatMap((N) => {
    const [a, b] = [rate(N, 0, math), rate(N, 8, math)];
    return a && b ? [[`${math} N=${N}`, a / b]] : [];
  })));
  // the target on lavapipe: the GPU engine ≥ 20× the CPU engine at N = 65,536 (0 lanes)
  const target: Record<string, unknown> = {};
  for (const math of options.maths) target[math] = await pairedRatio(math, options.budget);
  console.error(`gpu over cpu at N = 65,536, paired runs: ${JSON.stringify(target)}`);
  return {
    adapter: gpu.adapterName,
    gpuOverCpuAtN65536: { ...target, target: 20 },
    fallbackAdapter: gpu.isFallbackAdapter,
    cpuEngineNeuronStepsPerS: cpu,
    runs,
    costOf8LanesVs0: lanesCost,
  };
}
