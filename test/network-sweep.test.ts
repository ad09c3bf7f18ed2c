/**
 * Network sweeps (issue 18): rows against direct simulations of the same networks, shards and merge,
 * the Prinz 2004 numbering of examples/prinz-2004.yaml against the paper's rule written out here
 * independently, and the spec's refusals.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Column } from '../src/analysis/features.ts';
import { PYLORIC_FEATURES } from '../src/analysis/network.ts';
import { pyloric } from '../src/channels/pyloric.ts';
import { readParquet } from '../src/io/parquet.ts';
import { readSpecFile } from '../src/io/spec-file.ts';
import { mergeSweep, verifySweep } from '../src/io/sweep-merge.ts';
import { ShardStore } from '../src/io/sweep-store.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { gridCode, gridIndexOfCode } from '../src/jobs/sweep/network-rows.ts';
import { chunkRanges, runSweepShard, shardRange } from '../src/jobs/sweep/run.ts';
import { cellSettingBlock } from '../src/jobs/sweep/network.ts';
import { makeSampler } from '../src/jobs/sweep/sampling.ts';
import { parseSweepSpec, resolveSweep, specHash, type SweepSpecInput } from '../src/jobs/sweep/spec.ts';
import { classTable } from '../src/cli/sweep.ts';
import { gpuForTests } from './gpu-helper.ts';
import { memorySink } from './sweep-helper.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});


const column = (chunks: Column[][], name: string) => chunks.flatMap((c) => {
  const col = c.find((x) => x.name === name);
  if (!col) throw new Error(`no column ${name}`);
  return Array.from(col.data as ArrayLike<unknown>);
});

// Published synapse settings (docs/models.md §6): the paper's order, grids in nS.
const SYNAPSES = ['gSynABtoLP', 'gSynPDtoLP', 'gSynABtoPY', 'gSynPDtoPY', 'gSynLPtoABPD', 'gSynLPtoPY', 'gSynPYtoLP'];
const FIVE = [0, 3, 10, 30, 100], SIX = [0, 1, 3, 10, 30, 100];
const SYNAPSE_GRIDS = [FIVE, FIVE, SIX, SIX, FIVE, SIX, FIVE]; // the three synapses onto PY also take 1 nS

describe('network sweeps', () => {
  it('rows equal simulate() of the same networks from the isolated start (f64 CPU engine)', async () => {
    // Four networks: two AB/PD cells × LP 4 × PY 1 × two AB→LP strengths; the rest at network e's.
    // 0.5 s alone, then 3 s connected, classified over the last 2 s.
    const spec = parseSweepSpec({
      model: 'pyloric', init: 'isolated:500', durationMs: 3000, discardMs: 1000, engine: 'cpu', maxima: 4096, chunkSize: 3,
      cells: { ABPD: { choice: ['ABPD2', 'ABPD4'] }, LP: { choice: ['LP4'] }, PY: { choice: ['PY1'] } },
      parameters: { gSynABtoLP: { grid: [3, 30] } },
      fixed: { gSynPDtoLP: 30, gSynABtoPY: 10, gSynPDtoPY: 3, gSynLPtoABPD: 30, gSynLPtoPY: 1, gSynPYtoLP: 30 },
      tangents: ['gSynABtoLP'],
    });
    const sink = memorySink();
    await runSweepShard(resolveSweep(spec), { index: 0, count: 1 }, sink);
    const cells = column(sink.columns, 'ABPD') as string[];
    const strengths = column(sink.columns, 'gSynABtoLP') as number[];
    // grid order: the cell choice is the most significant digit
    expect(cells).toEqual(['ABPD2', 'ABPD2', 'ABPD4', 'ABPD4']);
    expect(strengths).toEqual([3, 30, 3, 30]);
    for (let i = 0; i < 4; i++) {
      const r = await simulate({
        model: pyloric({ cells: [cells[i], 'LP4', 'PY1'], synapsesNs: [strengths[i], 30, 10, 3, 30, 1, 30] }),
        init: 'isolated:500', durationMs: 3000, discardMs: 1000, engine: 'cpu', tangents: ['gSynABtoLP'], conditioning: false,
      });
      // simulate folds the cells' conductances into constants and runs the isolated phase as its own
      // run; the sweep passes them per instance. Same f64 scheme, so the runs agree to rounding,
      // which 120,000 steps of spiking amplify: means within 1e-6 relative (measured below 1e-9),
      // features within 0.1 ms, and the same classes.
      expect(column(sink.columns, 'class')[i], `network ${i} class`).toBe(r.network!.class);
      expect(column(sink.columns, 'reason')[i]).toBe(r.network!.reason);
      for (const cell of ['ABPD', 'LP', 'PY']) {
        const c = r.cells![cell];
        expect(column(sink.columns, `${cell}_class`)[i], `${cell} class`).toBe(c.activity.class);
        expect(column(sink.columns, `${cell}_spikeCount`)[i]).toBe(c.spikeCount);
        const mean = column(sink.columns, `mean${cell}_VMv`)[i] as number;
        expect(Math.abs(mean - c.observables.meanVMv!)).toBeLessThan(1e-6 * Math.abs(c.observables.meanVMv!));
        const ca = column(sink.columns, `mean${cell}_CaUM`)[i] as number;
        expect(Math.abs(ca - c.observables.meanCaUM!)).toBeLessThan(1e-6 * Math.abs(c.observables.meanCaUM!));
        const grad = column(sink.columns, `d_mean${cell}_VMv_d_gSynABtoLP`)[i] as number;
        const g = c.tangents.meanVMv.gSynABtoLP;
        expect(Math.abs(grad - g)).toBeLessThan(1e-6 * Math.max(1e-3, Math.abs(g)));
        const period = column(sink.columns, `${cell}_burstPeriodMs`)[i] as number | null;
        if (c.activity.burstPeriodMs === null) expect(period).toBeNull();
        else expect(Math.abs(period! - c.activity.burstPeriodMs)).toBeLessThan(0.1);
      }
      const period = column(sink.columns, 'periodMs')[i] as number | null;
      if (r.network!.periodMs === null) expect(period).toBeNull();
      else expect(Math.abs(period! - r.network!.periodMs)).toBeLessThan(0.1);
      for (const [f] of PYLORIC_FEATURES.slice(1)) {
        const v = column(sink.columns, f)[i] as number | null, want = r.network!.features[f];
        if (want === null) expect(v, f).toBeNull();
        else expect(Math.abs(v! - want), f).toBeLessThan(f.endsWith('Ms') ? 0.1 : 1e-4);
      }
    }
  }, 120_000);

  it('one kernel per setting of the cells: in grid order chunks are cut where the cells change and run with the cells folded in; rows equal the per-network kernel\'s (f64)', async () => {
    // six networks: three AB/PD cells × two strengths
    const input: SweepSpecInput = {
      model: 'pyloric', init: 'isolated:500', durationMs: 1500, discardMs: 500, engine: 'cpu', maxima: 1024,
      cells: { ABPD: { choice: ['ABPD1', 'ABPD2', 'ABPD5'] }, LP: { choice: ['LP3'] }, PY: { choice: ['PY2'] } },
      parameters: { gSynABtoLP: { grid: [3, 30] } },
      fixed: { gSynPDtoLP: 30, gSynABtoPY: 10, gSynPDtoPY: 3, gSynLPtoABPD: 30, gSynLPtoPY: 1, gSynPYtoLP: 30 },
    };
    // a setting of the cells spans 2 networks: it fills chunks of 2, not chunks of 3
    const folded = resolveSweep(parseSweepSpec({ ...input, chunkSize: 2 }));
    const perNetwork = resolveSweep(parseSweepSpec({ ...input, chunkSize: 3 }));
    expect(cellSettingBlock(folded)).toBe(2);
    expect(cellSettingBlock(perNetwork)).toBeUndefined();
    const [a, b] = [memorySink(), memorySink()];
    await runSweepShard(folded, { index: 0, count: 1 }, a);
    await runSweepShard(perNetwork, { index: 0, count: 1 }, b);
    expect(a.columns.length).toBe(3);
    expect(column(a.columns, 'ABPD')).toEqual(['ABPD1', 'ABPD1', 'ABPD2', 'ABPD2', 'ABPD5', 'ABPD5']);
    // the same f64 scheme with constants in place of per-network values: equal to rounding (LP 3 has
    // no H and PY 2 no CaS, so the folded kernels also skip those gates)
    for (const name of ['class', 'ABPD_class', 'LP_class', 'PY_class', 'ABPD_spikeCount', 'LP_spikeCount', 'PY_spikeCount']) {
      expect(column(a.columns, name), name).toEqual(column(b.columns, name));
    }
    for (const name of ['meanABPD_VMv', 'meanLP_VMv', 'meanPY_VMv', 'meanLP_CaUM']) {
      const x = column(a.columns, name) as number[], y = column(b.columns, name) as number[];
      x.forEach((v, i) => expect(Math.abs(v - y[i]), `${name}[${i}]`).toBeLessThan(1e-9 * Math.abs(y[i])));
    }

    // the database: each of the 150 settings spans 5⁴·6³ = 135,000 networks; the 0.1 % sample is a
    // subsample (neighbouring rows have unrelated cells), so it runs the per-network kernel
    const database = resolveSweep(parseSweepSpec(await readSpecFile(join(import.meta.dirname!, '..', 'examples', 'prinz-2004.yaml'))));
    expect(cellSettingBlock(database)).toBe(135_000);
    expect(cellSettingBlock(resolveSweep(parseSweepSpec(await readSpecFile(join(import.meta.dirname!, '..', 'examples', 'prinz-2004-sample.yaml')))))).toBeUndefined();
    const chunks = chunkRanges({ start: 130_000, end: 150_000 }, 8192, 135_000);
    expect(chunks).toEqual([{ start: 130_000, end: 135_000 }, { start: 135_000, end: 143_192 }, { start: 143_192, end: 150_000 }]);
  }, 120_000);

  it('with tangents of cell parameters (cold start) the folded kernels keep those parameters per network: gradients equal the per-network kernel\'s, d/dLP.gCaT at gCaT = 0 included', async () => {
    const input: SweepSpecInput = {
      model: 'pyloric', init: 'cold', durationMs: 400, discardMs: 100, engine: 'cpu', maxima: 256,
      cells: { ABPD: { choice: ['ABPD1', 'ABPD3'] }, LP: { choice: ['LP3'] }, PY: { choice: ['PY6'] } },
      parameters: { gSynABtoLP: { grid: [3, 30] } }, tangents: ['LP.gCaS', 'log:ABPD.gNa', 'LP.gCaT'],
    };
    const gradients = async (chunkSize: number) => {
      const sweep = resolveSweep(parseSweepSpec({ ...input, chunkSize }));
      const sink = memorySink();
      await runSweepShard(sweep, { index: 0, count: 1 }, sink);
      return { block: cellSettingBlock(sweep), d: ['d_meanLP_VMv_d_LP.gCaS', 'd_meanLP_VMv_d_log_ABPD.gNa', 'd_meanLP_VMv_d_LP.gCaT'].map((n) => column(sink.columns, n) as number[]) };
    };
    const folded = await gradients(2), perNetwork = await gradients(3);
    expect(folded.block).toBe(2);
    expect(perNetwork.block).toBeUndefined();
    folded.d.forEach((values, k) => values.forEach((v, i) => expect(Math.abs(v - perNetwork.d[k][i]), `lane ${k}, network ${i}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(v)))));
    // LP 3 has no CaT, yet its CaT gates are advanced for the lane: the gradient is not 0
    expect(folded.d[2].every((v) => Math.abs(v) > 1e-3)).toBe(true);
  }, 120_000);

  /** Runs the sweep as 1 and as 3 shards, each merged and read back from Parquet: the tables must be equal, column by column. */
  async function oneAndThreeShards(input: SweepSpecInput) {
    const spec = parseSweepSpec(input);
    const sweep = resolveSweep(spec);
    const hash = await specHash(spec);
    const run = async (shards: number) => {
      const dir = await mkdtemp(join(tmpdir(), 'ionsweep-netsweep-'));
      dirs.push(dir);
      for (let index = 0; index < shards; index++) {
        const shard = { index, count: shards };
        const store = new ShardStore(dir, shard, { specHash: hash, spec, total: sweep.total, range: shardRange(sweep.total, shard) });
        await store.prepare(false);
        await store.finish(await runSweepShard(sweep, shard, store));
      }
      expect((await verifySweep(dir)).problems).toEqual([]);
      const out = join(dir, 'merged.parquet');
      await mergeSweep(dir, out);
      return readParquet(out);
    };
    const one = await run(1), three = await run(3);
    expect(three.rows).toBe(sweep.total);
    expect(three.columns.map((c) => c.name)).toEqual(one.columns.map((c) => c.name));
    for (const c of one.columns) {
      const other = three.columns.find((x) => x.name === c.name)!;
      expect(Array.from(other.data as ArrayLike<unknown>), c.name).toEqual(Array.from(c.data as ArrayLike<unknown>));
    }
    return { sweep, one };
  }

  it('sharded and merged rows equal one shard, read back from Parquet; verify passes', async () => {
    const { one } = await oneAndThreeShards({
      model: 'pyloric', init: 'isolated:500', durationMs: 1500, discardMs: 500, engine: 'cpu', maxima: 256, chunkSize: 2,
      sampling: 'lhs', samples: 7, seed: 5,
      cells: { ABPD: { choice: ['ABPD1', 'ABPD3'] }, PY: { choice: ['PY2', 'PY6'] } },
      parameters: { gSynLPtoABPD: { uniform: [0, 100] }, 'LP.gA': { uniform: [10, 50] } },
    });
    // the LP conductance is a column of its own, and every choice is one of those listed
    expect(new Set(Array.from(one.columns.find((c) => c.name === 'ABPD')!.data as ArrayLike<unknown>))).toEqual(new Set(['ABPD1', 'ABPD3']));
    for (const g of Array.from(one.columns.find((c) => c.name === 'LP.gA')!.data as ArrayLike<number>)) expect(g >= 10 && g <= 50).toBe(true);
  }, 120_000);

  it('with one kernel per setting of the cells too: a shard that straddles two settings gives the rows of one shard', async () => {
    // 2 settings × 3 strengths; the 3 shards are [0, 2), [2, 4), [4, 6), so the middle one holds the
    // last network of the first setting and the first of the second
    const { sweep } = await oneAndThreeShards({
      model: 'pyloric', init: 'isolated:500', durationMs: 1500, discardMs: 500, engine: 'cpu', maxima: 256, chunkSize: 2,
      cells: { ABPD: { choice: ['ABPD1', 'ABPD3'] }, LP: { choice: ['LP3'] }, PY: { choice: ['PY6'] } },
      parameters: { gSynABtoLP: { grid: [3, 30, 100] } },
    });
    expect(cellSettingBlock(sweep)).toBe(3);
    expect(chunkRanges(shardRange(sweep.total, { index: 1, count: 3 }), 2, 3)).toEqual([{ start: 2, end: 3 }, { start: 3, end: 4 }]);
  }, 120_000);
});

