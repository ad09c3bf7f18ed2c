/**
 * The sweep spec (YAML or JSON): which model, which parameters vary and how they are sampled, how
 * long each model runs, and what to record. Validated with zod; every message names the field and
 * the allowed values. `resolveSweep` then checks the spec against the model (parameter names and
 * ranges).
 */
import { z } from 'zod';
import { MODEL_NAMES, resolveModel } from '../../channels/index.ts';
import { isModelDefinition, regulateSchema, type ModelDefinition } from '../../model/model-file.ts';
import { regulate } from '../../model/regulation.ts';
import { networkCells } from '../../model/network.ts';
import { withRecorded, type RecordedColumn } from '../../model/record.ts';
import { checkIsolatedStart, INIT_CHOICES, INIT_PATTERN, isolatedDtMsSchema } from '../isolated-start.ts';
import { cellChoiceAxes, checkNetworkSweep, type CellChoiceAxis } from './network.ts';
import { GPU_MATH } from '../../compile/emit-wgsl.ts';
import { METHODS } from '../../compile/program.ts';
import { ENGINE_CHOICES } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { checkParamValue, requireParam, type Model } from '../../model/model.ts';
import { parseLane } from '../../compile/program.ts';
import { shardRange, type Shard } from './run.ts';
import { describeIssue, finite, got, nonNegative, oneOf, positive, namedRecord } from '../schema.ts';
import { GRID_AXIS_VALUES_MAX, SWEEP_CHUNKS_IN_MEMORY, SWEEP_MODELS_MAX, SWEEP_ROW_FIXED_BYTES, checkMemory, checkOutput, ensembleBytes, traceSamplesOf } from '../../limits.ts';

export const SAMPLINGS = ['grid', 'random', 'lhs', 'sobol'] as const;
export type Sampling = (typeof SAMPLINGS)[number];

const bounds = z.tuple([finite(), finite()], { error: (iss) => `must be [low, high], got ${got(iss.input)}` })
  .refine(([lo, hi]) => hi > lo, { error: 'needs high > low' });

const gridRange = z.object({
  from: finite(),
  to: finite(),
  count: z.number().int({ error: `must be an integer in [1, ${GRID_AXIS_VALUES_MAX}]` }).min(1, { error: `must be an integer in [1, ${GRID_AXIS_VALUES_MAX}]` })
    .max(GRID_AXIS_VALUES_MAX, { error: `must be an integer in [1, ${GRID_AXIS_VALUES_MAX}] (values of one axis)` }),
}).strict();

/** How one parameter varies: a grid (values, or an evenly spaced range) or a distribution. */
export const distributionSchema = z.union([
  z.object({ grid: z.union([z.array(finite()).min(1, { error: 'needs at least one value' }), gridRange]) }).strict(),
  z.object({ uniform: bounds }).strict(),
  z.object({ logUniform: bounds.refine(([lo]) => lo > 0, { error: 'needs low > 0' }) }).strict(),
], { error: (iss) => `must be {grid: [values] | {from, to, count}}, {uniform: [low, high]} or {logUniform: [low, high]}, got ${got(JSON.stringify(iss.input))}` });

const stepSchema = z.object({ startMs: nonNegative('ms'), stopMs: finite(), ampUAPerCm2: finite() }).strict()
  .refine((s) => s.stopMs > s.startMs, { error: 'stopMs must be greater than startMs' });

