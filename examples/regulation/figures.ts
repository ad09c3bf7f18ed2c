/**
 * The experiments' figures as Vega-Lite specs (rendered to SVG by src/io/plot/figure.ts). Data are
 * decimated before they go in: sample cells for trajectories, quantiles across cells otherwise.
 */
import type { TopLevelSpec } from '../../src/io/plot/figure.ts';
import type { RegulatedPopulationResult } from '../../src/jobs/regulated-population.ts';
import { AB_PD_1 } from './setup.ts';

const CLASSES = ['silent', 'tonic', 'bursting', 'irregular', 'diverged'];
const CLASS_COLORS = ['#888888', '#1f77b4', '#2ca02c', '#ff7f0e', '#d62728'];

function quantile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))] : NaN;
}

/** Median and 10-90 % of a quantity across cells, per interval. */
function bands(r: RegulatedPopulationResult, values: Float32Array, extra: Record<string, unknown> = {}) {
  return Array.from(r.timesMs, (t, k) => {
    const v = Array.from(values.subarray(k * r.N, (k + 1) * r.N)).filter(Number.isFinite).sort((a, b) => a - b);
    return { t: t / 1000, p10: quantile(v, 0.1), p50: quantile(v, 0.5), p90: quantile(v, 0.9), ...extra };
  });
}

function classFractions(r: RegulatedPopulationResult) {
  return r.classes!.flatMap((row, k) => CLASSES.map((c) => ({ t: r.timesMs[k] / 1000, class: c, fraction: row.filter((x) => x === c).length / r.N })));
}

const classLines = (r: RegulatedPopulationResult, ruleAtS?: number) => ({
  width: 560, height: 160,
  layer: [
    {
      data: { values: classFractions(r) },
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'time (s)' },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of cells', scale: { domain: [0, 1] } },
        color: { field: 'class', type: 'nominal', scale: { domain: CLASSES, range: CLASS_COLORS }, title: 'activity' },
      },
    },
    ...(ruleAtS === undefined ? [] : [rule(ruleAtS)]),
  ],
});

const rule = (atS: number) => ({ data: { values: [{ t: atS }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' }, encoding: { x: { field: 't', type: 'quantitative' } } });

const calciumBand = (r: RegulatedPopulationResult, targetUM: number, ruleAtS?: number) => ({
  width: 560, height: 160,
  layer: [
    { data: { values: bands(r, r.meanCaUM!) }, mark: { type: 'area', opacity: 0.3, color: '#1f77b4' }, encoding: { x: { field: 't', type: 'quantitative', title: 'time (s)' }, y: { field: 'p10', type: 'quantitative', title: 'mean [Ca] over the interval (µM)' }, y2: { field: 'p90' } } },
    { data: { values: bands(r, r.meanCaUM!) }, mark: { type: 'line', color: '#1f77b4' }, encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'p50', type: 'quantitative' } } },
    { data: { values: [{ y: targetUM }] }, mark: { type: 'rule', color: '#333', strokeDash: [2, 2] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ...(ruleAtS === undefined ? [] : [rule(ruleAtS)]),
  ],
});

/** Regulated conductances of `cells` sample cells over time (from their initial values), relative to AB/PD 1, one panel per channel. */
export function trajectoriesSpec(r: RegulatedPopulationResult, initial: Record<string, ArrayLike<number>>, cells: number, title: string): TopLevelSpec {
  const values: { t: number; cell: number; channel: string; g: number }[] = [];
  for (const c of r.conductances) {
    for (let i = 0; i < Math.min(cells, r.N); i++) values.push({ t: 0, cell: i, channel: c, g: initial[c][i] / AB_PD_1[c] });
    for (let k = 0; k < r.timesMs.length; k++) {
      for (let i = 0; i < Math.min(cells, r.N); i++) values.push({ t: r.timesMs[k] / 1000, cell: i, channel: c, g: r.g![c][k * r.N + i] / AB_PD_1[c] });
    }
  }
  return {
    title, data: { values },
    facet: { field: 'channel', type: 'nominal', title: null, sort: r.conductances },
    columns: 3,
    spec: {
      width: 200, height: 140,
      mark: { type: 'line', strokeWidth: 1 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'time (s)' },
        y: { field: 'g', type: 'quantitative', title: 'g / g(AB/PD 1)' },
        color: { field: 'cell', type: 'nominal', legend: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** Mean [Ca] (median, 10-90 % across cells) and the class fractions over time. */
export function populationSpec(r: RegulatedPopulationResult, targetUM: number, title: string, knockoutAtS?: number): TopLevelSpec {
  return { title, vconcat: [calciumBand(r, targetUM, knockoutAtS), classLines(r, knockoutAtS)] } as TopLevelSpec;
}

/** Final conductances of every cell for pairs of channels, with the line of slope τ_x/τ_y the rule predicts through the cloud's mean. */
export function correlationSpec(r: RegulatedPopulationResult, pairs: [string, string][], ok: ArrayLike<number>, title: string): TopLevelSpec {
  const panels = pairs.map(([x, y]) => {
    const pts = Array.from(ok, (i) => ({ x: r.finalG[x][i], y: r.finalG[y][i] }));
    const mx = pts.reduce((s, p) => s + p.x, 0) / pts.length, my = pts.reduce((s, p) => s + p.y, 0) / pts.length;
    const slope = AB_PD_1[y] / AB_PD_1[x]; // τ_x/τ_y with τ = K/g(AB/PD 1)
    const xs = pts.map((p) => p.x);
    const lo = Math.min(...xs), hi = Math.max(...xs);
    return {
      width: 180, height: 180,
      layer: [
        { data: { values: pts }, mark: { type: 'circle', size: 16, opacity: 0.6, color: '#1f77b4' }, encoding: { x: { field: 'x', type: 'quantitative', title: `${x} (mS/cm²)`, scale: { zero: false } }, y: { field: 'y', type: 'quantitative', title: `${y} (mS/cm²)`, scale: { zero: false } } } },
        { data: { values: [lo, hi].map((v) => ({ x: v, y: my + slope * (v - mx) })) }, mark: { type: 'line', color: '#d62728' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      ],
    };
  });
  return { title, hconcat: panels } as TopLevelSpec;
}

/** Median conductance of each channel across cells, relative to AB/PD 1, with the knock-out time. */
export function knockoutConductancesSpec(r: RegulatedPopulationResult, atS: number, title: string): TopLevelSpec {
  const values = r.conductances.flatMap((c) => bands(r, r.g![c].map((v) => v / AB_PD_1[c]), { channel: c }));
  return {
    title, width: 560, height: 200,
    layer: [
      { data: { values }, mark: 'line', encoding: { x: { field: 't', type: 'quantitative', title: 'time (s)' }, y: { field: 'p50', type: 'quantitative', title: 'median g / g(AB/PD 1)' }, color: { field: 'channel', type: 'nominal', sort: r.conductances } } },
      rule(atS),
    ],
  } as TopLevelSpec;
}
