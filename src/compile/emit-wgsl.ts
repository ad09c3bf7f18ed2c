/**
 * WGSL emitter: writes a StepProgram into the ensemble kernel template (shaders/ensemble.wgsl.ts).
 * Same scheduled expressions as the JavaScript emitter (so primal subexpressions are shared between
 * tangent lanes, and per-instance invariants are hoisted out of the time loop), spelled in WGSL, f32.
 * The JavaScript emitter's f32 mode spells the same operations; only the WGSL evaluates a step's
 * exps in vector batches ahead of the rest (exp-batches.ts), which reorders but does not change them.
 */
import template from '../../shaders/ensemble.wgsl.ts';
import { EXPREL_PRIME_SERIES, EXPREL_SERIES, ZERO, topoOrder, type Expr } from '../model/expr.ts';
import { DEFAULT_MAXIMA_HYSTERESIS_MV, DIVERGED_ABOVE, F32_SERIES_BELOW, declareTemps, divergenceCode, eventCode, forcingCode, indent, leafNamer, powiText, scheduleStep, seriesTermsOf, tempsByLane, vars } from './kernel-common.ts';
import { eventSlots, layoutOf, observedTangentSlot, tangentSlot, type Layout } from './layout.ts';
import { EXP_BATCH_MAX_EXPS, expBatches, type ExpBatch, type StepUnit } from './exp-batches.ts';
import { flatStep, stagedStep } from './step-order.ts';
import { infixArithmetic, makePrinter, type Spelling } from './print.ts';
import { f32ConstantMessage, overflowsF32 } from '../engine/f32-range.ts';
import { InputError } from '../errors.ts';
import { tangentIncrementOf, type StepProgram, type TangentForm } from './program.ts';
import { checkInputLayout, type InputLayout, type NormalWindows } from '../engine/inputs.ts';

export interface WgslKernelOptions {
  spikeCapacity: number;
  spikeThresholdMv?: number;
  /** voltage maxima kept per instance and source (0: none recorded) */
  maximaCapacity?: number;
  /** a maximum counts once the level falls this far below it (mV) */
  maximaHysteresisMv?: number;
  /** traces carry the tangents of the observed quantities too */
  traceTangents?: boolean;
  workgroupSize?: number;
  /** add increments and sums with Kahan compensation (default true; see compensatedAdd) */
  compensated?: boolean;
  /** exp: 'accurate' (default; ≤ 1.5 ulp, unbiased) or 'fast' (the platform's builtin; see expAccurate) */
  math?: GpuMath;
  /** the tangents' evaluation order (compile.ts, stepTangents); default 'smaller' */
  tangentForm?: TangentForm;
  /**
   * exps evaluated side by side per call (exp-batches.ts): 1 to 4, or 0 to leave each in its
   * expression. Default: defaultExpBatchWidth.
   */
  expBatchWidth?: number;
  /**
   * 'staged' (default for steps without tangent lanes): the step printed in stages, each state added
   * after the last increment that reads it, exps batched within a stage (step-order.ts); 'flat':
   * every temporary, then every increment, then every add (always, with lanes).
   */
  stepOrder?: 'staged' | 'flat';
  /** how the recordings (program.inputs) lie in the inputs buffer (engine/inputs.ts) */
  inputs?: InputLayout;
  /** teacher forcing: windows of the normal equations (engine/inputs.ts) */
  windows?: NormalWindows;
}

export type GpuMath = 'accurate' | 'fast';
export const GPU_MATH: readonly GpuMath[] = ['accurate', 'fast'];

export interface WgslKernel {
  layout: Layout;
  code: string;
  workgroupSize: number;
  /** slots per instance in each buffer (f32 values) */
  slots: { state: number; tangent: number; params: number; acc: number; extrema: number; events: number };
}

/**
 * An f32 literal (abstract-float text of the f32 value). Non-finite values read their bits from
 * private variables of the template (INF_BITS, NAN_BITS): WGSL has no literal for them, and Chrome's
 * compiler rejects `bitcast<f32>(OVERFLOW_BITS)` as a constant expression that is not representable.
 */
export function wgslLiteral(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'bitcast<f32>(NAN_BITS)';
  if (f === Infinity) return 'bitcast<f32>(INF_BITS)';
  if (f === -Infinity) return '(-bitcast<f32>(INF_BITS))';
  let text = String(Math.abs(f));
  if (!/[.e]/.test(text)) text += '.0';
  return f < 0 || Object.is(f, -0) ? `(-${text})` : text;
}

