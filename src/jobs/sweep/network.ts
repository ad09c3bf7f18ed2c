/**
 * Network sweeps: what a sweep of networks adds to a sweep of neurons.
 *
 * - Cell choices: `cells: { ABPD: { choice: [ABPD1, ABPD2] } }` makes a cell one of the Table 2 cells
 *   of Prinz 2004; a choice is one axis (its values are the choices' positions), and expands into the
 *   cell's 8 maximal conductances as per-instance parameters. Grids and distributions of any cell's
 *   own parameters (`LP.gA`) and of synapse strengths are ordinary parameters.
 * - The isolated start (`init: isolated:MS`), as Prinz, Bucher & Marder assembled their networks: each
 *   cell first runs alone for MS ms from its cold start, then the cells are connected with every
 *   synaptic gate at 0. A cell's isolated state depends only on its own parameters, so each distinct
 *   cell setting is run once (a network with every strength 0 reproduces its cells alone, network.ts)
 *   and its final state becomes, through per-instance start parameters `<state>.start`, the initial
 *   state of every network that uses it. For the Prinz database that is 16 single-cell runs instead of
 *   20,250,000, and a network's row stays a pure function of (spec, index).
 */
import { compile } from '../../compile/compile.ts';
import type { Method } from '../../compile/program.ts';
import { parseLane } from '../../compile/program.ts';
import { CONDUCTANCE_NAMES } from '../../channels/prinz2004-cells.ts';
import { PYLORIC_CELL_CHOICES } from '../../channels/pyloric.ts';
import { runEnsemble, type RunOptions } from '../../engine/run.ts';
import { InputError } from '../../errors.ts';
import * as E from '../../model/expr.ts';
import { checkParamValue, type Model } from '../../model/model.ts';
import { networkCells } from '../../model/network.ts';
import { own } from '../../model/names.ts';
import { withObserved } from '../../model/observe.ts';
import { isolatedMs } from '../isolated-start.ts';
import type { ResolvedSweep, SweepSpec } from './spec.ts';

/** A network cell's choice among Table 2 cells: one sweep axis. */
export interface CellChoiceAxis {
  /** the cell's name in the network (the axis name and its table column) */
  name: string;
  kind: 'choice';
  /** positions 0..k−1 (what the grid and the samplers draw) */
  values: number[];
  /** the chosen cells' names, e.g. ABPD1 */
  labels: string[];
  /** per choice: the network parameters it sets (`ABPD.gNa`, ...) */
  sets: Record<string, number>[];
}

/** The spec's cell choices as axes, checked against the model (network cells, Table 2 names, parameters). */
export function cellChoiceAxes(spec: SweepSpec, model: Model): CellChoiceAxis[] {
  if (!spec.cells) return [];
  const cells = networkCells(model);
  if (cells.length < 2) throw new InputError(`sweep spec: cells: model ${model.name} is a single neuron; cell choices are for networks`);
  return Object.entries(spec.cells).map(([cell, { choice }]) => {
    if (!cells.includes(cell)) throw new InputError(`sweep spec: cells.${cell}: not a cell of ${model.name}; its cells are ${cells.join(', ')}`);
    if (new Set(choice).size !== choice.length) throw new InputError(`sweep spec: cells.${cell}.choice: a cell is listed twice`);
    const sets = choice.map((name, k) => {
      const table2 = own(PYLORIC_CELL_CHOICES, name);
      if (!table2) throw new InputError(`sweep spec: cells.${cell}.choice[${k}]: unknown cell '${name}'; allowed: ${Object.keys(PYLORIC_CELL_CHOICES).join(', ')}`);
      return Object.fromEntries(CONDUCTANCE_NAMES.map((g) => {
        const param = `${cell}.${g}`;
        const def = own(model.params, param);
        if (!def) throw new InputError(`sweep spec: cells.${cell}.choice: ${name} sets ${param}, which ${model.name} does not have (Table 2 cells are Prinz 2003 cells)`);
        const problem = checkParamValue(param, def, table2.conductances[g]);
        if (problem) throw new InputError(`sweep spec: cells.${cell}.choice[${k}]: ${problem}`);
        return [param, table2.conductances[g]];
      }));
    });
    for (const param of Object.keys(sets[0])) {
      if (param in spec.parameters) throw new InputError(`sweep spec: parameters.${param}: also set by cells.${cell}.choice; vary one or the other`);
      if (param in spec.fixed) throw new InputError(`sweep spec: fixed.${param}: also set by cells.${cell}.choice; remove one`);
    }
    return { name: cell, kind: 'choice', values: choice.map((_, k) => k), labels: [...choice], sets };
  });
}

