/**
 * Throughput of the Prinz 2004 database's kernel (examples/prinz-2004.yaml) on both engines: the
 * network sweep's own program (per network: 7 strengths, the 19 of the 3 cells' 24 conductances that
 * differ between their Table 2 choices and 39 start values of the isolated start, all per-instance
 * parameters; the 5 equal in every choice folded, and the gates they leave unread not advanced), over
 * the networks of the 0.1 % sample in sweep order, against the single prinz cell's kernel in the same
 * run, and against the kernel that advances every gate with all 24 conductances per network. The
 * whole database runs in grid order, where each chunk has one setting of the cells and runs with
 * them folded in (run.ts): that kernel is timed against the per-network one on networks of one
 * setting, and against the cell kernel in back-to-back pairs, whose median ratio the projection uses.
 *
 * Projection to one H200: docs/runtime.md measured the single-cell STG kernel at 5.3e10 neuron-steps/s
 * there (N = 1,048,576, Deno's WebGPU on NVIDIA's Vulkan, with the platform's exp). Assuming a network
 * step costs the same multiple of a cell step on the H200 as here (both kernels are straight-line
 * arithmetic per instance and the ratio is a property of the programs), the H200 runs networks at
 * 5.3e10 × (network rate / cell rate here); both kernels use the database spec's GPU exp (gpuMath),
 * as the probe used the platform's. Whole database = 20,250,000 × steps of the connected run (the
 * isolated phase runs each of the 16 cells once and is negligible). Not included: the maxima rings
 * the database records in its window (lavapipe: 11 % per recorded step; the probe's cell had none
 * either). A second projection needs no GPU: the special functions of a network step against the
 * probe's (special-functions.ts), which bound the H200's rate whatever lavapipe's ratio says.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../src/io/atomic-write.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { defaultHostWorkers } from '../src/cli/sweep.ts';
import { StreamingTable } from '../src/io/parquet.ts';
import { encodeRowGroup, rowGroupsFile } from '../src/io/parquet-row-groups.ts';
import { ShardStore } from '../src/io/sweep-store.ts';
import { sliceBounds, sliceChunk } from '../src/jobs/sweep/chunk-slices.ts';
import { readSpecFile } from '../src/io/spec-file.ts';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import type { StepProgram } from '../src/compile/program.ts';
import { runCpu } from '../src/engine/cpu.ts';
import { getGpu } from '../src/engine/gpu/device.ts';
import { runGpu } from '../src/engine/gpu/gpu.ts';
import { cellSettingBlock, choiceConstants, chosenValues, expandChoices, networkInstanceParams, withStartParams } from '../src/jobs/sweep/network.ts';
import { makeSampler } from '../src/jobs/sweep/sampling.ts';
import { parseSweepSpec, resolveSweep } from '../src/jobs/sweep/spec.ts';
import { chunkColumns, summarise, type ChunkData } from '../src/jobs/sweep/rows.ts';
import { runSweepShard } from '../src/jobs/sweep/run.ts';
import { cellTable } from './cpu.ts';
import { H200_SPECIAL_OPS_PER_S, PROBE_CELL_SPECIAL_OPS, specialFunctionOps, type SpecialFunctionOps } from './special-functions.ts';
import { tileRings } from './tile-rings.ts';

/** docs/runtime.md: the single-cell STG kernel on one H200 (N = 1,048,576, Deno WebGPU), neuron-steps/s */
export const H200_CELL_STEPS_PER_S = 5.3e10;
const DATABASE_NETWORKS = 20_250_000;
/** back-to-back runs of the folded network kernel and the cell kernel whose median ratio projects */
const FOLDED_PAIRS = 5;

/** The sample's sweep (default), or the whole database's (prinz-2004.yaml). */
async function databaseSweep(file = 'prinz-2004-sample.yaml') {
  return resolveSweep(parseSweepSpec(await readSpecFile(join(import.meta.dirname!, '..', 'examples', file))));
}

/**
 * The sweep's program and the parameter table of its first N networks. Start values: the cold start
 * (the sweep gives each network its cells' isolated states; the cost of a step does not depend on them).
 */
