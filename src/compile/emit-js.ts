/**
 * JavaScript emitter: writes a StepProgram as two plain functions, an initialiser and a kernel that
 * runs a range of instances for a range of steps with every state and tangent in local variables and
 * the observables accumulated on the fly. f64 by default; `precision: 'f32'` rounds every operation
 * to single precision (Math.fround) to mirror the GPU for parity checks.
 *
 * The emitter knows nothing of channels or neurons: only states, tangents, parameters and the
 * buffer layout.
 */
import { EXPREL_PRIME_SERIES, EXPREL_SERIES, EXPREL_SERIES_BELOW_F64, type Expr } from '../model/expr.ts';
import { layoutOf, observedTangentSlot, spikeSlot, tangentSlot, type Layout } from './layout.ts';
import { makePrinter, type Spelling } from './print.ts';
import type { StepProgram } from './program.ts';
import { schedule, type Schedule } from './schedule.ts';

export type Precision = 'f64' | 'f32';

export interface JsKernelOptions {
  precision?: Precision;
  /** spike times kept per instance and source */
  spikeCapacity: number;
  /** upward crossings of this level (mV) are spikes */
  spikeThresholdMv?: number;
}

/** Typed arrays the kernel reads and writes; sizes follow `bufferSlots(layout)` × N. */
export interface KernelBuffers {
  state: Float64Array | Float32Array;
  tangent: Float64Array | Float32Array;
  params: Float64Array | Float32Array;
  obsSum: Float64Array;
  obsMin: Float64Array;
  obsMax: Float64Array;
  obsTanSum: Float64Array;
  spikeCount: Float64Array;
  spikeTimes: Float64Array;
  /** per instance: its row in `trace`, or −1 */
  traceRow: Int32Array;
  /** [row][sample][observed] for the samples of the current chunk */
  trace: Float64Array;
}

export interface ChunkArgs {
  N: number;
  i0: number;
  i1: number;
  stepStart: number;
  nSteps: number;
  /** accumulate observables and record spikes during this chunk (false while discarding) */
  accumulate: boolean;
  /** record a trace sample every `traceEvery` steps (0: never) */
  traceEvery: number;
  /** global index of the first sample stored in this chunk's trace buffer */
  traceFirstSample: number;
  /** samples per trace row in the trace buffer */
  traceSamplesPerRow: number;
}

export interface JsKernelSource {
  layout: Layout;
  precision: Precision;
  /** source of a function body returning { init(b, N, i0, i1), run(b, args) } */
  source: string;
}

const f32Series = (coeffs: readonly number[]) => coeffs.map((c) => Math.fround(c));

/** exprel and its derivative for the generated code: f64 uses expm1 and a short series near 0. */
function specialFunctions(precision: Precision): string {
  if (precision === 'f64') {
    const horner = (c: readonly number[]) => c.slice().reverse().reduce((acc, k, i) => (i === 0 ? String(k) : `${k} + x * (${acc})`), '');
    return `
const exprel = (x) => (Math.abs(x) < ${EXPREL_SERIES_BELOW_F64} ? ${horner(EXPREL_SERIES)} : Math.expm1(x) / x);
const exprelPrime = (x) => {
  if (Math.abs(x) < ${EXPREL_SERIES_BELOW_F64}) return ${horner(EXPREL_PRIME_SERIES)};
  const e = Math.expm1(x);
  return (x * e + x - e) / (x * x);
};`;
  }
  // the same formulas as the WGSL backend, every operation rounded to f32
  const horner = (c: readonly number[]) => c.slice().reverse().reduce((acc, k, i) => (i === 0 ? String(k) : `F(${k} + F(x * ${acc}))`), '');
  return `
const F = Math.fround;
const exprel = (x) => (Math.abs(x) < ${F32_SERIES_BELOW} ? ${horner(f32Series(EXPREL_SERIES))} : F(F(F(Math.exp(x)) - 1) / x));
const exprelPrime = (x) => {
  if (Math.abs(x) < ${F32_SERIES_BELOW}) return ${horner(f32Series(EXPREL_PRIME_SERIES))};
  const e = F(Math.exp(x));
  return F(F(F(F(x * e) - e) + 1) / F(x * x));
};`;
}

/** Below this |x| the f32 backends use the series (truncation < 1e-9; the closed form would lose ~log10(1/|x|) of 7 digits). */
export const F32_SERIES_BELOW = 0.5;

