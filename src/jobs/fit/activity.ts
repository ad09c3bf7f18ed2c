/**
 * Activity of fitted parameter sets: each point re-simulated (longer than the cost's run, from the
 * same initial condition) and classified by Prinz's rules (docs/models.md §8), so a fit is judged by its
 * burst period and duty cycle rather than by the cost it minimised.
 */
import { featureColumns } from '../../analysis/features.ts';
import { compile } from '../../compile/compile.ts';
import { runEnsemble } from '../../engine/run.ts';
import { paramValue, type CostProblem, type EvaluateOptions } from '../cost/problem.ts';

export interface ActivityRun {
  /** simulated time from the initial condition (ms) */
  durationMs: number;
  /** classification window starts here (ms) */
  discardMs: number;
}

export interface Activity {
  class: string[];
  burstPeriodMs: (number | null)[];
  dutyCycle: (number | null)[];
  spikesPerBurst: (number | null)[];
}

/** Classifies the activity at points given as coordinate columns points[d][i], in one ensemble run. */
export async function activityAt(problem: CostProblem, points: readonly ArrayLike<number>[], run: ActivityRun, options: Pick<EvaluateOptions, 'run'> = {}): Promise<Activity> {
  const { setup, coords } = problem;
  const n = points[0].length;
  const program = compile(setup.model, {
    dtMs: setup.dtMs, method: setup.method, init: setup.init, values: setup.values, instanceParams: coords.map((c) => c.param),
  });
  const params = Object.fromEntries(coords.map((c, d) => [c.param, Float64Array.from({ length: n }, (_, i) => paramValue(c, points[d][i]))]));
  const { result } = await runEnsemble(
    { program, N: n, params, durationMs: run.durationMs, discardMs: run.discardMs, maximaCapacity: 1024, spikeCapacity: 8 },
    { engine: setup.engine, gpuMath: setup.gpuMath, ...options.run },
  );
  const columns = featureColumns(result, result.discardMs, result.durationMs);
  const column = (name: string) => columns.find((c) => c.name === name)!.data as (number | null)[];
  return {
    class: columns.find((c) => c.name === 'class')!.data as string[],
    burstPeriodMs: Array.from(column('burstPeriodMs')),
    dutyCycle: Array.from(column('dutyCycle')),
    spikesPerBurst: Array.from(column('spikesPerBurst')),
  };
}

/** True when a bursting point's period and duty cycle are both within `tolerance` (relative) of the target's. */
export function matchesBursting(a: Activity, i: number, target: { burstPeriodMs: number; dutyCycle: number }, tolerance: number): boolean {
  const p = a.burstPeriodMs[i], d = a.dutyCycle[i];
  if (a.class[i] !== 'bursting' || p === null || d === null) return false;
  return Math.abs(p / target.burstPeriodMs - 1) <= tolerance && Math.abs(d / target.dutyCycle - 1) <= tolerance;
}
