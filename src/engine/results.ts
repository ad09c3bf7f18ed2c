/**
 * Turns engine buffers into an EnsembleResult: means from sums, spike rings into time lists, trace
 * rows into series. Engines hand over their per-group buffers in the shared layout (layout.ts).
 */
import { InputError } from '../errors.ts';
import { checkMemory, ensembleBytes } from '../limits.ts';
import { eventSlots, maximaEntry, normalSlots, observedTangentSlot, type Layout } from '../compile/layout.ts';
import type { NormalEquations } from './inputs.ts';
import type { DivergenceResult, EnsembleResult, EnsembleSpec, InstanceStatus, MaximaResult, MaximaRings, SpikeResult, TraceResult } from './ensemble.ts';
import type { RunPlan } from './plan.ts';

/** The buffers of one contiguous group of instances [start, start + n), f64 on the host. */
export interface GroupBuffers {
  start: number;
  n: number;
  buffers: {
    obsSum: ArrayLike<number>;
    obsMin: ArrayLike<number>;
    obsMax: ArrayLike<number>;
    obsTanSum: ArrayLike<number>;
    /** layout.ts, eventSlots */
    events: ArrayLike<number>;
    traceRow: ArrayLike<number>;
    /** [row][sample][observed] for this group's traced instances, rows in instance order */
    trace: ArrayLike<number>;
    /** normal equations, [slot][n] (layout.ts, normalSlots); absent without residuals */
    normal?: ArrayLike<number>;
  };
}

/** Spike times kept per instance by default: 64, fewer for huge ensembles (N × capacity ≤ 2^24, at least 8). */
export function defaultSpikeCapacity(N: number): number {
  return Math.max(8, Math.min(64, Math.floor(2 ** 24 / N)));
}

/** Checks the parts of a spec every engine shares; returns the spike capacity to use. */
export function validateEnsembleSpec(spec: EnsembleSpec, plan: RunPlan): number {
  if (!Number.isInteger(spec.N) || spec.N < 1) throw new InputError(`N must be an integer ≥ 1, got ${spec.N}`);
  const capacity = spec.spikeCapacity ?? defaultSpikeCapacity(spec.N);
  if (!Number.isInteger(capacity) || capacity < 1) throw new InputError(`spikeCapacity must be an integer ≥ 1, got ${capacity}`);
  const maxima = spec.maximaCapacity ?? 0;
  if (!Number.isInteger(maxima) || maxima < 0 || maxima > 65536) throw new InputError(`maximaCapacity must be an integer in [0, 65536], got ${maxima}`);
  const hysteresis = spec.maximaHysteresisMv;
  if (hysteresis !== undefined && (!Number.isFinite(hysteresis) || hysteresis <= 0)) throw new InputError(`maximaHysteresisMv must be a finite number > 0 (mV), got ${hysteresis}`);
  if (spec.spikeThresholdMv !== undefined && !Number.isFinite(spec.spikeThresholdMv)) {
    throw new InputError(`spikeThresholdMv must be a finite number (mV), got ${spec.spikeThresholdMv}`);
  }
  const traced = spec.traceInstances ?? [];
  if (traced.length > 0 && plan.traceEvery === 0) throw new InputError('traceInstances needs traceEveryMs');
  const seen = new Set<number>();
  for (const i of traced) {
    if (!Number.isInteger(i) || i < 0 || i >= spec.N) throw new InputError(`traceInstances: ${i} is not an instance index in [0, ${spec.N - 1}]`);
    if (seen.has(i)) throw new InputError(`traceInstances: ${i} is listed twice`);
    seen.add(i);
  }
  // before any buffer: a run that cannot fit is refused with its estimate (limits.ts)
  const { program } = spec;
  checkMemory(`an ensemble run of ${spec.N} instances`, ensembleBytes({
    N: spec.N, states: program.states.length, lanes: program.lanes.length, observed: program.observed.length,
    spikeSources: program.spikeSources.length, spikeCapacity: capacity, maximaCapacity: maxima,
    tracedInstances: traced.length, traceSamples: plan.traceSamples, traceTangents: Boolean(spec.traceTangents),
  }), 'run fewer instances at once (chunkSize, grid counts, starts), fewer traced instances or samples (a larger trace spacing), or fewer maxima');
  return capacity;
}