export const sweepSpecSchema = z.object({
  // a library model or a neuron or network written as data (model-file.ts; kept as data, so the spec
  // hash covers it); a network's rows get per-cell and network columns (network-rows.ts)
  model: z.union([oneOf(MODEL_NAMES), z.custom<ModelDefinition>(isModelDefinition)], {
    error: (iss) => `must be one of ${MODEL_NAMES.join(', ')} or a neuron or network definition (name, channels or cells, ...), got ${got(typeof iss.input === 'object' ? JSON.stringify(iss.input)?.slice(0, 80) : iss.input)}`,
  }),
  method: oneOf(METHODS).default('exp-euler'),
  dtMs: positive('ms').default(0.025),
  durationMs: positive('ms'),
  discardMs: nonNegative('ms').default(0),
  /** steady, cold, or (networks) isolated:MS: each cell alone for MS ms from its cold start, then connected */
  init: z.string({ error: `must be ${INIT_CHOICES}` }).regex(INIT_PATTERN, { error: (iss) => `must be ${INIT_CHOICES}, got ${got(iss.input)}` }).optional(),
  /** networks with init isolated:MS: the step (ms) of the cells' runs alone (isolated-start.ts) */
  isolatedDtMs: isolatedDtMsSchema,
  /**
   * networks: per cell, a choice among the Table 2 cells of Prinz 2004 (ABPD1…PY6), each setting the
   * cell's 8 maximal conductances; for a grid these axes come first, in this order, before `parameters`
   */
  cells: namedRecord(z.object({ choice: z.array(z.string()).min(1, { error: 'needs at least one cell' }) }).strict()).optional(),
  /** the seed of random, lhs and sobol sampling */
  seed: z.number().int({ error: 'must be an integer' }).min(0).max(2 ** 31 - 1).default(1),
  sampling: oneOf(SAMPLINGS).default('grid'),
  /** number of models (random, lhs, sobol); a grid's size is the product of its axes */
  samples: z.number().int({ error: 'must be an integer' }).min(1).max(SWEEP_MODELS_MAX).optional(),
  /** grid only: run this many grid models drawn uniformly without replacement (seeded) instead of all */
  subsample: z.number().int({ error: 'must be an integer' }).min(1).optional(),
  /** parameters that vary, in order: for a grid the first is the most significant digit of the model number */
  parameters: namedRecord(distributionSchema).refine((p) => Object.keys(p).length > 0, { error: 'needs at least one parameter' }),
  /** parameters held at a value other than the model's default */
  fixed: namedRecord(finite()).default({}),
  currentUAPerCm2: finite().optional(),
  steps: z.array(stepSchema).default([]),
  /** gradients to record per model: parameter names, or log:name */
  tangents: z.array(z.string()).default([]),
  /** voltage maxima kept per model for classification (the most recent) */
  maxima: z.number().int().min(16, { error: 'must be an integer ≥ 16' }).max(4096, { error: 'must be ≤ 4096' }).default(256),
  maximaHysteresisMv: positive('mV').default(0.05),
  /**
   * homeostatic regulation of every model (model/regulation.ts, O'Leary 2014); its constants
   * (regTau<X>Ms, regM0<X>, regCaTargetUM, regTauGMs) may be axes, and rows get each regulated
   * conductance at the end of the run (finalRegG<X>MsPerCm2) beside the class over the window
   */
  regulate: regulateSchema.optional(),
  /**
   * decimated traces of chosen models, written as NPY (time, then each recorded quantity) with a JSON
   * sidecar naming the columns and their units; `record` takes simulate --record's names (states such
   * as V, Na.m, LP.Ca; currents such as INa; observed quantities), by default V (networks: every cell's V)
   */
  traces: z.object({
    everyMs: positive('ms'),
    indices: z.array(z.number().int().min(0)).max(1000, { error: 'at most 1000 traced models' }),
    record: z.array(z.string({ error: 'must be a list of names such as [V, Na.m, INa]' }), { error: 'must be a list of names such as [V, Na.m, INa]' })
      .min(1, { error: 'needs at least one name (or leave it out: V)' }).optional(),
  }).strict().optional(),
  engine: oneOf(ENGINE_CHOICES).default('auto'),
  gpuMath: oneOf(GPU_MATH).default('accurate'),
  /** models per chunk: the unit of progress, resume and pipelining */
  chunkSize: z.number().int().min(1).max(1 << 22).default(16384),
}).strict();

export type SweepSpecInput = z.input<typeof sweepSpecSchema>;
export type SweepSpec = z.output<typeof sweepSpecSchema>;

