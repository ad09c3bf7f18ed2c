/**
 * Sweeps end to end: rows do not depend on sharding or on being killed and resumed, and the
 * classifier recovers the published behaviour of the Prinz 2004 model neurons.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquet } from '../src/io/parquet.ts';
import { indexProblems, mergeSweep, verifySweep } from '../src/io/sweep-merge.ts';
import { ShardStore } from '../src/io/sweep-store.ts';
import { WorkerShardStore } from '../src/io/worker-shard-store.ts';
import { runSweepShard, shardRange } from '../src/jobs/sweep/run.ts';
import { parseSweepSpec, resolveSweep, specHash, type SweepSpecInput } from '../src/jobs/sweep/spec.ts';
import { PRINZ_2004_CELLS, CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { gpuForTests } from './gpu-helper.ts';

await gpuForTests(); // in CI the sweeps below must run on the GPU engine, not silently fall back
const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ionsweep-sweep-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const SPEC: SweepSpecInput = {
  model: 'prinz',
  durationMs: 1500,
  discardMs: 500,
  sampling: 'lhs',
  samples: 210,
  seed: 11,
  parameters: { gNa: { uniform: [50, 500] }, gCaS: { uniform: [1, 10] }, gKd: { logUniform: [20, 125] }, gA: { uniform: [5, 50] } },
  fixed: { gCaT: 2.5, gKCa: 5, gH: 0.02 },
  tangents: ['log:gCaS'],
  chunkSize: 15,
};

/** Runs every shard in this process, storing rows on this thread or (inWorker) in the sink's worker. */
async function runInProcess(outDir: string, shards: number, inWorker = false) {
  const spec = parseSweepSpec(SPEC);
  const sweep = resolveSweep(spec);
  const hash = await specHash(spec);
  for (let index = 0; index < shards; index++) {
    const shard = { index, count: shards };
    const identity = { specHash: hash, spec, total: sweep.total, range: shardRange(sweep.total, shard) };
    const store = inWorker ? new WorkerShardStore(outDir, shard, identity) : new ShardStore(outDir, shard, identity);
    try {
      await store.prepare(false);
      const report = await runSweepShard(sweep, shard, store);
      await store.finish(report);
      if (inWorker) expect(report.timings.sinkMs, 'the worker reports its host time').toBeGreaterThan(0);
    } finally {
      if (store instanceof WorkerShardStore) store.close();
    }
  }
  await mergeSweep(outDir, join(outDir, 'merged.parquet'));
  return readParquet(join(outDir, 'merged.parquet'));
}

