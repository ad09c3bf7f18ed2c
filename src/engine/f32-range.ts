/**
 * The f32 engines (WGSL, gpu.js) hold parameter values and the model's folded constants in single
 * precision, whose finite range ends at ±3.4028235e38: a value beyond it becomes ±Inf there, and the
 * run NaN, while the f64 CPU engine runs it finite (`simulate --set gKd=1e308`). These checks refuse
 * such runs up front, in one line naming the parameter, instead of letting them diverge on the GPU only.
 */
import { InputError } from '../errors.ts';
import type { StepProgram } from '../compile/program.ts';

/** The largest finite f32. */
export const F32_MAX = 3.4028234663852886e38;

/** True when v is finite in f64 but rounds to ±Inf in f32. */
export const overflowsF32 = (v: number): boolean => Number.isFinite(v) && !Number.isFinite(Math.fround(v));

/**
 * Refuses parameter values an f32 engine cannot hold: the program's fixed (folded) values, and the
 * per-instance values `params` ([P][N], structure of arrays, as packParams lays them out).
 */
export function checkF32Params(program: StepProgram, N: number, params: ArrayLike<number>, engine: string): void {
  for (const [name, v] of Object.entries(program.values)) {
    if (program.instanceParams.includes(name)) continue;
    if (overflowsF32(v)) throw new InputError(`parameter ${name} = ${v} is beyond the f32 range (|x| ≤ 3.4e38) of the ${engine} engine; use a smaller value or the CPU engine (f64)`);
  }
  program.instanceParams.forEach((name, q) => {
    for (let i = 0; i < N; i++) {
      const v = params[q * N + i];
      if (overflowsF32(v)) throw new InputError(`parameter ${name} = ${v} (instance ${i}) is beyond the f32 range (|x| ≤ 3.4e38) of the ${engine} engine; use a smaller value or the CPU engine (f64)`);
    }
  });
}

/**
 * The message for a constant the compiler folded from fixed parameters that overflows f32 although
 * each parameter fits (a product such as g·area·1000): it names the fixed parameter of largest magnitude.
 */
export function f32ConstantMessage(program: StepProgram, value: number, engine: string): string {
  let largest: [string, number] | undefined;
  for (const [name, v] of Object.entries(program.values)) {
    if (program.instanceParams.includes(name)) continue;
    if (!largest || Math.abs(v) > Math.abs(largest[1])) largest = [name, v];
  }
  const hint = largest ? ` (largest fixed parameter: ${largest[0]} = ${largest[1]})` : '';
  return `the model folds its fixed parameters into the constant ${value.toPrecision(3)}, beyond the f32 range (|x| ≤ 3.4e38) of the ${engine} engine${hint}; use smaller values or the CPU engine (f64)`;
}
