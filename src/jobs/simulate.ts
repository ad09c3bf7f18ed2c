/**
 * The simulate job: one neuron (a library model or a user-built Model), one run, its observables,
 * spike times, tangents and an optional trace. The CLI's `ionsweep simulate` is a thin wrapper.
 */
import { InputError } from '../errors.ts';
import { z } from 'zod';
import { resolveModel } from '../channels/index.ts';
import { compile } from '../compile/compile.ts';
import { METHODS, type CurrentStep, type Method } from '../compile/program.ts';
import { requireParam, type InitKind } from '../model/model.ts';
import { runEnsemble, ENGINE_CHOICES, type EngineChoice } from '../engine/run.ts';
import { GPU_MATH } from '../compile/emit-wgsl.ts';
import { observableKey } from '../analysis/names.ts';
import { describeDivergence } from '../engine/results.ts';
import { describeIssue, finite, nonNegative, oneOf, positive, namedRecord, modelSchema } from './schema.ts';
import { networkCells } from '../model/network.ts';
import { networkResults, type NetworkResult } from './network-results.ts';
import { checkIsolatedStart, INIT_CHOICES, isolatedDtMsSchema, INIT_PATTERN, isolatedMs, isolatedStart } from './isolated-start.ts';
import { tangentConditioning, type Conditioning } from '../analysis/conditioning.ts';
import * as E from '../model/expr.ts';
import { withObserved } from '../model/observe.ts';
import { withRecorded } from '../model/record.ts';
import type { Model } from '../model/model.ts';
import { teacherForce } from '../model/teacher-forcing.ts';
import { INTERPOLATIONS, type Recording } from '../engine/inputs.ts';

const stepSchema = z.object({
  startMs: nonNegative('ms'),
  stopMs: finite(),
  ampUAPerCm2: finite(),
}).refine((s) => s.stopMs > s.startMs, { error: 'stopMs must be greater than startMs' });

const waveformSchema = z.object({
  values: z.custom<ArrayLike<number>>((v) => Array.isArray(v) || v instanceof Float64Array || v instanceof Float32Array, { error: 'must be a list of numbers' }),
  intervalMs: positive('ms'),
  interpolation: oneOf(INTERPOLATIONS).default('linear'),
}).strict();

/** The recordings simulate reads, named as the spec fields that give them (messages about a recording name its field). */
const CURRENT_WAVEFORM = 'currentWaveform', CLAMP_COMMAND = 'voltageClamp';
/** The observed clamp current of a voltage-clamped run. */
export const CLAMP_CURRENT = 'IClampUAPerCm2';

export const simulateSpecSchema = z.object({
  model: modelSchema(),
  /** parameter values (by canonical name) */
  set: namedRecord(finite()).default({}),
  durationMs: positive('ms').default(1000),
  dtMs: positive('ms').default(0.025),
  method: oneOf(METHODS).default('exp-euler'),
  discardMs: nonNegative('ms').default(0),
  /** constant injected current density (µA/cm²); sets the model's IExtUAPerCm2 */
  currentUAPerCm2: finite().optional(),
  steps: z.array(stepSchema).default([]),
  tangents: z.array(z.string()).default([]),
  traceEveryMs: positive('ms').optional(),
  engine: oneOf(ENGINE_CHOICES).default('auto'),
  gpuMath: oneOf(GPU_MATH).default('accurate'),
  /** steady, cold, or for networks isolated:MS (each cell alone for MS ms from its cold start, then connected) */
  init: z.string({ error: (iss) => `must be ${INIT_CHOICES}, got ${JSON.stringify(iss.input)}` })
    .regex(INIT_PATTERN, { error: (iss) => `must be ${INIT_CHOICES}, got ${JSON.stringify(iss.input)}` }).optional(),
  /** networks with init isolated:MS: the step (ms) of the cells' runs alone (isolated-start.ts) */
  isolatedDtMs: isolatedDtMsSchema,
  initVMv: finite().optional(),
  spikeThresholdMv: finite().default(0),
  /**
   * more quantities in the trace: states (Na.m, V, LP.Ca), channel currents (INa, LP.IKd; µA/cm²,
   * outward positive) or observed quantities; needs traceEveryMs
   */
  record: z.array(z.string()).default([]),
  /**
   * an injected current waveform (µA/cm², added to the rest): samples at `intervalMs` from t = 0,
   * linear between samples or held (engine/inputs.ts)
   */
  currentWaveform: waveformSchema.optional(),
  /**
   * voltage clamp: V held to this command waveform (mV); every gate, pool and synapse follows it, and
   * the clamp current (µA/cm², the current the clamp injects: C·dV/dt minus the cell's own) is
   * observed as IClampUAPerCm2 (single-cell models)
   */
  voltageClamp: waveformSchema.optional(),
  /** with tangents: measure how far each can be trusted (two probed f64 runs; analysis/conditioning.ts) */
  conditioning: z.boolean({ error: 'must be true or false' }).default(true),
  threads: z.number({ error: 'must be an integer ≥ 1' }).int({ error: 'must be an integer ≥ 1' }).min(1, { error: 'must be an integer ≥ 1' }).optional(),
});

