#!/usr/bin/env node
// The `ionsweep` command for npm/npx. ionsweep runs under Deno, whose built-in WebGPU is the one that
// holds up under load (see ENVIRONMENT.md; the npm `webgpu` package crashes), so this shim starts the
// Deno binary from the `deno` npm package on the TypeScript entry point and passes its exit status on.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', 'src', 'cli', 'main.ts');
const isDeno = typeof globalThis.Deno !== 'undefined';

function denoBinary() {
  if (isDeno) return globalThis.Deno.execPath();
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('deno/package.json'));
  return join(pkg, process.platform === 'win32' ? 'deno.exe' : 'deno');
}

const child = spawn(denoBinary(), ['run', '-A', '--quiet', entry, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
