/**
 * Networks (src/model/network.ts): cells as namespaces, synapses into the membranes, the pyloric
 * circuit. Checked on the f64 CPU engine against independent truths: a network with zero synapses is
 * its cells run alone (bit for bit: the synaptic terms vanish exactly), tangents through synapses
 * against central differences of the same discrete scheme, a gap junction pulling two identical cells
 * into synchrony, GABA_A inhibition silencing a driven cell.
 */
import { describe, expect, it } from 'vitest';
import { hh } from '../src/channels/index.ts';
import { prinz2004Cell, pyloric, PYLORIC_SYNAPSE_PARAMS } from '../src/channels/pyloric.ts';
import { gabaA, electrical, ampa } from '../src/channels/synapses.ts';
import { buildNetwork, networkCells } from '../src/model/network.ts';
import { buildNeuron } from '../src/model/neuron.ts';
import type { Model } from '../src/model/model.ts';
import { simulate } from '../src/jobs/simulate.ts';
import { isolatedStart } from '../src/jobs/isolated-start.ts';

const hhCell = { name: 'hhcell', channels: [hh.Na, hh.K, hh.Leak], params: { initVMv: -65, celsius: 6.3 } };

async function traces(model: Model, options: { durationMs: number; set?: Record<string, number>; tangents?: string[]; dtMs?: number }) {
  const r = await simulate({ model, engine: 'cpu', dtMs: options.dtMs ?? 0.05, durationMs: options.durationMs, traceEveryMs: 0.5, set: options.set ?? {}, tangents: options.tangents ?? [] });
  expect(r.status).toBe('ok');
  return r;
}

/** Upward crossings of 0 mV in a sampled trace. */
const crossings = (v: Float64Array) => v.reduce((n, x, i) => n + (i > 0 && v[i - 1] < 0 && x >= 0 ? 1 : 0), 0);

describe('a network with zero synapses is its cells, bit for bit', () => {
  it('pyloric at 0 nS: every cell’s V and [Ca] trace equals the cell run alone (synapse strengths folded, and as tangent lanes)', async () => {
    const cells = ['ABPD2', 'LP4', 'PY1'];
    const net = pyloric({ cells, synapsesNs: [0, 0, 0, 0, 0, 0, 0] });
    const folded = await traces(net, { durationMs: 400 });
    // with lanes, the strengths are per-instance values (0), not constants the compiler drops
    const lanes = await traces(net, { durationMs: 400, tangents: ['gSynABtoLP', 'gSynPYtoLP'] });
    for (const [k, role] of ['ABPD', 'LP', 'PY'].entries()) {
      const alone = await traces(buildNeuron(prinz2004Cell(cells[k])), { durationMs: 400 });
      for (const [q, key] of [['V', 'VMv'], ['Ca', 'CaUM']] as const) {
        const expected = alone.trace!.series[key];
        for (const r of [folded, lanes]) {
          const got = r.trace!.series[`${role}_${key}`];
          expect(got.length, `${role}.${q}`).toBe(expected.length);
          const firstDiff = got.findIndex((x, i) => !Object.is(x, expected[i]));
          expect(firstDiff, `${role}.${q} differs from the cell alone at sample ${firstDiff}`).toBe(-1);
        }
      }
    }
  });

  it('eight hh cells in an AMPA ring at 0 nS are eight copies of hh', async () => {
    const names = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
    const net = buildNetwork({
      name: 'ring',
      cells: Object.fromEntries(names.map((n) => [n, hhCell])),
      synapses: names.map((n, k) => ({ from: n, to: names[(k + 1) % names.length], type: ampa, gNs: 0 })),
    });
    expect(networkCells(net)).toEqual(names);
    const set = Object.fromEntries(names.map((n) => [`${n}.IExtUAPerCm2`, 10]));
    const r = await traces(net, { durationMs: 50, set });
    const alone = await traces(buildNeuron(hhCell), { durationMs: 50, set: { IExtUAPerCm2: 10 } });
    for (const n of names) expect(Array.from(r.trace!.series[`${n}_VMv`])).toEqual(Array.from(alone.trace!.series.VMv));
    expect(crossings(alone.trace!.series.VMv)).toBeGreaterThanOrEqual(2);
  });
});

