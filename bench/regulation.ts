/**
 * Regulated populations (src/model/regulation.ts): cell-hours of biological time per wall-clock second
 * on both engines, for prinz with four regulated conductances, per-instance τ's drawn around 1-4 s.
 * Then the cost of a long run (src/jobs/long-run.ts) against the same biology uncut: the cut run
 * observes every state, carries it over at each interval, and classifies each interval from its
 * voltage maxima; timed in pairs (uncut, then cut) so host load moves both alike.
 */
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { regulate } from '../src/model/regulation.ts';
import { runLong } from '../src/jobs/long-run.ts';
import type { EngineChoice } from '../src/engine/run.ts';

const DT = 0.05;
const TAU = { gNa: 500, gCaS: 2000, gKd: 1000, gA: 4000 };

function table(N: number): Record<string, Float64Array> {
  // τ's spread by up to ±50 % per instance, deterministic
  return Object.fromEntries(Object.entries(TAU).map(([g, tau], k) => [`regTau${g.slice(1)}Ms`, Float64Array.from({ length: N }, (_, i) => tau * (0.5 + ((i * 2654435761 + k * 97) % 1000) / 1000))]));
}

export async function regulationBenchmark(options: { gpuN: number; cpuN: number; simulatedMs: number }) {
  const model = regulate(libraryModel('prinz'), { tauMs: TAU, tauGMs: 200, caTargetUM: 200 });
  const program = compile(model, { dtMs: DT, instanceParams: Object.keys(table(1)) });
  const rate = (N: number, wallMs: number) => (N * options.simulatedMs) / 3.6e6 / (wallMs / 1000);
  const warm = { program, N: 16, params: table(16), durationMs: 4 * DT };
  await runCpu(warm);
  const cpu = await runCpu({ program, N: options.cpuN, params: table(options.cpuN), durationMs: options.simulatedMs });
  const out: Record<string, unknown> = { model: 'prinz, gNa gCaS gKd gA regulated', dtMs: DT, simulatedMs: options.simulatedMs, cpu: { N: options.cpuN, wallMs: Math.round(cpu.wallMs), cellHoursPerSecond: rate(options.cpuN, cpu.wallMs) } };
  if (await getGpu()) {
    await runGpu(warm);
    const g = await runGpu({ program, N: options.gpuN, params: table(options.gpuN), durationMs: options.simulatedMs });
    out.gpu = { N: options.gpuN, wallMs: Math.round(g.wallMs), cellHoursPerSecond: rate(options.gpuN, g.wallMs) };
  } else out.gpu = { adapter: null, note: 'no WebGPU adapter: GPU benchmark skipped' };
  out.longRun = await longRunCost(model, options, out.gpu && 'wallMs' in (out.gpu as object) ? 'gpu' : 'cpu');
  console.error(`regulation ${JSON.stringify(out)}`);
  return out;
}

/** Wall time of a long run cut into `intervals` intervals over that of the same run uncut (median of 3 pairs). */
async function longRunCost(model: ReturnType<typeof regulate>, options: { gpuN: number; cpuN: number; simulatedMs: number }, engine: EngineChoice) {
  const N = engine === 'gpu' ? options.gpuN : options.cpuN, intervals = 4;
  const params = table(N);
  const program = compile(model, { dtMs: DT, instanceParams: Object.keys(params) });
  const uncut = async () => (engine === 'gpu' ? runGpu : runCpu)({ program, N, params, durationMs: options.simulatedMs });
  const cut = async () => {
    const t0 = performance.now();
    await runLong({
      phases: [{ model, untilMs: options.simulatedMs }], N, params, dtMs: DT, intervalMs: options.simulatedMs / intervals,
      means: ['Ca'], ends: ['reg.CaS.g'], maximaCapacity: 256, engine, onInterval: () => {},
    });
    return performance.now() - t0;
  };
  await cut(); // compiles the cut kernels once
  const ratios: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await uncut();
    const plain = performance.now() - t0;
    ratios.push((await cut()) / plain);
  }
  ratios.sort((a, b) => a - b);
  return { engine, N, simulatedMs: options.simulatedMs, intervals, cutOverUncutWall: ratios[1], pairs: ratios.map((r) => Math.round(r * 100) / 100) };
}
