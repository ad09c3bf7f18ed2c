/**
 * A cost landscape as a Vega-Lite figure: a heatmap of log10(cost) with its colour bar, contour
 * lines (d3-contour), arrows along −gradient (the direction in which the cost falls fastest in the
 * plotted coordinates), the grid minimum, and axes in parameter values (log axes for log:
 * coordinates). Arrows whose gradient is ill conditioned (jobs/cost/conditioning.ts) are drawn
 * hollow and dashed, in amber, so a reader knows not to follow them.
 */
import { contours } from 'd3-contour';
import { finiteMinimum, type LandscapeResult } from '../../jobs/landscape.ts';
import type { TopLevelSpec } from './figure.ts';
import { parameterUnit, withUnit } from './labels.ts';

export interface LandscapePlotOptions {
  /** plot area in pixels (default 460 × 400) */
  width?: number;
  height?: number;
  /** number of contour levels (evenly spaced in log10 cost). Default 10. */
  levels?: number;
  /** at most this many arrows along each axis. Default 15. */
  arrows?: number;
  title?: string;
}

export type LandscapePlotInput = Pick<LandscapeResult, 'x' | 'y' | 'cost' | 'gradient'> & Partial<Pick<LandscapeResult, 'conditioning'>> & {
  /** the cost problem, whose model gives the axes' units (else they are read off the parameter names) */
  problem?: { setup: { model: { params: Record<string, { unit: string }> } } };
};

export const TRUSTED_ARROW = '#ffffff';
export const UNTRUSTED_ARROW = '#ffb000';
export const MASKED_CELL = '#c8c8c8';

/**
 * log10 of the cost, zeros lifted to the smallest positive cost; NaN where the cost is not finite
 * (diverged points: masked cells).
 */
function logCost(cost: Float64Array): { values: Float64Array; lo: number; hi: number; any: boolean } {
  let minPositive = Infinity;
  for (const c of cost) if (c > 0 && c < minPositive) minPositive = c;
  if (!Number.isFinite(minPositive)) minPositive = 1e-300;
  const values = cost.map((c) => (Number.isFinite(c) ? Math.log10(Math.max(c, minPositive)) : NaN));
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const any = lo <= hi;
  if (!any) [lo, hi] = [0, 1];
  else if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
  return { values, lo, hi, any };
}

const round = (v: number) => Number(v.toPrecision(7));