/** What networks allow and single neurons do not (and the reverse), named field by field. */
export function checkNetworkSweep(spec: SweepSpec, model: Model, isNetwork: boolean): void {
  const isolated = isolatedMs(spec.init);
  if (!isNetwork) {
    if (isolated !== undefined) throw new InputError(`sweep spec: init: isolated:MS is for networks (each cell runs alone first); model ${model.name} is a single neuron: use cold or steady`);
    return;
  }
  if (spec.currentUAPerCm2 !== undefined) {
    throw new InputError(`sweep spec: currentUAPerCm2: a network's cells have their own injected currents; set them per cell, e.g. fixed: { LP.IExtUAPerCm2: 1 }`);
  }
  if (isolated !== undefined) {
    const cells = networkCells(model);
    for (const key of spec.tangents) {
      const { param } = parseLane(key);
      // the isolated state depends on the cell's parameters too; that part of the derivative is not carried
      if (cells.some((c) => param.startsWith(`${c}.`))) {
        throw new InputError(`sweep spec: tangents: ${key}: with init isolated:MS a cell parameter's gradient would miss its effect on the isolated state; differentiate synapse parameters, or use init cold`);
      }
    }
  }
}

/** The parameters that vary per network: the non-choice axes, then the parameters the choices set. */
export function networkInstanceParams(sweep: ResolvedSweep): string[] {
  const constant = choiceConstants(sweep);
  const chosen = (sweep.cellChoices ?? []).flatMap((c) => Object.keys(c.sets[0])).filter((p) => !Object.hasOwn(constant, p));
  return [...sweep.axes.filter((a) => a.kind !== 'choice').map((a) => a.name), ...chosen];
}

/**
 * The parameters that every choice of a cell sets to the same value, with that value: fixed, so the
 * compiler folds them (every LP cell of Prinz 2004 has no CaT and every PY cell no KCa, so with
 * CompileOptions.skipUnreadStates those gates are not advanced at all).
 */
export function choiceConstants(sweep: ResolvedSweep): Record<string, number> {
  const out: Record<string, number> = {};
  for (const choice of sweep.cellChoices ?? []) {
    for (const [param, value] of Object.entries(choice.sets[0])) {
      if (choice.sets.every((set) => Object.is(set[param], value))) out[param] = value;
    }
  }
  return out;
}

/**
 * Networks per setting of the cells in a grid sweep run in grid order, when chunks are cut at its
 * boundaries (rows.ts, chunkRanges): the cells' choices are the grid's most significant digits
 * (spec.ts puts them first), so each run of this many consecutive indices shares one choice per cell,
 * and a chunk inside one run can use a kernel with those cells' conductances folded in
 * (chosenValues), which also drops the gates of every channel its cells lack. Undefined for a
 * subsample or other sampling (neighbouring indices have unrelated cells), without choices, or when a
 * run would not fill a chunk (cutting there would only make chunks smaller). A function of the spec
 * alone, so a network runs the same kernel whatever the shards.
 */
export function cellSettingBlock(sweep: ResolvedSweep): number | undefined {
  const { spec, axes, cellChoices } = sweep;
  if (spec.sampling !== 'grid' || spec.subsample !== undefined || !cellChoices?.length) return undefined;
  const block = axes.filter((a) => a.kind !== 'choice').reduce((n, a) => n * a.values!.length, 1);
  return block >= spec.chunkSize ? block : undefined;
}

/** What the cells' choices set for one network, from its axis values (sampler order, as `names`). */
export function chosenValues(sweep: ResolvedSweep, names: readonly string[], axisValues: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const choice of sweep.cellChoices ?? []) Object.assign(out, choice.sets[axisValues[names.indexOf(choice.name)]]);
  return out;
}

