/** The channel library and the named models built from it. */
import { InputError } from '../errors.ts';
import { buildNeuron, type NeuronDef } from '../model/neuron.ts';
import type { Model } from '../model/model.ts';
import { hhNeuron } from './hh.ts';
import { prinzNeuron } from './prinz.ts';
import { liuNeuron } from './liu.ts';
import { prinz2004Cell, pyloric } from './pyloric.ts';
import { SYNAPSES } from './synapses.ts';
import { buildModelDefinition, isModelDefinition, type ModelDefinition } from '../model/model-file.ts';
import { validateModel } from '../model/validate.ts';
import { own } from '../model/names.ts';

export * as hh from './hh.ts';
export * as prinz from './prinz.ts';
export * as liu from './liu.ts';

/** Neurons known by name on the command line and in spec files. */
export const NEURONS: Record<string, NeuronDef> = { hh: hhNeuron, prinz: prinzNeuron, liu: liuNeuron };

/** Networks known by name (pyloric.ts), with their default cells and synapses. */
export const NETWORKS: Record<string, () => Model> = { pyloric: () => pyloric() };

/** Single neurons by name (what a sweep takes until network sweeps land). */
export const NEURON_NAMES = Object.keys(NEURONS);
export const MODEL_NAMES = [...NEURON_NAMES, ...Object.keys(NETWORKS)];

/**
 * The model a spec or a call names: a library model's name, a model written as data (model-file.ts,
 * built by the library's builders) or a Model already built (from TypeScript).
 */
export function resolveModel(model: string | ModelDefinition | Model, where = 'model: '): Model {
  if (typeof model === 'string') return libraryModel(model);
  if (isModelDefinition(model)) return buildModelDefinition(model, { neurons: NEURONS, synapses: SYNAPSES, table2Cell: prinz2004Cell }, where);
  return validateModel(model);
}

/** Builds a named library model, or throws an error that lists the known names. */
export function libraryModel(name: string): Model {
  if (Object.hasOwn(NETWORKS, name)) return NETWORKS[name]();
  const def = own(NEURONS, name);
  if (!def) throw new InputError(`unknown model '${name}'; allowed: ${MODEL_NAMES.join(', ')}`);
  return buildNeuron(def);
}
