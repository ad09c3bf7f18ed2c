/**
 * Runs the `ionsweep` command as a user runs it, for tests of its exit statuses and messages:
 * `node bin/ionsweep.mjs <args>` (the npm shim, which starts Deno on src/cli/main.ts) in a subprocess.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** kill the command after this long (ms); a hung command fails the test instead of the suite */
  timeoutMs?: number;
  /** called once the child is started (to send it signals) */
  onStart?: (child: ChildProcess) => void;
}

/** Runs `node bin/ionsweep.mjs <args>`; under Deno process.execPath is Deno, so node comes from PATH. */
export function cli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [`${ROOT}bin/ionsweep.mjs`, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    options.onStart?.(child);
  });
}

/**
 * Asserts that a run failed the way the CLI promises: the given exit status, exactly one line on
 * stderr (besides JSON progress lines) starting `ionsweep: `, no stack trace, and (when given) a message matching `pattern`.
 */
export function expectOneLineFailure(run: CliRun, status: 1 | 2, pattern?: RegExp): void {
  const context = `exit ${run.status}, stderr: ${run.stderr}`;
  expect(run.status, context).toBe(status);
  // progress lines (JSON, off a terminal) may precede the failure; everything else must be the one line
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"event":"progress"'));
  expect(lines.length, context).toBe(1);
  expect(lines[0], context).toMatch(/^ionsweep: /);
  expect(lines[0], context).not.toMatch(/internal error|\n\s+at |    at /);
  if (pattern) expect(lines[0], context).toMatch(pattern);
}
