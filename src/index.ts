/** ionsweep: the library's public surface. */
// the GPU engine's types name WebGPU's (GPUDevice, ...): a user's type-check needs them too
/// <reference types="@webgpu/types" preserve="true" />
export * as expr from './model/expr.ts';
export { parseExpr } from './model/parse.ts';
export { buildNeuron, type ChannelDef, type GateDef, type NeuronDef, type CalciumPoolDef } from './model/neuron.ts';
export type { Model, ParamDef, StateDef } from './model/model.ts';
export { regulate, type RegulationSpec } from './model/regulation.ts';
export { runRegulatedPopulation, type RegulatedPopulationSpec, type RegulatedPopulationResult, type Knockout } from './jobs/regulated-population.ts';
export { runLong, type LongRunSpec, type LongRunPhase, type IntervalOutput } from './jobs/long-run.ts';
export { pearson, majorAxisSlope, correlationMatrix } from './analysis/population-stats.ts';
export { buildNetwork, prefixModel, networkCells, type NetworkDef, type SynapseDef, type ChemicalSynapseDef, type ElectricalSynapseDef, type SynapseInstance } from './model/network.ts';
export { SYNAPSES, glutamatergic, cholinergic, gabaA, ampa, electrical } from './channels/synapses.ts';
export { pyloric, prinz2004Cell, PYLORIC_SYNAPSES, PYLORIC_SYNAPSE_PARAMS, PYLORIC_CELL_CHOICES, PYLORIC_DEFAULTS } from './channels/pyloric.ts';
export { hh, prinz, liu, libraryModel, NEURONS, MODEL_NAMES } from './channels/index.ts';
export { PRINZ_2004_CELLS, CONDUCTANCE_NAMES } from './channels/prinz2004-cells.ts';
export { compile, type CompileOptions } from './compile/compile.ts';
export type { StepProgram, Lane, CurrentStep, Method } from './compile/program.ts';
export { runCpu } from './engine/cpu.ts';
export { runEnsemble } from './engine/run.ts';
export type { EnsembleSpec, EnsembleResult, ParamTable, DivergenceResult, InstanceStatus } from './engine/ensemble.ts';
export { statusOf, describeDivergence } from './engine/results.ts';
export { simulate, type SimulateSpec, type SimulationResult } from './jobs/simulate.ts';
export { runPopulation, type PopulationSpec } from './jobs/ensemble.ts';
export { runGpu } from './engine/gpu/gpu.ts';
export { GpuSession } from './engine/gpu/session.ts';
export { getGpu, wrapDevice, GpuError } from './engine/gpu/device.ts';
export { emitWgsl } from './compile/emit-wgsl.ts';
export { classifyActivity, type ActivityFeatures } from './analysis/classify.ts';
export { parseSweepSpec, resolveSweep } from './jobs/sweep/spec.ts';
export { runSweepShard, type SweepSink, type ChunkData, type ChunkSummary, type ShardReport } from './jobs/sweep/run.ts';
export { chunkColumns } from './jobs/sweep/rows.ts';
export { InputError } from './errors.ts';
export { evaluateCosts } from './analysis/costs.ts';
export { withObserved } from './model/observe.ts';
export { runLandscape, type LandscapeSpecInput, type LandscapeResult } from './jobs/landscape.ts';
export { runFit, type FitResult } from './jobs/fit/run.ts';
export { runCurve } from './jobs/curve/run.ts';
