/**
 * A cost landscape as SVG: a heatmap of log10(cost), contour lines (d3-contour, drawn with d3-geo's
 * geoPath through a planar transform) and arrows along the negative gradient, the direction in
 * which the cost falls fastest in the plotted coordinates.
 */
import { contours } from 'd3-contour';
import { geoPath, geoTransform } from 'd3-geo';
import { scaleLinear, scaleLog, scaleSequential } from 'd3-scale';
import { interpolateViridis } from 'd3-scale-chromatic';
import { finiteMinimum, type LandscapeResult } from '../../jobs/landscape.ts';
import { bottomAxis, esc, label, leftAxis, px, svgDocument, type AxisScale } from './svg.ts';

export interface LandscapePlotOptions {
  width?: number;
  height?: number;
  /** number of contour levels (evenly spaced in log10 cost). Default 10. */
  levels?: number;
  /** at most this many arrows along each axis. Default 15. */
  arrows?: number;
  title?: string;
}

/**
 * The plotted quantity: log10 of the cost, with zeros lifted to the smallest positive cost; NaN where
 * the cost is not finite (diverged points: drawn as masked cells). `any`: some value is finite.
 */
function logCost(cost: Float64Array): { values: Float64Array; lo: number; hi: number; any: boolean } {
  let minPositive = Infinity, max = -Infinity;
  for (const c of cost) {
    if (c > 0 && c < minPositive) minPositive = c;
    if (c > max) max = c;
  }
  if (!Number.isFinite(minPositive)) minPositive = 1e-300;
  const values = cost.map((c) => (Number.isFinite(c) ? Math.log10(Math.max(c, minPositive)) : NaN));
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const any = lo <= hi;
  if (!any) [lo, hi] = [0, 1];
  else if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
  return { values, lo, hi, any };
}

