/**
 * Diverged models (issue 14, item 4): every instance carries a status, recorded by the kernels of
 * both engines alike, independent of chunk, dispatch and batch boundaries; diverged instances never
 * pass for results. Models: hh under rk4, which is stable at dt 0.05 ms for gNa = 120 mS/cm² and
 * blows up within ~1 ms for gNa ≥ 1000 (the step's stiffness grows with the conductance).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { emitJs, instantiateJs, type KernelBuffers } from '../src/compile/emit-js.ts';
import { DIVERGED_ABOVE, watchedStates } from '../src/compile/kernel-common.ts';
import { bufferSlots, eventSlots } from '../src/compile/layout.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { describeDivergence, statusOf } from '../src/engine/results.ts';
import { cli, expectOneLineFailure } from './cli-helper.ts';
import { gpuForTests } from './gpu-helper.ts';
import { chunkColumns, chunkData, summarise } from '../src/jobs/sweep/rows.ts';
import { readParquet } from '../src/io/parquet.ts';
import { renderSvg } from '../src/io/plot/figure.ts';
import { landscapeSpec } from '../src/io/plot/landscape-figure.ts';
import { finiteMinimum, runLandscape } from '../src/jobs/landscape.ts';
import { runFit } from '../src/jobs/fit/run.ts';
import { runCurve } from '../src/jobs/curve/run.ts';
import { firstNonFinite } from '../src/cli/simulate.ts';
import { GPU } from 'gpu.js';
import { GPUJS_DIVERGED, emitGpuJs, instantiateGpuJsAsJs } from '../src/compile/emit-gpujs.ts';
import { runGpuJs, type GpuJsLike } from '../src/engine/gpujs/run.ts';
import { emitWgsl } from '../src/compile/emit-wgsl.ts';
import { checkF32Params } from '../src/engine/f32-range.ts';
import { InputError } from '../src/errors.ts';

const gpu = await gpuForTests();
const hh = libraryModel('hh');
const gNa = [120, 1000, 3000, 10000, 100000];
const stiff = () => compile(hh, { method: 'rk4', dtMs: 0.05, instanceParams: ['gNa'] });
/** a current step of 1e12 µA/cm² from t = 3500 ms throws V out of range at the end of step 70,000 (> 65,536) */
const late = () => ({
  program: compile(hh, { dtMs: 0.05, stimulus: [{ startMs: 3500, stopMs: 3600, ampUAPerCm2: 1e12 }] }), N: 1, durationMs: 3600,
});

