/**
 * The ensemble job: a model, a parameter table (one row per instance: columns by name, or a
 * row-major Float32Array/Float64Array with `columns` naming its columns), and a run length; back come
 * per-instance observables with gradients. Compiles and picks an engine, so a caller needs neither.
 *
 *     const { result } = await runPopulation({ model: 'prinz', params: { gNa: Float32Array.of(100, 200) },
 *                                              durationMs: 2000, tangents: ['log:gNa'] });
 *     result.observed[1].mean;            // mean [Ca] per instance (µM)
 *     result.observed[1].meanTangent[0];  // d mean [Ca] / d log gNa per instance
 */
import { z } from 'zod';
import { resolveModel } from '../channels/index.ts';
import { GPU_MATH } from '../compile/emit-wgsl.ts';
import { compile } from '../compile/compile.ts';
import { METHODS } from '../compile/program.ts';
import type { ParamTable } from '../engine/ensemble.ts';
import { ENGINE_CHOICES, runEnsemble, type EngineRun } from '../engine/run.ts';
import { InputError } from '../errors.ts';
import { describeIssue, finite, nonNegative, oneOf, positive, namedRecord, modelSchema } from './schema.ts';

const populationSchema = z.object({
  model: modelSchema(),
  /** columns by parameter name (each of length N), or a row-major table with `columns` */
  params: z.custom<ParamTable>((p) => typeof p === 'object' && p !== null, { error: 'must be columns by name or a Float32Array/Float64Array' }),
  /** names of the columns of a row-major table */
  columns: z.array(z.string()).optional(),
  durationMs: positive('ms'),
  discardMs: nonNegative('ms').default(0),
  dtMs: positive('ms').default(0.025),
  method: oneOf(METHODS).default('exp-euler'),
  /** values of the parameters that are the same for every instance */
  fixed: namedRecord(finite()).default({}),
  tangents: z.array(z.string()).default([]),
  maximaCapacity: z.number().int().min(0).max(65536).default(0),
  engine: oneOf(ENGINE_CHOICES).default('auto'),
  gpuMath: oneOf(GPU_MATH).default('accurate'),
  onProgress: z.custom<(fraction: number) => void>((f) => typeof f === 'function').optional(),
}).strict();

export type PopulationSpec = z.input<typeof populationSchema>;

/** Runs N instances of a model, one per row of the parameter table. */
export async function runPopulation(input: PopulationSpec): Promise<EngineRun> {
  const parsed = populationSchema.safeParse(input);
  if (!parsed.success) throw new InputError(describeIssue(parsed.error));
  const spec = parsed.data;
  const model = resolveModel(spec.model);
  const table = spec.params as ParamTable;
  const rowMajor = table instanceof Float32Array || table instanceof Float64Array;
  if (rowMajor && !spec.columns) throw new InputError('columns: a row-major parameter table needs the names of its columns');
  const names = rowMajor ? spec.columns! : Object.keys(table);
  if (names.length === 0) throw new InputError('params: the table has no columns');
  const N = rowMajor ? table.length / names.length : (table as Record<string, ArrayLike<number>>)[names[0]].length;
  if (!Number.isInteger(N) || N < 1) throw new InputError(`params: a row-major table of ${table.length} values does not split into rows of ${names.length} columns`);
  const program = compile(model, {
    method: spec.method, dtMs: spec.dtMs, values: spec.fixed, instanceParams: names, tangents: spec.tangents,
  });
  // a row-major table must follow the program's parameter order, which puts tangent parameters last
  let params: ParamTable = table;
  if (rowMajor && program.instanceParams.join() !== names.join()) {
    params = Object.fromEntries(names.map((name, c) => [name, Float64Array.from({ length: N }, (_, i) => table[i * names.length + c])]));
  }
  return runEnsemble(
    { program, N, params, durationMs: spec.durationMs, discardMs: spec.discardMs, maximaCapacity: spec.maximaCapacity, onProgress: spec.onProgress },
    { engine: spec.engine, gpuMath: spec.gpuMath },
  );
}
