/**
 * O'Leary, Williams, Franci & Marder (2014) on ionsweep: a population of regulated prinz cells from
 * random initial conductances (setup.ts), and the same population with a channel knocked out once it
 * has settled. Writes summary.json and the figures (SVG, with their Vega-Lite specs) into --out.
 *
 *     deno run -A examples/regulation/oleary-2014.ts [--cells 512] [--seconds 300]
 *        [--knockout gA] [--knockout-at-s 200] [--knockout-cells 256] [--knockout-seconds 400]
 *        [--interval-s 10] [--engine gpu|cpu] [--out examples/regulation/results]
 *
 * Numbers and timings of the committed run are in README.md ("Homeostatic regulation").
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { correlationMatrix, majorAxisSlope } from '../../src/analysis/population-stats.ts';
import { writeFigure } from '../../src/io/plot/figure.ts';
import { runRegulatedPopulation, type RegulatedPopulationResult } from '../../src/jobs/regulated-population.ts';
import { AB_PD_1, regulation, initialTable, TARGET_UM } from './setup.ts';
import { correlationSpec, knockoutConductancesSpec, populationSpec, trajectoriesSpec } from './figures.ts';

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    cells: { type: 'string', default: '512' }, seconds: { type: 'string', default: '300' },
    knockout: { type: 'string', default: 'gA' }, 'knockout-at-s': { type: 'string', default: '200' },
    'knockout-cells': { type: 'string', default: '256' }, 'knockout-seconds': { type: 'string', default: '400' },
    'interval-s': { type: 'string', default: '10' }, engine: { type: 'string', default: 'gpu' },
    out: { type: 'string', default: 'examples/regulation/results' }, only: { type: 'string' },
  },
});
const out = flags.out!;
mkdirSync(out, { recursive: true });
const engine = flags.engine as 'gpu' | 'cpu';
const intervalMs = 1000 * Number(flags['interval-s']);
const summary: Record<string, unknown> = {};

function classCounts(classes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of classes) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

/** The population's statistics; the conductances in `without` (knocked out) are left out of correlations and slopes. */
function describe(r: RegulatedPopulationResult, seconds: number, without: string[] = []) {
  const ok = Int32Array.from({ length: r.N }, (_, i) => i).filter((i) => Number.isNaN(r.divergedAtMs[i]));
  const names = Object.keys(AB_PD_1).filter((g) => !without.includes(g));
  const slopes: Record<string, number> = {};
  for (const [a, x] of names.entries()) for (const y of names.slice(a + 1)) slopes[`${y} vs ${x}`] = majorAxisSlope(r.finalG[x], r.finalG[y], ok) / (AB_PD_1[y] / AB_PD_1[x]);
  const ratios = Object.values(slopes).sort((p, q) => p - q);
  const corr = correlationMatrix(r.finalG, names, ok);
  const offDiagonal = corr.flatMap((row, i) => row.filter((_, j) => j > i));
  return {
    cells: r.N, biologicalSeconds: seconds, intervalS: intervalMs / 1000, engine: r.engine, device: r.device,
    wallS: Math.round(r.wallMs / 100) / 10,
    cellHoursPerWallSecond: (r.N * seconds) / 3600 / (r.wallMs / 1000),
    diverged: r.N - ok.length,
    finalClasses: classCounts(r.finalClass),
    reachedTargetWithin10Percent: r.reachedTarget.filter(Boolean).length / r.N,
    // the rule does not keep a conductance positive: cells whose final value fell below 0
    negativeFinalConductances: Object.fromEntries(names.map((g) => [g, Array.from(ok, (i) => r.finalG[g][i]).filter((v) => v < 0).length])),
    correlations: { names, matrix: corr.map((row) => row.map((x) => Math.round(x * 1000) / 1000)), min: Math.min(...offDiagonal), median: offDiagonal.sort((p, q) => p - q)[Math.floor(offDiagonal.length / 2)] },
    majorAxisSlopeOverTauRatio: { pairs: slopes, min: ratios[0], median: ratios[Math.floor(ratios.length / 2)], max: ratios[ratios.length - 1] },
  };
}

