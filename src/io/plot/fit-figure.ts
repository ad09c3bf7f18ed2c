/**
 * A fit as a Vega-Lite figure: the cost at every iteration of every start (log scale; the best
 * starts in colour, the others grey), and the best fits' V and [Ca] traces against the target's
 * (jobs/fit/best-traces.ts). Starts whose final gradient is ill conditioned (jobs/cost/conditioning.ts)
 * are drawn dashed.
 */
import type { BestTraces } from '../../jobs/fit/best-traces.ts';
import type { FitResult } from '../../jobs/fit/run.ts';
import { decimateMinMax } from './decimate.ts';
import type { TopLevelSpec } from './figure.ts';
import { panelTitle } from './simulation-figure.ts';

export interface FitPlotOptions {
  title?: string;
  /** starts drawn in colour (default 3; their traces are in `traces`) */
  highlight?: number;
  /** at most this many starts' cost lines (the best ones; default 400) */
  maxLines?: number;
  width?: number;
}

export const TARGET_COLOUR = '#000000';
export const OTHER_STARTS = '#c4c4c4';
const BEST_COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

const labelOf = (start: number, cost: number) => `start ${start} (cost ${Number(cost.toPrecision(3))})`;

/** The Vega-Lite spec of a fit figure; `traces` adds the trace panels. */
export function fitSpec(r: FitResult, traces?: BestTraces, options: FitPlotOptions = {}): TopLevelSpec {
  const W = options.width ?? 560;
  const finite = r.starts.filter((s) => Number.isFinite(s.bestCost)).sort((a, b) => a.bestCost - b.bestCost);
  const best = finite.slice(0, options.highlight ?? 3);
  const drawn = finite.slice(0, options.maxLines ?? 400);
  const bestLabels = best.map((s) => labelOf(s.start, s.bestCost));
  const points = drawn.flatMap((s) => s.costs.flatMap((cost, iteration) => (Number.isFinite(cost) && cost > 0
    ? [{ iteration, cost, start: s.start, series: best.includes(s) ? labelOf(s.start, s.bestCost) : 'other starts', trusted: s.gradientTrusted !== false }]
    : [])));
  const seriesDomain = [...bestLabels, ...(drawn.length > best.length ? ['other starts'] : [])];
  const seriesColours = [...bestLabels.map((_, k) => BEST_COLOURS[k % BEST_COLOURS.length]), OTHER_STARTS];
  const untrusted = r.starts.filter((s) => s.gradientTrusted === false).length;
  const panels: unknown[] = [{
    width: W, height: 220,
    title: { text: `cost per iteration, ${drawn.length} of ${r.starts.length} starts${drawn.length < finite.length ? ' (the best)' : ''}${untrusted ? `; dashed: ${untrusted} ending at an ill-conditioned gradient` : ''}`, fontSize: 12 },
    data: { values: points },
    mark: { type: 'line', strokeWidth: 1.2, point: false },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration', axis: { tickMinStep: 1 } },
      y: { field: 'cost', type: 'quantitative', title: 'cost (log scale)', scale: { type: 'log' } },
      detail: { field: 'start', type: 'nominal' },
      color: { field: 'series', type: 'nominal', title: 'start', legend: { labelLimit: 260 }, scale: { domain: seriesDomain, range: seriesColours.slice(0, seriesDomain.length - (drawn.length > best.length ? 1 : 0)).concat(drawn.length > best.length ? [OTHER_STARTS] : []) } },
      strokeDash: { condition: { test: '!datum.trusted', value: [4, 3] }, value: [1, 0] },
      // best starts on top of the grey ones
      zindex: { value: 0 },
      order: { field: 'series', sort: 'descending' },
    },
  }];
  if (traces) {
    const t = traces.timesMs;
    const domain = traces.runs.map((run) => run.label);
    const range = traces.runs.map((run) => (run.label === 'target' ? TARGET_COLOUR : BEST_COLOURS[bestLabels.indexOf(run.label) % BEST_COLOURS.length] ?? '#777'));
    for (const name of Object.keys(traces.units)) {
      const values = traces.runs.flatMap((run) => {
        const v = run.series[name];
        return decimateMinMax(v, 800).map((i) => ({ t: Number(t[i].toPrecision(9)), v: Number(v[i].toPrecision(7)), run: run.label }));
      });
      panels.push({
        width: W, height: 150,
        data: { values },
        mark: { type: 'line', strokeWidth: 1 },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time (ms)', scale: { domain: [t[0], t[t.length - 1]], nice: false, zero: false } },
          y: { field: 'v', type: 'quantitative', title: panelTitle(traces.units[name]), scale: { zero: false } },
          color: { field: 'run', type: 'nominal', title: 'trace', legend: { labelLimit: 260 }, scale: { domain, range } },
          strokeWidth: { condition: { test: "datum.run === 'target'", value: 2 }, value: 1 },
        },
      });
    }
  }
  return {
    title: options.title ?? `fit: ${r.parameters.join(', ')}`,
    vconcat: panels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}
