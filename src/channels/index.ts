/** The channel library and the named models built from it. */
import { InputError } from '../errors.ts';
import { buildNeuron, type NeuronDef } from '../model/neuron.ts';
import type { Model } from '../model/model.ts';
import { hhNeuron } from './hh.ts';
import { prinzNeuron } from './prinz.ts';
import { liuNeuron } from './liu.ts';

export * as hh from './hh.ts';
export * as prinz from './prinz.ts';
export * as liu from './liu.ts';

/** Neurons known by name on the command line and in spec files. */
export const NEURONS: Record<string, NeuronDef> = { hh: hhNeuron, prinz: prinzNeuron, liu: liuNeuron };

export const MODEL_NAMES = Object.keys(NEURONS);

/** Builds a named library model, or throws an error that lists the known names. */
export function libraryModel(name: string): Model {
  const def = Object.hasOwn(NEURONS, name) ? NEURONS[name] : undefined;
  if (!def) throw new InputError(`unknown model '${name}'; allowed: ${MODEL_NAMES.join(', ')}`);
  return buildNeuron(def);
}
