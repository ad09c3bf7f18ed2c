/**
 * gpu.js emitter: writes a StepProgram as one plain JavaScript function that gpu.js transpiles to a
 * WebGL2 fragment shader, for browsers without WebGPU. It is the same computation as the WGSL and
 * JavaScript kernels (same scheduling, same printer, the step as increments added with Kahan
 * compensation), shaped by what gpu.js can run:
 *
 * - one thread per instance runs the whole time loop (no state survives between kernel calls: a
 *   thread returns at most four floats in WebGL2), so the caller raises gpu.js's `loopMaxIterations`
 *   (default 1,000) to the step count: the loop bound is an argument, which gpu.js caps at that value;
 * - outputs are a few scalars per instance (at most 4): time averages of observed quantities, their
 *   tangents, and the threshold-crossing count, i.e. what landscapes and sweep features need;
 * - no closures, no arrays but the parameter input: every state, tangent and running sum is a local;
 * - special functions (exp to ≤ 1.5 ulp as in the WGSL kernel, expm1, exprel, exprel') are GLSL
 *   native functions (`nativeFunctions`); `jsFunctions` holds their JavaScript twins, so the same
 *   source also runs as plain JavaScript (tests) and in gpu.js's CPU mode;
 * - `one` is an argument the shader compiler cannot see is 1: multiplying by it keeps the Kahan
 *   compensation from being simplified away, as ONE (read from the uniform `chunk.one`) does in the WGSL kernel.
 *
 * Arguments of the kernel: params (a 2-D input, params[q][i]), nSteps, discardSteps, one.
 */
import { EXPREL_PRIME_SERIES, EXPREL_SERIES } from '../model/expr.ts';
import { InputError } from '../errors.ts';
import { DIVERGED_ABOVE, F32_SERIES_BELOW, declareTemps, leafNamer, powiText, scheduleStep, vars, watchedStates } from './kernel-common.ts';
import { infixArithmetic, makePrinter, type Spelling } from './print.ts';
import type { StepProgram } from './program.ts';

/** What a thread returns: the time average of an observed quantity (or its tangent in a lane), or its threshold-crossing count. */
export type GpuJsOutput = { kind: 'mean'; observed: string; lane?: string } | { kind: 'spikes' };

/**
 * What every output of a diverged instance reads (run.ts turns it into NaN): a finite f32 no mean or
 * count takes, because GLSL leaves NaN's behaviour undefined.
 */
export const GPUJS_DIVERGED = -3.0e38;

/** gpu.js returns at most four floats per thread in WebGL2 (without kernel maps). */
export const GPUJS_MAX_OUTPUTS = 4;

export interface GpuJsKernelOptions {
  outputs: GpuJsOutput[];
  /** upward crossings of this level (mV) by the first spike source are counted. Default 0. */
  spikeThresholdMv?: number;
}

export interface GpuJsKernel {
  /** `function ionsweepKernel(params, nSteps, discardSteps, one) { … }` */
  source: string;
  argumentNames: readonly ['params', 'nSteps', 'discardSteps', 'one'];
  /** GLSL of the special functions the source calls (gpu.addNativeFunction) */
  nativeFunctions: { name: string; source: string }[];
  /** JavaScript of the same functions (gpu.addFunction in gpu.js's CPU mode, or plain JavaScript) */
  jsFunctions: { name: string; source: string }[];
  outputs: GpuJsOutput[];
  /** gpu.js returnType for this many outputs */
  returnType: 'Number' | 'Array(2)' | 'Array(3)' | 'Array(4)';
  params: number;
}

/** A float literal both JavaScript and GLSL read as a float (gpu.js passes literals through). */
export function floatLiteral(v: number): string {
  // full f64 digits: the GLSL compiler rounds to f32, and the JavaScript twin stays exact
  const x = v;
  if (!Number.isFinite(x) || !Number.isFinite(Math.fround(x))) throw new InputError(`gpu.js kernels cannot hold the constant ${v} (not a finite f32)`);
  let text = String(Math.abs(x));
  if (!/[.e]/.test(text)) text += '.0';
  return x < 0 || Object.is(x, -0) ? `(-${text})` : text;
}

const EXP = 'ionsweepExp', EXPM1 = 'ionsweepExpm1', EXPREL = 'ionsweepExprel', EXPREL_PRIME = 'ionsweepExprelPrime';