/**
 * `seriesTerms` gives, for an expm1 or exprel node, the terms of a branch-free series accurate over
 * its argument's whole range (0: none); the series functions used are collected in `series`.
 */
function wgslSpelling(leaf: Spelling['leaf'], seriesTerms: (node: Expr) => number, series: Map<string, string>): Spelling {
  const bounded = (node: Expr, name: 'expm1' | 'exprel', arg: string) => {
    const n = seriesTerms(node);
    if (!n) return `${name}(${arg})`;
    series.set(`${name}_s${n}`, seriesFunction(name, n));
    return `${name}_s${n}(${arg})`;
  };
  return {
    literal: wgslLiteral,
    leaf,
    op(node, a, operand) {
      const infix = infixArithmetic(node.op, a);
      if (infix !== undefined) return infix;
      switch (node.op) {
        case 'exp': {
          const call = expCall(node, a[0], operand);
          return `${call.fn}(${call.arg})`;
        }
        case 'log': return `log(${a[0]})`;
        case 'sqrt': return `sqrt(${a[0]})`;
        case 'abs': return `abs(${a[0]})`;
        case 'tanh': return `tanh(${a[0]})`;
        case 'sin': return `sin(${a[0]})`;
        case 'cos': return `cos(${a[0]})`;
        case 'tan': return `tan(${a[0]})`;
        case 'sinh': return `sinh(${a[0]})`;
        case 'cosh': return `cosh(${a[0]})`;
        case 'ceil': return `ceil(${a[0]})`;
        // NaN (which no comparison holds for) gives 0 here: a NaN argument has made some state NaN already
        case 'heaviside': return `select(0.0, 1.0, ${a[0]} > 0.0)`;
        case 'powi': return powiText(a[0], node.value, (s) => `(${s})`);
        case 'expm1': return bounded(node, 'expm1', a[0]);
        case 'exprel': return bounded(node, 'exprel', a[0]);
        case 'exprelPrime': return `exprel_prime(${a[0]})`;
        case 'min': return `min(${a[0]}, ${a[1]})`;
        case 'max': return `max(${a[0]}, ${a[1]})`;
        case 'lt': return `select(0.0, 1.0, ${a[0]} < ${a[1]})`;
        case 'le': return `select(0.0, 1.0, ${a[0]} <= ${a[1]})`;
        case 'and': return `select(0.0, 1.0, ${a[0]} != 0.0 && ${a[1]} != 0.0)`;
        case 'select': return `select(${a[2]}, ${a[1]}, ${a[0]} != 0.0)`;
        default: throw new Error(`WGSL emitter: no spelling for ${node.op}`);
      }
    },
  };
}

export type ExpFunction = 'exp_' | 'exp2_';

/** How the kernel evaluates an exp node whose argument prints as `argText`: exp2_ where base2Argument applies, else exp_. */
function expCall(node: Expr, argText: string, operand: (node: Expr) => string): { fn: ExpFunction; arg: string } {
  const base2 = base2Argument(node.args[0], argText, operand);
  return base2 ? { fn: 'exp2_', arg: base2 } : { fn: 'exp_', arg: argText };
}

/**
 * exp(c·u) with a constant c as 2^((c·log2 e)·u): the product c·log2 e is folded in f64 and rounded
 * once, so the argument carries one rounding (as c·u does) and exp2_ needs no reduction by ln 2. The
 * text of c·u must be printed inline (a scheduled temporary is used as it is); undefined otherwise.
 */
function base2Argument(arg: Expr, text: string, operand: (node: Expr) => string): string | undefined {
  if (!text.startsWith('(')) return undefined;
  if (arg.op === 'neg') {
    const inner = base2Argument(arg.args[0], operand(arg.args[0]), operand);
    return inner && `(-${inner})`;
  }
  if (arg.op !== 'mul') return undefined;
  const [x, y] = arg.args;
  const [c, u] = x.isConst ? [x, y] : y.isConst ? [y, x] : [];
  return c && u ? `(${wgslLiteral(c.value * Math.LOG2E)} * ${operand(u)})` : undefined;
}

function hornerWgsl(coefficients: readonly number[], variable = 'x'): string {
  return coefficients.slice().reverse().reduce((acc, c, i) => (i === 0 ? wgslLiteral(c) : `${wgslLiteral(c)} + ${variable} * (${acc})`), '');
}

/** exp(r) on |r| ≤ ln2/2: the degree-6 polynomial of least maximum relative error (Lawson iterations on a Chebyshev grid) */
const EXP_POLYNOMIAL = [1.0000000005541745, 1.000000036323525, 0.49999992079731853, 0.1666642016834895, 0.04166822558070366, 0.008374815931428492, 0.001383684579905931];

