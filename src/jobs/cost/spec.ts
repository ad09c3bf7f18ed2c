/**
 * The part of a landscape, fit or curve spec that defines a cost: which model and how it runs, what
 * extra quantities it observes, and the cost terms. Every job spec spreads `costSettingsShape` into
 * its own zod object; `costSetupOf` then turns the parsed fields into a model and pending terms
 * (targets may still be missing: they come from a reference simulation, see problem.ts).
 *
 * Cost terms, as written in a spec (each a one-key form plus options):
 *
 *     - { mean: Ca }                                   time average of an observed quantity
 *     - { mean: Ca, taper: true }                      the same, Hann-tapered (from traces)
 *     - { rate: { thresholdMv: -20, widthMv: 5 } }     smoothed firing rate (Hz), observe.ts
 *     - { trace: V, lowPassMs: 20, fromMs: 500 }      L2 distance of a (low-passed) trace to the target's
 *
 * with `target` (a number, or for a trace one value per trace sample), `scale` (errors are divided
 * by it; default: |target| for means, the target's standard deviation in the window for traces) and
 * `weight` (default 1).
 */
import { z } from 'zod';
import { resolveModel } from '../../channels/index.ts';
import { GPU_MATH, type GpuMath } from '../../compile/emit-wgsl.ts';
import { METHODS, type Method } from '../../compile/program.ts';
import { ENGINE_CHOICES, type EngineChoice } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import { checkParamValue, requireParam, type InitKind, type Model } from '../../model/model.ts';
import { smoothRateExpr, withObserved, type ObservedInput } from '../../model/observe.ts';
import { describeIssue, finite, got, nonNegative, oneOf, positive, namedRecord, modelSchema } from '../schema.ts';

const observeSchema = z.object({
  name: z.string({ error: 'must be a name' }),
  expr: z.string({ error: 'must be an expression (text)' }),
  unit: z.string().default(''),
}).strict();

/** Fields every cost-based job spec has (spread into the job's own z.object). */
export const costSettingsShape = {
  model: modelSchema(),
  method: oneOf(METHODS).default('exp-euler'),
  dtMs: positive('ms').default(0.025),
  /** each simulation runs this long from the initial condition (ms) */
  durationMs: positive('ms'),
  /** means and traces start after this (ms) */
  discardMs: nonNegative('ms').default(0),
  /** trace sample spacing (ms), needed by trace terms */
  traceEveryMs: positive('ms').optional(),
  init: oneOf(['steady', 'cold'] as const).optional(),
  /** parameter values held fixed at other than the model's defaults */
  fixed: namedRecord(finite()).default({}),
  currentUAPerCm2: finite().optional(),
  /** extra observed quantities: expressions of V, Ca, dVdt, gates and parameters */
  observe: z.array(observeSchema).default([]),
  cost: z.array(z.record(z.string(), z.unknown(), { error: (iss) => `must be a term such as {mean: Ca}, got ${got(JSON.stringify(iss.input))}` }))
    .min(1, { error: 'needs at least one term' }),
  /** parameter values of the reference simulation that supplies targets the terms do not give */
  target: namedRecord(finite()).optional(),
  engine: oneOf(ENGINE_CHOICES).default('auto'),
  gpuMath: oneOf(GPU_MATH).default('accurate'),
};

const weighting = { scale: positive('').optional(), weight: nonNegative('').default(1) };

const meanTermSchema = z.object({
  mean: z.string({ error: 'must be the name of an observed quantity' }),
  target: finite().optional(),
  /** Hann-tapered average over the traced samples (needs traceEveryMs), see analysis/costs.ts */
  taper: z.boolean({ error: 'must be true or false' }).default(false),
  ...weighting,
}).strict();
const rateTermSchema = z.object({
  rate: z.object({ thresholdMv: finite().optional(), widthMv: positive('mV').optional(), slopeMvPerMs: positive('mV/ms').optional() }).strict()
    .or(z.literal(true)),
  target: finite().optional(),
  ...weighting,
}).strict();
const traceTermSchema = z.object({
  trace: z.string({ error: 'must be the name of an observed quantity' }),
  target: z.array(finite()).optional(),
  fromMs: nonNegative('ms').optional(),
  toMs: positive('ms').optional(),
  lowPassMs: nonNegative('ms').default(0),
  ...weighting,
}).strict();

/** A cost term before its target and scale are known. */
export type PendingTerm =
  | { kind: 'mean'; label: string; observed: string; target?: number; scale?: number; weight: number; taper?: { fromMs: number; toMs: number } }
  | { kind: 'trace'; label: string; observed: string; target?: Float64Array; fromMs: number; toMs: number; lowPassMs: number; scale?: number; weight: number };

/** The parsed cost settings of any job spec. */
export type CostSettings = z.output<z.ZodObject<typeof costSettingsShape>>;

