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

/**
 * Per synapse column, per strength: how many networks of each group have it, and what fraction of the
 * group that is. Groups: pyloric, pyloric-like or better (pyloric networks are pyloric-like too), all.
 */
export function synapseDistributions(columns: Column[], synapses: readonly string[]): SynapseDistribution[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const classes = byName.get('class')?.data as string[] | undefined;
  if (!classes) throw new InputError(`not a network sweep table: it has no 'class' column`);
  const groups: [string, (c: string) => boolean][] = [
    ['pyloric', (c) => c === 'pyloric'],
    ['pyloric-like or pyloric', (c) => c === 'pyloric' || c === 'pyloric-like'],
    ['all networks', () => true],
  ];
  const out: SynapseDistribution[] = [];
  for (const synapse of synapses) {
    const col = byName.get(synapse);
    if (!col) throw new InputError(`the table has no column ${synapse}`);
    const values = [...new Set(Array.from(col.data as ArrayLike<number>, Number))].sort((a, b) => a - b);
    for (const [group, member] of groups) {
      const counts = new Map(values.map((v) => [v, 0]));
      let total = 0;
      for (let i = 0; i < classes.length; i++) {
        if (!member(classes[i])) continue;
        total++;
        const v = Number(col.data[i]);
        counts.set(v, counts.get(v)! + 1);
      }
      for (const v of values) out.push({ synapse, strengthNs: v, group, networks: counts.get(v)!, fraction: total ? counts.get(v)! / total : 0 });
    }
  }
  return out;
}

/** Grouped bars, one panel per synapse: fraction of each group's networks at each strength (nS). */
export function synapseDistributionSpec(columns: Column[], synapses: readonly string[], options: { title?: string; labels?: Record<string, string> } = {}): TopLevelSpec {
  const data = synapseDistributions(columns, synapses).map((d) => ({ ...d, synapse: options.labels?.[d.synapse] ?? d.synapse, strength: String(d.strengthNs) }));
  const groupCounts = new Map<string, number>();
  const classes = columns.find((c) => c.name === 'class')!.data as string[];
  groupCounts.set('pyloric', classes.filter((c) => c === 'pyloric').length);
  groupCounts.set('pyloric-like or pyloric', classes.filter((c) => c === 'pyloric' || c === 'pyloric-like').length);
  groupCounts.set('all networks', classes.length);
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
