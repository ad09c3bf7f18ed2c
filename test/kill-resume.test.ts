/**
 * Kill and resume at every file operation of a shard: the shard store's test hook
 * (IONSWEEP_TEST_KILL_AT=<op>:<n>, src/io/test-hooks.ts) SIGKILLs the sweep right after its n-th
 * record, trace, part, table or manifest write; `sweep --resume` must then give the same rows (every
 * column), the same trace files (byte for byte) and the same manifest (all but timings) as an
 * uninterrupted run, and leave no lock, parts folder or temporary file behind. A tiny CPU sweep
 * (6 hh models of 60 ms in 3 chunks, traces of models 1 and 4) keeps each run under a second. The
 * killed runs are the real command (bin/ionsweep.mjs); the reference and the resumes run main(argv)
 * in this process, to save a Deno start each.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import process from 'node:process';
import { main } from '../src/cli/main.ts';
import { readParquet, type Table } from '../src/io/parquet.ts';
import { verifySweep } from '../src/io/sweep-merge.ts';
import { cli } from './cli-helper.ts';

const SPEC = {
  model: 'hh', durationMs: 60, sampling: 'random', samples: 6, seed: 3,
  parameters: { gNa: { uniform: [0, 140] } }, currentUAPerCm2: 10,
  chunkSize: 2, engine: 'cpu', traces: { everyMs: 5, indices: [1, 4] },
};
const SHARD = 'shard-00000-of-00001';
/**
 * the file operations of this sweep: 1 record, 3 parts, 2 traces (chunks 0 and 2) of two files each
 * (the sidecar, then the NPY), 1 table, 1 manifest; the second trace's sidecar (trace:3) is left out,
 * the same point as trace:1 one chunk later
 */
const KILL_POINTS = ['record:1', 'trace:1', 'trace:2', 'part:1', 'part:2', 'trace:4', 'part:3', 'table:1', 'manifest:1'];
/** manifest fields that describe a run's timing, not its results */
const TIMING = ['timings', 'finishMs', 'completedAt', 'chunksResumed'];

let root: string;
let specPath: string;
let reference: { table: Table; traces: Map<string, Buffer>; manifest: Record<string, unknown> };

/** main(argv) in this process, its progress and report kept off the test's output; the exit status. */
async function inProcess(args: string[]): Promise<number> {
  const out = process.stdout.write;
  process.stdout.write = ((_chunk: unknown, ...rest: unknown[]) => {
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    return await main(args);
  } finally {
    process.stdout.write = out;
  }
}

async function snapshot(out: string) {
  const table = await readParquet(join(out, `${SHARD}.parquet`));
  const traces = new Map<string, Buffer>();
  for (const n of (await readdir(join(out, 'traces'))).sort()) traces.set(n, await readFile(join(out, 'traces', n)));
  const manifest = JSON.parse(await readFile(join(out, `${SHARD}.json`), 'utf8')) as Record<string, unknown>;
  for (const k of TIMING) delete manifest[k];
  return { table, traces, manifest };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ionsweep-kill-'));
  specPath = join(root, 'spec.json');
  await writeFile(specPath, JSON.stringify(SPEC));
  expect(await inProcess(['sweep', specPath, '--out', join(root, 'reference'), '--quiet'])).toBe(0);
  reference = await snapshot(join(root, 'reference'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('kill at each file operation of a shard, then resume', () => {
  it('the reference run spans more than one class and writes both traces', () => {
    expect(reference.table.rows).toBe(6);
    expect(Object.keys(reference.manifest.classCounts as object).length).toBeGreaterThan(1);
    expect([...reference.traces.keys()]).toEqual(['model-000000001.npy', 'model-000000001.npy.json', 'model-000000004.npy', 'model-000000004.npy.json']);
  });

  /** Resumes a killed run in `out` and compares everything with the reference. */
  async function resumeMatchesReference(out: string, resumeArgs: string[] = []) {
    expect(await inProcess(['sweep', specPath, '--out', out, '--resume', '--quiet', ...resumeArgs])).toBe(0);
    const after = await snapshot(out);
    expect(after.manifest).toEqual(reference.manifest);
    expect(after.table.columns.map((c) => c.name)).toEqual(reference.table.columns.map((c) => c.name));
    for (const [k, column] of reference.table.columns.entries()) {
      expect(Array.from(after.table.columns[k].data as ArrayLike<unknown>), column.name).toEqual(Array.from(column.data as ArrayLike<unknown>));
    }
    expect([...after.traces.keys()]).toEqual([...reference.traces.keys()]);
    for (const [name, bytes] of reference.traces) expect(after.traces.get(name)!.equals(bytes), name).toBe(true);
    // nothing of the interrupted run is left: no lock, no parts folder, no temporary file
    expect((await readdir(out)).sort()).toEqual([`${SHARD}.json`, `${SHARD}.parquet`, 'traces']);

    expect((await verifySweep(out)).problems).toEqual([]);
  }

  for (const point of KILL_POINTS) {
    it(`killed after ${point}: same rows, traces and manifest after --resume`, async () => {
      const out = join(root, point.replace(':', '-'));
      const killed = await cli(['sweep', specPath, '--out', out, '--quiet'], { env: { IONSWEEP_TEST_KILL_AT: point } });
      // the shim reports a child killed by SIGKILL as 128 + 9
      expect(killed.status, `the hook did not kill the run: ${killed.stderr}`).toBe(137);
      await resumeMatchesReference(out);
    });
  }

  it('killed between two slices of a chunk (2 encoder workers), resumed with one: the chunk runs again, its stray slice removed', async () => {
    const out = join(root, 'slices');
    // with 2 workers each chunk is stored as 2 slice files: part:3 is the first of the second chunk's
    const killed = await cli(['sweep', specPath, '--out', out, '--quiet', '--host-workers', '2'], { env: { IONSWEEP_TEST_KILL_AT: 'part:3' } });
    expect(killed.status, `the hook did not kill the run: ${killed.stderr}`).toBe(137);
    const parts = (await readdir(join(out, SHARD))).filter((n) => n.startsWith('part-')).sort();
    expect(parts).toEqual([
      'part-0000000000-0000000002.slice-00-of-02.parquet', 'part-0000000000-0000000002.slice-01-of-02.parquet',
      'part-0000000002-0000000004.slice-00-of-02.parquet',
    ]);
    // sliced otherwise on resume: the stray slice would double its row if it were kept
    await resumeMatchesReference(out, ['--host-workers', '1']);
  });
});
