/**
 * A fit to a recording as a Vega-Lite figure: the cost (rᵀr) at every iteration of every start (log
 * scale; starts whose free re-simulation reproduces the recording in colour, the others grey), and
 * the recorded voltage against the best start's free re-simulation over the cost window.
 */
import type { RecordingJobResult } from '../../jobs/fit/recording-job.ts';
import { decimateMinMax } from './decimate.ts';
import type { TopLevelSpec } from './figure.ts';

const REPRODUCES = '#4c78a8', OTHER = '#c4c4c4', RECORDED = '#000000', FITTED = '#e45756';

/** The figure; `fitted` is the best start's free run on the recording's time grid (mV), when simulated. */
export function recordingFitSpec(r: RecordingJobResult, fitted?: { timesMs: Float64Array; values: Float64Array }, options: { width?: number; maxLines?: number } = {}): TopLevelSpec {
  const W = options.width ?? 560;
  const order = r.fit.starts.map((s, i) => [s.bestCost, i] as const).filter(([c]) => Number.isFinite(c)).sort((a, b) => a[0] - b[0]).slice(0, options.maxLines ?? 300);
  const label = (i: number) => (r.reproduces ? (r.reproduces[i] ? 'reproduces the recording' : 'does not') : 'start');
  const points = order.flatMap(([, i]) => r.fit.starts[i].costs.flatMap((cost, iteration) => (cost > 0 && Number.isFinite(cost) ? [{ iteration, cost, start: i, series: label(i) }] : [])));
  const reproducing = r.reproduces?.filter(Boolean).length;
  // a noisy recording's fit: the costs are rᵀr less the noise's expected part (≤ 0 is not drawn on the
  // log scale), and from `polishedFrom` on they are the prediction error's (recording-fit.ts)
  const polishedFrom = r.fit.starts.find((s) => s.polishedFrom !== undefined)?.polishedFrom;
  const costLines = {
    data: { values: points },
    mark: { type: 'line', strokeWidth: 1.1 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { tickMinStep: 1 } },
      y: { field: 'cost', type: 'quantitative', title: `cost (mV²${r.noise.compensated ? ', less the noise\'s expected part' : ''}, log scale)`, scale: { type: 'log' } },
      detail: { field: 'start', type: 'nominal' },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: r.reproduces ? ['reproduces the recording', 'does not'] : ['start'], range: r.reproduces ? [REPRODUCES, OTHER] : [REPRODUCES] } },
    },
  };
  const polishRule = {
    data: { values: [{ iteration: polishedFrom, label: 'prediction-error polish' }] },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 3], color: '#555555' }, encoding: { x: { field: 'iteration', type: 'quantitative' } } },
      { mark: { type: 'text', align: 'left', dx: 4, dy: -90, fontSize: 10, color: '#555555' }, encoding: { x: { field: 'iteration', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  };
  const panels: unknown[] = [{
    width: W, height: 200,
    title: { text: `cost (sum of squared windowed residuals) per iteration, ${order.length} of ${r.fit.starts.length} starts${reproducing !== undefined ? `; ${reproducing} reproduce the recording` : ''}`, fontSize: 12 },
    ...(polishedFrom === undefined ? costLines : { layer: [costLines, polishRule] }),
  }];
  const { values, intervalMs, name } = r.recorded;
  const from = Math.round(r.run.burnInMs / intervalMs);
  const times = Float64Array.from({ length: values.length - from }, (_, k) => (from + k) * intervalMs);
  const recorded = values.subarray(from);
  const rows = [
    ...decimateMinMax(recorded).map((k) => ({ t: times[k], v: recorded[k], series: `recorded ${name}` })),
    ...(fitted ? decimateMinMax(fitted.values).filter((k) => fitted.timesMs[k] >= r.run.burnInMs).map((k) => ({ t: fitted.timesMs[k], v: fitted.values[k], series: 'best fit, simulated freely' })) : []),
  ];
  panels.push({
    width: W, height: 200,
    title: { text: 'recorded voltage and the best fit re-simulated without the data', fontSize: 12 },
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'time (ms)' },
      y: { field: 'v', type: 'quantitative', title: 'membrane potential (mV)' },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: [`recorded ${name}`, 'best fit, simulated freely'], range: [RECORDED, FITTED] } },
    },
  });
  // each panel has its own colours (starts by outcome; recorded vs fitted): independent scales and legends
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', vconcat: panels, resolve: { scale: { color: 'independent' } } } as TopLevelSpec;
}