/** Parses and checks a spec object; throws InputError naming the first problem. */
export function parseSweepSpec(input: unknown): SweepSpec {
  const parsed = sweepSpecSchema.safeParse(input);
  if (!parsed.success) throw new InputError(`sweep spec: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

export interface Axis {
  name: string;
  /** choice: a network cell's choice among Table 2 cells; its values are the choices' positions 0..k−1 */
  kind: 'grid' | 'uniform' | 'logUniform' | 'choice';
  /** grid values */
  values?: number[];
  low?: number;
  high?: number;
}

export interface ResolvedSweep {
  spec: SweepSpec;
  /** the model as run: with the traced quantities it does not observe already (traces.record) observed */
  model: Model;
  /** traces.record resolved (model/record.ts): what each trace file's columns after tMs hold; empty without traces */
  traceColumns: RecordedColumn[];
  /** observed quantities added only for the traces: no row columns (rows.ts) */
  traceOnly: string[];
  axes: Axis[];
  /** number of models */
  total: number;
  /** number of grid points (grid sampling; equals total without subsample) */
  gridSize?: number;
  /** network sweeps: the cells' choice axes (also in `axes`, first) */
  cellChoices?: CellChoiceAxis[];
}

function gridValues(grid: number[] | { from: number; to: number; count: number }): number[] {
  if (Array.isArray(grid)) return grid;
  if (grid.count === 1) return [grid.from];
  return Array.from({ length: grid.count }, (_, k) => grid.from + ((grid.to - grid.from) * k) / (grid.count - 1));
}

/** Checks a parsed spec against its model and works out the axes and the number of models. */
export function resolveSweep(spec: SweepSpec): ResolvedSweep {
  const unregulated = resolveModel(spec.model as string | ModelDefinition, 'sweep spec: model: ');
  const regulated = spec.regulate ? regulateForSweep(unregulated, spec) : unregulated;
  const isNetwork = networkCells(regulated).length > 1;
  const { model, columns: traceColumns } = recordedForSweep(regulated, spec, isNetwork);
  const traceOnly = model.observed.slice(regulated.observed.length).map((o) => o.name);
  const cellChoices = cellChoiceAxes(spec, model);
  const axes: Axis[] = [...cellChoices, ...Object.entries(spec.parameters).map(([name, dist]): Axis => {
    const def = requireParam(model, name);
    const check = (value: number, what: string) => {
      const problem = checkParamValue(name, def, value);
      if (problem) throw new InputError(`sweep spec: parameters.${name}.${what}: ${problem}`);
    };
    if ('grid' in dist) {
      const values = gridValues(dist.grid);
      values.forEach((v, k) => check(v, `grid[${k}]`));
      return { name, kind: 'grid', values };
    }
    const [low, high] = 'uniform' in dist ? dist.uniform : dist.logUniform;
    check(low, 'low');
    check(high, 'high');
    return { name, kind: 'uniform' in dist ? 'uniform' : 'logUniform', low, high };
  })];
  for (const [name, value] of Object.entries(spec.fixed)) {
    if (name in spec.parameters) throw new InputError(`sweep spec: fixed.${name}: ${name} is also a varied parameter`);
    const problem = checkParamValue(name, requireParam(model, name), value);
    if (problem) throw new InputError(`sweep spec: fixed.${name}: ${problem}`);
  }
  for (const key of spec.tangents) requireParam(model, parseLane(key).param);
  checkNetworkSweep(spec, model, isNetwork);
  if (spec.discardMs >= spec.durationMs) throw new InputError(`sweep spec: discardMs must be < durationMs (${spec.durationMs}), got ${spec.discardMs}`);
  checkIsolatedStart(spec, undefined, 'sweep spec: ');

  let total: number;
  if (spec.sampling === 'grid') {
    const notGrid = axes.find((a) => a.kind !== 'grid' && a.kind !== 'choice');
    if (notGrid) throw new InputError(`sweep spec: parameters.${notGrid.name}: sampling 'grid' needs a grid for every parameter; use sampling random, lhs or sobol for distributions`);
    if (spec.samples !== undefined) throw new InputError(`sweep spec: samples: a grid's size is the product of its axes; remove samples or choose sampling random, lhs or sobol`);
    const gridSize = axes.reduce((n, a) => n * a.values!.length, 1);
    if (gridSize > SWEEP_MODELS_MAX) throw new InputError(`sweep spec: the grid has ${gridSize} models, over the limit of 2^31 − 1`);
    if (spec.subsample !== undefined && spec.subsample > gridSize) throw new InputError(`sweep spec: subsample must be ≤ the grid size ${gridSize}, got ${spec.subsample}`);
    total = spec.subsample ?? gridSize;
    for (const i of spec.traces?.indices ?? []) if (i >= total) throw new InputError(`sweep spec: traces.indices: ${i} is not a model index in [0, ${total - 1}]`);
    checkChunkMemory(spec, model, total);
    return { spec, model, traceColumns, traceOnly, axes, total, gridSize, ...(isNetwork ? { cellChoices } : {}) };
  } else {
    const grid = axes.find((a) => a.kind === 'grid');
    if (grid) throw new InputError(`sweep spec: parameters.${grid.name}: sampling '${spec.sampling}' needs uniform or logUniform for every parameter`);
    if (spec.samples === undefined) throw new InputError(`sweep spec: samples: required for sampling '${spec.sampling}' (the number of models)`);
    if (spec.subsample !== undefined) throw new InputError(`sweep spec: subsample: only for sampling 'grid' (use samples)`);
    if (spec.sampling === 'sobol' && axes.length > SOBOL_MAX_DIMENSIONS) {
      throw new InputError(`sweep spec: sobol sampling supports up to ${SOBOL_MAX_DIMENSIONS} parameters, got ${axes.length}`);
    }
    total = spec.samples;
  }
  for (const i of spec.traces?.indices ?? []) {
    if (i >= total) throw new InputError(`sweep spec: traces.indices: ${i} is not a model index in [0, ${total - 1}]`);
  }
  checkChunkMemory(spec, model, total);
  return { spec, model, traceColumns, traceOnly, axes, total, ...(isNetwork ? { cellChoices } : {}) };
}

/**
 * The model with the quantities the traces record (traces.record, resolved as simulate --record
 * resolves them) and their columns. Without `record` a trace holds V, or in a network every cell's V.
 */