function jsSpelling(precision: Precision, leaf: (node: Expr) => string): Spelling {
  const r = precision === 'f32' ? (s: string) => `F(${s})` : (s: string) => `(${s})`;
  const fn = precision === 'f32' ? (s: string) => `F(${s})` : (s: string) => s;
  return {
    literal(v) {
      const x = precision === 'f32' ? Math.fround(v) : v;
      return x < 0 || Object.is(x, -0) ? `(${x})` : String(x);
    },
    leaf,
    op(node, a) {
      switch (node.op) {
        case 'add': return r(`${a[0]} + ${a[1]}`);
        case 'sub': return r(`${a[0]} - ${a[1]}`);
        case 'mul': return r(`${a[0]} * ${a[1]}`);
        case 'div': return r(`${a[0]} / ${a[1]}`);
        case 'neg': return `(-${a[0]})`;
        case 'exp': return fn(`Math.exp(${a[0]})`);
        case 'log': return fn(`Math.log(${a[0]})`);
        case 'sqrt': return fn(`Math.sqrt(${a[0]})`);
        case 'abs': return `Math.abs(${a[0]})`;
        case 'tanh': return fn(`Math.tanh(${a[0]})`);
        case 'powi': return powiText(a[0], node.value, r);
        case 'exprel': return `exprel(${a[0]})`;
        case 'exprelPrime': return `exprelPrime(${a[0]})`;
        case 'min': return `Math.min(${a[0]}, ${a[1]})`;
        case 'max': return `Math.max(${a[0]}, ${a[1]})`;
        case 'lt': return `(${a[0]} < ${a[1]} ? 1 : 0)`;
        case 'le': return `(${a[0]} <= ${a[1]} ? 1 : 0)`;
        case 'and': return `(${a[0]} !== 0 && ${a[1]} !== 0 ? 1 : 0)`;
        case 'select': return `(${a[0]} !== 0 ? ${a[1]} : ${a[2]})`;
        default: throw new Error(`JavaScript emitter: no spelling for ${node.op}`);
      }
    },
  };
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

/** Leaf spelling shared by the emitters: leaves map to the kernel's local variables. */
export function leafNamer(program: StepProgram, timeName: string): (node: Expr) => string {
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
      default: throw new Error(`unexpected leaf ${node.op} '${node.name}'`);
    }
  };
}

/** The expressions one step computes, scheduled: next states and tangents, then observables and spike levels. */
export function scheduleStep(program: StepProgram) {
  const nextRoots = [...program.next.state, ...program.next.tangent.flat()];
  const step = schedule(nextRoots, '');
  const observedRoots = [...program.observed.map((o) => o.expr), ...program.observed.flatMap((o) => o.tangent), ...program.spikeSources.map((s) => s.expr)];
  const observed = schedule(observedRoots, 'o', false);
  const initRoots = [...program.initial.state, ...program.initial.tangent.flat()];
  const init = schedule(initRoots, 'i', false);
  return { step, observed, init };
}

const lines = (temps: Schedule['perStep'], body: (e: Expr) => string, indent: string) =>
  temps.map((t) => `${indent}const ${t.name} = ${body(t.expr)};`).join('\n');