/**
 * exp to ≤ 1.5 ulp with no bias: Cody–Waite reduction x = k·ln2 + r (ln2 split so k·ln2_hi is exact),
 * a degree-6 polynomial for exp(r) on |r| ≤ ln2/2 (fitted for least maximum relative error:
 * 1.9e-9, 0.03 ulp, and no bias to speak of: 4e-12 mean), and 2^k built from its bits. Builtin exp
 * is typically exp2(x·log2 e) in f32, whose product rounding gives a relative error ∝ |x| (measured
 * on lavapipe: up to 1.9e-6 at |x| = 30, biased by up to 4e-7). exp(c·u) is spelled exp2 with c·log2 e
 * folded (base2Argument), which that rounding spares: the Prinz gates' exps all take that form, and
 * with either function the 16 Prinz 2004 cells keep their spikes, and their burst periods within 2e-5 of
 * the f64 engine's over 30 s (README, "The platform's exp").
 *
 * Speed (lavapipe, prinz, 26 exps a step): k is rounded by adding 1.5·2^23, which leaves k in the low
 * mantissa bits of the sum, so 2^k is an integer clamp, subtraction and shift of those bits. With
 * floor() and i32() the whole kernel ran at half the speed (WGSL's float→int conversion saturates,
 * which costs compares), and clamping x in f32 (selects, to let NaN through; min/max leave NaN
 * undefined) cost it 12 %. Clamping the bits instead keeps 2^k in the normal range: for x above 88.3
 * the result saturates near 2^127 (so 1/(1 + e^x) → 0), below −87.6 it stays near 2^−126 (the
 * builtin's limits); NaN passes through p. Past |x| ≈ 8.7e6, where only a state that has already
 * diverged takes it, the reduction loses r and the result means nothing. ROUND_SHIFT (OPAQUE_ONE)
 * keeps the compiler from folding (x·log2e + c) − c into x·log2e.
 */
const expAccurate = (name: string, t: WgslFloat) => `fn ${name}(x: ${t.f}) -> ${t.f} {
  let shifted = x * 1.442695041 + 12582912.0;
  let k = shifted - ROUND_SHIFT;
  let r = (x - k * 0.693145751953125) - k * 1.428606765330187e-6;
  let p = ${hornerWgsl(EXP_POLYNOMIAL, 'r')};
${timesPowerOf2(t)}
}`;

/**
 * p · 2^k, k read from the bits of `shifted` (0x4b400000 + k), as exp_ and exp2_ end: clamped before
 * subtracting, so no value wraps around
 */
const timesPowerOf2 = (t: WgslFloat) => `  let bits = clamp(bitcast<${t.i}>(shifted), ${t.i}(0x4b400000i - 126i), ${t.i}(0x4b400000i + 127i));
  return p * bitcast<${t.f}>((bits - 0x4b3fff81i) << ${t.u}(23u));`;

/** 2^f on |f| ≤ 1/2: the exp polynomial above with r = f·ln 2 substituted (same relative error) */
const EXP2_POLYNOMIAL = EXP_POLYNOMIAL.map((c, i) => c * Math.LN2 ** i);

/**
 * 2^x to the accuracy of exp_ (base2Argument folds constant slopes into it). The reduction
 * x = k + f is exact (f = x − k needs no more bits than x), so it saves exp_'s Cody–Waite
 * products: 4 of its ~23 operations; the saturation is exp_'s.
 */
const exp2Accurate = (name: string, t: WgslFloat) => `fn ${name}(x: ${t.f}) -> ${t.f} {
  let shifted = x + 12582912.0;
  let f = x - (shifted - ROUND_SHIFT);
  let p = ${hornerWgsl(EXP2_POLYNOMIAL, 'f')};
${timesPowerOf2(t)}
}`;

/** The builtins (typically exp2(x·log2 e) in f32: see expAccurate for their error). */
const expFast = (name: string, builtin: 'exp' | 'exp2', t: WgslFloat) => `fn ${name}(x: ${t.f}) -> ${t.f} { return ${builtin}(x); }`;

/** f32 or a vector of n f32 (n = 2..4), with the integer types of the same shape */
interface WgslFloat {
  f: string;
  i: string;
  u: string;
}
const wgslFloat = (n: number): WgslFloat => (n === 1 ? { f: 'f32', i: 'i32', u: 'u32' } : { f: `vec${n}<f32>`, i: `vec${n}<i32>`, u: `vec${n}<u32>` });

