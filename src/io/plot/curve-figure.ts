/**
 * A minimally disruptive curve as a Vega-Lite figure: every coordinate's change from the start
 * (log(p/p0) for log-parameters) against signed arc length, the largest changes first in the legend,
 * and below it the cost along the curve with its ceiling.
 */
import { curvePoints, type CurveResult } from '../../jobs/curve/run.ts';
import type { TopLevelSpec } from './figure.ts';
import { numberLabel } from './labels.ts';

export interface CurvePlotOptions {
  /** width of both panels in pixels (default 520) */
  width?: number;
  title?: string;
}

export const CEILING_COLOUR = '#e4572e';

/** The Vega-Lite spec of a curve figure. */
export function curveSpec(r: CurveResult, options: CurvePlotOptions = {}): TopLevelSpec {
  const W = options.width ?? 520;
  const points = curvePoints(r);
  const coords = r.problem.coords;
  const order = r.changes.map((c) => coords.findIndex((l) => l.key === c.key));
  const legendOf = (d: number) => {
    const change = r.changes.find((c) => c.key === coords[d].key)!;
    return `${coords[d].param}${change.factor !== undefined ? ` ×${numberLabel(change.factor)}` : ` Δ${numberLabel(change.range)}`}`;
  };
  const series = order.flatMap((d) => points.map((p) => ({ s: p.s, change: p.coords[d] - r.start.coords[d], parameter: legendOf(d) })));
  const logs = coords.every((c) => c.log);
  const x = { field: 's', type: 'quantitative' as const, title: 'arc length s (coordinate units; negative: the opposite initial direction)', scale: { nice: true } };
  return {
    title: options.title ?? 'minimally disruptive curve',
    vconcat: [
      {
        width: W, height: 260,
        data: { values: series },
        layer: [
          { mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, data: { values: [{ s: 0 }] }, encoding: { x: { field: 's', type: 'quantitative' } } },
          {
            mark: { type: 'line', strokeWidth: 2 },
            encoding: {
              x, y: { field: 'change', type: 'quantitative', title: logs ? 'log(p / p at start)' : 'change from start' },
              color: { field: 'parameter', type: 'nominal', sort: order.map(legendOf), scale: { scheme: 'tableau10' }, title: 'parameter (change)' },
            },
          },
        ],
      },
      {
        width: W, height: 160,
        layer: [
          { data: { values: points.map((p) => ({ s: p.s, cost: p.cost })) }, mark: { type: 'line', color: '#333', strokeWidth: 1.5 }, encoding: { x, y: { field: 'cost', type: 'quantitative', title: 'cost', scale: { zero: false } } } },
          {
            data: { values: [{ ceiling: r.ceiling, label: 'ceiling' }] }, mark: { type: 'rule', color: CEILING_COLOUR, strokeDash: [5, 3] },
            encoding: { y: { field: 'ceiling', type: 'quantitative' } },
          },
          {
            data: { values: [{ ceiling: r.ceiling, label: 'ceiling' }] }, mark: { type: 'text', color: CEILING_COLOUR, align: 'right', dy: -6, x: W },
            encoding: { y: { field: 'ceiling', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}
