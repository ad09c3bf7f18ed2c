/**
 * JavaScript emitter: writes a StepProgram as two plain functions, an initialiser and a kernel that
 * runs a range of instances for a range of steps with every state and tangent in local variables and
 * the observables accumulated on the fly. f64 by default; `precision: 'f32'` rounds every operation
 * to single precision (Math.fround) to mirror the GPU for parity checks.
 *
 * The emitter knows nothing of channels or neurons: only states, tangents, parameters and the
 * buffer layout.
 */
import { EXPREL_PRIME_SERIES, EXPREL_SERIES, EXPREL_SERIES_BELOW_F64, ZERO, type Expr } from '../model/expr.ts';
import { layoutOf, observedTangentSlot, tangentSlot, type Layout } from './layout.ts';
import { makePrinter, type Printer, type Spelling, checkedNumber } from './print.ts';
import { tangentIncrementOf, type StepProgram, type TangentForm } from './program.ts';
import type { Temp } from './schedule.ts';
import { checkInputLayout, type InputLayout, type NormalWindows } from '../engine/inputs.ts';
import { DEFAULT_MAXIMA_HYSTERESIS_MV, DIVERGED_ABOVE, F32_SERIES_BELOW, declareTemps, divergenceCode, eventCode, forcingCode, indent, leafNamer, powiText, scheduleStep, seriesTermsOf, tempsByLane, vars } from './kernel-common.ts';

export type Precision = 'f64' | 'f32';

/**
 * Roundoff probe for an f64 run: emulates the two kinds of error an f32 backend makes, so that the
 * spread of probed runs measures an output's conditioning with respect to them.
 * - `relative`: each step reads every state as state·(1 + relative·u), u uniform in [−1/2, 1/2) from
 *   a deterministic per-instance generator (`seed`), and adds its increment to the unperturbed state.
 *   That is what the f32 kernel does: its compensated sums keep the low bits of each state, but the
 *   right-hand side is evaluated on the state rounded to f32 (relative = 2^-23 is ±½ ulp).
 * - `transcendentalBias`: exp and log return (1 + bias) times their value: the error of GPU special
 *   functions, which repeats along a periodic orbit like a bias. expm1 is left exact: the kernels
 *   evaluate it by a series wherever it matters (|x| < 0.5), to an ulp of its small value.
 */
export interface RoundoffProbe {
  relative?: number;
  seed?: number;
  transcendentalBias?: number;
}

