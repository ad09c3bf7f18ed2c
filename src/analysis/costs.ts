/**
 * Differentiable costs of an ensemble run: weighted squared errors of observables that carry
 * tangents, and their gradients by the chain rule on the host.
 *
 *   mean term:   w · ((m − m*)/s)²                          m: time average of an observed quantity
 *                                                          (optionally Hann-tapered, from traces)
 *   trace term:  w · (1/K) Σ_{k in window} ((z_k − z*_k)/s)²  z: a traced quantity, optionally low-passed
 *
 * The engines give d m / d θ (exact forward-mode tangents of the discrete step) and, with trace
 * tangents, d y_k / d θ at every trace sample, so these gradients are the exact derivatives of the
 * cost that was computed: the low-pass filter is a linear recursion on the samples and is applied to
 * values and tangents alike.
 *
 * Every term is a sum of squared residuals r (√w·(m − m*)/s, or one per trace sample), so the cost is
 * Σ r² and, on request, the Gauss–Newton matrix JᵀJ (J = dr/dθ, from the same tangents) comes with
 * it: half the Hessian wherever the residuals are small, for optimisers that step across the
 * ill-conditioned valleys conductance fits have (fit/levenberg-marquardt.ts).
 */
import { InputError } from '../errors.ts';
import type { EnsembleResult, TraceResult } from '../engine/ensemble.ts';

export interface MeanCostTerm {
  kind: 'mean';
  /** name for reports, e.g. 'mean Ca' */
  label: string;
  /** observed quantity whose time average (after the discard) is compared */
  observed: string;
  target: number;
  /** the error is divided by this before squaring (unit of the quantity) */
  scale: number;
  weight: number;
  /**
   * Hann-tapered average over the trace samples in [fromMs, toMs] instead of the engine's plain
   * average. On a limit cycle the derivative of a plain average over a fixed window carries a term
   * set by the phase at the window's ends, which grows with the window's length in periods and flips
   * sign as the period changes; a taper that vanishes at both ends removes it (integration by parts),
   * so the cost's gradient follows its trend instead of where the last burst happens to end.
   */
  taper?: { fromMs: number; toMs: number };
}

export interface TraceCostTerm {
  kind: 'trace';
  label: string;
  observed: string;
  /** target series, one value per trace sample of the run (the same sample times) */
  target: Float64Array;
  /** the window (ms) whose samples are compared: fromMs ≤ t ≤ toMs */
  fromMs: number;
  toMs: number;
  /** time constant (ms) of the first-order low-pass applied to run and target alike; 0: none */
  lowPassMs: number;
  scale: number;
  weight: number;
}

export type CostTerm = MeanCostTerm | TraceCostTerm;

export interface CostValues {
  /** total cost per instance */
  cost: Float64Array;
  /** gradient[j][i] = d cost_i / d (lane j's parameter, or its log for a log: lane) */
  gradient: Float64Array[];
  /** lane keys, in gradient order */
  lanes: string[];
  /** each term's weighted contribution per instance (they sum to `cost`) and its gradient [lane][instance] */
  terms: { label: string; value: Float64Array; gradient: Float64Array[] }[];
  /** with `gaussNewton`: JᵀJ of every instance, L × L row-major, instance i at i·L² (cost = Σ r², gradient = 2 Jᵀr) */
  gaussNewton?: Float64Array;
}

/** Adds c · a aᵀ to the L × L block of instance i. */
function addOuter(gn: Float64Array, i: number, a: ArrayLike<number>, c: number): void {
  const L = a.length, base = i * L * L;
  for (let j = 0; j < L; j++) for (let l = 0; l < L; l++) gn[base + j * L + l] += c * a[j] * a[l];
}

/** Indices [k0, k1) of the trace samples with fromMs ≤ t ≤ toMs (a small slack absorbs rounding of the sample times). */
export function traceWindow(timesMs: ArrayLike<number>, fromMs: number, toMs: number): [number, number] {
  const eps = 1e-9 * Math.max(1, Math.abs(toMs));
  let k0 = 0;
  while (k0 < timesMs.length && timesMs[k0] < fromMs - eps) k0++;
  let k1 = k0;
  while (k1 < timesMs.length && timesMs[k1] <= toMs + eps) k1++;
  return [k0, k1];
}

/**
 * First-order low-pass of a sampled series, in place: z_0 = y_0, z_k = z_{k−1} + a (y_k − z_{k−1}) with
 * a = 1 − exp(−Δ/τ) (exact for a signal held between samples). Linear, so it filters tangents too.
 */
