/**
 * Stopping `ionsweep` (the npm shim bin/ionsweep.mjs, which runs Deno on src/cli/main.ts): SIGTERM and
 * SIGINT end it with 143 and 130 (never 0), a SIGKILL of the shim takes its Deno child down with it,
 * and a sweep stopped any of these ways writes no manifest (it is not complete) while the part files
 * it stored stay for --resume; a --resume started at once after a SIGKILL of the shim waits for the
 * orphaned child to end instead of refusing its lock. The sweep cases start a sweep of 4,000 hh models in chunks of 100
 * (about a minute of work on one thread), wait for its first part file and then signal the shim; the
 * simulate cases signal a child whose main thread is busy in one long synchronous run.
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
async function interruptedSweep(signal: NodeJS.Signals, out: string, options: { spec?: string; env?: Record<string, string>; afterSignal?: (denoPid: number) => void } = {}): Promise<{ run: CliRun; denoPid: number; parts: number }> {
  let denoPid = 0, parts = 0;
  const run = await cli(['sweep', options.spec ?? spec, '--out', out, '--threads', '1', '--quiet'], {
    timeoutMs: 60_000, env: options.env,
    onStart: (shim: ChildProcess) => {
      void (async () => {
        const partsDir = join(out, 'shard-00000-of-00001');
        for (let k = 0; k < 400 && !(existsSync(partsDir) && readdirSync(partsDir).some((f) => f.endsWith('.parquet'))); k++) await sleep(50);
        const children = readFileSync(`/proc/${shim.pid}/task/${shim.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
        denoPid = children[0];
        parts = readdirSync(partsDir).filter((f) => f.endsWith('.parquet')).length;
        // process.kill, not shim.kill: Deno's node:child_process reports any child it signalled as killed by that signal, hiding the exit status
        process.kill(shim.pid!, signal);
        options.afterSignal?.(denoPid);
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

/**
 * Biological time of the busy simulate: 2e8 steps, minutes of work on any host, so a run that ends
 * within ENDS_MS of the signal ended because of it. The bound is that loose on purpose: the watchdog
 * ends the child 2 s after a SIGTERM and within 0.2 s of the shim's death, but a busy host delays its
 * polls (a 3 s bound once measured 5.2 s with two other processes on 2 cores).
 */
const BUSY_RUN_MS = 5_000_000;
const ENDS_MS = 30_000;

/**
 * Runs a long single-neuron simulate (prinz, BUSY_RUN_MS: the CPU engine runs it inline, so the main
 * thread does not turn its event loop for seconds), sends `signal` to the shim `afterMs` after the
 * Deno child appears; returns the run, the child's pid and how long the shim took to end after the signal.
 */
async function interruptedSimulate(signal: NodeJS.Signals, afterMs: number): Promise<{ run: CliRun; denoPid: number; endedMs: number }> {
  let denoPid = 0, signalledAt = 0;
  const run = await cli(['simulate', '--model', 'prinz', '--duration-ms', String(BUSY_RUN_MS), '--engine', 'cpu'], {
    timeoutMs: 90_000,
    onStart: (shim: ChildProcess) => {
      void (async () => {
        for (let k = 0; k < 200 && !denoPid; k++) {
          await sleep(50);
          denoPid = Number(readFileSync(`/proc/${shim.pid}/task/${shim.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || 0;
        }
        await sleep(afterMs);
        signalledAt = performance.now();
        process.kill(shim.pid!, signal);
      })();
    },
  });
  return { run, denoPid, endedMs: performance.now() - signalledAt };
}

describe.runIf(process.platform === 'linux')('signals to ionsweep', () => {
  for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${status}, the Deno child gone, no manifest, stored parts kept`, async () => {
      const out = join(scratch, signal);
      const { run, denoPid, parts } = await interruptedSweep(signal, out);
      expect(run.status, run.stderr).toBe(status);
      expect(denoPid).toBeGreaterThan(0);
      expect(parts).toBeGreaterThan(0);
      expect(await ends(denoPid, 10_000), `Deno child ${denoPid} still running`).toBe(true);
      expect(readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual([]);
      expect(readdirSync(join(out, 'shard-00000-of-00001')).filter((f) => /^part-.*\.parquet$/.test(f)).length).toBeGreaterThanOrEqual(parts);
    }, 120_000);
  }

  it('SIGTERM while the main thread is busy (an inline simulate): exit 143 long before the run would end, the child gone', async () => {
    const { run, denoPid, endedMs } = await interruptedSimulate('SIGTERM', 2500);
    expect(run.status, run.stderr).toBe(143);
    expect(run.stdout).toBe('');
    // the watchdog kills the child 2 s after the signal (the shim would after 3 s): long before the run's own end
    expect(endedMs).toBeLessThan(ENDS_MS);
    expect(await ends(denoPid, 10_000), `Deno child ${denoPid} still running`).toBe(true);
  }, 120_000);

  it('SIGKILL of the shim while the child is busy: the child ends, long before its run would', async () => {
    const { run, denoPid, endedMs } = await interruptedSimulate('SIGKILL', 2500);
    expect(run.signal === 'SIGKILL' || run.status === 137, `status ${run.status}, signal ${run.signal}`).toBe(true);
    // the run ends when the child does (it holds the output pipes): the watchdog polls every 0.2 s
    expect(run.stdout).toBe('');
    expect(endedMs).toBeLessThan(ENDS_MS);
    expect(await ends(denoPid, 10_000), `orphaned Deno child ${denoPid} still running`).toBe(true);
  }, 120_000);

  it('SIGKILL of the shim: the Deno child ends and writes no manifest', async () => {
    const out = join(scratch, 'SIGKILL');
    const { run, denoPid } = await interruptedSweep('SIGKILL', out);
    // Node reports the signal; Deno's node:child_process (the test runner here) may report 128 + 9
    expect(run.signal === 'SIGKILL' || run.status === 137, `status ${run.status}, signal ${run.signal}`).toBe(true);
    expect(await ends(denoPid, 10_000), `orphaned Deno child ${denoPid} still running`).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 120_000);

  it('SIGKILL of the shim, then --resume at once: the resume waits for the orphan to end, then completes the shard', async () => {
    const out = join(scratch, 'SIGKILL-resume');
    const short = join(scratch, 'short.yaml');
    writeFileSync(short, readFileSync(spec, 'utf8').replace('samples: 4000', 'samples: 800'));
    // the orphan lingers (its watchdog looks for the launcher every 3 s), so the resume, started as
    // soon as the shim is killed (the killed run's own pipes stay open as long as the orphan runs),
    // meets it alive
    let resumed: Promise<CliRun> | undefined, orphanAtResume = false;
    const { denoPid } = await interruptedSweep('SIGKILL', out, {
      spec: short, env: { IONSWEEP_TEST_WATCHDOG_POLL_MS: '3000' },
      afterSignal: (pid) => {
        orphanAtResume = running(pid);
        resumed = cli(['sweep', short, '--out', out, '--threads', '1', '--resume', '--quiet'], { timeoutMs: 60_000 });
      },
    });
    expect(orphanAtResume, 'the orphan still runs when the resume starts').toBe(true);
    const resume = await resumed!;
    expect(resume.status, resume.stderr).toBe(0);
    expect(running(denoPid)).toBe(false);
    const manifest = JSON.parse(readFileSync(join(out, 'shard-00000-of-00001.json'), 'utf8'));
    expect(manifest.rows).toBe(800);
    expect((await cli(['verify', out, '--quiet'])).status).toBe(0);
  }, 120_000);
});