export interface JsKernelOptions {
  precision?: Precision;
  /** spike times kept per instance and source */
  spikeCapacity: number;
  /** upward crossings of this level (mV) are spikes */
  spikeThresholdMv?: number;
  /** voltage maxima kept per instance and source (0: none recorded) */
  maximaCapacity?: number;
  /** a maximum counts once the level falls this far below it (mV) */
  maximaHysteresisMv?: number;
  /** traces carry the tangents of the observed quantities too */
  traceTangents?: boolean;
  /** perturbations that show how far f32 arithmetic could move an output (see RoundoffProbe) */
  roundoffProbe?: RoundoffProbe;
  /** the tangents' evaluation order (compile.ts, stepTangents); default 'smaller', as the WGSL kernel */
  tangentForm?: TangentForm;
  /** how the recordings (program.inputs) lie in the inputs buffer (inputs.ts, InputLayout) */
  inputs?: InputLayout;
  /** teacher forcing: windows of the normal equations (inputs.ts, NormalWindows) */
  windows?: NormalWindows;
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
  /** spike counts and rings, voltage maxima (layout.ts, eventSlots) */
  events: Float64Array;
  /** per instance: its row in `trace`, or −1 */
  traceRow: Int32Array;
  /** [row][sample][observed] for the samples of the current chunk */
  trace: Float64Array;
  /** the recordings on the step grid (inputs.ts, InputLayout); empty without inputs */
  inputs: Float64Array | Float32Array;
  /** normal equations per instance (layout.ts, normalSlots), [slot][n]; empty without residuals */
  normal: Float64Array;
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


/**
 * expm1, exprel and exprel' for the generated code. f64: exp(x) − 1 (V8's Math.expm1 is ~6× slower
 * than Math.exp, and in f64 the cancellation costs only ~1e-16 absolute, the rounding of the state
 * the increment is added to), and a short series near 0 where exprel divides by x.
 */
export function specialFunctions(precision: Precision): string {
  if (precision === 'f64') {
    const horner = (c: readonly number[]) => c.slice().reverse().reduce((acc, k, i) => (i === 0 ? String(k) : `${k} + x * (${acc})`), '');
    return `
const exprel = (x) => (Math.abs(x) < ${EXPREL_SERIES_BELOW_F64} ? ${horner(EXPREL_SERIES)} : x === Infinity ? x : (Math.exp(x) - 1) / x);
const exprelPrime = (x) => {
  if (Math.abs(x) < ${EXPREL_SERIES_BELOW_F64}) return ${horner(EXPREL_PRIME_SERIES)};
  if (x === -Infinity) return 0;
  if (x > 709) return Infinity;
  if (x < -1) return ((x - 1) * Math.exp(x) + 1) / (x * x);
  const e = Math.exp(x) - 1;
  return (x * e + x - e) / (x * x);
};`;
  }
  // the same formulas as the WGSL backend, every operation rounded to f32
  const horner = (c: readonly number[]) => c.slice().reverse().reduce((acc, k, i) => (i === 0 ? String(k) : `F(${k} + F(x * ${acc}))`), '');
  return `
const F = Math.fround;
const exprel = (x) => (Math.abs(x) < ${F32_SERIES_BELOW} ? ${horner(EXPREL_SERIES.map(Math.fround))} : x === Infinity ? x : F(F(F(Math.exp(x)) - 1) / x));
const expm1 = (x) => (Math.abs(x) < ${F32_SERIES_BELOW} ? F(x * ${horner(EXPREL_SERIES.map(Math.fround))}) : F(F(Math.exp(x)) - 1));
const exprelPrime = (x) => {
  if (Math.abs(x) < ${F32_SERIES_BELOW}) return ${horner(EXPREL_PRIME_SERIES.map(Math.fround))};
  // where x·e^x overflows f32 the closed form gives ∞ − ∞ or ∞/∞: the value there is +∞ (x > 88) or 0
  if (x > 88) return Infinity;
  if (x < -8388608) return 0;
  const e = F(Math.exp(x));
  return F(F(F(F(x * e) - e) + 1) / F(x * x));
};
${EXPREL_SERIES.map((_, k) => {
    const sum = horner(EXPREL_SERIES.slice(0, k + 1).map(Math.fround));
    return `const expm1_s${k + 1} = (x) => F(x * ${sum});\nconst exprel_s${k + 1} = (x) => ${sum};`;
  }).join('\n')}`;
}

/**
 * `seriesTerms` (f32 only): the terms of the branch-free series that the WGSL kernel uses for an
 * expm1 or exprel node (kernel-common.ts, seriesTermsOf), so that both spell the same arithmetic.
 */
function jsSpelling(precision: Precision, leaf: Spelling['leaf'], seriesTerms: (node: Expr) => number, bias = 0): Spelling {
  const bounded = (node: Expr, name: 'expm1' | 'exprel', arg: string) => {
    const n = seriesTerms(node);
    return n ? `${name}_s${n}(${arg})` : `${name}(${arg})`;
  };
  const r = precision === 'f32' ? (s: string) => `F(${s})` : (s: string) => `(${s})`;
  const plainFn = precision === 'f32' ? (s: string) => `F(${s})` : (s: string) => s;
  const fn = (s: string) => (bias && /^Math\.(exp|log)\(/.test(s) ? `(${plainFn(s)} * ${1 + bias})` : plainFn(s));
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
        case 'sin': return fn(`Math.sin(${a[0]})`);
        case 'cos': return fn(`Math.cos(${a[0]})`);
        case 'tan': return fn(`Math.tan(${a[0]})`);
        case 'sinh': return fn(`Math.sinh(${a[0]})`);
        case 'cosh': return fn(`Math.cosh(${a[0]})`);
        case 'ceil': return `Math.ceil(${a[0]})`;
        case 'heaviside': return `(${a[0]} > 0 ? 1 : ${a[0]} <= 0 ? 0 : NaN)`;
        case 'powi': return powiText(a[0], node.value, r);
        case 'expm1': return precision === 'f32' ? bounded(node, 'expm1', a[0]) : `(Math.exp(${a[0]}) - 1)`;
        case 'exprel': return precision === 'f32' ? bounded(node, 'exprel', a[0]) : `exprel(${a[0]})`;
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

const lines = (temps: Temp[], body: Printer['body'], indent: string) => declareTemps(temps, body, indent, 'const');

/** Emits the JavaScript kernel for a program. */
export function emitJs(program: StepProgram, options: JsKernelOptions): JsKernelSource {
  const precision = options.precision ?? 'f64';
  const at = (slot: number) => (slot === 0 ? 'i' : `${slot} * N + i`);
  const layout = layoutOf(program, options);
  const threshold = options.spikeThresholdMv ?? 0;
  const tangentForm = options.tangentForm ?? 'smaller';
  const tangentIncrement = tangentIncrementOf(program, tangentForm);
  const { step, observed, init } = scheduleStep(program, tangentForm);
  const temps = tempsByLane(step.perStep, program.next.increment, tangentIncrement);
  const probe = options.roundoffProbe;
  const names = leafNamer(program, 't');
  const seriesTerms = precision === 'f32' ? seriesTermsOf(program, tangentForm) : () => 0;
  const spelling = jsSpelling(precision, names, seriesTerms, probe?.transcendentalBias);
  // with a probe, the step reads perturbed copies of the states (q…) and adds to the states (s…)
  const stepSpelling = probe?.relative
    ? jsSpelling(precision, (node) => (node.op === 'state' ? names(node).replace(/^s/, 'q') : names(node)), seriesTerms, probe.transcendentalBias)
    : spelling;
  const stepPrinter = makePrinter(stepSpelling, [step]);
  const obsSpelling = jsSpelling(precision, leafNamer(program, 't', 'oin'), seriesTerms, probe?.transcendentalBias);
  const obsPrinter = makePrinter(obsSpelling, [observed]);
  const initPrinter = makePrinter(spelling, [init]);
  // the spike level before the step, from the states before it: the same expression, no temporaries
  const plain = makePrinter(spelling, []);
  const S = layout.states, L = layout.lanes, O = layout.observed;
  const events = eventCode(layout, {
    mutable: 'let',
    array: 'ev',
    at,
    ring: (first, count, capacity) => `(${first} + (${count} % ${capacity})) * N + i`,
    maximaEntry: (region, offset, count, capacity) => `${region} * N + i * ${2 * capacity} + ${offset} + (${count} % ${capacity})`,
    literal: (x) => String(x),
    timeAfter: '(n + 1) * DT',
    crossingTime: (before, after) => `(n + (THRESHOLD - ${before}) / (${after} - ${before})) * DT`,
  });
  const divergence = divergenceCode(program, layout, {
    array: 'ev',
    at,
    outOfRange: (x) => `!(Math.abs(${x}) < ${DIVERGED_ABOVE})`,
    anyOutOfRange: (xs) => (xs.length ? `!(${xs.map((x) => `Math.abs(${x}) < ${DIVERGED_ABOVE}`).join(' && ')})` : 'false'),
    capture: (test, captures) => `if (divergedSteps === 0 && ${test}) { divergedSteps = n + 1; ${captures.map(([name, value]) => `${name} = ${value};`).join(' ')} }`,
    declare: (captures) => `let divergedSteps = 0${captures.map((c) => `, ${c} = 0`).join('')};`,
    found: 'divergedSteps !== 0',
    high: (steps) => `Math.floor(${steps} / 65536)`,
    low: (steps) => `(${steps} % 65536)`,
    literal: (x) => String(x),
    mutable: 'let',
  });
  const inputLayout = checkInputLayout(program, options.inputs);
  const windows = options.windows ?? { steps: 1, startStep: 0 };
  const forcing = forcingCode(program, layout, {
    mutable: 'let',
    literal: (x) => String(x),
    literalIndex: (x) => String(x),
    inputs: 'inp',
    perInstance: inputLayout.perInstance,
    instances: 'N',
    add: (name, value) => `${name} += ${value};`,
    step: 'n',
    compensated: precision === 'f32',
  });
  const inputBases = indent(forcing.bases, '    ');
  const lanes = [...Array(L).keys()];
  const states = [...Array(S).keys()];
  const round = precision === 'f32' ? (s: string) => `F(${s})` : (s: string) => s;
  // f32 adds increments with Kahan compensation, as the WGSL kernel does (see emit-wgsl.ts)
  const addIncrement = (x: string, inc: string, c: string) =>
    precision === 'f32'
      ? `    { const y = F(${inc} - ${c}); const u = F(${x} + y); ${c} = F(F(u - ${x}) - y); ${x} = u; }`
      : `    ${x} += ${inc};`;
  const compensations = precision === 'f32'
    ? [...states.map((k) => `c${k}`), ...lanes.flatMap((j) => states.map((k) => `c${j}_${k}`))]
    : [];

  const loadParams = program.instanceParams.map((_, q) => `    const ${vars.param(q)} = pr[${at(q)}];`).join('\n');

  const initBody = [
    forcing.initReads,
    lines(init.perStep, initPrinter.body, '    '),
    ...states.map((k) => `    st[${at(k)}] = ${initPrinter.text(program.initial.state[k])};`),
    ...lanes.flatMap((j) => states.map((k) => `    tg[${at(tangentSlot(layout, j, k))}] = ${initPrinter.text(program.initial.tangent[j][k])};`)),
  ].join('\n');

  const obsValue = (o: number) => obsPrinter.text(program.observed[o].expr);
  const obsTangent = (o: number, j: number) => obsPrinter.text(program.observed[o].tangent[j]);
  const spikeLevel = (q: number) => obsPrinter.text(program.spikeSources[q].expr);

  const stepBody = `
    const t = ${round('n * DT')};
${forcing.stepReads}
${probe?.relative ? states.map((k) => `    const q${k} = ${vars.state(k)} * (1 + PROBE * noise());`).join('\n') : ''}
${program.spikeSources.map((s, q) => `    const before${q} = ${plain.text(s.expr)};`).join('\n')}
${lines(temps.shared, stepPrinter.body, '    ')}
${states.map((k) => `    const ${vars.next(k)} = ${stepPrinter.text(program.next.increment[k])};`).join('\n')}
${lanes.map((j) => [
    lines(temps.perLane[j], stepPrinter.body, '    '),
    ...states.map((k) => `    const ${vars.nextTangent(j, k)} = ${stepPrinter.text(tangentIncrement[j][k])};`),
    ...states.filter((k) => tangentIncrement[j][k] !== ZERO).map((k) => addIncrement(vars.tangent(j, k), vars.nextTangent(j, k), `c${j}_${k}`)),
  ].join('\n')).join('\n')}
${states.filter((k) => program.next.increment[k] !== ZERO).map((k) => addIncrement(vars.state(k), vars.next(k), `c${k}`)).join('\n')}
${indent(divergence.step, '    ')}
${indent(forcing.step, '    ')}
    if (accumulate) {
${forcing.observedReads}
${lines(observed.perStep, obsPrinter.body, '      ')}
${program.observed.map((_, o) => `      { const v = ${obsValue(o)}; sum${o} += v; if (v < min${o}) min${o} = v; if (v > max${o}) max${o} = v; }`).join('\n')}
${program.observed.flatMap((_, o) => lanes.map((j) => `      tsum${o}_${j} += ${obsTangent(o, j)};`)).join('\n')}
${program.spikeSources.map((_, q) => `      {\n        const after = ${spikeLevel(q)};\n${indent(events.step(q, `before${q}`, 'after'), '        ')}\n      }`).join('\n')}
      if (row >= 0 && (n + 1) % traceEvery === 0) {
        const base = (row * traceSamplesPerRow + (n + 1) / traceEvery - 1 - traceFirstSample) * ${layout.traceWidth};
${program.observed.map((_, o) => `        tr[base + ${o}] = ${obsValue(o)};`).join('\n')}
${layout.traceWidth > O ? program.observed.flatMap((_, o) => lanes.map((j) => `        tr[base + ${O + observedTangentSlot(layout, o, j)}] = ${obsTangent(o, j)};`)).join('\n') : ''}
      }
    }`;

  const source = `"use strict";
const DT = ${spelling.literal(program.dtMs)};
const THRESHOLD = ${checkedNumber(threshold)};
const HYSTERESIS = ${checkedNumber(options.maximaHysteresisMv ?? DEFAULT_MAXIMA_HYSTERESIS_MV)};
const PROBE = ${checkedNumber(probe?.relative ?? 0)};
${specialFunctions(precision)}
const IN_STRIDE = ${inputLayout.stride};
const WINDOW = ${checkedNumber(windows.steps)};
const WINDOW_START = ${checkedNumber(windows.startStep)};
function init(b, N, i0, i1) {
  const st = b.state, tg = b.tangent, pr = b.params, ev = b.events, inp = b.inputs;
${inputBases}
  for (let i = i0; i < i1; i++) {
${loadParams}
${initBody}
${indent(events.init, '    ')}
${indent(divergence.init((k) => `st[${at(k)}]`), '    ')}
  }
}
function run(b, a) {
  const st = b.state, tg = b.tangent, pr = b.params, os = b.obsSum, omin = b.obsMin, omax = b.obsMax, ot = b.obsTanSum;
  const ev = b.events, trows = b.traceRow, tr = b.trace, inp = b.inputs, ne = b.normal;
  const N = a.N, stepStart = a.stepStart, stepEnd = a.stepStart + a.nSteps, accumulate = a.accumulate;
${inputBases}
  const traceEvery = a.traceEvery, traceFirstSample = a.traceFirstSample, traceSamplesPerRow = a.traceSamplesPerRow;
  for (let i = a.i0; i < a.i1; i++) {
${loadParams}
${lines(step.invariant, stepPrinter.body, '    ')}
${states.map((k) => `    let ${vars.state(k)} = st[${at(k)}];`).join('\n')}
${lanes.flatMap((j) => states.map((k) => `    let ${vars.tangent(j, k)} = tg[${at(tangentSlot(layout, j, k))}];`)).join('\n')}
${program.observed.map((_, o) => `    let sum${o} = os[${at(o)}], min${o} = omin[${at(o)}], max${o} = omax[${at(o)}];`).join('\n')}
${program.observed.flatMap((_, o) => lanes.map((j) => `    let tsum${o}_${j} = ot[${at(observedTangentSlot(layout, o, j))}];`)).join('\n')}
${indent(events.load, '    ')}
${compensations.length ? `    let ${compensations.map((c) => `${c} = 0`).join(', ')};` : ''}
${probe?.relative ? `    let rng = (Math.imul(i + 1, 0x9e3779b9) ^ Math.imul(stepStart + 1, 0x85ebca6b) ^ ${checkedNumber(probe.seed ?? 1) | 0}) | 1;
    const noise = () => { rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5; return (rng >>> 0) / 4294967296 - 0.5; };` : ''}
    const row = traceEvery > 0 ? trows[i] : -1;
    if (${divergence.skip}) continue;
${forcing.hasResiduals ? `    let untilWindow = accumulate ? (WINDOW - ((stepStart + 1 - WINDOW_START) % WINDOW)) % WINDOW : 0;
${forcing.normalLocals.map((name, slot) => `    let ${name} = ne[${at(slot)}];`).join('\n')}` : ''}
    ${divergence.declare}
    for (let n = stepStart; n < stepEnd; n++) {${stepBody.replace(/\n/g, '\n  ')}
    }
${indent(divergence.record, '    ')}
${forcing.normalLocals.map((name, slot) => `    ne[${at(slot)}] = ${name};`).join('\n')}
${states.map((k) => `    st[${at(k)}] = ${vars.state(k)};`).join('\n')}
${lanes.flatMap((j) => states.map((k) => `    tg[${at(tangentSlot(layout, j, k))}] = ${vars.tangent(j, k)};`)).join('\n')}
${program.observed.map((_, o) => `    os[${at(o)}] = sum${o}; omin[${at(o)}] = min${o}; omax[${at(o)}] = max${o};`).join('\n')}
${program.observed.flatMap((_, o) => lanes.map((j) => `    ot[${at(observedTangentSlot(layout, o, j))}] = tsum${o}_${j};`)).join('\n')}
${indent(events.store, '    ')}
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
