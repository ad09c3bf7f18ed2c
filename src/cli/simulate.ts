/** `ionsweep simulate`: parse flags → simulate job → JSON/CSV (and NPY trace) out. */
import { Command, Option } from 'commander';
import { MODEL_NAMES, libraryModel, resolveModel } from '../channels/index.ts';
import { readModelFile } from '../io/spec-file.ts';
import type { ModelDefinition } from '../model/model-file.ts';
import type { Model } from '../model/model.ts';
import { readRecordingColumn } from '../io/recording-file.ts';
import { InputError } from '../errors.ts';
import { simulate, type SimulateSpec } from '../jobs/simulate.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { writeFigure } from '../io/plot/figure.ts';
import { simulationSpec } from '../io/plot/simulation-figure.ts';
import { simulationCsv, simulationJson, traceNpy, traceSidecar, untrustedTangentsNote } from '../io/simulation-output.ts';
import { METHODS } from '../compile/program.ts';
import { ENGINE_CHOICES } from '../engine/run.ts';
import { GPU_MATH } from '../compile/emit-wgsl.ts';
import { checkOutFile, parseNumber, parseNumberList, parseOutPath, parseThreads, writeStdout } from './util.ts';
import { JSON_OUTPUT_LIMIT_BYTES, JSON_BYTES_PER_VALUE, checkMemory, checkOutput, formatBytes, traceSamplesOf } from '../limits.ts';
import { checkName } from '../model/names.ts';
import { PYLORIC_SYNAPSE_PARAMS, pyloric } from '../channels/pyloric.ts';
import { basename } from 'node:path';
import process from 'node:process';
import { importNeuroML } from '../io/neuroml/import.ts';
import { INIT_CHOICES, INIT_PATTERN } from '../jobs/isolated-start.ts';
import { buildNeuron } from '../model/neuron.ts';

/** `file.csv:I` → ['file.csv', 'I']; a column index is a number; no column: undefined. */
function splitColumn(text: string): [string, string | number | undefined] {
  const m = /^(.*\.(?:npy|csv)):(.+)$/i.exec(text);
  if (!m) return [text, undefined];
  return [m[1], /^\d+$/.test(m[2]) ? Number(m[2]) : m[2]];
}

interface SimulateFlags {
  currentFile?: string;
  clampFile?: string;
  inputIntervalMs?: number;
  hold?: boolean;
  model: string;
  set?: string[];
  durationMs: number;
  dtMs: number;
  method: string;
  discardMs: number;
  currentUaPerCm2?: number;
  stepUaPerCm2?: string[];
  tangents?: string;
  traceEveryMs?: number;
  engine: string;
  gpuMath: string;
  format: string;
  initVMv?: number;
  isolatedDtMs?: number;
  init?: string;
  out?: string;
  spikeThresholdMv: number;
  threads?: number;
  cells?: string;
  synapsesNs?: string;
  modelFile?: string;
  conditioning?: boolean;
  currentNa?: number;
  stepNa?: string[];
  pulseTrainUaPerCm2?: string[];
  record?: string;
  plot?: string;
  neuroml?: string;
  cell?: string;
}

/** The most pulses a train may expand to: each is a term of the stimulus evaluated at every step. */
const MAX_PULSES = 1000;

/** startMs,stopMs,periodMs,widthMs,amp → the train's pulses as steps [start + k·period, + width). */
export function parsePulseTrain(text: string) {
  const [startMs, stopMs, periodMs, widthMs, amp] = parseNumberList('--pulse-train-ua-per-cm2', text, 5, 'startMs,stopMs,periodMs,widthMs,amp');
  if (!(stopMs > startMs) || !(periodMs > 0) || !(widthMs > 0) || widthMs > periodMs) {
    throw new InputError(`--pulse-train-ua-per-cm2 ${text}: needs stopMs > startMs and 0 < widthMs ≤ periodMs`);
  }
  const count = Math.ceil((stopMs - startMs) / periodMs);
  if (count > MAX_PULSES) throw new InputError(`--pulse-train-ua-per-cm2 ${text}: ${count} pulses, more than ${MAX_PULSES} (each is a term of the stimulus at every step); shorten the train or lengthen the period`);
  return Array.from({ length: count }, (_, k) => ({ startMs: startMs + k * periodMs, stopMs: Math.min(stopMs, startMs + k * periodMs + widthMs), ampUAPerCm2: amp }));
}

/**
 * Absolute currents (nA) as the densities the models take (µA/cm²): divided by the membrane area
 * (areaCm2, after --set) and by 1000 (nA → µA). A network has one area per cell: refused there.
 */
