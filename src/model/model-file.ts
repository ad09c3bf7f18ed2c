/**
 * Models written as data (a YAML/JSON model file, or inline under `model:` in a spec): a neuron from
 * channels, or a network of cells and synapses. The data is validated here (zod: every message names
 * the field), then built by the same builders as the library's models (buildNeuron, buildNetwork), so
 * it becomes expressions only through the expression parser: nothing in a file is ever code.
 *
 *     name: mycell                       # a neuron
 *     channels:
 *       - library: hh.Na                 # a library channel by name (see LIBRARY_CHANNELS)
 *       - name: Kv
 *         conductance: gKv
 *         reversal: EK                   # a parameter, or nernst-ca
 *         params: { gKv: 20, EK: -80 }   # numbers, or { value, unit, description, min, max }
 *         gates:
 *           - { name: n, power: 4, inf: '1/(1 + exp(-(V + 30)/9))', tau: '2 + 8*exp(-((V + 40)/20)^2)' }
 *     calcium: { params: { tauCaMs: 200 } }   # optional pool
 *     params: { initVMv: -70 }
 *
 *     name: net                          # a network
 *     cells:
 *       AB: { library: prinz }           # a library neuron, a Table 2 cell ({ table2: PY1 }) or a neuron as above
 *       LP: { table2: LP4 }
 *     synapses:
 *       - { from: AB, to: LP, type: glutamatergic, gNs: 30 }   # a library synapse or one written out
 */
import { z } from 'zod';
import { InputError } from '../errors.ts';
import type { Model, ParamDef } from './model.ts';
import { buildNetwork, type ChemicalSynapseDef, type SynapseDef } from './network.ts';
import { buildNeuron, type ChannelDef, type NeuronDef } from './neuron.ts';
import { regulate } from './regulation.ts';
import { own } from './names.ts';

/** The library's channels by `<model>.<channel>` (hh.Na, prinz.CaS, liu.H, ...), from its neurons. */
export function libraryChannels(neurons: Record<string, NeuronDef>): Map<string, ChannelDef> {
  return new Map(Object.entries(neurons).flatMap(([model, def]) => def.channels.map((ch) => [`${model}.${ch.name}`, ch] as const)));
}

const got = (x: unknown) => (typeof x === 'string' ? `'${x}'` : JSON.stringify(x));
const finite = () => z.number({ error: (iss) => `must be a number, got ${got(iss.input)}` }).refine(Number.isFinite, { error: 'must be a finite number' });
const text = (what: string) => z.string({ error: `must be ${what} (text)` });
const expression = z.union([z.string(), finite()], { error: (iss) => `must be an expression (text) or a number, got ${got(iss.input)}` });

const paramDefSchema = z.object({
  value: finite(),
  unit: z.string().max(100).default(''),
  description: z.string().max(1000).default(''),
  min: finite().optional(),
  exclusiveMin: z.boolean().optional(),
  max: finite().optional(),
}).strict();
const paramInput = z.union([finite(), paramDefSchema], { error: (iss) => `must be a number or { value, unit, description, min, max }, got ${got(iss.input)}` });
const paramTable = z.record(z.string(), paramInput);

const gateSchema = z.object({
  name: text('a gate name'),
  power: z.number().int({ error: 'must be a positive integer' }).min(1, { error: 'must be a positive integer' }),
  coldStart: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' }).optional(),
  inf: expression.optional(),
  tau: expression.optional(),
  alpha: expression.optional(),
  beta: expression.optional(),
  instantaneous: z.boolean({ error: 'must be true or false' }).optional(),
}).strict();

const channelSchema = z.union([
  z.object({ library: text('a library channel such as hh.Na') }).strict(),
  z.object({
    name: text('a channel name'),
    conductance: text('the name of its conductance parameter'),
    reversal: text('a reversal parameter or nernst-ca'),
    carriesCalcium: z.boolean().optional(),
    rateFactor: expression.optional(),
    params: paramTable.default({}),
    gates: z.array(gateSchema).default([]),
    source: z.string().max(1000).optional(),
  }).strict(),
], { error: 'must be { library: hh.Na } or a channel { name, conductance, reversal, params, gates }' });

/** O'Leary 2014 regulation (regulation.ts): conductances by parameter name with their τ (ms) */
export const regulateSchema = z.object({
  tauMs: z.record(z.string(), finite()),
  tauGMs: finite(),
  caTargetUM: finite(),
  m0: z.record(z.string(), finite()).optional(),
  calcium: z.string().optional(),
}).strict();

const neuronSchema = z.object({
  name: text('a model name'),
  regulate: regulateSchema.optional(),
  channels: z.array(channelSchema).min(1, { error: 'needs at least one channel' }),
  calcium: z.object({ params: paramTable.optional() }).strict().optional(),
  params: paramTable.optional(),
  defaultInit: z.enum(['steady', 'cold'], { error: 'must be steady or cold' }).optional(),
}).strict();

const synapseTypeSchema = z.union([
  text('a library synapse'),
  z.object({
    name: text('a synapse type name'),
    kind: z.literal('chemical', { error: "must be 'chemical' (library types cover gap junctions: electrical)" }),
    gates: z.array(gateSchema).min(1, { error: 'needs at least one gate' }),
    reversal: text('the name of its reversal parameter'),
    params: z.record(z.string(), paramDefSchema),
    source: z.string().max(1000).optional(),
  }).strict(),
]);