describe('tangents through synapses', () => {
  it('d mean V / d (synapse strength, cell conductance) match central differences of the f64 engine (rel. error < 1e-6)', async () => {
    const net = pyloric();
    const lanes = ['gSynLPtoABPD', 'gSynABtoLP', 'log:LP.gCaS', 'PYtoLP.EsMv'];
    // 150 ms from the cold start: long enough for spikes, bursts and synaptic drive in every cell; over
    // longer windows this network's sensitivity grows (it is chaotic) and rounding noise in the
    // differences reaches 1e-6 of the derivative
    const base = { durationMs: 150, dtMs: 0.05 };
    const r = await simulate({ model: net, engine: 'cpu', ...base, tangents: lanes });
    const values = r.params;
    for (const lane of lanes) {
      const log = lane.startsWith('log:');
      const name = log ? lane.slice(4) : lane;
      const p0 = values[name];
      // step 1e-5 relative (log lanes: in log p): truncation O(h²) and rounding both far below 1e-6 here
      const h = log ? 1e-5 : 1e-5 * Math.max(1, Math.abs(p0));
      const at = async (delta: number) => {
        const v = log ? p0 * Math.exp(delta) : p0 + delta;
        return (await simulate({ model: net, engine: 'cpu', ...base, set: { [name]: v } })).observables;
      };
      const [plus, minus] = [await at(h), await at(-h)];
      for (const cell of ['ABPD', 'LP', 'PY']) {
        const key = `mean${cell}_VMv`;
        const fd = (plus[key]! - minus[key]!) / (2 * h);
        const exact = r.tangents[key][lane];
        expect(Math.abs(exact), `${key} / ${lane} is not tiny`).toBeGreaterThan(1e-9);
        expect(Math.abs(exact - fd) / Math.abs(exact), `${key} / ${lane}: exact ${exact}, central difference ${fd}`).toBeLessThan(1e-6);
      }
    }
  });
});