/** Renders a landscape as an SVG document. */
export function landscapeSvg(r: Pick<LandscapeResult, 'x' | 'y' | 'cost' | 'gradient'>, options: LandscapePlotOptions = {}): string {
  const width = options.width ?? 680, height = options.height ?? 560;
  const m = { left: 80, right: 110, top: 36, bottom: 56 };
  const nx = r.x.coords.length, ny = r.y.coords.length;
  const [x0, x1, y0, y1] = [m.left, width - m.right, height - m.bottom, m.top];
  // coordinate steps: grid point k is the centre of cell k, spanning ±half a step
  const sx = (r.x.coords[nx - 1] - r.x.coords[0]) / (nx - 1), sy = (r.y.coords[ny - 1] - r.y.coords[0]) / (ny - 1);
  const cx = scaleLinear().domain([r.x.coords[0] - sx / 2, r.x.coords[nx - 1] + sx / 2]).range([x0, x1]);
  const cy = scaleLinear().domain([r.y.coords[0] - sy / 2, r.y.coords[ny - 1] + sy / 2]).range([y0, y1]);
  const { values, lo, hi, any } = logCost(r.cost);
  const color = scaleSequential(interpolateViridis).domain([lo, hi]);
  const body: string[] = [];

  // heatmap cells
  const cw = Math.abs(cx(sx) - cx(0)), ch = Math.abs(cy(sy) - cy(0));
  const cells: string[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const v = values[iy * nx + ix];
      // a masked cell: the cost there is not finite (the model diverged)
      const fill = Number.isFinite(v) ? color(v) : '#ccc';
      cells.push(`<rect x="${px(cx(r.x.coords[ix]) - cw / 2)}" y="${px(cy(r.y.coords[iy]) - ch / 2)}" width="${px(cw + 0.3)}" height="${px(ch + 0.3)}" fill="${fill}"${Number.isFinite(v) ? '' : ' class="masked"'}/>`);
    }
  }
  body.push(`<g class="heatmap">${cells.join('')}</g>`);

  // contours of log10 cost, in grid space (value k at k + 0.5), mapped to pixels
  const levels = options.levels ?? 10;
  const thresholds = Array.from({ length: levels }, (_, k) => lo + ((hi - lo) * (k + 0.5)) / levels);
  const gridToPixel = geoTransform({
    point(gx: number, gy: number) {
      this.stream.point(cx(r.x.coords[0] + (gx - 0.5) * sx), cy(r.y.coords[0] + (gy - 0.5) * sy));
    },
  });
  const path = geoPath(gridToPixel);
  // d3-contour refuses NaN: masked cells count as the top level, so lines skirt their edge
  const filled = Array.from(values, (v) => (Number.isFinite(v) ? v : hi));
  const lines = (any ? contours().size([nx, ny]).thresholds(thresholds)(filled) : [])
    .map((c) => `<path class="contour" d="${path(c) ?? ''}" fill="none" stroke="white" stroke-opacity="0.75" stroke-width="1"><title>log10 cost = ${label(c.value)}</title></path>`);
  body.push(`<g class="contours">${lines.join('')}</g>`);

  // arrows along −gradient, on a subsampled grid, all of one length (direction only)
  const per = options.arrows ?? 15;
  const stepX = Math.max(1, Math.ceil(nx / per)), stepY = Math.max(1, Math.ceil(ny / per));
  const len = 0.4 * Math.min(cw * stepX, ch * stepY);
  const arrows: string[] = [];
  for (let iy = Math.floor(stepY / 2); iy < ny; iy += stepY) {
    for (let ix = Math.floor(stepX / 2); ix < nx; ix += stepX) {
      const k = iy * nx + ix;
      // a coordinate-space vector (−gx, −gy) in pixels: scale by the pixels per coordinate unit
      const dx = -r.gradient[0][k] * (cx(1) - cx(0)), dy = -r.gradient[1][k] * (cy(1) - cy(0));
      const norm = Math.hypot(dx, dy);
      if (!(norm > 0) || !Number.isFinite(norm)) continue;
      const [ax, ay] = [cx(r.x.coords[ix]), cy(r.y.coords[iy])];
      arrows.push(`<line x1="${px(ax - (dx / norm) * len / 2)}" y1="${px(ay - (dy / norm) * len / 2)}" x2="${px(ax + (dx / norm) * len / 2)}" y2="${px(ay + (dy / norm) * len / 2)}" marker-end="url(#head)"/>`);
    }
  }
  body.push('<defs><marker id="head" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#fff"/></marker></defs>');
  body.push(`<g class="arrows" stroke="#fff" stroke-width="1.2">${arrows.join('')}</g>`);

  // the grid minimum, over finite costs only
  const best = finiteMinimum(r.cost);
  const [bx, by] = best >= 0 ? [cx(r.x.coords[best % nx]), cy(r.y.coords[Math.floor(best / nx)])] : [NaN, NaN];
  if (best >= 0) body.push(`<g class="minimum" stroke="#e4572e" stroke-width="2.5"><line x1="${px(bx - 6)}" y1="${px(by - 6)}" x2="${px(bx + 6)}" y2="${px(by + 6)}"/><line x1="${px(bx - 6)}" y1="${px(by + 6)}" x2="${px(bx + 6)}" y2="${px(by - 6)}"/></g>`);

  // axes labelled in parameter values (a log axis in log-spaced ticks)
  const axisScale = (lane: LandscapeResult['x']['lane'], scale: typeof cx): AxisScale => {
    const [a, b] = scale.domain(), range = scale.range() as [number, number];
    return lane.log ? scaleLog().domain([Math.exp(a), Math.exp(b)]).range(range) : scaleLinear().domain([a, b]).range(range);
  };
  const axisTitle = (lane: LandscapeResult['x']['lane']) => `${lane.param}${lane.log ? ' (log scale)' : ''}`;
  body.push(bottomAxis(axisScale(r.x.lane, cx), y0, x0, x1, axisTitle(r.x.lane)));
  body.push(leftAxis(axisScale(r.y.lane, cy), x0, y0, y1, axisTitle(r.y.lane)));

  // colour bar
  const barX = x1 + 24, barW = 14, steps = 64;
  const bar = scaleLinear().domain([lo, hi]).range([y0, y1]);
  const slices: string[] = [];
  for (let k = 0; k < steps; k++) {
    const v = lo + ((hi - lo) * (k + 0.5)) / steps;
    slices.push(`<rect x="${barX}" y="${px(bar(lo + ((hi - lo) * (k + 1)) / steps))}" width="${barW}" height="${px(Math.abs(bar(0) - bar((hi - lo) / steps)) + 0.5)}" fill="${color(v)}"/>`);
  }
  body.push(`<g class="colorbar">${slices.join('')}</g>`);
  for (const t of bar.ticks(6)) body.push(`<text x="${barX + barW + 4}" y="${px(bar(t) + 4)}">${esc(label(t))}</text>`);
  const masked = values.filter((v) => !Number.isFinite(v)).length;
  if (masked > 0) body.push(`<g class="masked-legend"><rect x="${barX}" y="${px(y0 + 22)}" width="${barW}" height="10" fill="#ccc"/><text x="${barX + barW + 4}" y="${px(y0 + 31)}">diverged (${masked})</text></g>`);
  body.push(`<text transform="translate(${barX + barW + 44},${px((y0 + y1) / 2)}) rotate(90)" text-anchor="middle">log10 cost</text>`);
  body.push(`<text x="${px((x0 + x1) / 2)}" y="22" text-anchor="middle" font-size="14">${esc(options.title ?? 'cost landscape (arrows: −gradient)')}</text>`);
  return svgDocument(width, height, body);
}
