/**
 * What every emitter shares: the names of the kernel's local variables, the spelling of leaves,
 * the scheduling of a step program, integer powers, and the f32 series threshold of exprel.
 */
import { EXPREL_SERIES, exprelValue, topoOrder, type Expr } from '../model/expr.ts';
import { tangentIncrementOf, type StepProgram, type TangentForm } from './program.ts';
import { intervals, magnitude } from './ranges.ts';
import { schedule, type Temp } from './schedule.ts';
import { eventSlots, normalSlots, type Layout } from './layout.ts';

/** Below this |x| the f32 backends use the series (truncation < 1e-9; the closed form would lose ~log10(1/|x|) of 7 digits). */
export const F32_SERIES_BELOW = 0.5;

/**
 * Terms of the exprel series Σ x^k/(k+1)! (k < n) that keep its truncation below a quarter of an f32
 * ulp for every |x| ≤ bound; 0 where even the whole series (EXPREL_SERIES) cannot, or the bound is
 * unknown. The tail after n terms is at most bound^n/(n+1)!/(1 − bound/(n+2)), relative to
 * exprel(x) ≥ exprel(−bound).
 */
export function f32SeriesTerms(bound: number): number {
  if (!(bound < 1)) return 0;
  let power = 1, factorial = 1;
  for (let n = 1; n <= EXPREL_SERIES.length; n++) {
    power *= bound;
    factorial *= n + 1;
    if (power / factorial / (1 - bound / (n + 2)) / exprelValue(-bound) <= 2 ** -26) return n;
  }
  return 0;
}

/**
 * For each expm1 and exprel node of a program, the series terms that evaluate it to f32 accuracy
 * over the whole range of its argument (f32SeriesTerms; 0: no bound, use the general form). The gate
 * updates of kinetic models have bounded arguments −dt/τ (ranges.ts).
 */
export function seriesTermsOf(program: StepProgram, form: TangentForm): (node: Expr) => number {
  const { step, observed, init } = programRoots(program, form);
  const bounds = intervals([...step, ...observed, ...init]);
  return (node) => ((node.op === 'expm1' || node.op === 'exprel') ? f32SeriesTerms(magnitude(bounds.get(node.args[0].id) ?? { lo: -Infinity, hi: Infinity })) : 0);
}

/** x^n as a left-to-right product (both backends multiply in the same order). */
export function powiText(x: string, n: number, round: (s: string) => string): string {
  let acc = x;
  for (let k = 1; k < n; k++) acc = round(`${acc} * ${x}`);
  return `(${acc})`;
}

/** Names of the kernel's local variables. */
export const vars = {
  param: (q: number) => `p${q}`,
  state: (k: number) => `s${k}`,
  tangent: (j: number, k: number) => `d${j}_${k}`,
  next: (k: number) => `n${k}`,
  nextTangent: (j: number, k: number) => `nd${j}_${k}`,
};

/**
 * Leaf spelling shared by the emitters: leaves map to the kernel's local variables. A recording is
 * read into `in<k>_<offset>` for the step and `oin<k>_<offset>` for what is evaluated after it (the
 * observed quantities read the state after the step, so their "current" sample is one later).
 */
export function leafNamer(program: StepProgram, timeName: string, inputPrefix: 'in' | 'oin' = 'in'): (node: Expr) => string {
  const inputIndex = new Map(program.inputs.map((name, k) => [name, k]));
  const stateIndex = new Map(program.states.map((s, k) => [s.name, k]));
  const laneIndex = new Map(program.lanes.map((l, j) => [l.key, j]));
  const paramIndex = new Map(program.instanceParams.map((p, q) => [p, q]));
  return (node) => {
    switch (node.op) {
      case 'param': {
        const q = paramIndex.get(node.name);
        if (q === undefined) throw new Error(`parameter ${node.name} is neither folded nor per instance`);
        return vars.param(q);
      }
      case 'state': return vars.state(stateIndex.get(node.name)!);
      case 'tangent': return vars.tangent(laneIndex.get(node.lane)!, stateIndex.get(node.name)!);
      case 'time': return timeName;
      case 'input': return `${inputPrefix}${inputIndex.get(node.name)!}_${node.value}`;
      default: throw new Error(`unexpected leaf ${node.op} '${node.name}'`);
    }
  };
}

