/**
 * A minimally disruptive curve as SVG: every coordinate's change from the start (log-parameters:
 * log(p/p0)) against signed arc length, largest changes first in the legend, and below it the cost
 * along the curve with its ceiling.
 */
import { line } from 'd3-shape';
import { scaleLinear } from 'd3-scale';
import { schemeTableau10 } from 'd3-scale-chromatic';
import { curvePoints, type CurveResult } from '../../jobs/curve/run.ts';
import { bottomAxis, esc, label, leftAxis, px, svgDocument } from './svg.ts';

export interface CurvePlotOptions {
  width?: number;
  height?: number;
  title?: string;
}

/** Renders a curve as an SVG document. */
export function curveSvg(r: CurveResult, options: CurvePlotOptions = {}): string {
  const width = options.width ?? 760, height = options.height ?? 620;
  const m = { left: 80, right: 190, top: 36, bottom: 56, gap: 60 };
  const points = curvePoints(r);
  const coords = r.problem.coords;
  const x = scaleLinear().domain([Math.min(...points.map((p) => p.s)), Math.max(...points.map((p) => p.s))]).nice().range([m.left, width - m.right]);
  const [x0, x1] = x.range();
  const split = m.top + (height - m.top - m.bottom - m.gap) * 0.62;
  const body: string[] = [];

  // top: change of each coordinate from the start
  const deltas = coords.map((_, d) => points.map((p) => p.coords[d] - r.start.coords[d]));
  const all = deltas.flat();
  const y = scaleLinear().domain([Math.min(0, ...all), Math.max(0, ...all)]).nice().range([split, m.top]);
  const order = r.changes.map((c) => coords.findIndex((l) => l.key === c.key));
  const path = line<number>().x((_, k) => x(points[k].s)).y((v) => y(v));
  order.forEach((d, rank) => {
    const color = schemeTableau10[rank % schemeTableau10.length];
    body.push(`<path class="trajectory" d="${path(deltas[d]) ?? ''}" fill="none" stroke="${color}" stroke-width="${rank < 3 ? 2.2 : 1.2}"><title>${esc(coords[d].key)}</title></path>`);
    const change = r.changes[rank];
    const text = `${coords[d].param}${change.factor !== undefined ? ` ×${label(change.factor)}` : ` Δ${label(change.range)}`}`;
    const ly = m.top + 8 + rank * 18;
    body.push(`<line x1="${px(x1 + 16)}" y1="${px(ly - 4)}" x2="${px(x1 + 40)}" y2="${px(ly - 4)}" stroke="${color}" stroke-width="2.2"/><text x="${px(x1 + 46)}" y="${px(ly)}">${esc(text)}</text>`);
  });
  body.push(`<line x1="${px(x(0))}" y1="${px(m.top)}" x2="${px(x(0))}" y2="${px(split)}" stroke="#999" stroke-dasharray="3,3"/>`);
  body.push(bottomAxis(x, split, x0, x1, ''));
  const logs = coords.every((c) => c.log);
  body.push(leftAxis(y, x0, split, m.top, logs ? 'log(p / p at start)' : 'change from start'));

  // bottom: cost and its ceiling
  const yTop = split + m.gap, yBottom = height - m.bottom;
  const costs = points.map((p) => p.cost);
  const yc = scaleLinear().domain([Math.min(r.start.cost, ...costs), Math.max(r.ceiling, ...costs)]).nice().range([yBottom, yTop]);
  const costPath = line<number>().x((_, k) => x(points[k].s)).y((c) => yc(c));
  body.push(`<line class="ceiling" x1="${px(x0)}" y1="${px(yc(r.ceiling))}" x2="${px(x1)}" y2="${px(yc(r.ceiling))}" stroke="#e4572e" stroke-dasharray="5,3"/>`);
  body.push(`<text x="${px(x1 + 6)}" y="${px(yc(r.ceiling) + 4)}" fill="#e4572e">ceiling</text>`);
  body.push(`<path class="cost" d="${costPath(costs) ?? ''}" fill="none" stroke="#333" stroke-width="1.5"/>`);
  body.push(bottomAxis(x, yBottom, x0, x1, 'arc length s (negative: the opposite initial direction)'));
  body.push(leftAxis(yc, x0, yBottom, yTop, 'cost'));
  body.push(`<text x="${px((x0 + x1) / 2)}" y="22" text-anchor="middle" font-size="14">${esc(options.title ?? 'minimally disruptive curve')}</text>`);
  return svgDocument(width, height, body);
}
