/**
 * A sweep's table as a Vega-Lite figure: the fraction of models in each activity class, the
 * histogram of the bursters' burst periods (of the periodic networks' periods, for a network sweep's
 * table), and the varied conductances against each other, each
 * model a dot coloured by its class. On a grid sweep many models share a point, so dots are spread
 * by a fixed jitter of up to ±30 % of the grid step (said on the axis); large tables are thinned to
 * an evenly spaced subset of rows for the scatter (said in its title). Counts and the histogram use
 * every row.
 */
import type { Column } from '../../analysis/features.ts';
import { InputError } from '../../errors.ts';
import type { TopLevelSpec } from './figure.ts';
import { parameterUnit, withUnit } from './labels.ts';

export interface SweepPlotOptions {
  title?: string;
  /** at most this many varied parameters in the scatter matrix (default 4) */
  maxParameters?: number;
  /** at most this many dots per scatter panel (default 3000) */
  maxDots?: number;
}

/** Fixed colours of the classes, so every figure and every shard colours them alike. */
export const CLASS_COLOURS: Record<string, string> = {
  silent: '#8c8c8c', tonic: '#4c78a8', bursting: '#f58518', irregular: '#54a24b', diverged: '#e45756',
  pyloric: '#b279a2', 'pyloric-like': '#ff9da6', periodic: '#9d755d', 'non-periodic': '#bab0ac',
};

const COLUMNS_BEFORE_PARAMETERS = new Set(['index', 'gridIndex']);

/** The varied parameters of a sweep table: the columns between the index columns and `class`. */
export function sweepParameterColumns(columns: Column[]): Column[] {
  const end = columns.findIndex((c) => c.name === 'class');
  if (end < 0) throw new InputError(`not a sweep table: it has no 'class' column (columns: ${columns.slice(0, 8).map((c) => c.name).join(', ')}…)`);
  return columns.slice(0, end).filter((c) => !COLUMNS_BEFORE_PARAMETERS.has(c.name) && c.type === 'DOUBLE');
}

/** A deterministic value in [0, 1) from an integer (a counter-based hash, so jitter never moves between runs). */
function unitHash(i: number, salt: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 16; h = Math.imul(h, 0x7feb352d); h ^= h >>> 15; h = Math.imul(h, 0x846ca68b); h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The Vega-Lite spec of a sweep's figure, from its table's columns (one shard, or merged). */
export function sweepSpec(columns: Column[], options: SweepPlotOptions = {}): TopLevelSpec {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const classes = byName.get('class')!.data as string[];
  const params = sweepParameterColumns(columns);
  const n = classes.length;
  if (n === 0) throw new InputError('the sweep table has no rows to plot');

  const counts = new Map<string, number>();
  for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  const known = Object.keys(CLASS_COLOURS);
  const present = [...counts.keys()].sort((a, b) => (known.indexOf(a) + 1 || 99) - (known.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const colour = { field: 'class', type: 'nominal' as const, title: 'class', scale: { domain: present, range: present.map((c) => CLASS_COLOURS[c] ?? '#333333') } };
  const fractions = present.map((c) => ({ class: c, fraction: counts.get(c)! / n, models: counts.get(c)! }));

  const panels: unknown[] = [];
  const top: unknown[] = [{
    width: 260, height: 200, title: { text: `activity classes of ${n.toLocaleString('en')} models`, fontSize: 12 },
    data: { values: fractions },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'class', type: 'nominal', sort: present, title: null, axis: { labelAngle: 0 } },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of models', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
      color: colour, tooltip: [{ field: 'class' }, { field: 'models' }],
    },
  }];
  // a neuron sweep: the bursters' burst periods; a network sweep (network-rows.ts): the periodic networks' periods
  const neuron = byName.get('burstPeriodMs'), network = byName.get('periodMs');
  const period = neuron ?? network;
  if (period) {
    const periods: { periodMs: number }[] = [];
    for (let i = 0; i < n; i++) {
      const v = Number(period.data[i]);
      if ((neuron ? classes[i] === 'bursting' : classes[i] !== 'diverged') && Number.isFinite(v)) periods.push({ periodMs: v });
    }
    top.push({
      width: 300, height: 200, title: { text: neuron ? `burst periods of ${periods.length.toLocaleString('en')} bursters` : `periods of ${periods.length.toLocaleString('en')} periodic networks`, fontSize: 12 },
      data: { values: periods },
      mark: { type: 'bar', color: neuron ? CLASS_COLOURS.bursting : CLASS_COLOURS.periodic },
      encoding: {
        x: { field: 'periodMs', type: 'quantitative', bin: { maxbins: 40 }, title: neuron ? 'burst period (ms)' : 'network period (ms)' },
        y: { aggregate: 'count', type: 'quantitative', title: 'models', axis: { tickMinStep: 1, format: 'd' } },
      },
    });
  }
  panels.push({ hconcat: top });

  const shown = params.slice(0, options.maxParameters ?? 4);
  if (shown.length >= 2) {
    const maxDots = options.maxDots ?? 3000;
    const stride = Math.max(1, Math.ceil(n / maxDots));
    // a parameter with few distinct values is a grid axis: spread its dots within ±30 % of its step
    const spread = shown.map((p) => {
      const levels = [...new Set(p.data as number[])].sort((a, b) => a - b);
      if (levels.length > 24 || levels.length < 2) return 0;
      let step = Infinity;
      for (let k = 1; k < levels.length; k++) step = Math.min(step, levels[k] - levels[k - 1]);
      return 0.3 * step;
    });
    const dots: Record<string, number | string>[] = [];
    for (let i = 0; i < n; i += stride) {
      const row: Record<string, number | string> = { class: classes[i] };
      shown.forEach((p, d) => (row[p.name] = Number(p.data[i]) + (spread[d] ? (2 * unitHash(i, d) - 1) * spread[d] : 0)));
      dots.push(row);
    }
    const axisTitle = (d: number) => `${withUnit(shown[d].name, parameterUnit(shown[d].name))}${spread[d] ? ', jittered' : ''}`;
    const rows: unknown[] = [];
    for (let a = 1; a < shown.length; a++) {
      const cells: unknown[] = [];
      for (let b = 0; b < a; b++) {
        cells.push({
          width: 170, height: 170,
          mark: { type: 'circle', size: 12, opacity: 0.85 },
          encoding: {
            x: { field: shown[b].name, type: 'quantitative', title: axisTitle(b), scale: { zero: false, nice: true } },
            y: { field: shown[a].name, type: 'quantitative', title: axisTitle(a), scale: { zero: false, nice: true } },
            color: colour,
          },
        });
      }
      rows.push({ hconcat: cells });
    }
    const omitted = params.length - shown.length;
    panels.push({
      title: { text: `varied conductances, coloured by class${stride > 1 ? ` (every ${stride}th model: ${dots.length.toLocaleString('en')} dots)` : ''}${omitted > 0 ? `; ${omitted} more parameters not shown` : ''}`, fontSize: 12 },
      data: { values: dots },
      vconcat: rows,
    });
  }
  return { title: options.title ?? 'sweep', vconcat: panels, resolve: { scale: { color: 'shared' } } } as TopLevelSpec;
}