/** The exp function `fn` (exp_ or exp2_) of `math` over `t`, named `name`. */
function expFunction(fn: ExpFunction, name: string, t: WgslFloat, math: GpuMath): string {
  if (math === 'fast') return expFast(name, fn === 'exp2_' ? 'exp2' : 'exp', t);
  return fn === 'exp2_' ? exp2Accurate(name, t) : expAccurate(name, t);
}

/**
 * The exp function `fn` (exp_ or exp2_) on vectors of `width` components (exp-batches.ts), named
 * `${fn}v${width}`: the scalar function's operations, component by component.
 */
export function vectorExp(fn: ExpFunction, width: number, math: GpuMath): string {
  return expFunction(fn, `${fn}v${width}`, wgslFloat(width), math);
}

/**
 * expm1, exprel and exprel' in f32: a series near 0 (|x| < 0.5), the closed forms elsewhere, and their
 * values where e^x leaves f32's range: −1, −1/x and 1/x² below −88 (e^x < 2^−126 is lost against 1),
 * +∞ above 88.72 (e^x overflows). This is where a rate that became infinite or huge lands (−dt·rate:
 * a time constant that rounded to 0 in f32): the state then relaxes at once instead of becoming NaN.
 * exp_ itself is not guarded, to keep the ~26 exps of every step at their cost (a guard measured
 * +5 % on the prinz kernel); it saturates for |x| up to 2^23 (see expAccurate). NaN passes through.
 */
const FUNCTIONS = `// +∞ as bits in a private variable: Chrome's compiler rejects bitcast<f32>(0x7f800000u) as a constant
var<private> OVERFLOW_BITS: u32 = 0x7f800000u;

fn expm1(x: f32) -> f32 {
  if (abs(x) < ${wgslLiteral(F32_SERIES_BELOW)}) { return x * (${hornerWgsl(EXPREL_SERIES)}); }
  if (x < -88.0) { return -1.0; }
  if (x > 88.72283) { return bitcast<f32>(OVERFLOW_BITS); }
  return exp_(x) - 1.0;
}

fn exprel(x: f32) -> f32 {
  if (abs(x) < ${wgslLiteral(F32_SERIES_BELOW)}) { return ${hornerWgsl(EXPREL_SERIES)}; }
  if (x < -88.0) { return -1.0 / x; }
  if (x > 88.72283) { return bitcast<f32>(OVERFLOW_BITS); }
  return (exp_(x) - 1.0) / x;
}

fn exprel_prime(x: f32) -> f32 {
  if (abs(x) < ${wgslLiteral(F32_SERIES_BELOW)}) { return ${hornerWgsl(EXPREL_PRIME_SERIES)}; }
  if (x < -88.0) { return 1.0 / (x * x); }
  if (x > 88.0) { return bitcast<f32>(OVERFLOW_BITS); }
  let e = exp_(x);
  return (((x * e) - e) + 1.0) / (x * x);
}`;

/** `<name>_s<n>`: expm1 or exprel as the first n terms of its series, for arguments whose range keeps that accurate. */
export function seriesFunction(name: 'expm1' | 'exprel', n: number): string {
  const sum = hornerWgsl(EXPREL_SERIES.slice(0, n));
  return `fn ${name}_s${n}(x: f32) -> f32 { return ${name === 'expm1' ? `x * (${sum})` : sum}; }`;
}

/**
 * 1.0 and the rounding shift 1.5·2^23 as values the shader compiler cannot see (read from the
 * uniform `chunk.one` at each entry point: OPAQUE_ONE_INIT), so it keeps compensated sums and the
 * exp reductions as written. Private variables rather than `chunk.one` at every use: in the time
 * loop, which writes storage buffers, lavapipe reloaded the uniform at each of its ~45 uses a step
 * (6 % of the prinz kernel's time).
 */
export const OPAQUE_ONE = `var<private> ONE: f32;
var<private> ROUND_SHIFT: f32;`;

/** The statement each entry point runs first when its code uses mathFunctions or compensated sums (OPAQUE_ONE declared). */
export const OPAQUE_ONE_INIT = 'ONE = chunk.one; ROUND_SHIFT = 12582912.0 * ONE;';

/** The kernel's special functions exp_, exp2_, expm1, exprel and exprel_prime; they need OPAQUE_ONE, initialised by OPAQUE_ONE_INIT. */
export function mathFunctions(math: GpuMath = 'accurate'): string {
  const exps = (['exp_', 'exp2_'] as const).map((fn) => expFunction(fn, fn, wgslFloat(1), math));
  return `${exps.join('\n\n')}\n\n${FUNCTIONS}`;
}