function nanoampsToDensity(model: Model, values: Record<string, number>, flag: string): (nA: number) => number {
  if (!Object.hasOwn(model.params, 'areaCm2')) throw new InputError(`${flag}: model ${model.name} has no single membrane area (a network?); give each cell's current as --set CELL.IExtUAPerCm2=...`);
  const area = values.areaCm2 ?? model.params.areaCm2.value;
  return (nA) => (1e-3 * nA) / area;
}

function parseInit(text: string): string {
  if (INIT_PATTERN.test(text)) return text;
  throw new InputError(`--init must be ${INIT_CHOICES}, got '${text}'`);
}

/** The model a run asks for: a library name, or the pyloric network with --cells and --synapses-ns. */
async function modelOf(flags: SimulateFlags, modelGiven: boolean): Promise<Model> {
  if (flags.neuroml !== undefined) {
    if (modelGiven || flags.modelFile !== undefined) throw new InputError('--neuroml gives the model: leave out --model and --model-file');
    // the temperature a Nernst potential needs, when --set gives it (cell files do not)
    const celsius = parseAssignments(flags.set ?? []).celsius;
    const { cells } = await importNeuroML([flags.neuroml], { celsius });
    const ids = [...cells.keys()];
    if (!ids.length) throw new InputError(`--neuroml ${flags.neuroml}: the file defines no <cell>`);
    const id = flags.cell ?? (ids.length === 1 ? ids[0] : undefined);
    if (id === undefined) throw new InputError(`--neuroml ${flags.neuroml}: it defines ${ids.length} cells (${ids.join(', ')}); choose one with --cell`);
    const def = cells.get(id);
    if (!def) throw new InputError(`--cell ${id}: not a cell of ${flags.neuroml}; cells: ${ids.join(', ')}`);
    return buildNeuron(def);
  }
  if (flags.modelFile !== undefined) {
    if (modelGiven || flags.cells !== undefined || flags.synapsesNs !== undefined) throw new InputError('--model-file gives the whole model: leave out --model, --cells and --synapses-ns');
    return resolveModel(await readModelFile(flags.modelFile) as ModelDefinition, `${flags.modelFile}: `);
  }
  if (flags.model !== 'pyloric') {
    if (flags.cells !== undefined || flags.synapsesNs !== undefined) throw new InputError(`--cells and --synapses-ns choose the cells and synapses of --model pyloric, not of --model ${flags.model}`);
    return libraryModel(flags.model);
  }
  const cells = flags.cells?.split(',').map((s) => s.trim());
  const synapsesNs = flags.synapsesNs === undefined ? undefined : parseNumberList('--synapses-ns', flags.synapsesNs, PYLORIC_SYNAPSE_PARAMS.length, PYLORIC_SYNAPSE_PARAMS.join(','));
  try {
    return pyloric({ cells, synapsesNs });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.message.replace(/^pyloric cells:/, '--cells:').replace(/^pyloric synapses:/, '--synapses-ns:'));
    throw error;
  }
}

/** Parses `name=value,name=value` (repeatable) into parameter values. */
export function parseAssignments(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)=(.+)$/.exec(item);
    if (!m) throw new InputError(`--set: expected name=value, got '${item}'`);
    checkName('parameter', m[1], '--set: ');
    if (Object.hasOwn(out, m[1])) throw new InputError(`--set: parameter ${m[1]} is given twice ('${m[1]}=${out[m[1]]}' and '${item}')`);
    out[m[1]] = parseNumber(`--set ${m[1]}`, m[2]);
  }
  return out;
}

/**
 * Refuses, before the run, a simulate request whose buffers or output cannot fit (limits.ts): the
 * spike buffer (every spike kept: one slot per two steps) and the trace in memory, the trace written
 * as NPY (--out), or inline as JSON/CSV text, which is built as one string (V8 strings hold at most
 * about 5e8 characters).
 */
