/**
 * Hostile command lines and specs (the audit's issue 14, items 7, 8 and 9): loose flags (threads,
 * counts, empty paths), axis ends outside a parameter's range, outputs of the wrong kind or on a full
 * device, and requests too large to fit in memory or on disk. Each case is a row: the arguments, the
 * exit status (2: the request; 1: the environment) and a pattern for the one line on stderr. Every
 * row failed before its fix (exit 0, a stack trace, a misleading message, or memory exhausted).
 *
 * The rows run `main(argv)` in this process (each refusal comes before any work, so no Deno start
 * per row), with stdout and stderr captured; one row runs the real command (bin/ionsweep.mjs) to
 * check the same line reaches a user.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { main } from '../src/cli/main.ts';
import { runLandscape, type LandscapeSpecInput } from '../src/jobs/landscape.ts';
import { simulate as simulateJob } from '../src/jobs/simulate.ts';
import { checkSweepOutput, parseSweepSpec, resolveSweep } from '../src/jobs/sweep/spec.ts';
import { ROOT, cli, expectOneLineFailure, type CliRun } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-hostile-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes a spec file into the scratch folder; returns its path. */
function spec(name: string, body: Record<string, unknown>): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(path, stringify(body));
  return path;
}

const landscape = (extra: Record<string, unknown> = {}) => ({
  model: 'hh', dtMs: 0.05, durationMs: 20, cost: [{ mean: 'V' }],
  x: { parameter: 'gNa', from: 100, to: 140, count: 2 }, y: { parameter: 'gK', from: 30, to: 40, count: 2 }, engine: 'cpu', ...extra,
});
const sweep = (extra: Record<string, unknown> = {}) => ({
  model: 'hh', durationMs: 20, sampling: 'random', samples: 4, parameters: { gNa: { uniform: [100, 140] } }, engine: 'cpu', ...extra,
});
const fit = (extra: Record<string, unknown> = {}) => ({
  model: 'hh', dtMs: 0.05, durationMs: 20, cost: [{ mean: 'V', target: -60 }], parameters: { gNa: [100, 140] }, engine: 'cpu', ...extra,
});
const curve = (extra: Record<string, unknown> = {}) => ({
  model: 'hh', dtMs: 0.05, durationMs: 20, cost: [{ mean: 'V' }], parameters: ['log:gNa', 'log:gK'], momentum: 1e-3, engine: 'cpu', ...extra,
});

const aFile = join(scratch, 'a-file');
writeFileSync(aFile, 'not a folder\n');
const aDir = join(scratch, 'a-dir');
mkdirSync(aDir);
const simulate = ['simulate', '--model', 'hh', '--duration-ms', '20', '--engine', 'cpu'];

interface Case {
  name: string;
  args: string[];
  status: 1 | 2;
  pattern: RegExp;
}