/** Emits the JavaScript kernel for a program. */
export function emitJs(program: StepProgram, options: JsKernelOptions): JsKernelSource {
  const precision = options.precision ?? 'f64';
  const layout = layoutOf(program, options.spikeCapacity);
  const threshold = options.spikeThresholdMv ?? 0;
  const { step, observed, init } = scheduleStep(program);
  const spelling = jsSpelling(precision, leafNamer(program, 't'));
  const stepPrinter = makePrinter(spelling, [step]);
  const obsPrinter = makePrinter(spelling, [observed]);
  const initPrinter = makePrinter(spelling, [init]);
  const S = layout.states, L = layout.lanes, O = layout.observed, K = layout.spikeCapacity;
  const lanes = [...Array(L).keys()];
  const states = [...Array(S).keys()];
  const at = (slot: number) => (slot === 0 ? 'i' : `${slot} * N + i`);
  const round = precision === 'f32' ? (s: string) => `F(${s})` : (s: string) => s;

  const loadParams = program.instanceParams.map((_, q) => `    const ${vars.param(q)} = pr[${at(q)}];`).join('\n');

  const initBody = [
    lines(init.perStep, initPrinter.body, '    '),
    ...states.map((k) => `    st[${at(k)}] = ${initPrinter.text(program.initial.state[k])};`),
    ...lanes.flatMap((j) => states.map((k) => `    tg[${at(tangentSlot(layout, j, k))}] = ${initPrinter.text(program.initial.tangent[j][k])};`)),
  ].join('\n');

  const obsValue = (o: number) => obsPrinter.text(program.observed[o].expr);
  const obsTangent = (o: number, j: number) => obsPrinter.text(program.observed[o].tangent[j]);
  const spikeLevel = (q: number) => obsPrinter.text(program.spikeSources[q].expr);

  const stepBody = `
    const t = ${round('n * DT')};
${program.spikeSources.map((_, q) => `    const before${q} = ${spikeLevelOld(q)};`).join('\n')}
${lines(step.perStep, stepPrinter.body, '    ')}
${states.map((k) => `    const ${vars.next(k)} = ${stepPrinter.text(program.next.state[k])};`).join('\n')}
${lanes.flatMap((j) => states.map((k) => `    const ${vars.nextTangent(j, k)} = ${stepPrinter.text(program.next.tangent[j][k])};`)).join('\n')}
${states.map((k) => `    ${vars.state(k)} = ${vars.next(k)};`).join('\n')}
${lanes.flatMap((j) => states.map((k) => `    ${vars.tangent(j, k)} = ${vars.nextTangent(j, k)};`)).join('\n')}
    if (accumulate) {
${lines(observed.perStep, obsPrinter.body, '      ')}
${program.observed.map((_, o) => `      { const v = ${obsValue(o)}; sum${o} += v; if (v < min${o}) min${o} = v; if (v > max${o}) max${o} = v; }`).join('\n')}
${program.observed.flatMap((_, o) => lanes.map((j) => `      tsum${o}_${j} += ${obsTangent(o, j)};`)).join('\n')}
${program.spikeSources.map((_, q) => `      { const after = ${spikeLevel(q)};
        if (before${q} < THRESHOLD && after >= THRESHOLD) {
          sb[(${spikeSlot(layout, q, 0)} + (count${q} % ${K})) * N + i] = (n + (THRESHOLD - before${q}) / (after - before${q})) * DT;
          count${q}++;
        } }`).join('\n')}
      if (row >= 0 && (n + 1) % traceEvery === 0) {
        const base = (row * traceSamplesPerRow + (n + 1) / traceEvery - 1 - traceFirstSample) * ${O};
${program.observed.map((_, o) => `        tr[base + ${o}] = ${obsValue(o)};`).join('\n')}
      }
    }`;

  function spikeLevelOld(q: number): string {
    // the spike level read from the state before the step: same expression, printed standalone
    return makePrinter(spelling, []).text(program.spikeSources[q].expr);
  }

  const source = `"use strict";
const DT = ${spelling.literal(program.dtMs)};
const THRESHOLD = ${threshold};
${specialFunctions(precision)}
function init(b, N, i0, i1) {
  const st = b.state, tg = b.tangent, pr = b.params;
  for (let i = i0; i < i1; i++) {
${loadParams}
${initBody}
  }
}
function run(b, a) {
  const st = b.state, tg = b.tangent, pr = b.params, os = b.obsSum, omin = b.obsMin, omax = b.obsMax, ot = b.obsTanSum;
  const sc = b.spikeCount, sb = b.spikeTimes, trows = b.traceRow, tr = b.trace;
  const N = a.N, stepStart = a.stepStart, stepEnd = a.stepStart + a.nSteps, accumulate = a.accumulate;
  const traceEvery = a.traceEvery, traceFirstSample = a.traceFirstSample, traceSamplesPerRow = a.traceSamplesPerRow;
  for (let i = a.i0; i < a.i1; i++) {
${loadParams}
${lines(step.invariant, stepPrinter.body, '    ')}
${states.map((k) => `    let ${vars.state(k)} = st[${at(k)}];`).join('\n')}
${lanes.flatMap((j) => states.map((k) => `    let ${vars.tangent(j, k)} = tg[${at(tangentSlot(layout, j, k))}];`)).join('\n')}
${program.observed.map((_, o) => `    let sum${o} = os[${at(o)}], min${o} = omin[${at(o)}], max${o} = omax[${at(o)}];`).join('\n')}
${program.observed.flatMap((_, o) => lanes.map((j) => `    let tsum${o}_${j} = ot[${at(observedTangentSlot(layout, o, j))}];`)).join('\n')}
${program.spikeSources.map((_, q) => `    let count${q} = sc[${at(q)}];`).join('\n')}
    const row = traceEvery > 0 ? trows[i] : -1;
    for (let n = stepStart; n < stepEnd; n++) {${stepBody.replace(/\n/g, '\n  ')}
    }
${states.map((k) => `    st[${at(k)}] = ${vars.state(k)};`).join('\n')}
${lanes.flatMap((j) => states.map((k) => `    tg[${at(tangentSlot(layout, j, k))}] = ${vars.tangent(j, k)};`)).join('\n')}
${program.observed.map((_, o) => `    os[${at(o)}] = sum${o}; omin[${at(o)}] = min${o}; omax[${at(o)}] = max${o};`).join('\n')}
${program.observed.flatMap((_, o) => lanes.map((j) => `    ot[${at(observedTangentSlot(layout, o, j))}] = tsum${o}_${j};`)).join('\n')}
${program.spikeSources.map((_, q) => `    sc[${at(q)}] = count${q};`).join('\n')}
  }
}
return { init, run };
`;
  return { layout, precision, source };
}

export interface JsKernel {
  init(b: KernelBuffers, N: number, i0: number, i1: number): void;
  run(b: KernelBuffers, args: ChunkArgs): void;
}

/** Turns emitted source into callable functions. */
export function instantiateJs(source: string): JsKernel {
  return new Function(source)() as JsKernel;
}
