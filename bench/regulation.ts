/**
 * Regulated populations (src/model/regulation.ts): cell-hours of biological time per wall-clock second
 * on both engines, for prinz with four regulated conductances, per-instance τ's drawn around 1-4 s.
 */
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { regulate } from '../src/model/regulation.ts';

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
  console.error(`regulation ${JSON.stringify(out)}`);
  return out;
}
