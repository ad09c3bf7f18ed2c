/**
 * Models written as data (src/model/model-file.ts): a neuron from library and written-out channels,
 * a network of Table 2 cells and library synapses, from `simulate --model-file`, from `model:` in a
 * spec (inline or `{ file }` relative to the spec) and from `describe`. They must build exactly the
 * models the TypeScript builders make, and every bad file must end in one line naming the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { hh, resolveModel } from '../src/channels/index.ts';
import { pyloric } from '../src/channels/pyloric.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { parseSweepSpec, resolveSweep, specHash } from '../src/jobs/sweep/spec.ts';
import { cli, expectOneLineFailure, ROOT } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-model-file-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const example = (name: string) => parse(readFileSync(join(ROOT, 'examples', 'models', name), 'utf8'));

/** The README's neuron, built in TypeScript. */
const kvCell = () => buildNeuron({
  name: 'kvcell',
  channels: [hh.Na, {
    name: 'Kv', conductance: 'gKv', reversal: 'EK', params: { gKv: 20, EK: -80 },
    gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(-(V + 30)/9))', tau: '2 + 8*exp(-((V + 40)/20)^2)' }],
  }, hh.Leak],
  params: { EK: -80, initVMv: -70 },
});

describe('model files build what the builders build', () => {
  it('examples/models/kv-cell.yaml from the command line: the spikes of the TypeScript-built neuron', async () => {
    const run = await cli(['simulate', '--model-file', 'examples/models/kv-cell.yaml', '--current-ua-per-cm2', '10', '--duration-ms', '100', '--engine', 'cpu']);
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    const lib = await simulate({ model: kvCell(), currentUAPerCm2: 10, durationMs: 100, engine: 'cpu' });
    expect(doc.spikeTimesMs.length).toBeGreaterThan(3);
    expect(doc.spikeTimesMs).toEqual(lib.spikeTimesMs);
    expect(doc.params.gKv).toBe(20);
  });

  it('examples/models/pyloric-e.yaml is the pyloric model with network e, trace for trace', async () => {
    const fromFile = resolveModel(example('pyloric-e.yaml'));
    const run = { engine: 'cpu' as const, durationMs: 400, dtMs: 0.05, traceEveryMs: 1 };
    const a = await simulate({ model: fromFile, ...run });
    const b = await simulate({ model: pyloric({ cells: ['ABPD2', 'LP4', 'PY1'], synapsesNs: [30, 30, 10, 3, 30, 1, 30] }), ...run });
    for (const cell of ['ABPD', 'LP', 'PY']) expect(Array.from(a.trace!.series[`${cell}_VMv`]), cell).toEqual(Array.from(b.trace!.series[`${cell}_VMv`]));
    expect(fromFile.params['LP.gNa'].unit).toBe('mS/cm²');
  });

  it('a landscape spec names its model file relative to itself; a sweep spec may hold a neuron inline', async () => {
    const dir = join(scratch, 'specs');
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(join(scratch, 'cell.yaml'), readFileSync(join(ROOT, 'examples', 'models', 'kv-cell.yaml')));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'land.yaml'), [
      'model: { file: ../cell.yaml }', 'durationMs: 20', 'dtMs: 0.05', 'engine: cpu', 'currentUAPerCm2: 10',
      'cost: [ { mean: V } ]', 'target: { gKv: 20 }',
      'x: { parameter: gKv, from: 10, to: 30, count: 2 }', 'y: { parameter: gNa, from: 100, to: 140, count: 2 }',
    ].join('\n'));
    const run = await cli(['landscape', join(dir, 'land.yaml'), '--out', join(scratch, 'land-out'), '--quiet'], { cwd: scratch });
    expect(run.status, run.stderr).toBe(0);

    const definition = example('kv-cell.yaml');
    const spec = { model: definition, durationMs: 50, sampling: 'grid', parameters: { gKv: { grid: [10, 20] } } };
    const sweep = resolveSweep(parseSweepSpec(spec));
    expect(sweep.total).toBe(2);
    expect(sweep.model.name).toBe('kvcell');
    // the hash covers the model's content: another default changes it
    const changed = structuredClone(definition);
    changed.channels[1].params.EK = -85;
    expect(await specHash(parseSweepSpec({ ...spec, model: changed }))).not.toBe(await specHash(parseSweepSpec(spec)));
    // a network written as data sweeps too (network sweeps, test/network-sweep.test.ts)
    const network = resolveSweep(parseSweepSpec({ ...spec, model: example('pyloric-e.yaml'), parameters: { gSynABtoLP: { grid: [1, 2] } } }));
    expect(network.total).toBe(2);
    expect(network.model.spikeSources.length).toBe(3);
  });
});