function recordedForSweep(model: Model, spec: SweepSpec, isNetwork: boolean): { model: Model; columns: RecordedColumn[] } {
  if (!spec.traces) return { model, columns: [] };
  const names = spec.traces.record ?? (isNetwork ? networkCells(model).map((cell) => `${cell}.V`) : ['V']);
  return withRecorded(model, names, 'sweep spec: traces.record');
}

/** The memory a sweep holds at once: SWEEP_CHUNKS_IN_MEMORY chunks' ensemble buffers (limits.ts), refused over the limit. */
function checkChunkMemory(spec: SweepSpec, model: Model, total: number): void {
  const N = Math.min(spec.chunkSize, total);
  // a trace spacing under one step is refused by the run plan, with its own message
  const samples = spec.traces ? traceSamplesOf(spec.durationMs, spec.discardMs, Math.max(spec.traces.everyMs, spec.dtMs)) : 0;
  const bytes = SWEEP_CHUNKS_IN_MEMORY * ensembleBytes({
    N, states: model.states.length, lanes: spec.tangents.length, observed: model.observed.length,
    spikeSources: model.spikeSources.length, spikeCapacity: 8, maximaCapacity: spec.maxima,
    tracedInstances: Math.min(N, spec.traces?.indices.length ?? 0), traceSamples: samples, traceTangents: false,
  });
  checkMemory(`sweep spec: chunkSize ${spec.chunkSize} × maxima ${spec.maxima}${samples ? ` with traces of ${samples} samples` : ''}`, bytes,
    'lower chunkSize (it changes no row) or maxima, or trace fewer samples');
}

/**
 * Bytes a shard of `rows` models writes (limits.ts): its table (SWEEP_ROW_FIXED_BYTES plus 8 per
 * parameter, observable statistic and gradient, per row, uncompressed) and the NPY traces of its
 * traced models (time and each recorded quantity, 8 bytes each, per sample). Refused over the output limit.
 */
export function checkSweepOutput(sweep: ResolvedSweep, shard: Shard): void {
  const { spec, model } = sweep;
  const range = shardRange(sweep.total, shard);
  const rows = range.end - range.start;
  const perRow = SWEEP_ROW_FIXED_BYTES + 8 * (sweep.axes.length + (model.observed.length - sweep.traceOnly.length) * (3 + spec.tangents.length));
  const traced = (spec.traces?.indices ?? []).filter((i) => i >= range.start && i < range.end).length;
  const samples = spec.traces ? traceSamplesOf(spec.durationMs, spec.discardMs, Math.max(spec.traces.everyMs, spec.dtMs)) : 0;
  const traceColumns = 1 + sweep.traceColumns.length;
  const bytes = rows * perRow + traced * samples * 8 * traceColumns;
  checkOutput(`this sweep shard (${rows} models × ~${perRow} bytes per row${traced ? `, ${traced} traces of ${samples} samples × ${traceColumns} columns` : ''})`, bytes,
    'split the sweep into more shards (--shard i/n), or sample fewer models or trace fewer samples');
}

export const SOBOL_MAX_DIMENSIONS = 21;

/**
 * Canonical JSON (sorted keys) of the normalised spec (defaults filled in), as run: its identity
 * across shards and resumes. Everything that can change a row is in it, the engine choice and the
 * GPU's exp included (gpuMath is left out when the engine is 'cpu', where it changes nothing); only
 * chunkSize is not, since rows are a pure function of (spec, index) however they are chunked (a
 * resume with another chunk layout is refused by runSweepShard). What `auto` resolved to is not
 * known from the spec: the shard store records it beside the parts (io/shard-record.ts).
 */
export function specIdentity(spec: SweepSpec): string {
  const { chunkSize: _chunk, ...rest } = spec;
  const identity: Record<string, unknown> = { ...rest };
  if (spec.engine === 'cpu') delete identity.gpuMath;
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(canonical(identity));
}

/** SHA-256 of the spec identity, hex. */
export async function specHash(spec: SweepSpec): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(specIdentity(spec)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The model with the spec's regulation applied. Its rows carry the final regulated conductances,
 * read from one trace sample of every model at the end of the run, so a regulated sweep takes no
 * `traces` of its own.
 */
function regulateForSweep(model: Model, spec: SweepSpec): Model {
  if (spec.traces) throw new InputError('sweep spec: traces: not with regulate (a regulated sweep\'s one trace sample per model, at the end, holds its final conductances)');
  try {
    return regulate(model, spec.regulate!);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`sweep spec: ${error.message}`);
    throw error;
  }
}

/** The observed quantities whose values at the end of a run become row columns: the regulated conductances. */
export function finalObserved(sweep: ResolvedSweep): string[] {
  return sweep.spec.regulate ? sweep.model.observed.filter((o) => /^regG/.test(o.name)).map((o) => o.name) : [];
}