/**
 * x += inc with Kahan compensation: slow variables change by ~1e-5 of themselves per step, below
 * half an f32 ulp of many states, so plain f32 addition would drop or bias those increments and the
 * trajectory would drift in phase from the f64 reference. The compensation c carries the lost low
 * bits into the next step and is kept in the buffers between dispatches.
 * Shader compilers simplify (u − x) − y to 0 when u = x + y (Mesa's NIR does); multiplying by
 * ONE, a value they cannot see is 1 (OPAQUE_ONE), keeps the compensation.
 */
function compensatedAdd(x: string, inc: string, c: string): string {
  return `    { let y = ${inc} - ${c}; let u = ${x} + y; ${c} = (u - ${x} * ONE) - y; ${x} = u; }`;
}

function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`WGSL template marker {{${key}}} has no value`);
    return String(values[key]);
  });
}

/**
 * exps per batch when the caller does not say: 4 for a step without tangent lanes whose exps (those
 * reachable from `roots` and not in `batched`: a stage's, step-order.ts) number at most
 * EXP_BATCH_MAX_EXPS, else 0 (unbatched). Batches interleave the gates' chains but keep their
 * values live longer, which pays only where registers are not already short. Measured on lavapipe
 * (interleaved A/B, one process each, printed flat): prinz (26 exps) without lanes 8–13 % faster
 * batched, with 8 lanes 3–5 % slower; prinz with regulation (26 exps, 29 states) 12 % faster batched;
 * the pyloric database kernel (76 exps) 1.24–1.30× faster unbatched, 0.83× with batches of 2; staged,
 * its stages hold one cell's exps each and are batched. A hardware GPU runs each vector component as
 * its own instruction, so the choice matters to software GPUs (lavapipe, SwiftShader), not to the
 * values (bit for bit the same).
 */
export function defaultExpBatchWidth(program: StepProgram, roots: readonly Expr[] = program.next.increment, batched: ReadonlySet<number> = new Set()): number {
  if (program.lanes.length > 0) return 0;
  const exps = topoOrder(roots).filter((node) => node.op === 'exp' && !batched.has(node.id)).length;
  return exps <= EXP_BATCH_MAX_EXPS ? 4 : 0;
}