describe('the class table a network sweep prints', () => {
  it('counts networks in the network classes, a neuron sweep models in the activity classes', () => {
    const net = classTable({ pyloric: 1, 'non-periodic': 3 }, 4, null).split('\n');
    expect(net[0]).toMatch(/^class +networks +fraction$/);
    expect(net.map((l) => l.split(/ +/)[0]).slice(1)).toEqual(['pyloric', 'pyloric-like', 'periodic', 'non-periodic']);
    expect(net[4]).toMatch(/^non-periodic +3 +75\.0 %$/);
    expect(classTable({ bursting: 2 }, 2, null).split('\n')[0]).toMatch(/^class +models +fraction$/);
  });
});

describe('network sweeps on the GPU engine', () => {
  /** The sweep on both engines: same rows, f32 within 0.5 mV of f64 on every cell's mean V (as for single networks, network-gpu.test.ts). */
  async function gpuAgreesWithF64(input: SweepSpecInput, networks: number) {
    const gpu = await gpuForTests();
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    const rows = async (engine: 'cpu' | 'gpu') => {
      const sink = memorySink();
      await runSweepShard(resolveSweep(parseSweepSpec({ ...input, engine })), { index: 0, count: 1 }, sink, { gpu });
      return sink.columns;
    };
    const cpu = await rows('cpu'), onGpu = await rows('gpu');
    expect(column(onGpu, 'ABPD')).toEqual(column(cpu, 'ABPD'));
    expect(column(onGpu, 'status')).toEqual(Array(networks).fill('ok'));
    for (const cell of ['ABPD', 'LP', 'PY']) {
      const a = column(cpu, `mean${cell}_VMv`) as number[], b = column(onGpu, `mean${cell}_VMv`) as number[];
      a.forEach((v, i) => expect(Math.abs(b[i] - v), `${cell} network ${i}`).toBeLessThan(0.5));
    }
  }

  it('the database kernel (per-network cells and start values) agrees with the f64 engine on the same rows', async () => {
    // four networks of examples/prinz-2004-sample.yaml's kind, 0.5 s alone then 1 s connected
    await gpuAgreesWithF64({
      model: 'pyloric', init: 'isolated:500', durationMs: 1000, discardMs: 300, maxima: 256, sampling: 'random', samples: 4, seed: 2,
      cells: { ABPD: { choice: ['ABPD1', 'ABPD2', 'ABPD3', 'ABPD4', 'ABPD5'] }, LP: { choice: ['LP1', 'LP2', 'LP3', 'LP4', 'LP5'] }, PY: { choice: ['PY1', 'PY2', 'PY3', 'PY4', 'PY5', 'PY6'] } },
      parameters: Object.fromEntries(SYNAPSES.map((s) => [s, { uniform: [0, 100] }])),
    }, 4);
  }, 120_000);

  it('in grid order, one kernel per setting of the cells (each compiled while the chunk before runs) agrees with the f64 engine', async () => {
    // four settings × two strengths in chunks of two: four kernels, each after the first prepared
    // while the chunk before it runs
    await gpuAgreesWithF64({
      model: 'pyloric', init: 'isolated:500', durationMs: 1000, discardMs: 300, maxima: 256, chunkSize: 2,
      cells: { ABPD: { choice: ['ABPD2', 'ABPD5'] }, LP: { choice: ['LP3', 'LP4'] }, PY: { choice: ['PY2'] } },
      parameters: { gSynABtoLP: { grid: [3, 30] } },
      fixed: { gSynPDtoLP: 30, gSynABtoPY: 10, gSynPDtoPY: 3, gSynLPtoABPD: 30, gSynLPtoPY: 1, gSynPYtoLP: 30 },
    }, 8);
  }, 120_000);
});

