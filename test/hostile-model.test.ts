/**
 * Hostile input that aims at the generated code: model objects in spec files, prototype names as
 * parameter names and table keys, and expressions deep enough to overflow the parser's stack.
 * Every case must end in exit 2 with one line (CLI) or an InputError (library), and never run code
 * the tool did not ship. The model-object payload is the audit's attack written out: a constant node
 * whose value is JavaScript text that writes a file; before validate.ts it ran under `deno -A`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hh, libraryModel, MODEL_NAMES } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { InputError } from '../src/errors.ts';
import { Expr, num, param, state, add } from '../src/model/expr.ts';
import type { Model } from '../src/model/model.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import { MAX_EXPR_DEPTH, parseExpr } from '../src/model/parse.ts';
import { validateModel } from '../src/model/validate.ts';
import { parseSweepSpec } from '../src/jobs/sweep/spec.ts';
import { cli, expectOneLineFailure } from './cli-helper.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ionsweep-hostile-model-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CANARY = join(scratch, 'CANARY');
const PAYLOAD = `(globalThis.Deno ? Deno.writeTextFileSync(${JSON.stringify(CANARY)}, 'pwned') : 0, 0)`;

/** A model written out as data, with the payload in a constant node (what a YAML spec can hold). */
function payloadModel() {
  const gL = { id: 900002, op: 'param', value: 0, name: 'gL', lane: '', args: [] };
  const evil = { id: 900003, op: 'const', value: PAYLOAD, name: '', lane: '', args: [] };
  const rhs = { id: 900001, op: 'add', value: 0, name: '', lane: '', args: [gL, evil] };
  const c = { id: 900005, op: 'const', value: -65, name: '', lane: '', args: [] };
  return {
    name: 'evil', defaultInit: 'cold',
    params: { gL: { value: 0.1, unit: 'mS/cm2', description: 'leak', min: 0 }, a: { value: 1, unit: '', description: 'a' } },
    states: [{ name: 'V', unit: 'mV', description: 'v', stage: 1, ode: { rhs, rate: { ...gL, id: 900004, name: 'a' } }, init: { cold: c, steady: c } }],
    observed: [{ name: 'V', unit: 'mV', kind: 'voltage', expr: rhs }],
    spikeSources: [],
  };
}

const costPart = { model: payloadModel(), durationMs: 1, dtMs: 0.1, engine: 'cpu', cost: [{ mean: 'V', target: 1 }] };
const SPECS: Record<string, object> = {
  landscape: { ...costPart, x: { parameter: 'gL', from: 0.1, to: 0.2, count: 2 }, y: { parameter: 'a', from: 1, to: 2, count: 2 } },
  fit: { ...costPart, parameters: { gL: [0.05, 0.2] }, starts: 2, iterations: 1 },
  curve: { ...costPart, parameters: ['gL', 'a'], momentum: 1e-3, direction: { gL: 1, a: 0 }, length: 0.1 },
};

