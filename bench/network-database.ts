/**
 * Throughput of the Prinz 2004 database's kernel (examples/prinz-2004.yaml) on both engines: the
 * network sweep's own program (per network: 7 strengths, the 3 cells' 24 conductances from their
 * Table 2 choices and 39 start values of the isolated start, all per-instance parameters), over the
 * networks of the 0.1 % sample in sweep order, against the single prinz cell's kernel in the same run.
 *
 * Projection to one H200: docs/runtime.md measured the single-cell STG kernel at 5.3e10 neuron-steps/s
 * there (N = 1,048,576, Deno's WebGPU on NVIDIA's Vulkan). Assuming a network step costs the same
 * multiple of a cell step on the H200 as here (both kernels are straight-line arithmetic per instance
 * and the ratio is a property of the programs), the H200 runs networks at 5.3e10 × (network rate /
 * cell rate here). Whole database = 20,250,000 × steps of the connected run (the isolated phase runs
 * each of the 16 cells once and is negligible).
 */
import { join } from 'node:path';
import process from 'node:process';
import { readSpecFile } from '../src/io/spec-file.ts';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import type { StepProgram } from '../src/compile/program.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { expandChoices, networkInstanceParams, withStartParams } from '../src/jobs/sweep/network.ts';
import { makeSampler } from '../src/jobs/sweep/sampling.ts';
import { parseSweepSpec, resolveSweep } from '../src/jobs/sweep/spec.ts';
import { chunkColumns, summarise, type ChunkData } from '../src/jobs/sweep/rows.ts';
import { runSweepShard } from '../src/jobs/sweep/run.ts';
import { cellTable } from './cpu.ts';

/** docs/runtime.md: the single-cell STG kernel on one H200 (N = 1,048,576, Deno WebGPU), neuron-steps/s */
export const H200_CELL_STEPS_PER_S = 5.3e10;
const DATABASE_NETWORKS = 20_250_000;

async function databaseSweep() {
  return resolveSweep(parseSweepSpec(await readSpecFile(join(import.meta.dirname!, '..', 'examples', 'prinz-2004-sample.yaml'))));
}

/**
 * The sweep's program and the parameter table of its first N networks. Start values: the cold start
 * (the sweep gives each network its cells' isolated states; the cost of a step does not depend on them).
 */
function databaseKernel(sweep: Awaited<ReturnType<typeof databaseSweep>>, N: number) {
  const started = withStartParams(sweep.model);
  const instanceParams = [...networkInstanceParams(sweep), ...started.startParams];
  const program = compile(started.model, { dtMs: sweep.spec.dtMs, init: 'cold', instanceParams });
  const sampler = makeSampler(sweep);
  const columns = sampler.names.map(() => new Float64Array(N));
  const row = new Float64Array(sampler.names.length);
  for (let i = 0; i < N; i++) {
    sampler.valuesOf(i % sweep.total, row);
    row.forEach((v, d) => (columns[d][i] = v));
  }
  const params: Record<string, Float64Array> = expandChoices(sweep, sampler.names, columns);
  for (const p of started.startParams) params[p] = new Float64Array(N).fill(started.model.params[p].value);
  return { program, params, instanceParams: instanceParams.length };
}

type Runner = (program: StepProgram, N: number, params: Record<string, Float64Array>, durationMs: number) => Promise<{ wallMs: number; divergence: { state: Int32Array | ArrayLike<number> } }>;

async function stepsPerS(run: Runner, program: StepProgram, N: number, params: Record<string, Float64Array>, steps: number, dtMs: number) {
  await run(program, N, params, 4 * dtMs); // compile and warm up
  const r = await run(program, N, params, steps * dtMs);
  // a diverged instance stops computing and would flatter the rate
  const diverged = Array.from(r.divergence.state).filter((k) => k >= 0).length;
  if (diverged) throw new Error(`${diverged} of ${N} instances diverged: the rate would count idle instances`);
  return { N, steps, wallMs: Math.round(r.wallMs), stepsPerS: (N * steps) / (r.wallMs / 1000) };
}

