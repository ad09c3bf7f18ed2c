/**
 * A minimally disruptive curve as a Vega-Lite figure: every coordinate's change from the start
 * (log(p/p0) for log-parameters) against signed arc length, the largest changes first in the legend,
 * and below it the cost along the curve with its ceiling. Points whose direction cannot be trusted
 * (their JᵀJ moved by 2 % or more under f32-level perturbation: jobs/cost/conditioning.ts) are marked
 * on both panels by hollow amber circles, as the landscape marks its untrusted arrows.
 */
import { curvePoints, type CurveResult } from '../../jobs/curve/run.ts';
import type { TopLevelSpec } from './figure.ts';
import { numberLabel } from './labels.ts';
import { UNTRUSTED_ARROW } from './landscape-figure.ts';

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
  const untrusted = points.filter((p) => p.jacobianTrusted === false);
  const marked = { type: 'point' as const, shape: 'circle', size: 60, filled: false, color: UNTRUSTED_ARROW, strokeWidth: 1.5, opacity: 1 };
  const untrustedLayer = (values: Record<string, unknown>[], y: Record<string, unknown>) => (untrusted.length
    ? [{ data: { values }, mark: marked, encoding: { x, y, tooltip: [{ field: 's', type: 'quantitative' }, { field: 'spread', type: 'quantitative', title: 'JᵀJ spread', format: '.2%' }] } }]
    : []);
  const subtitle = r.conditioning
    ? `${untrusted.length} of ${points.length} points ill conditioned (hollow amber: JᵀJ moved ≥ 2 % under f32-level perturbation)`
    : undefined;
  return {
    title: subtitle ? { text: options.title ?? 'minimally disruptive curve', subtitle } : options.title ?? 'minimally disruptive curve',
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
          ...untrustedLayer(order.flatMap((d) => untrusted.map((p) => ({ s: p.s, change: p.coords[d] - r.start.coords[d], spread: p.jacobianSpread }))),
            { field: 'change', type: 'quantitative' }),
        ],
      },
      {
        width: W, height: 160,
        layer: [
          { data: { values: points.map((p) => ({ s: p.s, cost: p.cost })) }, mark: { type: 'line', color: '#333', strokeWidth: 1.5 }, encoding: { x, y: { field: 'cost', type: 'quantitative', title: 'cost', scale: { zero: false } } } },
          ...untrustedLayer(untrusted.map((p) => ({ s: p.s, cost: p.cost, spread: p.jacobianSpread })), { field: 'cost', type: 'quantitative' }),
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