/** The expressions one step computes, scheduled: next states and tangents, then observables and spike levels. */
export function scheduleStep(program: StepProgram, form: TangentForm) {
  const roots = programRoots(program, form);
  return { step: schedule(roots.step, ''), observed: schedule(roots.observed, 'o', false), init: schedule(roots.init, 'i', false) };
}

/** The expressions of a program: the step's increments, the observed quantities, the initial values. */
function programRoots(program: StepProgram, form: TangentForm) {
  return {
    step: [...program.next.increment, ...tangentIncrementOf(program, form).flat()],
    observed: [...program.observed.map((o) => o.expr), ...program.observed.flatMap((o) => o.tangent), ...program.spikeSources.map((s) => s.expr)],
    init: [...program.initial.state, ...program.initial.tangent.flat()],
  };
}


/**
 * The step's temporaries split by who reads them: those of the increments or of several lanes
 * (shared), and those only one lane reads, which an emitter can compute right before that lane.
 */
export function tempsByLane(perStep: readonly Temp[], increment: readonly Expr[], tangentIncrement: readonly Expr[][]) {
  const primal = new Set(topoOrder(increment).map((n) => n.id));
  const lanes = tangentIncrement.map((roots) => new Set(topoOrder(roots).map((n) => n.id)));
  const shared: Temp[] = [];
  const perLane: Temp[][] = lanes.map(() => []);
  for (const t of perStep) {
    const readers = primal.has(t.expr.id) ? [] : lanes.flatMap((set, j) => (set.has(t.expr.id) ? [j] : []));
    (readers.length === 1 ? perLane[readers[0]] : shared).push(t);
  }
  return { shared, perLane };
}

/** Prefixes every line of a block of code. */
export const indent = (code: string, pad: string): string => code.split('\n').map((line) => pad + line).join('\n');

/** One line per temporary: `<keyword> name = body;`. */
export function declareTemps(temps: readonly Temp[], body: (e: Expr) => string, indent: string, keyword: string): string {
  return temps.map((t) => `${indent}${keyword} ${t.name} = ${body(t.expr)};`).join('\n');
}

/** Default hysteresis of the maxima detector (mV): far above f32 jitter, far below any oscillation of interest. */
export const DEFAULT_MAXIMA_HYSTERESIS_MV = 0.05;

/** How an emitter spells the pieces of the event code (threshold crossings and voltage maxima). */
export interface EventDialect {
  /** keyword of a mutable local: 'let' (JavaScript) or 'var' (WGSL) */
  mutable: string;
  /** the events array */
  array: string;
  /** index of a fixed slot of this instance */
  at(slot: number): string;
  /** index of ring entry (count mod capacity) starting at slot `first` */
  ring(first: number, count: string, capacity: number): string;
  /**
   * index of this instance's maxima entry (count mod capacity), `offset` into its 2·capacity entries
   * in the region starting at slot `region` (layout.ts maximaEntry: instance-major)
   */
  maximaEntry(region: number, offset: number, count: string, capacity: number): string;
  literal(value: number): string;
  /** time (ms) at the end of the current step, and of the crossing between `before` and `after` */
  timeAfter: string;
  crossingTime(before: string, after: string): string;
}

export interface EventCode {
  init: string;
  load: string;
  /** code for source q given the names holding its level before and after the step */
  step(q: number, before: string, after: string): string;
  store: string;
}

