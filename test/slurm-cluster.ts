/**
 * A real single-node Slurm for tests: munged, slurmctld and slurmd (Debian 12's `munge` and
 * `slurm-wlm`, installed by scripts/setup-debian.sh) started in the foreground by the test, with
 * every file (munge key and socket, slurm.conf, state, spool, logs) in one folder, so nothing under
 * /etc or /run is touched and two runs never share state. Clients reach it through SLURM_CONF.
 *
 * Choices, and why:
 * - root only: slurmd must be root to start jobs as their user, and SlurmUser=root avoids needing a
 *   `slurm` account's rights on the test's folder.
 * - proctrack/linuxproc and task/none: job processes are tracked through the process tree, so no
 *   cgroup file system or systemd is needed (CI may run in a container or VM without either). No
 *   cgroup.conf is written: Slurm 22.05 then loads no cgroup plugin at all, while any cgroup.conf
 *   (even `CgroupPlugin=disabled`, which 22.05 does not know) makes slurmd initialise one. Slurm
 *   reads cgroup.conf from slurm.conf's folder, so the host's /etc/slurm is never consulted.
 * - SlurmdParameters=config_overrides with CPUs = max(3, cores): a 3-task array runs at once on a
 *   2-core machine (the tasks are small; the point is scheduling, not speed).
 * - free TCP ports on 127.0.0.1, picked at start, so the test never collides with a Slurm on the host.
 * - KillWait=5: a cancelled task gets SIGTERM, then SIGKILL 5 s later (the default is 30 s).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

/** The programs the cluster needs; their absence is the one reason a test may skip (outside CI). */
export const SLURM_PROGRAMS = ['mungekey', 'munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo'] as const;

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (no shell); never rejects, the caller reads `status`. */
export function runProgram(program: string, args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(program, args, { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const status = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
      resolve({ status, stdout: String(stdout), stderr: String(stderr) + (error && status === null ? `\n${error.message}` : '') });
    });
  });
}