const CASES: Case[] = [
  // item 9: loose flags
  ...['0', '-3', '1.5', '100000'].map((t): Case => ({ name: `simulate --threads ${t}`, args: [...simulate, '--threads', t], status: 2, pattern: /--threads must be an integer in \[1, 256\], got '.*'/ })),
  ...(['sweep', 'landscape', 'fit', 'curve'] as const).map((c): Case => ({
    name: `${c} --threads 0`, args: [c, spec(`threads-${c}`, { sweep, landscape, fit, curve }[c]()), '--threads', '0'], status: 2, pattern: /--threads must be an integer in \[1, 256\]/,
  })),
  { name: 'landscape --threads 1.5', args: ['landscape', spec('threads-frac', landscape()), '--threads', '1.5'], status: 2, pattern: /--threads must be an integer/ },
  { name: 'fit --best -3', args: ['fit', spec('best', fit()), '--best', '-3'], status: 2, pattern: /--best must be an integer in \[1, 1000000\], got '-3'/ },
  { name: 'fit --best 2.5', args: ['fit', spec('best2', fit()), '--best', '2.5'], status: 2, pattern: /--best must be an integer/ },
  { name: "landscape --out ''", args: ['landscape', spec('out-empty', landscape()), '--out', ''], status: 2, pattern: /--out must be a path, got an empty string/ },
  { name: "simulate --out ''", args: [...simulate, '--trace-every-ms', '1', '--out', ''], status: 2, pattern: /--out must be a path, got an empty string/ },
  { name: 'landscape axis from: -100 for a conductance', args: ['landscape', spec('axis-neg', landscape({ x: { parameter: 'gNa', from: -100, to: 140, count: 2 } })), '--out', join(scratch, 'o1')], status: 2, pattern: /x\.from: parameter gNa = -100 is out of range/ },
  { name: 'fit box beyond a parameter range', args: ['fit', spec('box', fit({ parameters: { celsius: [1, 1000] } })), '--out', join(scratch, 'o9')], status: 2, pattern: /parameters\.celsius\[1\]: parameter celsius = 1000 is out of range/ },
  // commander's own refusals read like every other one-line error
  { name: 'an unknown option', args: [...simulate, '--bogus'], status: 2, pattern: /^ionsweep: unknown option '--bogus'$/ },
  { name: 'a missing spec argument', args: ['landscape'], status: 2, pattern: /^ionsweep: missing required argument 'spec'$/ },
  { name: 'an unknown command', args: ['simulat'], status: 2, pattern: /^ionsweep: unknown command 'simulat'/ },
  // item 8: outputs of the wrong kind, a full device
  { name: 'simulate --out a folder', args: [...simulate, '--trace-every-ms', '1', '--out', aDir], status: 2, pattern: /--out .*a-dir is a folder; give a file name/ },
  { name: 'simulate --out under a file (ENOTDIR)', args: [...simulate, '--trace-every-ms', '1', '--out', join(aFile, 'trace.npy')], status: 1, pattern: /a-file: not a directory/ },
  { name: 'landscape --out a file', args: ['landscape', spec('out-file', landscape()), '--out', aFile], status: 2, pattern: /--out .*a-file is not a folder/ },
  // item 7: sizes
  ...(process.platform === 'linux' ? [{ name: 'a spec file that never ends (/dev/zero)', args: ['sweep', '/dev/zero', '--out', join(scratch, 'o12')], status: 2 as const, pattern: /spec file \/dev\/zero is larger than 67\.1 MB/ }] : []),
  { name: 'sweep chunkSize 4194304 with 4096 maxima', args: ['sweep', spec('chunk', sweep({ samples: 1 << 23, chunkSize: 1 << 22, maxima: 4096 })), '--out', join(scratch, 'o3')], status: 2, pattern: /chunkSize 4194304 × maxima 4096 needs about \d.* GB of memory, over the limit of 8\.59 GB/ },
  { name: 'sweep samples 2^31 − 1', args: ['sweep', spec('samples', sweep({ samples: 2 ** 31 - 1 })), '--out', join(scratch, 'o4')], status: 2, pattern: /sweep shard \(2147483647 models × ~\d+ bytes per row\) would write about \d.* GB, over the limit of 17\.2 GB: split the sweep into more shards/ },
  { name: 'sweep grid axis of 1e12 values', args: ['sweep', spec('grid', sweep({ sampling: 'grid', samples: undefined, parameters: { gNa: { grid: { from: 0, to: 1, count: 1e12 } } } })), '--out', join(scratch, 'o5')], status: 2, pattern: /parameters\.gNa\.grid\.count must be an integer in \[1, 1000000\]/ },
  { name: 'fit 1e6 starts × 1e5 screen points', args: ['fit', spec('screen', fit({ starts: 1_000_000, screen: 100_000 })), '--out', join(scratch, 'o6')], status: 2, pattern: /starts × screen = 1000000 × 100000 = 100000000000 screen evaluations, over the limit of 100000000/ },
  { name: 'curve maxSteps 1e12', args: ['curve', spec('steps', curve({ maxSteps: 1e12 })), '--out', join(scratch, 'o7')], status: 2, pattern: /maxSteps.*must be an integer in \[1, 1000000\]/ },
  { name: 'simulate a trace of 2e9 samples', args: ['simulate', '--model', 'hh', '--duration-ms', '50000000', '--dt-ms', '0.025', '--trace-every-ms', '0.025', '--engine', 'cpu', '--out', join(scratch, 't.npy')], status: 2, pattern: /simulate: 2\.00e\+9 steps .* with a trace of 2000000001 samples needs about \d.* GB of memory, over the limit/ },
  { name: 'simulate a 4e7-sample trace inline', args: ['simulate', '--model', 'hh', '--duration-ms', '1000000', '--trace-every-ms', '0.025', '--engine', 'cpu'], status: 2, pattern: /a trace of 40000001 samples × 2 columns printed inline is about 1\.92 GB of text, over the limit of 268 MB: write it to a file with --out/ },
  { name: 'simulate --format csv --out with a 4e7-sample trace (CSV prints it too)', args: ['simulate', '--model', 'hh', '--duration-ms', '1000000', '--trace-every-ms', '0.025', '--engine', 'cpu', '--format', 'csv', '--out', join(scratch, 'c.npy')], status: 2, pattern: /printed inline is about 1\.92 GB of text, over the limit of 268 MB: write it to a file with --out trace\.npy and --format json/ },
  { name: 'landscape of 1e6 points with traces of 40,001 samples', args: ['landscape', spec('traces', landscape({ durationMs: 1000, dtMs: 0.025, traceEveryMs: 0.025, cost: [{ trace: 'V' }], x: { parameter: 'gNa', from: 100, to: 140, count: 1000 }, y: { parameter: 'gK', from: 30, to: 40, count: 1000 } })), '--out', join(scratch, 'o8')], status: 2, pattern: /an ensemble run of 1000000 instances needs about \d.* GB of memory, over the limit of 8\.59 GB/ },
];