/**
 * Event code shared by the emitters. Spikes: upward crossings of THRESHOLD between two steps, at the
 * linearly interpolated time. Maxima (docs/models.md §8: a point where the slope turns from positive to
 * negative) are found by a peak detector with hysteresis HYSTERESIS: a maximum is confirmed once the
 * level has fallen that far below the running maximum, so rounding jitter on a resting cell never
 * counts as a maximum. The detector starts by looking for a minimum, so the first maximum recorded
 * follows a rise inside the window. A maximum above 0 mV is a spike in Prinz's sense.
 */
export function eventCode(layout: Layout, d: EventDialect): EventCode {
  const slots = eventSlots(layout);
  const Q = layout.spikeSources, K = layout.spikeCapacity, M = layout.maximaCapacity;
  const sources = [...Array(Q).keys()];
  const v = (name: string, q: number) => `${name}${q}`;
  const set = (slot: number, value: string) => `${d.array}[${d.at(slot)}] = ${value};`;
  const zero = d.literal(0), one = d.literal(1);
  const init = sources.flatMap((q) => [
    set(slots.spikeCount(q), zero),
    ...(M > 0
      ? [set(slots.maximaCount(q), zero), set(slots.maximaSpikes(q), zero), set(slots.detectorMode(q), one),
        set(slots.detectorExtreme(q), d.literal(Infinity)), set(slots.detectorTime(q), zero)]
      : []),
  ]);
  const fields = (q: number): [string, number][] => [
    [v('count', q), slots.spikeCount(q)],
    ...(M > 0 ? ([[v('mcount', q), slots.maximaCount(q)], [v('mspikes', q), slots.maximaSpikes(q)], [v('mode', q), slots.detectorMode(q)],
      [v('ext', q), slots.detectorExtreme(q)], [v('extT', q), slots.detectorTime(q)]] as [string, number][]) : []),
  ];
  const load = sources.flatMap((q) => fields(q).map(([name, slot]) => `${d.mutable} ${name} = ${d.array}[${d.at(slot)}];`));
  const store = sources.flatMap((q) => fields(q).map(([name, slot]) => set(slot, name)));
  const step = (q: number, before: string, after: string) => {
    const lines = [
      `if (${before} < THRESHOLD && ${after} >= THRESHOLD) {`,
      `  ${d.array}[${d.ring(slots.spikeRing(q, 0), v('count', q), K)}] = ${d.crossingTime(before, after)};`,
      `  ${v('count', q)} += ${one};`,
      `}`,
    ];
    if (M > 0) {
      const [mode, ext, extT, mcount] = [v('mode', q), v('ext', q), v('extT', q), v('mcount', q)];
      lines.push(
        `if (${mode} == ${zero}) {`,
        `  if (${after} > ${ext}) { ${ext} = ${after}; ${extT} = ${d.timeAfter}; }`,
        `  else if (${after} < ${ext} - HYSTERESIS) {`,
        `    ${d.array}[${d.maximaEntry(slots.maximaRings(q), 0, mcount, M)}] = ${extT};`,
        `    ${d.array}[${d.maximaEntry(slots.maximaRings(q), M, mcount, M)}] = ${ext};`,
        `    ${mcount} += ${one};`,
        `    if (${ext} > ${zero}) { ${v('mspikes', q)} += ${one}; }`,
        `    ${mode} = ${one}; ${ext} = ${after}; ${extT} = ${d.timeAfter};`,
        `  }`,
        `} else {`,
        `  if (${after} < ${ext}) { ${ext} = ${after}; ${extT} = ${d.timeAfter}; }`,
        `  else if (${after} > ${ext} + HYSTERESIS) { ${mode} = ${zero}; ${ext} = ${after}; ${extT} = ${d.timeAfter}; }`,
        `}`,
      );
    }
    return lines.join('\n');
  };
  return { init: init.join('\n'), load: load.join('\n'), step, store: store.join('\n') };
}

/**
 * A state is diverged once it is NaN, ±Inf, or at least this large in magnitude. Far above any value
 * a state of a neuron model takes (mV, µM, gate fractions), yet 29 orders of magnitude below f32's
 * overflow (3.4e38): an unstable run grows through it a few steps before it overflows, so the f32 and
 * f64 engines call the same runs diverged at about the same time, instead of f64 carrying a huge but
 * finite V for hundreds of steps after f32 has reached Inf. Exact in f32 (1953125·2^9).
 */