const cellSchema = z.union([
  z.object({ library: text('a library neuron such as prinz') }).strict(),
  z.object({ table2: text('a Prinz 2004 Table 2 cell such as LP4') }).strict(),
  neuronSchema,
], { error: 'must be { library: prinz }, { table2: LP4 } or a neuron { name, channels, ... }' });

const networkSchema = z.object({
  name: text('a model name'),
  cells: z.record(z.string(), cellSchema),
  synapses: z.array(z.object({
    from: text('a cell name'),
    to: text('a cell name'),
    type: synapseTypeSchema,
    gNs: finite().refine((g) => g >= 0, { error: 'must be ≥ 0 (nS)' }).optional(),
    name: text('a synapse name').optional(),
    strengthParam: text('a parameter name').optional(),
    params: z.record(z.string(), finite()).optional(),
  }).strict()).default([]),
  defaultInit: z.enum(['steady', 'cold'], { error: 'must be steady or cold' }).optional(),
  regulate: regulateSchema.optional(),
}).strict();

/** A model written as data: a neuron (`channels`) or a network (`cells`). */
export type ModelDefinition = z.input<typeof neuronSchema> | z.input<typeof networkSchema>;

/** True for data that defines a model (a neuron's `channels` or a network's `cells`), as opposed to a built Model. */
export function isModelDefinition(x: unknown): x is ModelDefinition {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && ('channels' in x || 'cells' in x) && !('states' in x);
}

/** What a definition may name from the library (channels/index.ts supplies it; no import cycle). */
export interface ModelLibrary {
  neurons: Record<string, NeuronDef>;
  synapses: Record<string, SynapseDef>;
  table2Cell: (name: string) => NeuronDef;
}

function describe(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  return `${where}${issue.path.length ? `${issue.path.join('.')} ` : ''}${issue.message}`;
}

function neuronOf(data: z.output<typeof neuronSchema>, channels: Map<string, ChannelDef>, where: string): NeuronDef {
  return {
    name: data.name,
    channels: data.channels.map((ch, k) => {
      if ('library' in ch) {
        const found = channels.get(ch.library);
        if (!found) throw new InputError(`${where}channels.${k}.library: unknown channel '${ch.library}'; known: ${[...channels.keys()].join(', ')}`);
        return found;
      }
      return { ...ch, params: ch.params as Record<string, number | ParamDef>, gates: ch.gates };
    }),
    ...(data.calcium ? { calcium: { params: data.calcium.params as Record<string, number | ParamDef> | undefined } } : {}),
    ...(data.params ? { params: data.params as Record<string, number | ParamDef> } : {}),
    ...(data.defaultInit ? { defaultInit: data.defaultInit } : {}),
  };
}

/**
 * Validates a model definition and builds it with buildNeuron or buildNetwork; every problem is an
 * InputError whose message starts with `where` (e.g. 'cell.yaml: ') and names the field.
 */
export function buildModelDefinition(data: unknown, library: ModelLibrary, where = 'model: '): Model {
  try {
    return build(data, library, where);
  } catch (error) {
    // the builders' and the parser's messages name the gate, channel or cell; say which file too
    if (error instanceof InputError && !error.message.startsWith(where)) throw new InputError(`${where}${error.message}`);
    throw error;
  }
}

function build(data: unknown, library: ModelLibrary, where: string): Model {
  const channels = libraryChannels(library.neurons);
  const isNetwork = typeof data === 'object' && data !== null && 'cells' in data;
  if (!isNetwork) {
    const parsed = neuronSchema.safeParse(data);
    if (!parsed.success) throw new InputError(describe(parsed.error, where));
    const neuron = buildNeuron(neuronOf(parsed.data, channels, where));
    return parsed.data.regulate ? regulate(neuron, parsed.data.regulate) : neuron;
  }
  const parsed = networkSchema.safeParse(data);
  if (!parsed.success) throw new InputError(describe(parsed.error, where));
  const net = parsed.data;
  const cells = Object.fromEntries(Object.entries(net.cells).map(([cell, def]) => {
    const at = `${where}cells.${cell}.`;
    if ('library' in def) {
      const neuron = own(library.neurons, def.library);
      if (!neuron) throw new InputError(`${at}library: unknown neuron '${def.library}'; known: ${Object.keys(library.neurons).join(', ')}`);
      return [cell, neuron];
    }
    if ('table2' in def) return [cell, library.table2Cell(def.table2)];
    return [cell, neuronOf(def, channels, at)];
  }));
  const synapses = net.synapses.map((s, k) => {
    let type: SynapseDef;
    if (typeof s.type === 'string') {
      const found = own(library.synapses, s.type);
      if (!found) throw new InputError(`${where}synapses.${k}.type: unknown synapse '${s.type}'; known: ${Object.keys(library.synapses).join(', ')}`);
      type = found;
    } else {
      type = { ...s.type, params: s.type.params as Record<string, ParamDef> } as ChemicalSynapseDef;
    }
    return { ...s, type };
  });
  const network = buildNetwork({ name: net.name, cells, synapses, ...(net.defaultInit ? { defaultInit: net.defaultInit } : {}) });
  return net.regulate ? regulate(network, net.regulate) : network;
}
