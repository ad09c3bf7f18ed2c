/**
 * Summarises a Prinz 2004 network sweep (a merged table, or the complete shards of a sweep folder):
 * class counts and fractions with 95 % Wilson intervals beside the published fractions, per-synapse
 * shares of the pyloric networks against all networks, and the per-synapse figure as SVG.
 *
 *   deno run -A scripts/network-database-report.ts results/prinz-2004-sample [--svg docs/figures/x.svg]
 */
import process from 'node:process';
import { PYLORIC_SYNAPSE_PARAMS } from '../src/channels/pyloric.ts';
import { writeFigure } from '../src/io/plot/figure.ts';
import { SynapseCounts, synapseDistributionSpec } from '../src/io/plot/network-synapses-figure.ts';
import { readSweepBatches } from '../src/io/plot/sweep-table.ts';

/** Prinz, Bucher & Marder 2004: of 20,250,000 networks, 19.99 % pyloric-like (pyloric ones included) and 2.2 % pyloric. */
const PUBLISHED = { pyloricLikeOrPyloric: 0.1999, pyloric: 0.022 };
const LABELS: Record<string, string> = {
  gSynABtoLP: 'AB→LP', gSynPDtoLP: 'PD→LP', gSynABtoPY: 'AB→PY', gSynPDtoPY: 'PD→PY', gSynLPtoABPD: 'LP→AB/PD', gSynLPtoPY: 'LP→PY', gSynPYtoLP: 'PY→LP',
};

/** 95 % Wilson score interval of a binomial fraction k/n. */
function wilson(k: number, n: number): [number, number] {
  const z = 1.959964, p = k / n, d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d, half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [centre - half, centre + half];
}

const args = process.argv.slice(2);
const source = args[0];
const svgAt = args.indexOf('--svg');
if (!source) throw new Error('usage: network-database-report.ts <sweep folder or merged.parquet> [--svg out.svg]');
// a batch of row groups at a time, only the columns counted: the whole database fits
const { source: from, batches } = await readSweepBatches(source, () => ['class', 'reason', ...PYLORIC_SYNAPSE_PARAMS]);
const classCounts: Record<string, number> = {};
// why pyloric-like networks are not pyloric: each feature outside its range, counted
const featureMisses: Record<string, number> = {};
// why the others are not periodic: the reason with numbers taken out
const notPeriodic: Record<string, number> = {};
const synapses = new SynapseCounts(PYLORIC_SYNAPSE_PARAMS);
let n = 0;
for await (const batch of batches) {
  const classes = batch.columns.find((c) => c.name === 'class')!.data as string[];
  const reasons = batch.columns.find((c) => c.name === 'reason')!.data as string[];
  n += batch.rows;
  synapses.add(batch.columns);
  classes.forEach((c, i) => {
    classCounts[c] = (classCounts[c] ?? 0) + 1;
    if (c === 'pyloric-like') for (const f of reasons[i].replace(/^.*: /, '').split(', ')) featureMisses[f] = (featureMisses[f] ?? 0) + 1;
    if (c === 'non-periodic') {
      const key = reasons[i].replace(/-?\d+(\.\d+)?/g, '#');
      notPeriodic[key] = (notPeriodic[key] ?? 0) + 1;
    }
  });
}
const pyloric = classCounts.pyloric ?? 0, pyloricLike = pyloric + (classCounts['pyloric-like'] ?? 0);
const top = (t: Record<string, number>, k: number) => Object.fromEntries(Object.entries(t).sort((a, b) => b[1] - a[1]).slice(0, k));
const distributions = synapses.distributions();
const share = (synapse: string, group: string, above: number) =>
  distributions.filter((d) => d.synapse === synapse && d.group === group && d.strengthNs > above).reduce((s, d) => s + d.fraction, 0);
const report = {
  source: from, networks: n, classCounts,
  pyloricLikeOrPyloric: { networks: pyloricLike, fraction: pyloricLike / n, ci95: wilson(pyloricLike, n), published: PUBLISHED.pyloricLikeOrPyloric },
  pyloric: { networks: pyloric, fraction: pyloric / n, ci95: wilson(pyloric, n), published: PUBLISHED.pyloric },
  pyloricLikeOutsideRange: top(featureMisses, 15),
  nonPeriodicReasons: top(notPeriodic, 12),
  // e.g. how often LP→PY exceeds 3 nS among pyloric networks and among all
  above3nS: Object.fromEntries(PYLORIC_SYNAPSE_PARAMS.map((s) => [LABELS[s], { pyloric: share(s, 'pyloric', 3), all: share(s, 'all networks', 3) }])),
  zero: Object.fromEntries(PYLORIC_SYNAPSE_PARAMS.map((s) => [LABELS[s], {
    pyloric: distributions.find((d) => d.synapse === s && d.group === 'pyloric' && d.strengthNs === 0)?.fraction ?? 0,
    all: distributions.find((d) => d.synapse === s && d.group === 'all networks' && d.strengthNs === 0)?.fraction ?? 0,
  }])),
};
console.log(JSON.stringify(report, null, 2));
if (svgAt >= 0) {
  await writeFigure(args[svgAt + 1], synapseDistributionSpec(synapses, PYLORIC_SYNAPSE_PARAMS, {
    labels: LABELS, title: `synapse strengths of the pyloric networks: ${n.toLocaleString('en')} networks of the Prinz 2004 database`,
  }));
}