export function lowPassInPlace(series: Float64Array, sampleMs: number, tauMs: number): Float64Array {
  if (!(tauMs > 0) || series.length === 0) return series;
  const a = -Math.expm1(-sampleMs / tauMs);
  for (let k = 1; k < series.length; k++) series[k] = series[k - 1] + a * (series[k] - series[k - 1]);
  return series;
}

/** Time between trace samples (ms). */
function sampleSpacing(traces: TraceResult): number {
  const t = traces.timesMs;
  return t.length > 1 ? t[1] - t[0] : t.length === 1 ? t[0] : 0;
}

/** What a run must record for these terms: traces of every instance (with tangents when there are lanes). */
export function costNeedsTraces(terms: readonly { kind: string; taper?: unknown }[]): boolean {
  return terms.some((t) => t.kind === 'trace' || t.taper !== undefined);
}

/** Hann weights of the samples [k0, k1) of a window [fromMs, toMs], normalised to sum 1. */
export function hannWeights(timesMs: ArrayLike<number>, k0: number, k1: number, fromMs: number, toMs: number): Float64Array {
  const w = new Float64Array(k1 - k0);
  let sum = 0;
  for (let k = k0; k < k1; k++) {
    const x = Math.sin((Math.PI * (timesMs[k] - fromMs)) / (toMs - fromMs));
    w[k - k0] = x * x;
    sum += x * x;
  }
  return sum > 0 ? w.map((v) => v / sum) : w;
}

/** Hann-tapered average of a series over [fromMs, toMs]. */
export function taperedMean(series: ArrayLike<number>, timesMs: ArrayLike<number>, fromMs: number, toMs: number): number {
  const [k0, k1] = traceWindow(timesMs, fromMs, toMs);
  const w = hannWeights(timesMs, k0, k1, fromMs, toMs);
  let m = 0;
  for (let k = k0; k < k1; k++) m += w[k - k0] * series[k];
  return m;
}

/** Checks term fields that do not depend on a run; throws InputError naming the term. */
export function validateTerms(terms: readonly CostTerm[]): void {
  if (terms.length === 0) throw new InputError('cost needs at least one term');
  for (const t of terms) {
    if (!(Number.isFinite(t.weight) && t.weight >= 0)) throw new InputError(`cost term '${t.label}': weight must be a finite number ≥ 0, got ${t.weight}`);
    if (!(Number.isFinite(t.scale) && t.scale > 0)) throw new InputError(`cost term '${t.label}': scale must be a finite number > 0, got ${t.scale}`);
    if (t.kind === 'mean' && !Number.isFinite(t.target)) throw new InputError(`cost term '${t.label}': target must be a finite number, got ${t.target}`);
    if (t.kind === 'trace') {
      if (!(t.toMs > t.fromMs)) throw new InputError(`cost term '${t.label}': toMs (${t.toMs}) must be greater than fromMs (${t.fromMs})`);
      if (!(t.lowPassMs >= 0)) throw new InputError(`cost term '${t.label}': lowPassMs must be ≥ 0 (ms), got ${t.lowPassMs}`);
    }
  }
}

function observedOf(result: EnsembleResult, name: string, label: string) {
  const o = result.observed.find((x) => x.name === name);
  if (!o) throw new InputError(`cost term '${label}': the run has no observed quantity '${name}'; observed: ${result.observed.map((x) => x.name).join(', ')}`);
  return o;
}

/** The traces of a run, checked to hold every instance in order. */
function allTraces(result: EnsembleResult, label: string): TraceResult {
  const traces = result.traces;
  if (!traces || traces.instances.length !== result.N || traces.instances.some((inst, row) => inst !== row)) {
    throw new InputError(`cost term '${label}': needs traces of every instance in order (traceInstances 0..N−1 and traceEveryMs)`);
  }
  return traces;
}

function addTaperedMeanTerm(result: EnsembleResult, t: MeanCostTerm, value: Float64Array, gradient: Float64Array[], gn?: Float64Array): void {
  const traces = allTraces(result, t.label);
  observedOf(result, t.observed, t.label);
  const { fromMs, toMs } = t.taper!;
  const [k0, k1] = traceWindow(traces.timesMs, fromMs, toMs);
  if (k1 - k0 < 3) throw new InputError(`cost term '${t.label}': fewer than 3 trace samples in the taper window [${fromMs}, ${toMs}] ms`);
  const w = hannWeights(traces.timesMs, k0, k1, fromMs, toMs);
  const weighted = (series: Float64Array) => {
    let m = 0;
    for (let k = k0; k < k1; k++) m += w[k - k0] * series[k];
    return m;
  };
  const c = t.weight / (t.scale * t.scale);
  for (let i = 0; i < result.N; i++) {
    const e = weighted(traces.series(i, t.observed)) - t.target;
    value[i] = c * e * e;
    const de = result.lanes.map((lane) => weighted(traces.tangentSeries(i, t.observed, lane.key)));
    de.forEach((d, j) => (gradient[j][i] = 2 * c * e * d));
    if (gn) addOuter(gn, i, de, c);
  }
}

