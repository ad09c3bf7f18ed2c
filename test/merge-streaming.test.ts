/**
 * verify, merge and plot-sweep read a sweep's shards a batch of row groups at a time, so a sweep larger
 * than memory (the Prinz 2004 database: 20,250,000 rows of 79 columns) can be checked and merged.
 *
 * - Batches: readParquetBatches gives whole row groups, at least rowsPerBatch rows each, the named
 *   columns only, and the same cells as reading the file whole.
 * - A merge in batches of a few rows equals the merge in one batch per shard, cell for cell, read by
 *   an independent reader (parquet-wasm), and so does its CSV; a sweep figure fed two rows at a time
 *   is the figure of the whole table.
 * - A damaged column that verify does not count (meanLP_VMv) still fails verify (every column is
 *   decoded, a batch at a time) and merge, with one line naming the table.
 * - Memory: a 3-shard sweep of 600,000 network rows (79 columns, tiled from a real network sweep's
 *   rows, row groups of 8,192 rows as a sweep's chunks) is verified, merged and plotted by the real command
 *   with V8's heap capped at 256 MB (DENO_V8_FLAGS). Holding its rows at once takes several times that:
 *   the verify and merge before this change, which read every shard whole, ran out of that heap on
 *   these very files (and needed 2.8 GB of RSS to merge 600,000 rows tiled from a longer run's). Verify
 *   and merge report their progress; merge checks the rows in the pass that writes them (one pass).
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column } from '../src/analysis/features.ts';
import { readParquet, readParquetBatches, StreamingTable, type Table } from '../src/io/parquet.ts';
import { mergeSweep, verifySweep } from '../src/io/sweep-merge.ts';
import { SweepFigureRows, sweepSpec } from '../src/io/plot/sweep-figure.ts';
import { SynapseCounts, synapseDistributions } from '../src/io/plot/network-synapses-figure.ts';
import { sweepFigureOf } from '../src/io/plot/sweep-table.ts';
import { burstPeriodQuantiles, shardRange, summarise } from '../src/jobs/sweep/rows.ts';
import { readParquetWithArrow, sameCell } from './arrow-reader.ts';
import { cli, expectOneLineFailure } from './cli-helper.ts';

let root: string;
/** a real 3-shard network sweep (24 networks, f64 CPU engine) */
let small: string;

const SPEC = {
  model: 'pyloric', init: 'isolated:200', durationMs: 400, discardMs: 200, engine: 'cpu', maxima: 256, chunkSize: 2,
  sampling: 'grid',
  cells: { ABPD: { choice: ['ABPD1', 'ABPD2'] }, LP: { choice: ['LP4'] }, PY: { choice: ['PY1', 'PY5'] } },
  parameters: { gSynABtoLP: { grid: [3, 30, 100] }, gSynLPtoPY: { grid: [1, 10] } },
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ionsweep-merge-streaming-'));
  const spec = join(root, 'spec.json');
  await writeFile(spec, JSON.stringify(SPEC));
  small = join(root, 'small');
  for (const shard of ['0/3', '1/3', '2/3']) {
    const run = await cli(['sweep', spec, '--out', small, '--shard', shard, '--quiet'], { timeoutMs: 120_000 });
    expect(run.status, run.stderr).toBe(0);
  }
}, 300_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const cellsOf = (columns: Column[]) => columns.map((c) => Array.from(c.data as ArrayLike<unknown>));