function databaseKernel(sweep: Awaited<ReturnType<typeof databaseSweep>>, N: number, everyGate = false) {
  const started = withStartParams(sweep.model);
  // everyGate: the kernel before choice constants were folded and unread states skipped (every cell's
  // 8 conductances per network, every gate advanced), for the in-run ratio
  const constants = everyGate ? {} : choiceConstants(sweep);
  const chosen = everyGate ? (sweep.cellChoices ?? []).flatMap((c) => Object.keys(c.sets[0])) : [];
  const perNetwork = networkInstanceParams(sweep);
  const instanceParams = [...perNetwork, ...chosen.filter((p) => !perNetwork.includes(p)), ...started.startParams];
  const program = compile(started.model, { dtMs: sweep.spec.dtMs, init: 'cold', instanceParams, values: constants, ...(everyGate ? {} : { skipUnreadStates: {} }) });
  const sampler = makeSampler(sweep);
  const columns = sampler.names.map(() => new Float64Array(N));
  const row = new Float64Array(sampler.names.length);
  for (let i = 0; i < N; i++) {
    sampler.valuesOf(i % sweep.total, row);
    row.forEach((v, d) => (columns[d][i] = v));
  }
  const params: Record<string, Float64Array> = expandChoices(sweep, sampler.names, columns);
  for (const choice of everyGate ? sweep.cellChoices ?? [] : []) {
    const d = sampler.names.indexOf(choice.name);
    for (const p of Object.keys(choice.sets[0])) params[p] ??= Float64Array.from(columns[d], (k) => choice.sets[k][p]);
  }
  for (const p of started.startParams) params[p] = new Float64Array(N).fill(started.model.params[p].value);
  return { program, params, instanceParams: instanceParams.length };
}

/**
 * The two kernels a grid-order database chunk could run, over N networks of one setting of the cells
 * (AB/PD 2, LP 4, PY 1: the paper's example cells; strengths spread over their block): the sweep's
 * kernel with those cells folded in (run.ts, cellSettingBlock) and the per-network kernel a subsample
 * runs. This setting's folded step holds 778 operations; the 150 settings' 726 to 801, 765 on
 * average (variant nodes of the compiled step), so projecting from it errs by about 2 % on the slow side.
 */
async function cellSettingKernels(N: number) {
  const sweep = await databaseSweep('prinz-2004.yaml');
  const block = cellSettingBlock(sweep)!;
  const started = withStartParams(sweep.model);
  const sampler = makeSampler(sweep);
  const columns = sampler.names.map(() => new Float64Array(N));
  const row = new Float64Array(sampler.names.length);
  const first = ((1 * 5 + 3) * 6 + 0) * block;
  for (let i = 0; i < N; i++) {
    // a stride coprime to the block visits its strengths evenly
    sampler.valuesOf(first + ((i * 7919) % block), row);
    row.forEach((v, d) => (columns[d][i] = v));
  }
  const expanded = expandChoices(sweep, sampler.names, columns);
  const kernelWith = (values: Record<string, number>) => {
    const { program, instanceParams } = cellSettingProgram(sweep, values);
    const params = Object.fromEntries(instanceParams.map((p) => [p, expanded[p] ?? new Float64Array(N).fill(started.model.params[p].value)]));
    return { program, params };
  };
  return { folded: kernelWith(chosenValues(sweep, sampler.names, columns.map((c) => c[0]))), perNetwork: kernelWith({}) };
}

/** The database kernel with `values` (a setting's cell conductances, or none) folded in, as run.ts compiles it; cold start. */
function cellSettingProgram(sweep: Awaited<ReturnType<typeof databaseSweep>>, values: Record<string, number>) {
  const started = withStartParams(sweep.model);
  const instanceParams = [...networkInstanceParams(sweep), ...started.startParams].filter((p) => !Object.hasOwn(values, p));
  const program = compile(started.model, { dtMs: sweep.spec.dtMs, init: 'cold', instanceParams, values: { ...choiceConstants(sweep), ...values }, skipUnreadStates: {} });
  return { program, instanceParams };
}

/** The single prinz cell's kernel, per-instance conductances: what a network step is measured against. */
function cellProgram(dtMs: number) {
  return compile(libraryModel('prinz'), { dtMs, instanceParams: [...CONDUCTANCE_NAMES] });
}

/**
 * The special-function operations of a network step, averaged over the database's 150 settings of
 * the cells (each chunk runs its setting's folded kernel), and of the prinz cell's step.
 */