/** A slot range of an events buffer without copying (typed arrays), or as a copy (plain arrays). */
function subarrayOf(events: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  const typed = events as Float32Array | Float64Array;
  return typeof typed.subarray === 'function' ? typed.subarray(from, to) : Array.prototype.slice.call(events, from, to);
}

/** Of a ring of `capacity` entries that `count` values went into: how many are kept, and the slot of the oldest. */
function ringWindow(count: number, capacity: number): { kept: number; first: number } {
  return { kept: Math.min(count, capacity), first: count > capacity ? count % capacity : 0 };
}

/** A MaximaResult over rings, read in place (instances in any order; in order is cache-friendly). */
export function maximaView(rings: MaximaRings): MaximaResult {
  const { capacity: M, count, groups } = rings;
  let g = groups[0];
  const groupOf = (i: number) => {
    if (i < g.start || i >= g.start + g.n) g = groups.find((x) => i >= x.start && i < x.start + x.n)!;
    return g;
  };
  return {
    name: rings.name,
    count,
    spikeCount: rings.spikeCount,
    capacity: M,
    rings,
    of(i: number) {
      const { start, block } = groupOf(i);
      const local = i - start;
      const { kept, first } = ringWindow(count[i], M);
      const timesMs = new Array<number>(kept), valuesMv = new Array<number>(kept);
      for (let e = 0; e < kept; e++) {
        const at = maximaEntry(local, (first + e) % M, M);
        timesMs[e] = block[at];
        valuesMv[e] = block[at + M];
      }
      return { timesMs, valuesMv };
    },
    truncated: (i: number) => count[i] > M,
  };
}

export interface AssembleInput {
  spec: EnsembleSpec;
  plan: RunPlan;
  layout: Layout;
  engine: EnsembleResult['engine'];
  device: string;
  precision: EnsembleResult['precision'];
  wallMs: number;
  groups: GroupBuffers[];
  traceTimesMs: Float64Array;
}

/**
 * The divergence records of every group (layout.ts, eventSlots): the state blamed, the steps
 * completed when it was found (two exact halves), and its value.
 */
function divergenceOf(input: AssembleInput): DivergenceResult {
  const { spec, plan, layout, groups } = input;
  const N = spec.N;
  const slots = eventSlots(layout);
  const state = new Int32Array(N).fill(-1), timeMs = new Float64Array(N).fill(NaN), value = new Float64Array(N).fill(NaN);
  let count = 0;
  for (const g of groups) {
    const ev = g.buffers.events;
    for (let i = 0; i < g.n; i++) {
      const blamed = ev[slots.divergedState * g.n + i];
      if (blamed === 0) continue;
      const steps = ev[slots.divergedStepsHigh * g.n + i] * 65536 + ev[slots.divergedStepsLow * g.n + i];
      state[g.start + i] = blamed - 1;
      timeMs[g.start + i] = steps * plan.dtMs;
      value[g.start + i] = ev[slots.divergedValue * g.n + i];
      count++;
    }
  }
  return { count, state, stateNames: spec.program.states.map((s) => s.name), timeMs, value };
}

/** Instance i's status. */
export function statusOf(divergence: Pick<DivergenceResult, 'state'>, i: number): InstanceStatus {
  return divergence.state[i] >= 0 ? 'diverged' : 'ok';
}

/** One phrase saying how instance i diverged, e.g. "V = NaN at t = 12.5 ms"; undefined when it did not. */
export function describeDivergence(divergence: Pick<DivergenceResult, 'state' | 'stateNames' | 'timeMs' | 'value'>, i: number): string | undefined {
  const k = divergence.state[i];
  if (k < 0) return undefined;
  const v = divergence.value[i];
  const value = Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? v.toPrecision(3) : v > 0 ? '+Inf' : '-Inf';
  const t = divergence.timeMs[i];
  return `${divergence.stateNames[k]} = ${value} at t = ${Number(t.toPrecision(12))} ms`;
}