export const DIVERGED_ABOVE = 1e9;

/**
 * The states the kernels test every step: few enough to cost almost nothing, chosen so that every
 * state reaches one of them through the step's dependencies (state j reads state k when j's
 * increment reads k). A NaN or Inf in any state then reaches a watched state within as many steps
 * as that path is long (one for gates, which V's update reads; conductance models are one strongly
 * connected graph, so a single state is watched). Every spike source's state is watched (one V per
 * cell of a network), then any state not yet covered, in state order (frozen states excepted).
 */
export function watchedStates(program: StepProgram): number[] {
  const S = program.states.length;
  const index = new Map(program.states.map((s, k) => [s.name, k]));
  // readers[k]: the states whose increment reads state k
  const readers: number[][] = program.states.map(() => []);
  program.next.increment.forEach((root, j) => {
    for (const node of topoOrder([root])) {
      if (node.op === 'state') {
        const k = index.get(node.name);
        if (k !== undefined && k !== j) readers[k].push(j);
      }
    }
  });
  const sourceStates = new Set<number>();
  for (const s of program.spikeSources) for (const node of topoOrder([s.expr])) if (node.op === 'state' && index.has(node.name)) sourceStates.add(index.get(node.name)!);
  // a frozen state (compile.ts, skipUnreadStates) never changes, so it cannot diverge
  const frozen = new Set(program.frozen ?? []);
  const order = [...sourceStates, ...[...Array(S).keys()].filter((k) => !sourceStates.has(k) && !frozen.has(k))];
  // reaches[w]: the states with a path to w (found by walking backwards from w)
  const writers: number[][] = program.states.map(() => []);
  readers.forEach((rs, k) => rs.forEach((j) => writers[j].push(k)));
  const covered = new Set<number>();
  const watched: number[] = [];
  // every spike source's state is watched (in a network, each cell's V: a divergence is then
  // named in the cell where it began, not in the cell a synapse carries it to a step later); a
  // state none of whose downstream states is watched must be watched itself
  for (const w of order) {
    if (covered.has(w) && !sourceStates.has(w)) continue;
    watched.push(w);
    const stack = [w];
    while (stack.length) {
      const k = stack.pop()!;
      if (covered.has(k)) continue;
      covered.add(k);
      stack.push(...writers[k]);
    }
  }
  return watched.sort((a, b) => a - b);
}

/** How an emitter spells the divergence record (see divergenceCode). */
export interface DivergenceDialect {
  /** the events array and the index of a fixed slot of this instance */
  array: string;
  at(slot: number): string;
  /** true when state value `x` is out of range (NaN, ±Inf or |x| ≥ DIVERGED_ABOVE), for one state and for several */
  outOfRange(x: string): string;
  anyOutOfRange(xs: string[]): string;
  /**
   * the statement run after every step: when `found` is false and `test` is true, set
   * `divergedSteps` to the steps completed and each capture name to its value (branch-free on the GPU)
   */
  capture(test: string, captures: [name: string, value: string][]): string;
  /** declarations of the locals `divergedSteps` (an integer, 0: not found) and of the captures (floats, 0) */
  declare(captures: string[]): string;
  /** true when `divergedSteps` was set */
  found: string;
  /** the high (÷ 65,536) and low halves of the integer `steps`, each as an exact float */
  high(steps: string): string;
  low(steps: string): string;
  literal(value: number): string;
  /** keyword of a mutable local */
  mutable: string;
}