describe('reading a table a batch of row groups at a time', () => {
  it('batches are whole row groups of at least rowsPerBatch rows, only the named columns, the same cells as the whole file', async () => {
    const path = join(small, 'shard-00000-of-00003.parquet');
    const whole = await readParquet(path);
    const groups = parquetMetadata(readFileSync(path).buffer as ArrayBuffer).row_groups.map((g) => Number(g.num_rows));
    expect(groups.length).toBeGreaterThan(2);
    const batches: Table[] = [];
    for await (const b of readParquetBatches(path, { rowsPerBatch: 3, columns: ['class', 'index', 'no such column'] })) batches.push(b);
    // whole row groups: each batch's rows are a sum of consecutive groups' rows, ≥ 3 but the last
    let g = 0;
    for (const [k, b] of batches.entries()) {
      let rows = 0;
      while (rows < 3 && g < groups.length) rows += groups[g++];
      expect(b.rows, `batch ${k}`).toBe(rows);
    }
    expect(g).toBe(groups.length);
    // file order, named columns only
    for (const b of batches) expect(b.columns.map((c) => c.name)).toEqual(['index', 'class']);
    const index = batches.flatMap((b) => Array.from(b.columns[0].data as ArrayLike<number>));
    const classes = batches.flatMap((b) => Array.from(b.columns[1].data as ArrayLike<string>));
    expect(index).toEqual(Array.from(whole.columns.find((c) => c.name === 'index')!.data as ArrayLike<number>));
    expect(classes).toEqual(Array.from(whole.columns.find((c) => c.name === 'class')!.data as ArrayLike<string>));
    expect(batches[0].metadata.ionsweep_spec_hash).toBe(whole.metadata.ionsweep_spec_hash);
  });
});

describe('a damaged column that verify does not count', () => {
  it('verify decodes every column: a damaged data page of meanLP_VMv fails verify and merge with one line naming the table', async () => {
    const dir = join(root, 'damaged');
    await cp(small, dir, { recursive: true });
    const table = join(dir, 'shard-00001-of-00003.parquet');
    const bytes = await readFile(table);
    const chunk = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
      .row_groups[0].columns.find((c) => c.meta_data?.path_in_schema[0] === 'meanLP_VMv')!.meta_data!;
    const from = Number(chunk.data_page_offset) + 2, to = Number(chunk.data_page_offset) + Number(chunk.total_compressed_size);
    bytes.fill(0xff, from, to);
    await writeFile(table, bytes);
    for (const command of ['verify', 'merge']) {
      expectOneLineFailure(await cli([command, dir, '--quiet']), 2, /shard 1: cannot read shard-00001-of-00003\.parquet: .*shard-00001-of-00003\.parquet is not a readable Parquet table/);
    }
  }, 60_000);
});