function cli(args: string[]) {
  // the CLI entry under this same Deno, so a SIGKILL reaches the process doing the work
  return spawn(process.execPath, ['run', '-A', '--quiet', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

describe('sweep', () => {
  let reference: Awaited<ReturnType<typeof runInProcess>>;

  it('gives the same table from 1 shard and from 7 shards (stored on this thread, and in a worker)', async () => {
    reference = await runInProcess(await tempDir(), 1);
    const seven = await runInProcess(await tempDir(), 7, true);
    expect(reference.rows).toBe(210);
    expect(seven.columns.map((c) => c.name)).toEqual(reference.columns.map((c) => c.name));
    for (const [k, column] of reference.columns.entries()) {
      expect(Array.from(seven.columns[k].data as ArrayLike<unknown>), column.name).toEqual(Array.from(column.data as ArrayLike<unknown>));
    }
    const classes = new Set(reference.columns.find((c) => c.name === 'class')!.data as string[]);
    expect(classes.size, 'the sample spans more than one activity class').toBeGreaterThan(1);
  });

  it('resumes a shard killed with SIGKILL at a random moment to the same rows, in the same order', async () => {
    const dir = await tempDir();
    const specPath = join(dir, 'spec.json');
    await writeFile(specPath, JSON.stringify(SPEC));
    const out = join(dir, 'out');
    const child = cli(['sweep', specPath, '--out', out, '--quiet']);
    const exit = finished(child);
    // wait until at least one chunk is stored, then kill at a random moment within the next second
    const parts = join(out, 'shard-00000-of-00001');
    for (let t = 0; t < 600; t++) {
      const names = await readdir(parts).catch(() => [] as string[]);
      if (names.some((n) => n.endsWith('.parquet') && n.startsWith('part-'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    child.kill('SIGKILL');
    const killed = await exit;
    expect(killed.signal, `the sweep finished before it could be killed: ${killed.stderr}`).toBe('SIGKILL');
    await expect(stat(join(out, 'shard-00000-of-00001.json')), 'no manifest for a killed shard').rejects.toThrow();
    // no half-written part survives under a final name
    for (const n of await readdir(parts)) expect(n).toMatch(/^part-\d+-\d+\.parquet$|\.tmp-|^record\.json$/);

    const again = await finished(cli(['sweep', specPath, '--out', out, '--quiet']));
    expect(again.code, 'without --resume an interrupted shard is not overwritten').toBe(2);
    expect(again.stderr).toMatch(/--resume/);

    const resumed = await finished(cli(['sweep', specPath, '--out', out, '--resume', '--quiet']));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await verifySweep(out)).problems).toEqual([]);
    await mergeSweep(out, join(out, 'merged.parquet'));
    const table = await readParquet(join(out, 'merged.parquet'));
    for (const [k, column] of reference.columns.entries()) {
      expect(Array.from(table.columns[k].data as ArrayLike<unknown>), column.name).toEqual(Array.from(column.data as ArrayLike<unknown>));
    }
  });

  it('verify reports a missing shard and a duplicated index', async () => {
    const dir = await tempDir();
    const spec = parseSweepSpec(SPEC);
    const sweep = resolveSweep(spec);
    const shard = { index: 1, count: 3 };
    const store = new ShardStore(dir, shard, { specHash: await specHash(spec), spec, total: sweep.total, range: shardRange(sweep.total, shard) });
    await store.prepare(false);
    await store.finish(await runSweepShard(sweep, shard, store));
    const { problems } = await verifySweep(dir);
    expect(problems.join('; ')).toMatch(/missing shards of 3: 0, 2/);
    const table = { rows: 4, metadata: {}, columns: [{ name: 'index', type: 'INT32' as const, data: [5, 6, 6, 8] }] };
    expect(indexProblems(table, 5, 9, 't').join('; ')).toMatch(/1 duplicated indices.*1 indices of \[5, 9\) missing.*not in index order/);
  });
});

describe('shard store', () => {
  it('streams chunks that arrive in order, and rebuilds the table from parts when they do not', async () => {
    const chunk = (start: number, end: number) => [
      { name: 'index', type: 'INT32' as const, data: Int32Array.from({ length: end - start }, (_, i) => start + i) },
      { name: 'x', type: 'DOUBLE' as const, data: Float64Array.from({ length: end - start }, (_, i) => Math.sqrt(start + i)) },
    ];
    for (const order of [[0, 1, 2], [2, 0, 1]]) {
      const dir = await tempDir();
      const shard = { index: 0, count: 1 };
      const store = new ShardStore(dir, shard, { specHash: 'h', spec: parseSweepSpec(SPEC), total: 30, range: { start: 0, end: 30 } });
      await store.prepare(false);
      await store.begin('cpu');
      for (const k of order) await store.writeChunk({ start: 10 * k, end: 10 * k + 10 }, chunk(10 * k, 10 * k + 10));
      await store.finish({ range: { start: 0, end: 30 }, rows: 30, timings: { wallMs: 0, engineWaitMs: 0, hostMs: 0, sinkMs: 0 }, chunks: 3, chunksResumed: 0 });
      const table = await readParquet(join(dir, 'shard-00000-of-00001.parquet'));
      expect(Array.from(table.columns[0].data as ArrayLike<number>), `order ${order}`).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(table.metadata.ionsweep_spec_hash).toBe('h');
      expect(await readdir(dir)).not.toContain('shard-00000-of-00001');
    }
  });
});

describe('activity classes of the Prinz 2004 model neurons', () => {
  it('AB/PD 1–5 are periodic bursters, as published; the engines agree on every class', async () => {
    const { compile } = await import('../src/compile/compile.ts');
    const { runEnsemble } = await import('../src/engine/run.ts');
    const { featureColumns } = await import('../src/analysis/features.ts');
    const program = compile((await import('../src/channels/index.ts')).libraryModel('prinz'), { dtMs: 0.025, instanceParams: [...CONDUCTANCE_NAMES] });
    const params = Object.fromEntries(CONDUCTANCE_NAMES.map((g) => [g, PRINZ_2004_CELLS.map((c) => c.conductances[g])]));
    const classesOf = async (engine: 'cpu' | 'auto') => {
      const { result } = await runEnsemble({ program, N: 16, params, durationMs: 20_000, discardMs: 10_000, maximaCapacity: 512 }, { engine });
      const cols = featureColumns(result, 10_000, 20_000);
      return { cls: cols.find((c) => c.name === 'class')!.data as string[], period: cols.find((c) => c.name === 'burstPeriodMs')!.data as (number | null)[] };
    };
    const [cpu, gpu] = [await classesOf('cpu'), await classesOf('auto')];
    expect(gpu.cls).toEqual(cpu.cls);
    for (let i = 0; i < 5; i++) {
      expect(cpu.cls[i], PRINZ_2004_CELLS[i].name).toBe('bursting');
      // intrinsic bursting periods of the AB/PD models lie in the range of the pyloric rhythm they drive
      expect(cpu.period[i]!).toBeGreaterThan(500);
      expect(cpu.period[i]!).toBeLessThan(2500);
      expect(Math.abs(gpu.period[i]! / cpu.period[i]! - 1)).toBeLessThan(0.01);
    }
  });
});