describe('divergence status', () => {
  it('watches one state of a connected model, and every state of a model is covered', () => {
    const program = stiff();
    const watched = watchedStates(program);
    expect(watched.map((k) => program.states[k].name)).toEqual(['V']);
    const prinz = compile(libraryModel('prinz'), { dtMs: 0.025 });
    expect(watchedStates(prinz).map((k) => prinz.states[k].name)).toEqual(['V']);
  });

  it('watches every cell\'s V in a network, and every state feeds a watched state', () => {
    const net = compile(libraryModel('pyloric'), { dtMs: 0.025 });
    const watched = new Set(watchedStates(net));
    const names = watchedStates(net).map((k) => net.states[k].name);
    for (const v of ['ABPD.V', 'LP.V', 'PY.V']) expect(names).toContain(v);
    // state j reads state k when k occurs in j's increment; follow readers from every state
    const index = new Map(net.states.map((st, k) => [st.name, k]));
    const readers = net.states.map(() => new Set<number>());
    net.next.increment.forEach((root, j) => {
      const stack = [root], seen = new Set<number>();
      while (stack.length) {
        const node = stack.pop()!;
        if (seen.has(node.id)) continue;
        seen.add(node.id);
        if (node.op === 'state' && index.get(node.name) !== j) readers[index.get(node.name)!].add(j);
        stack.push(...node.args);
      }
    });
    net.states.forEach((st, k) => {
      const reached = new Set([k]), stack = [k];
      while (stack.length) for (const j of readers[stack.pop()!]) if (!reached.has(j)) { reached.add(j); stack.push(j); }
      expect([...reached].some((j) => watched.has(j)), st.name).toBe(true);
    });
  });

  it('marks exactly the instances that left the finite range (f64 CPU engine), with time and state, and NaN observables', async () => {
    const r = await runCpu({ program: stiff(), N: gNa.length, params: { gNa }, durationMs: 20, maximaCapacity: 8 });
    const d = r.divergence;
    expect(Array.from(gNa, (_, i) => statusOf(d, i))).toEqual(['ok', 'diverged', 'diverged', 'diverged', 'diverged']);
    expect(d.count).toBe(4);
    expect(d.state[0]).toBe(-1);
    expect(d.timeMs[0]).toBeNaN();
    expect(r.observed[0].mean[0]).toBeGreaterThan(-80);
    for (let i = 1; i < gNa.length; i++) {
      // found within a millisecond or so of the start, on a step boundary (dt 0.05 ms)
      expect(d.timeMs[i]).toBeGreaterThan(0);
      expect(d.timeMs[i]).toBeLessThan(2);
      expect(Math.abs(d.timeMs[i] / 0.05 - Math.round(d.timeMs[i] / 0.05))).toBeLessThan(1e-9);
      expect(d.stateNames[d.state[i]]).toBeTruthy();
      expect(Number.isNaN(d.value[i]) || Math.abs(d.value[i]) >= DIVERGED_ABOVE).toBe(true);
      expect(describeDivergence(d, i)).toMatch(/^\S+ = (NaN|[+-]Inf|-?[\d.]+e\+\d+) at t = [\d.]+ ms$/);
      // the means, extremes and tangents of a diverged run are not results
      for (const o of r.observed) for (const stat of [o.mean, o.min, o.max]) expect(stat[i]).toBeNaN();
    }
    // the more stiff, the sooner
    expect(d.timeMs[4]).toBeLessThanOrEqual(d.timeMs[1]);
  });

  it('records the same on worker threads as on the calling thread (CPU engine groups)', async () => {
    // 2,000 instances × 2,000 steps: enough work for the CPU engine to start workers
    const N = 2000, gNaSpread = Float64Array.from({ length: N }, (_, i) => 60 * 50 ** (i / (N - 1)));
    const spec = { program: stiff(), N, params: { gNa: gNaSpread }, durationMs: 100 };
    const [one, two] = [await runCpu(spec, { threads: 1 }), await runCpu(spec, { threads: 2 })];
    expect(two.device).toBe('cpu (2 threads)');
    expect(one.divergence.count).toBeGreaterThan(0);
    expect(one.divergence.count).toBeLessThan(N);
    expect(Array.from(two.divergence.state)).toEqual(Array.from(one.divergence.state));
    expect(Array.from(two.divergence.timeMs)).toEqual(Array.from(one.divergence.timeMs));
  });

  it('records a state out of range at initialisation as diverged at t = 0', async () => {
    const program = compile(hh, { dtMs: 0.025, instanceParams: ['initVMv'] });
    const r = await runCpu({ program, N: 2, params: { initVMv: [-65, 2e9] }, durationMs: 1 });
    expect(statusOf(r.divergence, 0)).toBe('ok');
    expect(describeDivergence(r.divergence, 1)).toBe('V = 2.00e+9 at t = 0 ms');
  });

  it('records the same step and state however the run is cut into chunks (JavaScript kernel)', () => {
    const program = stiff();
    const kernel = emitJs(program, { spikeCapacity: 4, maximaCapacity: 4 });
    const fn = instantiateJs(kernel.source);
    const N = gNa.length, slots = bufferSlots(kernel.layout), ev = eventSlots(kernel.layout);
    const buffers = (): KernelBuffers => ({
      state: new Float64Array(slots.state * N), tangent: new Float64Array(0), params: Float64Array.from(gNa),
      obsSum: new Float64Array(slots.obsSum * N), obsMin: new Float64Array(slots.obsMin * N), obsMax: new Float64Array(slots.obsMax * N),
      obsTanSum: new Float64Array(0), events: new Float64Array(slots.events * N), traceRow: new Int32Array(N).fill(-1), trace: new Float64Array(0),
      inputs: new Float64Array(0), normal: new Float64Array(0),
    });
    const args = { N, i0: 0, i1: N, accumulate: true, traceEvery: 0, traceFirstSample: 0, traceSamplesPerRow: 0 };
    const whole = buffers(), pieces = buffers();
    fn.init(whole, N, 0, N);
    fn.run(whole, { ...args, stepStart: 0, nSteps: 400 });
    fn.init(pieces, N, 0, N);
    for (let s = 0; s < 400; s += 7) fn.run(pieces, { ...args, stepStart: s, nSteps: Math.min(7, 400 - s) });
    const record = (b: KernelBuffers) => [ev.divergedState, ev.divergedStepsHigh, ev.divergedStepsLow, ev.divergedValue].map((slot) => Array.from(b.events.subarray(slot * N, slot * N + N)));
    expect(record(pieces)).toEqual(record(whole));
    expect(record(whole)[0].filter((x) => x > 0).length).toBe(4);
  });

  it('reads back the time of a late divergence exactly (past 65,536 steps, where the high half of the step count is used)', async () => {
    const r = await runCpu(late());
    expect(describeDivergence(r.divergence, 0)).toMatch(/^V = \d\.\d\de\+10 at t = 3500\.05 ms$/);
  });
});

