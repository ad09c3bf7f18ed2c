/**
 * The closed form of a recording fit (README, "Fitting a recording": approach least-squares): AB/PD 1
 * with gLeak 0.01, V and [Ca] recorded 4 s from the cold start at dt 0.05 ms, cost over 1-4 s in 1 ms
 * windows, all 8 conductances by non-negative least squares (Gauss–Newton on the exprel factor from
 * g = 0), on each engine asked for; optionally with Gaussian noise on V ([Ca] clean). Prints JSON:
 * per engine and realisation the relative error of every conductance, which were held at 0, the
 * Gauss–Newton iterations (runs of the forced model) and the wall time.
 *
 *   deno run -A bench/fit-least-squares.ts [--engines cpu,gpu] [--noise 0.5 --realisations 5]
 */
import process from 'node:process';
import { libraryModel } from '../src/channels/index.ts';
import { fitLeastSquares } from '../src/jobs/fit/least-squares-fit.ts';
import { simulateRecording } from '../src/jobs/fit/record.ts';
import type { EngineChoice } from '../src/engine/run.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : fallback;
};
const ENGINES = flag('--engines', 'cpu,gpu').split(',') as EngineChoice[];
const NOISE = Number(flag('--noise', '0'));
const REALISATIONS = NOISE > 0 ? Number(flag('--realisations', '5')) : 1;

const TARGET: Record<string, number> = { gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0.01 };
const NAMES = Object.keys(TARGET);
const DT = 0.05, DURATION = 4000, BURN_IN = 1000;
const model = libraryModel('prinz');
const V = await simulateRecording(model, { dtMs: DT, values: TARGET, init: 'cold', durationMs: DURATION, observed: 'V' });
const Ca = await simulateRecording(model, { dtMs: DT, values: TARGET, init: 'cold', durationMs: DURATION, observed: 'Ca' });

/** Park–Miller uniforms → standard normals, seeded: repeatable realisations */
function normals(seed: number) {
  let s = seed;
  const u = () => (s = (s * 16807) % 2147483647) / 2147483647;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const rows: Record<string, unknown>[] = [];
for (const engine of ENGINES) {
  for (let r = 0; r < REALISATIONS; r++) {
    const n = normals(1000 + r);
    const recorded = NOISE > 0 ? V.map((v) => v + NOISE * n()) : V;
    const fit = await fitLeastSquares({
      model, forcing: { V: 'V', Ca: { input: 'Ca', residual: false } },
      recordings: { V: { values: recorded, intervalMs: DT }, Ca: { values: Ca, intervalMs: DT } },
      parameters: NAMES, dtMs: DT, init: 'cold', durationMs: DURATION, discardMs: BURN_IN, windowMs: 1, run: { engine, threads: 1 },
    });
    const row = {
      engine: fit.engine, device: fit.device, noiseMv: NOISE, realisation: r, evaluations: fit.evaluations, gaussNewtonSteps: fit.costs.length - 1,
      stopped: fit.stopped, cost: fit.cost, wallSeconds: fit.wallMs / 1000,
      relativeError: Object.fromEntries(NAMES.map((p, d) => [p, fit.values[d] / TARGET[p] - 1])),
      heldAtZero: NAMES.filter((_, d) => fit.atZero[d]), unidentified: NAMES.filter((_, d) => !fit.identified[d]),
    };
    process.stderr.write(JSON.stringify(row) + '\n');
    rows.push(row);
  }
}
console.log(JSON.stringify({ target: TARGET, dtMs: DT, durationMs: DURATION, burnInMs: BURN_IN, windowMs: 1, rows }, null, 2));
