/**
 * How the CLI process stops when asked to: SIGINT (Ctrl-C), SIGTERM and SIGHUP end it at once with
 * exit status 128 + the signal's number (130, 143, 129), never 0. Nothing more is written after the
 * signal: a sweep stopped this way writes no manifest (it is not complete), and the part files it
 * already stored stay for `--resume` (they are written atomically, so none is half-written).
 * `startWatchdog` adds a worker that kills the process when its launcher is gone or the main thread
 * is too busy to act on a signal (watchdog.worker.ts).
 */
import process from 'node:process';

/** Exit statuses of the signals the CLI stops on: 128 + the signal's number. */
export const SIGNAL_EXIT_STATUS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

/** Installs the handlers: on a signal, one line on stderr, then exit 128 + its number. */
export function installSignalExits(): void {
  for (const [signal, status] of Object.entries(SIGNAL_EXIT_STATUS)) {
    try {
      process.on(signal, () => {
        // a progress bar on a terminal hid the cursor and holds the line: show it, start a new line
        if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\n');
        process.stderr.write(`ionsweep: stopped by ${signal}; results not complete (a sweep continues with --resume)\n`);
        process.exit(status);
      });
    } catch {
      // a platform without this signal
    }
  }
}

/**
 * Starts the watchdog worker. `launcherPid` (from IONSWEEP_LAUNCHER_PID, set by bin/ionsweep.mjs):
 * the parent to expect, checked every `pollMs`; `graceMs`: how long after a signal the main thread
 * may take to exit before the watchdog kills the process.
 */
export function startWatchdog(launcherPid: number | undefined, graceMs = 2000, pollMs = 200): void {
  if (typeof Worker !== 'function' || typeof (globalThis as { Deno?: unknown }).Deno === 'undefined') return;
  const worker = new Worker(new URL('./watchdog.worker.ts', import.meta.url), { type: 'module' });
  worker.postMessage({ launcherPid, graceMs, pollMs });
}

/**
 * How often the watchdog looks for its launcher (ms): 200, or IONSWEEP_TEST_WATCHDOG_POLL_MS (a test
 * hook, not for users: test/signals.test.ts makes an orphan linger so that a resume meets it).
 */
export function watchdogPollMsOf(env: Record<string, string | undefined>): number {
  const text = env.IONSWEEP_TEST_WATCHDOG_POLL_MS;
  return text !== undefined && /^[1-9]\d{0,5}$/.test(text) ? Number(text) : 200;
}

/** The launcher's pid from the environment, when it is a positive integer. */
export function launcherPidOf(env: Record<string, string | undefined>): number | undefined {
  const text = env.IONSWEEP_LAUNCHER_PID;
  return text !== undefined && /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
}