describe.skipIf(!gpu)('divergence status on the GPU engine', () => {
  it('marks the same instances at the same steps as the CPU engine, whatever the batch and dispatch length', async () => {
    const spec = { program: stiff(), N: gNa.length, params: { gNa }, durationMs: 20, maximaCapacity: 8 };
    const cpu = await runCpu(spec);
    const whole = await runGpu(spec, { gpu: gpu! });
    const split = await runGpu(spec, { gpu: gpu!, maxBatch: 2, targetDispatchMs: 1 });
    expect(Array.from(whole.divergence.state, (_, i) => statusOf(whole.divergence, i))).toEqual(Array.from(cpu.divergence.state, (_, i) => statusOf(cpu.divergence, i)));
    for (let i = 0; i < gNa.length; i++) {
      // f32 and f64 arithmetic differ, so the blow-up may be found a step or two apart
      if (statusOf(cpu.divergence, i) === 'diverged') expect(Math.abs(whole.divergence.timeMs[i] - cpu.divergence.timeMs[i])).toBeLessThanOrEqual(0.1 + 1e-9);
    }
    expect(Array.from(split.divergence.state)).toEqual(Array.from(whole.divergence.state));
    expect(Array.from(split.divergence.timeMs)).toEqual(Array.from(whole.divergence.timeMs));
    expect(Array.from(split.divergence.value)).toEqual(Array.from(whole.divergence.value));
    expect(whole.observed[0].mean[1]).toBeNaN();
  });

  it('reads back the time of a late divergence exactly', async () => {
    const r = await runGpu(late(), { gpu: gpu! });
    expect(describeDivergence(r.divergence, 0)).toMatch(/^V = \d\.\d\de\+10 at t = 3500\.05 ms$/);
  });
});

describe('ionsweep simulate on a diverged run', () => {
  it('exits 2 with one line saying when and what diverged and suggesting a smaller --dt-ms, instead of NaN printed as null', async () => {
    const run = await cli(['simulate', '--model', 'hh', '--method', 'rk4', '--dt-ms', '1', '--duration-ms', '50', '--engine', 'cpu']);
    expectOneLineFailure(run, 2, /the model diverged: \S+ = (NaN|[+-]Inf|\S+e\+\d+) at t = \d+ ms \(--method rk4, --dt-ms 1\).*smaller --dt-ms/);
    expect(run.stdout).toBe('');
  });

  it('finds any other non-finite number of its document (a tangent overflowing f32, say), which JSON would print as null', () => {
    expect(firstNonFinite({ meanVMv: -60, meanCaUM: null, tangents: { meanVMv: { gNa: 1, 'log:gKd': NaN } } })).toEqual({ path: 'tangents.meanVMv.log:gKd', value: NaN });
    expect(firstNonFinite({ spikeTimesMs: [1, 2], trace: { vMv: Float64Array.of(1, Infinity) } })).toEqual({ path: 'trace.vMv[1]', value: Infinity });
    expect(firstNonFinite({ cells: { LP: { spikeTimesMs: [3, -Infinity] } } })).toEqual({ path: 'cells.LP.spikeTimesMs[1]', value: -Infinity });
    expect(firstNonFinite({ meanCaUM: null, spikeTimesMs: [], x: 'text', ok: true })).toBeUndefined();
  });

  it('keeps exit 0 for a run that stays in range', async () => {
    const run = await cli(['simulate', '--model', 'hh', '--method', 'rk4', '--dt-ms', '0.025', '--duration-ms', '20', '--engine', 'cpu']);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).meanVMv).toBeGreaterThan(-80);
  });
});