describe('a model object in a spec file never becomes code', () => {
  for (const [command, spec] of Object.entries(SPECS)) {
    it(`${command}: refused with exit 2 naming the model field; the payload does not run`, async () => {
      const path = join(scratch, `${command}.yaml`);
      writeFileSync(path, stringify(spec));
      const run = await cli([command, path, '--out', join(scratch, `out-${command}`), '--quiet']);
      expectOneLineFailure(run, 2, /model must be one of hh, prinz, liu, pyloric.*expression built by the model builders/);
      expect(existsSync(CANARY)).toBe(false);
    });
  }

  it('the compiler itself refuses a model whose constant is not a number, whatever path it came by', () => {
    // a real Expr instance (passes instanceof) smuggling text: only code can make one, but the
    // compiler must still refuse to print it
    const evil = new Expr(-1, 'const', [], PAYLOAD as unknown as number, '', '');
    const model: Model = { ...libraryModel('hh') };
    model.states = model.states.map((s) => (s.name === 'V' ? { ...s, ode: { ...s.ode, rhs: add(s.ode.rhs, evil) } } : s));
    expect(() => compile(model, { dtMs: 0.025 })).toThrow(/const node's value must be a number/);
  });

  it('a model whose expressions read names it does not define is refused before compiling', () => {
    const base = libraryModel('hh');
    const unknownParam = { ...base, observed: [...base.observed, { name: 'x', expr: param('gSecret'), unit: '', kind: 'other' as const }] };
    expect(() => validateModel(unknownParam)).toThrow(/unknown parameter 'gSecret'/);
    const unknownState = { ...base, observed: [...base.observed, { name: 'x', expr: state('Q'), unit: '', kind: 'other' as const }] };
    expect(() => validateModel(unknownState)).toThrow(/unknown state 'Q'/);
    const badName = { ...base, name: 'hh */ @compute fn x() {} /*\n' };
    expect(() => validateModel(badName)).toThrow(/name must be/);
    const textValue = { ...base, params: { ...base.params, gNa: { ...base.params.gNa, value: '120' as unknown as number } } };
    expect(() => validateModel(textValue)).toThrow(/gNa: value must be a number/);
  });

  it('every library model passes the validation it is held to', () => {
    for (const name of MODEL_NAMES) expect(validateModel(libraryModel(name)).name).toBe(name);
    expect(num(1)).toBeInstanceOf(Expr);
  });
});

describe('prototype names are refused, never dropped or resolved to native functions', () => {
  const RESERVED = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

  it('as parameters of a built neuron (channel params, neuron params)', () => {
    for (const name of RESERVED) {
      const channel = { ...hh.Leak, params: { ...hh.Leak.params, [name]: 1 } };
      // computed keys make own properties, even for __proto__
      expect(Object.hasOwn(channel.params, name)).toBe(true);
      expect(() => buildNeuron({ name: 'cell', channels: [channel] }), name).toThrow(/reserved/);
      expect(() => buildNeuron({ name: 'cell', channels: [hh.Leak], params: { [name]: 1 } }), name).toThrow(/reserved/);
    }
  });

  it('in expressions: as function names and as variable names', () => {
    for (const name of RESERVED.filter((n) => n !== '__proto__')) {
      expect(() => parseExpr(`${name}(V)`), name).toThrow(/unknown function/);
      const channel = { ...hh.Leak, gates: [{ name: 'x', power: 1, inf: `${name} + V`, tau: '1' }] };
      expect(() => buildNeuron({ name: 'cell', channels: [channel] }), name).toThrow(/unknown name/);
    }
  });

  it('as sweep axes and fixed values: an InputError, not a silently smaller sweep', () => {
    for (const name of RESERVED) {
      const parameters = JSON.parse(`{"${name}": {"grid": [1, 2]}, "gNa": {"grid": [100, 200, 300]}}`);
      expect(Object.keys(parameters)).toContain(name);
      expect(() => parseSweepSpec({ model: 'prinz', durationMs: 10, parameters }), name).toThrow(InputError);
      const fixed = JSON.parse(`{"${name}": 1}`);
      expect(() => parseSweepSpec({ model: 'prinz', durationMs: 10, parameters: { gNa: { grid: [1, 2] } }, fixed }), name).toThrow(/reserved name/);
    }
  });

  it('on the command line: --set and --tangents', async () => {
    const set = await cli(['simulate', '--model', 'hh', '--duration-ms', '1', '--set', '__proto__=1']);
    expectOneLineFailure(set, 2, /--set: parameter name '__proto__' is reserved/);
    const tangents = await cli(['simulate', '--model', 'hh', '--duration-ms', '1', '--tangents', 'constructor']);
    expectOneLineFailure(tangents, 2, /unknown parameter 'constructor'/);
  });
});

describe('expression size limits', () => {
  it('2,000 nested exp( is a parse error, not a stack overflow', () => {
    const deep = `${'exp('.repeat(2000)}V${')'.repeat(2000)}`;
    expect(() => parseExpr(deep)).toThrow(new RegExp(`deeper than ${MAX_EXPR_DEPTH}`));
  });

  it('a long flat chain is refused by depth; text beyond the length limit by length', () => {
    expect(() => parseExpr(Array(2000).fill('V').join(' + '))).toThrow(/operations deep/);
    expect(() => parseExpr(`V + ${'1'.repeat(30_000)}`)).toThrow(/too long/);
  });

  it('real kinetics stay well inside the limits', () => {
    const e = parseExpr('0.1*linoid(V + 40, 10) / (1 + exp(-(V + 65)/18)) + 2.64 - 2.52/(1+exp((V+120)/-25))');
    expect(e).toBeInstanceOf(Expr);
    const nested = `${'('.repeat(100)}V${')'.repeat(100)}`;
    expect(parseExpr(nested)).toBe(state('V').op === 'state' ? parseExpr('V') : undefined);
  });
});