/** What a cost needs to run: the model with its extra observed quantities, the run plan, pending terms. */
export interface CostSetup {
  model: Model;
  method: Method;
  dtMs: number;
  durationMs: number;
  discardMs: number;
  traceEveryMs?: number;
  init?: InitKind;
  /** fixed parameter values passed to the compiler */
  values: Record<string, number>;
  terms: PendingTerm[];
  /** parameters of the reference simulation for missing targets (merged over `values`) */
  target?: Record<string, number>;
  engine: EngineChoice;
  gpuMath: GpuMath;
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, where: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InputError(`${where}.${describeIssue(parsed.error)}`);
  return parsed.data;
}

/** Turns the parsed settings into a model with its observed quantities and pending terms. `where` prefixes messages (e.g. 'fit spec: '). */
export function costSetupOf(settings: CostSettings, where = ''): CostSetup {
  let model = resolveModel(settings.model, `${where}model: `);
  const values: Record<string, number> = { ...settings.fixed };
  if (settings.currentUAPerCm2 !== undefined) values.IExtUAPerCm2 = settings.currentUAPerCm2;
  for (const [name, value] of Object.entries(values)) {
    const problem = checkParamValue(name, requireParam(model, name), value);
    if (problem) throw new InputError(`${where}fixed.${name}: ${problem}`);
  }
  if (settings.discardMs >= settings.durationMs) throw new InputError(`${where}discardMs must be < durationMs (${settings.durationMs} ms), got ${settings.discardMs}`);

  const extra: ObservedInput[] = settings.observe.map((o) => ({ name: o.name, expr: o.expr, unit: o.unit }));
  const terms: PendingTerm[] = [];
  let rates = 0;
  settings.cost.forEach((raw, i) => {
    const at = `${where}cost[${i}]`;
    if ('mean' in raw) {
      const t = parseWith(meanTermSchema, raw, at);
      if (t.taper && settings.traceEveryMs === undefined) throw new InputError(`${at}: a tapered mean needs traceEveryMs (the sample spacing, ms)`);
      terms.push({
        kind: 'mean', label: `${t.taper ? 'tapered mean' : 'mean'} ${t.mean}`, observed: t.mean, target: t.target, scale: t.scale, weight: t.weight,
        ...(t.taper ? { taper: { fromMs: settings.discardMs, toMs: settings.durationMs } } : {}),
      });
    } else if ('rate' in raw) {
      const t = parseWith(rateTermSchema, raw, at);
      const name = rates === 0 ? 'rate' : `rate${rates + 1}`;
      rates++;
      extra.push({ name, expr: smoothRateExpr(t.rate === true ? {} : t.rate), unit: 'Hz' });
      terms.push({ kind: 'mean', label: `smoothed rate${rates > 1 ? ` ${rates}` : ''}`, observed: name, target: t.target, scale: t.scale, weight: t.weight });
    } else if ('trace' in raw) {
      const t = parseWith(traceTermSchema, raw, at);
      if (settings.traceEveryMs === undefined) throw new InputError(`${at}: a trace term needs traceEveryMs (the sample spacing, ms)`);
      const fromMs = t.fromMs ?? settings.discardMs, toMs = t.toMs ?? settings.durationMs;
      if (fromMs < settings.discardMs || toMs > settings.durationMs || toMs <= fromMs) {
        throw new InputError(`${at}: the window [fromMs, toMs] = [${fromMs}, ${toMs}] must lie in [discardMs, durationMs] = [${settings.discardMs}, ${settings.durationMs}] ms with toMs > fromMs`);
      }
      terms.push({
        kind: 'trace', label: `trace ${t.trace}${t.lowPassMs ? ` (low-pass ${t.lowPassMs} ms)` : ''}`, observed: t.trace,
        target: t.target ? Float64Array.from(t.target) : undefined, fromMs, toMs, lowPassMs: t.lowPassMs, scale: t.scale, weight: t.weight,
      });
    } else {
      throw new InputError(`${at} must have one of the keys mean, rate, trace; got ${got(JSON.stringify(raw))}`);
    }
  });
  if (extra.length) model = withObserved(model, extra);
  for (const t of terms) {
    if (!model.observed.some((o) => o.name === t.observed)) {
      throw new InputError(`${where}cost: '${t.observed}' is not an observed quantity of model ${model.name}; observed: ${model.observed.map((o) => o.name).join(', ')} (add others under observe)`);
    }
  }
  for (const [name, value] of Object.entries(settings.target ?? {})) {
    const problem = checkParamValue(name, requireParam(model, name), value);
    if (problem) throw new InputError(`${where}target.${name}: ${problem}`);
  }
  return {
    model, method: settings.method, dtMs: settings.dtMs, durationMs: settings.durationMs, discardMs: settings.discardMs,
    traceEveryMs: settings.traceEveryMs, init: settings.init, values, terms, target: settings.target,
    engine: settings.engine, gpuMath: settings.gpuMath,
  };
}

const costSettingsSchema = z.object(costSettingsShape).strict();

/** Parses cost settings alone (a library caller's own cost) and builds the setup; throws InputError naming the field. */
export function parseCostSettings(input: unknown, where = 'cost spec: '): CostSetup {
  const parsed = costSettingsSchema.safeParse(input);
  if (!parsed.success) throw new InputError(`${where}${describeIssue(parsed.error)}`);
  return costSetupOf(parsed.data, where);
}
