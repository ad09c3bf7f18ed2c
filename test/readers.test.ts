/**
 * Reading a sweep from Python and from R (examples/readers/): a small prinz sweep is merged with
 * --csv, and each example, run with Debian 12's python3-pandas and r-base-core, must print the row
 * count, class counts and median burst period of the Parquet table, and with --dump give back every
 * value of it. Debian 12 packages no Parquet reader for either language (no pyarrow, fastparquet,
 * polars, duckdb, R arrow or nanoparquet), so the examples read the CSV here; their Parquet branch is
 * documented as untested.
 *
 * A second table of edge values (NaN, ±Infinity, missing, strings with commas, quotes, "NA" and
 * non-ASCII text, int32 limits, grid codes with leading zeros), written by ionsweep's CSV writer, must come back as written.
 *
 * The truth is the merged Parquet table, read by ionsweep's reader (hyparquet) and by an independent
 * one (parquet-wasm, Arrow's Rust implementation), which must first agree cell for cell. Tolerances:
 * Python's float() is correctly rounded and the CSV holds shortest round-trip digits, so pandas must
 * give the same doubles exactly; R's decimal parser (R_strtod) is not correctly rounded for 17-digit
 * numbers, so R may be off by a few units in the last place: 4 ulp, relative 2^-50.
 *
 * Fails, not skips, when CI is set and python3 with pandas or Rscript is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column } from '../src/analysis/features.ts';
import { writeCsv } from '../src/io/csv.ts';
import { readParquet, type Table } from '../src/io/parquet.ts';
import { readParquetWithArrow, sameCell, type ArrowTable, type Cell } from './arrow-reader.ts';
import { ROOT, cli } from './cli-helper.ts';

/** 24 prinz models, 4 s each on the f64 CPU engine: every class occurs, 8 of them bursting (seed 7). */
const SPEC = {
  model: 'prinz', durationMs: 4000, discardMs: 1000, sampling: 'random', samples: 24, seed: 7,
  parameters: { gCaS: { uniform: [0, 10] }, gKCa: { uniform: [0, 25] }, gA: { uniform: [0, 50] } },
  chunkSize: 12, engine: 'cpu',
};
/** R's tolerance: 4 ulp of the value (see the header) */
const R_RELATIVE = 2 ** -50;

// Debian's python3 has Debian's pandas; a python3 earlier on PATH (pyenv, a venv) may not
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function run(program: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { cwd: ROOT, maxBuffer: 64 << 20, timeout: 60_000 }, (error, stdout, stderr) => {
      const status = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ status, stdout: String(stdout), stderr: String(stderr) + (error && status === -1 ? error.message : '') });
    });
  });
}

const pythonMissing = (await run(PYTHON, ['-c', 'import pandas'])).status !== 0 ? `${PYTHON} with pandas (apt-get install python3-pandas)` : null;
const rMissing = (await run('Rscript', ['-e', 'invisible(0)'])).status !== 0 ? 'Rscript (apt-get install r-base-core)' : null;
if (process.env.CI && (pythonMissing || rMissing)) {
  throw new Error(`CI is set but ${[pythonMissing, rMissing].filter(Boolean).join(' and ')} is missing; scripts/setup-debian.sh installs them, and these tests must not be skipped in CI`);
}

let dir: string;
let csv: string;
let truth: Table;
let independent: ArrowTable;
/** values a sweep table rarely holds, written by ionsweep's CSV writer: the readers must get them back */
const EDGES: Column[] = [
  { name: 'x', type: 'DOUBLE', data: [1.5, NaN, null, Infinity, -Infinity, 0.1 + 0.2, 1e-300] },
  { name: 'label', type: 'STRING', data: ['plain', 'a, b', 'say "hi"', 'NA', 'nan', 'x;y', 'ünïcode µA/cm²'] },
  { name: 'flag', type: 'BOOLEAN', data: [true, false, true, false, true, false, true] },
  { name: 'n', type: 'INT32', data: [1, -2, 0, 2147483647, -2147483648, 7, 8] },
  // a network grid sweep's codes: digits with leading zeros, which a reader must keep as text
  { name: 'gridCode', type: 'STRING', data: ['0000000000', '0012', '1303332313', '0999', '4456524345', '0', '00010'] },
];
let edgesCsv: string;
/**
 * A network table's class and period columns (as a network sweep writes them: no period where a
 * network is not periodic): the examples summarise the periodic networks' periods, pyloric and
 * pyloric-like ones included, and no others.
 */
