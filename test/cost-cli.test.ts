/**
 * `ionsweep landscape`, `fit` and `curve` run as a user runs them (`node bin/ionsweep.mjs ...` in a
 * subprocess) on small specs: exit status, the JSON summary, the Parquet table read back with
 * hyparquet, the SVG, and one-line errors with exit status 2.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readParquet } from '../src/io/parquet.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-cost-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['bin/ionsweep.mjs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function specFile(name: string, spec: Record<string, unknown>): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(path, stringify(spec));
  return path;
}

// a silent Prinz cell at rest (see fit.test.ts): smooth costs, quick runs
const CELL = {
  model: 'prinz', dtMs: 0.1, durationMs: 600, discardMs: 400, init: 'steady', engine: 'cpu',
  fixed: { gNa: 100, gCaT: 1, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 },
};

describe('ionsweep landscape', () => {
  it('writes a table with a row per grid point and an SVG, and prints a JSON summary', async () => {
    const path = specFile('land', {
      ...CELL, cost: [{ mean: 'Ca' }], target: { gCaS: 2, gA: 20 },
      x: { parameter: 'log:gCaS', from: 1.5, to: 3, count: 4 }, y: { parameter: 'gA', from: 15, to: 25, count: 3 },
    });
    const out = join(scratch, 'land-out');
    const r = await cli(['landscape', path, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.points).toBe(12);
    expect(doc.engine).toBe('cpu');
    expect(doc.minimum.cost).toBeGreaterThanOrEqual(0);
    const table = await readParquet(join(out, 'landscape.parquet'));
    expect(table.rows).toBe(12);
    expect(table.columns.map((c) => c.name)).toContain('d_cost_d_log_gCaS');
    expect(readFileSync(join(out, 'landscape.svg'), 'utf8')).toMatch(/^<svg[\s\S]*class="mark-line[\s\S]*log10 cost/); // contour lines and the colour bar's title
  });

  it('exits with status 2 and one line naming the field', async () => {
    const path = specFile('bad-land', { ...CELL, cost: [{ mean: 'Ca' }], x: { parameter: 'gCaS', from: 1, to: 2, count: 1 }, y: { parameter: 'gA', from: 1, to: 2, count: 2 } });
    const r = await cli(['landscape', path, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['ionsweep: landscape spec: x.count must be an integer in [2, 1000]']);
  });
});

describe('ionsweep fit', () => {
  it('writes one row per start and reports the best fits and the baseline', async () => {
    const path = specFile('fit', {
      ...CELL, cost: [{ mean: 'Ca' }, { mean: 'V', scale: 1 }], target: { gCaS: 2, gA: 20 },
      // Adam: one evaluation per start and iteration (features-only fits default to CMA-ES, cma-es.test.ts)
      parameters: { gCaS: [1.4, 2.9], gA: [14, 29] }, starts: 3, iterations: 4, randomSearch: true, optimizer: 'adam',
    });
    const out = join(scratch, 'fit-out');
    const r = await cli(['fit', path, '--out', out, '--best', '2', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.starts).toBe(3);
    expect(doc.evaluations).toBeLessThanOrEqual(12);
    expect(doc.best).toHaveLength(2);
    expect(doc.best[0].cost).toBeLessThanOrEqual(doc.best[1].cost);
    expect(Object.keys(doc.best[0].params)).toEqual(['gCaS', 'gA']);
    expect(doc.randomSearch.evaluations).toBe(doc.evaluations);
    const table = await readParquet(join(out, 'fit.parquet'));
    expect(table.rows).toBe(3);
  });

  it('screens starts and fits with Levenberg–Marquardt, with progress for both phases', async () => {
    const path = specFile('fit-lm', {
      ...CELL, cost: [{ mean: 'Ca' }, { mean: 'V', scale: 1 }], target: { gCaS: 2, gA: 20 },
      parameters: { gCaS: [1.4, 2.9], gA: [14, 29] }, starts: 3, screen: 2, iterations: 4, optimizer: 'levenberg-marquardt',
    });
    const r = await cli(['fit', path, '--out', join(scratch, 'fit-lm-out')]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.screenEvaluations).toBe(6);
    expect(doc.evaluations).toBeGreaterThan(6);
    expect(doc.evaluations).toBeLessThanOrEqual(6 + 12);
    const jobs = new Set(r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).job));
    expect([...jobs].sort()).toEqual(['fit', 'screen']);
  });

  it('exits with status 2 on a bad box', async () => {
    const path = specFile('bad-fit', { ...CELL, cost: [{ mean: 'Ca' }], target: {}, parameters: { gCaS: [3, 1] } });
    const r = await cli(['fit', path, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ionsweep: fit spec: parameters\.gCaS must be \[low, high\] with 0 < low < high\n$/);
  });
});

describe('ionsweep curve', () => {
  it('writes the path and its plot, and reports the branches and the parameters that changed most', async () => {
    const path = specFile('curve', {
      ...CELL, fixed: { ...CELL.fixed, gLeak: undefined }, start: { gCaS: 2, gA: 20, gLeak: 0.05 }, cost: [{ mean: 'Ca' }],
      parameters: ['log:gCaS', 'log:gA', 'log:gLeak'], direction: { 'log:gCaS': 1 }, momentum: 5e-5, length: 0.2, maxSteps: 10,
    });
    const out = join(scratch, 'curve-out');
    const r = await cli(['curve', path, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.branches.map((b: { direction: string }) => b.direction)).toEqual(['forward', 'backward']);
    for (const b of doc.branches) expect(b.maxCost).toBeLessThanOrEqual(doc.start.ceiling);
    expect(doc.changes).toHaveLength(3);
    expect(doc.changes[0].factor).toBeGreaterThan(1);
    const table = await readParquet(join(out, 'curve.parquet'));
    expect(table.rows).toBe(doc.branches[0].points + doc.branches[1].points - 1);
    expect(existsSync(join(out, 'curve.svg'))).toBe(true);
    // every point's conditioning (its JᵀJ under f32-level perturbation), unless --no-conditioning
    expect(doc.jacobianConditioning).toMatchObject({ method: 'f64 roundoff probes', points: table.rows });
    expect(table.columns.slice(-2).map((c) => c.name)).toEqual(['jacobianSpread', 'jacobianTrusted']);
  });
});