describe('sweep rows of diverged models', () => {
  it('get class and status diverged, the time and state, null features, and are counted apart', async () => {
    const r = await runCpu({ program: stiff(), N: gNa.length, params: { gNa }, durationMs: 20, maximaCapacity: 8 });
    const columns = chunkColumns(chunkData({ start: 10, end: 15 }, [{ name: 'gNa', values: Float64Array.from(gNa) }], undefined, r));
    const column = (name: string) => Array.from(columns.find((c) => c.name === name)!.data as ArrayLike<unknown>);
    expect(column('class')).toEqual(['silent', 'diverged', 'diverged', 'diverged', 'diverged']);
    expect(column('status')).toEqual(['ok', 'diverged', 'diverged', 'diverged', 'diverged']);
    expect(column('divergedAtMs')[0]).toBeNull();
    expect(column('divergedAtMs').slice(1)).toEqual(Array.from(r.divergence.timeMs.subarray(1)));
    expect(column('divergedState')[0]).toBeNull();
    expect(column('divergedState').slice(1).every((s) => typeof s === 'string' && r.divergence.stateNames.includes(s))).toBe(true);
    for (const name of ['firingRateHz', 'burstPeriodMs', 'isiMeanMs']) expect(column(name).slice(1)).toEqual([null, null, null, null]);
    expect(column('meanVMv').slice(1).every((v) => Number.isNaN(v))).toBe(true);
    // counts of a diverged model mean nothing (they even depend on dispatch lengths): zero
    expect(column('spikeCount').slice(1)).toEqual([0, 0, 0, 0]);
    expect(column('maximaCount').slice(1)).toEqual([0, 0, 0, 0]);
    expect(summarise(columns, 0).classCounts).toEqual({ silent: 1, diverged: 4 });
  });
});