/** The Vega-Lite spec of a landscape figure. */
export function landscapeSpec(r: LandscapePlotInput, options: LandscapePlotOptions = {}): TopLevelSpec {
  const W = options.width ?? 460, H = options.height ?? 400;
  const nx = r.x.coords.length, ny = r.y.coords.length;
  const sx = (r.x.coords[nx - 1] - r.x.coords[0]) / (nx - 1), sy = (r.y.coords[ny - 1] - r.y.coords[0]) / (ny - 1);
  // plotted domain in coordinates: grid point k is the centre of cell k, spanning ±half a step
  const [cx0, cx1] = [r.x.coords[0] - sx / 2, r.x.coords[nx - 1] + sx / 2].sort((a, b) => a - b);
  const [cy0, cy1] = [r.y.coords[0] - sy / 2, r.y.coords[ny - 1] + sy / 2].sort((a, b) => a - b);
  const vx = (c: number) => (r.x.lane.log ? Math.exp(c) : c), vy = (c: number) => (r.y.lane.log ? Math.exp(c) : c);
  const { values, lo, hi, any } = logCost(r.cost);

  const cells: Record<string, number | null>[] = [], masked: Record<string, number>[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const v = values[iy * nx + ix];
      const cell = { x: round(vx(r.x.coords[ix] - sx / 2)), x2: round(vx(r.x.coords[ix] + sx / 2)), y: round(vy(r.y.coords[iy] - sy / 2)), y2: round(vy(r.y.coords[iy] + sy / 2)) };
      if (Number.isFinite(v)) cells.push({ ...cell, logCost: round(v) });
      else masked.push(cell);
    }
  }

  // contours of log10 cost in grid space (value k at k + 0.5), each ring a line of its own
  const levels = options.levels ?? 10;
  const thresholds = Array.from({ length: levels }, (_, k) => lo + ((hi - lo) * (k + 0.5)) / levels);
  // d3-contour refuses NaN: masked cells count as the top level, so lines skirt their edge
  const filled = Array.from(values, (v) => (Number.isFinite(v) ? v : hi));
  const lines: Record<string, number>[] = [];
  let ring = 0;
  if (any) {
    for (const c of contours().size([nx, ny]).thresholds(thresholds)(filled)) {
      for (const polygon of c.coordinates) {
        for (const points of polygon) {
          points.forEach(([gx, gy], order) => lines.push({ ring, order, level: round(c.value), x: round(vx(r.x.coords[0] + (gx - 0.5) * sx)), y: round(vy(r.y.coords[0] + (gy - 0.5) * sy)) }));
          ring++;
        }
      }
    }
  }

  // arrows along −gradient on a subsampled grid, all of one length in pixels (direction only)
  const kx = W / (cx1 - cx0), ky = H / (cy1 - cy0);
  const per = options.arrows ?? 15;
  const stepX = Math.max(1, Math.ceil(nx / per)), stepY = Math.max(1, Math.ceil(ny / per));
  const len = 0.4 * Math.min(Math.abs(sx) * kx * stepX, Math.abs(sy) * ky * stepY);
  const arrows: Record<string, number | string>[] = [];
  for (let iy = Math.floor(stepY / 2); iy < ny; iy += stepY) {
    for (let ix = Math.floor(stepX / 2); ix < nx; ix += stepX) {
      const k = iy * nx + ix;
      // screen pixels: x to the right, y down
      const dx = -r.gradient[0][k] * kx, dy = r.gradient[1][k] * ky;
      const norm = Math.hypot(dx, dy);
      if (!(norm > 0) || !Number.isFinite(norm)) continue;
      const [ux, uy] = [dx / norm, dy / norm];
      const [cx, cy] = [r.x.coords[ix], r.y.coords[iy]];
      const trusted = r.conditioning ? r.conditioning.trusted[k] === 1 : true;
      arrows.push({
        x: round(vx(cx - (ux * len) / 2 / kx)), y: round(vy(cy + (uy * len) / 2 / ky)),
        x2: round(vx(cx + (ux * len) / 2 / kx)), y2: round(vy(cy - (uy * len) / 2 / ky)),
        angle: round((Math.atan2(ux, -uy) * 180) / Math.PI),
        gradient: trusted ? 'trusted' : 'ill conditioned',
      });
    }
  }
  const best = finiteMinimum(r.cost);
  const axis = (lane: LandscapeResult['x']['lane'], c0: number, c1: number, toValue: (c: number) => number) => ({
    type: 'quantitative' as const,
    title: `${withUnit(lane.param, parameterUnit(lane.param, r.problem?.setup.model.params))}${lane.log ? ', log scale' : ''}`,
    scale: { type: lane.log ? ('log' as const) : ('linear' as const), domain: [round(toValue(c0)), round(toValue(c1))], nice: false, ...(lane.log ? {} : { zero: false }) },
  });
  const xEnc = { field: 'x', ...axis(r.x.lane, cx0, cx1, vx) }, yEnc = { field: 'y', ...axis(r.y.lane, cy0, cy1, vy) };
  const strokeScale = { domain: ['trusted', 'ill conditioned'], range: [TRUSTED_ARROW, UNTRUSTED_ARROW] };
  const untrusted = arrows.filter((a) => a.gradient !== 'trusted').length;
  const layers: unknown[] = [
    {
      data: { values: cells }, mark: { type: 'rect', strokeWidth: 0 },
      encoding: { x: xEnc, x2: { field: 'x2' }, y: yEnc, y2: { field: 'y2' }, color: { field: 'logCost', type: 'quantitative', title: 'log10 cost', scale: { scheme: 'viridis', domain: [round(lo), round(hi)] }, legend: { gradientLength: H - 40, orient: 'right' } } },
    },
  ];
  if (masked.length) layers.push({ data: { values: masked }, mark: { type: 'rect', fill: MASKED_CELL, strokeWidth: 0 }, encoding: { x: xEnc, x2: { field: 'x2' }, y: yEnc, y2: { field: 'y2' } } });
  if (lines.length) layers.push({ data: { values: lines }, mark: { type: 'line', stroke: 'white', strokeOpacity: 0.75, strokeWidth: 1, interpolate: 'linear' }, encoding: { x: xEnc, y: yEnc, detail: { field: 'ring', type: 'nominal' }, order: { field: 'order', type: 'quantitative' } } });
  if (arrows.length) {
    layers.push({
      data: { values: arrows }, mark: { type: 'rule', strokeWidth: 1.4 },
      encoding: {
        x: xEnc, y: yEnc, x2: { field: 'x2' }, y2: { field: 'y2' },
        stroke: { field: 'gradient', type: 'nominal', scale: strokeScale, title: 'arrows: −gradient', legend: { orient: 'bottom', fillColor: '#555', labelColor: 'white', titleColor: 'white', padding: 4, symbolType: 'stroke' } },
        strokeDash: { condition: { test: "datum.gradient !== 'trusted'", value: [4, 2] }, value: [1, 0] },
      },
    });
    layers.push({
      data: { values: arrows }, mark: { type: 'point', shape: 'triangle-up', size: 40, strokeWidth: 1.4, opacity: 1 },
      encoding: {
        x: { field: 'x2', ...axis(r.x.lane, cx0, cx1, vx) }, y: { field: 'y2', ...axis(r.y.lane, cy0, cy1, vy) }, angle: { field: 'angle', type: 'quantitative', scale: null },
        stroke: { field: 'gradient', type: 'nominal', scale: strokeScale },
        fill: { condition: { test: "datum.gradient === 'trusted'", value: TRUSTED_ARROW }, value: 'transparent' },
        fillOpacity: { value: 1 },
      },
    });
  }
  if (best >= 0) {
    layers.push({
      data: { values: [{ x: round(r.x.values[best % nx]), y: round(r.y.values[Math.floor(best / nx)]), label: 'grid minimum' }] },
      mark: { type: 'point', shape: 'cross', size: 140, filled: true, color: '#e4572e', stroke: 'white', strokeWidth: 0.8, opacity: 1 },
      encoding: { x: xEnc, y: yEnc, tooltip: { field: 'label' } },
    });
  }
  const notes = [
    masked.length ? `${masked.length} diverged point${masked.length > 1 ? 's' : ''} (grey)` : '',
    r.conditioning ? `${untrusted} of ${arrows.length} arrows ill conditioned (hollow)` : '',
  ].filter(Boolean).join('; ');
  return {
    width: W, height: H,
    title: { text: options.title ?? 'cost landscape (arrows: −gradient)', ...(notes ? { subtitle: notes } : {}) },
    layer: layers,
    resolve: { scale: { stroke: 'shared' } },
  } as TopLevelSpec;
}
