/**
 * CPU-engine throughput for the prinz model (neuron-steps per second), with 0 and 8 tangent lanes,
 * next to the plain single-threaded JavaScript loop of the same equations, all measured in one run.
 */
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES, PRINZ_2004_CELLS } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { runPlainPrinz, type Conductances } from './reference/prinz-plain.ts';

const DT = 0.025;

/** Conductances of the 16 model neurons, cycled over N instances. */
export function cellTable(N: number): Record<string, Float64Array> {
  return Object.fromEntries(
    CONDUCTANCE_NAMES.map((g) => [g, Float64Array.from({ length: N }, (_, i) => PRINZ_2004_CELLS[i % PRINZ_2004_CELLS.length].conductances[g])]),
  );
}

export async function cpuEngineRate(N: number, lanes: number, durationMs: number, threads?: number) {
  const program = compile(libraryModel('prinz'), {
    dtMs: DT, instanceParams: [...CONDUCTANCE_NAMES], tangents: CONDUCTANCE_NAMES.slice(0, lanes).map((g) => `log:${g}`),
  });
  const r = await runCpu({ program, N, params: cellTable(N), durationMs }, { threads });
  const neuronSteps = N * Math.round(durationMs / DT);
  return { N, lanes, durationMs, threads: r.device, wallMs: Math.round(r.wallMs), neuronStepsPerS: neuronSteps / (r.wallMs / 1000) };
}

export function plainJsRate(N: number, durationMs: number) {
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const cell = PRINZ_2004_CELLS[i % PRINZ_2004_CELLS.length];
    runPlainPrinz(CONDUCTANCE_NAMES.map((g) => cell.conductances[g]) as Conductances, durationMs, 0, DT);
  }
  const wallMs = performance.now() - started;
  return { N, durationMs, threads: 1, wallMs: Math.round(wallMs), neuronStepsPerS: (N * Math.round(durationMs / DT)) / (wallMs / 1000) };
}

export async function cpuBenchmark() {
  // warm-up: let the JIT see both kernels before timing
  await cpuEngineRate(64, 0, 50);
  const lanes0 = await cpuEngineRate(1000, 0, 500);
  const lanes8 = await cpuEngineRate(1000, 8, 125);
  const plain = plainJsRate(100, 500);
  return {
    model: 'prinz',
    dtMs: DT,
    cores: navigator.hardwareConcurrency,
    engine0Lanes: lanes0,
    engine8Lanes: lanes8,
    plainJsLoop: plain,
    costOf8LanesVs0: lanes0.neuronStepsPerS / lanes8.neuronStepsPerS,
    engine0LanesVsPlainJs: lanes0.neuronStepsPerS / plain.neuronStepsPerS,
    targets: { engine0LanesNeuronStepsPerS: 3.7e6, costOf8LanesVs0Max: 6 },
  };
}