/**
 * Per-instance parameter columns of a chunk from its axis columns (sampler order): non-choice axes as
 * they are, each choice expanded into the parameters it sets.
 */
export function expandChoices(sweep: ResolvedSweep, names: readonly string[], columns: readonly Float64Array[]): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  const constant = choiceConstants(sweep);
  names.forEach((name, d) => {
    const choice = sweep.cellChoices?.find((c) => c.name === name);
    if (!choice) {
      out[name] = columns[d];
      return;
    }
    for (const param of Object.keys(choice.sets[0])) {
      if (!Object.hasOwn(constant, param)) out[param] = Float64Array.from(columns[d], (k) => choice.sets[k][param]);
    }
  });
  return out;
}

/**
 * The engine that runs the cells alone. When every varied cell parameter takes finitely many values (cell
 * choices and grids), the distinct settings are few and run once each on the f64 CPU engine, as
 * `simulate --init isolated:MS` does (a handful of instances would leave a GPU idle for seconds of
 * dispatch latency). With a distribution of a cell parameter every network has its own cells, and they
 * run on the sweep's engine. Decided by the spec alone, so rows stay a function of (spec, index).
 */
export function isolationEngine(sweep: ResolvedSweep, sweepEngine: 'cpu' | 'gpu'): 'cpu' | 'gpu' {
  const cells = networkCells(sweep.model);
  const continuous = sweep.axes.some((a) => (a.kind === 'uniform' || a.kind === 'logUniform') && cells.some((c) => a.name.startsWith(`${c}.`)));
  return continuous ? sweepEngine : 'cpu';
}

/** Name of the parameter that holds a state's start value in a network sweep with an isolated start. */
export const startParam = (state: string) => `${state}.start`;

/**
 * The network with every cell state's cold start read from a parameter `<state>.start` (default: the
 * state's cold value), so each instance can start from its own cells' isolated states. Synaptic gates
 * keep their cold start (0).
 */
export function withStartParams(model: Model): { model: Model; startParams: string[]; cellStates: string[] } {
  const cells = networkCells(model);
  const cellStates = model.states.filter((s) => cells.some((c) => s.name.startsWith(`${c}.`)));
  const params = { ...model.params };
  for (const s of cellStates) {
    // a sweep gives every instance its value (IsolatedStates); the default is the cold start where
    // that is a number or a parameter (V from initVMv, [Ca] from Ca0UM)
    const cold = s.init.cold;
    const value = cold.op === 'const' ? cold.value : cold.op === 'param' ? model.params[cold.name].value : 0;
    params[startParam(s.name)] = { value, unit: s.unit ?? '', description: `start value of ${s.name} (its cell's isolated state)` };
  }
  const names = new Set(cellStates.map((s) => s.name));
  return {
    model: { ...model, params, states: model.states.map((s) => (names.has(s.name) ? { ...s, init: { ...s.init, cold: E.param(startParam(s.name)) } } : s)) },
    startParams: cellStates.map((s) => startParam(s.name)),
    cellStates: cellStates.map((s) => s.name),
  };
}

/**
 * Isolated states of a sweep's cells, each distinct cell setting run once (and remembered across the
 * chunks of a shard). A setting is the cell's per-instance parameters; everything else comes from the
 * spec (fixed values, model defaults), with every synapse strength (unit nS) at 0.
 */
export class IsolatedStates {
  private readonly cells: string[];
  private readonly cellParams: Map<string, string[]>;
  private readonly cache = new Map<string, Map<string, Float64Array>>();
  private readonly statesOf: Map<string, string[]>;
  private program?: ReturnType<typeof compile>;
  /** single-cell runs done (one instance per distinct setting, run side by side per cell) */
  runs = 0;

  constructor(
    private readonly sweep: ResolvedSweep,
    private readonly ms: number,
    instanceParams: readonly string[],
    private readonly cellStates: readonly string[],
    private readonly options: Pick<RunOptions, 'engine' | 'threads' | 'gpu' | 'gpuMath'>,
  ) {
    this.cells = networkCells(sweep.model);
    this.cellParams = new Map(this.cells.map((c) => [c, instanceParams.filter((p) => p.startsWith(`${c}.`))]));
    this.statesOf = new Map(this.cells.map((c) => [c, cellStates.filter((s) => s.startsWith(`${c}.`))]));
    for (const c of this.cells) this.cache.set(c, new Map());
  }

