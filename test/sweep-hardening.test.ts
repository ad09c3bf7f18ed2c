/**
 * Hostile and unlucky states of a sweep folder, run through the CLI as a user runs it: resume with a
 * changed spec or engine, shards resumed with nothing left to do, more shards than models, damaged
 * manifests, parts and traces, merge outputs that would overwrite inputs, two writers on one shard,
 * leftover temporary files. Each case: the exit status and one line naming the file or the change.
 * A tiny CPU sweep (6 hh models of 60 ms in chunks of 2) keeps each run well under a second.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../src/io/parquet.ts';
import { ShardStore } from '../src/io/sweep-store.ts';
import { parseSweepSpec, specHash } from '../src/jobs/sweep/spec.ts';
import { main } from '../src/cli/main.ts';
import { cli, expectOneLineFailure, type CliRun } from './cli-helper.ts';

const SPEC = {
  model: 'hh', durationMs: 60, sampling: 'random', samples: 6, seed: 3,
  parameters: { gNa: { uniform: [0, 140] } }, currentUAPerCm2: 10,
  chunkSize: 2, engine: 'cpu', traces: { everyMs: 5, indices: [1, 4] },
};
const SHARD = 'shard-00000-of-00001';

/**
 * Runs the CLI's main(argv) in this process, capturing stdout and stderr: no Deno start per run.
 * Cases that kill a sweep, race two processes or need another working directory run the real
 * command (cli); so does test/kill-resume.test.ts.
 */
