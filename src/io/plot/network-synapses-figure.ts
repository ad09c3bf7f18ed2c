/**
 * Where the rhythm lives in synapse space: for each synapse of a network sweep, the fraction of the
 * networks of a class (pyloric, pyloric-like, all) that have each of the synapse's strengths, as
 * grouped bars, one panel per synapse (Prinz, Bucher & Marder 2004 drew these distributions for
 * their pyloric networks). Counts use every row; the strengths are the table's own values.
 */
import type { Column } from '../../analysis/features.ts';
import { InputError } from '../../errors.ts';
import type { TopLevelSpec } from './figure.ts';
import { CLASS_COLOURS } from './sweep-figure.ts';

export interface SynapseDistribution {
  synapse: string;
  strengthNs: number;
  group: string;
  networks: number;
  fraction: number;
}

/** The groups of networks compared, each with the classes it holds (pyloric networks are pyloric-like too). */
const GROUPS: readonly [string, (c: string) => boolean][] = [
  ['pyloric', (c) => c === 'pyloric'],
  ['pyloric-like or pyloric', (c) => c === 'pyloric' || c === 'pyloric-like'],
  ['all networks', () => true],
];

/**
 * Per synapse column, per strength, how many networks of each group have it, counted a batch of rows
 * at a time (a database of millions of rows is never in memory at once).
 */
export class SynapseCounts {
  /** per synapse, per group, networks by strength */
  private readonly counts: Map<number, number>[][];
  /** networks per group */
  readonly groupCounts = new Map<string, number>(GROUPS.map(([g]) => [g, 0]));

  constructor(readonly synapses: readonly string[]) {
    this.counts = synapses.map(() => GROUPS.map(() => new Map<number, number>()));
  }

  /** The counts of a whole table's rows. */
  static of(columns: Column[], synapses: readonly string[]): SynapseCounts {
    const counts = new SynapseCounts(synapses);
    counts.add(columns);
    return counts;
  }

  /** The next rows of the table (its `class` and synapse columns). */
  add(columns: Column[]): void {
    const byName = new Map(columns.map((c) => [c.name, c]));
    const classes = byName.get('class')?.data as string[] | undefined;
    if (!classes) throw new InputError(`not a network sweep table: it has no 'class' column`);
    const strengths = this.synapses.map((synapse) => {
      const col = byName.get(synapse);
      if (!col) throw new InputError(`the table has no column ${synapse}`);
      return col.data as ArrayLike<number>;
    });
    for (let i = 0; i < classes.length; i++) {
      GROUPS.forEach(([group, member], g) => {
        if (!member(classes[i])) return;
        this.groupCounts.set(group, this.groupCounts.get(group)! + 1);
        strengths.forEach((values, s) => {
          const v = Number(values[i]), counts = this.counts[s][g];
          counts.set(v, (counts.get(v) ?? 0) + 1);
        });
      });
    }
  }

  /** Per synapse, per strength (every strength the table holds), per group: networks and fraction of the group. */
  distributions(): SynapseDistribution[] {
    const out: SynapseDistribution[] = [];
    this.synapses.forEach((synapse, s) => {
      // every strength of the synapse: all networks hold them all
      const values = [...this.counts[s][GROUPS.length - 1].keys()].sort((a, b) => a - b);
      GROUPS.forEach(([group], g) => {
        const total = this.groupCounts.get(group)!;
        for (const v of values) {
          const networks = this.counts[s][g].get(v) ?? 0;
          out.push({ synapse, strengthNs: v, group, networks, fraction: total ? networks / total : 0 });
        }
      });
    });
    return out;
  }
}

/**
 * Per synapse column, per strength: how many networks of each group have it, and what fraction of the
 * group that is. Groups: pyloric, pyloric-like or better (pyloric networks are pyloric-like too), all.
 */
export function synapseDistributions(columns: Column[], synapses: readonly string[]): SynapseDistribution[] {
  return SynapseCounts.of(columns, synapses).distributions();
}

/** Grouped bars, one panel per synapse: fraction of each group's networks at each strength (nS), from a table's columns or counts. */
export function synapseDistributionSpec(source: Column[] | SynapseCounts, synapses: readonly string[], options: { title?: string; labels?: Record<string, string> } = {}): TopLevelSpec {
  const counts = Array.isArray(source) ? SynapseCounts.of(source, synapses) : source;
  const data = counts.distributions().map((d) => ({ ...d, synapse: options.labels?.[d.synapse] ?? d.synapse, strength: String(d.strengthNs) }));
  const groupCounts = counts.groupCounts;
  const groups = ['pyloric', 'pyloric-like or pyloric', 'all networks'];
  const legend = groups.map((g) => `${g} (${groupCounts.get(g)!.toLocaleString('en')})`);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'synapse strengths of pyloric networks', fontSize: 13 },
    data: { values: data.map((d) => ({ ...d, group: legend[groups.indexOf(d.group)] })) },
    facet: { field: 'synapse', type: 'nominal', title: null, sort: synapses.map((s) => options.labels?.[s] ?? s) },
    columns: 4,
    // each synapse has its own strengths (the three onto PY also 1 nS)
    resolve: { scale: { x: 'independent', xOffset: 'independent' } },
    spec: {
      width: 170, height: 130,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'strength', type: 'ordinal', title: 'strength (nS)', sort: { field: 'strengthNs' }, axis: { labelAngle: 0 } },
        xOffset: { field: 'group', type: 'nominal', sort: legend },
        y: { field: 'fraction', type: 'quantitative', title: 'fraction of the group', axis: { format: '.0%' } },
        color: {
          field: 'group', type: 'nominal', title: null, sort: legend,
          scale: { domain: legend, range: [CLASS_COLOURS.pyloric, CLASS_COLOURS['pyloric-like'], '#bab0ac'] },
          legend: { orient: 'top', labelLimit: 400 },
        },
        tooltip: [{ field: 'synapse' }, { field: 'strength' }, { field: 'group' }, { field: 'networks' }, { field: 'fraction', format: '.1%' }],
      },
    },
  } as TopLevelSpec;
}
