/**
 * Activity of a recorded trace: its voltage maxima found by the same peak detector the kernels run
 * (kernel-common.ts, eventCode: a maximum is confirmed once the trace falls `hysteresisMv` below it),
 * then classified by Prinz's rules (classify.ts). A recording's own class and burst features are what
 * a fit's free re-simulations are compared with.
 */
import { classifyActivity, type ActivityFeatures } from './classify.ts';
import { DEFAULT_MAXIMA_HYSTERESIS_MV } from '../compile/kernel-common.ts';

/**
 * Classifies samples `values` (mV, sample k at k·intervalMs) over [fromMs, end]. With recording noise
 * give a hysteresis well above it (e.g. 4σ), or every wiggle of the noise counts as a maximum.
 */
export function traceActivity(values: ArrayLike<number>, intervalMs: number, fromMs: number, hysteresisMv = DEFAULT_MAXIMA_HYSTERESIS_MV): ActivityFeatures {
  const times: number[] = [], peaks: number[] = [];
  const first = Math.max(0, Math.ceil(fromMs / intervalMs - 1e-9));
  // the kernels' detector starts by looking for a minimum, so the first maximum follows a rise
  let lookingForMax = false, extreme = Infinity, extremeAt = 0;
  for (let k = first; k < values.length; k++) {
    const v = values[k], t = k * intervalMs;
    if (lookingForMax) {
      if (v > extreme) { extreme = v; extremeAt = t; } else if (v < extreme - hysteresisMv) {
        times.push(extremeAt); peaks.push(extreme);
        lookingForMax = false; extreme = v; extremeAt = t;
      }
    } else if (v < extreme) { extreme = v; extremeAt = t; } else if (v > extreme + hysteresisMv) {
      lookingForMax = true; extreme = v; extremeAt = t;
    }
  }
  return classifyActivity({ maximaTimesMs: times, maximaValuesMv: peaks, windowStartMs: first * intervalMs, windowEndMs: (values.length - 1) * intervalMs });
}
