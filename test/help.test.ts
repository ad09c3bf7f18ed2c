/**
 * What a new user reads first: each spec command's --help lists the spec's fields and names example
 * specs that exist, fit's says which optimisers it has, and a shard's summary numbers it as its file
 * name does (from 0).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-help-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('spec commands explain their specs', () => {
  it.each([
    ['sweep', ['parameters', 'sampling', 'durationMs']],
    ['landscape', ['x', 'y', 'cost']],
    ['fit', ['parameters', 'optimizer', 'starts']],
    ['curve', ['start', 'momentum', 'direction']],
  ] as const)('%s --help lists the spec fields and example specs that exist', async (command, fields) => {
    const run = await cli([command, '--help']);
    expect(run.status, run.stderr).toBe(0);
    const line = run.stdout.split('\n').find((l) => l.startsWith('Spec fields:'))!;
    expect(line, run.stdout).toBeDefined();
    for (const f of fields) expect(line).toMatch(new RegExp(`\\b${f}\\b`));
    const examples = run.stdout.split('\n').find((l) => l.startsWith('Examples:'))!.slice('Examples: '.length).split(', ');
    expect(examples.length).toBeGreaterThan(0);
    for (const e of examples) expect(existsSync(join(ROOT, e)), e).toBe(true);
    if (command === 'fit') expect(run.stdout).toMatch(/Levenberg–Marquardt/);
  });

  it('a shard is numbered in its summary as in its file name (from 0)', async () => {
    const spec = join(scratch, 'tiny.yaml');
    writeFileSync(spec, 'model: hh\ndurationMs: 20\nengine: cpu\nsampling: grid\nparameters:\n  gNa: { grid: [100, 120, 140, 160] }\n');
    const run = await cli(['sweep', spec, '--shard', '1/2', '--out', join(scratch, 'out'), '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/shard 1\/2, numbered from 0/);
    expect(run.stdout).toMatch(/shard-00001-of-00002\.parquet/);
  });
});
