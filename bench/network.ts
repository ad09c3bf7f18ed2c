/**
 * Pyloric-network throughput on both engines, with and without tangent lanes: network-steps per
 * second, networks per second for the 10 s protocol (dt 0.025 ms), and the cost of one network step
 * against three single-cell steps of the same engine measured in the same run (the network adds 7
 * synaptic gates and their currents to three prinz cells).
 */
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { pyloric, PYLORIC_SYNAPSE_PARAMS } from '../src/channels/pyloric.ts';
import { compile } from '../src/compile/compile.ts';
import type { StepProgram } from '../src/compile/program.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { cellTable } from './cpu.ts';

const DT = 0.025;
const PROTOCOL_MS = 10_000;
const GRID = [0, 3, 10, 30, 100];

/** N synapse settings cycling through the grid (every strength a grid value). */
function synapseTable(N: number): Record<string, Float64Array> {
  return Object.fromEntries(PYLORIC_SYNAPSE_PARAMS.map((p, k) => [p, Float64Array.from({ length: N }, (_, i) => GRID[Math.floor(i / 5 ** (k % 4)) % 5])]));
}

function programs(lanes: boolean) {
  const network = compile(pyloric(), { dtMs: DT, instanceParams: [...PYLORIC_SYNAPSE_PARAMS], tangents: lanes ? [...PYLORIC_SYNAPSE_PARAMS] : [] });
  const cell = compile(libraryModel('prinz'), { dtMs: DT, instanceParams: [...CONDUCTANCE_NAMES], tangents: lanes ? CONDUCTANCE_NAMES.slice(0, 7).map((g) => `log:${g}`) : [] });
  return { network, cell };
}

type Runner = (program: StepProgram, N: number, params: Record<string, Float64Array>, durationMs: number) => Promise<{ wallMs: number }>;

async function rate(run: Runner, program: StepProgram, N: number, params: Record<string, Float64Array>, steps: number) {
  await run(program, N, params, 4 * DT); // compile and warm up
  const r = await run(program, N, params, steps * DT);
  return { N, steps, wallMs: Math.round(r.wallMs), stepsPerS: (N * steps) / (r.wallMs / 1000) };
}

async function engineRates(engine: 'cpu' | 'gpu', run: Runner, N: number, steps: number) {
  const out: Record<string, unknown> = {};
  for (const lanes of [false, true]) {
    const { network, cell } = programs(lanes);
    const net = await rate(run, network, N, synapseTable(N), lanes ? Math.max(200, Math.round(steps / 4)) : steps);
    const single = await rate(run, cell, 3 * N, cellTable(3 * N), lanes ? Math.max(200, Math.round(steps / 4)) : steps);
    out[lanes ? 'lanes7' : 'lanes0'] = {
      networkStepsPerS: net.stepsPerS,
      networksPerSFor10s: net.stepsPerS / (PROTOCOL_MS / DT),
      cellStepsPerS: single.stepsPerS,
      // time of one network step over the time of three cell steps: 1 = the synapses cost nothing
      networkCostVsThreeCells: single.stepsPerS / (3 * net.stepsPerS),
      runs: { network: net, cells: single },
    };
    console.error(`network ${engine} ${lanes ? '7 lanes' : '0 lanes'}: ${JSON.stringify(out[lanes ? 'lanes7' : 'lanes0'])}`);
  }
  return out;
}

export async function networkBenchmark(options: { gpuN: number; cpuN: number; steps: number }) {
  const cpu = await engineRates('cpu', (program, N, params, durationMs) => runCpu({ program, N, params, durationMs }), options.cpuN, options.steps);
  const gpuContext = await getGpu();
  const gpu = gpuContext
    ? { adapter: gpuContext.adapterName, ...(await engineRates('gpu', (program, N, params, durationMs) => runGpu({ program, N, params, durationMs }), options.gpuN, options.steps)) }
    : { adapter: null, note: 'no WebGPU adapter: GPU benchmarks skipped' };
  return { model: 'pyloric (AB/PD 2, LP 4, PY 1; strengths per instance from the synapse grid)', dtMs: DT, protocolMs: PROTOCOL_MS, cpu, gpu };
}