/** Why a Slurm cluster cannot be started here (missing programs, not root), or null when it can be tried. */
export async function slurmUnavailableReason(): Promise<string | null> {
  if (process.platform !== 'linux') return `Slurm tests need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'Slurm tests need root (slurmd starts jobs as their user); CI runs as root';
  const missing: string[] = [];
  for (const program of SLURM_PROGRAMS) {
    const found = await runProgram('sh', ['-c', `command -v ${program}`]);
    if (found.status !== 0) missing.push(program);
  }
  return missing.length ? `missing ${missing.join(', ')} (apt-get install slurm-wlm munge; scripts/setup-debian.sh does)` : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SlurmCluster {
  /** the folder holding every file of the cluster */
  dir: string;
  /** the node's name (this host's short name) */
  node: string;
  /** environment for Slurm clients: the caller's, plus SLURM_CONF */
  env: Record<string, string | undefined>;
  /** runs a Slurm client (sbatch, squeue, scancel, ...) against this cluster */
  client(program: string, args: string[], cwd?: string): Promise<CommandResult>;
  /** the daemons' logs, for failure messages */
  logs(): Promise<string>;
  /** cancels every job, then stops slurmd, slurmctld and munged (SIGTERM, SIGKILL after 10 s) */
  stop(): Promise<void>;
}

/**
 * Writes the configuration into `dir`, starts munged, slurmctld and slurmd in the foreground, and
 * waits (up to `readyMs`) until the node is idle. Throws with the daemons' logs when it cannot.
 */
export async function startSlurm(dir: string, readyMs = 30_000): Promise<SlurmCluster> {
  const node = hostname().split('.')[0];
  const paths = {
    munge: join(dir, 'munge'), state: join(dir, 'state'), spool: join(dir, 'spool'), logs: join(dir, 'logs'),
  };
  for (const p of Object.values(paths)) await mkdir(p, { recursive: true });
  // munged refuses a socket folder others can write to, and warns unless everyone may traverse it
  await chmod(paths.munge, 0o711);
  const key = join(paths.munge, 'munge.key');
  const socket = join(paths.munge, 'munge.socket');
  const conf = join(dir, 'slurm.conf');
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const cpuCount = Math.max(3, cpus().length);
  await writeFile(conf, [
    'ClusterName=ionsweeptest',
    `SlurmctldHost=${node}(127.0.0.1)`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${slurmdPort}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${socket}`,
    `StateSaveLocation=${paths.state}`,
    `SlurmdSpoolDir=${paths.spool}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(paths.logs, 'slurmctld.log')}`,
    `SlurmdLogFile=${join(paths.logs, 'slurmd.log')}`,
    'SlurmctldDebug=info',
    'SlurmdDebug=info',
    'MailProg=/bin/true',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    'SchedulerType=sched/backfill',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    'KillWait=5',
    // finished jobs stay visible to squeue for the test's whole run (there is no accounting database)
    'MinJobAge=600',
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpuCount} State=UNKNOWN`,
    `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n'));

  const env = { ...process.env, SLURM_CONF: conf };
  const children: { name: string; child: ChildProcess; exited: Promise<void> }[] = [];
  const daemon = (name: string, program: string, args: string[]) => {
    const fd = openSync(join(paths.logs, `${name}.out`), 'a');
    const child = spawn(program, args, { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => {});
    children.push({ name, child, exited });
  };
  const logs = async () => {
    const parts: string[] = [];
    for (const name of ['munged.out', 'slurmctld.out', 'slurmd.out', 'slurmctld.log', 'slurmd.log']) {
      const text = await readFile(join(paths.logs, name), 'utf8').catch(() => '');
      if (text) parts.push(`--- ${name} (last lines)\n${text.split('\n').slice(-25).join('\n')}`);
    }
    return parts.join('\n');
  };
  const client = (program: string, args: string[], cwd?: string) => runProgram(program, args, { env, cwd });

  const stop = async () => {
    const stillRunning = () => children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    if (stillRunning().some((c) => c.name === 'slurmctld')) {
      // jobs first: their processes belong to slurmstepd, which outlives slurmd
      await client('scancel', ['--full', `--partition=test`]);
      for (let waited = 0; waited < 15_000; waited += 250) {
        const q = await client('squeue', ['-h', '-o', '%i']);
        if (q.status !== 0 || q.stdout.trim() === '') break;
        await sleep(250);
      }
    }
    // slurmd, then slurmctld, then munged (the others authenticate through it while stopping)
    for (const name of ['slurmd', 'slurmctld', 'munged']) {
      for (const c of stillRunning().filter((c) => c.name === name)) {
        c.child.kill('SIGTERM');
        const killer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
        await c.exited;
        clearTimeout(killer);
      }
    }
  };

  try {
    const made = await runProgram('mungekey', ['--create', `--keyfile=${key}`]);
    if (made.status !== 0) throw new Error(`mungekey failed: ${made.stderr}`);
    await chmod(key, 0o400);
    daemon('munged', 'munged', ['--foreground', '--force', `--key-file=${key}`, `--socket=${socket}`,
      `--pid-file=${join(paths.munge, 'munged.pid')}`, `--log-file=${join(paths.logs, 'munged.log')}`, `--seed-file=${join(paths.munge, 'munged.seed')}`]);
    for (let waited = 0; ; waited += 100) {
      const probe = await runProgram('munge', ['--socket', socket, '--no-input']);
      if (probe.status === 0) break;
      if (waited > 10_000) throw new Error(`munged did not answer on ${socket}: ${probe.stderr}`);
      await sleep(100);
    }
    daemon('slurmctld', 'slurmctld', ['-D', '-i', '-f', conf]);
    daemon('slurmd', 'slurmd', ['-D', '-f', conf]);
    for (let waited = 0; ; waited += 250) {
      const exited = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
      if (exited) throw new Error(`${exited.name} exited (status ${exited.child.exitCode ?? exited.child.signalCode}) while the cluster started`);
      const state = await client('sinfo', ['-h', '-N', '-o', '%T']);
      if (state.status === 0 && /^idle/m.test(state.stdout)) break;
      if (waited > readyMs) throw new Error(`the node was not idle after ${readyMs / 1000} s (sinfo: ${state.stdout.trim() || state.stderr.trim()})`);
      await sleep(250);
    }
  } catch (error) {
    const text = await logs();
    await stop();
    throw new Error(`cannot start Slurm in ${dir}: ${(error as Error).message}\n${text}`);
  }
  return { dir, node, env, client, logs, stop };
}