async function databaseSpecialFunctionOps() {
  const sweep = await databaseSweep('prinz-2004.yaml');
  const settings = (sweep.cellChoices ?? []).reduce<Record<string, number>[]>((acc, choice) => acc.flatMap((v) => choice.sets.map((set) => ({ ...v, ...set }))), [{}]);
  const counts = settings.map((values) => specialFunctionOps(cellSettingProgram(sweep, values).program));
  const mean = (key: keyof SpecialFunctionOps) => counts.reduce((s, c) => s + c[key], 0) / counts.length;
  return {
    settings: settings.length,
    networkStepMean: { exp: mean('exp'), log: mean('log'), division: mean('division'), expm1General: mean('expm1General'), total: mean('total') },
    networkStepRange: [Math.min(...counts.map((c) => c.total)), Math.max(...counts.map((c) => c.total))],
    cellStep: specialFunctionOps(cellProgram(sweep.spec.dtMs)),
    probeCellStep: PROBE_CELL_SPECIAL_OPS,
  };
}

type Runner = (program: StepProgram, N: number, params: Record<string, Float64Array>, durationMs: number) => Promise<{ wallMs: number; divergence: { state: Int32Array | ArrayLike<number> } }>;

async function stepsPerS(run: Runner, program: StepProgram, N: number, params: Record<string, Float64Array>, steps: number, dtMs: number) {
  await run(program, N, params, 4 * dtMs); // compile and warm up
  const r = await run(program, N, params, steps * dtMs);
  // a diverged instance stops computing and would flatter the rate
  const diverged = Array.from(r.divergence.state).filter((k) => k >= 0).length;
  if (diverged) throw new Error(`${diverged} of ${N} instances diverged: the rate would count idle instances`);
  return { N, steps, wallMs: Math.round(r.wallMs), stepsPerS: (N * steps) / (r.wallMs / 1000) };
}

async function engineRates(engine: 'cpu' | 'gpu', run: Runner, N: number, steps: number) {
  const sweep = await databaseSweep();
  const dt = sweep.spec.dtMs;
  const connectedSteps = Math.round(sweep.spec.durationMs / dt);
  const kernel = databaseKernel(sweep, N);
  const everyGate = databaseKernel(sweep, N, true);
  // interleaved A, B, A, B, each kernel's faster run kept: a host whose load changes between runs
  // then moves both the same way
  const faster = <T extends { stepsPerS: number }>(a: T, b: T) => (a.stepsPerS >= b.stepsPerS ? a : b);
  let net = await stepsPerS(run, kernel.program, N, kernel.params, steps, dt);
  let netEveryGate = await stepsPerS(run, everyGate.program, N, everyGate.params, steps, dt);
  net = faster(net, await stepsPerS(run, kernel.program, N, kernel.params, steps, dt));
  netEveryGate = faster(netEveryGate, await stepsPerS(run, everyGate.program, N, everyGate.params, steps, dt));
  const setting = await cellSettingKernels(N);
  let folded = await stepsPerS(run, setting.folded.program, N, setting.folded.params, steps, dt);
  let perNetwork = await stepsPerS(run, setting.perNetwork.program, N, setting.perNetwork.params, steps, dt);
  folded = faster(folded, await stepsPerS(run, setting.folded.program, N, setting.folded.params, steps, dt));
  perNetwork = faster(perNetwork, await stepsPerS(run, setting.perNetwork.program, N, setting.perNetwork.params, steps, dt));
  const cellKernel = cellProgram(dt);
  const cellParams = cellTable(3 * N);
  const cell = await stepsPerS(run, cellKernel, 3 * N, cellParams, steps, dt);
  // the projection's basis: the folded kernel against the cell kernel in back-to-back pairs, the
  // median pair's ratio (one pair, or the four runs above combined, moved by 15 % between runs on
  // this shared 2-core host)
  const pairRatios: number[] = [];
  for (let k = 0; k < FOLDED_PAIRS; k++) {
    const f = await stepsPerS(run, setting.folded.program, N, setting.folded.params, steps, dt);
    const c = await stepsPerS(run, cellKernel, 3 * N, cellParams, steps, dt);
    pairRatios.push(c.stepsPerS / f.stepsPerS);
  }
  const medianPair = [...pairRatios].sort((a, b) => a - b)[Math.floor(FOLDED_PAIRS / 2)];
  const out = {
    instanceParams: kernel.instanceParams,
    frozenStates: (kernel.program.frozen ?? []).map((k) => kernel.program.states[k].name),
    // the sweep's kernel over the one that advances every gate with every conductance per network
    speedupOverEveryGate: net.stepsPerS / netEveryGate.stepsPerS,
    networkStepInCellStepsEveryGate: cell.stepsPerS / netEveryGate.stepsPerS,
    // grid order (the whole database): each chunk's cells folded in, over the per-network kernel on the same networks
    cellsFoldedSpeedup: folded.stepsPerS / perNetwork.stepsPerS,
    // the folded kernel's step in cell steps: the median of the back-to-back pairs, and each pair's
    networkStepInCellStepsCellsFolded: medianPair,
    cellsFoldedPairs: pairRatios,
    networkStepsPerS: net.stepsPerS,
    networksPerS: net.stepsPerS / connectedSteps,
    cellStepsPerS: cell.stepsPerS,
    // a network step's time over one cell step's: 3 would mean the synapses and parameters cost nothing
    networkStepInCellSteps: cell.stepsPerS / net.stepsPerS,
    databaseHours: DATABASE_NETWORKS / (net.stepsPerS / connectedSteps) / 3600,
    runs: { network: net, networkEveryGate: netEveryGate, cellsFolded: folded, cellsPerNetwork: perNetwork, cells: cell },
  };
  console.error(`network database ${engine}: ${JSON.stringify(out)}`);
  return out;
}