describe('the Prinz 2004 database numbering (examples/prinz-2004.yaml)', () => {
  const load = async (file: string) => resolveSweep(parseSweepSpec(await readSpecFile(join(import.meta.dirname!, '..', 'examples', file))));

  /**
   * The published rule written out independently: 3 cell indices (AB/PD 1-5, LP 1-5, PY 1-6), then the
   * 7 synapse indices in the paper's order, the first most significant; network n (from 0) is the n-th
   * setting of ten nested loops, AB/PD outermost and PY→LP innermost.
   */
  function published(n: number) {
    const radices = [5, 5, 6, ...SYNAPSE_GRIDS.map((g) => g.length)];
    const digits: number[] = [];
    for (let d = radices.length - 1; d >= 0; d--) {
      digits.unshift(n % radices[d]);
      n = Math.floor(n / radices[d]);
    }
    return {
      cells: [`ABPD${digits[0] + 1}`, `LP${digits[1] + 1}`, `PY${digits[2] + 1}`],
      synapsesNs: SYNAPSE_GRIDS.map((g, k) => g[digits[3 + k]]),
      code: digits.join(''),
    };
  }

  it('20,250,000 networks; gridIndex ↔ cells, strengths and gridCode as the paper numbers them', async () => {
    const sweep = await load('prinz-2004.yaml');
    expect(sweep.total).toBe(20_250_000);
    const sampler = makeSampler(sweep);
    const choice = (axis: string, k: number) => sweep.cellChoices!.find((c) => c.name === axis)!.labels[k];
    const radices = sweep.axes.map((a) => a.values!.length);
    // the first 2,000 networks by counting through the loops, then scattered ones and the last
    const indices = [...Array.from({ length: 2000 }, (_, i) => i), ...Array.from({ length: 2000 }, (_, i) => (i * 10_123_457) % 20_250_000), 20_249_999];
    let counted = -1;
    const loops = { cells: [1, 1, 1], syn: [0, 0, 0, 0, 0, 0, 0] };
    for (const n of indices) {
      const v = sampler.valuesOf(n);
      const want = published(n);
      expect([choice('ABPD', v[0]), choice('LP', v[1]), choice('PY', v[2])]).toEqual(want.cells);
      expect(Array.from(v.slice(3))).toEqual(want.synapsesNs);
      expect(sweep.axes.slice(3).map((a) => a.name)).toEqual(SYNAPSES);
      expect(gridCode(n, radices)).toBe(want.code);
      expect(gridIndexOfCode(want.code, radices)).toBe(n);
      if (n === counted + 1 && n < 2000) {
        // the nested loops themselves, innermost (PY→LP) fastest
        counted++;
        expect(n).toBe(counted);
        expect(SYNAPSE_GRIDS.map((g, k) => g[loops.syn[k]])).toEqual(want.synapsesNs);
        for (let k = 6; k >= 0; k--) {
          if (++loops.syn[k] < SYNAPSE_GRIDS[k].length) break;
          loops.syn[k] = 0;
        }
      }
    }
    // network e of the paper: AB/PD 2, LP 4, PY 1 at 30, 30, 10, 3, 30, 1, 30 nS
    const e = gridIndexOfCode('1303332313', radices);
    expect(published(e)).toEqual({ cells: ['ABPD2', 'LP4', 'PY1'], synapsesNs: [30, 30, 10, 3, 30, 1, 30], code: '1303332313' });
  });

  it('the sample is 20,250 distinct networks of the database, each cell choice about equally often', async () => {
    const sample = await load('prinz-2004-sample.yaml');
    expect(sample.total).toBe(20_250);
    const sampler = makeSampler(sample);
    const seen = new Set<number>();
    const abpd = [0, 0, 0, 0, 0];
    for (let i = 0; i < sample.total; i++) {
      const g = sampler.gridIndexOf!(i);
      expect(g >= 0 && g < 20_250_000).toBe(true);
      seen.add(g);
      abpd[sampler.valuesOf(i)[0]]++;
    }
    expect(seen.size).toBe(20_250);
    // a uniform draw gives each AB/PD cell 4,050 ± 57 (binomial sd); 5 sd either way
    for (const count of abpd) expect(Math.abs(count - 4050)).toBeLessThan(5 * Math.sqrt(20_250 * 0.2 * 0.8));
  });
});