describe('synapses do what their physics says', () => {
  it('a gap junction pulls two identical hh cells, started apart, into synchrony', async () => {
    const pair = (gNs: number) => buildNetwork({ name: 'pair', cells: { A: hhCell, B: hhCell }, synapses: [{ from: 'A', to: 'B', type: electrical, gNs }] });
    const set = { 'A.IExtUAPerCm2': 10, 'B.IExtUAPerCm2': 10, 'B.initVMv': -40 };
    const gap = await traces(pair(2000), { durationMs: 100, set });
    const none = await traces(pair(0), { durationMs: 100, set });
    const lastDiff = (r: typeof gap) => {
      const a = r.trace!.series.A_VMv, b = r.trace!.series.B_VMv;
      let worst = 0;
      for (let i = Math.floor(a.length * 0.8); i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      return worst;
    };
    // 2,000 nS on 0.628e-3 cm² is 3.2 mS/cm², ten times hh's leak: the difference decays within ms
    expect(lastDiff(gap)).toBeLessThan(0.05);
    // uncoupled, the phase difference set by the initial potentials persists (tens of mV during spikes)
    expect(lastDiff(none)).toBeGreaterThan(10);
    expect(crossings(gap.trace!.series.A_VMv)).toBeGreaterThanOrEqual(4);
  });

  it('GABA_A from a spiking cell silences a driven cell and pulls its mean potential down', async () => {
    const pair = (gNs: number) => buildNetwork({ name: 'pair', cells: { pre: hhCell, post: hhCell }, synapses: [{ from: 'pre', to: 'post', type: gabaA, gNs }] });
    const set = { 'pre.IExtUAPerCm2': 10, 'post.IExtUAPerCm2': 8 };
    const free = await traces(pair(0), { durationMs: 200, set });
    const inhibited = await traces(pair(1000), { durationMs: 200, set });
    expect(crossings(free.trace!.series.post_VMv)).toBeGreaterThanOrEqual(8);
    // 1,000 nS is 1.6 mS/cm² towards −80 mV at s ≈ 0.3-0.9: more than hh's leak, below threshold
    expect(crossings(inhibited.trace!.series.post_VMv)).toBeLessThanOrEqual(1);
    expect(inhibited.observables.meanPost_VMv!).toBeLessThan(free.observables.meanPost_VMv! - 3);
    // the presynaptic cell does not feel a chemical synapse
    expect(Array.from(inhibited.trace!.series.pre_VMv)).toEqual(Array.from(free.trace!.series.pre_VMv));
  });
});

describe('names in a network', () => {
  it('a cell’s parameters keep their definitions under its prefix; synapse strengths are in nS', () => {
    const net = pyloric();
    expect(net.params['LP.gNa']).toMatchObject({ unit: 'mS/cm²', min: 0, value: 100 });
    expect(net.params['PY.gCaT']).toMatchObject({ unit: 'mS/cm²', value: 2.5 });
    expect(net.params['ABPD.areaCm2'].unit).toBe('cm²');
    for (const p of PYLORIC_SYNAPSE_PARAMS) expect(net.params[p]).toMatchObject({ unit: 'nS', min: 0 });
    expect(PYLORIC_SYNAPSE_PARAMS.map((p) => net.params[p].value)).toEqual([30, 30, 10, 3, 30, 1, 30]);
    expect(net.states.map((s) => s.name)).toContain('LP.Na.m');
    expect(net.observed.map((o) => o.name)).toEqual(['ABPD.V', 'ABPD.Ca', 'LP.V', 'LP.Ca', 'PY.V', 'PY.Ca']);
  });

  it('refuses unknown cells, taken names, dotted cell names and misplaced pyloric cells, naming the problem', () => {
    expect(() => buildNetwork({ name: 'n', cells: { A: hhCell }, synapses: [{ from: 'A', to: 'Z', type: ampa }] })).toThrow(/synapses\[0\]\.to: unknown cell 'Z'; cells: A/);
    expect(() => buildNetwork({ name: 'n', cells: { A: hhCell, B: hhCell }, synapses: [{ from: 'A', to: 'B', type: ampa }, { from: 'A', to: 'B', type: gabaA }] })).toThrow(/synapse name AtoB is taken/);
    expect(() => buildNetwork({ name: 'n', cells: { 'A.x': hhCell } })).toThrow(/cell name 'A.x' must be letters, digits and _/);
    expect(() => buildNetwork({ name: 'n', cells: { constructor: hhCell } })).toThrow(/reserved/);
    expect(() => pyloric({ cells: ['LP1', 'LP4', 'PY1'] })).toThrow(/cell 1 must be a ABPD cell/);
    expect(() => pyloric({ cells: ['ABPD9', 'LP4', 'PY1'] })).toThrow(/unknown pyloric cell 'ABPD9'/);
    expect(() => pyloric({ synapsesNs: [1, 2, 3] })).toThrow(/give 7 strengths/);
  });
});

describe('per-cell and network results of simulate', () => {
  it('each cell of an unconnected pyloric network reports the spikes of the cell alone; AB/PD 2 bursts, as in Prinz 2004', async () => {
    const cells = ['ABPD2', 'LP4', 'PY1'];
    // AB/PD 2 alone bursts with a period of about 1.5 s: 8 s of window hold five cycles
    const run = { engine: 'cpu' as const, dtMs: 0.05, durationMs: 12000, discardMs: 4000 };
    const net = await simulate({ model: pyloric({ cells, synapsesNs: [0, 0, 0, 0, 0, 0, 0] }), ...run });
    expect(Object.keys(net.cells!)).toEqual(['ABPD', 'LP', 'PY']);
    for (const [k, role] of ['ABPD', 'LP', 'PY'].entries()) {
      const alone = await simulate({ model: buildNeuron(prinz2004Cell(cells[k])), ...run });
      expect(net.cells![role].spikeTimesMs, role).toEqual(alone.spikeTimesMs);
      expect(net.cells![role].observables.meanVMv, role).toBe(alone.observables.meanVMv);
      expect(net.cells![role].observables.maxCaUM, role).toBe(alone.observables.maxCaUM);
    }
    expect(net.cells!.ABPD.activity.class).toBe('bursting');
    expect(net.cells!.ABPD.activity.spikesPerBurst).toBeGreaterThan(2);
    // unconnected cells do not share a period unless by chance; the network says which cell breaks it
    if (net.network!.class === 'non-periodic') expect(net.network!.reason).toMatch(/^(ABPD|LP|PY)/);
  });
});

describe('ionsweep simulate --model pyloric', () => {
  it('prints each cell and the network, with the numbers of the library call', async () => {
    const { cli } = await import('./cli-helper.ts');
    const args = ['--cells', 'ABPD4,LP2,PY1', '--synapses-ns', '3,100,10,1,10,3,10'];
    const run = await cli(['simulate', '--model', 'pyloric', ...args, '--duration-ms', '2000', '--engine', 'cpu', '--tangents', 'gSynABtoLP']);
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(Object.keys(doc.cells)).toEqual(['ABPD', 'LP', 'PY']);
    expect(doc.spikeTimesMs, 'a network has no single spike train').toBeUndefined();
    expect(['pyloric', 'pyloric-like', 'periodic', 'non-periodic']).toContain(doc.network.class);
    expect(doc.params.gSynABtoLP).toBe(3);
    expect(doc.params['LP.gCaS']).toBe(6); // LP 2 of Table 2
    const lib = await simulate({ model: pyloric({ cells: ['ABPD4', 'LP2', 'PY1'], synapsesNs: [3, 100, 10, 1, 10, 3, 10] }), engine: 'cpu', durationMs: 2000, tangents: ['gSynABtoLP'] });
    for (const cell of ['ABPD', 'LP', 'PY']) {
      expect(doc.cells[cell].spikeTimesMs).toEqual(lib.cells![cell].spikeTimesMs);
      expect(doc.cells[cell].tangents.meanVMv.gSynABtoLP).toBe(lib.cells![cell].tangents.meanVMv.gSynABtoLP);
    }
  });

  it('refuses pyloric flags on other models, unknown cells and a wrong number of synapses, in one line', async () => {
    const { cli, expectOneLineFailure } = await import('./cli-helper.ts');
    expectOneLineFailure(await cli(['simulate', '--model', 'hh', '--cells', 'ABPD1,LP1,PY1']), 2, /--cells and --synapses-ns choose the cells and synapses of --model pyloric/);
    expectOneLineFailure(await cli(['simulate', '--model', 'pyloric', '--cells', 'ABPD1,LP9,PY1']), 2, /unknown pyloric cell 'LP9'; allowed: ABPD1/);
    expectOneLineFailure(await cli(['simulate', '--model', 'pyloric', '--synapses-ns', '1,2']), 2, /--synapses-ns expects gSynABtoLP,.*gSynPYtoLP, got '1,2'/);
  });
});

describe('the isolated start (each cell alone first, then connected)', () => {
  it('with zero synapses, isolated:500 continues each cell alone exactly where 500 ms took it', async () => {
    const cells = ['ABPD2', 'LP4', 'PY1'];
    const run = { engine: 'cpu' as const, dtMs: 0.05, traceEveryMs: 1 };
    const net = await simulate({ model: pyloric({ cells, synapsesNs: [0, 0, 0, 0, 0, 0, 0] }), ...run, durationMs: 300, init: 'isolated:500' });
    expect(net.init).toBe('isolated:500');
    for (const [k, role] of ['ABPD', 'LP', 'PY'].entries()) {
      const alone = await simulate({ model: buildNeuron(prinz2004Cell(cells[k])), ...run, durationMs: 800 });
      const tail = Array.from(alone.trace!.series.VMv.slice(500));
      expect(Array.from(net.trace!.series[`${role}_VMv`]), role).toEqual(tail);
    }
  });

  it('connects the cells with every synaptic gate at 0, and is refused for a single cell', async () => {
    const net = pyloric();
    const started = await isolatedStart(net, 200, { values: {}, dtMs: 0.05, method: 'exp-euler' });
    const synaptic = started.states.filter((s) => !['ABPD', 'LP', 'PY'].some((c) => s.name.startsWith(`${c}.`)));
    expect(synaptic.map((s) => s.name)).toEqual(['ABtoLP.s', 'PDtoLP.s', 'ABtoPY.s', 'PDtoPY.s', 'LPtoABPD.s', 'LPtoPY.s', 'PYtoLP.s']);
    for (const s of synaptic) expect(s.init.cold.op === 'const' && s.init.cold.value === 0, s.name).toBe(true);
    // the cells have moved on from their cold start (V = -50 mV)
    for (const c of ['ABPD', 'LP', 'PY']) {
      const v = started.states.find((s) => s.name === `${c}.V`)!.init.cold;
      expect(v.op === 'const' && v.value !== -50, c).toBe(true);
    }
    await expect(simulate({ model: 'hh', durationMs: 10, init: 'isolated:100' })).rejects.toThrow(/isolated:MS is for networks/);
    await expect(simulate({ model: net, durationMs: 10, init: 'isolated:abc' })).rejects.toThrow(/must be steady, cold or isolated:MS/);
  });
});

describe('the README network example', () => {
  it('runs as written: C fires, driven through the AMPA and gap-junction paths from A', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n(import \{ buildNetwork[\s\S]*?)```/.exec(readme);
    expect(block, 'README has the buildNetwork example').not.toBeNull();
    const lib = await import('../src/index.ts');
    const body = block![1].replace(/^import .*$/m, '').replace(/^console\.log.*$/m, 'return r;');
    const names = ['buildNetwork', 'hh', 'ampa', 'electrical', 'simulate'] as const;
    const r = await new Function(...names, `return (async () => { ${body.replace(/type ChemicalSynapseDef/g, '').replace(/: ChemicalSynapseDef/g, '')} })();`)(...names.map((n) => lib[n]));
    expect(Object.keys(r.cells)).toEqual(['A', 'B', 'C']);
    expect(r.cells.A.spikeCount).toBeGreaterThan(3);
    expect(r.cells.C.spikeCount).toBeGreaterThan(0);
    expect(r.cells.C.tangents.meanVMv.gSynAtoB).toBeGreaterThan(0); // more excitation onto B raises C's mean potential
  });
});

describe('a network is an ordinary model for the cost jobs', () => {
  it('a landscape over a synapse strength and a cell conductance of the pyloric network, with gradients that match its own grid', async () => {
    const { runLandscape } = await import('../src/jobs/landscape.ts');
    const r = await runLandscape({
      model: 'pyloric', engine: 'cpu', dtMs: 0.05, durationMs: 150,
      cost: [{ mean: 'LP.V', target: -50, scale: 1 }],
      x: { parameter: 'gSynABtoLP', from: 10, to: 10.002, count: 3 },
      y: { parameter: 'LP.gCaS', from: 4, to: 4.002, count: 3 },
    });
    expect(r.cost.length).toBe(9);
    // the centre point's gradient against central differences of the grid's own costs (a step of
    // 1e-3 on a smooth 150 ms window: agreement to 1e-4 relative)
    const c = 4, nx = 3;
    const dx = (r.cost[c + 1] - r.cost[c - 1]) / (2 * 0.001), dy = (r.cost[c + nx] - r.cost[c - nx]) / (2 * 0.001);
    expect(Math.abs(r.gradient[0][c] - dx) / Math.abs(dx)).toBeLessThan(1e-4);
    expect(Math.abs(r.gradient[1][c] - dy) / Math.abs(dy)).toBeLessThan(1e-4);
  });
});
