/**
 * The judge of a recording fit: every fitted point re-simulated freely (no data in the loop, from the
 * same initial condition, longer than the recording) and classified by Prinz's rules, so a fit is
 * accepted for the activity it produces, not for the residual it minimised. In a network the whole
 * network runs freely, the fitted cell's conductances set and the rest at their spec values, and
 * the fitted cell's own activity is what is classified.
 */
import { classifyActivity } from '../../analysis/classify.ts';
import { DIVERGED_CLASS, featureColumns } from '../../analysis/features.ts';
import { compile } from '../../compile/compile.ts';
import type { Method } from '../../compile/program.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
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
  /** in a network: the cell whose activity is classified (its voltage `${cell}.V` is a spike source) */
  cell?: string;
}

/** Activity at points given as rows of log-values (points[i][d]), in one ensemble run. */
export async function freeActivity(o: FreeCheckOptions, points: readonly ArrayLike<number>[]): Promise<Activity> {
  const program = compile(o.model, { dtMs: o.dtMs, method: o.method, init: o.init, values: o.values, instanceParams: [...o.parameters] });
  const params = Object.fromEntries(o.parameters.map((p, d) => [p, Float64Array.from(points, (x) => Math.exp(x[d]))]));
  const { result } = await runEnsemble(
    { program, N: points.length, params, durationMs: o.durationMs, discardMs: o.discardMs, maximaCapacity: 1024, spikeCapacity: 8 },
    o.run,
  );
  if (o.cell === undefined) {
    const columns = featureColumns(result, result.discardMs, result.durationMs);
    const column = (name: string) => Array.from(columns.find((c) => c.name === name)!.data as (number | null)[]);
    return {
      class: columns.find((c) => c.name === 'class')!.data as string[],
      burstPeriodMs: column('burstPeriodMs'),
      dutyCycle: column('dutyCycle'),
      spikesPerBurst: column('spikesPerBurst'),
    };
  }
  const q = result.spikes.findIndex((s) => s.name === `${o.cell}.V`);
  if (q < 0) throw new InputError(`free check: the model has no cell '${o.cell}' (spike sources: ${result.spikes.map((s) => s.name).join(', ')})`);
  const maxima = result.maxima![q];
  const activity: Activity = { class: [], burstPeriodMs: [], dutyCycle: [], spikesPerBurst: [] };
  for (let i = 0; i < points.length; i++) {
    // a diverged network has no activity (features.ts: the same rule for single cells)
    const kept = maxima.of(i);
    const a = result.divergence.state[i] >= 0 ? undefined : classifyActivity({
      maximaTimesMs: kept.timesMs, maximaValuesMv: kept.valuesMv, windowStartMs: result.discardMs, windowEndMs: result.durationMs,
      totalMaxima: maxima.count[i], totalSpikes: maxima.spikeCount[i],
    });
    activity.class.push(a?.class ?? DIVERGED_CLASS);
    activity.burstPeriodMs.push(a?.burstPeriodMs ?? null);
    activity.dutyCycle.push(a?.dutyCycle ?? null);
    activity.spikesPerBurst.push(a?.spikesPerBurst ?? null);
  }
  return activity;
}