function gpujsSpelling(leaf: Spelling['leaf']): Spelling {
  return {
    literal: floatLiteral,
    leaf,
    op(node, a) {
      const infix = infixArithmetic(node.op, a);
      if (infix !== undefined) return infix;
      switch (node.op) {
        case 'exp': return `${EXP}(${a[0]})`;
        case 'log': return `Math.log(${a[0]})`;
        case 'sqrt': return `Math.sqrt(${a[0]})`;
        case 'abs': return `Math.abs(${a[0]})`;
        case 'tanh': return `Math.tanh(${a[0]})`;
        case 'sin': return `Math.sin(${a[0]})`;
        case 'cos': return `Math.cos(${a[0]})`;
        case 'tan': return `Math.tan(${a[0]})`;
        // gpu.js maps the Math functions GLSL ES 1 has; sinh and cosh through exp
        case 'sinh': return `(0.5 * (Math.exp(${a[0]}) - Math.exp(-(${a[0]}))))`;
        case 'cosh': return `(0.5 * (Math.exp(${a[0]}) + Math.exp(-(${a[0]}))))`;
        case 'ceil': return `Math.ceil(${a[0]})`;
        case 'heaviside': return `(${a[0]} > 0.0 ? 1.0 : 0.0)`;
        case 'powi': return powiText(a[0], node.value, (s) => `(${s})`);
        case 'expm1': return `${EXPM1}(${a[0]})`;
        case 'exprel': return `${EXPREL}(${a[0]})`;
        case 'exprelPrime': return `${EXPREL_PRIME}(${a[0]})`;
        case 'min': return `Math.min(${a[0]}, ${a[1]})`;
        case 'max': return `Math.max(${a[0]}, ${a[1]})`;
        case 'lt': return `(${a[0]} < ${a[1]} ? 1.0 : 0.0)`;
        case 'le': return `(${a[0]} <= ${a[1]} ? 1.0 : 0.0)`;
        case 'and': return `(${a[0]} != 0.0 && ${a[1]} != 0.0 ? 1.0 : 0.0)`;
        case 'select': return `(${a[0]} != 0.0 ? ${a[1]} : ${a[2]})`;
        default: throw new Error(`gpu.js emitter: no spelling for ${node.op}`);
      }
    },
  };
}

const glslFloat = (v: number) => floatLiteral(v).replace(/^\(-(.*)\)$/, '-$1');
const hornerGlsl = (c: readonly number[], x: string) => c.slice().reverse().reduce((acc, k, i) => (i === 0 ? glslFloat(k) : `${glslFloat(k)} + ${x} * (${acc})`), '');
const hornerJs = (c: readonly number[], x: string) => c.slice().reverse().reduce((acc, k, i) => (i === 0 ? String(k) : `${k} + ${x} * (${acc})`), '');
const EXP_POLY = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040];

/**
 * The special functions in GLSL: the WGSL kernel's formulas (emit-wgsl.ts), in f32. Each is self-
 * contained (its own copy of the exp code): gpu.js emits native functions in the order the kernel
 * first calls them, so one may not call another.
 */
function nativeFunctions(): { name: string; source: string }[] {
  const below = glslFloat(F32_SERIES_BELOW);
  // exp(x) to ≤ 1.5 ulp: Cody–Waite reduction, degree-7 polynomial, 2^k from its bits
  const exp = (x: string, out: string) => `float ${out}_x = clamp(${x}, -87.3, 88.0);
  float ${out}_k = floor(${out}_x * 1.442695041 + 0.5);
  float ${out}_r = (${out}_x - ${out}_k * 0.693145751953125) - ${out}_k * 1.428606765330187e-6;
  float ${out} = (${hornerGlsl(EXP_POLY, `${out}_r`)}) * intBitsToFloat((int(${out}_k) + 127) << 23);`;
  return [
    { name: EXP, source: `float ${EXP}(float x) {\n  ${exp('x', 'e')}\n  return e;\n}` },
    { name: EXPM1, source: `float ${EXPM1}(float x) {\n  if (abs(x) < ${below}) { return x * (${hornerGlsl(EXPREL_SERIES, 'x')}); }\n  ${exp('x', 'e')}\n  return e - 1.0;\n}` },
    // the clamp keeps e finite; where the closed forms give ∞/∞ (|x| ≥ 2^23) the values are +∞ (x > 0) and 0
    { name: EXPREL, source: `float ${EXPREL}(float x) {\n  if (abs(x) < ${below}) { return ${hornerGlsl(EXPREL_SERIES, 'x')}; }\n  if (isinf(x)) { return max(x, 0.0); }\n  ${exp('x', 'e')}\n  return (e - 1.0) / x;\n}` },
    {
      name: EXPREL_PRIME,
      source: `float ${EXPREL_PRIME}(float x) {\n  if (abs(x) < ${below}) { return ${hornerGlsl(EXPREL_PRIME_SERIES, 'x')}; }\n  if (abs(x) >= 8388608.0) { return x > 0.0 ? uintBitsToFloat(0x7f800000u) : 0.0; }\n  ${exp('x', 'e')}\n  return (((x * e) - e) + 1.0) / (x * x);\n}`,
    },
  ];
}