describe('ionsweep sweep with rk4 at dt 1 ms (the audit\'s case: every model NaN, all classed silent)', () => {
  it('classes every model diverged, in the table, the manifest and the class table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ionsweep-diverged-'));
    try {
      await writeFile(join(dir, 'spec.yaml'), [
        'model: prinz', 'method: rk4', 'dtMs: 1', 'durationMs: 200', 'discardMs: 100', 'sampling: lhs', 'samples: 6', 'seed: 1',
        'parameters:', '  gNa: { uniform: [50, 500] }', '  gKd: { uniform: [20, 125] }', 'maxima: 16', 'chunkSize: 3', 'engine: cpu', '',
      ].join('\n'));
      const out = join(dir, 'out');
      const run = await cli(['sweep', join(dir, 'spec.yaml'), '--out', out]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/diverged\s+6\s+100\.0 %/);
      expect(run.stdout).toMatch(/silent\s+0\s/);
      const manifest = JSON.parse(await readFile(join(out, 'shard-00000-of-00001.json'), 'utf8'));
      expect(manifest.classCounts).toEqual({ diverged: 6 });
      const table = await readParquet(join(out, 'shard-00000-of-00001.parquet'));
      const column = (name: string) => Array.from(table.columns.find((c) => c.name === name)!.data as ArrayLike<unknown>);
      expect(column('class')).toEqual(Array(6).fill('diverged'));
      expect(column('status')).toEqual(Array(6).fill('diverged'));
      expect(column('divergedAtMs').every((t) => typeof t === 'number' && t > 0 && t <= 200)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('landscapes with diverged points', () => {
  it('take the minimum over finite costs only', () => {
    expect(finiteMinimum([NaN, 3, 1, NaN, 1])).toBe(2);
    expect(finiteMinimum([NaN, Infinity, NaN])).toBe(-1);
  });

  const axis = (param: string, n: number) => ({ lane: { key: param, param, log: false }, values: Float64Array.from({ length: n }, (_, k) => k + 1), coords: Float64Array.from({ length: n }, (_, k) => k + 1) });
  const plot = (cost: number[]) => landscapeSpec({
    x: axis('gA', 4), y: axis('gB', 3), cost: Float64Array.from(cost),
    gradient: [Float64Array.from(cost, (c) => (Number.isFinite(c) ? 1 : NaN)), Float64Array.from(cost, (c) => (Number.isFinite(c) ? 1 : NaN))],
  }) as unknown as { title: { subtitle?: string }; layer: { mark: { type: string; fill?: string; shape?: string }; data: { values: Record<string, number>[] } }[] };
  const masked = (spec: ReturnType<typeof plot>) => spec.layer.find((l) => l.mark.type === 'rect' && l.mark.fill)?.data.values ?? [];
  const minimum = (spec: ReturnType<typeof plot>) => spec.layer.find((l) => l.mark.shape === 'cross')?.data.values[0];

  it('plot diverged cells masked, with contours and the minimum marker from the finite ones (no crash)', async () => {
    const spec = plot([NaN, 5, 4, 3, NaN, 2, 1.5, 1, NaN, 3, 0.5, 2]);
    expect(masked(spec)).toHaveLength(3);
    expect(spec.title.subtitle).toContain('3 diverged points');
    expect(spec.layer.some((l) => l.mark.type === 'line')).toBe(true);
    // the marker sits at the finite minimum (0.5 at ix 2, iy 2: values 3, 3), not at the first, NaN, point
    expect(minimum(spec)).toMatchObject({ x: 3, y: 3 });
    expect(await renderSvg(spec as never)).not.toMatch(/NaN/);
  });

  it('plot a landscape where every point diverged, without contours or a minimum', async () => {
    const spec = plot(Array(12).fill(NaN));
    expect(masked(spec)).toHaveLength(12);
    expect(spec.layer.some((l) => l.mark.type === 'line')).toBe(false);
    expect(minimum(spec)).toBeUndefined();
    expect(await renderSvg(spec as never)).not.toMatch(/NaN/);
  });

  it('ionsweep landscape: minimum over the finite points, diverged points counted and marked in the table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ionsweep-diverged-'));
    try {
      // hh under rk4 at dt 0.05 ms: stable for gNa ≈ 120, diverges for gNa ≳ 1000; the first grid point diverges
      await writeFile(join(dir, 'spec.yaml'), [
        'model: hh', 'method: rk4', 'dtMs: 0.05', 'durationMs: 20', 'cost:', '  - { mean: V, target: -60 }',
        'x: { parameter: log:gNa, from: 3000, to: 60, count: 5 }', 'y: { parameter: gK, from: 20, to: 60, count: 3 }', 'engine: cpu', '',
      ].join('\n'));
      const out = join(dir, 'out');
      const run = await cli(['landscape', join(dir, 'spec.yaml'), '--out', out]);
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      const table = await readParquet(join(out, 'landscape.parquet'));
      const column = (name: string) => Array.from(table.columns.find((c) => c.name === name)!.data as ArrayLike<unknown>) as (number | string | null)[];
      const cost = column('cost') as number[], status = column('status');
      expect(status[0]).toBe('diverged');
      expect(report.diverged).toBe(status.filter((s) => s === 'diverged').length);
      expect(report.diverged).toBeGreaterThan(0);
      expect(report.diverged).toBeLessThan(15);
      status.forEach((s, k) => expect(s === 'diverged', `point ${k}`).toBe(!Number.isFinite(cost[k] ?? NaN)));
      expect(report.minimum.cost).toBe(Math.min(...cost.filter((c) => Number.isFinite(c ?? NaN))));
      expect(await readFile(join(out, 'landscape.svg'), 'utf8')).toContain(`${report.diverged} diverged point`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('values an f32 engine cannot hold (simulate --set gKd=1e308: finite on the CPU engine, NaN on the GPU)', () => {
  const prinz = libraryModel('prinz');

  it('refuses a fixed parameter beyond the f32 range, naming it', () => {
    const program = compile(prinz, { dtMs: 0.025, values: { gKd: 1e308 } });
    expect(() => checkF32Params(program, 1, new Float64Array(0), 'GPU')).toThrow(InputError);
    expect(() => checkF32Params(program, 1, new Float64Array(0), 'GPU')).toThrow(/^parameter gKd = 1e\+308 is beyond the f32 range \(\|x\| ≤ 3\.4e38\) of the GPU engine/);
    // the largest f32 itself is fine
    expect(() => checkF32Params(compile(prinz, { dtMs: 0.025, values: { gKd: 3.4e38 } }), 1, new Float64Array(0), 'GPU')).not.toThrow();
  });

  it('refuses a per-instance value beyond the f32 range, naming the parameter and the instance', () => {
    const program = compile(prinz, { dtMs: 0.025, instanceParams: ['gKd'] });
    expect(() => checkF32Params(program, 2, Float64Array.from([100, -1e39]), 'GPU')).toThrow(/^parameter gKd = -1e\+39 \(instance 1\) is beyond the f32 range/);
  });

  it('refuses, when emitting WGSL, a constant folded from fixed parameters that overflows f32 although each fits', () => {
    // areaCm2 = 1e38 fits f32, but the model folds it into a product of 1.5e42
    const program = compile(prinz, { dtMs: 0.025, values: { areaCm2: 1e38 } });
    expect(() => emitWgsl(program, { spikeCapacity: 4 })).toThrow(/folds its fixed parameters into the constant \S+e\+\d+, beyond the f32 range .* \(largest fixed parameter: areaCm2 = 1e\+38\)/);
    expect(() => emitWgsl(compile(prinz, { dtMs: 0.025 }), { spikeCapacity: 4 })).not.toThrow();
  });
});

describe.skipIf(!gpu)('values an f32 engine cannot hold, on the GPU engine', () => {
  it('the GPU engine refuses them before running', async () => {
    const program = compile(libraryModel('prinz'), { dtMs: 0.025, values: { gKd: 1e308 } });
    await expect(runGpu({ program, N: 1, durationMs: 1 }, { gpu: gpu! })).rejects.toThrow(/parameter gKd = 1e\+308 is beyond the f32 range/);
  });
});

describe('traces of diverged instances', () => {
  it('are NaN from the time found on, on both engines', async () => {
    const spec = { program: stiff(), N: 2, params: { gNa: [120, 3000] }, durationMs: 10, traceEveryMs: 0.05, traceInstances: [0, 1] };
    for (const r of [await runCpu(spec), ...(gpu ? [await runGpu(spec, { gpu })] : [])]) {
      const t = r.divergence.timeMs[1];
      const ok = r.traces!.series(0, 'V'), bad = r.traces!.series(1, 'V');
      expect(ok.every(Number.isFinite), r.engine).toBe(true);
      r.traces!.timesMs.forEach((time, k) => expect(Number.isNaN(bad[k]), `${r.engine} sample at ${time} ms, found at ${t} ms`).toBe(time >= t));
    }
  });
});

describe('fits and curves skip diverged points', () => {
  // hh under rk4 at dt 0.05 ms, 10 ms: stable for gNa near 120, diverges for gNa ≳ 1000
  const setup = { model: 'hh', method: 'rk4', dtMs: 0.05, durationMs: 10, engine: 'cpu', cost: [{ mean: 'V', target: -60 }] } as const;

  it('a fit stops the starts whose points diverged as diverged, and its best is a finite cost', async () => {
    const r = await runFit({
      ...setup, parameters: { gNa: [60, 20000] }, starts: 6, screen: 1, iterations: 2, seed: 3, optimizer: 'adam', randomSearch: false,
    } as never);
    const stopped = r.starts.map((s) => s.stopped);
    expect(stopped).toContain('diverged');
    expect(stopped.some((s) => s !== 'diverged')).toBe(true);
    for (const s of r.starts) if (s.stopped === 'diverged') expect(s.bestCost).toBe(Infinity);
    expect(Number.isFinite(Math.min(...r.starts.map((s) => s.bestCost)))).toBe(true);
    expect(r.history.every((h) => Number.isFinite(h.medianCost) || Number.isNaN(h.medianCost))).toBe(true);
  });

  it('a cost whose targets come from a diverged reference simulation is refused in one line', async () => {
    const spec = { model: 'hh', method: 'rk4', dtMs: 1, durationMs: 50, engine: 'cpu', cost: [{ mean: 'V' }], x: { parameter: 'gNa', from: 100, to: 140, count: 2 }, y: { parameter: 'gK', from: 30, to: 40, count: 2 } };
    await expect(runLandscape(spec as never)).rejects.toThrow(/^the reference simulation that gives the cost's targets diverged: \S+ = \S+ at t = \d+ ms \(method rk4, dtMs 1\)/);
  });

  it('a curve from a diverged start is refused in one line', async () => {
    await expect(runCurve({ ...setup, start: { gNa: 5000 }, parameters: ['log:gNa', 'gK'], direction: { 'log:gNa': 1 }, momentum: 0.01, length: 0.1, maxSteps: 2 } as never))
      .rejects.toThrow(/^curve spec: the simulation at the start point diverged: \S+ = \S+ at t = [\d.]+ ms/);
  });
});

describe('the gpu.js kernel marks diverged instances', () => {
  const outputs = [{ kind: 'mean', observed: 'V' }, { kind: 'spikes' }] as const;

  it('every output of a diverged instance reads GPUJS_DIVERGED (plain JavaScript), the others their values', () => {
    const run = instantiateGpuJsAsJs(emitGpuJs(stiff(), { outputs: [...outputs] }));
    const gNaColumn = Float64Array.from(gNa);
    expect(run([gNaColumn], 0, 200, 0)[0]).toBeGreaterThan(-80);
    expect(run([gNaColumn], 2, 200, 0)).toEqual([GPUJS_DIVERGED, GPUJS_DIVERGED]);
  });

  it('runGpuJs (gpu.js CPU mode) gives NaN outputs and a diverged flag for exactly the instances the CPU engine marks', async () => {
    const gpu = new GPU({ mode: 'cpu' }) as unknown as GpuJsLike;
    const spec = { program: stiff(), N: gNa.length, params: { gNa }, durationMs: 10 };
    const r = await runGpuJs({ ...spec, outputs: [...outputs] }, { gpu, batch: 2 });
    const cpu = await runCpu(spec);
    expect(Array.from(r.diverged)).toEqual(Array.from(cpu.divergence.state, (k) => (k >= 0 ? 1 : 0)));
    expect(r.divergedCount).toBe(cpu.divergence.count);
    for (let i = 0; i < gNa.length; i++) expect(Number.isNaN(r.outputs[0][i])).toBe(r.diverged[i] === 1);
  });
});

describe('the browser demos keep diverged instances apart', () => {
  it("the CPU worker's job classes a diverged instance 'diverged', the others by their activity", async () => {
    const { runCpuJob } = await import('../demos/lib/cpu-job.ts');
    // 1e15 µA/cm² drives V past 1e9 mV in the first step (diverged); the other instance is the squid axon at 10
    const r = await runCpuJob({
      model: 'hh', dtMs: 0.025, N: 2, durationMs: 100, discardMs: 20, classify: true,
      params: { IExtUAPerCm2: Float64Array.from([10, 1e15]) },
    });
    expect(r.classes![1]).toBe('diverged');
    expect(r.burstPeriodMs![1]).toBeNull();
    expect(r.classes![0]).not.toBe('diverged');
  });
});
