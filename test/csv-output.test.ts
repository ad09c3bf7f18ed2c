/**
 * Tables for tools without a Parquet reader (CSV: merge, landscape, fit and curve with --csv) and a
 * trace NPY file's sidecar naming its columns and units. The quoting is checked against RFC 4180's
 * rules written out by hand (a field with a comma, a quote or a line break is quoted, quotes doubled),
 * and the CSV's numbers against the Parquet table the same run wrote (read by hyparquet).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetReadObjects } from 'hyparquet';
import { csvRows } from '../src/io/csv.ts';
import { cli } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-csv-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The fields of a CSV line with no quoted field (what the numeric tables here write). */
const plainFields = (line: string) => line.split(',');

async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  const bytes = readFileSync(path);
  return parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
}

describe('CSV tables', () => {
  it('quote what RFC 4180 says must be quoted, and keep every digit, NaN and empty for missing', () => {
    const text = csvRows([
      { name: 'label', type: 'STRING', data: ['plain', 'a,b', 'say "hi"', 'two\nlines', null] },
      { name: 'x', type: 'DOUBLE', data: Float64Array.from([0.1 + 0.2, -1e-300, NaN, Infinity, 5]) },
      { name: 'ok', type: 'BOOLEAN', data: [true, false, true, false, true] },
    ], 0, 5);
    expect(text).toBe([
      'label,x,ok',
      'plain,0.30000000000000004,true',
      '"a,b",-1e-300,false',
      '"say ""hi""",NaN,true',
      '"two\nlines",Infinity,false',
      ',5,true',
      '',
    ].join('\n'));
  });

  it('landscape --csv writes the same rows as landscape.parquet', async () => {
    const spec = join(scratch, 'land.yaml');
    writeFileSync(spec, ['model: hh', 'durationMs: 20', 'dtMs: 0.05', 'engine: cpu', 'currentUAPerCm2: 10', 'cost: [ { mean: V } ]', 'target: { gNa: 120 }',
      'x: { parameter: gNa, from: 100, to: 140, count: 3 }', 'y: { parameter: gK, from: 30, to: 40, count: 2 }'].join('\n'));
    const out = join(scratch, 'land-out');
    const run = await cli(['landscape', spec, '--out', out, '--csv', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const lines = readFileSync(join(out, 'landscape.csv'), 'utf8').trimEnd().split('\n');
    const header = plainFields(lines[0]);
    const rows = await readParquetRows(join(out, 'landscape.parquet'));
    expect(lines.length - 1).toBe(rows.length);
    expect(header).toEqual(Object.keys(rows[0]));
    rows.forEach((row, k) => {
      const fields = plainFields(lines[k + 1]);
      header.forEach((name, c) => {
        const v = row[name];
        if (typeof v === 'number') expect(Number(fields[c]), `${name} row ${k}`).toBe(v);
        else expect(fields[c], `${name} row ${k}`).toBe(v === null || v === undefined ? '' : String(v));
      });
    });
  });
});

describe('merge --csv', () => {
  it('writes merged.csv beside merged.parquet, row for row, and may replace its own earlier output', async () => {
    const spec = join(scratch, 'sw.yaml');
    writeFileSync(spec, 'model: hh\ndurationMs: 20\nengine: cpu\nsampling: grid\nparameters:\n  gNa: { grid: [100, 120, 140, 160, 180] }\n');
    const out = join(scratch, 'sw-out');
    for (const shard of ['0/2', '1/2']) {
      const run = await cli(['sweep', spec, '--shard', shard, '--out', out, '--quiet']);
      expect(run.status, run.stderr).toBe(0);
    }
    for (let k = 0; k < 2; k++) {
      const merged = await cli(['merge', out, '--csv']);
      expect(merged.status, merged.stderr).toBe(0);
    }
    const rows = await readParquetRows(join(out, 'merged.parquet'));
    const lines = readFileSync(join(out, 'merged.csv'), 'utf8').trimEnd().split('\n');
    expect(rows.length).toBe(5);
    expect(lines.length).toBe(6);
    const header = plainFields(lines[0]);
    expect(header).toEqual(Object.keys(rows[0]));
    const g = header.indexOf('gNa');
    expect(lines.slice(1).map((l) => Number(plainFields(l)[g]))).toEqual(rows.map((r) => r.gNa));
  });
});

describe('trace NPY sidecar', () => {
  it('names the columns and their units in order', async () => {
    const npy = join(scratch, 'trace.npy');
    const run = await cli(['simulate', '--model', 'prinz', '--duration-ms', '10', '--trace-every-ms', '1', '--out', npy]);
    expect(run.status, run.stderr).toBe(0);
    const sidecar = JSON.parse(readFileSync(`${npy}.json`, 'utf8'));
    expect(sidecar.columns).toEqual(['tMs', 'VMv', 'CaUM']);
    expect(sidecar.units).toEqual(['ms', 'mV', 'µM']);
    expect(sidecar.shape).toEqual([10, 3]);
  });
});
