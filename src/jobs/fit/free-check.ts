/**
 * The judge of a recording fit: every fitted point re-simulated freely (no data in the loop, from the
 * same initial condition, longer than the recording) and classified by Prinz's rules, so a fit is
 * accepted for the activity it produces, not for the residual it minimised.
 */
import { featureColumns } from '../../analysis/features.ts';
import { compile } from '../../compile/compile.ts';
import type { Method } from '../../compile/program.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import type { InitKind, Model } from '../../model/model.ts';
import type { Activity, ActivityRun } from './activity.ts';

export interface FreeCheckOptions extends ActivityRun {
  model: Model;
  parameters: readonly string[];
  values?: Record<string, number>;
  method?: Method;
  dtMs: number;
  init?: InitKind;
  run?: RunOptions;
}

/** Activity at points given as rows of log-values (points[i][d]), in one ensemble run. */
export async function freeActivity(o: FreeCheckOptions, points: readonly ArrayLike<number>[]): Promise<Activity> {
  const program = compile(o.model, { dtMs: o.dtMs, method: o.method, init: o.init, values: o.values, instanceParams: [...o.parameters] });
  const params = Object.fromEntries(o.parameters.map((p, d) => [p, Float64Array.from(points, (x) => Math.exp(x[d]))]));
  const { result } = await runEnsemble(
    { program, N: points.length, params, durationMs: o.durationMs, discardMs: o.discardMs, maximaCapacity: 1024, spikeCapacity: 8 },
    o.run,
  );
  const columns = featureColumns(result, result.discardMs, result.durationMs);
  const column = (name: string) => Array.from(columns.find((c) => c.name === name)!.data as (number | null)[]);
  return {
    class: columns.find((c) => c.name === 'class')!.data as string[],
    burstPeriodMs: column('burstPeriodMs'),
    dutyCycle: column('dutyCycle'),
    spikesPerBurst: column('spikesPerBurst'),
  };
}