const progress = (label: string) => (f: number) => Deno.stderr.writeSync(new TextEncoder().encode(`\r${label} ${(100 * f).toFixed(1)} %   `));

if (!flags.only || flags.only === 'population') {
  const N = Number(flags.cells), seconds = Number(flags.seconds);
  const initial = initialTable(N, 20140301);
  const r = await runRegulatedPopulation({
    model: 'prinz', regulation, N, params: initial, durationMs: seconds * 1000, intervalMs, dtMs: 0.05, engine, onProgress: progress('population'),
  });
  const d = describe(r, seconds);
  summary.population = d;
  console.log(JSON.stringify({ population: d }));
  const ok = Int32Array.from({ length: r.N }, (_, i) => i).filter((i) => Number.isNaN(r.divergedAtMs[i]));
  const fig = (name: string) => ({ svg: join(out, `${name}.svg`), spec: join(out, `${name}.vl.json`) });
  for (const [name, spec] of [
    ['population-conductances', trajectoriesSpec(r, initial, 16, `${N} regulated cells from random conductances: 16 of them`)],
    ['population-activity', populationSpec(r, TARGET_UM, `${N} regulated cells: mean [Ca] (median, 10-90 %) and activity`)],
    ['population-correlations', correlationSpec(r, [['gNa', 'gKd'], ['gA', 'gKd'], ['gCaS', 'gKCa']], ok, `final conductances of ${ok.length} cells; red: slope τx/τy through the mean`)],
  ] as const) await writeFigure(fig(name).svg, spec, { specPath: fig(name).spec });
}

if (!flags.only || flags.only === 'knockout') {
  const N = Number(flags['knockout-cells']), seconds = Number(flags['knockout-seconds']), atS = Number(flags['knockout-at-s']);
  const r = await runRegulatedPopulation({
    model: 'prinz', regulation, N, params: initialTable(N, 20140302), durationMs: seconds * 1000, intervalMs, dtMs: 0.05, engine,
    knockouts: [{ conductance: flags.knockout!, atMs: atS * 1000 }], onProgress: progress('knockout'),
  });
  const at = Math.round(atS * 1000 / intervalMs) - 1; // the last interval before the knock-out
  const d = {
    ...describe(r, seconds, [flags.knockout!]),
    knockout: flags.knockout, atS,
    classesBefore: classCounts(r.classes![at]),
    classesJustAfter: classCounts(r.classes![at + 1]),
    classesAtEnd: classCounts(r.finalClass),
    medianMeanCaUM: { before: median(r.meanCaUM!.subarray(at * N, (at + 1) * N)), justAfter: median(r.meanCaUM!.subarray((at + 1) * N, (at + 2) * N)), end: median(r.finalMeanCaUM) },
    medianConductanceChange: Object.fromEntries(Object.keys(AB_PD_1).map((g) => [g, median(Float32Array.from({ length: N }, (_, i) => r.finalG[g][i] / r.g![g][at * N + i]))])),
  };
  summary.knockout = d;
  console.log(JSON.stringify({ knockout: d }));
  for (const [name, spec] of [
    ['knockout-activity', populationSpec(r, TARGET_UM, `${flags.knockout} knocked out at ${atS} s in ${N} regulated cells`, atS)],
    ['knockout-conductances', knockoutConductancesSpec(r, atS, `${flags.knockout} knocked out at ${atS} s: the other conductances compensate`)],
  ] as const) await writeFigure(join(out, `${name}.svg`), spec, { specPath: join(out, `${name}.vl.json`) });
}

function median(v: ArrayLike<number>): number {
  const s = Array.from(v).filter(Number.isFinite).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

writeFileSync(join(out, flags.only ? `summary-${flags.only}.json` : 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