function checkSimulateSize(flags: SimulateFlags, model: Model): void {
  const { durationMs, dtMs, discardMs, traceEveryMs } = flags;
  // values out of range (and more steps or samples than the run plan allows) are refused by the
  // simulate job's own checks, with their messages
  if (!(durationMs > 0 && dtMs > 0 && discardMs >= 0 && discardMs < durationMs) || (traceEveryMs !== undefined && !(traceEveryMs >= dtMs))) return;
  if (durationMs / dtMs > 2 ** 31) return;
  const columns = 1 + model.observed.length;
  const samples = traceEveryMs === undefined ? 0 : traceSamplesOf(durationMs, discardMs, traceEveryMs);
  const steps = (durationMs - discardMs) / dtMs;
  checkMemory(`simulate: ${steps.toPrecision(3)} steps (--duration-ms / --dt-ms)${samples ? ` with a trace of ${samples} samples` : ''}`, 8 * (steps / 2 + samples * columns * 2),
    'shorten --duration-ms, or record the trace less often (--trace-every-ms)');
  if (!samples) return;
  if (flags.out) {
    checkOutput(`simulate --out: a trace of ${samples} samples × ${columns} columns`, 8 * samples * columns, 'record the trace less often (--trace-every-ms) or shorten --duration-ms');
  }
  // CSV prints the trace's rows even with --out; JSON only without it
  const inline = !flags.out || flags.format === 'csv';
  if (inline && JSON_BYTES_PER_VALUE * samples * columns > JSON_OUTPUT_LIMIT_BYTES) {
    throw new InputError(`simulate: a trace of ${samples} samples × ${columns} columns printed inline is about ${formatBytes(JSON_BYTES_PER_VALUE * samples * columns)} of text, over the limit of ${formatBytes(JSON_OUTPUT_LIMIT_BYTES)}: write it to a file with --out trace.npy${flags.format === 'csv' ? ' and --format json' : ''}, or record it less often (--trace-every-ms)`);
  }
}

export function parseStep(text: string) {
  const [startMs, stopMs, ampUAPerCm2] = parseNumberList('--step-ua-per-cm2', text, 3, 'startMs,stopMs,amp');
  return { startMs, stopMs, ampUAPerCm2 };
}

const FLAG_OF: Record<string, string> = {
  model: '--model', set: '--set', durationMs: '--duration-ms', dtMs: '--dt-ms', method: '--method', discardMs: '--discard-ms',
  currentUAPerCm2: '--current-ua-per-cm2', steps: '--step-ua-per-cm2', tangents: '--tangents', traceEveryMs: '--trace-every-ms',
  engine: '--engine', gpuMath: '--gpu-math', init: '--init', isolatedDtMs: '--isolated-dt-ms', initVMv: '--init-v-mv', spikeThresholdMv: '--spike-threshold-mv', threads: '--threads',
  currentWaveform: '--current-file', voltageClamp: '--clamp-file',
};

/**
 * The first number in a simulate document (observables, tangents, spike times, inline traces) that is
 * NaN or ±Inf, by its path (e.g. tangents.meanVMv.gNa); JSON would print it as null. Nulls the
 * document means (no calcium) are not numbers and pass.
 */