  private compileOnce() {
    if (this.program) return this.program;
    const { spec, model } = this.sweep;
    const strengths = Object.entries(model.params).filter(([, def]) => def.unit === 'nS').map(([name]) => name);
    // every cell state observed under a plain name, so the trace's one sample at the end is the state
    const probes = withObserved(model, this.cellStates.map((s, k) => ({ name: `isolatedState${k}`, expr: E.state(s), unit: '' })));
    const cellInstanceParams = [...this.cellParams.values()].flat();
    const values = { ...spec.fixed, ...choiceConstants(this.sweep), ...Object.fromEntries(strengths.map((name) => [name, 0])) };
    for (const p of cellInstanceParams) delete values[p];
    this.program = compile(probes, { method: spec.method as Method, dtMs: spec.isolatedDtMs ?? spec.dtMs, init: 'cold', values, instanceParams: cellInstanceParams });
    return this.program;
  }

  /** The start-parameter columns of a chunk (one per cell state), running the cell settings not seen before. */
  async startColumns(params: Record<string, Float64Array>, n: number): Promise<Record<string, Float64Array>> {
    const keyOf = (cell: string, i: number) => this.cellParams.get(cell)!.map((p) => params[p]?.[i] ?? NaN).join(',');
    const pending = new Map<string, { key: string; i: number }[]>();
    for (const cell of this.cells) {
      const seen = new Set<string>();
      const list: { key: string; i: number }[] = [];
      for (let i = 0; i < n; i++) {
        const key = keyOf(cell, i);
        if (!this.cache.get(cell)!.has(key) && !seen.has(key)) {
          seen.add(key);
          list.push({ key, i });
        }
      }
      pending.set(cell, list);
    }
    const N = Math.max(0, ...[...pending.values()].map((l) => l.length));
    if (N > 0) await this.run(params, pending, N);
    const out: Record<string, Float64Array> = {};
    for (const cell of this.cells) {
      const states = this.statesOf.get(cell)!;
      const cols = states.map(() => new Float64Array(n));
      for (let i = 0; i < n; i++) {
        const v = this.cache.get(cell)!.get(keyOf(cell, i))!;
        for (let k = 0; k < states.length; k++) cols[k][i] = v[k];
      }
      states.forEach((s, k) => (out[startParam(s)] = cols[k]));
    }
    return out;
  }

  private async run(params: Record<string, Float64Array>, pending: Map<string, { key: string; i: number }[]>, N: number) {
    const program = this.compileOnce();
    const table: Record<string, Float64Array> = {};
    for (const cell of this.cells) {
      const list = pending.get(cell)!;
      for (const p of this.cellParams.get(cell)!) {
        // instance k runs this cell's k-th new setting (the first again where the cell has fewer)
        table[p] = Float64Array.from({ length: N }, (_, k) => params[p][list[Math.min(k, list.length - 1)]?.i ?? 0]);
      }
    }
    const { result } = await runEnsemble(
      { program, N, params: table, durationMs: this.ms, traceEveryMs: this.ms, traceInstances: Array.from({ length: N }, (_, k) => k) },
      this.options,
    );
    this.runs += N;
    const traces = result.traces!;
    const last = traces.timesMs.length - 1;
    for (const cell of this.cells) {
      const list = pending.get(cell)!;
      const states = this.statesOf.get(cell)!;
      list.forEach(({ key }, k) => {
        if (result.divergence.state[k] >= 0) {
          const settings = this.cellParams.get(cell)!.map((p) => `${p} = ${table[p][k]}`).join(', ');
          throw new InputError(`init isolated:${this.ms}: cell ${cell} (${settings || 'its defaults'}) diverged while running alone (state ${result.divergence.stateNames[result.divergence.state[k]]} at ${result.divergence.timeMs[k]} ms): try a smaller ${this.sweep.spec.isolatedDtMs === undefined ? 'dtMs' : 'isolatedDtMs'}`);
        }
        this.cache.get(cell)!.set(key, Float64Array.from(states, (s) => traces.series(k, `isolatedState${this.cellStates.indexOf(s)}`)[last]));
      });
    }
  }
}