/** Emits the WGSL ensemble kernel (entry points `init` and `run`) for a program. */
export function emitWgsl(program: StepProgram, options: WgslKernelOptions): WgslKernel {
  const layout = layoutOf(program, options);
  const workgroupSize = options.workgroupSize ?? 64;
  const addIncrement = options.compensated === false ? (x: string, inc: string) => `    ${x} += ${inc};` : compensatedAdd;
  const tangentForm = options.tangentForm ?? 'smaller';
  const tangentIncrement = tangentIncrementOf(program, tangentForm);
  const { step, observed, init } = scheduleStep(program, tangentForm);
  const series = new Map<string, string>();
  const modelSpelling = wgslSpelling(leafNamer(program, 't'), seriesTermsOf(program, tangentForm), series);
  // the model's constants (folded from fixed parameters in f64) must be finite in f32: one that
  // overflows would run as ±Inf here and finite on the CPU engine
  const spelling: Spelling = {
    ...modelSpelling,
    literal(v) {
      if (overflowsF32(v)) throw new InputError(f32ConstantMessage(program, v, 'GPU'));
      return modelSpelling.literal(v);
    },
  };
  const scalarStep = makePrinter(spelling, [step]);
  const fnOf = (node: Expr) => expCall(node, scalarStep.text(node.args[0]), scalarStep.text).fn;
  const temps = tempsByLane(step.perStep, program.next.increment, tangentIncrement);
  const adds = (k: number) => program.next.increment[k] !== ZERO;
  const staged = program.lanes.length === 0 && (options.stepOrder ?? 'staged') === 'staged';
  // the exps of `roots` (less those already `batched`) in batches of the asked or default width
  const batchesOf = (roots: readonly Expr[], batched: ReadonlySet<number> = new Set(), prefix?: string) => {
    const width = options.expBatchWidth ?? defaultExpBatchWidth(program, roots, batched);
    return width !== 0 ? expBatches(roots, fnOf, width, prefix, batched) : { batches: [], componentName: new Map<number, string>() };
  };
  const { items, batches, componentName } = staged
    ? stagedStep(temps.shared, program.next.increment, program.states.map((s) => s.name), step.names, adds, batchesOf)
    : flatStep(temps.shared, program.next.increment.length, step.names, batchesOf(program.next.increment));
  // batched exps read as components of their batch, wherever they occur
  const stepPrinter = makePrinter(spelling, [{ names: componentName }, step]);
  const batchLine = (b: ExpBatch<ExpFunction>) => {
    const args = b.members.map((m) => expCall(m, stepPrinter.text(m.args[0]), stepPrinter.text).arg);
    const w = args.length;
    return w === 1 ? `    let ${b.name} = ${b.fn}(${args[0]});` : `    let ${b.name} = ${b.fn}v${w}(vec${w}<f32>(${args.join(', ')}));`;
  };
  const vectorFunctions = new Set(batches.filter((b) => b.members.length > 1).map((b) => vectorExp(b.fn, b.members.length, options.math ?? 'accurate')));
  const obsSpelling: Spelling = { ...spelling, leaf: leafNamer(program, 't', 'oin') };
  const obsPrinter = makePrinter(obsSpelling, [observed]);
  const initPrinter = makePrinter(spelling, [init]);
  const plain = makePrinter(spelling, []);
  const S = layout.states, L = layout.lanes, O = layout.observed, Q = layout.spikeSources;
  const states = [...Array(S).keys()], lanes = [...Array(L).keys()], obs = [...Array(O).keys()], sources = [...Array(Q).keys()];
  const at = (slot: number) => `${slot}u * n + i`;
  const accTangentSlot = (o: number, j: number) => O + observedTangentSlot(layout, o, j);
  /** running sums: O values, O×L tangents, then the normal equations; their Kahan compensations follow in as many slots */
  const accSums = O * (1 + L) + layout.normal;
  const accNormalSlot = (slot: number) => O * (1 + L) + slot;
  const inputLayout = checkInputLayout(program, options.inputs);
  const windows = options.windows ?? { steps: 1, startStep: 0 };
  const forcing = forcingCode(program, layout, {
    mutable: 'var',
    literal: wgslLiteral,
    literalIndex: (x) => `${x}u`,
    inputs: 'inputs',
    perInstance: inputLayout.perInstance,
    instances: 'n',
    add: (name, value) => compensatedAdd(name, value, `${name}c`).trim(),
    step: 'step',
    compensated: true,
  });
  const inputBases = indent(forcing.bases, '  ');
  const join = (parts: string[]) => parts.join('\n');
  const events = eventCode(layout, {
    mutable: 'var',
    array: 'events',
    at,
    ring: (first, count, capacity) => `(${first}u + u32(${count}) % ${capacity}u) * n + i`,
    maximaEntry: (region, offset, count, capacity) => `${region}u * n + i * ${2 * capacity}u + ${offset}u + u32(${count}) % ${capacity}u`,
    literal: wgslLiteral,
    timeAfter: 'f32(step + 1u) * DT',
    crossingTime: (before, after) => `(f32(step) + (THRESHOLD - ${before}) / (${after} - ${before})) * DT`,
  });

  // out of range as an integer test on the bits of |x|: NaN and ±Inf compare above every finite
  // value there, and no compiler can fold it away (WGSL lets implementations assume that float
  // values are never NaN or Inf, so !(abs(x) < B) could be simplified into abs(x) >= B)
  const magnitudeBits = (x: string) => `(bitcast<u32>(${x}) & 0x7fffffffu)`;
  const divergedBits = `${new Uint32Array(new Float32Array([DIVERGED_ABOVE]).buffer)[0]}u`;
  const divergence = divergenceCode(program, layout, {
    array: 'events',
    at,
    outOfRange: (x) => `${magnitudeBits(x)} >= ${divergedBits}`,
    anyOutOfRange: (xs) => (xs.length ? `${xs.map(magnitudeBits).reduce((a, b) => `max(${a}, ${b})`)} >= ${divergedBits}` : 'false'),
    // `&`, not `&&`: no short circuit, so no branch in the time loop
    capture: (test, captures) => [
      `{ let found = (divergedSteps == 0u) & (${test});`,
      `  divergedSteps = select(divergedSteps, step + 1u, found);`,
      ...captures.map(([name, value]) => `  ${name} = select(${name}, ${value}, found);`),
      '}',
    ].join('\n'),
    declare: (captures) => ['var divergedSteps = 0u;', ...captures.map((c) => `var ${c} = 0.0;`)].join('\n  '),
    found: 'divergedSteps != 0u',
    high: (steps) => `f32(${steps} >> 16u)`,
    low: (steps) => `f32(${steps} & 0xffffu)`,
    literal: wgslLiteral,
    mutable: 'var',
  });

  const loadParams = join(program.instanceParams.map((_, q) => `  let ${vars.param(q)} = params[${at(q)}];`));

  const initCode = join([
    indent(forcing.initReads, '  '),
    declareTemps(init.perStep, initPrinter.body, '  ', 'let'),
    ...states.map((k) => `  state[${at(k)}] = ${initPrinter.text(program.initial.state[k])};`),
    ...lanes.flatMap((j) => states.map((k) => `  tangent[${at(tangentSlot(layout, j, k))}] = ${initPrinter.text(program.initial.tangent[j][k])};`)),
    ...states.map((k) => `  state[${at(S + k)}] = 0.0;`),
    ...lanes.flatMap((j) => states.map((k) => `  tangent[${at(L * S + tangentSlot(layout, j, k))}] = 0.0;`)),
    ...[...Array(2 * accSums).keys()].map((slot) => `  acc[${at(slot)}] = 0.0;`),
    ...obs.map((o) => `  extrema[${at(o)}] = ${wgslLiteral(Infinity)};\n  extrema[${at(O + o)}] = ${wgslLiteral(-Infinity)};`),
    indent(events.init, '  '),
    indent(divergence.init((k) => `state[${at(k)}]`), '  '),
  ]);

  const loadState = join([
    ...states.map((k) => `  var ${vars.state(k)} = state[${at(k)}];\n  var c${k} = state[${at(S + k)}];`),
    ...lanes.flatMap((j) => states.map((k) => `  var ${vars.tangent(j, k)} = tangent[${at(tangentSlot(layout, j, k))}];\n  var c${j}_${k} = tangent[${at(L * S + tangentSlot(layout, j, k))}];`)),
    ...obs.map((o) => `  var sum${o} = acc[${at(o)}];\n  var sumc${o} = acc[${at(accSums + o)}];\n  var min${o} = extrema[${at(o)}];\n  var max${o} = extrema[${at(O + o)}];`),
    ...obs.flatMap((o) => lanes.map((j) => `  var tsum${o}_${j} = acc[${at(accTangentSlot(o, j))}];\n  var tsumc${o}_${j} = acc[${at(accSums + accTangentSlot(o, j))}];`)),
    indent(events.load, '  '),
    ...forcing.normalLocals.map((name, slot) => `  var ${name} = acc[${at(accNormalSlot(slot))}];\n  var ${name}c = acc[${at(accSums + accNormalSlot(slot))}];`),
  ]);

  const unitLine = (u: StepUnit<ExpFunction>) => ('batch' in u ? batchLine(u.batch) : `    let ${u.temp.name} = ${stepPrinter.body(u.temp.expr)};`);
  const stateAdd = (k: number) => addIncrement(vars.state(k), vars.next(k), `c${k}`);
  const primalStep = items.map((item) =>
    'increment' in item ? `    let ${vars.next(item.increment)} = ${stepPrinter.text(program.next.increment[item.increment])};` : 'add' in item ? stateAdd(item.add) : unitLine(item));
  const stepCode = join([
    ...sources.map((q) => `    let before${q} = ${plain.text(program.spikeSources[q].expr)};`),
    ...primalStep,
    // a lane reads only its own tangents, so each lane is computed from its own temporaries and
    // added as soon as it is computed: fewer values live at once (on lavapipe, prinz with 8 lanes at
    // N = 65,536 ran at 3.5e6 neuron-steps/s with all lanes computed first, 8.7e6 this way); the
    // states change last, after everything that reads them
    ...lanes.flatMap((j) => [
      declareTemps(temps.perLane[j], stepPrinter.body, '    ', 'let'),
      ...states.map((k) => `    let ${vars.nextTangent(j, k)} = ${stepPrinter.text(tangentIncrement[j][k])};`),
      ...states.filter((k) => tangentIncrement[j][k] !== ZERO).map((k) => addIncrement(vars.tangent(j, k), vars.nextTangent(j, k), `c${j}_${k}`)),
    ]),
    ...(staged ? [] : states.filter(adds).map(stateAdd)),
    indent(divergence.step, '    '),
  ]);

  const observeCode = join([
    declareTemps(observed.perStep, obsPrinter.body, '      ', 'let'),
    // sums are compensated too: tangent terms swing far above their mean, so plain f32 sums over a
    // dispatch would lose percent-level accuracy to cancellation
    ...obs.map((o) => `      { let v = ${obsPrinter.text(program.observed[o].expr)}; min${o} = min(min${o}, v); max${o} = max(max${o}, v);\n  ${addIncrement(`sum${o}`, 'v', `sumc${o}`)} }`),
    ...obs.flatMap((o) => lanes.map((j) => `  ${addIncrement(`tsum${o}_${j}`, obsPrinter.text(program.observed[o].tangent[j]), `tsumc${o}_${j}`)}`)),
    ...sources.map((q) => `      {\n        let after = ${obsPrinter.text(program.spikeSources[q].expr)};\n${indent(events.step(q, `before${q}`, 'after'), '        ')}\n      }`),
  ]);

  const traceCode = join([
    ...obs.map((o) => `        trace[base + ${o}u] = ${obsPrinter.text(program.observed[o].expr)};`),
    ...(layout.traceWidth > O ? obs.flatMap((o) => lanes.map((j) => `        trace[base + ${O + observedTangentSlot(layout, o, j)}u] = ${obsPrinter.text(program.observed[o].tangent[j])};`)) : []),
  ]);

  const storeCode = join([
    ...states.map((k) => `  state[${at(k)}] = ${vars.state(k)};`),
    ...lanes.flatMap((j) => states.map((k) => `  tangent[${at(tangentSlot(layout, j, k))}] = ${vars.tangent(j, k)};`)),
    ...states.map((k) => `  state[${at(S + k)}] = c${k};`),
    ...lanes.flatMap((j) => states.map((k) => `  tangent[${at(L * S + tangentSlot(layout, j, k))}] = c${j}_${k};`)),
    ...obs.map((o) => `  acc[${at(o)}] = sum${o};\n  acc[${at(accSums + o)}] = sumc${o};\n  extrema[${at(o)}] = min${o};\n  extrema[${at(O + o)}] = max${o};`),
    ...obs.flatMap((o) => lanes.map((j) => `  acc[${at(accTangentSlot(o, j))}] = tsum${o}_${j};\n  acc[${at(accSums + accTangentSlot(o, j))}] = tsumc${o}_${j};`)),
    indent(events.store, '  '),
    ...forcing.normalLocals.map((name, slot) => `  acc[${at(accNormalSlot(slot))}] = ${name};\n  acc[${at(accSums + accNormalSlot(slot))}] = ${name}c;`),
  ]);

  const code = fill(template, {
    MODEL: program.modelName,
    METHOD: program.method,
    LANES: L,
    DT: wgslLiteral(program.dtMs),
    THRESHOLD: wgslLiteral(options.spikeThresholdMv ?? 0),
    HYSTERESIS: wgslLiteral(options.maximaHysteresisMv ?? DEFAULT_MAXIMA_HYSTERESIS_MV),
    OPAQUE_ONE_INIT,
    FUNCTIONS: `${OPAQUE_ONE}\n\n${mathFunctions(options.math)}\n\n${[...vectorFunctions, ...series.values()].join('\n\n')}`,
    WORKGROUP: workgroupSize,
    TRACE_ROW_SLOT: layout.params,
    TRACE_WIDTH: layout.traceWidth,
    LOAD_PARAMS: loadParams,
    INIT: initCode,
    INVARIANTS: declareTemps(step.invariant, stepPrinter.body, '  ', 'let'),
    LOAD_STATE: loadState,
    STEP: stepCode,
    OBSERVE: observeCode,
    TRACE: traceCode,
    STORE: storeCode,
    DIVERGED_SKIP: `if (${divergence.skip}) { return; }`,
    DIVERGED_DECLARE: divergence.declare,
    DIVERGED_RECORD: indent(divergence.record, '  '),
    IN_STRIDE: inputLayout.stride,
    WINDOW: windows.steps,
    WINDOW_START: windows.startStep,
    INPUT_BASES: inputBases,
    STEP_READS: indent(forcing.stepReads, '    '),
    OBSERVED_READS: indent(forcing.observedReads, '      '),
    FORCING_STEP: indent(forcing.step, '    '),
    WINDOW_DECLARE: forcing.hasResiduals
      ? '  var untilWindow = 0u;\n  if (accumulate) { untilWindow = (WINDOW - (chunk.stepStart + 1u - WINDOW_START) % WINDOW) % WINDOW; }'
      : '',
  });
  return {
    layout,
    code,
    workgroupSize,
    // states, tangents and running sums carry their compensations in a second half, so results do
    // not depend on where dispatches begin and end
    slots: { state: 2 * S, tangent: 2 * L * S, params: layout.params + 1, acc: 2 * accSums, extrema: 2 * O, events: eventSlots(layout).total },
  };
}