/** Runs main(argv) in this process, capturing what it writes; resolves like a CliRun. */
async function runMain(args: string[]): Promise<CliRun> {
  let stdout = '', stderr = '';
  const out = process.stdout.write, err = process.stderr.write;
  const capture = (sink: (s: string) => void) => ((chunk: unknown, ...rest: unknown[]) => {
    sink(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk as Uint8Array));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    const status = await main([...args, ...(args.includes('--quiet') || args[0] === 'simulate' ? [] : ['--quiet'])]);
    return { status, signal: null, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('hostile command lines: one line and exit 1 or 2, before any work', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const started = performance.now();
      const run = await runMain(c.args);
      expectOneLineFailure(run, c.status, c.pattern);
      // refused up front: no run (the largest would take hours; the bound is loose so that a busy host
      // cannot break it), nothing written into the output folder
      expect(performance.now() - started).toBeLessThan(60_000);
      const outAt = c.args.indexOf('--out');
      if (outAt >= 0 && c.status === 2 && c.args[outAt + 1] && c.args[outAt + 1] !== aFile && c.args[outAt + 1] !== aDir) {
        expect(() => readdirSync(c.args[outAt + 1])).toThrow();
      }
    }, 120_000);
  }

  it.runIf(process.platform === 'linux' && (() => {
    try {
      return statSync('/dev/full').isCharacterDevice();
    } catch {
      return false;
    }
  })())('simulate --out a link to /dev/full (a full disk): exit 1, no space left, naming the file; the device is written, never renamed over', async () => {
    // through a link, so that code renaming over the target (as before the fix) replaces the link, not /dev/full
    const full = join(scratch, 'full.npy');
    symlinkSync('/dev/full', full);
    const run = await runMain([...simulate, '--trace-every-ms', '1', '--out', full]);
    expectOneLineFailure(run, 1, /full\.npy: no space left on device/);
    expect(lstatSync(full).isSymbolicLink()).toBe(true);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('library callers get the same thread check: simulate({ threads: 100000 }) and a landscape with threads 1.5 are refused', async () => {
    await expect(simulateJob({ model: 'hh', durationMs: 5, threads: 100_000 })).rejects.toThrow(/threads must be an integer in \[1, 256\], got 100000/);
    await expect(runLandscape(landscape() as LandscapeSpecInput, { run: { threads: 1.5 } })).rejects.toThrow(/threads must be an integer in \[1, 256\], got 1\.5/);
  });

  it('the limits are generous for real use: the full Prinz 2003 database (1,679,616 models) passes them', () => {
    const sweep = resolveSweep(parseSweepSpec(parse(readFileSync(join(ROOT, 'examples/prinz-2003.yaml'), 'utf8'))));
    expect(sweep.total).toBe(1_679_616);
    expect(() => checkSweepOutput(sweep, { index: 0, count: 1 })).not.toThrow();
  });

  it('a reader that closes stdout early (| head -1): exit 1 and one line, not an uncaught EPIPE', async () => {
    const run = await new Promise<CliRun>((resolve, reject) => {
      const child = spawn('node', [`${ROOT}bin/ionsweep.mjs`, ...simulate, '--duration-ms', '2000', '--trace-every-ms', '0.025', '--format', 'csv'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout!.once('data', () => child.stdout!.destroy());
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status, signal) => resolve({ status, signal, stdout: '', stderr }));
    });
    expectOneLineFailure(run, 1, /stdout: broken pipe/);
  }, 30_000);

  it('the real command prints the same one line: ionsweep simulate --threads 0', async () => {
    expectOneLineFailure(await cli([...simulate, '--threads', '0']), 2, /--threads must be an integer in \[1, 256\], got '0'/);
  }, 30_000);
});

describe('the memory limit (IONSWEEP_MEMORY_LIMIT_GB)', () => {
  // the pyloric database in chunks of one setting of the cells, as a large GPU wants them: 10.5 GB planned
  const database = () => {
    const body = parse(readFileSync(join(ROOT, 'examples', 'prinz-2004.yaml'), 'utf8'));
    return spec('database-chunks', { ...body, chunkSize: 135_000 });
  };
  const withLimit = async <T>(value: string | undefined, run: () => Promise<T>): Promise<T> => {
    const before = process.env.IONSWEEP_MEMORY_LIMIT_GB;
    if (value === undefined) delete process.env.IONSWEEP_MEMORY_LIMIT_GB;
    else process.env.IONSWEEP_MEMORY_LIMIT_GB = value;
    try {
      return await run();
    } finally {
      if (before === undefined) delete process.env.IONSWEEP_MEMORY_LIMIT_GB;
      else process.env.IONSWEEP_MEMORY_LIMIT_GB = before;
    }
  };

  it('refuses chunks over the default 8 GiB and names the variable that raises it', async () => {
    const run = await withLimit(undefined, () => runMain(['sweep', database(), '--shard', '0/75', '--out', join(scratch, 'db-default')]));
    expectOneLineFailure(run, 2, /chunkSize 135000 × maxima 512 needs about 10\.\d GB of memory, over the limit of 8\.59 GB \(IONSWEEP_MEMORY_LIMIT_GB sets it on a machine with more\): lower chunkSize/);
  });

  it('takes a higher limit from the variable, and refuses a bad value naming it and the range', async () => {
    // 10 GB is still under the plan: the refusal quotes the limit in force
    const under = await withLimit('10', () => runMain(['sweep', database(), '--shard', '0/75', '--out', join(scratch, 'db-10')]));
    expectOneLineFailure(under, 2, /needs about 10\.\d GB of memory, over the limit of 10\.0 GB/);
    for (const bad of ['abc', '0', '-4', '1e9']) {
      const run = await withLimit(bad, () => runMain(['sweep', database(), '--shard', '0/75', '--out', join(scratch, `db-${bad}`)]));
      expectOneLineFailure(run, 2, new RegExp(`IONSWEEP_MEMORY_LIMIT_GB must be a number of GB from 1 to 100000, got '${bad.replace('-', '\\-')}'`));
    }
    // 16 GB admits the plan: the sweep gets past the check (stopped there by an unwritable output)
    const admitted = await withLimit('16', () => runMain(['sweep', database(), '--shard', '0/75', '--out', join(aFile, 'below-a-file')]));
    expect(admitted.stderr).not.toMatch(/of memory, over the limit/);
    expectOneLineFailure(admitted, 1, /below-a-file: not a directory/);
  });
});
