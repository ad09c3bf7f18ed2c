/**
 * `ionsweep network-report`: a pyloric network sweep summarised as the Prinz 2004 database was.
 *
 * - The 95 % Wilson interval against Newcombe's (1998, Table I, method 3) spot values.
 * - A table of 1,000 networks built here, in several row groups, with classes, reasons and synapse
 *   strengths laid out so every count is known by construction: the report's fractions, reasons and
 *   per-synapse shares are those counts, and its figure is written where --out says (and by default
 *   beside the table).
 * - On a real network sweep folder (f64 CPU engine), its class counts are the shard manifest's (counted
 *   by the sweep as it ran, another path).
 * - A table that is not a network sweep's is refused in one line naming the missing columns.
 * - Strengths drawn at random (every one distinct) are counted by bins of two per decade once a synapse
 *   has more than MOST_STRENGTHS of them: the bins' counts are those of the rows (counted here by an
 *   explicit list of edges), the same fed a few rows at a time as all at once, and the shares at 0
 *   and above 3 nS stay exact.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column } from '../src/analysis/features.ts';
import { StreamingTable } from '../src/io/parquet.ts';
import { wilsonInterval95 } from '../src/jobs/network-report.ts';
import { MOST_STRENGTHS, SynapseCounts, strengthBin } from '../src/io/plot/network-synapses-figure.ts';
import { cli, expectOneLineFailure } from './cli-helper.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ionsweep-network-report-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the 95 % Wilson interval', () => {
  it.each([
    // Newcombe (1998), Table I, method 3 (score interval without continuity correction)
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i of %i: [%f, %f]', (k, n, lo, hi) => {
    const [a, b] = wilsonInterval95(k, n);
    // the paper gives 4 decimals
    expect(a).toBeCloseTo(lo, 4);
    expect(b).toBeCloseTo(hi, 4);
  });
});

/**
 * 1,000 networks: 20 pyloric (LP→PY 0 or 1 nS, PD→PY 10), 180 pyloric-like (half missing pyStartPhase,
 * half pyStartPhase and lpDutyCycle), 100 periodic, 700 non-periodic (400 "ABPD is silent", 300
 * irregular with a number in the reason); all others' LP→PY 0, 1, 10, 30 in turn, PD→PY 0.
 */
function networkColumns(from: number, to: number): Column[] {
  const cls: string[] = [], reason: string[] = [], lpToPy: number[] = [], pdToPy: number[] = [], index: number[] = [];
  for (let i = from; i < to; i++) {
    index.push(i);
    if (i < 20) {
      cls.push('pyloric'); reason.push('pyloric'); lpToPy.push(i % 2); pdToPy.push(10);
      continue;
    }
    if (i < 200) {
      cls.push('pyloric-like');
      reason.push(i % 2 ? 'outside the biological ranges: pyStartPhase, lpDutyCycle' : 'outside the biological ranges: pyStartPhase');
    } else if (i < 300) {
      cls.push('periodic'); reason.push('the bursts are not in the pyloric order');
    } else if (i < 700) {
      cls.push('non-periodic'); reason.push('ABPD is silent');
    } else {
      cls.push('non-periodic'); reason.push(`LP's cycle ${(i % 7) / 10 + 0.6} % short`);
    }
    lpToPy.push([0, 1, 10, 30][i % 4]);
    pdToPy.push(0);
  }
  const cellClass = cls.map(() => 'bursting');
  return [
    { name: 'index', type: 'INT32', data: index },
    { name: 'gSynPDtoPY', type: 'DOUBLE', data: pdToPy },
    { name: 'gSynLPtoPY', type: 'DOUBLE', data: lpToPy },
    { name: 'class', type: 'STRING', data: cls },
    { name: 'reason', type: 'STRING', data: reason },
    { name: 'ABPD_class', type: 'STRING', data: cellClass },
    { name: 'LP_class', type: 'STRING', data: cellClass },
    { name: 'PY_class', type: 'STRING', data: cellClass },
  ];
}