/** JavaScript twins of the native functions (f64 arithmetic, the same formulas). */
function jsFunctions(): { name: string; source: string }[] {
  return [
    { name: EXP, source: `function ${EXP}(x) { return Math.exp(x); }` },
    { name: EXPM1, source: `function ${EXPM1}(x) { if (Math.abs(x) < ${F32_SERIES_BELOW}) { return x * (${hornerJs(EXPREL_SERIES, 'x')}); } return Math.exp(x) - 1.0; }` },
    { name: EXPREL, source: `function ${EXPREL}(x) { if (Math.abs(x) < ${F32_SERIES_BELOW}) { return ${hornerJs(EXPREL_SERIES, 'x')}; } if (x === Infinity) { return x; } return (Math.exp(x) - 1.0) / x; }` },
    { name: EXPREL_PRIME, source: `function ${EXPREL_PRIME}(x) { if (Math.abs(x) < ${F32_SERIES_BELOW}) { return ${hornerJs(EXPREL_PRIME_SERIES, 'x')}; } if (x === -Infinity) { return 0; } if (x > 709) { return Infinity; } const e = Math.exp(x); return (((x * e) - e) + 1.0) / (x * x); }` },
  ];
}

/** Emits the gpu.js kernel of a program for the given outputs. */
export function emitGpuJs(program: StepProgram, options: GpuJsKernelOptions): GpuJsKernel {
  const { outputs } = options;
  if (outputs.length < 1 || outputs.length > GPUJS_MAX_OUTPUTS) {
    throw new InputError(`a gpu.js kernel returns 1 to ${GPUJS_MAX_OUTPUTS} values per instance (WebGL2), asked for ${outputs.length}`);
  }
  const obsIndex = (name: string) => {
    const o = program.observed.findIndex((x) => x.name === name);
    if (o < 0) throw new InputError(`no observed quantity '${name}'; observed: ${program.observed.map((x) => x.name).join(', ')}`);
    return o;
  };
  const laneIndex = (key: string) => {
    const j = program.lanes.findIndex((l) => l.key === key);
    if (j < 0) throw new InputError(`no tangent lane '${key}'; lanes: ${program.lanes.map((l) => l.key).join(', ') || '(none)'}`);
    return j;
  };
  if (outputs.some((o) => o.kind === 'spikes') && program.spikeSources.length === 0) throw new InputError('spike counts need a spike source; this model has none');

  const { step, observed, init } = scheduleStep(program, 'smaller');
  const watched = watchedStates(program);
  const spelling = gpujsSpelling(leafNamer(program, 't'));
  const stepPrinter = makePrinter(spelling, [step]);
  const obsPrinter = makePrinter(spelling, [observed]);
  const initPrinter = makePrinter(spelling, [init]);
  const plain = makePrinter(spelling, []);
  const S = program.states.length, L = program.lanes.length;
  const states = [...Array(S).keys()], lanes = [...Array(L).keys()];

  // running sums: only those the outputs need
  const sums = new Map<string, { value: (printer: typeof obsPrinter) => string }>();
  const sumName = (o: number, j?: number) => (j === undefined ? `sum${o}` : `tsum${o}_${j}`);
  for (const out of outputs) {
    if (out.kind !== 'mean') continue;
    const o = obsIndex(out.observed);
    const j = out.lane === undefined ? undefined : laneIndex(out.lane);
    const name = sumName(o, j);
    if (!sums.has(name)) sums.set(name, { value: (p) => p.text(j === undefined ? program.observed[o].expr : program.observed[o].tangent[j]) });
  }
  const countSpikes = outputs.some((o) => o.kind === 'spikes');

  const compensated = (x: string, inc: string, c: string, pad: string) =>
    `${pad}const y_${x} = ${inc} - ${c};\n${pad}const u_${x} = ${x} + y_${x};\n${pad}${c} = (u_${x} - ${x} * one) - y_${x};\n${pad}${x} = u_${x};`;

  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push('function ionsweepKernel(params, nSteps, discardSteps, one) {');
  push('  const i = this.thread.x;');
  program.instanceParams.forEach((_, q) => push(`  const ${vars.param(q)} = params[${q}][i];`));
  push(declareTemps(init.perStep, initPrinter.body, '  ', 'const'));
  states.forEach((k) => push(`  let ${vars.state(k)} = ${initPrinter.text(program.initial.state[k])};`, `  let k${k} = 0.0;`));
  lanes.forEach((j) => states.forEach((k) => push(`  let ${vars.tangent(j, k)} = ${initPrinter.text(program.initial.tangent[j][k])};`, `  let k${j}_${k} = 0.0;`)));
  for (const name of sums.keys()) push(`  let ${name} = 0.0;`, `  let ${name}c = 0.0;`);
  if (countSpikes) push('  let spikes = 0.0;');
  push('  let diverged = 0.0;');
  push(declareTemps(step.invariant, stepPrinter.body, '  ', 'const'));
  push('  for (let n = 0; n < nSteps; n++) {');
  push(`    const t = n * ${floatLiteral(program.dtMs)};`);
  if (countSpikes) push(`    const before = ${plain.text(program.spikeSources[0].expr)};`);
  push(declareTemps(step.perStep, stepPrinter.body, '    ', 'const'));
  states.forEach((k) => push(`    const ${vars.next(k)} = ${stepPrinter.text(program.next.increment[k])};`));
  lanes.forEach((j) => states.forEach((k) => push(`    const ${vars.nextTangent(j, k)} = ${stepPrinter.text(program.next.tangentIncrement[j][k])};`)));
  states.forEach((k) => push(compensated(vars.state(k), vars.next(k), `k${k}`, '    ')));
  lanes.forEach((j) => states.forEach((k) => push(compensated(vars.tangent(j, k), vars.nextTangent(j, k), `k${j}_${k}`, '    '))));
  // divergence (kernel-common.ts, divergenceCode): the watched states, NaN, ±Inf or |x| ≥ DIVERGED_ABOVE
  push(`    if (!(${watched.map((k) => `Math.abs(${vars.state(k)}) < ${floatLiteral(DIVERGED_ABOVE)}`).join(' && ')})) {`, '      diverged = 1.0;', '    }');
  push('    if (n >= discardSteps) {');
  push(declareTemps(observed.perStep, obsPrinter.body, '      ', 'const'));
  for (const [name, s] of sums) push(compensated(name, s.value(obsPrinter), `${name}c`, '      '));
  if (countSpikes) {
    const threshold = floatLiteral(options.spikeThresholdMv ?? 0);
    push(`      const after = ${obsPrinter.text(program.spikeSources[0].expr)};`);
    push(`      if (before < ${threshold} && after >= ${threshold}) {`, '        spikes = spikes + 1.0;', '      }');
  }
  push('    }');
  push('  }');
  push('  const samples = nSteps - discardSteps;');
  const values = outputs.map((out) => {
    if (out.kind === 'spikes') return 'spikes';
    const o = obsIndex(out.observed);
    return `${sumName(o, out.lane === undefined ? undefined : laneIndex(out.lane))} / samples`;
  }).map((v) => `(diverged > 0.5 ? ${floatLiteral(GPUJS_DIVERGED)} : ${v})`);
  push(values.length === 1 ? `  return ${values[0]};` : `  return [${values.join(', ')}];`);
  push('}');
  const returnType = (['Number', 'Array(2)', 'Array(3)', 'Array(4)'] as const)[outputs.length - 1];
  return {
    source: lines.filter((l) => l.trim() !== '').join('\n'),
    argumentNames: ['params', 'nSteps', 'discardSteps', 'one'],
    nativeFunctions: nativeFunctions(),
    jsFunctions: jsFunctions(),
    outputs,
    returnType,
    params: program.instanceParams.length,
  };
}

/**
 * The kernel as a plain JavaScript function of one instance (f64): what gpu.js's source means,
 * without gpu.js. `run(params, i, nSteps, discardSteps)` returns the outputs of instance i.
 */
export function instantiateGpuJsAsJs(kernel: GpuJsKernel): (params: ArrayLike<number>[], i: number, nSteps: number, discardSteps: number) => number[] {
  const fn = new Function(`${kernel.jsFunctions.map((f) => f.source).join('\n')}\nreturn ${kernel.source};`)() as (this: { thread: { x: number } }, ...args: unknown[]) => number | number[];
  return (params, i, nSteps, discardSteps) => {
    const r = fn.call({ thread: { x: i } }, params, nSteps, discardSteps, 1);
    return Array.isArray(r) ? r : [r];
  };
}
