/**
 * The `ionsweep simulate` command run as a user runs it: `node bin/ionsweep.mjs simulate ...` in a
 * subprocess (the npm shim, which starts Deno on src/cli/main.ts), reading its stdout, stderr and
 * exit status. Checks the JSON and CSV documents, the NPY trace file (parsed by the independent
 * `npyjs` reader), the one-line errors with exit status 2, and the gradients the command prints
 * against central differences of the command's own output.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseNpy } from 'npyjs';
import { simulate } from '../src/jobs/simulate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-cli-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/ionsweep.mjs <args>` (under Deno, process.execPath is Deno, so take node from PATH). */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['bin/ionsweep.mjs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs `simulate` and parses its JSON; fails the test with the stderr if it did not succeed. */
async function json(args: string[]): Promise<Record<string, any>> {
  const r = await cli(['simulate', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('ionsweep simulate: JSON output', () => {
  it('hh with a current step: spike times, observables (Ca null), tangents by observable and parameter', async () => {
    const doc = await json(['--model', 'hh', '--duration-ms', '50', '--step-ua-per-cm2', '5,45,10', '--tangents', 'gNa,log:gK']);
    expect(doc.model).toBe('hh');
    expect(doc.engine).toBe('cpu'); // a single neuron runs on the f64 CPU engine under --engine auto
    // spikes: increasing times inside the step, their count in spikeCount
    const spikes: number[] = doc.spikeTimesMs;
    expect(spikes.length).toBeGreaterThanOrEqual(2);
    expect(doc.spikeCount).toBe(spikes.length);
    spikes.forEach((t, k) => {
      expect(t).toBeGreaterThan(5);
      expect(t).toBeLessThan(50);
      if (k) expect(t).toBeGreaterThan(spikes[k - 1]);
    });
    for (const key of ['meanVMv', 'minVMv', 'maxVMv']) expect(typeof doc[key]).toBe('number');
    expect(doc.minVMv).toBeLessThan(doc.meanVMv);
    expect(doc.meanVMv).toBeLessThan(doc.maxVMv);
    expect(doc.maxVMv).toBeGreaterThan(0); // it spiked
    // hh has no calcium: the keys are there, with null
    for (const key of ['meanCaUM', 'minCaUM', 'maxCaUM']) {
      expect(doc).toHaveProperty(key);
      expect(doc[key]).toBeNull();
    }
    expect(Object.keys(doc.tangents)).toEqual(['meanVMv']);
    expect(Object.keys(doc.tangents.meanVMv).sort()).toEqual(['gNa', 'log:gK']);
    for (const v of Object.values(doc.tangents.meanVMv)) expect(Number.isFinite(v)).toBe(true);
    expect(doc.params.gNa).toBe(120);
    expect(doc.stimulus).toEqual([{ startMs: 5, stopMs: 45, ampUAPerCm2: 10 }]);
  });

  it('prinz: calcium observables are numbers and have tangents too', async () => {
    const doc = await json(['--model', 'prinz', '--duration-ms', '200', '--set', 'gCaS=5,gKd=90', '--tangents', 'log:gCaS']);
    for (const key of ['meanCaUM', 'minCaUM', 'maxCaUM']) expect(typeof doc[key]).toBe('number');
    expect(doc.minCaUM).toBeGreaterThan(0);
    expect(doc.minCaUM).toBeLessThanOrEqual(doc.meanCaUM);
    expect(doc.meanCaUM).toBeLessThanOrEqual(doc.maxCaUM);
    expect(Object.keys(doc.tangents).sort()).toEqual(['meanCaUM', 'meanVMv']);
    expect(Object.keys(doc.tangents.meanCaUM)).toEqual(['log:gCaS']);
    expect(doc.params.gCaS).toBe(5);
    expect(doc.params.gKd).toBe(90);
    expect(doc.init).toBe('cold');
  });

  it('passes every flag through: the same numbers as the library simulate() with the same spec', async () => {
    const doc = await json([
      '--model', 'hh', '--set', 'gNa=110', '--set', 'gK=30', '--duration-ms', '40', '--dt-ms', '0.02', '--method', 'rk4',
      '--discard-ms', '4', '--current-ua-per-cm2', '1', '--step-ua-per-cm2', '10,30,9', '--tangents', 'gNa',
      '--init-v-mv', '-66', '--spike-threshold-mv', '-10', '--engine', 'cpu',
    ]);
    const lib = await simulate({
      model: 'hh', set: { gNa: 110, gK: 30 }, durationMs: 40, dtMs: 0.02, method: 'rk4', discardMs: 4, currentUAPerCm2: 1,
      steps: [{ startMs: 10, stopMs: 30, ampUAPerCm2: 9 }], tangents: ['gNa'], initVMv: -66, spikeThresholdMv: -10, engine: 'cpu',
    });
    expect(doc.method).toBe('rk4');
    expect(doc.dtMs).toBe(0.02);
    expect(doc.discardMs).toBe(4);
    expect(doc.spikeThresholdMv).toBe(-10);
    expect(doc.params.initVMv).toBe(-66);
    expect(doc.params.IExtUAPerCm2).toBe(1);
    expect(doc.spikeTimesMs).toEqual(lib.spikeTimesMs);
    expect(doc.spikeTimesMs.length).toBeGreaterThan(0);
    expect(doc.meanVMv).toBe(lib.observables.meanVMv);
    expect(doc.tangents).toEqual(lib.tangents);
  });
});

describe('ionsweep simulate: CSV and NPY', () => {
  it('--format csv without a trace prints one row of observables and tangents', async () => {
    const args = ['--model', 'hh', '--duration-ms', '20', '--step-ua-per-cm2', '2,12,10', '--tangents', 'gNa'];
    const [csv, doc] = await Promise.all([cli(['simulate', ...args, '--format', 'csv']), json(args)]);
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const [header, row] = lines.map((l) => l.split(','));
    expect(row).toHaveLength(header.length);
    const cell = (name: string) => row[header.indexOf(name)];
    for (const name of ['meanVMv', 'minVMv', 'maxVMv', 'meanCaUM', 'spikeCount', 'd_meanVMv/d_gNa']) expect(header).toContain(name);
    // the same numbers as the JSON, to the last digit
    expect(Number(cell('meanVMv'))).toBe(doc.meanVMv);
    expect(Number(cell('maxVMv'))).toBe(doc.maxVMv);
    expect(Number(cell('d_meanVMv/d_gNa'))).toBe(doc.tangents.meanVMv.gNa);
    expect(Number(cell('spikeCount'))).toBe(doc.spikeCount);
    expect(cell('meanCaUM')).toBe(''); // null: an empty cell
    expect(cell('spikeTimesMs').split(' ').map(Number)).toEqual(doc.spikeTimesMs);
  });

  it('--format csv with --trace-every-ms prints the trace table', async () => {
    const r = await cli(['simulate', '--model', 'prinz', '--duration-ms', '10', '--discard-ms', '4', '--trace-every-ms', '0.5', '--format', 'csv']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('tMs,VMv,CaUM');
    // samples after the discard: t = 4.5, 5, ..., 10 (12 of them)
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows).toHaveLength(12);
    rows.forEach((row, k) => {
      expect(row).toHaveLength(3);
      expect(row[0]).toBeCloseTo(4.5 + 0.5 * k, 12);
      expect(row[1]).toBeGreaterThan(-100);
      expect(row[1]).toBeLessThan(60);
      expect(row[2]).toBeGreaterThan(0);
    });
  });

  it('--out writes an NPY file that npyjs reads as (samples, 1 + quantities), equal to the inline trace', async () => {
    const file = join(scratch, 'trace.npy');
    const args = ['--model', 'prinz', '--duration-ms', '20', '--trace-every-ms', '1'];
    const [withFile, inline] = await Promise.all([json([...args, '--out', file]), json(args)]);
    expect(withFile.trace).toEqual({ npy: file, columns: ['tMs', 'VMv', 'CaUM'], samples: 20 });
    const bytes = readFileSync(file);
    const npy = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(npy.dtype).toBe('f8');
    expect(npy.fortranOrder).toBe(false);
    expect(npy.shape).toEqual([20, 3]);
    const data = Array.from(npy.data as Float64Array);
    const columns = [inline.trace.tMs, inline.trace.VMv, inline.trace.CaUM] as number[][];
    for (let s = 0; s < 20; s++) for (let c = 0; c < 3; c++) expect(data[s * 3 + c], `sample ${s}, column ${c}`).toBe(columns[c][s]);
    expect(columns[0]).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    // no temporary file is left next to it (the write is atomic: a temporary name, then a rename);
    // its sidecar names the columns
    expect(readdirSync(scratch).sort()).toEqual(['trace.npy', 'trace.npy.json']);
  });
});

describe('ionsweep simulate: invalid input exits 2 with one line on stderr', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown model', ['--model', 'squid'], /'squid'.*hh, prinz, liu/],
    ['unknown parameter in --set', ['--model', 'hh', '--set', 'gFoo=1'], /unknown parameter 'gFoo'.*allowed:.*gNa/],
    ['unknown parameter in --tangents', ['--model', 'hh', '--tangents', 'gNa,gFoo'], /unknown parameter 'gFoo'/],
    ['unknown parameter in a log: tangent', ['--model', 'hh', '--tangents', 'log:gBar'], /unknown parameter 'gBar'/],
    ['a tangent listed twice', ['--model', 'hh', '--tangents', 'gNa,gNa'], /gNa is listed twice/],
    ['dt 0', ['--dt-ms', '0'], /--dt-ms must be > 0/],
    ['dt negative', ['--dt-ms', '-0.01'], /--dt-ms must be > 0.*-0\.01/],
    ['dt NaN', ['--dt-ms', 'NaN'], /--dt-ms must be a finite number, got 'NaN'/],
    ["dt 'abc'", ['--dt-ms', 'abc'], /--dt-ms must be a finite number, got 'abc'/],
    ['dt that does not divide the duration', ['--duration-ms', '10', '--dt-ms', '0.03'], /whole number of steps/],
    ['--set gNa=NaN', ['--model', 'hh', '--set', 'gNa=NaN'], /--set gNa must be a finite number, got 'NaN'/],
    ['--set without a value', ['--model', 'hh', '--set', 'gNa'], /--set: expected name=value, got 'gNa'/],
    ['a parameter out of its range', ['--model', 'hh', '--set', 'gNa=-1'], /gNa = -1 is out of range: allowed \[0, inf\)/],
    // (this message names the field discardMs, not the flag --discard-ms: it comes from the run plan)
    ['discard equal to the duration', ['--duration-ms', '100', '--discard-ms', '100'], /discard.*\[0, 100\).*got 100/i],
    ['discard beyond the duration', ['--duration-ms', '100', '--discard-ms', '150'], /discard.*\[0, 100\).*got 150/i],
    ['a step with two numbers', ['--step-ua-per-cm2', '1,2'], /--step-ua-per-cm2 expects startMs,stopMs,amp, got '1,2'/],
    ['a step with a non-number', ['--step-ua-per-cm2', '1,x,3'], /--step-ua-per-cm2 must be a finite number, got 'x'/],
    ['a step that ends before it starts', ['--step-ua-per-cm2', '5,2,3'], /stopMs must be greater than startMs/],
    ['an unknown flag', ['--bogus'], /unknown option '--bogus'/],
    ['an unknown method', ['--method', 'euler'], /'euler'.*exp-euler, rk4/],
    ['--out without a trace', ['--out', 'x.npy'], /--out .*--trace-every-ms/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await cli(['simulate', '--duration-ms', '10', ...args]);
      expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }

  it('--help exits 0 and lists the flags', async () => {
    const [top, sub] = await Promise.all([cli(['--help']), cli(['simulate', '--help'])]);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/simulate/);
    expect(sub.status).toBe(0);
    for (const flag of ['--model', '--set', '--dt-ms', '--tangents', '--trace-every-ms', '--format']) expect(sub.stdout).toContain(flag);
    expect(sub.stderr).toBe('');
  });
});

describe('ionsweep simulate: gradients against finite differences of the command itself', () => {
  it('hh, 50 ms with a 10 µA/cm² step: d meanVMv/d gNa and d meanVMv/d log gK', async () => {
    // Three spikes in 50 ms: the mean is smooth in the parameters (no spike appears or vanishes
    // nearby), so central differences converge. With relative step h = 1e-3 a plain central
    // difference still carries O(h²) ≈ 3e-6 of truncation (measured); Richardson extrapolation from
    // h and h/2 removes it (O(h⁴)), leaving ~2e-10 (measured). Roundoff: the JSON numbers round-trip
    // exactly, so it is the run's own, ~1e-16·|V|/(h·p) ≈ 1e-11 relative. Bound 1e-7: 500× the
    // measured error, far below what a wrong derivative rule would give.
    const base = ['--model', 'hh', '--duration-ms', '50', '--step-ua-per-cm2', '5,45,10'];
    const center = await json([...base, '--tangents', 'gNa,log:gK']);
    expect(center.spikeCount).toBeGreaterThanOrEqual(2);
    const mean = async (name: string, value: number) => (await json([...base, '--set', `${name}=${value}`])).meanVMv as number;
    for (const [lane, name, p0, log] of [['gNa', 'gNa', 120, false], ['log:gK', 'gK', 36, true]] as const) {
      const central = async (rel: number) => {
        const up = p0 * (1 + rel), down = p0 * (1 - rel); // passed as shortest round-trip strings: exact
        const [mUp, mDown] = await Promise.all([mean(name, up), mean(name, down)]);
        return ((mUp - mDown) / (up - down)) * (log ? p0 : 1);
      };
      const [wide, narrow] = await Promise.all([central(1e-3), central(5e-4)]);
      const fd = narrow + (narrow - wide) / 3;
      const tangent = center.tangents.meanVMv[lane];
      expect(Math.abs(tangent - fd) / Math.abs(fd), `${lane}: tangent ${tangent}, Richardson ${fd}`).toBeLessThan(1e-7);
    }
  });
});
