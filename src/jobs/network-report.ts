/**
 * A pyloric network sweep summarised as Prinz, Bucher & Marder (2004) summarised their database: the
 * fractions of pyloric-like and pyloric networks (with 95 % Wilson intervals, beside the published
 * ones), why pyloric-like networks miss the pyloric ranges and why the others are not periodic, and
 * per synapse, how the strengths of the pyloric networks differ from those of all networks (e.g. how
 * often LP→PY exceeds 3 nS). Rows are read a batch of row groups at a time, only the columns counted,
 * so the whole 20,250,000-network database can be summarised.
 */
import { PYLORIC_SYNAPSE_PARAMS } from '../channels/pyloric.ts';
import { InputError } from '../errors.ts';
import { SynapseCounts, synapseDistributionSpec } from '../io/plot/network-synapses-figure.ts';
import type { TopLevelSpec } from '../io/plot/figure.ts';
import { readSweepBatches } from '../io/plot/sweep-table.ts';

/** Prinz, Bucher & Marder 2004: of 20,250,000 networks, 19.99 % pyloric-like (pyloric ones included) and 2.2 % pyloric. */
export const PRINZ_2004_FRACTIONS = { pyloricLikeOrPyloric: 0.1999, pyloric: 0.022 } as const;

/** The synapses as the paper names them. */
export const SYNAPSE_LABELS: Readonly<Record<string, string>> = {
  gSynABtoLP: 'AB→LP', gSynPDtoLP: 'PD→LP', gSynABtoPY: 'AB→PY', gSynPDtoPY: 'PD→PY', gSynLPtoABPD: 'LP→AB/PD', gSynLPtoPY: 'LP→PY', gSynPYtoLP: 'PY→LP',
};

/** 95 % Wilson score interval of a binomial fraction k/n (Wilson 1927); [0, 1] when n is 0. */
export function wilsonInterval95(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959964, p = k / n, d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d, half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A fraction of the sweep's networks, its interval and the published fraction of the database. */
export interface NetworkFraction {
  networks: number;
  fraction: number;
  ci95: [number, number];
  publishedPrinz2004: number;
}

export interface NetworkReport {
  source: string;
  networks: number;
  classCounts: Record<string, number>;
  pyloricLikeOrPyloric: NetworkFraction;
  pyloric: NetworkFraction;
  /** pyloric-like networks (not pyloric) by each feature outside its range, most first (15 at most) */
  pyloricLikeOutsideRange: Record<string, number>;
  /** non-periodic networks by reason, numbers taken out (`#`), most first (12 at most) */
  nonPeriodicReasons: Record<string, number>;
  /** the synapses the sweep varies (its synapse columns), in the paper's order */
  synapses: string[];
  /** per synapse (the paper's name): the share of the pyloric networks, and of all, above 3 nS */
  above3nS: Record<string, { pyloric: number; all: number }>;
  /** per synapse: the share of the pyloric networks, and of all, at 0 nS */
  zero: Record<string, { pyloric: number; all: number }>;
}

/** Rows read so far of `total`. */
export type ReportProgress = (done: number, total: number) => void;

/**
 * The report of a network sweep (a sweep folder's complete shards, or a merged or shard table), and
 * the per-synapse figure of its pyloric networks (undefined when the sweep varies no synapse).
 * InputError when the table is not a pyloric network sweep's.
 */
export async function networkReport(source: string, options: { onProgress?: ReportProgress } = {}): Promise<{ report: NetworkReport; figure?: TopLevelSpec }> {
  let synapses: string[] = [];
  const { header, rows, source: from, batches } = await readSweepBatches(source, (names) => {
    synapses = PYLORIC_SYNAPSE_PARAMS.filter((s) => names.includes(s));
    return ['class', 'reason', ...synapses];
  });
  const names = header.map((c) => c.name);
  const missing = ['class', 'reason', 'ABPD_class', 'LP_class', 'PY_class'].filter((n) => !names.includes(n));
  if (missing.length) throw new InputError(`${source}: not a pyloric network sweep's table (no column ${missing.join(', ')}); network-report reads the rows of a sweep of model: pyloric`);

  const classCounts: Record<string, number> = {};
  const featureMisses: Record<string, number> = {};
  const notPeriodic: Record<string, number> = {};
  // above 3 nS: "how often LP→PY exceeds 3 nS"
  const counts = new SynapseCounts(synapses, 3);
  let networks = 0;
  options.onProgress?.(0, rows);
  for await (const batch of batches) {
    const classes = batch.columns.find((c) => c.name === 'class')!.data as string[];
    const reasons = batch.columns.find((c) => c.name === 'reason')!.data as (string | null)[];
    counts.add(batch.columns);
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i], reason = reasons[i] ?? '';
      classCounts[c] = (classCounts[c] ?? 0) + 1;
      // "pyloric-like: outside the ranges: pyStartPhase, gapLpEndPyStartMs" → each feature
      if (c === 'pyloric-like') for (const f of reason.replace(/^.*: /, '').split(', ')) if (f) featureMisses[f] = (featureMisses[f] ?? 0) + 1;
      if (c === 'non-periodic') {
        const key = reason.replace(/-?\d+(\.\d+)?/g, '#');
        notPeriodic[key] = (notPeriodic[key] ?? 0) + 1;
      }
    }
    networks += batch.rows;
    options.onProgress?.(networks, rows);
  }

  const fraction = (k: number, published: number): NetworkFraction => ({ networks: k, fraction: networks ? k / networks : 0, ci95: wilsonInterval95(k, networks), publishedPrinz2004: published });
  const pyloric = classCounts.pyloric ?? 0, pyloricLike = pyloric + (classCounts['pyloric-like'] ?? 0);
  const top = (t: Record<string, number>, k: number) => Object.fromEntries(Object.entries(t).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, k));
  const perSynapse = (share: 'zero' | 'above') => Object.fromEntries(synapses.map((s) => {
    const shares = counts.shares(s);
    return [SYNAPSE_LABELS[s], { pyloric: shares.pyloric[share], all: shares['all networks'][share] }];
  }));
  const report: NetworkReport = {
    source: from, networks, classCounts,
    pyloricLikeOrPyloric: fraction(pyloricLike, PRINZ_2004_FRACTIONS.pyloricLikeOrPyloric),
    pyloric: fraction(pyloric, PRINZ_2004_FRACTIONS.pyloric),
    pyloricLikeOutsideRange: top(featureMisses, 15),
    nonPeriodicReasons: top(notPeriodic, 12),
    synapses,
    above3nS: perSynapse('above'),
    zero: perSynapse('zero'),
  };
  const figure = synapses.length
    ? synapseDistributionSpec(counts, synapses, { labels: SYNAPSE_LABELS, title: `synapse strengths of the pyloric networks: ${networks.toLocaleString('en')} networks (${from})` })
    : undefined;
  return { report, figure };
}