export function firstNonFinite(value: unknown, path = ''): { path: string; value: number } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: path || '(value)', value };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const array = value as unknown as ArrayLike<number>;
    for (let k = 0; k < array.length; k++) if (!Number.isFinite(array[k])) return { path: `${path}[${k}]`, value: array[k] };
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) {
      const found = firstNonFinite(value[k], `${path}[${k}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      const found = firstNonFinite(v, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return undefined;
}

export function simulateCommand(): Command {
  const num = (flag: string) => (v: string) => parseNumber(flag, v);
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  return new Command('simulate')
    .description('simulate one neuron and print its spike times, observables and gradients')
    .addOption(new Option('--model <name>', 'library model (pyloric: the three-cell network)').choices(MODEL_NAMES).default('prinz'))
    .option('--neuroml <file.nml>', 'a NeuroML2 file with a single-compartment cell (HH-type channels; see README: NeuroML)')
    .option('--cell <id>', 'with --neuroml: which <cell> of the file (when it has several)')
    .option('--model-file <file>', 'a model file (YAML/JSON): a neuron from channels, or a network of cells and synapses (README: Model files)')
    .option('--cells <ABPD,LP,PY>', 'pyloric: the Table 2 cells, e.g. ABPD2,LP4,PY1 (default)')
    .option('--synapses-ns <g1,...,g7>', `pyloric: synapse strengths in nS, ${PYLORIC_SYNAPSE_PARAMS.join(',')} (default 30,30,10,3,30,1,30)`)
    .option('--set <name=value,...>', 'parameter values, e.g. gNa=100,gKd=50 (repeatable)', collect)
    .option('--duration-ms <ms>', 'simulated time', num('--duration-ms'), 1000)
    .option('--dt-ms <ms>', 'time step', num('--dt-ms'), 0.025)
    .addOption(new Option('--method <name>', 'integrator').choices(METHODS).default('exp-euler'))
    .option('--discard-ms <ms>', 'initial time left out of observables and spikes', num('--discard-ms'), 0)
    .option('--current-ua-per-cm2 <I>', 'constant injected current density (µA/cm²)', num('--current-ua-per-cm2'))
    .option('--step-ua-per-cm2 <startMs,stopMs,amp>', 'a current step added on [start, stop) (repeatable)', collect)
    .option('--tangents <p1,p2,...>', "parameters to differentiate by; 'log:gNa' for d/d log gNa")
    .option('--trace-every-ms <ms>', 'record V (and [Ca]) every this many ms after the discard', num('--trace-every-ms'))
    .addOption(new Option('--engine <name>', 'engine: cpu (f64), gpu (WebGPU, f32) or auto').choices(ENGINE_CHOICES).default('auto'))
    .addOption(new Option('--gpu-math <mode>', 'GPU exp: accurate (≤ 1.5 ulp, unbiased) or fast (builtin)').choices(GPU_MATH).default('accurate'))
    .addOption(new Option('--format <name>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--init-v-mv <V>', 'initial membrane potential (mV)', num('--init-v-mv'))
    .option('--init <kind>', 'steady (gates at steady state for the initial V), cold (m = 0, h = 1), or isolated:MS (networks: each cell alone for MS ms from its cold start, then connected with every synaptic gate at 0)', parseInit)
    .option('--isolated-dt-ms <ms>', 'with --init isolated:MS: the step of the cells\' runs alone (default: --dt-ms); a finer one puts their phases at connection closer to an accurate integration\'s', num('--isolated-dt-ms'))
    .option('--out <file.npy>', 'write the trace to this NPY file instead of inline', (v) => parseOutPath('--out', v))
    .option('--spike-threshold-mv <V>', 'spikes are upward crossings of this level', num('--spike-threshold-mv'), 0)
    .option('--threads <n>', 'CPU worker threads (an integer, 1 to 256; default: all cores)', parseThreads)
    .option('--current-na <I>', 'constant injected current (nA), converted with the membrane area', num('--current-na'))
    .option('--step-na <startMs,stopMs,amp>', 'a current step (nA) added on [start, stop) (repeatable)', collect)
    .option('--pulse-train-ua-per-cm2 <startMs,stopMs,periodMs,widthMs,amp>', 'current pulses of width widthMs every periodMs on [start, stop) (repeatable)', collect)
    .option('--record <q1,q2,...>', 'more quantities in the trace: states (Na.m), channel currents (INa, µA/cm² outward) (needs --trace-every-ms)')
    .option('--plot <file.svg>', 'draw the trace (one panel per unit, time in ms) and a spike raster as SVG (needs --trace-every-ms)', (v) => parseOutPath('--plot', v))
    .option('--current-file <file[:column]>', 'an injected current waveform (µA/cm²) from an NPY or CSV file, added to the rest (needs --input-interval-ms)')
    .option('--clamp-file <file[:column]>', 'voltage clamp: hold V to the command waveform (mV) in this NPY or CSV file; the clamp current is traced as IClampUAPerCm2 (needs --input-interval-ms)')
    .option('--input-interval-ms <ms>', 'sampling interval of --current-file and --clamp-file (their first sample is t = 0)', num('--input-interval-ms'))
    .option('--hold', 'hold each sample of --current-file and --clamp-file until the next instead of interpolating linearly')
    .option('--no-conditioning', 'with --tangents: skip measuring how far each tangent can be trusted (two extra f64 runs)')
    .action(async (flags: SimulateFlags, command: Command) => {
      const model = await modelOf(flags, command.getOptionValueSource('model') === 'cli');
      const spec: SimulateSpec = {
        model,
        set: parseAssignments(flags.set ?? []),
        durationMs: flags.durationMs,
        dtMs: flags.dtMs,
        method: flags.method as SimulateSpec['method'],
        discardMs: flags.discardMs,
        currentUAPerCm2: flags.currentUaPerCm2,
        steps: [...(flags.stepUaPerCm2 ?? []).map(parseStep), ...(flags.pulseTrainUaPerCm2 ?? []).flatMap(parsePulseTrain)],
        record: (flags.record ?? '').split(',').map((s) => s.trim()).filter(Boolean),
        tangents: (flags.tangents ?? '').split(',').map((s) => s.trim()).filter(Boolean),
        traceEveryMs: flags.traceEveryMs,
        engine: flags.engine as SimulateSpec['engine'],
        gpuMath: flags.gpuMath as SimulateSpec['gpuMath'],
        init: flags.init as SimulateSpec['init'],
        initVMv: flags.initVMv,
        isolatedDtMs: flags.isolatedDtMs,
        spikeThresholdMv: flags.spikeThresholdMv,
        threads: flags.threads,
        conditioning: flags.conditioning !== false,
      };
      if (flags.currentNa !== undefined || flags.stepNa?.length) {
        const set = spec.set as Record<string, number>;
        const toDensity = nanoampsToDensity(model, set, flags.currentNa !== undefined ? '--current-na' : '--step-na');
        if (flags.currentNa !== undefined) {
          if (flags.currentUaPerCm2 !== undefined) throw new InputError('--current-na and --current-ua-per-cm2 give the same current: use one');
          spec.currentUAPerCm2 = toDensity(flags.currentNa);
        }
        for (const text of flags.stepNa ?? []) {
          const [startMs, stopMs, amp] = parseNumberList('--step-na', text, 3, 'startMs,stopMs,amp');
          (spec.steps as { startMs: number; stopMs: number; ampUAPerCm2: number }[]).push({ startMs, stopMs, ampUAPerCm2: toDensity(amp) });
        }
      }
      for (const [flag, file, field] of [['--current-file', flags.currentFile, 'currentWaveform'], ['--clamp-file', flags.clampFile, 'voltageClamp']] as const) {
        if (file === undefined) continue;
        if (flags.inputIntervalMs === undefined) throw new InputError(`${flag} needs --input-interval-ms (the file's sampling interval)`);
        const [path, column] = splitColumn(file);
        (spec as Record<string, unknown>)[field] = { values: await readRecordingColumn(path, column), intervalMs: flags.inputIntervalMs, interpolation: flags.hold ? 'hold' : 'linear' };
      }
      if (flags.out && flags.traceEveryMs === undefined) throw new InputError('--out writes the trace: add --trace-every-ms');
      if (flags.plot && flags.traceEveryMs === undefined) throw new InputError(`--plot draws the trace: add --trace-every-ms (e.g. ${Number(Math.max(flags.dtMs, (flags.durationMs - flags.discardMs) / 5000).toPrecision(2))}, about 5,000 samples)`);
      if (flags.plot) await checkOutFile('--plot', flags.plot);
      checkSimulateSize(flags, model);
      if (flags.out) await checkOutFile('--out', flags.out);
      const result = await simulate(spec, (field) => FLAG_OF[field] ?? field).catch((error) => {
        // messages from deeper layers name API fields; on the command line, name the flags
        if (error instanceof InputError) {
          throw new InputError(error.message
            .replace(/\b(durationMs|discardMs|dtMs|traceEveryMs)\b/g, (f) => FLAG_OF[f])
            .replace(/(--current-file|--clamp-file)\.intervalMs\b/g, '--input-interval-ms')
            .replace(/input '(currentWaveform|voltageClamp)'/g, (_, f: string) => FLAG_OF[f]));
        }
        throw error;
      });
      if (result.divergence) {
        // exit 2: what diverged is the run the user asked for (its dt, method and parameters), and
        // the same request diverges again on any machine, unlike an environment failure (exit 1)
        // on the GPU engine a run can also overflow f32 (|x| ≤ 3.4e38) in a product of huge
        // parameter values that the f64 CPU engine holds (e.g. --set gKd=1e37): say so
        const f32 = result.engine === 'gpu' ? '; the GPU engine computes in f32, where products of very large parameter values overflow: --engine cpu (f64) may run it' : '';
        throw new InputError(`the model diverged: ${result.divergence.description} (--method ${result.method}, --dt-ms ${result.dtMs}); its observables would be NaN, not results: try a smaller --dt-ms${result.method !== 'exp-euler' ? ' or --method exp-euler' : ''}, or check the --set values${f32}`);
      }
      const doc = simulationJson(result, flags.out);
      const bad = firstNonFinite(doc);
      if (bad) {
        // not a diverged model, but a quantity that still left the range (a tangent growing past f32's
        // 3.4e38 on the GPU engine, say): JSON would print it as null, which means "no calcium"
        const f32 = result.engine === 'gpu' ? " (the GPU engine computes in f32; --engine cpu computes in f64)" : '';
        throw new InputError(`${bad.path} is ${bad.value}, not a finite number${f32}; refusing to print it as null`);
      }
      if (flags.out) {
        await writeFileAtomic(flags.out, traceNpy(result));
        // the columns' names and units beside the array (a device such as /dev/stdout gets none)
        if (!flags.out.startsWith('/dev/')) await writeFileAtomic(`${flags.out}.json`, traceSidecar(result, basename(flags.out)));
      }
      if (flags.plot) await writeFigure(flags.plot, simulationSpec(result));
      const note = untrustedTangentsNote(result);
      if (note) process.stderr.write(`ionsweep: note: ${note}\n`);
      const text = flags.format === 'csv' ? simulationCsv(result) : JSON.stringify(doc, null, 2) + '\n';
      await writeStdout(text);
    });
}
