/**
 * The commands that draw figures: simulate --plot, sweep --plot and plot-sweep, fit's fit.svg (with
 * each start's gradient conditioning in its table and report). What the figures show is checked in a
 * browser by figures-browser.test.ts; here, that each command writes its figure with the quantities
 * and units it promises, and refuses what it cannot draw with one line naming the flag.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../src/io/parquet.ts';
import { cli, expectOneLineFailure } from './cli-helper.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ionsweep-plot-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('figures from the command line', () => {
  it('simulate --plot draws the trace and the raster; without a trace it says what to add', async () => {
    const plot = join(dir, 'hh.svg');
    const run = await cli(['simulate', '--model', 'hh', '--duration-ms', '50', '--current-ua-per-cm2', '10', '--trace-every-ms', '0.1', '--engine', 'cpu', '--plot', plot, '--out', join(dir, 'hh.npy')]);
    expect(run.status, run.stderr).toBe(0);
    const spikes = JSON.parse(run.stdout).spikeTimesMs.length;
    const svg = await readFile(plot, 'utf8');
    for (const text of ['time (ms)', 'membrane potential (mV)', `hh ${spikes}`]) expect(svg).toContain(text);
    expectOneLineFailure(await cli(['simulate', '--model', 'hh', '--duration-ms', '50', '--plot', plot]), 2, /--plot draws the trace: add --trace-every-ms \(e\.g\. 0\.025?/);
  });

  it('sweep --plot and plot-sweep draw the classes of every model of the folder', async () => {
    const spec = join(dir, 'sweep.yaml'), out = join(dir, 'sweep');
    await writeFile(spec, [
      'model: prinz', 'dtMs: 0.1', 'durationMs: 600', 'discardMs: 200', 'sampling: random', 'samples: 24', 'seed: 2', 'engine: cpu',
      'parameters:', '  gNa: { uniform: [0, 500] }', '  gKd: { uniform: [0, 125] }', '',
    ].join('\n'));
    const run = await cli(['sweep', spec, '--out', out, '--plot', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`plot: ${join(out, 'sweep.svg')}`);
    const svg = await readFile(join(out, 'sweep.svg'), 'utf8');
    for (const text of ['activity classes of 24 models', 'gNa (mS/cm²)', 'gKd (mS/cm²)', 'fraction of models', '1 of 1 shard']) expect(svg).toContain(text);
    const again = await cli(['plot-sweep', join(out, 'shard-00000-of-00001.parquet'), '--out', join(dir, 'again.svg')]);
    expect(again.status, again.stderr).toBe(0);
    expect(await readFile(join(dir, 'again.svg'), 'utf8')).toContain('activity classes of 24 models');
    expectOneLineFailure(await cli(['plot-sweep', dir]), 2, /has no complete shard/);
  }, 90_000);

  it('fit writes fit.svg and, for each start that did not converge, whether its final gradient can be trusted', async () => {
    // a silent cell at its fixed point (test/fit.test.ts): smooth, well-conditioned gradients
    const spec = join(dir, 'fit.yaml'), out = join(dir, 'fit');
    await writeFile(spec, [
      'model: prinz', 'dtMs: 0.1', 'durationMs: 2500', 'discardMs: 1500', 'init: steady', 'engine: cpu',
      'fixed: { gNa: 100, gCaT: 1, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 }',
      'cost: [{ mean: Ca }, { mean: V, scale: 1 }]', 'target: { gNa: 100, gCaT: 1, gCaS: 2, gA: 20, gKCa: 5, gKd: 50, gH: 0.01, gLeak: 0.05 }',
      'parameters: { gCaS: [1.4, 2.9], gA: [14, 29] }', 'starts: 3', 'seed: 3', 'iterations: 4', 'optimizer: adam', '',
    ].join('\n'));
    const run = await cli(['fit', spec, '--out', out, '--quiet'], { timeoutMs: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.plot).toBe(join(out, 'fit.svg'));
    expect(report.gradientConditioning).toEqual({ method: 'f64 roundoff probes', illConditionedStarts: 0 });
    for (const best of report.best) {
      expect(best.gradientTrusted, JSON.stringify(best)).toBe(true);
      expect(best.gradientSpread).toBeLessThan(0.01);
    }
    const table = await readParquet(join(out, 'fit.parquet'));
    expect(table.columns.find((c) => c.name === 'gradientTrusted')!.data).toEqual([true, true, true]);
    const svg = await readFile(join(out, 'fit.svg'), 'utf8');
    for (const text of ['cost (log scale)', 'iteration', 'target', 'membrane potential (mV)', '[Ca] (µM)', 'time (ms)']) expect(svg).toContain(text);
  }, 150_000);
});