/**
 * A chunk of `size` networks made by cycling through the networks of `data` (parameters, means,
 * maxima rings, all alike), laid out as the engine lays out one group: host cost per network depends
 * on how many maxima its cells have and where they sit in memory, not on which network it is, and
 * a database chunk holds 8,192 networks (a ring block of 32 MB per cell), not the few simulated here.
 */
export function tileChunk(data: ChunkData, size: number): ChunkData {
  const n = data.range.end - data.range.start;
  const cycle = <T extends Float64Array | Int32Array>(a: T): T => {
    const out = new (a.constructor as new (length: number) => T)(size);
    for (let i = 0; i < size; i++) out[i] = a[i % n];
    return out;
  };
  return {
    ...data,
    range: { start: data.range.start, end: data.range.start + size },
    params: data.params.map((p) => ({ name: p.name, values: cycle(p.values) })),
    // distinct, as in a grid-order chunk: the grid codes are then as many strings as networks, which
    // the Parquet encoder cannot fold into a small dictionary as it would 64 repeated ones
    ...(data.gridIndex ? { gridIndex: Int32Array.from({ length: size }, (_, i) => data.gridIndex![0] + i) } : {}),
    observed: data.observed.map((o) => ({ ...o, mean: cycle(o.mean), min: cycle(o.min), max: cycle(o.max), meanTangent: o.meanTangent.map(cycle) })),
    maxima: data.maxima.map((m) => tileRings(m, size)),
    divergence: { ...data.divergence, state: cycle(data.divergence.state), timeMs: cycle(data.divergence.timeMs) },
    traces: [],
  };
}

/** CPU µs per network of `work` (process CPU time, the fastest of `passes` after one warm-up pass). */
async function cpuUsPerNetwork(networks: number, passes: number, work: () => unknown | Promise<unknown>) {
  const all: number[] = [];
  for (let k = 0; k <= passes; k++) {
    const before = process.cpuUsage();
    await work();
    const used = process.cpuUsage(before);
    if (k > 0) all.push((used.user + used.system) / networks);
  }
  return { best: Math.min(...all), passes: all.map((x) => Math.round(100 * x) / 100) };
}