function addMeanTerm(result: EnsembleResult, t: MeanCostTerm, value: Float64Array, gradient: Float64Array[], gn?: Float64Array): void {
  if (t.taper) return addTaperedMeanTerm(result, t, value, gradient, gn);
  const o = observedOf(result, t.observed, t.label);
  const c = t.weight / (t.scale * t.scale);
  const de = new Float64Array(gradient.length);
  for (let i = 0; i < result.N; i++) {
    const e = o.mean[i] - t.target;
    value[i] = c * e * e;
    for (let j = 0; j < gradient.length; j++) {
      de[j] = o.meanTangent[j][i];
      gradient[j][i] = 2 * c * e * de[j];
    }
    if (gn) addOuter(gn, i, de, c);
  }
}

function addTraceTerm(result: EnsembleResult, t: TraceCostTerm, value: Float64Array, gradient: Float64Array[], gn?: Float64Array): void {
  const traces = allTraces(result, t.label);
  const N = result.N;
  observedOf(result, t.observed, t.label);
  const S = traces.timesMs.length;
  if (t.target.length !== S) throw new InputError(`cost term '${t.label}': target has ${t.target.length} samples, the run has ${S} (one per trace sample after the discard)`);
  const [k0, k1] = traceWindow(traces.timesMs, t.fromMs, t.toMs);
  const K = k1 - k0;
  if (K === 0) throw new InputError(`cost term '${t.label}': no trace samples in the window [${t.fromMs}, ${t.toMs}] ms; samples run from ${traces.timesMs[0]} to ${traces.timesMs[S - 1]} ms`);
  const dtSample = sampleSpacing(traces);
  const target = lowPassInPlace(Float64Array.from(t.target), dtSample, t.lowPassMs);
  const c = t.weight / (t.scale * t.scale * K);
  const lanes = result.lanes;
  const residual = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    const y = lowPassInPlace(traces.series(i, t.observed), dtSample, t.lowPassMs);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      residual[k] = y[k0 + k] - target[k0 + k];
      sum += residual[k] * residual[k];
    }
    value[i] = c * sum;
    const dys = lanes.map((lane, j) => {
      const dy = lowPassInPlace(traces.tangentSeries(i, t.observed, lane.key), dtSample, t.lowPassMs);
      let dot = 0;
      for (let k = 0; k < K; k++) dot += residual[k] * dy[k0 + k];
      gradient[j][i] = 2 * c * dot;
      return dy;
    });
    if (gn) {
      const L = lanes.length, base = i * L * L;
      for (let j = 0; j < L; j++) {
        for (let l = j; l < L; l++) {
          let dot = 0;
          for (let k = k0; k < k1; k++) dot += dys[j][k] * dys[l][k];
          gn[base + j * L + l] += c * dot;
          if (l !== j) gn[base + l * L + j] += c * dot;
        }
      }
    }
  }
}

/**
 * Cost and gradient of every instance of a run, and with `gaussNewton` its JᵀJ (N × L² values).
 * Traces are needed only for trace terms and tapered means.
 */
export function evaluateCosts(result: EnsembleResult, terms: readonly CostTerm[], options: { gaussNewton?: boolean } = {}): CostValues {
  validateTerms(terms);
  const N = result.N, L = result.lanes.length;
  const gn = options.gaussNewton ? new Float64Array(N * L * L) : undefined;
  const out: CostValues = {
    cost: new Float64Array(N),
    gradient: result.lanes.map(() => new Float64Array(N)),
    lanes: result.lanes.map((l) => l.key),
    terms: [],
    ...(gn ? { gaussNewton: gn } : {}),
  };
  for (const t of terms) {
    const value = new Float64Array(N);
    const gradient = result.lanes.map(() => new Float64Array(N));
    if (t.kind === 'mean') addMeanTerm(result, t, value, gradient, gn);
    else addTraceTerm(result, t, value, gradient, gn);
    for (let i = 0; i < N; i++) {
      out.cost[i] += value[i];
      for (let j = 0; j < gradient.length; j++) out.gradient[j][i] += gradient[j][i];
    }
    out.terms.push({ label: t.label, value, gradient });
  }
  return out;
}

/** Table column name of a cost term: 'trace V (low-pass 20 ms)' → 'cost_trace_V_low_pass_20_ms'. */
export function termColumn(label: string): string {
  return `cost_${label.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
}
