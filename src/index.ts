/** ionsweep: the library's public surface. */
export * as expr from './model/expr.ts';
export { parseExpr } from './model/parse.ts';
export { buildNeuron, type ChannelDef, type GateDef, type NeuronDef, type CalciumPoolDef } from './model/neuron.ts';
export type { Model, ParamDef, StateDef } from './model/model.ts';
export { hh, prinz, liu, libraryModel, NEURONS, MODEL_NAMES } from './channels/index.ts';
export { PRINZ_2004_CELLS, CONDUCTANCE_NAMES } from './channels/prinz2004-cells.ts';
export { compile, type CompileOptions } from './compile/compile.ts';
export type { StepProgram, Lane, CurrentStep, Method } from './compile/program.ts';
export { runCpu } from './engine/cpu.ts';
export { runEnsemble } from './engine/run.ts';
export type { EnsembleSpec, EnsembleResult, ParamTable } from './engine/ensemble.ts';
export { simulate, type SimulateSpec, type SimulationResult } from './jobs/simulate.ts';
export { InputError } from './errors.ts';
