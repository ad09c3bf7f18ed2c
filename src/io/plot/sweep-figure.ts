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
import { NETWORK_CLASSES } from '../../jobs/sweep/network-rows.ts';
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

/** Network classes whose rows carry a period: all but non-periodic (network-rows.ts). */
const PERIODIC_NETWORK_CLASSES: ReadonlySet<string> = new Set(NETWORK_CLASSES.filter((c) => c !== 'non-periodic'));
/** A parameter with at most this many distinct values is drawn as a grid axis (jittered). */
export const MAX_GRID_LEVELS = 24;

/**
 * What a sweep's figure draws, gathered from its rows a batch at a time (so a table of millions of
 * rows is never in memory at once): the class counts, the periods of the bursters (of the periodic
 * networks, for a network sweep), every `stride`-th row's varied parameters for the scatter, and
 * whether each parameter is a grid axis. Rows are numbered in the order they are added, which fixes
 * the thinning and the jitter.
 */
export class SweepFigureRows {
  private readonly counts = new Map<string, number>();
  private readonly periods: number[] = [];
  private readonly dots: { row: number; class: string; values: number[] }[] = [];
  /** each shown parameter's distinct values, until there are more than a grid has */
  private readonly levels: (Set<number> | undefined)[];
  private readonly params: string[];
  private readonly shown: string[];
  private readonly stride: number;
  /** bursters' periods (burstPeriodMs) or networks' (periodMs), when the table has them */
  private readonly periodKind?: 'neuron' | 'network';
  private rows = 0;

  /** `header`: the table's columns (their names and types; the data may be empty); `total`: its rows. */
  constructor(header: Column[], total: number, private readonly options: SweepPlotOptions = {}) {
    this.params = sweepParameterColumns(header).map((c) => c.name);
    const names = new Set(header.map((c) => c.name));
    this.periodKind = names.has('burstPeriodMs') ? 'neuron' : names.has('periodMs') ? 'network' : undefined;
    this.shown = this.params.slice(0, options.maxParameters ?? 4);
    this.stride = Math.max(1, Math.ceil(total / (options.maxDots ?? 3000)));
    this.levels = this.shown.map(() => new Set<number>());
  }

  /** The next rows of the table (all its columns named in the header that the figure draws). */
  add(columns: Column[]): void {
    const byName = new Map(columns.map((c) => [c.name, c]));
    const classes = byName.get('class')!.data as string[];
    // a neuron sweep: the bursters' burst periods; a network sweep (network-rows.ts): the periodic networks' periods
    const neuron = this.periodKind === 'neuron', period = byName.get(neuron ? 'burstPeriodMs' : 'periodMs');
    const shown = this.shown.map((name) => byName.get(name)!.data as ArrayLike<number>);
    for (let k = 0; k < classes.length; k++, this.rows++) {
      const c = classes[k];
      this.counts.set(c, (this.counts.get(c) ?? 0) + 1);
      const v = period?.data[k];
      // a missing period is null (not 0): only a row whose class has one counts
      if (typeof v === 'number' && Number.isFinite(v) && (neuron ? c === 'bursting' : PERIODIC_NETWORK_CLASSES.has(c))) this.periods.push(v);
      shown.forEach((values, d) => {
        const levels = this.levels[d];
        if (!levels) return;
        levels.add(Number(values[k]));
        if (levels.size > MAX_GRID_LEVELS) this.levels[d] = undefined;
      });
      if (this.rows % this.stride === 0) this.dots.push({ row: this.rows, class: c, values: shown.map((values) => Number(values[k])) });
    }
  }

  /** The Vega-Lite spec of the rows added so far. */
  spec(): TopLevelSpec {
    const { options, shown, stride, counts } = this;
    const n = this.rows;
    if (n === 0) throw new InputError('the sweep table has no rows to plot');
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
    if (this.periodKind) {
      const neuron = this.periodKind === 'neuron';
      const periods = this.periods.map((periodMs) => ({ periodMs }));
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

    if (shown.length >= 2) {
      // a parameter with few distinct values is a grid axis: spread its dots within ±30 % of its step
      const spread = this.levels.map((found) => {
        const levels = [...(found ?? [])].sort((a, b) => a - b);
        if (!found || levels.length < 2) return 0;
        let step = Infinity;
        for (let k = 1; k < levels.length; k++) step = Math.min(step, levels[k] - levels[k - 1]);
        return 0.3 * step;
      });
      const dots = this.dots.map(({ row: i, class: c, values }) => {
        const dot: Record<string, number | string> = { class: c };
        shown.forEach((name, d) => (dot[name] = values[d] + (spread[d] ? (2 * unitHash(i, d) - 1) * spread[d] : 0)));
        return dot;
      });
      const axisTitle = (d: number) => `${withUnit(shown[d], parameterUnit(shown[d]))}${spread[d] ? ', jittered' : ''}`;
      const rows: unknown[] = [];
      for (let a = 1; a < shown.length; a++) {
        const cells: unknown[] = [];
        for (let b = 0; b < a; b++) {
          cells.push({
            width: 170, height: 170,
            mark: { type: 'circle', size: 12, opacity: 0.85 },
            encoding: {
              x: { field: shown[b], type: 'quantitative', title: axisTitle(b), scale: { zero: false, nice: true } },
              y: { field: shown[a], type: 'quantitative', title: axisTitle(a), scale: { zero: false, nice: true } },
              color: colour,
            },
          });
        }
        rows.push({ hconcat: cells });
      }
      const omitted = this.params.length - shown.length;
      panels.push({
        title: { text: `varied conductances, coloured by class${stride > 1 ? ` (every ${stride}th model: ${dots.length.toLocaleString('en')} dots)` : ''}${omitted > 0 ? `; ${omitted} more parameters not shown` : ''}`, fontSize: 12 },
        data: { values: dots },
        vconcat: rows,
      });
    }
    return { title: options.title ?? 'sweep', vconcat: panels, resolve: { scale: { color: 'shared' } } } as TopLevelSpec;
  }
}

/** The Vega-Lite spec of a sweep's figure, from its table's columns (one shard, or merged). */
export function sweepSpec(columns: Column[], options: SweepPlotOptions = {}): TopLevelSpec {
  const rows = new SweepFigureRows(columns, columns.find((c) => c.name === 'class')?.data.length ?? 0, options);
  rows.add(columns);
  return rows.spec();
}