/** The groups' normal equations as per-instance arrays, or undefined without residuals (diverged instances: NaN). */
function normalOf(input: AssembleInput, divergence: DivergenceResult): NormalEquations | undefined {
  const { spec, plan, layout, groups } = input;
  if (!layout.normal) return undefined;
  const N = spec.N, L = layout.lanes;
  const penalised = spec.program.noisePenalties.length > 0;
  const slots = normalSlots(L, penalised);
  const rr = new Float64Array(N), jr = new Float64Array(N * L), jj = new Float64Array(N * L * L);
  const noise = penalised ? new Float64Array(N) : undefined, jnoise = penalised ? new Float64Array(N * L) : undefined;
  for (const g of groups) {
    const b = g.buffers.normal!;
    for (let i = 0; i < g.n; i++) {
      const I = g.start + i;
      const nan = divergence.state[I] >= 0;
      const at = (slot: number) => (nan ? NaN : b[slot * g.n + i]);
      rr[I] = at(slots.rr);
      if (noise) noise[I] = at(slots.noise);
      for (let j = 0; j < L; j++) {
        if (jnoise) jnoise[I * L + j] = at(slots.jnoise(j));
        jr[I * L + j] = at(slots.jr(j));
        for (let k = 0; k < L; k++) jj[(I * L + j) * L + k] = at(slots.jj(j, k));
      }
    }
  }
  const windowSteps = Math.round((spec.windowMs ?? plan.dtMs) / plan.dtMs);
  const rows = ((plan.totalSteps - plan.discardSteps) / windowSteps) * spec.program.residuals.length;
  return { rows, lanes: L, rr, jr, jj, ...(noise ? { noise, jnoise } : {}) };
}

