/**
 * `ionsweep models` lists what the library holds (models, channels for model files, synapse types);
 * `ionsweep describe MODEL` prints every parameter of a model with its default, unit, range and
 * description, for a library model or a model file.
 */
import { Command } from 'commander';
import { MODEL_NAMES, NETWORKS, NEURONS, libraryModel, resolveModel } from '../channels/index.ts';
import { SYNAPSES } from '../channels/synapses.ts';
import { InputError } from '../errors.ts';
import { readModelFile } from '../io/spec-file.ts';
import { describeRange, type Model } from '../model/model.ts';
import type { ModelDefinition } from '../model/model-file.ts';
import { libraryChannels } from '../model/model-file.ts';
import { networkCells } from '../model/network.ts';
import { writeStdout } from './util.ts';
import { exportNeuroML } from '../io/neuroml/export.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { own } from '../model/names.ts';

/** Columns padded to their widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

function summary(name: string, model: Model): string[] {
  const cells = networkCells(model);
  const kind = cells.length > 1 ? `network of ${cells.length} cells (${cells.join(', ')})` : 'neuron';
  return [name, kind, String(model.states.length), String(Object.keys(model.params).length)];
}

export function modelsCommand(): Command {
  return new Command('models')
    .description('list the library: models, channels (for model files) and synapse types')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const models = MODEL_NAMES.map((name) => ({ name, model: libraryModel(name) }));
      const channels = [...libraryChannels(NEURONS).entries()];
      if (flags.json) {
        await writeStdout(JSON.stringify({
          models: models.map(({ name, model }) => ({ name, network: Object.hasOwn(NETWORKS, name), cells: networkCells(model), states: model.states.length, parameters: Object.keys(model.params).length })),
          channels: channels.map(([name, ch]) => ({ name, conductance: ch.conductance, reversal: ch.reversal, gates: ch.gates.map((g) => `${g.name}^${g.power}`), source: ch.source ?? null })),
          synapses: Object.entries(SYNAPSES).map(([name, s]) => ({ name, kind: s.kind, source: s.source ?? null })),
        }, null, 2) + '\n');
        return;
      }
      await writeStdout([
        'models (--model NAME, model: NAME in specs; ionsweep describe NAME for their parameters)',
        table([['name', 'kind', 'states', 'parameters'], ...models.map(({ name, model }) => summary(name, model))]),
        '',
        'channels (library: NAME in a model file)',
        table([['name', 'conductance', 'reversal', 'gates', 'source'], ...channels.map(([name, ch]) => [name, ch.conductance, ch.reversal, ch.gates.map((g) => `${g.name}^${g.power}`).join(' ') || '-', ch.source ?? ''])]),
        '',
        'synapse types (type: NAME in a model file\'s synapses)',
        table([['name', 'kind', 'source'], ...Object.entries(SYNAPSES).map(([name, s]) => [name, s.kind, s.source ?? ''])]),
      ].join('\n') + '\n');
    });
}

export function describeCommand(): Command {
  return new Command('describe')
    .description('print every parameter of a model: default, unit, allowed range, description')
    .argument('[model]', `a library model (${MODEL_NAMES.join(', ')})`)
    .option('--model-file <file>', 'a model file (YAML/JSON) instead of a library model')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, flags: { modelFile?: string; json?: boolean }) => {
      if ((name === undefined) === (flags.modelFile === undefined)) throw new InputError(`describe: give a library model (${MODEL_NAMES.join(', ')}) or --model-file, one of the two`);
      const model = flags.modelFile !== undefined
        ? resolveModel(await readModelFile(flags.modelFile) as ModelDefinition, `${flags.modelFile}: `)
        : libraryModel(name!);
      const params = Object.entries(model.params);
      if (flags.json) {
        await writeStdout(JSON.stringify({ model: model.name, states: model.states.map((s) => s.name), parameters: Object.fromEntries(params) }, null, 2) + '\n');
        return;
      }
      await writeStdout([
        `${summary(model.name, model)[1]} ${model.name}: ${model.states.length} states (${model.states.map((s) => s.name).join(', ')})`,
        table([['parameter', 'default', 'unit', 'range', 'description'], ...params.map(([p, d]) => [p, String(d.value), d.unit || '-', describeRange(d) || '-', d.description])]),
      ].join('\n') + '\n');
    });
}

export function exportNeuroMLCommand(): Command {
  return new Command('export-neuroml')
    .description('write a library neuron as NeuroML2 (channels as LEMS ComponentTypes; ionsweep and jNeuroML read it back)')
    .argument('<model>', `a library neuron (${Object.keys(NEURONS).join(', ')})`)
    .option('--out <file.nml>', 'write to this file instead of standard output')
    .action(async (name: string, flags: { out?: string }) => {
      const def = own(NEURONS, name);
      if (!def) throw new InputError(`export-neuroml: '${name}' is not a library neuron; allowed: ${Object.keys(NEURONS).join(', ')}`);
      const text = exportNeuroML(def);
      if (flags.out) await writeFileAtomic(flags.out, text);
      else await writeStdout(text);
    });
}
