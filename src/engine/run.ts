/**
 * Engine selection: runs an ensemble on the engine asked for, or picks one (`auto`) and says why.
 */
import { InputError } from '../errors.ts';
import type { EnsembleResult, EnsembleSpec } from './ensemble.ts';
import { runCpu } from './cpu.ts';

export const ENGINE_CHOICES = ['cpu', 'gpu', 'auto'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export interface RunOptions {
  engine?: EngineChoice;
  /** CPU worker threads */
  threads?: number;
  /** a single-instance run: `auto` prefers the f64 CPU engine, which is faster than a GPU for one neuron */
  singleInstance?: boolean;
}

export interface EngineRun {
  result: EnsembleResult;
  /** why `auto` chose this engine, or a fallback notice */
  note?: string;
}

export async function runEnsemble(spec: EnsembleSpec, options: RunOptions = {}): Promise<EngineRun> {
  const engine = options.engine ?? 'auto';
  if (engine === 'gpu') {
    throw new InputError('the GPU engine is not available in this build yet; use --engine cpu or auto');
  }
  const note = engine === 'auto' ? 'auto: ran on the CPU engine (f64)' : undefined;
  return { result: await runCpu(spec, { threads: options.threads }), note };
}