describe('network sweep specs are refused with the field named', () => {
  const base = { model: 'pyloric', durationMs: 1000, parameters: { gSynABtoLP: { grid: [0, 3] } } };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['cells on a single neuron', { model: 'prinz', parameters: { gNa: { grid: [100] } }, cells: { V: { choice: ['ABPD1'] } } }, /cells: model prinz is a single neuron/],
    ['an unknown cell', { cells: { AB: { choice: ['ABPD1'] } } }, /cells\.AB: not a cell of pyloric; its cells are ABPD, LP, PY/],
    ['an unknown Table 2 name', { cells: { LP: { choice: ['LP9'] } } }, /cells\.LP\.choice\[0\]: unknown cell 'LP9'; allowed: ABPD1/],
    ['a cell listed twice', { cells: { LP: { choice: ['LP1', 'LP1'] } } }, /cells\.LP\.choice: a cell is listed twice/],
    ['an empty choice', { cells: { LP: { choice: [] } } }, /cells\.LP\.choice.*at least one cell/],
    ['a choice and a parameter setting the same conductance', { cells: { LP: { choice: ['LP1'] } }, parameters: { 'LP.gA': { grid: [10] } } }, /parameters\.LP\.gA: also set by cells\.LP\.choice/],
    ['a choice and a fixed value of the same conductance', { cells: { LP: { choice: ['LP1'] } }, fixed: { 'LP.gKd': 50 } }, /fixed\.LP\.gKd: also set by cells\.LP\.choice/],
    ['isolated on a single neuron', { model: 'prinz', parameters: { gNa: { grid: [100] } }, init: 'isolated:1000' }, /init: isolated:MS is for networks/],
    ['a malformed init', { init: 'isolated' }, /init.*must be steady, cold or isolated:MS/],
    ['a network-wide current', { currentUAPerCm2: 1 }, /currentUAPerCm2: a network's cells have their own injected currents/],
    ['a cell gradient with the isolated start', { init: 'isolated:1000', tangents: ['log:LP.gA'] }, /tangents: log:LP\.gA: with init isolated:MS/],
  ];
  for (const [what, patch, message] of cases) {
    it(what, () => {
      expect(() => resolveSweep(parseSweepSpec({ ...base, ...patch }))).toThrow(message);
    });
  }
});