describe('bad model files end in one line naming the field', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown library channel', 'name: x\nchannels:\n  - library: hh.Nope\n', /channels\.0\.library: unknown channel 'hh\.Nope'; known: hh\.Na/],
    ['code in an expression', 'name: x\nchannels:\n  - { name: A, conductance: gA, reversal: EA, params: { gA: 1, EA: 0 }, gates: [ { name: m, power: 1, inf: "Deno.exit(3)", tau: 1 } ] }\n', /unknown function 'Deno\.exit'/],
    ['a time constant of 0', 'name: x\nchannels:\n  - { name: A, conductance: gA, reversal: EA, params: { gA: 1, EA: 0 }, gates: [ { name: m, power: 1, inf: "0.5", tau: 0 } ] }\n', /gate A\.m tau is 0 ms: a time constant must be > 0/],
    ['a negative rate', 'name: x\nchannels:\n  - { name: A, conductance: gA, reversal: EA, params: { gA: 1, EA: 0 }, gates: [ { name: m, power: 1, alpha: -1, beta: 1 } ] }\n', /gate A\.m alpha is -1 per ms: a rate must be ≥ 0/],
    ['an unknown key', 'name: x\nchannels:\n  - { name: A, conductance: gA, reversal: EA, params: { gA: 1, EA: 0 }, colour: red }\n', /channels\.0/],
    ['an unknown cell in a synapse', 'name: n\ncells: { A: { library: hh } }\nsynapses: [ { from: A, to: B, type: ampa } ]\n', /synapses\[0\]\.to: unknown cell 'B'/],
    ['an unknown synapse type', 'name: n\ncells: { A: { library: hh }, B: { library: hh } }\nsynapses: [ { from: A, to: B, type: nmda } ]\n', /synapses\.0\.type: unknown synapse 'nmda'; known: glutamatergic/],
  ];
  it.each(cases)('%s', async (_label, text, pattern) => {
    const path = join(scratch, 'bad.yaml');
    writeFileSync(path, text);
    const run = await cli(['simulate', '--model-file', path, '--duration-ms', '1']);
    expectOneLineFailure(run, 2, pattern);
    expect(run.stderr).toContain('bad.yaml');
  });
});

describe('ionsweep models and describe', () => {
  it('list the library and every parameter with its unit and range', async () => {
    const models = await cli(['models']);
    expect(models.status, models.stderr).toBe(0);
    for (const name of ['pyloric', 'hh.Na', 'prinz.CaS', 'glutamatergic', 'electrical']) expect(models.stdout).toContain(name);
    const described = await cli(['describe', 'pyloric', '--json']);
    expect(described.status, described.stderr).toBe(0);
    const doc = JSON.parse(described.stdout);
    expect(doc.parameters['LP.gNa']).toMatchObject({ unit: 'mS/cm²', min: 0, value: 100 });
    expect(doc.parameters.gSynLPtoPY).toMatchObject({ unit: 'nS', min: 0, value: 1 });
    expectOneLineFailure(await cli(['describe']), 2, /give a library model .* or --model-file/);
  });
});
