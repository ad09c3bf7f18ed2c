/**
 * One simulation as a Vega-Lite figure: the traced quantities against time, one panel per unit
 * (membrane potentials together, calcium together, gates, currents), each line named in a legend,
 * and below them a spike raster with one row per cell. Long traces are decimated to the minimum and
 * maximum of each slice (decimate.ts), so every spike's peak is still drawn.
 */
import type { SimulationResult } from '../../jobs/simulate.ts';
import { decimateMinMax } from './decimate.ts';
import type { TopLevelSpec } from './figure.ts';

export interface SimulationPlotOptions {
  /** panel width in pixels (default 640) */
  width?: number;
  title?: string;
}

const QUANTITY_OF_UNIT: Record<string, string> = {
  mV: 'membrane potential', 'µM': '[Ca]', 'µA/cm²': 'current density', '': 'gate / state', 'mS/cm²': 'conductance density',
};

/** The axis title of a panel of quantities in `unit`. */
export function panelTitle(unit: string): string {
  const quantity = QUANTITY_OF_UNIT[unit] ?? 'value';
  return unit && unit !== '1' ? `${quantity} (${unit})` : 'gate / state (dimensionless)';
}

/** The Vega-Lite spec of a simulation's trace and spike raster. */
export function simulationSpec(r: SimulationResult, options: SimulationPlotOptions = {}): TopLevelSpec {
  const W = options.width ?? 640;
  const time = { field: 't', type: 'quantitative' as const, title: 'time (ms)', scale: { domain: [r.discardMs, r.durationMs], nice: false, zero: false } };
  const panels: unknown[] = [];
  if (r.trace) {
    const byUnit = new Map<string, string[]>();
    for (const name of Object.keys(r.trace.series)) {
      const unit = r.trace.units[name] ?? '';
      byUnit.set(unit, [...(byUnit.get(unit) ?? []), name]);
    }
    const t = r.trace.timesMs;
    // membrane potential first, then calcium, then the rest in the trace's order
    const rank = (u: string) => (u === 'mV' ? 0 : u === 'µM' ? 1 : 2);
    for (const [unit, names] of [...byUnit].sort((a, b) => rank(a[0]) - rank(b[0]))) {
      const values = names.flatMap((name) => {
        const v = r.trace!.series[name];
        return decimateMinMax(v, W).map((i) => ({ t: Number(t[i].toPrecision(9)), v: Number(v[i].toPrecision(7)), quantity: name }));
      });
      panels.push({
        width: W, height: unit === 'mV' ? 200 : 120,
        data: { values },
        mark: { type: 'line', strokeWidth: 1, clip: true },
        encoding: {
          x: { ...time, axis: { title: null, labels: true } }, y: { field: 'v', type: 'quantitative', title: panelTitle(unit), scale: { zero: false } },
          color: { field: 'quantity', type: 'nominal', title: 'traced', scale: { scheme: 'tableau10' }, legend: names.length > 1 ? {} : { title: 'traced' } },
        },
      });
    }
  }
  const rows = r.cells
    ? Object.entries(r.cells).map(([cell, c]) => ({ cell, times: c.spikeTimesMs }))
    : [{ cell: r.model, times: r.spikeTimesMs }];
  const spikes = rows.flatMap(({ cell, times }) => times.map((time) => ({ t: time, cell })));
  panels.push({
    width: W, height: Math.max(40, 24 * rows.length),
    title: { text: `spikes (upward crossings of ${r.spikeThresholdMv} mV): ${rows.map((row) => `${row.cell} ${row.times.length}`).join(', ')}`, fontSize: 11, anchor: 'start' },
    data: { values: spikes },
    mark: { type: 'tick', thickness: 1.5, color: '#222', opacity: 1, clip: true },
    encoding: { x: time, y: { field: 'cell', type: 'nominal', title: 'cell', sort: rows.map((row) => row.cell), scale: { domain: rows.map((row) => row.cell) } } },
  });
  return {
    title: options.title ?? `${r.model}: ${r.durationMs} ms, dt ${r.dtMs} ms, ${r.method}, ${r.engine} engine`,
    vconcat: panels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}
