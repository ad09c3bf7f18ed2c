/**
 * Stopping `ionsweep` (the npm shim bin/ionsweep.mjs, which runs Deno on src/cli/main.ts): SIGTERM and
 * SIGINT end it with 143 and 130 (never 0), a SIGKILL of the shim takes its Deno child down with it,
 * and a sweep stopped any of these ways writes no manifest (it is not complete) while the part files
 * it stored stay for --resume. Each case starts a sweep of 4,000 hh models in chunks of 100 (about a
 * minute of work on one thread), waits for its first part file and then signals the shim.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, type CliRun } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-signals-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const spec = join(scratch, 'long.yaml');
writeFileSync(spec, [
  'model: hh', 'durationMs: 2000', 'dtMs: 0.05', 'sampling: random', 'samples: 4000',
  'parameters: { gNa: { uniform: [100, 140] } }', 'chunkSize: 100', 'engine: cpu',
].join('\n'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process runs: it exists and is not a zombie (a dead child its new parent has not reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Runs a sweep, sends `signal` to the shim once a part file exists; returns the run and the Deno child's pid. */
async function interruptedSweep(signal: NodeJS.Signals, out: string): Promise<{ run: CliRun; denoPid: number; parts: number }> {
  let denoPid = 0, parts = 0;
  const run = await cli(['sweep', spec, '--out', out, '--threads', '1', '--quiet'], {
    timeoutMs: 60_000,
    onStart: (shim: ChildProcess) => {
      void (async () => {
        const partsDir = join(out, 'shard-00000-of-00001');
        for (let k = 0; k < 400 && !(existsSync(partsDir) && readdirSync(partsDir).some((f) => f.endsWith('.parquet'))); k++) await sleep(50);
        const children = readFileSync(`/proc/${shim.pid}/task/${shim.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
        denoPid = children[0];
        parts = readdirSync(partsDir).filter((f) => f.endsWith('.parquet')).length;
        // process.kill, not shim.kill: Deno's node:child_process reports any child it signalled as killed by that signal, hiding the exit status
        process.kill(shim.pid!, signal);
      })();
    },
  });
  return { run, denoPid, parts };
}

/** Waits up to `ms` for the process to end; true if it did. */
async function ends(pid: number, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 50) {
    if (!running(pid)) return true;
    await sleep(50);
  }
  return !running(pid);
}

describe.runIf(process.platform === 'linux')('signals to ionsweep', () => {
  for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${status}, the Deno child gone, no manifest, stored parts kept`, async () => {
      const out = join(scratch, signal);
      const { run, denoPid, parts } = await interruptedSweep(signal, out);
      expect(run.status, run.stderr).toBe(status);
      expect(denoPid).toBeGreaterThan(0);
      expect(parts).toBeGreaterThan(0);
      expect(await ends(denoPid, 1000), `Deno child ${denoPid} still running`).toBe(true);
      expect(readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual([]);
      expect(readdirSync(join(out, 'shard-00000-of-00001')).filter((f) => /^part-.*\.parquet$/.test(f)).length).toBeGreaterThanOrEqual(parts);
    }, 60_000);
  }

  it('SIGKILL of the shim: the Deno child ends within a second and writes no manifest', async () => {
    const out = join(scratch, 'SIGKILL');
    const { run, denoPid } = await interruptedSweep('SIGKILL', out);
    // Node reports the signal; Deno's node:child_process (the test runner here) may report 128 + 9
    expect(run.signal === 'SIGKILL' || run.status === 137, `status ${run.status}, signal ${run.signal}`).toBe(true);
    expect(await ends(denoPid, 1000), `orphaned Deno child ${denoPid} still running`).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 60_000);
});