/**
 * Host work per network: the first `n` networks of the sample run through the sweep (isolated start,
 * the full protocol) on the GPU engine, tiled into a chunk of the sample's chunk size, then measured
 * on this thread (process CPU time; nothing else runs in the process meanwhile), each step apart:
 *
 * - classify: the rows (3 cells and the network, rows.ts `chunkColumns`);
 * - encode: those rows as one Parquet row group (what the table stores), and that row group as a
 *   Parquet file of its own (what a worker's slice stores as its part file: a footer);
 * - oneThread: what the shard store does per chunk without encoder workers: classify, then write the
 *   part file and append to the streamed table (both encode the rows), files included;
 * - serialWithWorkers: what the store's own thread still does per chunk with k encoder workers: cut
 *   the chunk into k slices (the GPU engine's maxima rings are in shared memory and not copied; the
 *   rest is), take the k replies' row group metadata (a structured clone, as a message is received),
 *   write the k slices' part files and splice the k row groups into the streamed table (whose footer
 *   is written once per shard).
 *
 * With k workers a chunk costs the store's thread `serialWithWorkers` and each worker
 * (classify + encode)/k, one after the other, so the host time per network is their sum: the bench
 * reports it for `workers` (the sweep's default on a 16-core machine such as the H200's) and for one
 * core doing everything. A sweep does all of this off the GPU's thread.
 */