/**
 * The divergence record, shared by the emitters so that they record the same thing (layout.ts,
 * eventSlots). After every step the watched states (watchedStates) are tested and, the first time one
 * is out of range, the steps completed and the watched states' values are captured: on the GPU with
 * selects, no branch. Cost on lavapipe (prinz, N = 16,384, process CPU time, medians of 21 interleaved
 * runs on a loaded 2-core host): selects +1.4 % (+1.8 % in two other sessions), a branch recording in
 * the loop +1.2 % (mean +2.6 %), ending the loop there (break, non-uniform loop exit) +11 %. After the time loop the
 * record is written once: the first watched state out of range then, its value, and the steps
 * completed. A diverged instance is frozen from the next call on (`skip`, tested once per call), so
 * its record does not depend on where dispatches, chunks or batches begin and end; its counts and
 * events between the step found and the end of that call do, and mean nothing (features.ts zeroes them).
 * `init` tests every state once after initialisation (steps completed: 0; blamed: the first out of range).
 */
export function divergenceCode(program: StepProgram, layout: Layout, d: DivergenceDialect) {
  const slots = eventSlots(layout);
  const S = layout.states;
  const all = [...Array(S).keys()];
  const watched = watchedStates(program);
  const zero = d.literal(0);
  const capture = (k: number) => `divergedAt${k}`;
  const record = (order: number[], stateText: (k: number) => string, high: string, low: string) => [
    `${d.mutable} blame = ${zero};`,
    `${d.mutable} blamed = ${zero};`,
    ...order.map((k) => `if (blame == ${zero} && ${d.outOfRange(stateText(k))}) { blame = ${d.literal(k + 1)}; blamed = ${stateText(k)}; }`),
    `${d.array}[${d.at(slots.divergedState)}] = blame;`,
    `${d.array}[${d.at(slots.divergedStepsHigh)}] = ${high};`,
    `${d.array}[${d.at(slots.divergedStepsLow)}] = ${low};`,
    `${d.array}[${d.at(slots.divergedValue)}] = blamed;`,
  ];
  const guarded = (test: string, body: string[]) => [`if (${test}) {`, ...body.map((line) => `  ${line}`), '}'].join('\n');
  return {
    watched,
    /** after initialisation; `stateText(k)` reads state k's initial value */
    init: (stateText: (k: number) => string) => [
      ...[slots.divergedState, slots.divergedStepsHigh, slots.divergedStepsLow, slots.divergedValue].map((slot) => `${d.array}[${d.at(slot)}] = ${zero};`),
      guarded(d.anyOutOfRange(all.map(stateText)), record(all, stateText, zero, zero)),
    ].join('\n'),
    /** true for an instance already diverged: the run skips it */
    skip: `${d.array}[${d.at(slots.divergedState)}] != ${zero}`,
    /** before the time loop */
    declare: d.declare(watched.map(capture)),
    /** in the time loop, after the states are updated */
    step: d.capture(d.anyOutOfRange(watched.map(vars.state)), watched.map((k) => [capture(k), vars.state(k)])),
    /** after the time loop */
    record: guarded(d.found, record(watched, capture, d.high('divergedSteps'), d.low('divergedSteps'))),
  };
}

/** How an emitter spells the input reads and the normal-equation accumulation (teacher forcing). */
export interface ForcingDialect {
  mutable: string;
  literal(value: number): string;
  /** per input: one row per instance (true) or one shared row (engine/inputs.ts, InputLayout) */
  perInstance: readonly boolean[];
  /** the number of instances in the buffers (the rows of a per-instance input) */
  instances: string;
  /** the inputs array */
  inputs: string;
  /** a sample offset as an index literal */
  literalIndex(value: number): string;
  /** x += v into the normal-equation local `name` (compensated where the target needs it) */
  add(name: string, value: string): string;
  /** the step index in the time loop */
  step: string;
  /** states and tangents carry Kahan compensations c<k> and c<j>_<k> */
  compensated: boolean;
}

/**
 * Input reads and normal equations, shared by the emitters. Inputs: each step reads its current and
 * next sample into locals (for the step) and the next two (for what is evaluated after the step;
 * the buffers hold two samples past the last step). Normal equations: at the end of every window of
 * WINDOW steps after WINDOW_START (the end of the discard), each residual state r and its tangents
 * d_j r are added as rᵀr, Jᵀr and JᵀJ and cleared; while not accumulating they are kept at 0, so a
 * window holds exactly its own steps' residuals.
 */