describe('merge checks in the pass that writes', () => {
  it('a problem found only at the last shard leaves no merged table, and an earlier merge\'s table as it was', async () => {
    const dir = join(root, 'late-problem');
    await cp(small, dir, { recursive: true });
    const earlier = join(dir, 'merged.parquet');
    expect((await mergeSweep(dir, earlier)).rows).toBe(24);
    const before = await readFile(earlier);
    // the last shard's manifest claims one row of another class: found after its rows are read, when
    // the first two shards' rows are already written to the merged table's temporary file
    const manifestPath = join(dir, 'shard-00002-of-00003.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    const [someClass] = Object.keys(manifest.classCounts);
    manifest.classCounts[someClass] -= 1;
    manifest.classCounts['not-a-class'] = 1;
    await writeFile(manifestPath, JSON.stringify(manifest));
    expectOneLineFailure(await cli(['merge', dir, '--quiet']), 2, /cannot merge .*shard 2: manifest class counts .* differ from its table's rows/);
    expect(await readFile(earlier)).toEqual(before);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const fresh = join(dir, 'fresh.parquet');
    await expect(mergeSweep(dir, fresh)).rejects.toThrow(/shard 2: manifest class counts/);
    await expect(readFile(fresh)).rejects.toThrow(/ENOENT/);
  }, 60_000);
});
describe('merge in batches', () => {
  it('a merge two rows at a time equals the merge of whole shards, cell for cell (two readers), and so does its CSV', async () => {
    const whole = join(root, 'whole.parquet'), batched = join(root, 'batched.parquet');
    const a = await mergeSweep(small, whole, { csv: true });
    const b = await mergeSweep(small, batched, { csv: true, rowsPerBatch: 2 });
    expect(b.rows).toBe(24);
    expect(b.classCounts).toEqual(a.classCounts);
    // batches of 2 rows are row groups of the merged table; whole shards give one each
    const groups = (path: string) => parquetMetadata(readFileSync(path).buffer as ArrayBuffer).row_groups.length;
    expect(groups(whole)).toBe(3);
    expect(groups(batched)).toBe(12);
    expect(cellsOf((await readParquet(batched)).columns)).toEqual(cellsOf((await readParquet(whole)).columns));
    const [x, y] = await Promise.all([readParquetWithArrow(whole), readParquetWithArrow(batched)]);
    expect(y.names).toEqual(x.names);
    for (const name of x.names) expect(x.columns.get(name)!.every((v, i) => sameCell(v, y.columns.get(name)![i])), name).toBe(true);
    expect(await readFile(join(root, 'batched.csv'), 'utf8')).toBe(await readFile(join(root, 'whole.csv'), 'utf8'));
    // the rows say something: more than one class among the networks or their cells
    const columns = (await readParquet(whole)).columns;
    const cellClasses = new Set(['class', 'ABPD_class', 'LP_class', 'PY_class'].flatMap((n) => Array.from(columns.find((c) => c.name === n)!.data as ArrayLike<string>)));
    expect(cellClasses.size).toBeGreaterThan(1);
  }, 60_000);
});

describe('a sweep figure in batches', () => {
  it('rows added a few at a time give the figure (and the per-synapse counts) of the whole table', async () => {
    const table = join(root, 'figure.parquet');
    await mergeSweep(small, table);
    const { columns } = await readParquet(table);
    const rows = columns[0].data.length;
    const figure = new SweepFigureRows(columns, rows, { maxDots: 7 });
    for (let from = 0; from < rows; from += 2) figure.add(columns.map((c) => ({ ...c, data: Array.from(c.data as ArrayLike<unknown>).slice(from, from + 2) as Column['data'] })));
    expect(JSON.stringify(figure.spec())).toBe(JSON.stringify(sweepSpec(columns, { maxDots: 7 })));
    // the per-synapse counts too (the database report's figure)
    const synapses = new SynapseCounts(['gSynABtoLP', 'gSynLPtoPY']);
    for (let from = 0; from < rows; from += 5) synapses.add(columns.map((c) => ({ ...c, data: Array.from(c.data as ArrayLike<unknown>).slice(from, from + 5) as Column['data'] })));
    const whole = synapseDistributions(columns, ['gSynABtoLP', 'gSynLPtoPY']);
    expect(synapses.distributions()).toEqual(whole);
    expect(whole.filter((d) => d.group === 'all networks').map((d) => d.networks)).toEqual([8, 8, 8, 12, 12]);
    // and the command's figure is that figure (one batch here), titled by its source
    const { spec } = await sweepFigureOf(table, { maxDots: 7 });
    expect(JSON.stringify(spec)).toBe(JSON.stringify(sweepSpec(columns, { maxDots: 7, title: `sweep: ${table}` })));
  });
});

/**
 * A sweep folder of `shards` × `perShard` rows: the small sweep's rows tiled (each value of a DOUBLE
 * column moved by a few ulps per row, so columns do not collapse into dictionaries), renumbered, a
 * row group per 8,192 rows; manifests from the small sweep's, with the counts of these rows.
 */
async function tiledSweep(dir: string, shards: number, perShard: number): Promise<Record<string, number>> {
  const base = await readParquet(join(small, 'shard-00000-of-00003.parquet'));
  const manifest = JSON.parse(await readFile(join(small, 'shard-00000-of-00003.json'), 'utf8'));
  const total = shards * perShard, classCounts: Record<string, number> = {};
  for (let s = 0; s < shards; s++) {
    const range = shardRange(total, { index: s, count: shards });
    const name = `shard-${String(s).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`;
    const table = new StreamingTable(join(dir, `${name}.parquet`), { ionsweep_spec_hash: manifest.specHash, ionsweep_shard: name });
    const counts: Record<string, number> = {}, periods: number[] = [];
    for (let from = range.start; from < range.end; from += 8192) {
      const to = Math.min(range.end, from + 8192);
      const columns = base.columns.map((c) => {
        const values = c.data as ArrayLike<unknown>;
        const at = (i: number) => values[i % base.rows];
        const data = Array.from({ length: to - from }, (_, k) => {
          const i = from + k, v = at(i);
          if (c.name === 'index') return i;
          return c.type === 'DOUBLE' && typeof v === 'number' ? v * (1 + (i % 1000) * 1e-15) : v;
        });
        return { ...c, data: data as Column['data'] };
      });
      table.append(columns);
      const summary = summarise(columns, 0);
      for (const [k, v] of Object.entries(summary.classCounts)) counts[k] = (counts[k] ?? 0) + v;
      periods.push(...summary.burstPeriodsMs);
    }
    await table.finish();
    for (const [k, v] of Object.entries(counts)) classCounts[k] = (classCounts[k] ?? 0) + v;
    await writeFile(join(dir, `${name}.json`), JSON.stringify({
      ...manifest, total, shard: { index: s, count: shards }, range, rows: range.end - range.start, table: `${name}.parquet`,
      classCounts: counts, burstPeriodMs: burstPeriodQuantiles(periods),
    }));
  }
  return classCounts;
}

describe('a sweep larger than the heap', () => {
  it('600,000 network rows in 3 shards are verified, merged and plotted with a 256 MB heap', async () => {
    const dir = join(root, 'large');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    const classCounts = await tiledSweep(dir, 3, 200_000);
    expect((await verifySweep(dir)).problems).toEqual([]);
    const env = { DENO_V8_FLAGS: '--max-old-space-size=256' };
    const verify = await cli(['verify', dir], { env, timeoutMs: 240_000 });
    expect(verify.status, verify.stderr.slice(-2000)).toBe(0);
    expect(verify.stdout).toContain('600000 rows');
    const lastOf = (stderr: string, job: string) => stderr.trim().split('\n').map((line) => JSON.parse(line) as { event: string; job: string; done: number; total: number })
      .filter((e) => e.event === 'progress' && e.job === job).at(-1);
    expect(lastOf(verify.stderr, 'verify')).toMatchObject({ done: 600_000, total: 600_000 });
    const merge = await cli(['merge', dir], { env, timeoutMs: 240_000 });
    expect(merge.status, merge.stderr.slice(-2000)).toBe(0);
    // progress as JSON lines (stderr is not a terminal here), the last at the end; one pass: no verify pass
    expect(lastOf(merge.stderr, 'merge')).toMatchObject({ done: 600_000, total: 600_000 });
    expect(lastOf(merge.stderr, 'verify')).toBeUndefined();
    const merged = JSON.parse(await readFile(join(dir, 'merged.json'), 'utf8'));
    expect(merged.rows).toBe(600_000);
    expect(merged.classCounts).toEqual(classCounts);
    // the merged rows are the shards' in order: a batch of the merged table at each end
    const ends: number[] = [];
    for await (const b of readParquetBatches(join(dir, 'merged.parquet'), { columns: ['index'] })) {
      const index = b.columns[0].data as ArrayLike<number>;
      ends.push(index[0], index[index.length - 1]);
    }
    expect(ends[0]).toBe(0);
    expect(ends.at(-1)).toBe(599_999);
    for (let k = 1; k < ends.length; k++) expect(ends[k]).toBeGreaterThan(ends[k - 1]);
    // the figure of the 600,000 rows, within the same heap
    const plot = await cli(['plot-sweep', dir, '--out', join(dir, 'sweep.svg')], { env, timeoutMs: 240_000 });
    expect(plot.status, plot.stderr.slice(-2000)).toBe(0);
    expect(await readFile(join(dir, 'sweep.svg'), 'utf8')).toContain('activity classes of 600,000 models');
  }, 300_000);
});
