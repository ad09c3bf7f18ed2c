/**
 * NeuroML2 import, first part (src/io/neuroml): the corpus of ../shared/neuroml (byte-identical public
 * files). The classic single-compartment HH cell of the NeuroML2 examples is the library's hh model
 * written another way (rate forms, units in S/m², a 1000 µm² soma), so the two must spike at the same
 * times; what this version does not read is refused naming the file, the line and the element.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importNeuroML } from '../src/io/neuroml/import.ts';
import { InputError } from '../src/errors.ts';
import { quantity } from '../src/io/neuroml/units.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { cli, expectOneLineFailure, ROOT } from './cli-helper.ts';

const CORPUS = join(ROOT, '..', 'shared', 'neuroml');
const HH_CELL = join(CORPUS, 'NeuroML2', 'examples', 'NML2_SingleCompHHCell.nml');

describe('units from NeuroML\'s own table', () => {
  it('converts to ionsweep units', () => {
    expect(quantity('3.0 S_per_m2', 'conductanceDensity', 'x')).toBe(0.3);
    expect(quantity('120.0 mS_per_cm2', 'conductanceDensity', 'x')).toBe(120);
    expect(quantity('-54.3mV', 'voltage', 'x')).toBe(-54.3);
    expect(quantity('-0.0543 V', 'voltage', 'x')).toBe(-54.3);
    expect(quantity('1 per_s', 'per_time', 'x')).toBe(0.001);
    expect(quantity('1.0 uF_per_cm2', 'specificCapacitance', 'x')).toBe(1);
    expect(quantity('32 degC', 'temperature', 'x')).toBe(32);
    expect(quantity('305.15 K', 'temperature', 'x')).toBe(32);
    expect(() => quantity('5 mV', 'time', 'gate tau')).toThrow(/gate tau: '5 mV' is a voltage, expected a time/);
    expect(() => quantity('5 furlongs', 'time', 'gate tau')).toThrow(/unknown unit 'furlongs'/);
    expect(() => quantity('5', 'time', 'gate tau')).toThrow(/has no unit/);
  });

  it('the generated table is what NeuroMLCoreDimensions.xml says (regenerated and compared)', async () => {
    const { XMLParser } = await import('fast-xml-parser');
    const xml = readFileSync(join(CORPUS, 'NeuroML2', 'NeuroML2CoreTypes', 'NeuroMLCoreDimensions.xml'), 'utf8');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const { NEUROML_UNITS } = await import('../src/io/neuroml/units.generated.ts');
    const units = (doc.Lems.Unit as Record<string, string>[]).map((u) => ({ symbol: u.symbol, dimension: u.dimension, power: Number(u.power ?? 0), scale: Number(u.scale ?? 1), offset: Number(u.offset ?? 0) }));
    expect(NEUROML_UNITS).toEqual(units);
  });
});

describe('the NeuroML2 single-compartment HH cell', () => {
  it('is the library hh model: the same spikes under the same current density', async () => {
    const { cells, channels } = await importNeuroML([HH_CELL]);
    expect([...channels.keys()]).toEqual(['passiveChan', 'naChan', 'kChan']);
    const def = cells.get('hhcell')!;
    // d = 17.841242 µm, a sphere: 1000 µm² = 1e-5 cm² (to the digits NeuroML gives)
    expect((def.params!.areaCm2 as number) / 1e-5).toBeCloseTo(1, 6);
    const model = buildNeuron(def);
    expect(model.params.g_naChans.value).toBe(120);
    expect(model.params.g_kChans.value).toBe(36);
    expect(model.params.g_leak.value).toBe(0.3);
    const run = { engine: 'cpu' as const, durationMs: 100, currentUAPerCm2: 10 };
    const a = await simulate({ model, ...run });
    const b = await simulate({ model: 'hh', ...run });
    expect(a.spikeTimesMs.length).toBe(b.spikeTimesMs.length);
    expect(a.spikeTimesMs.length).toBeGreaterThan(4);
    a.spikeTimesMs.forEach((t, k) => expect(Math.abs(t - b.spikeTimesMs[k])).toBeLessThan(1e-9));
  });

  it('runs from the command line with its current in nA (0.08 nA on 1000 µm² is 8 µA/cm²)', async () => {
    const run = await cli(['simulate', '--neuroml', HH_CELL, '--current-na', '0.08', '--duration-ms', '50', '--engine', 'cpu']);
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.params.IExtUAPerCm2).toBeCloseTo(8, 5);
    expect(doc.spikeCount).toBeGreaterThan(0);
  });
});

describe('what this version does not read, it refuses in one line naming file, line and element', () => {
  it.each([
    ['a file without a cell', join(CORPUS, 'PyloricNetwork', 'NeuroML2', 'Na_STG.channel.nml'), /the file defines no <cell>/],
    ['a Nernst channel without a temperature', join(CORPUS, 'PyloricNetwork', 'NeuroML2', 'AB_PD_1.cell.nml'), /AB_PD_1\.cell\.nml:\d+ <cell id="AB_PD"> <channelDensityNernst id="CaS_STG_all">: a Nernst potential needs a temperature.*--set celsius/],
    ["one of NeuroML's core type files", join(CORPUS, 'NeuroML2', 'NeuroML2CoreTypes', 'Cells.xml'), /Cells\.xml: one of NeuroML's core LEMS type files/],
  ])('%s', async (_label, file, pattern) => {
    expectOneLineFailure(await cli(['simulate', '--neuroml', file, '--duration-ms', '1']), 2, pattern);
  });
});

describe('custom LEMS ComponentTypes (the Open Source Brain STG channels)', () => {
  it("give the Prinz 2003 kinetics of ionsweep's prinz channels, gate by gate, from -80 to 0 mV", async () => {
    const { evaluate } = await import('../src/model/evaluate.ts');
    const { libraryModel } = await import('../src/channels/index.ts');
    const dir = join(CORPUS, 'PyloricNetwork', 'NeuroML2');
    const files = ['Na', 'CaT', 'CaS', 'KA', 'KCa', 'Kd', 'H'].map((c) => join(dir, `${c}_STG.channel.nml`));
    const { channels } = await importNeuroML(files);
    const prinz = libraryModel('prinz');
    const ours: Record<string, string> = { Na_STG: 'Na', CaT_STG: 'CaT', CaS_STG: 'CaS', KA_STG: 'A', KCa_STG: 'KCa', Kd_STG: 'Kd', H_STG: 'H' };
    let compared = 0;
    for (const [id, mine] of Object.entries(ours)) {
      const ch = channels.get(id)!;
      const cell = buildNeuron({ name: 'probe', channels: [{ name: mine, conductance: 'gX', reversal: 'EX', params: { gX: 1, EX: 0 }, gates: ch.gates }], calcium: {} });
      // gates in order (the port names Kd's gate n where ionsweep names it m)
      const referenceGates = prinz.states.filter((s) => s.name.startsWith(`${mine}.`));
      expect(referenceGates.length, id).toBe(ch.gates.length);
      for (const [k, gate] of ch.gates.entries()) {
        const theirs = cell.states.find((s) => s.name === `${mine}.${gate.name}`)!;
        const reference = referenceGates[k];
        for (const V of [-80, -60, -50, -40, -20, 0]) {
          const env = { state: (n: string) => (n === 'V' ? V : n === 'Ca' ? 0.05 : NaN), param: (n: string) => (n in prinz.params ? prinz.params[n].value : cell.params[n].value) };
          for (const key of ['inf', 'tau'] as const) {
            const a = evaluate(theirs.ode[key]!, env), b = evaluate(reference.ode[key]!, env);
            // the same formulas up to the order of operations (and the H τ form the port shares)
            expect(Math.abs(a - b) / Math.abs(b), `${id} ${gate.name} ${key} at ${V} mV: ${a} vs ${b}`).toBeLessThan(1e-12);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(11 * 2 * 6); // 11 gates, inf and tau, 6 potentials
  });
});

describe('the Open Source Brain AB/PD cell (PyloricNetwork/NeuroML2/AB_PD_1.cell.nml)', () => {
  it("imports with its calcium pool and Nernst channels and is ionsweep's prinz AB/PD 1: the same spikes over 20 s", async () => {
    const file = join(CORPUS, 'PyloricNetwork', 'NeuroML2', 'AB_PD_1.cell.nml');
    await expect(importNeuroML([file])).rejects.toThrow(/a Nernst potential needs a temperature/);
    const { cells } = await importNeuroML([file], { celsius: 9.85 });
    const def = cells.get('AB_PD')!;
    // ρ = 4.69744 mol/(m·A·s), τ 200 ms on a 141.3855 µm sphere: f = 14.96 µM/nA, as Prinz 2003 publishes
    expect(def.calcium!.params!.fCa as number).toBeCloseTo(14.96, 5);
    expect(def.calcium!.params!.CaOutUM).toBe(3000);
    const run = { engine: 'cpu' as const, durationMs: 20_000, discardMs: 10_000, init: 'steady' as const };
    const a = await simulate({ model: buildNeuron(def), ...run });
    const b = await simulate({ model: 'prinz', ...run });
    expect(a.spikeCount).toBe(b.spikeCount);
    expect(a.spikeCount).toBeGreaterThan(50);
    // the pools' f agree to 6e-8 (the file's area has 7 digits): spike times within 1e-6 ms
    a.spikeTimesMs.forEach((t, k) => expect(Math.abs(t - b.spikeTimesMs[k])).toBeLessThan(1e-6));
  }, 60_000);
});

describe('the whole corpus', () => {
  it('every file imports (and its cells build) or is refused with a named reason', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(nml|xml)$/.test(name)) files.push(path);
      }
    };
    walk(CORPUS);
    expect(files.length).toBe(24);
    const refused: string[] = [];
    for (const file of files) {
      try {
        const { cells } = await importNeuroML([file], { celsius: 9.85 });
        for (const def of cells.values()) buildNeuron(def);
      } catch (error) {
        // a refusal is an InputError naming the file (and, within it, the element)
        expect(error, file).toBeInstanceOf(InputError);
        expect((error as Error).message, file).toMatch(/\.(nml|xml)/);
        refused.push(file.slice(CORPUS.length + 1));
      }
    }
    // NeuroML's core type files, whose semantics are built in
    expect(refused.sort()).toEqual([
      'NeuroML2/NeuroML2CoreTypes/Cells.xml', 'NeuroML2/NeuroML2CoreTypes/Channels.xml', 'NeuroML2/NeuroML2CoreTypes/Networks.xml',
      'NeuroML2/NeuroML2CoreTypes/NeuroMLCoreCompTypes.xml', 'NeuroML2/NeuroML2CoreTypes/NeuroMLCoreDimensions.xml',
    ]);
  });

  it('a LEMS model takes its network temperature for q10: Ex10 runs its HH rates at one third (3^((22 − 32)/10))', async () => {
    const { evaluate } = await import('../src/model/evaluate.ts');
    const q10 = buildNeuron((await importNeuroML([join(CORPUS, 'NeuroML2', 'LEMSexamples', 'LEMS_NML2_Ex10_Q10.xml')])).cells.get('hhcell')!);
    const plain = buildNeuron((await importNeuroML([HH_CELL])).cells.get('hhcell')!);
    expect(q10.params.celsius.value).toBe(22);
    for (const gate of ['naChans.m', 'naChans.h', 'kChans.n']) {
      for (const V of [-70, -40, 0]) {
        const env = (m: typeof q10) => ({ state: () => V, param: (n: string) => m.params[n].value });
        const a = evaluate(q10.states.find((s) => s.name === gate)!.ode.rate, env(q10));
        const b = evaluate(plain.states.find((s) => s.name === gate)!.ode.rate, env(plain));
        expect(a / b, `${gate} at ${V} mV`).toBeCloseTo(1 / 3, 12);
      }
    }
  });

  it("the LEMS wrapper of the HH cell, with its pulse (0.08 nA, 100-200 ms, 1,000 µm²), spikes as the built-in hh (relative difference < 1e-9)", async () => {
    const lems = join(CORPUS, 'NeuroML2', 'LEMSexamples', 'LEMS_NML2_Ex5_DetCell.xml');
    const common = ['--duration-ms', '300', '--dt-ms', '0.01', '--engine', 'cpu', '--step-na', '100,200,0.08'];
    const a = await cli(['simulate', '--neuroml', lems, ...common]);
    const b = await cli(['simulate', '--model', 'hh', '--set', 'areaCm2=1.0000000939925986e-5', ...common]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const ta: number[] = JSON.parse(a.stdout).spikeTimesMs, tb: number[] = JSON.parse(b.stdout).spikeTimesMs;
    expect(ta.length).toBe(tb.length);
    expect(ta.length).toBeGreaterThan(3);
    ta.forEach((t, k) => expect(Math.abs(t - tb[k]) / tb[k]).toBeLessThan(1e-9));
  });
});

describe('the Maex & De Schutter granule cell (LEMS_NML2_Ex15_CaDynamics.xml: SI units, Requirements, conditional rates, a shell pool)', () => {
  const file = join(CORPUS, 'NeuroML2', 'LEMSexamples', 'LEMS_NML2_Ex15_CaDynamics.xml');

  it("takes its network's 32 °C, at which q10ExpTemp gives 3^((32 − 17.350264793)/10) = 5.0 on every rate", async () => {
    const { evaluate } = await import('../src/model/evaluate.ts');
    const at32 = buildNeuron([...(await importNeuroML([file])).cells.values()][0]);
    const atExp = buildNeuron([...(await importNeuroML([file], { celsius: 17.350264793 })).cells.values()][0]);
    expect(at32.params.celsius.value).toBe(32);
    const gate = at32.states.find((s) => s.name.endsWith('.m') && s.name.includes('KDr'))!;
    for (const V of [-70, -40, 0]) {
      const rate = (m: typeof at32) => evaluate(m.states.find((s) => s.name === gate.name)!.ode.rate, { state: (n) => (n === 'V' ? V : 0.0755), param: (n) => m.params[n].value });
      expect(rate(at32) / rate(atExp), `${gate.name} at ${V} mV`).toBeCloseTo(5.0, 6);
    }
  });

  it('runs: at rest without input, spiking under current, every state finite', async () => {
    const model = buildNeuron([...(await importNeuroML([file])).cells.values()][0]);
    const rest = await simulate({ model, engine: 'cpu', durationMs: 200, dtMs: 0.01 });
    expect(rest.status).toBe('ok');
    expect(rest.spikeCount).toBe(0);
    const driven = await simulate({ model, engine: 'cpu', durationMs: 200, dtMs: 0.01, currentUAPerCm2: 10 });
    expect(driven.status).toBe('ok');
    expect(driven.spikeCount).toBeGreaterThan(2);
    // calcium enters through the HVA channel during spikes and decays with τ = 10 ms between them
    expect(driven.observables.maxCaUM!).toBeGreaterThan(rest.observables.maxCaUM!);
  });
});

describe('export (exportNeuroML) and back', () => {
  it('hh, prinz and liu, and a user channel, read back to the same model: the same spikes (steady start)', async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { NEURONS, hh } = await import('../src/channels/index.ts');
    const { exportNeuroML } = await import('../src/io/neuroml/export.ts');
    const dir = mkdtempSync(join(tmpdir(), 'ionsweep-nml-'));
    const kvCell = {
      name: 'kvcell', channels: [hh.Na, { name: 'Kv', conductance: 'gKv', reversal: 'EK', params: { gKv: 20, EK: -80 }, gates: [{ name: 'n', power: 4, inf: '1/(1 + exp(-(V + 30)/9))', tau: '2 + 8*exp(-((V + 40)/20)^2)' }] }, hh.Leak],
      params: { EK: -80, initVMv: -70 },
    };
    try {
      for (const [name, def, run] of [
        ['hh', NEURONS.hh, { durationMs: 100, currentUAPerCm2: 10 }],
        ['prinz', NEURONS.prinz, { durationMs: 5000 }],
        ['liu', NEURONS.liu, { durationMs: 5000 }],
        ['kvcell', kvCell, { durationMs: 100, currentUAPerCm2: 10 }],
      ] as const) {
        const path = join(dir, `${name}.nml`);
        writeFileSync(path, exportNeuroML(def));
        const back = buildNeuron([...(await importNeuroML([path])).cells.values()][0]);
        const common = { engine: 'cpu' as const, init: 'steady' as const, ...run };
        const a = await simulate({ model: back, ...common });
        const b = await simulate({ model: buildNeuron(def), ...common });
        expect(a.spikeCount, name).toBe(b.spikeCount);
        expect(a.spikeCount, name).toBeGreaterThan(3);
        // the same equations, re-associated by the LEMS printer and the parser: within 1e-6 ms over 5 s
        a.spikeTimesMs.forEach((t, k) => expect(Math.abs(t - b.spikeTimesMs[k]), `${name} spike ${k}`).toBeLessThan(1e-6));
        // the temperature travels as a parameter where the rate factor is a q10 (hh)
        if (name === 'hh') expect(back.params.celsius.value).toBe(6.3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hh keeps its temperature dependence through q10ExpTemp: at 16.3 °C its rates are three times faster', async () => {
    const { evaluate } = await import('../src/model/evaluate.ts');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { NEURONS } = await import('../src/channels/index.ts');
    const { exportNeuroML } = await import('../src/io/neuroml/export.ts');
    const path = join(mkdtempSync(join(tmpdir(), 'ionsweep-nml-')), 'hh.nml');
    writeFileSync(path, exportNeuroML(NEURONS.hh));
    const warm = buildNeuron([...(await importNeuroML([path], { celsius: 16.3 })).cells.values()][0]);
    const cold = buildNeuron([...(await importNeuroML([path], { celsius: 6.3 })).cells.values()][0]);
    const rate = (m: typeof warm) => evaluate(m.states.find((s) => s.name === 'Na.m')!.ode.rate, { state: () => -50, param: (n) => m.params[n].value });
    expect(rate(warm) / rate(cold)).toBeCloseTo(3, 12);
  });
});

describe('instantaneous gates, conductance q10 and compound conditions', () => {
  it('read as NeuroML defines them (checked by hand at chosen potentials)', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { evaluate } = await import('../src/model/evaluate.ts');
    const path = join(mkdtempSync(join(tmpdir(), 'ionsweep-nml-')), 'inst.nml');
    writeFileSync(path, `<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="inst">
  <ionChannelHH id="inst" conductance="10pS">
    <q10ConductanceScaling q10Factor="2" experimentalTemp="16.3 degC"/>
    <gateHHInstantaneous id="m" instances="2">
      <steadyState type="HHSigmoidVariable" rate="1" midpoint="-40mV" scale="5mV"/>
    </gateHHInstantaneous>
  </ionChannelHH>
  <ComponentType name="window" extends="baseVoltageDepVariable">
    <Constant name="VOLT_SCALE" dimension="voltage" value="1 mV"/>
    <Dynamics>
      <DerivedVariable name="V" dimension="none" value="v / VOLT_SCALE"/>
      <ConditionalDerivedVariable name="x" exposure="x" dimension="none">
        <Case condition="V .gt. -50 .and. V .lt. 0" value="1"/>
        <Case condition="V .leq. -90 .or. V .geq. 40" value="0.5"/>
        <Case value="0.2"/>
      </ConditionalDerivedVariable>
    </Dynamics>
  </ComponentType>
  <ionChannelHH id="win" conductance="10pS">
    <gateHHtauInf id="w" instances="1">
      <timeCourse type="fixedTimeCourse" tau="1ms"/>
      <steadyState type="window"/>
    </gateHHtauInf>
  </ionChannelHH>
  <cell id="c">
    <morphology id="m"><segment id="0" name="soma"><distal x="0" y="0" z="0" diameter="10"/></segment></morphology>
    <biophysicalProperties id="b"><membraneProperties>
      <channelDensity id="X" ionChannel="inst" condDensity="1 mS_per_cm2" erev="-80mV" ion="k"/>
      <channelDensity id="W" ionChannel="win" condDensity="1 mS_per_cm2" erev="0mV" ion="non_specific"/>
      <initMembPotential value="-65mV"/>
    </membraneProperties></biophysicalProperties>
  </cell>
  <network id="n" type="networkWithTemperature" temperature="26.3 degC"><population id="p" component="c" size="1"/></network>
</neuroml>`);
    const model = buildNeuron((await importNeuroML([path])).cells.get('c')!);
    // no state for the instantaneous gate; the window gate is a state
    expect(model.states.map((s) => s.name).sort()).toEqual(['V', 'W.w']);
    const current = (V: number) => evaluate(model.currents!.find((c) => c.name === 'IX')!.expr, { state: () => V, param: (n) => model.params[n].value });
    for (const V of [-60, -30, 10]) {
      const mInf = 1 / (1 + Math.exp((-40 - V) / 5));
      // g·q·m∞²·(V − E) with q = 2^((26.3 − 16.3)/10) = 2
      expect(current(V), `I at ${V} mV`).toBeCloseTo(1 * 2 * mInf ** 2 * (V + 80), 12);
    }
    const inf = (V: number) => evaluate(model.states.find((s) => s.name === 'W.w')!.ode.inf!, { state: () => V, param: (n) => model.params[n].value });
    expect([-95, -70, -30, 20, 45].map(inf)).toEqual([0.5, 0.2, 1, 0.2, 0.5]);
  });
});

describe('a variable without its rate', () => {
  it('is refused naming the element, not read as NaN', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'ionsweep-nml-')), 'bad.nml');
    writeFileSync(path, `<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="b">
  <ionChannelHH id="k" conductance="10pS"><gateHHtauInf id="n" instances="1"><timeCourse type="fixedTimeCourse" tau="1ms"/><steadyState type="HHSigmoidVariable" midpoint="-40mV" scale="5mV"/></gateHHtauInf></ionChannelHH>
</neuroml>`);
    await expect(importNeuroML([path])).rejects.toThrow(/bad\.nml:2 <ionChannelHH id="k"> <gateHHtauInf id="n"> <steadyState> rate: '\(missing\)' must be a dimensionless number/);
  });
});
