/**
 * The package as users get it: `npm pack` (which builds dist/ with declarations), installed into an
 * empty project, then the README's library example run under Node (the CPU engine) and Deno (the
 * GPU engine) and type-checked with `tsc --strict` against the installed declarations. The example is
 * taken from the README itself, so the README cannot drift from what the package does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-package-'));
const consumer = join(scratch, 'consumer');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The first ```ts block of the README's "Building a neuron from channels" section. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Building a neuron from channels'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README: no ts example under "Building a neuron from channels"');
  return m[1];
}

/** The example, printing what the test compares as one JSON line; `engine` forces an engine. */
function exampleSource(engine?: 'gpu'): string {
  let code = readmeExample();
  if (engine) {
    const forced = code.replace('simulate({ model: cell,', `simulate({ engine: '${engine}', model: cell,`);
    expect(forced, 'the README example calls simulate({ model: cell, ... })').not.toBe(code);
    code = forced;
  }
  return `${code}\nconsole.log(JSON.stringify({ engine: r.engine, spikeTimesMs: r.spikeTimesMs, meanVMv: r.observables.meanVMv, tangents: r.tangents.meanVMv }));\n`;
}

const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

beforeAll(() => {
  run('npm', ['pack', '--pack-destination', scratch, '--silent'], ROOT);
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  run('mkdir', ['-p', consumer], scratch);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // the dependencies come from npm's cache, which `npm ci` filled
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(scratch, tarball)], consumer);
}, 400_000);

describe('the packed package in an empty project', () => {
  it('runs the README example under Node on the CPU engine, with the numbers of the source tree', async () => {
    writeFileSync(join(consumer, 'example.mjs'), exampleSource());
    const out = lastJson(run('node', ['example.mjs'], consumer));
    expect(out.engine).toBe('cpu');
    expect(out.spikeTimesMs.length).toBeGreaterThan(5);
    // the same example from the source tree, in this process: f64 on both sides, but Node's and Deno's
    // Math.exp can differ in the last bit (different V8 versions; measured: 2e-14 ms in spike times),
    // so the comparison allows 1e-9 relative
    const { buildNeuron, hh, simulate } = await import('../src/index.ts');
    const here = await new Function('buildNeuron', 'hh', 'simulate', `return (async () => { ${readmeExample().replace(/^import .*$/m, '')}; return r; })();`)(buildNeuron, hh, simulate);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    expect(out.spikeTimesMs.length).toBe(here.spikeTimesMs.length);
    out.spikeTimesMs.forEach((t: number, k: number) => expect(close(t, here.spikeTimesMs[k]), `spike ${k}: ${t} vs ${here.spikeTimesMs[k]}`).toBe(true));
    expect(close(out.meanVMv, here.observables.meanVMv)).toBe(true);
    for (const lane of Object.keys(here.tangents.meanVMv)) expect(close(out.tangents[lane], here.tangents.meanVMv[lane]), lane).toBe(true);
  }, 120_000);

  it('runs it under Deno on the GPU engine (f32), agreeing with the CPU engine', () => {
    writeFileSync(join(consumer, 'example.mjs'), exampleSource());
    const cpu = lastJson(run('node', ['example.mjs'], consumer));
    writeFileSync(join(consumer, 'example-gpu.mjs'), exampleSource('gpu'));
    const gpu = lastJson(run(join(consumer, 'node_modules', '.bin', 'deno'), ['run', '-A', '--quiet', 'example-gpu.mjs'], consumer));
    expect(gpu.engine).toBe('gpu');
    expect(gpu.spikeTimesMs.length).toBe(cpu.spikeTimesMs.length);
    // f32 against f64 over 200 ms of tonic firing: spike times within 0.01 ms, mean V within 1e-5 relative
    gpu.spikeTimesMs.forEach((t: number, k: number) => expect(Math.abs(t - cpu.spikeTimesMs[k])).toBeLessThan(0.01));
    expect(Math.abs(gpu.meanVMv - cpu.meanVMv) / Math.abs(cpu.meanVMv)).toBeLessThan(1e-5);
    for (const lane of Object.keys(cpu.tangents)) expect(Math.abs(gpu.tangents[lane] - cpu.tangents[lane]) / Math.abs(cpu.tangents[lane])).toBeLessThan(1e-3);
  }, 120_000);

  it('type-checks with tsc --strict against the installed declarations (nothing skipped)', () => {
    const typed = exampleSource().replace("import { buildNeuron, hh, simulate } from 'ionsweep';", "import { buildNeuron, hh, simulate, type SimulationResult } from 'ionsweep';")
      + 'const check: SimulationResult = r;\nconst spikes: number[] = check.spikeTimesMs;\nexport { spikes };\n';
    writeFileSync(join(consumer, 'example.mts'), typed);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      run('node', [tsc, '--strict', '--noEmit', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'example.mts'], consumer);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
    // and a type error in the user's code is reported: the check is real
    writeFileSync(join(consumer, 'broken.mts'), "import { simulate } from 'ionsweep';\nconst n: string = (await simulate({ model: 'hh' })).spikeCount;\nexport { n };\n");
    expect(() => run('node', [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'broken.mts'], consumer)).toThrow();
  }, 120_000);
});