async function engineRates(engine: 'cpu' | 'gpu', run: Runner, N: number, steps: number) {
  const sweep = await databaseSweep();
  const dt = sweep.spec.dtMs;
  const connectedSteps = Math.round(sweep.spec.durationMs / dt);
  const kernel = databaseKernel(sweep, N);
  const net = await stepsPerS(run, kernel.program, N, kernel.params, steps, dt);
  const cellProgram = compile(libraryModel('prinz'), { dtMs: dt, instanceParams: [...CONDUCTANCE_NAMES] });
  const cell = await stepsPerS(run, cellProgram, 3 * N, cellTable(3 * N), steps, dt);
  const out = {
    instanceParams: kernel.instanceParams,
    networkStepsPerS: net.stepsPerS,
    networksPerS: net.stepsPerS / connectedSteps,
    cellStepsPerS: cell.stepsPerS,
    // a network step's time over one cell step's: 3 would mean the synapses and parameters cost nothing
    networkStepInCellSteps: cell.stepsPerS / net.stepsPerS,
    databaseHours: DATABASE_NETWORKS / (net.stepsPerS / connectedSteps) / 3600,
    runs: { network: net, cells: cell },
  };
  console.error(`network database ${engine}: ${JSON.stringify(out)}`);
  return out;
}

/**
 * Host work per network: the first `n` networks of the sample run through the sweep (isolated start,
 * the full protocol) on the GPU engine, then their rows classified (3 cells and the network) and laid
 * out 5 times on this thread; the CPU time of the fastest pass (after the JIT has warmed up). A sweep
 * does this in its worker, off the GPU's thread.
 */
async function hostWork(n: number) {
  const sweep = await databaseSweep();
  const spec = parseSweepSpec({ ...sweep.spec, subsample: n, chunkSize: n, engine: 'gpu' });
  const chunks: ChunkData[] = [];
  await runSweepShard(resolveSweep(spec), { index: 0, count: 1 }, {
    begin: async () => {}, storedRanges: async () => [],
    storeChunk: async (data) => (chunks.push(data), summarise([], 0)),
  });
  const passes: number[] = [];
  for (let k = 0; k < 5; k++) {
    const before = process.cpuUsage();
    chunkColumns(chunks[0]);
    const used = process.cpuUsage(before);
    passes.push((used.user + used.system) / n);
  }
  return { networks: n, cpuUsPerNetwork: Math.min(...passes), passesUsPerNetwork: passes };
}

/** networks/s of the database kernel on both engines, and the projected whole-database time on one H200. */
export async function networkDatabaseBenchmark(options: { gpuN: number; cpuN: number; steps: number; hostN: number }) {
  const sweep = await databaseSweep();
  const connectedSteps = Math.round(sweep.spec.durationMs / sweep.spec.dtMs);
  const cpu = await engineRates('cpu', (program, N, params, durationMs) => runCpu({ program, N, params, durationMs }), options.cpuN, options.steps);
  const gpuContext = await getGpu();
  const gpu = gpuContext
    ? { adapter: gpuContext.adapterName, ...(await engineRates('gpu', (program, N, params, durationMs) => runGpu({ program, N, params, durationMs }), options.gpuN, options.steps)) }
    : undefined;
  const projection = gpu && (() => {
    const h200NetworkStepsPerS = H200_CELL_STEPS_PER_S / gpu.networkStepInCellSteps;
    const seconds = (DATABASE_NETWORKS * connectedSteps) / h200NetworkStepsPerS;
    return {
      basis: `docs/runtime.md's ${H200_CELL_STEPS_PER_S.toExponential(1)} cell-steps/s on one H200, divided by this run's network step in cell steps on ${gpu.adapter}`,
      h200NetworkStepsPerS, wholeDatabaseMinutes: seconds / 60, gpuUsPerNetwork: (1e6 * seconds) / DATABASE_NETWORKS,
      goalMinutes: 15,
    };
  })();
  const host = gpu ? await hostWork(options.hostN) : null;
  return {
    spec: 'examples/prinz-2004.yaml', networks: DATABASE_NETWORKS, dtMs: sweep.spec.dtMs, connectedMs: sweep.spec.durationMs,
    cpu, gpu: gpu ?? { adapter: null, note: 'no WebGPU adapter: GPU benchmark skipped' }, projectionH200: projection ?? null,
    // classification per network (in a sweep's worker) over the projected H200 GPU time per network
    host: host && { ...host, shareOfH200GpuTime: projection ? host.cpuUsPerNetwork / projection.gpuUsPerNetwork : null },
    gpuOverCpu: gpu ? gpu.networksPerS / cpu.networksPerS : null,
  };
}
