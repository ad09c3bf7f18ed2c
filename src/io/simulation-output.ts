/** Formats a SimulationResult as JSON or CSV, and its trace as NPY. */
import { InputError } from '../errors.ts';
import type { SimulationResult } from '../jobs/simulate.ts';
import { encodeNpy } from './npy.ts';

/**
 * The JSON document of `ionsweep simulate`; `traceFile` replaces inline trace arrays. A network's
 * spikes, observables and tangents are given per cell (`cells`), with the network's class and features
 * (`network`), instead of the single neuron's top-level fields.
 */
export function simulationJson(r: SimulationResult, traceFile?: string): Record<string, unknown> {
  const perRun = {
    ...(r.cells ? { cells: r.cells, network: r.network } : { spikeCount: r.spikeCount, spikeTimesMs: r.spikeTimesMs, ...r.observables, tangents: r.tangents }),
    ...(r.tangentConditioning ? { tangentConditioning: r.tangentConditioning } : {}),
  };
  const doc: Record<string, unknown> = {
    model: r.model,
    method: r.method,
    dtMs: r.dtMs,
    durationMs: r.durationMs,
    discardMs: r.discardMs,
    init: r.init,
    engine: r.engine,
    device: r.device,
    ...(r.engineNote ? { engineNote: r.engineNote } : {}),
    spikeThresholdMv: r.spikeThresholdMv,
    ...perRun,
    params: r.params,
    stimulus: r.stimulus,
    wallMs: Math.round(r.wallMs * 1000) / 1000,
  };
  if (r.trace) {
    const columns = ['tMs', ...Object.keys(r.trace.series)];
    doc.trace = traceFile
      ? { npy: traceFile, columns, samples: r.trace.timesMs.length }
      : { tMs: Array.from(r.trace.timesMs), ...Object.fromEntries(Object.entries(r.trace.series).map(([k, v]) => [k, Array.from(v)])) };
  }
  return doc;
}

const csvCell = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** CSV: the trace (one row per sample) when there is one, else one row of observables and tangents. */
export function simulationCsv(r: SimulationResult): string {
  if (r.trace) {
    const names = Object.keys(r.trace.series);
    const rows = [['tMs', ...names].join(',')];
    for (let k = 0; k < r.trace.timesMs.length; k++) rows.push([r.trace.timesMs[k], ...names.map((n) => r.trace!.series[n][k])].join(','));
    return rows.join('\n') + '\n';
  }
  const perRun: [string, unknown][] = r.cells
    ? [
      ['networkClass', r.network!.class], ['networkPeriodMs', r.network!.periodMs],
      ...Object.entries(r.cells).flatMap(([cell, c]) => [
        [`${cell}.class`, c.activity.class], [`${cell}.spikeCount`, c.spikeCount], [`${cell}.spikeTimesMs`, c.spikeTimesMs.join(' ')],
        ...Object.entries(c.observables).map(([k, v]) => [`${cell}.${k}`, v]),
        ...Object.entries(c.tangents).flatMap(([obs, byParam]) => Object.entries(byParam).map(([p, v]) => [`d_${cell}.${obs}/d_${p}`, v])),
      ] as [string, unknown][]),
    ]
    : [
      ['spikeCount', r.spikeCount], ['spikeTimesMs', r.spikeTimesMs.join(' ')],
      ...Object.entries(r.observables),
      ...Object.entries(r.tangents).flatMap(([obs, byParam]) => Object.entries(byParam).map(([p, v]) => [`d_${obs}/d_${p}`, v] as [string, unknown])),
    ];
  const cells: [string, unknown][] = [
    ['model', r.model], ['method', r.method], ['dtMs', r.dtMs], ['durationMs', r.durationMs], ['discardMs', r.discardMs],
    ['engine', r.engine], ...perRun,
  ];
  return `${cells.map(([k]) => k).join(',')}\n${cells.map(([, v]) => csvCell(v)).join(',')}\n`;
}

/**
 * The JSON sidecar of a trace's NPY file (written as <file>.json): its columns' names and units, so
 * a reader need not know the order.
 */
export function traceSidecar(r: SimulationResult, npyFile: string): string {
  if (!r.trace) throw new InputError('no trace to describe: add --trace-every-ms');
  const names = Object.keys(r.trace.series);
  return npySidecar(npyFile, r.trace.timesMs.length, names.map((n) => ({ name: n, unit: r.trace!.units[n] ?? '' })),
    { model: r.model, dtMs: r.dtMs, durationMs: r.durationMs, discardMs: r.discardMs });
}

/**
 * The JSON sidecar of a float64 NPY trace of shape (samples, 1 + columns): tMs (ms), then the given
 * columns, with their units; `about` adds fields that say what was run. Sweep traces have the same.
 */
export function npySidecar(npyFile: string, samples: number, columns: readonly { name: string; unit: string }[], about: Record<string, unknown>): string {
  return JSON.stringify({
    npy: npyFile, shape: [samples, 1 + columns.length], dtype: 'float64',
    columns: ['tMs', ...columns.map((c) => c.name)], units: ['ms', ...columns.map((c) => c.unit)],
    ...about,
  }, null, 2) + '\n';
}

/**
 * One line naming the tangents that f32-level rounding moves by more than the tolerance, or null when
 * every tangent can be trusted (or none was measured).
 */
export function untrustedTangentsNote(r: SimulationResult): string | null {
  if (!r.tangentConditioning) return null;
  const bad = Object.entries(r.tangentConditioning).flatMap(([obs, lanes]) => Object.entries(lanes).filter(([, c]) => !c.trusted).map(([lane, c]) => `d ${obs}/d ${lane} (±${c.relative !== null ? `${(100 * c.relative).toPrecision(2)} %` : c.spread.toPrecision(2)})`));
  if (!bad.length) return null;
  const total = Object.values(r.tangentConditioning).reduce((n, lanes) => n + Object.keys(lanes).length, 0);
  return `${bad.length} of ${total} tangents are ill conditioned (rounding at f32's size moves them by more than 1 %): ${bad.join(', ')}; see README, "Gradients you can trust" (tapered means, shorter windows)`;
}

/** The trace as an NPY array of shape (samples, 1 + quantities): columns tMs, then each traced quantity. */
export function traceNpy(r: SimulationResult): Uint8Array {
  if (!r.trace) throw new InputError('no trace to write: add --trace-every-ms');
  const names = Object.keys(r.trace.series);
  const S = r.trace.timesMs.length, C = 1 + names.length;
  const data = new Float64Array(S * C);
  for (let k = 0; k < S; k++) {
    data[k * C] = r.trace.timesMs[k];
    names.forEach((n, c) => (data[k * C + 1 + c] = r.trace!.series[n][k]));
  }
  return encodeNpy(data, [S, C]);
}
