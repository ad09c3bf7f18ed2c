/**
 * A sweep's host work on several threads (`--host-workers`, src/io/chunk-encoder-pool.ts): each chunk
 * is cut into slices that worker threads classify and encode as Parquet row groups (and each as a
 * Parquet file, the slice's part file), which the shard store writes and splices into its table. The rows must be those of one thread. A small
 * network sweep runs once (on the f64 CPU engine, and on the GPU engine); its chunks are stored by a ShardStore with 1 and with 3
 * workers, and the two tables, read by ionsweep's reader and by an independent one (parquet-wasm,
 * Arrow's Rust implementation), hold the same cells bit for bit. The 3-worker table holds 3 row
 * groups per chunk, so the workers did encode it; a shard resumed from parts the workers wrote
 * gives the same rows again. Every string column chunk is dictionary-encoded, even in a 1-row slice
 * (a column mixing PLAIN and dictionary row groups loses strings in fastparquet).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquet, type Table } from '../src/io/parquet.ts';
import { ShardStore } from '../src/io/sweep-store.ts';
import { summarise, type ChunkData } from '../src/jobs/sweep/rows.ts';
import { runSweepShard, shardRange } from '../src/jobs/sweep/run.ts';
import { parseSweepSpec, resolveSweep, specHash } from '../src/jobs/sweep/spec.ts';
import { readParquetWithArrow, sameCell } from './arrow-reader.ts';
import { cli } from './cli-helper.ts';
import { gpuForTests } from './gpu-helper.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/**
 * Runs the sweep on `engine`, then stores its chunks with 1 and 3 workers (and 3 with a resume) and
 * compares the tables. The GPU engine reads its maxima rings into shared memory, which the slices
 * share instead of copying; the CPU engine's are copied.
 */
async function compareWorkers(engine: 'cpu' | 'gpu') {
  {
    const spec = parseSweepSpec({
      model: 'pyloric', init: 'isolated:500', durationMs: 2500, discardMs: 500, engine, maxima: 256, chunkSize: 4,
      sampling: 'lhs', samples: 8, seed: 3,
      cells: { ABPD: { choice: ['ABPD1', 'ABPD4'] }, LP: { choice: ['LP2', 'LP4'] }, PY: { choice: ['PY1', 'PY5'] } },
      parameters: { gSynLPtoABPD: { uniform: [0, 100] }, gSynABtoLP: { uniform: [0, 100] }, gSynPYtoLP: { uniform: [0, 100] } },
    });
    const sweep = resolveSweep(spec);
    const shard = { index: 0, count: 1 };
    const identity = { specHash: await specHash(spec), spec, total: sweep.total, range: shardRange(sweep.total, shard) };
    // the chunks' data, kept (a store takes ownership of what it is given)
    const chunks: ChunkData[] = [];
    const report = await runSweepShard(sweep, shard, {
      begin: async () => {}, storedRanges: async () => [],
      storeChunk: async (data) => (chunks.push(structuredClone(data)), summarise([], 0)),
    });
    expect(chunks.length).toBe(2);
    // the GPU engine's rings are in shared memory (slices share them), the CPU engine's are not (slices copy them)
    const shared = chunks.every((c) => c.maxima.every((m) => m.groups.every((g) => (g.block as Float32Array).buffer instanceof SharedArrayBuffer)));
    expect(shared).toBe(engine === 'gpu');

    const store = async (workers: number, stopAfter?: number) => {
      const dir = await mkdtemp(join(tmpdir(), 'ionsweep-hostworkers-'));
      dirs.push(dir);
      let s = new ShardStore(dir, shard, identity, { hostWorkers: workers });
      await s.prepare(false);
      await s.begin(engine);
      for (const [k, c] of chunks.entries()) {
        if (k === stopAfter) {
          // a run killed after its first chunk: a new store resumes from the stored part
          s.close();
          s = new ShardStore(dir, shard, identity, { hostWorkers: workers });
          await s.prepare(true);
          await s.begin(engine);
          expect(await s.storedRanges()).toEqual([chunks[0].range]);
        }
        await s.storeChunk(structuredClone(c));
      }
      const manifest = await s.finish(report);
      s.close();
      return { path: join(dir, manifest.table), manifest };
    };
    const one = await store(1), three = await store(3), resumed = await store(3, 1);
    const groups = (path: string) => parquetMetadata(readFileSync(path).buffer as ArrayBuffer).row_groups.map((g) => Number(g.num_rows));
    expect(groups(one.path)).toEqual([4, 4]);
    expect(groups(three.path)).toEqual([1, 1, 2, 1, 1, 2]);
    // every string column chunk holds a dictionary, whatever its row group's size: fastparquet (2026.9)
    // loses the strings of a PLAIN row group in a column whose other row groups have a dictionary, and
    // the writer, left to choose, made 1-row slices PLAIN
    const plainStrings = (path: string) => parquetMetadata(readFileSync(path).buffer as ArrayBuffer).row_groups.flatMap((g, k) =>
      g.columns.filter((c) => c.meta_data?.type === 'BYTE_ARRAY' && c.meta_data.dictionary_page_offset === undefined).map((c) => `row group ${k}: ${c.meta_data!.path_in_schema[0]}`));
    for (const t of [one, three, resumed]) expect(plainStrings(t.path)).toEqual([]);
    expect(three.manifest.classCounts).toEqual(one.manifest.classCounts);
    expect(three.manifest.burstPeriodMs).toEqual(one.manifest.burstPeriodMs);

    const reference: Table = await readParquet(one.path);
    expect(reference.rows).toBe(8);
    for (const path of [three.path, resumed.path]) {
      const other = await readParquet(path);
      expect(other.columns.map((c) => c.name)).toEqual(reference.columns.map((c) => c.name));
      for (const [k, c] of reference.columns.entries()) {
        expect(Array.from(other.columns[k].data as ArrayLike<unknown>), c.name).toEqual(Array.from(c.data as ArrayLike<unknown>));
      }
      // the independent reader sees the same cells in both files
      const [a, b] = await Promise.all([readParquetWithArrow(one.path), readParquetWithArrow(path)]);
      expect(b.names).toEqual(a.names);
      for (const name of a.names) {
        const x = a.columns.get(name)!, y = b.columns.get(name)!;
        expect(y.length).toBe(8);
        expect(x.every((v, i) => sameCell(v, y[i])), name).toBe(true);
      }
    }
    // the rows say something: several classes of cells, features where cells burst
    const cellClasses = new Set(['ABPD_class', 'LP_class', 'PY_class'].flatMap((n) => Array.from(reference.columns.find((c) => c.name === n)!.data as ArrayLike<string>)));
    expect(cellClasses.size).toBeGreaterThan(1);
  }
}

describe('host workers', () => {
  it('rows classified and encoded by 3 workers equal one thread\'s, read by two readers; resume from their parts too (CPU engine)', async () => {
    await compareWorkers('cpu');
  }, 120_000);

  it('sweep --host-workers refuses a count outside [1, 64], naming the flag', async () => {
    for (const bad of ['0', '65']) {
      const run = await cli(['sweep', 'examples/network-small.yaml', '--host-workers', bad, '--quiet']);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`--host-workers must be an integer in [1, 64], got '${bad}'`);
    }
  }, 60_000);

  it('the same on the GPU engine, whose maxima rings the slices share instead of copying', async () => {
    const gpu = await gpuForTests();
    if (!gpu) return; // no adapter outside CI (gpuForTests throws in CI)
    await compareWorkers('gpu');
  }, 120_000);
});