describe('network-report on a table of known counts', () => {
  it('gives the counts, fractions, reasons and per-synapse shares the rows hold, and writes the figure', async () => {
    const path = join(root, 'known.parquet');
    const table = new StreamingTable(path);
    for (let from = 0; from < 1000; from += 300) table.append(networkColumns(from, Math.min(1000, from + 300)));
    await table.finish();
    const run = await cli(['network-report', path, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.networks).toBe(1000);
    expect(report.classCounts).toEqual({ pyloric: 20, 'pyloric-like': 180, periodic: 100, 'non-periodic': 700 });
    expect(report.pyloric).toMatchObject({ networks: 20, fraction: 0.02, publishedPrinz2004: 0.022 });
    expect(report.pyloricLikeOrPyloric).toMatchObject({ networks: 200, fraction: 0.2, publishedPrinz2004: 0.1999 });
    expect(report.pyloric.ci95).toEqual(wilsonInterval95(20, 1000));
    expect(report.pyloricLikeOutsideRange).toEqual({ pyStartPhase: 180, lpDutyCycle: 90 });
    // numbers taken out of reasons, so the 300 irregular ones count as one reason
    expect(report.nonPeriodicReasons).toEqual({ 'ABPD is silent': 400, "LP's cycle # % short": 300 });
    expect(report.synapses).toEqual(['gSynPDtoPY', 'gSynLPtoPY']);
    // LP→PY: pyloric ones 0 or 1 nS, the rest 0, 1, 10, 30 in turn: half of all above 3 nS (980 / 2 of 1,000)
    expect(report.above3nS['LP→PY']).toEqual({ pyloric: 0, all: 490 / 1000 });
    expect(report.zero['LP→PY']).toEqual({ pyloric: 0.5, all: (10 + 245) / 1000 });
    expect(report.above3nS['PD→PY']).toEqual({ pyloric: 1, all: 0.02 });
    // the figure, by default beside the table
    expect(report.figure).toBe(join(root, 'known.synapses.svg'));
    const svg = await readFile(report.figure, 'utf8');
    expect(svg).toContain('synapse strengths of the pyloric networks: 1,000 networks');
    expect(svg).toContain('LP→PY');
    const elsewhere = join(root, 'fig.svg');
    const again = await cli(['network-report', path, '--out', elsewhere, '--quiet']);
    expect(JSON.parse(again.stdout).figure).toBe(elsewhere);
    expect((await stat(elsewhere)).size).toBeGreaterThan(1000);
  }, 60_000);

  it('refuses a table that is not a network sweep\'s, naming the columns it lacks', async () => {
    const path = join(root, 'cells.parquet');
    const table = new StreamingTable(path);
    table.append([
      { name: 'index', type: 'INT32', data: [0, 1] },
      { name: 'class', type: 'STRING', data: ['bursting', 'tonic'] },
      { name: 'reason', type: 'STRING', data: ['', ''] },
    ]);
    await table.finish();
    expectOneLineFailure(await cli(['network-report', path, '--quiet']), 2, /cells\.parquet: not a pyloric network sweep's table \(no column ABPD_class, LP_class, PY_class\)/);
  }, 60_000);
});

describe('network-report on a real network sweep', () => {
  it('counts the classes the shards\' manifests counted as the sweep ran, and writes synapses.svg into the folder', async () => {
    const spec = join(root, 'spec.json');
    await writeFile(spec, JSON.stringify({
      model: 'pyloric', init: 'isolated:200', durationMs: 400, discardMs: 200, engine: 'cpu', maxima: 256, chunkSize: 4, sampling: 'grid',
      cells: { ABPD: { choice: ['ABPD1', 'ABPD2'] }, LP: { choice: ['LP4'] }, PY: { choice: ['PY1'] } },
      parameters: { gSynABtoLP: { grid: [3, 30] }, gSynLPtoPY: { grid: [1, 10] } },
    }));
    const out = join(root, 'sweep');
    for (const shard of ['0/2', '1/2']) {
      const run = await cli(['sweep', spec, '--out', out, '--shard', shard, '--quiet'], { timeoutMs: 120_000 });
      expect(run.status, run.stderr).toBe(0);
    }
    const run = await cli(['network-report', out]);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    const counted: Record<string, number> = {};
    for (const s of [0, 1]) {
      const manifest = JSON.parse(await readFile(join(out, `shard-0000${s}-of-00002.json`), 'utf8'));
      for (const [c, k] of Object.entries(manifest.classCounts as Record<string, number>)) counted[c] = (counted[c] ?? 0) + k;
    }
    expect(report.networks).toBe(8);
    expect(report.classCounts).toEqual(Object.fromEntries(Object.entries(counted).filter(([, k]) => k > 0)));
    expect(report.source).toContain('2 of 2 shards');
    expect(report.synapses).toEqual(['gSynABtoLP', 'gSynLPtoPY']);
    // every strength is one of the grid's: half the networks at each
    expect(report.above3nS['AB→LP'].all).toBe(0.5);
    expect(report.figure).toBe(join(out, 'synapses.svg'));
    expect(await readFile(join(out, 'synapses.svg'), 'utf8')).toContain('<svg');
    // progress as JSON lines on stderr (not a terminal here), the last at the end
    const last = run.stderr.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'progress').at(-1);
    expect(last).toMatchObject({ job: 'network-report', done: 8, total: 8 });
  }, 300_000);
});

describe('synapses with many strengths', () => {
  it.each([
    [0, 0, '0'], [1, 1, '1–3'], [2.999, 1, '1–3'], [3, 3, '3–10'], [9.99, 3, '3–10'], [10, 10, '10–30'], [99.99, 30, '30–100'],
    [100, 100, '100–300'], [0.3, 0.3, '0.3–1'], [0.05, 0.03, '0.03–0.1'], [1000, 1000, '1000–3000'], [0.001, 0.001, '0.001–0.003'],
  ])('strength %f nS is in the bin from %f (%s)', (v, low, label) => {
    expect(strengthBin(v)).toEqual({ lowNs: low, label });
  });

  it('random strengths are counted by bins, exactly, in batches or at once; shares at 0 and above 3 nS exact', () => {
    // 2,000 networks, PY→LP uniform on [1, 100) and 0 for every 10th network; every 5th network pyloric
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const n = 2000;
    const strengths = Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 0 : 1 + 99 * random()));
    const classes = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 'pyloric' : 'non-periodic'));
    const columns = (from: number, to: number): Column[] => [
      { name: 'class', type: 'STRING', data: classes.slice(from, to) },
      { name: 'gSynPYtoLP', type: 'DOUBLE', data: strengths.slice(from, to) },
    ];
    const whole = SynapseCounts.of(columns(0, n), ['gSynPYtoLP']);
    const batched = new SynapseCounts(['gSynPYtoLP']);
    for (let from = 0; from < n; from += 7) batched.add(columns(from, Math.min(n, from + 7)));
    expect(batched.distributions()).toEqual(whole.distributions());
    // the bins by an explicit list of lower edges
    const edges = [0, 1, 3, 10, 30];
    const expected = new Map<number, number>();
    for (const v of strengths) {
      const low = edges.filter((e) => e <= v).at(-1)!;
      expected.set(low, (expected.get(low) ?? 0) + 1);
    }
    const all = whole.distributions().filter((d) => d.group === 'all networks');
    expect(new Map(all.map((d) => [d.strengthNs, d.networks]))).toEqual(expected);
    expect(all.map((d) => d.strengthLabel)).toEqual(['0', '1–3', '3–10', '10–30', '30–100']);
    // a grid of MOST_STRENGTHS levels keeps a bar a level
    const levels = Array.from({ length: MOST_STRENGTHS }, (_, k) => k * 0.5);
    const grid = SynapseCounts.of([{ name: 'class', type: 'STRING', data: levels.map(() => 'pyloric') }, { name: 'gSynPYtoLP', type: 'DOUBLE', data: levels }], ['gSynPYtoLP']);
    expect(grid.distributions().filter((d) => d.group === 'all networks').map((d) => d.strengthLabel)).toEqual(levels.map(String));
    const shares = whole.shares('gSynPYtoLP');
    expect(shares['all networks'].zero).toBe(200 / n);
    expect(shares['all networks'].above).toBe(strengths.filter((v) => v > 3).length / n);
    const pyloric = strengths.filter((_, i) => i % 5 === 0);
    expect(shares.pyloric.above).toBe(pyloric.filter((v) => v > 3).length / pyloric.length);
  });
});