export type SimulateSpec = z.input<typeof simulateSpecSchema>;

export interface SimulationResult {
  model: string;
  method: string;
  dtMs: number;
  durationMs: number;
  discardMs: number;
  init: string;
  engine: 'cpu' | 'gpu';
  device: string;
  /** why this engine ran (for `auto`) */
  engineNote?: string;
  /** every parameter value the run used */
  params: Record<string, number>;
  stimulus: CurrentStep[];
  spikeThresholdMv: number;
  spikeCount: number;
  spikeTimesMs: number[];
  /** meanVMv, minVMv, maxVMv, meanCaUM, ... (null where the model has no such quantity) */
  observables: Record<string, number | null>;
  /** { meanVMv: { gNa: d meanVMv / d gNa, 'log:gCaS': ... } } */
  tangents: Record<string, Record<string, number>>;
  /** traced quantities by column name (e.g. VMv, LP_CaUM), with their units */
  trace?: { timesMs: Float64Array; series: Record<string, Float64Array>; units: Record<string, string> };
  /**
   * ok, or diverged: a state left the finite range (NaN, ±Inf or beyond 1e9; engine/ensemble.ts,
   * DivergenceResult), and the observables and tangents are NaN: not results
   */
  status: 'ok' | 'diverged';
  /**
   * with tangents (and conditioning on): each mean tangent's spread under f32-level perturbations and
   * whether it can be trusted (analysis/conditioning.ts)
   */
  tangentConditioning?: Conditioning;
  /**
   * networks (models with more than one cell): per-cell spike times, observables, tangents and
   * activity class, and the network's class, period and features (jobs/network-results.ts)
   */
  cells?: NetworkResult['cells'];
  network?: NetworkResult['network'];
  /** when diverged: which state, when (ms), its value then, and all that as one phrase */
  divergence?: { state: string; timeMs: number; value: number; description: string };
  wallMs: number;
}

/** The model with the quantities `record` names observed, so the trace carries them (model/record.ts). */
function withRecordedQuantities(model: Model, record: readonly string[], traced: boolean): Model {
  if (!record.length) return model;
  if (!traced) throw new InputError('record: recorded quantities go into the trace: add traceEveryMs');
  return withRecorded(model, record).model;
}

/**
 * Voltage clamp as a model transform: V is replaced by the command (teacherForce, no residual), and
 * the clamp current C·(dV_cmd/dt − dV/dt of the cell at V_cmd) is observed. It is evaluated after each
 * step, where the command's current sample is the step's end and the slope its forward difference.
 */
function withClamp(model: Model, clamp: boolean, dtMs: number): Model {
  if (!clamp) return model;
  const v = model.states.find((s) => s.name === 'V');
  if (!v || !Object.hasOwn(model.params, 'CmUFPerCm2')) {
    throw new InputError(`voltageClamp: model ${model.name} has no single membrane potential V with a capacitance CmUFPerCm2 (networks: clamp is for single cells)`);
  }
  const forced = teacherForce(model, { V: { input: CLAMP_COMMAND, residual: false } });
  const command = E.input(CLAMP_COMMAND), next = E.input(CLAMP_COMMAND, 1);
  const own = E.substitute([v.ode.rhs], (n) => (n.op === 'state' && n.name === 'V' ? command : undefined))[0];
  return withObserved(forced, [{
    name: CLAMP_CURRENT, unit: 'µA/cm²',
    expr: E.mul(E.param('CmUFPerCm2'), E.sub(E.div(E.sub(next, command), dtMs), own)),
  }]);
}

