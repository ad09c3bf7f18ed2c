#!/usr/bin/env node
// The `ionsweep` command for npm/npx. ionsweep runs under Deno, whose built-in WebGPU is the one that
// holds up under load (see docs/runtime.md; the npm `webgpu` package crashes), so this shim starts the
// Deno binary from the `deno` npm package on the TypeScript entry point and passes its exit status on.
//
// Signals: SIGINT, SIGTERM and SIGHUP are forwarded to the Deno child, and the shim then exits with
// 128 + the signal's number (130, 143, 129) whatever the child does, so a stopped run never reads as
// a success. A child that has not exited GRACE_MS after the signal (its main thread busy in a long
// synchronous computation) is killed; a second signal kills it at once. The child is told this
// process's pid (IONSWEEP_LAUNCHER_PID) and kills itself when its parent changes, so even a SIGKILL of
// this shim leaves no orphan that goes on writing results (src/cli/signals.ts).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', 'src', 'cli', 'main.ts');
const isDeno = typeof globalThis.Deno !== 'undefined';
/** how long a signalled child may take to stop before it is killed (ms) */
const GRACE_MS = 3000;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function denoBinary() {
  if (isDeno) return globalThis.Deno.execPath();
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('deno/package.json'));
  return join(pkg, process.platform === 'win32' ? 'deno.exe' : 'deno');
}

/** The shell's convention for a process ended by a signal: 128 + its number. */
const statusOf = (signal) => 128 + (constants.signals[signal] ?? 0);

const child = spawn(denoBinary(), ['run', '-A', '--quiet', entry, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, IONSWEEP_LAUNCHER_PID: String(process.pid) },
});
let received;
for (const sig of FORWARDED) {
  process.on(sig, () => {
    if (received) {
      child.kill('SIGKILL');
      return;
    }
    received = sig;
    child.kill(sig);
    setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
  });
}
child.on('error', (error) => {
  process.stderr.write(`ionsweep: cannot start Deno (${denoBinary()}): ${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (received) process.exit(statusOf(received));
  else if (signal) process.exit(statusOf(signal));
  else process.exit(code ?? 1);
});
