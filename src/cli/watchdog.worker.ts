/**
 * The CLI's watchdog, a worker so that it acts even while the main thread is busy in a long
 * synchronous computation (a single-neuron run on the CPU engine does not yield):
 * - when the process that started us (the npm shim, bin/ionsweep.mjs) is gone (our parent pid
 *   changes: we were re-parented), nobody waits for our results any more: kill this process, so an
 *   orphan never goes on writing files the user believes stopped;
 * - after SIGINT/SIGTERM/SIGHUP, the main thread exits at once with 128 + the signal's number
 *   (signals.ts); if it has not within `graceMs` (busy), kill the process.
 * Started by `startWatchdog` with a message { launcherPid?, graceMs, pollMs }.
 */

/** The few Deno APIs used here (the project's type-check has no Deno lib). */
declare const Deno: {
  readonly pid: number;
  /** read afresh on each access: it changes when the parent dies and we are re-parented */
  readonly ppid: number;
  kill(pid: number, signal: string): void;
  addSignalListener(signal: string, handler: () => void): void;
};

// a module (not a script), so the Deno declaration below stays local to it
export {};

interface WatchdogSettings {
  /** the parent pid to expect; undefined: no launcher to watch */
  launcherPid?: number;
  graceMs: number;
  pollMs: number;
}

const kill = () => Deno.kill(Deno.pid, 'SIGKILL');

self.onmessage = (event: MessageEvent<WatchdogSettings>) => {
  const { launcherPid, graceMs, pollMs } = event.data;
  if (launcherPid !== undefined) {
    setInterval(() => {
      if (Deno.ppid !== launcherPid) kill();
    }, pollMs);
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    try {
      Deno.addSignalListener(signal, () => setTimeout(kill, graceMs));
    } catch {
      // a platform without this signal (Windows has SIGINT and SIGBREAK only)
    }
  }
};