export function forcingCode(program: StepProgram, layout: Layout, d: ForcingDialect) {
  const inputs = program.inputs.map((_, k) => k);
  const constant = d.mutable === 'var' ? 'let' : 'const';
  // input k's rows start at inBase<k> (IN_STRIDE samples each); instance i reads row i of a per-instance input
  const index = (k: number, sample: string) => `inBase${k} + ${d.perInstance[k] ? 'i * IN_STRIDE + ' : ''}${sample}`;
  const reads = (prefix: string, step: string, first: number) =>
    inputs.flatMap((k) => [0, 1].map((o) => `${constant} ${prefix}${k}_${o} = ${d.inputs}[${index(k, `${step} + ${d.literalIndex(first + o)}`)}];`)).join('\n');
  const bases = inputs.map((k) => `${constant} inBase${k} = ${k === 0 ? d.literalIndex(0) : `inBase${k - 1} + ${d.perInstance[k - 1] ? d.instances : d.literalIndex(1)} * IN_STRIDE`};`).join('\n');
  const L = layout.lanes;
  const residuals = program.residuals;
  const penalties = program.noisePenalties;
  const slots = normalSlots(L, penalties.length > 0);
  const ne = (slot: number) => `ne${slot}`;
  const lanes = [...Array(L).keys()];
  const accumulateWindow = residuals.flatMap((r) => [
    d.add(ne(slots.rr), `${vars.state(r)} * ${vars.state(r)}`),
    ...lanes.map((j) => d.add(ne(slots.jr(j)), `${vars.tangent(j, r)} * ${vars.state(r)}`)),
    ...lanes.flatMap((j) => lanes.filter((k) => k >= j).map((k) => d.add(ne(slots.jj(j, k)), `${vars.tangent(j, r)} * ${vars.tangent(k, r)}`))),
  ]).concat(penalties.flatMap(({ penalty: p, carry: c }) => [
    d.add(ne(slots.noise), `${vars.state(p)} + ${vars.state(c)} * ${vars.state(c)}`),
    ...lanes.map((j) => d.add(ne(slots.jnoise(j)), `${vars.tangent(j, p)} + ${d.literal(2)} * ${vars.state(c)} * ${vars.tangent(j, c)}`)),
  ]));
  const zero = d.literal(0);
  const clear = [...residuals, ...penalties.flatMap(({ penalty, carry }) => [penalty, carry])].flatMap((r) => [
    `${vars.state(r)} = ${zero};${d.compensated ? ` c${r} = ${zero};` : ''}`,
    ...lanes.map((j) => `${vars.tangent(j, r)} = ${zero};${d.compensated ? ` c${j}_${r} = ${zero};` : ''}`),
  ]);
  return {
    /** where each input's rows begin, declared once per entry point before the reads */
    bases,
    /** reads for the step (`in…`) and for what is evaluated after it (`oin…`); initReads: at step 0 */
    stepReads: reads('in', d.step, 0),
    observedReads: reads('oin', d.step, 1),
    initReads: reads('in', d.literalIndex(0), 0),
    hasResiduals: residuals.length > 0,
    normalLocals: [...Array(layout.normal).keys()].map(ne),
    /** after the states are updated, in the time loop; `accumulate` and `untilWindow` are locals */
    step: residuals.length
      ? [
        'if (accumulate) {',
        '  if (untilWindow == 0) {',
        ...accumulateWindow.map((line) => `    ${line}`),
        ...clear.map((line) => `    ${line}`),
        '    untilWindow = WINDOW - 1;',
        '  } else { untilWindow = untilWindow - 1; }',
        '} else {',
        ...clear.map((line) => `  ${line}`),
        '}',
      ].join('\n')
      : '',
  };
}
