/**
 * Recordings made by simulation: a model's observed quantity sampled at every step from t = 0 (the
 * initial state included), as a fit's synthetic data or a teacher-forcing test's ground truth.
 */
import { compile, type CompileOptions } from '../../compile/compile.ts';
import { runCpu } from '../../engine/cpu.ts';
import type { Recording } from '../../engine/inputs.ts';
import { InputError } from '../../errors.ts';
import { evaluateAll } from '../../model/evaluate.ts';
import type { Model } from '../../model/model.ts';

/**
 * The observed quantity `observed` (e.g. V) of one run of `model` on the f64 CPU engine, sampled at
 * every step from t = 0 to durationMs (durationMs/dt + 1 samples); `inputs`: the recordings the model
 * reads (a current waveform named by `currentInput`).
 */
export async function simulateRecording(model: Model, options: Omit<CompileOptions, 'tangents' | 'instanceParams'> & { durationMs: number; observed: string; inputs?: Readonly<Record<string, Recording>> }): Promise<Float64Array> {
  const program = compile(model, options);
  const o = program.observed.findIndex((x) => x.name === options.observed);
  if (o < 0) throw new InputError(`model ${model.name} observes no '${options.observed}'; observed: ${program.observed.map((x) => x.name).join(', ')}`);
  const run = await runCpu({ program, N: 1, durationMs: options.durationMs, traceEveryMs: options.dtMs, traceInstances: [0], inputs: options.inputs }, { threads: 1 });
  const series = run.traces!.series(0, options.observed);
  const initial = evaluateAll(program.initial.state, { param: (name) => program.values[name] });
  const state = new Map(program.states.map((s, k) => [s.name, initial[k]]));
  const first = evaluateAll([program.observed[o].expr], { state: (name) => state.get(name)!, param: (name) => program.values[name], timeMs: 0 })[0];
  const out = new Float64Array(series.length + 1);
  out[0] = first;
  out.set(series, 1);
  return out;
}
