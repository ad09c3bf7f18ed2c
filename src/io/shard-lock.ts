/**
 * One writer per shard: `sweep` holds out/shard-00003-of-00007.lock while it writes the shard. The
 * lock is created exclusively (O_EXCL, flag 'wx') and names the process (pid, host); a second
 * `sweep` on the same shard refuses with one line naming the holder. A lock left by a killed process
 * is taken over (see below). A lock from another host (a shared file system) is
 * never taken over: that process cannot be seen from here, so the message says to remove the lock
 * by hand once it is gone. Two processes taking over the same stale lock at the same instant could
 * both succeed; each re-reads the lock after writing it, which leaves that window at microseconds.
 * A killed holder is one whose pid is gone on this host, or a zombie (dead, not yet reaped).
 *
 * A holder started by the npm launcher (bin/ionsweep.mjs) names it too (launcherPid). When the
 * holder has lost its launcher (its parent is another process now), the launcher was killed
 * (SIGKILL cannot be passed on) and the holder is an orphan about to kill itself: its watchdog sees
 * its parent change within a fraction of a second, over a second on a loaded host. A `--resume`
 * started right after the kill waits for it (up to ORPHAN_WAIT_MS) instead of refusing.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { EnvironmentError, environmentErrorOf } from '../errors.ts';

interface LockHolder {
  pid: number;
  /** the npm launcher that started the holder, when one did (IONSWEEP_LAUNCHER_PID) */
  launcherPid?: number;
  host: string;
  token: string;
  startedAt: string;
}

export interface ShardLock {
  path: string;
  /** removes the lock if it is still this process's */
  release(): Promise<void>;
}

/** How long a lock held by an orphan (its launcher gone) is waited for before refusing (ms). */
const ORPHAN_WAIT_MS = 10_000;

/** The fields of Linux's /proc/<pid>/stat after the command ("state ppid ..."); undefined without /proc. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command) state ppid ...": the command may hold spaces and parentheses
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs: it exists and is not a zombie (a dead process its parent, or init, has not reaped yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return (error as { code?: string }).code !== 'ESRCH';
  }
  return procStat(pid)?.[0] !== 'Z';
}

async function readHolder(path: string): Promise<LockHolder | undefined | 'gone'> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return Number.isInteger(holder?.pid) && typeof holder.host === 'string' ? holder : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return 'gone';
    return undefined;
  }
}

/** Removes a lock file; an error names it (Deno's rm errors name no path). */
async function removeLock(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
  } catch (error) {
    const e = error as { path?: unknown };
    if (e.path === undefined) e.path = path;
    throw environmentErrorOf(error) ?? error;
  }
}

/**
 * Whether the process `pid` was started by `launcherPid` and has lost it: its parent (Linux's
 * /proc/<pid>/stat) is another process now, or, without /proc, the launcher is gone.
 */
function orphanedFrom(pid: number, launcherPid: number): boolean {
  const stat = procStat(pid);
  return stat ? Number(stat[1]) !== launcherPid : !alive(launcherPid);
}

/** Whether `pid` exits within `ms` (polled). */
async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until;) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !alive(pid);
}

/**
 * Takes the lock of shard `name` in `outDir` (which must exist); EnvironmentError naming the holder
 * when another process has it. `launcherPid`: the npm launcher that started this process, if any.
 */
export async function lockShard(outDir: string, name: string, launcherPid?: number): Promise<ShardLock> {
  const path = join(outDir, `${name}.lock`);
  const me: LockHolder = { pid: process.pid, ...(launcherPid ? { launcherPid } : {}), host: hostname(), token: crypto.randomUUID(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, JSON.stringify(me) + '\n', { flag: 'wx' });
      const check = await readHolder(path);
      if (check !== 'gone' && check?.token === me.token) {
        return {
          path,
          release: async () => {
            const holder = await readHolder(path);
            if (holder !== 'gone' && holder?.token === me.token) await removeLock(path);
          },
        };
      }
      continue;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw environmentErrorOf(error) ?? error;
    }
    const holder = await readHolder(path);
    if (holder === 'gone') continue;
    if (holder === undefined) {
      throw new EnvironmentError(`${path}: the shard's lock file is unreadable (a writer may be starting, or was killed while taking it): if no ionsweep is writing this shard, remove the file`);
    }
    const here = holder.host === me.host && holder.pid !== process.pid;
    // an orphan whose launcher was killed is about to kill itself: wait for it
    const orphan = here && Number.isInteger(holder.launcherPid) && orphanedFrom(holder.pid, holder.launcherPid!);
    const stale = here && (!alive(holder.pid) || (orphan && await exitsWithin(holder.pid, ORPHAN_WAIT_MS)));
    if (!stale) {
      throw new EnvironmentError(`${path}: shard ${name} is being written by process ${holder.pid} on ${holder.host} (since ${holder.startedAt}); wait for it to finish, or remove the lock if that process is gone`);
    }
    // the holder was killed: take its lock over
    await removeLock(path);
  }
  throw new EnvironmentError(`${path}: could not take the shard's lock (other processes keep taking it)`);
}