const NETWORKS: Column[] = [
  { name: 'index', type: 'INT32', data: [0, 1, 2, 3, 4, 5, 6] },
  { name: 'class', type: 'STRING', data: ['pyloric', 'non-periodic', 'periodic', 'pyloric-like', 'non-periodic', 'periodic', 'diverged'] },
  { name: 'periodMs', type: 'DOUBLE', data: [1837.5, null, 1200.25, 1500.125, null, 2001, null] },
];
let networksCsv: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ionsweep-readers-'));
  const spec = join(dir, 'spec.json');
  await writeFile(spec, JSON.stringify(SPEC));
  const out = join(dir, 'out');
  const sweep = await cli(['sweep', spec, '--out', out, '--quiet'], { timeoutMs: 120_000 });
  expect(sweep.status, sweep.stderr).toBe(0);
  const merge = await cli(['merge', out, '--csv']);
  expect(merge.status, merge.stderr).toBe(0);
  csv = join(out, 'merged.csv');
  truth = await readParquet(join(out, 'merged.parquet'));
  independent = await readParquetWithArrow(join(out, 'merged.parquet'));
  edgesCsv = join(dir, 'edges.csv');
  await writeCsv(edgesCsv, EDGES);
  networksCsv = join(dir, 'networks.csv');
  await writeCsv(networksCsv, NETWORKS);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const columnOf = (name: string) => Array.from(truth.columns.find((c) => c.name === name)!.data as ArrayLike<Cell>);

describe('the Parquet table the readers are checked against', () => {
  it('reads the same with hyparquet and with parquet-wasm, and has every class', () => {
    expect(independent.names).toEqual(truth.columns.map((c) => c.name));
    expect(independent.rows).toBe(SPEC.samples);
    for (const c of truth.columns) {
      const want = Array.from(c.data as ArrayLike<Cell>);
      const got = independent.columns.get(c.name)!;
      const bad = want.findIndex((w, i) => !sameCell(got[i], w));
      expect(bad, `${c.name}[${bad}]: ${got[bad]} vs ${want[bad]}`).toBe(-1);
    }
    expect(new Set(columnOf('class'))).toEqual(new Set(['silent', 'tonic', 'bursting', 'irregular']));
  });
});

/** The summary the examples print, computed from the Parquet rows. */
function expectedSummary() {
  const classes = columnOf('class') as string[];
  const counts = new Map<string, number>();
  for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  const periods = (columnOf('burstPeriodMs') as (number | null)[])
    .filter((p, i) => classes[i] === 'bursting' && p !== null && !Number.isNaN(p))
    .map(Number).sort((a, b) => a - b);
  const mid = periods.length >> 1;
  const median = periods.length % 2 ? periods[mid] : (periods[mid - 1] + periods[mid]) / 2;
  return { counts, median, n: periods.length };
}