/** Runs one simulation. Throws an Error with a one-line message for any invalid input. */
export async function simulate(input: SimulateSpec, fieldName?: (path: string) => string): Promise<SimulationResult> {
  const parsed = simulateSpecSchema.safeParse(input);
  if (!parsed.success) throw new InputError(describeIssue(parsed.error, fieldName));
  const spec = parsed.data;
  const model = withClamp(withRecordedQuantities(resolveModel(spec.model), spec.record, spec.traceEveryMs !== undefined), spec.voltageClamp !== undefined, spec.dtMs);
  const inputs: Record<string, Recording> = {};
  if (spec.currentWaveform) inputs[CURRENT_WAVEFORM] = spec.currentWaveform;
  if (spec.voltageClamp) inputs[CLAMP_COMMAND] = spec.voltageClamp;

  const values: Record<string, number> = { ...spec.set };
  if (spec.currentUAPerCm2 !== undefined) values.IExtUAPerCm2 = spec.currentUAPerCm2;
  if (spec.initVMv !== undefined) values.initVMv = spec.initVMv;
  for (const name of Object.keys(values)) requireParam(model, name);

  const isolated = isolatedMs(spec.init);
  checkIsolatedStart(spec, (field) => fieldName?.(field) ?? field);
  const started = isolated === undefined ? model : await isolatedStart(model, isolated, { values, dtMs: spec.isolatedDtMs ?? spec.dtMs, method: spec.method as Method });
  const program = compile(started, {
    method: spec.method as (typeof METHODS)[number],
    dtMs: spec.dtMs,
    init: isolated === undefined ? (spec.init as InitKind | undefined) : 'cold',
    values,
    tangents: spec.tangents,
    stimulus: spec.steps,
    currentInput: spec.currentWaveform ? CURRENT_WAVEFORM : undefined,
  });
  // every spike of a single run is kept: a crossing takes at least two steps
  const accumulatedSteps = Math.round((spec.durationMs - spec.discardMs) / spec.dtMs);
  const cellNames = networkCells(model);
  const isNetwork = model.spikeSources.length > 1 && cellNames.length > 1;
  const ensembleSpec = {
      program, N: 1, durationMs: spec.durationMs, discardMs: spec.discardMs,
      spikeCapacity: Math.max(1, Math.ceil(accumulatedSteps / 2) + 1),
      spikeThresholdMv: spec.spikeThresholdMv,
      // a network classifies every cell from its voltage maxima (the engine's ring holds up to 65,536)
      ...(isNetwork ? { maximaCapacity: Math.min(65_536, Math.ceil(accumulatedSteps / 2) + 1) } : {}),
      traceEveryMs: spec.traceEveryMs,
      traceInstances: spec.traceEveryMs !== undefined ? [0] : undefined,
      ...(Object.keys(inputs).length ? { inputs } : {}),
  };
  const run = await runEnsemble(ensembleSpec, { engine: spec.engine as EngineChoice, threads: spec.threads, gpuMath: spec.gpuMath, singleInstance: true });
  const r = run.result;
  const conditioning = spec.conditioning && r.lanes.length && r.divergence.state[0] < 0
    ? await tangentConditioning({ ...ensembleSpec, traceEveryMs: undefined, traceInstances: undefined }, r.engine === 'cpu' ? r : undefined)
    : undefined;

  const observables: Record<string, number | null> = {};
  const tangents: Record<string, Record<string, number>> = {};
  for (const kind of ['voltage', 'calcium'] as const) {
    const o = r.observed.find((x) => x.kind === kind);
    const name = kind === 'voltage' ? { name: 'V', unit: 'mV' } : { name: 'Ca', unit: 'µM' };
    for (const stat of ['mean', 'min', 'max'] as const) observables[observableKey(stat, name.name, name.unit)] = o ? o[stat][0] : null;
  }
  for (const o of r.observed) {
    const key = observableKey('mean', o.name, o.unit);
    if (!(key in observables)) for (const stat of ['mean', 'min', 'max'] as const) observables[observableKey(stat, o.name, o.unit)] = o[stat][0];
    if (r.lanes.length) tangents[key] = Object.fromEntries(r.lanes.map((lane, j) => [lane.key, o.meanTangent[j][0]]));
  }
  const spikes = r.spikes[0];
  let trace: SimulationResult['trace'];
  if (r.traces) {
    const traces = r.traces;
    trace = {
      timesMs: traces.timesMs,
      series: Object.fromEntries(r.observed.map((o) => [observableKey('', o.name, o.unit), traces.series(0, o.name)])),
      units: Object.fromEntries(r.observed.map((o) => [observableKey('', o.name, o.unit), o.unit])),
    };
  }
  return {
    model: model.name,
    method: program.method,
    dtMs: program.dtMs,
    durationMs: r.durationMs,
    discardMs: r.discardMs,
    init: isolated === undefined ? program.init : `isolated:${isolated}`,
    engine: r.engine,
    device: r.device,
    engineNote: run.note,
    params: { ...program.values },
    stimulus: spec.steps,
    spikeThresholdMv: spec.spikeThresholdMv,
    spikeCount: spikes ? spikes.count[0] : 0,
    spikeTimesMs: spikes ? spikes.timesOf(0) : [],
    observables,
    tangents,
    trace,
    status: r.divergence.state[0] >= 0 ? 'diverged' : 'ok',
    divergence: r.divergence.state[0] >= 0
      ? {
        state: r.divergence.stateNames[r.divergence.state[0]], timeMs: r.divergence.timeMs[0], value: r.divergence.value[0],
        description: describeDivergence(r.divergence, 0)!,
      }
      : undefined,
    ...(conditioning ? { tangentConditioning: conditioning } : {}),
    ...(isNetwork && r.divergence.state[0] < 0 ? networkResults(r, cellNames) : {}),
    wallMs: r.wallMs,
  };
}
