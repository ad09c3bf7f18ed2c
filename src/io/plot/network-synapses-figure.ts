/**
 * Where the rhythm lives in synapse space: for each synapse of a network sweep, the fraction of the
 * networks of a class (pyloric, pyloric-like, all) that have each of the synapse's strengths, as
 * grouped bars, one panel per synapse (Prinz, Bucher & Marder 2004 drew these distributions for
 * their pyloric networks). Counts use every row; the strengths are the table's own values.
 */
import type { Column } from '../../analysis/features.ts';
import { InputError } from '../../errors.ts';
import type { TopLevelSpec } from './figure.ts';
import { CLASS_COLOURS, MAX_GRID_LEVELS } from './sweep-figure.ts';

export interface SynapseDistribution {
  synapse: string;
  /** the strength, or the lower edge of its bin (see `strengthLabel`) */
  strengthNs: number;
  /** the strength as drawn: the value, or its bin ("3–10") when the synapse has many strengths */
  strengthLabel: string;
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
 * Distinct strengths a synapse is counted by, one bar each (a grid's levels), before its strengths go
 * into bins: strengths drawn at random (uniform, lhs, sobol) are all distinct, and a bar each would
 * make a database's figure and counts as large as its rows. As many as the sweep figure takes for a
 * grid axis.
 */
export const MOST_STRENGTHS = MAX_GRID_LEVELS;

/**
 * The bin of a strength (nS): 0 alone, then two per decade, [1, 3), [3, 10), [10, 30), ... (and so on
 * below 1 nS), edges where the Prinz grid's levels lie. Its lower edge, and its label.
 */
export function strengthBin(strengthNs: number): { lowNs: number; label: string } {
  if (!(strengthNs > 0)) return { lowNs: strengthNs, label: String(strengthNs) };
  // edges rounded to 12 digits, so 0.3 and 1000 land on their own edges (3 × 0.1 and 10 ** log10(1000) do not)
  const round = (x: number) => Number(x.toPrecision(12));
  let decade = round(10 ** Math.floor(Math.log10(strengthNs)));
  if (strengthNs >= round(10 * decade)) decade = round(10 * decade);
  else if (strengthNs < decade) decade = round(decade / 10);
  const three = round(3 * decade);
  const [low, high] = strengthNs >= three ? [three, round(10 * decade)] : [decade, three];
  return { lowNs: low, label: `${low}–${high}` };
}

/**
 * Per synapse column, per strength, how many networks of each group have it, counted a batch of rows
 * at a time (a database of millions of rows is never in memory at once). A synapse with more than
 * MOST_STRENGTHS distinct strengths is counted by bins (strengthBin) from then on, its counts so far
 * moved into theirs (exactly: each strength has one bin). How many networks of each group have a
 * synapse at 0 or above a threshold is counted exactly, whatever the bins.
 */
export class SynapseCounts {
  /** per synapse, per group, networks by strength (or by bin's lower edge, once binned) */
  private readonly counts: Map<number, number>[][];
  /** per synapse: binned, and the bins' labels by lower edge */
  private readonly bins: (Map<number, string> | undefined)[];
  /** per synapse, per group: networks at 0, and above `strongNs` */
  private readonly zero: number[][];
  private readonly strong: number[][];
  /** networks per group */
  readonly groupCounts = new Map<string, number>(GROUPS.map(([g]) => [g, 0]));

  /** @param strongNs the threshold (nS) of `shares().above` (3: "LP→PY exceeds 3 nS") */
  constructor(readonly synapses: readonly string[], readonly strongNs = 3) {
    this.counts = synapses.map(() => GROUPS.map(() => new Map<number, number>()));
    this.bins = synapses.map(() => undefined);
    this.zero = synapses.map(() => GROUPS.map(() => 0));
    this.strong = synapses.map(() => GROUPS.map(() => 0));
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
          const key = this.bins[s] ? this.binOf(s, v) : v;
          counts.set(key, (counts.get(key) ?? 0) + 1);
          if (v === 0) this.zero[s][g]++;
          if (v > this.strongNs) this.strong[s][g]++;
        });
      });
      // the all-networks group holds every strength: bin a synapse once it has too many
      for (let s = 0; s < this.synapses.length; s++) if (!this.bins[s] && this.counts[s][GROUPS.length - 1].size > MOST_STRENGTHS) this.binSynapse(s);
    }
  }

  /** A strength's bin key (its lower edge), noting the bin's label. */
  private binOf(s: number, strengthNs: number): number {
    const { lowNs, label } = strengthBin(strengthNs);
    this.bins[s]!.set(lowNs, label);
    return lowNs;
  }

  /** Moves a synapse's counts by strength into counts by bin. */
  private binSynapse(s: number): void {
    this.bins[s] = new Map();
    this.counts[s] = this.counts[s].map((byStrength) => {
      const byBin = new Map<number, number>();
      for (const [v, k] of byStrength) {
        const key = this.binOf(s, v);
        byBin.set(key, (byBin.get(key) ?? 0) + k);
      }
      return byBin;
    });
  }

  /** Per synapse, per strength or bin (every one the table holds), per group: networks and fraction of the group. */
  distributions(): SynapseDistribution[] {
    const out: SynapseDistribution[] = [];
    this.synapses.forEach((synapse, s) => {
      // every strength of the synapse: all networks hold them all
      const values = [...this.counts[s][GROUPS.length - 1].keys()].sort((a, b) => a - b);
      GROUPS.forEach(([group], g) => {
        const total = this.groupCounts.get(group)!;
        for (const v of values) {
          const networks = this.counts[s][g].get(v) ?? 0;
          out.push({ synapse, strengthNs: v, strengthLabel: this.bins[s]?.get(v) ?? String(v), group, networks, fraction: total ? networks / total : 0 });
        }
      });
    });
    return out;
  }

  /** Per group, the fraction of its networks with the synapse at 0 nS and above `strongNs` (exact, whatever the bins). */
  shares(synapse: string): Record<string, { zero: number; above: number }> {
    const s = this.synapses.indexOf(synapse);
    if (s < 0) throw new Error(`SynapseCounts: no synapse ${synapse}`);
    return Object.fromEntries(GROUPS.map(([group], g) => {
      const total = this.groupCounts.get(group)!;
      return [group, { zero: total ? this.zero[s][g] / total : 0, above: total ? this.strong[s][g] / total : 0 }];
    }));
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
  const data = counts.distributions().map((d) => ({ ...d, synapse: options.labels?.[d.synapse] ?? d.synapse, strength: d.strengthLabel }));
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