function parseSummary(text: string) {
  const rows = /rows: (\d+), columns: (\d+)/.exec(text);
  const counts = new Map([...text.matchAll(/^ {2}(\S+): (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  const median = /median burstPeriodMs of bursting rows: (\S+) \(n = (\d+)\)/.exec(text);
  return { rows: Number(rows?.[1]), columns: Number(rows?.[2]), counts, median: Number(median?.[1]), n: Number(median?.[2]) };
}

/** What the examples print of a network table. */
function networkSummary(text: string) {
  const median = /median periodMs of periodic rows: (\S+) \(n = (\d+)\)/.exec(text);
  return { counts: parseSummary(text).counts, median: Number(median?.[1]), n: Number(median?.[2]) };
}

/** The same, from NETWORKS: periods of the pyloric, pyloric-like and periodic networks (1200.25, 1500.125, 1837.5, 2001). */
function expectedNetworkSummary() {
  const counts = new Map<string, number>();
  for (const c of NETWORKS[1].data as string[]) counts.set(c, (counts.get(c) ?? 0) + 1);
  return { counts, median: (1500.125 + 1837.5) / 2, n: 4 };
}

/** A --dump: header and rows, tab-separated. */
function parseDump(text: string): { names: string[]; rows: string[][] } {
  const lines = text.replace(/\n$/, '').split('\n');
  return { names: lines[0].split('\t'), rows: lines.slice(1).map((l) => l.split('\t')) };
}

/**
 * Checks every dumped cell against the table's columns; numbers within `relative` (0: exactly).
 * A missing value or NaN is dumped as an empty field, infinities as Infinity and -Infinity.
 */
function expectSameTable(text: string, columns: readonly Column[], relative: number, who: string) {
  const dump = parseDump(text);
  const rows = columns[0].data.length;
  expect(dump.names).toEqual(columns.map((c) => c.name));
  expect(dump.rows.length).toBe(rows);
  let compared = 0;
  for (const [k, c] of columns.entries()) {
    const want = Array.from(c.data as ArrayLike<Cell>);
    for (let i = 0; i < rows; i++) {
      const got = dump.rows[i][k];
      const w = want[i];
      const where = `${who}: ${c.name}[${i}] = '${got}', written ${w}`;
      if (w === null || w === undefined || (typeof w === 'number' && Number.isNaN(w))) expect(got, where).toBe('');
      else if (typeof w === 'number') {
        const g = Number(got);
        if (relative === 0 || !Number.isFinite(w)) expect(Object.is(g, w), where).toBe(true);
        else expect(Math.abs(g - w), where).toBeLessThanOrEqual(relative * Math.abs(w));
      } else expect(got, where).toBe(String(w));
      compared++;
    }
  }
  expect(compared).toBe(rows * columns.length);
}

/** Runs a reader example on the table and checks its row, column and class counts; returns its summary and the expected one. */
async function checkedSummary(command: string, script: string) {
  const r = await run(command, [script, csv]);
  expect(r.status, r.stderr).toBe(0);
  const got = parseSummary(r.stdout);
  const want = expectedSummary();
  expect(got.rows).toBe(truth.rows);
  expect(got.columns).toBe(truth.columns.length);
  expect(got.counts).toEqual(want.counts);
  expect(got.n).toBe(want.n);
  return { got, want };
}

describe.skipIf(pythonMissing !== null)(`Python (pandas)${pythonMissing ? ` (skipped: no ${pythonMissing})` : ''}`, () => {
  const script = join(ROOT, 'examples', 'readers', 'read_sweep.py');

  it('prints the rows, class counts and median burst period of the table', async () => {
    const { got, want } = await checkedSummary(PYTHON, script);
    // repr of pandas' median: the same double as (a + b) / 2 of the same doubles
    expect(got.median).toBe(want.median);
  });

  it('loads every value of the table exactly (--dump)', async () => {
    const r = await run(PYTHON, [script, '--dump', csv]);
    expect(r.status, r.stderr).toBe(0);
    expectSameTable(r.stdout, truth.columns, 0, 'pandas');
  });

  it('reads NaN, infinities, missing values, quoted and non-ASCII strings, booleans and int32 limits as written', async () => {
    const r = await run(PYTHON, [script, '--dump', edgesCsv]);
    expect(r.status, r.stderr).toBe(0);
    expectSameTable(r.stdout, EDGES, 0, 'pandas');
  });

  it('summarises a network table: class counts, and the median period of the periodic networks (pyloric ones included)', async () => {
    const r = await run(PYTHON, [script, networksCsv]);
    expect(r.status, r.stderr).toBe(0);
    expect(networkSummary(r.stdout)).toEqual(expectedNetworkSummary());
  });
});

describe.skipIf(rMissing !== null)(`R${rMissing ? ` (skipped: no ${rMissing})` : ''}`, () => {
  const script = join(ROOT, 'examples', 'readers', 'read_sweep.R');

  it('prints the rows, class counts and median burst period of the table', async () => {
    const { got, want } = await checkedSummary('Rscript', script);
    expect(Math.abs(got.median - want.median)).toBeLessThanOrEqual(R_RELATIVE * want.median);
  });

  it('loads every value of the table within 4 ulp (--dump)', async () => {
    const r = await run('Rscript', [script, '--dump', csv]);
    expect(r.status, r.stderr).toBe(0);
    expectSameTable(r.stdout, truth.columns, R_RELATIVE, 'R');
  });

  it('reads NaN, infinities, missing values, quoted and non-ASCII strings, booleans and int32 limits as written', async () => {
    const r = await run('Rscript', [script, '--dump', edgesCsv]);
    expect(r.status, r.stderr).toBe(0);
    expectSameTable(r.stdout, EDGES, R_RELATIVE, 'R');
  });

  it('summarises a network table: class counts, and the median period of the periodic networks (pyloric ones included)', async () => {
    const r = await run('Rscript', [script, networksCsv]);
    expect(r.status, r.stderr).toBe(0);
    expect(networkSummary(r.stdout)).toEqual(expectedNetworkSummary());
  });
});