async function inProcess(args: string[]): Promise<CliRun> {
  let stdout = '', stderr = '';
  const out = process.stdout.write, err = process.stderr.write;
  const capture = (sink: (s: string) => void) => ((chunk: unknown, ...rest: unknown[]) => {
    sink(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk as Uint8Array));
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    return { status: await main(args), signal: null, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

let root: string;
/** a complete single-shard sweep, copied by the cases that change it */
let complete: string;
let n = 0;
const fresh = () => join(root, `case-${n++}`);
const spec = async (changes: Record<string, unknown> = {}, name = `spec-${n++}.json`) => {
  const path = join(root, name);
  await writeFile(path, JSON.stringify({ ...SPEC, ...changes }));
  return path;
};
const copyOf = async (dir: string) => {
  const to = fresh();
  await cp(dir, to, { recursive: true });
  return to;
};
/** a shard killed after its second part (the shard store's test hook) */
const interrupted = async (specPath: string, args: string[] = []) => {
  const out = fresh();
  const run = await cli(['sweep', specPath, '--out', out, '--quiet', ...args], { env: { IONSWEEP_TEST_KILL_AT: 'part:2' } });
  expect(run.status, run.stderr).toBe(137);
  return out;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ionsweep-hardening-'));
  complete = fresh();
  const run = await inProcess(['sweep', await spec(), '--out', complete, '--quiet']);
  expect(run.status, run.stderr).toBe(0);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resume refuses what would mix rows', () => {
  it('a changed durationMs, seed or --engine: exit 2, naming the change; the stored chunks stay', async () => {
    const out = await interrupted(await spec());
    const parts = join(out, SHARD);
    const before = (await readdir(parts)).sort();
    for (const [changes, args, pattern] of [
      [{ durationMs: 80 }, [], /durationMs: 60 → 80/],
      [{ seed: 4 }, [], /seed: 3 → 4/],
      [{}, ['--engine', 'auto'], /engine: "cpu" → "auto"/],
      [{ dtMs: 0.02 }, [], /dtMs: 0.025 → 0.02/],
    ] as const) {
      const run = await inProcess(['sweep', await spec(changes), '--out', out, '--resume', '--quiet', ...args]);
      expectOneLineFailure(run, 2, new RegExp(`${SHARD} holds chunks of a different sweep \\(${pattern.source}`));
    }
    expect((await readdir(parts)).sort()).toEqual(before);
    const resumed = await inProcess(['sweep', await spec(), '--out', out, '--resume', '--quiet']);
    expect(resumed.status, resumed.stderr).toBe(0);
  });

  it('a complete shard with a changed spec: exit 2 and one line, with or without --resume', async () => {
    const changed = await spec({ durationMs: 80 });
    for (const args of [['--resume'], []]) {
      const run = await inProcess(['sweep', changed, '--out', complete, '--quiet', ...args]);
      expectOneLineFailure(run, 2, /shard-00000-of-00001\.json is a complete shard of a different sweep \(durationMs: 60 → 80\)/);
    }
  });

  it('a new shard into a folder holding shards of another spec or another layout: exit 2, nothing written', async () => {
    const dir = await copyOf(complete);
    expectOneLineFailure(await inProcess(['sweep', await spec({ durationMs: 80 }), '--out', dir, '--shard', '1/2', '--quiet']), 2,
      /shard-00000-of-00001\.json is a shard of a different sweep \(durationMs: 60 → 80\)/);
    expectOneLineFailure(await inProcess(['sweep', await spec(), '--out', dir, '--shard', '1/2', '--quiet']), 2,
      /shard-00000-of-00001\.json is a shard of 1, this run is shard 1 of 2/);
    expect((await readdir(dir)).sort()).toEqual([`${SHARD}.json`, `${SHARD}.parquet`, 'traces']);
  });

  it('stored chunks from another engine than auto now resolves to: refused at begin', async () => {
    const dir = fresh();
    const parsed = parseSweepSpec({ ...SPEC, engine: 'auto' });
    const identity = { specHash: await specHash(parsed), spec: parsed, total: 6, range: { start: 0, end: 6 } };
    const first = new ShardStore(dir, { index: 0, count: 1 }, identity);
    await first.prepare(false);
    await first.begin('cpu');
    const again = new ShardStore(dir, { index: 0, count: 1 }, identity);
    await again.prepare(true);
    await expect(again.begin('gpu')).rejects.toThrow(/engine used: cpu → gpu/);
    await again.begin('cpu');
  });
});

describe('bookkeeping', () => {
  it('a resumed shard counts the classes of all its rows; one resumed with nothing left to do has a real engine, and merges', async () => {
    const specPath = await spec();
    const out = fresh();
    // shard 0 killed after its table (every chunk stored), shard 1 killed after its first part
    for (const [shard, point] of [['0/2', 'table:1'], ['1/2', 'part:1']]) {
      const run = await cli(['sweep', specPath, '--out', out, '--shard', shard, '--quiet'], { env: { IONSWEEP_TEST_KILL_AT: point } });
      expect(run.status, run.stderr).toBe(137);
      const resumed = await inProcess(['sweep', specPath, '--out', out, '--shard', shard, '--resume', '--quiet']);
      expect(resumed.status, resumed.stderr).toBe(0);
    }
    for (const i of [0, 1]) {
      const manifest = JSON.parse(await readFile(join(out, `shard-0000${i}-of-00002.json`), 'utf8'));
      expect(manifest.engine).toBe('cpu');
      const table = await readParquet(join(out, manifest.table));
      const counts: Record<string, number> = {};
      for (const c of table.columns.find((x) => x.name === 'class')!.data as string[]) counts[c] = (counts[c] ?? 0) + 1;
      expect(manifest.classCounts, `shard ${i}`).toEqual(counts);
    }
    const merged = await inProcess(['merge', out]);
    expect(merged.status, merged.stderr).toBe(0);
    const reference = JSON.parse(await readFile(join(complete, `${SHARD}.json`), 'utf8'));
    const mergedManifest = JSON.parse(await readFile(join(out, 'merged.json'), 'utf8'));
    expect(mergedManifest.classCounts).toEqual(reference.classCounts);
  });

  it('more shards than models: every shard refuses with one line (an empty shard has no schema to merge)', async () => {
    const specPath = await spec();
    for (const shard of ['0/8', '7/8']) {
      expectOneLineFailure(await inProcess(['sweep', specPath, '--out', fresh(), '--shard', shard, '--quiet']), 2, /the sweep has 6 models, fewer than 8 shards/);
    }
  });

  it('verify checks every promised trace and the manifest class counts against the table', async () => {
    const noTrace = await copyOf(complete);
    await rm(join(noTrace, 'traces', 'model-000000004.npy'));
    expectOneLineFailure(await inProcess(['verify', noTrace]), 2, /trace traces\/model-000000004\.npy missing/);

    const cutTrace = await copyOf(complete);
    const trace = join(cutTrace, 'traces', 'model-000000001.npy');
    await writeFile(trace, (await readFile(trace)).subarray(0, 200));
    expectOneLineFailure(await inProcess(['verify', cutTrace]), 2, /trace traces\/model-000000001\.npy 200 bytes, expected \d+ \(truncated\?\)/);

    const wrongCounts = await copyOf(complete);
    const path = join(wrongCounts, `${SHARD}.json`);
    const manifest = JSON.parse(await readFile(path, 'utf8'));
    manifest.classCounts = { silent: 6 };
    await writeFile(path, JSON.stringify(manifest));
    expectOneLineFailure(await inProcess(['verify', wrongCounts]), 2, /manifest class counts .* differ from its table's rows/);
  });
});

describe('merge never overwrites its inputs', () => {
  it('--out naming a shard table, manifest or trace (by name or by link), or a shard name: exit 2, the file unchanged', async () => {
    const dir = await copyOf(complete);
    const { symlink } = await import('node:fs/promises');
    await symlink(`${SHARD}.parquet`, join(dir, 'link.parquet'));
    const before = await readFile(join(dir, `${SHARD}.parquet`));
    for (const [out, pattern] of [
      [`${SHARD}.parquet`, /would overwrite an input of the merge/],
      [`${SHARD}.json`, /would overwrite an input of the merge/],
      ['traces/model-000000001.npy', /would overwrite an input of the merge/],
      ['link.parquet', /would overwrite an input of the merge/],
      ['shard-00001-of-00002.parquet', /would take a shard file's name/],
    ] as const) {
      expectOneLineFailure(await inProcess(['merge', dir, '--out', join(dir, out)]), 2, pattern);
    }
    expect((await readFile(join(dir, `${SHARD}.parquet`))).equals(before)).toBe(true);
    expect(JSON.parse(await readFile(join(dir, `${SHARD}.json`), 'utf8')).tool).toBe('ionsweep');
  });

  it('an --out that exists and is not an earlier merge, or is a folder: exit 2; an earlier merge is replaced', async () => {
    const dir = await copyOf(complete);
    const foreign = join(root, 'notes.parquet');
    await writeFile(foreign, 'my notes');
    expectOneLineFailure(await inProcess(['merge', dir, '--out', foreign]), 2, /notes\.parquet exists and is not the output of an earlier merge/);
    expect(await readFile(foreign, 'utf8')).toBe('my notes');
    expectOneLineFailure(await inProcess(['merge', dir, '--out', dir]), 2, /--out .* is a folder; give a file name/);
    for (let k = 0; k < 2; k++) expect((await inProcess(['merge', dir])).status).toBe(0);
  });
});

describe('damaged files: one line naming the file', () => {
  it('truncated, empty, binary and foreign manifests: verify exits 2 (and merge and resume, for a truncated one)', async () => {
    const text = await readFile(join(complete, `${SHARD}.json`), 'utf8');
    for (const [content, pattern] of [
      [text.slice(0, 100), /is not valid JSON \(at character 100 of 100: truncated\?\)/],
      ['', /is empty/],
      [Buffer.from([0x93, 0x00, 0xff, 0x10, 0x7b]), /is not valid JSON/],
      ['{}', /version/],
      ['{"version":1,"tool":"ionsweep"}', /specHash/],
    ] as const) {
      const dir = await copyOf(complete);
      await writeFile(join(dir, `${SHARD}.json`), content);
      const commands = [['verify', dir], ...(content === '' ? [['merge', dir], ['sweep', await spec(), '--out', dir, '--resume', '--quiet']] : [])];
      for (const args of commands) expectOneLineFailure(await inProcess(args), 2, new RegExp(`shard manifest ${dir}/${SHARD}\\.json.*${pattern.source}`));
    }
  });

  it('truncated, empty and binary part files, and a damaged record: resume exits 2 naming the file', async () => {
    const specPath = await spec();
    const part = `${SHARD}/part-0000000002-0000000004.parquet`;
    for (const [file, content, pattern] of [
      [part, 'PAR1 and then nothing', /part file .*part-0000000002-0000000004\.parquet is damaged/],
      [part, '', /part file .*part-0000000002-0000000004\.parquet is damaged/],
      [`${SHARD}/record.json`, '{"version":', /record\.json is damaged/],
    ] as const) {
      const out = await interrupted(specPath);
      await writeFile(join(out, file), content);
      expectOneLineFailure(await inProcess(['sweep', specPath, '--out', out, '--resume', '--quiet']), 2, pattern);
    }
  });

  it('a complete shard whose table is gone: resume exits 2 naming the table', async () => {
    const dir = await copyOf(complete);
    await rm(join(dir, `${SHARD}.parquet`));
    expectOneLineFailure(await inProcess(['sweep', await spec(), '--out', dir, '--resume', '--quiet']), 2, /says the shard is complete, but its table .* is missing/);
  });

  it('--out a file: exit 2 naming it (as for every command); a folder under a file: exit 1', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, '');
    expectOneLineFailure(await inProcess(['sweep', await spec(), '--out', file, '--quiet']), 2, /--out .*a-file is not a folder/);
    expectOneLineFailure(await inProcess(['sweep', await spec(), '--out', join(file, 'sub'), '--quiet']), 1, /a-file\/sub: not a directory/);
  });
});

describe('one writer per shard', () => {
  it('a live holder of the lock: exit 1 naming its pid; a dead one: the lock is taken over', async () => {
    const specPath = await spec();
    const out = fresh();
    await mkdir(out, { recursive: true });
    const lock = join(out, `${SHARD}.lock`);
    // this test's own process is alive and on this host
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'x', startedAt: 'then' }));
    expectOneLineFailure(await inProcess(['sweep', specPath, '--out', out, '--quiet']), 1, new RegExp(`is being written by process ${process.pid} on `));
    expect(await readdir(out)).toEqual([`${SHARD}.lock`]);

    const dead = spawnSync('true').pid!;
    await writeFile(lock, JSON.stringify({ pid: dead, host: hostname(), token: 'x', startedAt: 'then' }));
    const run = await inProcess(['sweep', specPath, '--out', out, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    await expect(stat(lock), 'the lock is released').rejects.toThrow();
  });

  it.runIf(process.platform === 'linux')('a holder that died but is not reaped yet (a zombie, as under an init that reaps late) is dead: the lock is taken over', async () => {
    // `sleep 0` ends at once; its parent then becomes `sleep 10`, which never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d) => resolve(String(d).trim()))));
      let state = '';
      for (let t = 0; t < 100 && state !== 'Z'; t++) {
        await new Promise((r) => setTimeout(r, 20));
        const stat = await readFile(`/proc/${zombie}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      }
      expect(state, 'the holder is a zombie').toBe('Z');
      const out = fresh();
      await mkdir(out, { recursive: true });
      await writeFile(join(out, `${SHARD}.lock`), JSON.stringify({ pid: zombie, host: hostname(), token: 'x', startedAt: 'then' }));
      const run = await inProcess(['sweep', await spec(), '--out', out, '--quiet']);
      expect(run.status, run.stderr).toBe(0);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a second sweep on a shard that is being written: exit 1, and the first finishes', async () => {
    const specPath = await spec({ durationMs: 60_000 });
    const out = fresh();
    let second: Awaited<ReturnType<typeof cli>> | undefined;
    const first = cli(['sweep', specPath, '--out', out, '--quiet'], {
      onStart: () => {
        void (async () => {
          // start the second writer once the first holds the lock
          for (let t = 0; t < 300 && !(await stat(join(out, `${SHARD}.lock`)).catch(() => undefined)); t++) await new Promise((r) => setTimeout(r, 20));
          second = await cli(['sweep', specPath, '--out', out, '--resume', '--quiet']);
        })();
      },
    });
    const done = await first;
    for (let t = 0; t < 500 && !second; t++) await new Promise((r) => setTimeout(r, 20));
    expect(done.status, done.stderr).toBe(0);
    expectOneLineFailure(second!, 1, /shard-00000-of-00001\.lock: shard shard-00000-of-00001 is being written by process \d+/);
  });
});

describe('flags and names', () => {
  it('--shard 0/2 with --shard-count 3 is a contradiction; a spec named ...yaml gives no default folder', async () => {
    expectOneLineFailure(await inProcess(['sweep', await spec(), '--shard', '0/2', '--shard-count', '3', '--out', fresh()]), 2, /--shard 0\/2 and --shard-count 3 disagree/);
    const cwd = fresh();
    await mkdir(cwd);
    await writeFile(join(cwd, '...yaml'), JSON.stringify(SPEC));
    expectOneLineFailure(await cli(['sweep', '...yaml', '--quiet'], { cwd }), 2, /spec file \.\.\.yaml: its name gives no output folder name.*give --out/);
    expect(await readdir(cwd)).toEqual(['...yaml']);
  });

  it('leftover temporary files of the shard are removed on resume; verify ignores them', async () => {
    const specPath = await spec();
    const out = await interrupted(specPath);
    const own = [`${SHARD}.parquet.tmp-0123abcd`, `${SHARD}.json.tmp-0123abcd`, `${SHARD}/part-0000000004-0000000006.parquet.tmp-0123abcd`, 'traces/model-000000004.npy.tmp-0123abcd'];
    const others = ['shard-00001-of-00002.parquet.tmp-0123abcd', 'traces/model-000000099.npy.tmp-0123abcd'];
    for (const f of [...own, ...others]) await writeFile(join(out, f), 'partial');
    const run = await inProcess(['sweep', specPath, '--out', out, '--resume', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    for (const f of own) await expect(stat(join(out, f)), f).rejects.toThrow();
    for (const f of others) expect((await stat(join(out, f))).isFile(), f).toBe(true);
    const verify = await inProcess(['verify', out]);
    expect(verify.status, verify.stderr).toBe(0);
  });
});