describe('the per-synapse figure of a network sweep', () => {
  it('counts each group at each strength as counted by hand', async () => {
    const { synapseDistributions, synapseDistributionSpec } = await import('../src/io/plot/network-synapses-figure.ts');
    const { renderSvg } = await import('../src/io/plot/figure.ts');
    const columns: Column[] = [
      { name: 'gSynLPtoPY', type: 'DOUBLE', data: Float64Array.from([0, 1, 10, 10, 0, 100]) },
      { name: 'class', type: 'STRING', data: ['pyloric', 'pyloric-like', 'pyloric', 'non-periodic', 'periodic', 'pyloric'] },
    ];
    const d = synapseDistributions(columns, ['gSynLPtoPY']);
    const at = (group: string, v: number) => d.find((x) => x.group === group && x.strengthNs === v)!;
    // pyloric: rows 0, 2, 5 → strengths 0, 10, 100; pyloric-like or pyloric adds row 1 (1 nS)
    expect([0, 1, 10, 100].map((v) => at('pyloric', v).networks)).toEqual([1, 0, 1, 1]);
    expect(at('pyloric', 10).fraction).toBeCloseTo(1 / 3, 15);
    expect([0, 1, 10, 100].map((v) => at('pyloric-like or pyloric', v).networks)).toEqual([1, 1, 1, 1]);
    expect([0, 1, 10, 100].map((v) => at('all networks', v).networks)).toEqual([2, 1, 2, 1]);
    const svg = await renderSvg(synapseDistributionSpec(columns, ['gSynLPtoPY'], { labels: { gSynLPtoPY: 'LP→PY' } }));
    expect(svg).toContain('LP→PY');
    expect(svg).toContain('pyloric (3)');
  });
});