async function hostWork(n: number, workers: number) {
  const sweep = await databaseSweep();
  const spec = parseSweepSpec({ ...sweep.spec, subsample: n, chunkSize: n, engine: 'gpu' });
  const chunks: ChunkData[] = [];
  await runSweepShard(resolveSweep(spec), { index: 0, count: 1 }, {
    begin: async () => {}, storedRanges: async () => [],
    storeChunk: async (data) => (chunks.push(data), summarise([], 0)),
  });
  const size = sweep.spec.chunkSize;
  const chunk = tileChunk(chunks[0], size);
  const passes = 4;
  const classify = await cpuUsPerNetwork(size, passes, () => chunkColumns(chunk));
  const columns = chunkColumns(chunk);
  const encode = await cpuUsPerNetwork(size, passes, () => rowGroupsFile([encodeRowGroup(columns)]));
  const dir = await mkdtemp(join(tmpdir(), 'ionsweep-bench-host-'));
  try {
    let k = 0;
    const oneThread = await cpuUsPerNetwork(size, passes, async () => {
      const store = new ShardStore(join(dir, `one-${k++}`), { index: 0, count: 1 }, { specHash: 'bench', spec, total: size, range: { start: 0, end: size } });
      await mkdir(store.partsDir, { recursive: true });
      await store.begin('gpu');
      await store.storeChunk(chunk);
    });
    // the workers' share, done here: k slices classified and encoded, each also as its part file
    const bounds = sliceBounds(size, workers);
    const groups = bounds.map((b) => encodeRowGroup(chunkColumns(sliceChunk(chunk, b.start, b.end))));
    const files = groups.map((g) => rowGroupsFile([g]));
    // as the store does per chunk (sweep-store.ts writeEncodedChunk): each slice's part file written
    // atomically, the row groups appended to the shard's streamed table, whose footer is written
    // once per shard (finish), not per chunk
    const table = new StreamingTable(join(dir, 'table.parquet'));
    const serialWithWorkers = await cpuUsPerNetwork(size, passes, async () => {
      for (const b of bounds) sliceChunk(chunk, b.start, b.end);
      const copies = groups.map((g) => ({ ...g, ...structuredClone({ rowGroup: g.rowGroup, indexes: g.indexes }) }));
      for (const [s, file] of files.entries()) await writeFileAtomic(join(dir, `part-${k}.slice-${s}.parquet`), file);
      k++;
      table.appendEncoded(copies);
    });
    await table.finish();
    const perCore = classify.best + encode.best + serialWithWorkers.best;
    return {
      simulatedNetworks: n, chunkNetworks: size, workers,
      cpuUsPerNetwork: { classify, encode, oneThread, serialWithWorkers },
      // host time per network on the store's path: one thread as the sweep did before, and with `workers` workers
      hostUsPerNetworkOneThread: oneThread.best,
      hostUsPerNetworkWithWorkers: serialWithWorkers.best + (classify.best + encode.best) / workers,
      cpuUsPerNetworkAllThreads: perCore,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Host work alone (no engine rates, so no share of the projected GPU time): see hostWork. */
export async function networkHostBenchmark(options: { hostN: number }) {
  return await getGpu() ? hostWork(options.hostN, defaultHostWorkers(16)) : { note: 'no WebGPU adapter: the networks are simulated on the GPU engine' };
}

/** networks/s of the database kernel on both engines, and the projected whole-database time on one H200. */
export async function networkDatabaseBenchmark(options: { gpuN: number; cpuN: number; steps: number; hostN: number }) {
  const sweep = await databaseSweep();
  const connectedSteps = Math.round(sweep.spec.durationMs / sweep.spec.dtMs);
  const cpu = await engineRates('cpu', (program, N, params, durationMs) => runCpu({ program, N, params, durationMs }), options.cpuN, options.steps);
  const gpuContext = await getGpu();
  const gpu = gpuContext
    ? {
      adapter: gpuContext.adapterName, gpuMath: sweep.spec.gpuMath,
      // the database's own exp (its spec's gpuMath), for the network and the cell kernel alike
      ...(await engineRates('gpu', (program, N, params, durationMs) => runGpu({ program, N, params, durationMs }, { kernel: { math: sweep.spec.gpuMath } }), options.gpuN, options.steps)),
    }
    : undefined;
  const projection = gpu && (() => {
    // the whole database runs in grid order: every chunk with its cells folded in
    const h200NetworkStepsPerS = H200_CELL_STEPS_PER_S / gpu.networkStepInCellStepsCellsFolded;
    const seconds = (DATABASE_NETWORKS * connectedSteps) / h200NetworkStepsPerS;
    return {
      basis: `docs/runtime.md's ${H200_CELL_STEPS_PER_S.toExponential(1)} cell-steps/s on one H200, divided by this run's network step in cell steps on ${gpu.adapter} (cells folded in, as the database's chunks run)`,
      h200NetworkStepsPerS, wholeDatabaseMinutes: seconds / 60, gpuUsPerNetwork: (1e6 * seconds) / DATABASE_NETWORKS,
      goalMinutes: 15,
    };
  })();
  // a bound from the step's own operations, no GPU needed: an H200 cannot run a step faster than its
  // special functions allow (special-functions.ts; the platform's exp, as the database's spec asks)
  const special = await databaseSpecialFunctionOps();
  const specialSeconds = (DATABASE_NETWORKS * connectedSteps * special.networkStepMean.total) / H200_SPECIAL_OPS_PER_S;
  const projectionBySpecialFunctions = {
    basis: `the probe's ${H200_SPECIAL_OPS_PER_S.toExponential(2)} special-function results/s on one H200 (docs/runtime.md's 5.3e10 cell-steps/s × ${PROBE_CELL_SPECIAL_OPS.total} per cell step), over the special functions of a network step averaged over the ${special.settings} settings of the cells`,
    ...special,
    networkStepInProbeCellSteps: special.networkStepMean.total / PROBE_CELL_SPECIAL_OPS.total,
    wholeDatabaseMinutes: specialSeconds / 60,
    gpuUsPerNetwork: (1e6 * specialSeconds) / DATABASE_NETWORKS,
    goalMinutes: 15,
  };
  const host = gpu ? await hostWork(options.hostN, defaultHostWorkers(16)) : null;
  return {
    spec: 'examples/prinz-2004.yaml', networks: DATABASE_NETWORKS, dtMs: sweep.spec.dtMs, connectedMs: sweep.spec.durationMs, gpuMath: sweep.spec.gpuMath,
    cpu, gpu: gpu ?? { adapter: null, note: 'no WebGPU adapter: GPU benchmark skipped' }, projectionH200: projection ?? null,
    projectionH200BySpecialFunctions: projectionBySpecialFunctions,
    // host time per network (off the GPU's thread) over the projected H200 GPU time per network: with one
    // thread doing it all (as before --host-workers), per core of CPU time, and with the default 8 workers of a 16-core machine
    host: host && {
      ...host,
      shareOfH200GpuTime: projection ? {
        oneThread: host.hostUsPerNetworkOneThread / projection.gpuUsPerNetwork,
        cpuTimeAllThreads: host.cpuUsPerNetworkAllThreads / projection.gpuUsPerNetwork,
        withWorkers: host.hostUsPerNetworkWithWorkers / projection.gpuUsPerNetwork,
        // against the shortest GPU time the special functions allow: the host's share at its largest
        withWorkersAtSpecialFunctionBound: host.hostUsPerNetworkWithWorkers / projectionBySpecialFunctions.gpuUsPerNetwork,
      } : null,
    },
    gpuOverCpu: gpu ? gpu.networksPerS / cpu.networksPerS : null,
  };
}
