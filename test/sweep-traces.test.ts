/**
 * Sweep traces that record more than V (traces.record): through the CLI (the shard store in its
 * worker thread), each trace's NPY file, read with npyjs, holds time and the recorded quantities, and
 * its sidecar names them with their units exactly as simulate --record names its trace columns. The
 * values are checked against simulate() of the same model at the same parameters on the same f64 CPU
 * engine (tolerance 1e-9 relative to the column's largest magnitude: the sweep compiles its varied
 * parameters as per-instance inputs where simulate folds them as constants, which may reorder a few
 * f64 operations, and nothing else differs). Networks name quantities by cell; shards are verified
 * and merged; extra traced quantities change no row; bad names and oversize outputs are refused.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { parse as parseNpy } from 'npyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pyloric } from '../src/channels/pyloric.ts';
import { main } from '../src/cli/main.ts';
import { readParquet } from '../src/io/parquet.ts';
import { traceSidecar } from '../src/io/simulation-output.ts';
import { verifySweep } from '../src/io/sweep-merge.ts';
import { simulate, type SimulationResult } from '../src/jobs/simulate.ts';
import { checkSweepOutput, parseSweepSpec, resolveSweep, type SweepSpecInput } from '../src/jobs/sweep/spec.ts';
import { makeSampler } from '../src/jobs/sweep/sampling.ts';
import { gpuForTests } from './gpu-helper.ts';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ionsweep-sweep-traces-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** main(argv) in this process with its output kept off the test's; the exit status and stderr. */
async function inProcess(args: string[]): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const out = process.stdout.write, err = process.stderr.write;
  const swallow = (sink?: (s: string) => void) => ((chunk: unknown, ...rest: unknown[]) => {
    sink?.(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk as Uint8Array));
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = swallow();
  process.stderr.write = swallow((s) => (stderr += s));
  try {
    return { status: await main(args), stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Runs a sweep spec through the CLI (shards given as i/n, each run in turn); its folder. */
async function sweep(spec: SweepSpecInput, shards = 1): Promise<string> {
  const id = n++;
  const specPath = join(root, `spec-${id}.json`), out = join(root, `out-${id}`);
  await writeFile(specPath, JSON.stringify(spec));
  for (let s = 0; s < shards; s++) {
    const r = await inProcess(['sweep', specPath, '--out', out, '--quiet', ...(shards > 1 ? ['--shard', `${s}/${shards}`] : [])]);
    expect(r.status, r.stderr).toBe(0);
  }
  return out;
}

interface Trace {
  shape: number[];
  columns: string[];
  units: string[];
  sidecar: Record<string, unknown>;
  column(name: string): number[];
}

async function readTrace(dir: string, index: number): Promise<Trace> {
  const name = `model-${String(index).padStart(9, '0')}.npy`;
  const bytes = await readFile(join(dir, 'traces', name));
  const npy = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  expect(npy.dtype).toBe('f8');
  const sidecar = JSON.parse(await readFile(join(dir, 'traces', `${name}.json`), 'utf8'));
  const [S, C] = npy.shape;
  const data = npy.data as Float64Array;
  return {
    shape: npy.shape, columns: sidecar.columns, units: sidecar.units, sidecar,
    column: (c) => {
      const k = sidecar.columns.indexOf(c);
      expect(k, `column ${c} in ${sidecar.columns}`).toBeGreaterThanOrEqual(0);
      return Array.from({ length: S }, (_, s) => data[s * C + k]);
    },
  };
}

/** simulate's own sidecar (io/simulation-output.ts), as `simulate --out` writes it. */
const simulateSidecar = (r: SimulationResult) => JSON.parse(traceSidecar(r, 'x.npy')) as { columns: string[]; units: string[] };

/** Every recorded column equals simulate's column of the same name (`tolerance` of its largest magnitude), with the same unit. */
function expectSameAsSimulate(trace: Trace, r: SimulationResult, tolerance = 1e-9): void {
  const reference = simulateSidecar(r);
  expect(trace.column('tMs')).toEqual(Array.from(r.trace!.timesMs));
  for (const [k, name] of trace.columns.entries()) {
    if (k === 0) continue;
    expect(reference.columns, `simulate names a column ${name}`).toContain(name);
    expect(trace.units[k], `unit of ${name}`).toBe(reference.units[reference.columns.indexOf(name)]);
    const want = Array.from(r.trace!.series[name]);
    const got = trace.column(name);
    const scale = Math.max(...want.map(Math.abs));
    const worst = Math.max(...want.map((w, s) => Math.abs(got[s] - w)));
    expect(worst, `${name}: largest difference, against ${scale}`).toBeLessThanOrEqual(tolerance * scale);
    expect(scale, `${name} is not all zero`).toBeGreaterThan(0);
  }
}

const PRINZ: SweepSpecInput = {
  model: 'prinz', durationMs: 300, discardMs: 100, dtMs: 0.05, engine: 'cpu', sampling: 'random', samples: 4, seed: 5, chunkSize: 2,
  parameters: { gNa: { uniform: [100, 400] }, gCaS: { uniform: [2, 8] } }, fixed: { gLeak: 0.01 },
  traces: { everyMs: 2, indices: [1, 2], record: ['V', 'Na.m', 'INa', 'Ca', 'ICaS', 'KCa.m'] },
};

describe('sweep traces.record', () => {
  it('single cells: each trace holds time and the recorded quantities, named, in units and valued as simulate --record gives them; through two shards, verify and merge', async () => {
    const out = await sweep(PRINZ, 2);
    expect((await verifySweep(out)).problems).toEqual([]);
    expect(await inProcess(['merge', out]).then((r) => r.status)).toBe(0);
    const resolved = resolveSweep(parseSweepSpec(PRINZ));
    const sampler = makeSampler(resolved);
    const row = new Float64Array(sampler.names.length);
    for (const index of [1, 2]) {
      const trace = await readTrace(out, index);
      expect(trace.columns).toEqual(['tMs', 'VMv', 'Na_m', 'INaUAPerCm2', 'CaUM', 'ICaSUAPerCm2', 'KCa_m']);
      expect(trace.units).toEqual(['ms', 'mV', '1', 'µA/cm²', 'µM', 'µA/cm²', '1']);
      expect(trace.shape).toEqual([100, 7]);
      expect(trace.sidecar).toMatchObject({ model: 'prinz', index, shape: [100, 7], dtype: 'float64', npy: `model-${String(index).padStart(9, '0')}.npy` });
      sampler.valuesOf(index, row);
      const set = { gLeak: 0.01, ...Object.fromEntries(sampler.names.map((name, d) => [name, row[d]])) };
      expect(trace.sidecar.parameters).toEqual(Object.fromEntries(sampler.names.map((name, d) => [name, row[d]])));
      const r = await simulate({ model: 'prinz', set, durationMs: 300, discardMs: 100, dtMs: 0.05, engine: 'cpu', traceEveryMs: 2, record: ['Na.m', 'INa', 'ICaS', 'KCa.m'] });
      expectSameAsSimulate(trace, r);
    }
  });

  it('extra traced quantities change no row: the table equals that of the same sweep tracing V only', async () => {
    const two = { ...PRINZ, samples: 2, traces: { ...PRINZ.traces!, indices: [1] } };
    const [withRecord, vOnly] = [await sweep(two), await sweep({ ...two, traces: { everyMs: 2, indices: [1] } })];
    const a = await readParquet(join(withRecord, 'shard-00000-of-00001.parquet'));
    const b = await readParquet(join(vOnly, 'shard-00000-of-00001.parquet'));
    expect(a.columns.map((c) => c.name)).toEqual(b.columns.map((c) => c.name));
    for (const [k, c] of a.columns.entries()) expect(Array.from(c.data as ArrayLike<unknown>), c.name).toEqual(Array.from(b.columns[k].data as ArrayLike<unknown>));
    // without record, a trace is time and V, with its sidecar
    const trace = await readTrace(vOnly, 1);
    expect([trace.columns, trace.units, trace.shape]).toEqual([['tMs', 'VMv'], ['ms', 'mV'], [100, 2]]);
  });

  it('networks: quantities by cell (ABPD.V, LP.Ca, LP.INa, PY.Na.m), as simulate --record gives them; by default every cell\'s V', async () => {
    const fixed = { gSynPDtoLP: 30, gSynABtoPY: 10, gSynPDtoPY: 3, gSynLPtoABPD: 30, gSynLPtoPY: 1, gSynPYtoLP: 30 };
    const base = { model: 'pyloric', init: 'cold', durationMs: 200, dtMs: 0.05, engine: 'cpu', parameters: { gSynABtoLP: { grid: [3, 30] } }, fixed } as const;
    const explicit = await sweep({ ...base, traces: { everyMs: 1, indices: [1], record: ['ABPD.V', 'LP.Ca', 'LP.INa', 'PY.Na.m'] } });
    const trace = await readTrace(explicit, 1);
    expect(trace.columns).toEqual(['tMs', 'ABPD_VMv', 'LP_CaUM', 'LP_INaUAPerCm2', 'PY_Na_m']);
    expect(trace.units).toEqual(['ms', 'mV', 'µM', 'µA/cm²', '1']);
    const r = await simulate({ model: 'pyloric', init: 'cold', set: { ...fixed, gSynABtoLP: 30 }, durationMs: 200, dtMs: 0.05, engine: 'cpu', traceEveryMs: 1, record: ['LP.INa', 'PY.Na.m'] });
    expectSameAsSimulate(trace, r);

    const byDefault = await readTrace(await sweep({ ...base, traces: { everyMs: 1, indices: [0] } }), 0);
    expect(byDefault.columns).toEqual(['tMs', 'ABPD_VMv', 'LP_VMv', 'PY_VMv']);
    const r0 = await simulate({ model: 'pyloric', init: 'cold', set: { ...fixed, gSynABtoLP: 3 }, durationMs: 200, dtMs: 0.05, engine: 'cpu', traceEveryMs: 1 });
    expectSameAsSimulate(byDefault, r0);

    // cells chosen per network: the sidecar names the chosen cells, as the table's row does (not the
    // choice's position), and the trace is that network's
    const cells = { ABPD: { choice: ['ABPD1', 'ABPD2'] }, LP: { choice: ['LP4'] }, PY: { choice: ['PY1', 'PY5'] } };
    const chosen = await sweep({ ...base, cells, traces: { everyMs: 1, indices: [6] } });
    const six = await readTrace(chosen, 6);
    const { columns } = await readParquet(join(chosen, 'shard-00000-of-00001.parquet'));
    const row = Object.fromEntries(['ABPD', 'LP', 'PY', 'gSynABtoLP'].map((name) => [name, (columns.find((c) => c.name === name)!.data as ArrayLike<unknown>)[6]]));
    expect(six.sidecar.parameters).toEqual(row);
    expect(row).toEqual({ ABPD: 'ABPD2', LP: 'LP4', PY: 'PY5', gSynABtoLP: 3 });
    const r6 = await simulate({ model: pyloric({ cells: ['ABPD2', 'LP4', 'PY5'] }), init: 'cold', set: { ...fixed, gSynABtoLP: 3 }, durationMs: 200, dtMs: 0.05, engine: 'cpu', traceEveryMs: 1 });
    expectSameAsSimulate(six, r6);
  });

  it('on the GPU engine (f32) the same columns, within f32 rounding of the f64 simulate over 40 ms', async () => {
    if (!(await gpuForTests())) return; // no adapter outside CI (gpuForTests throws in CI)
    const spec = { ...PRINZ, engine: 'gpu', durationMs: 40, discardMs: 0, traces: { ...PRINZ.traces!, everyMs: 0.5, indices: [1] } } as SweepSpecInput;
    const out = await sweep(spec);
    const trace = await readTrace(out, 1);
    expect(trace.columns).toEqual(['tMs', 'VMv', 'Na_m', 'INaUAPerCm2', 'CaUM', 'ICaSUAPerCm2', 'KCa_m']);
    const sampler = makeSampler(resolveSweep(parseSweepSpec(spec)));
    const row = new Float64Array(sampler.names.length);
    sampler.valuesOf(1, row);
    const set = { gLeak: 0.01, ...Object.fromEntries(sampler.names.map((name, d) => [name, row[d]])) };
    const r = await simulate({ model: 'prinz', set, durationMs: 40, dtMs: 0.05, engine: 'cpu', traceEveryMs: 0.5, record: ['Na.m', 'INa', 'ICaS', 'KCa.m'] });
    // f32 state and parameters (relative rounding 6e-8 per step, Kahan-compensated sums) over 800
    // steps before any spike: measured 5e-8 of V's largest magnitude (lavapipe); 1e-5 leaves room for
    // other GPUs' exp and fused arithmetic, and is still far below a wrongly wired column
    expectSameAsSimulate(trace, r, 1e-5);
  });

  it('verify names a sidecar that is missing or does not describe its trace', async () => {
    const out = await sweep({ ...PRINZ, samples: 2, traces: { ...PRINZ.traces!, indices: [1] } });
    const sidecar = join(out, 'traces', 'model-000000001.npy.json');
    const doc = JSON.parse(await readFile(sidecar, 'utf8'));
    await writeFile(sidecar, JSON.stringify({ ...doc, columns: doc.columns.slice(0, 3), units: doc.units.slice(0, 3) }));
    expect((await verifySweep(out)).problems).toEqual([expect.stringMatching(/trace sidecar traces\/model-000000001\.npy\.json names 3 columns and 3 units, the trace has 7/)]);
    await rm(sidecar);
    expect((await verifySweep(out)).problems).toEqual([expect.stringMatching(/trace sidecar traces\/model-000000001\.npy\.json missing/)]);
  });

  it('refuses unknown names, naming traces.record and the allowed names, and counts the extra columns in the output check', () => {
    expect(() => resolveSweep(parseSweepSpec({ ...PRINZ, traces: { everyMs: 2, indices: [1], record: ['V', 'INope'] } })))
      .toThrow(/^sweep spec: traces\.record: unknown quantity 'INope' of model prinz; states and currents: .*Na\.m.*INa/);
    expect(() => resolveSweep(parseSweepSpec({ ...PRINZ, traces: { everyMs: 2, indices: [1], record: ['Na.m', 'Na.m'] } }))).toThrow(/traces\.record: Na\.m is listed twice/);
    expect(() => parseSweepSpec({ ...PRINZ, traces: { everyMs: 2, indices: [1], record: [] } })).toThrow(/traces\.record.*at least one name/);
    // 1,000 traces of 500,000 samples: 8 GB as (time, V), 24 GB with four quantities more, over the 16 GiB limit
    const big = (record: string[]) => resolveSweep(parseSweepSpec({
      ...PRINZ, samples: 1000, chunkSize: 10, durationMs: 500_000, discardMs: 0, traces: { everyMs: 1, indices: Array.from({ length: 1000 }, (_, i) => i), record },
    }));
    expect(() => checkSweepOutput(big(['V']), { index: 0, count: 1 })).not.toThrow();
    expect(() => checkSweepOutput(big(['V', 'Ca', 'Na.m', 'INa', 'IKd', 'ICaS']), { index: 0, count: 1 })).toThrow(/1000 traces of 50000\d samples × 7 columns/);
  });
});