export function assembleResult(input: AssembleInput): EnsembleResult {
  const { spec, plan, layout, groups } = input;
  const { program, N } = spec;
  const samples = plan.totalSteps - plan.discardSteps;
  const K = layout.spikeCapacity;
  const divergence = divergenceOf(input);

  const observed = program.observed.map((o, oi) => {
    const mean = new Float64Array(N), min = new Float64Array(N), max = new Float64Array(N);
    const meanTangent = program.lanes.map(() => new Float64Array(N));
    for (const g of groups) {
      const b = g.buffers;
      for (let i = 0; i < g.n; i++) {
        mean[g.start + i] = b.obsSum[oi * g.n + i] / samples;
        min[g.start + i] = b.obsMin[oi * g.n + i];
        max[g.start + i] = b.obsMax[oi * g.n + i];
        program.lanes.forEach((_, j) => {
          meanTangent[j][g.start + i] = b.obsTanSum[observedTangentSlot(layout, oi, j) * g.n + i] / samples;
        });
      }
    }
    // a diverged instance's averages and extremes mix values from before and after (and f32 min/max
    // of NaN are undefined in WGSL): none of them is a result
    if (divergence.count > 0) {
      for (let i = 0; i < N; i++) {
        if (divergence.state[i] < 0) continue;
        mean[i] = min[i] = max[i] = NaN;
        for (const t of meanTangent) t[i] = NaN;
      }
    }
    return { name: o.name, unit: o.unit, kind: o.kind, mean, min, max, meanTangent };
  });

  const slots = eventSlots(layout);
  /** Gathers one slot-range of every group into an instance-major array: out[i·width + e]. */
  const gather = (width: number, slotOf: (e: number) => number) => {
    const out = new Float64Array(N * width);
    for (const g of groups) {
      for (let e = 0; e < width; e++) {
        const base = slotOf(e) * g.n;
        for (let i = 0; i < g.n; i++) out[(g.start + i) * width + e] = g.buffers.events[base + i];
      }
    }
    return out;
  };
  /** The kept entries of a ring, oldest first. */
  const ringOf = (ring: Float64Array, capacity: number, count: number, i: number) => {
    const { kept, first } = ringWindow(count, capacity);
    const out: number[] = [];
    for (let e = 0; e < kept; e++) out.push(ring[i * capacity + ((first + e) % capacity)]);
    return out;
  };

  const spikes: SpikeResult[] = program.spikeSources.map((s, q) => {
    const count = gather(1, () => slots.spikeCount(q));
    const ring = gather(K, (e) => slots.spikeRing(q, e));
    return {
      name: s.name,
      count,
      capacity: K,
      timesOf: (i: number) => ringOf(ring, K, count[i], i),
      truncated: (i: number) => count[i] > K,
    };
  });

  const M = layout.maximaCapacity;
  // maxima are read in place from each group's events buffer (instance-major there, layout.ts maximaEntry)
  const maxima: MaximaResult[] | undefined = M > 0
    ? program.spikeSources.map((s, q) => maximaView({
      name: s.name,
      capacity: M,
      count: gather(1, () => slots.maximaCount(q)),
      spikeCount: gather(1, () => slots.maximaSpikes(q)),
      groups: groups.map((g) => ({
        start: g.start,
        n: g.n,
        block: subarrayOf(g.buffers.events, slots.maximaRings(q) * g.n, (slots.maximaRings(q) + 2 * M) * g.n),
      })),
    }))
    : undefined;

  let traces: TraceResult | undefined;
  const traced = spec.traceInstances ?? [];
  if (traced.length > 0) {
    const W = layout.traceWidth, S = plan.traceSamples, O = layout.observed;
    const values = new Float64Array(traced.length * S * W);
    traced.forEach((instance, row) => {
      const g = groups.find((grp) => instance >= grp.start && instance < grp.start + grp.n)!;
      const groupRow = g.buffers.traceRow[instance - g.start];
      for (let k = 0; k < S * W; k++) values[row * S * W + k] = g.buffers.trace[groupRow * S * W + k];
      // a diverged instance is frozen once found (kernel-common.ts, divergenceCode): its samples from
      // then on are not values of the run
      const from = divergence.timeMs[instance];
      for (let k = 0; k < S; k++) if (input.traceTimesMs[k] >= from) values.fill(NaN, (row * S + k) * W, (row * S + k + 1) * W);
    });
    const observedNames = program.observed.map((o) => o.name);
    const column = (row: number, offset: number) => {
      const out = new Float64Array(S);
      for (let k = 0; k < S; k++) out[k] = values[(row * S + k) * W + offset];
      return out;
    };
    const observedIndex = (name: string) => {
      const o = observedNames.indexOf(name);
      if (o < 0) throw new InputError(`no traced quantity '${name}'; traced: ${observedNames.join(', ')}`);
      return o;
    };
    traces = {
      instances: [...traced],
      timesMs: input.traceTimesMs,
      observedNames,
      values,
      width: W,
      series: (row: number, name: string) => column(row, observedIndex(name)),
      tangentSeries(row: number, name: string, laneKey: string) {
        if (W === O) throw new InputError('traces carry no tangents: run with traceTangents');
        const j = program.lanes.findIndex((l) => l.key === laneKey);
        if (j < 0) throw new InputError(`no tangent lane '${laneKey}'; lanes: ${program.lanes.map((l) => l.key).join(', ') || '(none)'}`);
        return column(row, O + observedTangentSlot(layout, observedIndex(name), j));
      },
    };
  }

  return {
    engine: input.engine,
    device: input.device,
    precision: input.precision,
    N,
    dtMs: plan.dtMs,
    durationMs: plan.totalSteps * plan.dtMs,
    discardMs: plan.discardSteps * plan.dtMs,
    samples,
    lanes: program.lanes,
    observed,
    spikes,
    maxima,
    traces,
    divergence,
    normal: normalOf(input, divergence),
    wallMs: input.wallMs,
  };
}
