/**
 * Merging and verifying a sharded sweep: every shard's manifest must belong to the same spec and
 * shard layout, the shards must tile the index range, and every index must appear exactly once.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { concatTables, readParquet, writeParquet, type Table } from './parquet.ts';
import type { ShardManifest } from './sweep-store.ts';

const MANIFEST = /^shard-\d+-of-\d+\.json$/;

export async function readManifests(dir: string): Promise<ShardManifest[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new InputError(`cannot read sweep folder ${dir}`);
  }
  const manifests: ShardManifest[] = [];
  for (const n of names.filter((x) => MANIFEST.test(x)).sort()) manifests.push(JSON.parse(await readFile(join(dir, n), 'utf8')));
  return manifests;
}

/** Problems with a set of shard manifests (empty when they form one complete, consistent sweep). */
export function manifestProblems(manifests: ShardManifest[]): string[] {
  if (manifests.length === 0) return ['no shard manifests found (shard-*.json): no shard has completed'];
  const problems: string[] = [];
  const [first] = manifests;
  const differ = (field: keyof ShardManifest, get: (m: ShardManifest) => unknown) => {
    const values = new Set(manifests.map((m) => JSON.stringify(get(m))));
    if (values.size > 1) problems.push(`manifests disagree on ${String(field)}: ${[...values].join(' vs ')}`);
  };
  differ('specHash', (m) => m.specHash);
  differ('total', (m) => m.total);
  differ('shard', (m) => m.shard.count);
  differ('engine', (m) => `${m.engine}/${m.engine === 'gpu' ? m.gpuMath : 'f64'}`);
  const count = first.shard.count;
  const seen = new Map<number, ShardManifest>();
  for (const m of manifests) {
    if (seen.has(m.shard.index)) problems.push(`shard ${m.shard.index} of ${count} appears twice`);
    seen.set(m.shard.index, m);
    if (m.rows !== m.range.end - m.range.start) problems.push(`shard ${m.shard.index}: ${m.rows} rows for range [${m.range.start}, ${m.range.end})`);
  }
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  if (missing.length) problems.push(`missing shards of ${count}: ${missing.join(', ')}`);
  const ordered = [...seen.values()].sort((a, b) => a.range.start - b.range.start);
  let next = 0;
  for (const m of ordered) {
    if (m.range.start !== next) problems.push(`index ranges do not tile [0, ${first.total}): expected a shard starting at ${next}, found ${m.range.start}`);
    next = m.range.end;
  }
  if (next !== first.total && missing.length === 0) problems.push(`index ranges end at ${next}, expected ${first.total}`);
  return problems;
}

/** Problems with a table's index column against the range it should hold exactly once, in order. */
export function indexProblems(table: Table, start: number, end: number, label: string): string[] {
  const index = table.columns.find((c) => c.name === 'index');
  if (!index) return [`${label}: no index column`];
  const problems: string[] = [];
  if (table.rows !== end - start) problems.push(`${label}: ${table.rows} rows, expected ${end - start}`);
  const seen = new Uint8Array(Math.max(0, end - start));
  let duplicates = 0, outside = 0, unordered = 0;
  for (let k = 0; k < table.rows; k++) {
    const i = Number(index.data[k]);
    if (k > 0 && i <= Number(index.data[k - 1])) unordered++;
    if (i < start || i >= end) outside++;
    else if (seen[i - start]++) duplicates++;
  }
  const absent = seen.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
  if (duplicates) problems.push(`${label}: ${duplicates} duplicated indices`);
  if (outside) problems.push(`${label}: ${outside} indices outside [${start}, ${end})`);
  if (absent) problems.push(`${label}: ${absent} indices of [${start}, ${end}) missing`);
  if (unordered) problems.push(`${label}: rows are not in index order`);
  return problems;
}

export interface VerifyReport {
  ok: boolean;
  shards: number;
  rows: number;
  problems: string[];
}

/** Checks every manifest and every shard table of a sweep folder. */
export async function verifySweep(dir: string): Promise<VerifyReport> {
  const manifests = await readManifests(dir);
  const problems = manifestProblems(manifests);
  let rows = 0;
  for (const m of manifests) {
    const table = await readParquet(join(dir, m.table)).catch((e) => {
      problems.push(`shard ${m.shard.index}: cannot read ${m.table}: ${(e as Error).message}`);
      return undefined;
    });
    if (!table) continue;
    rows += table.rows;
    problems.push(...indexProblems(table, m.range.start, m.range.end, `shard ${m.shard.index} (${m.table})`));
    if (table.metadata.ionsweep_spec_hash !== m.specHash) problems.push(`shard ${m.shard.index}: table spec hash differs from its manifest`);
  }
  return { ok: problems.length === 0, shards: manifests.length, rows, problems };
}

/** Merges a verified sweep's shard tables into one table (index order) and writes its manifest. */
export async function mergeSweep(dir: string, outPath: string): Promise<{ rows: number; path: string }> {
  const report = await verifySweep(dir);
  if (!report.ok) throw new InputError(`cannot merge ${dir}: ${report.problems.join('; ')}`);
  const manifests = (await readManifests(dir)).sort((a, b) => a.range.start - b.range.start);
  const tables: Table[] = [];
  for (const m of manifests) tables.push(await readParquet(join(dir, m.table)));
  const [first] = manifests;
  await writeParquet(outPath, concatTables(tables), { ionsweep_spec_hash: first.specHash, ionsweep_shard: 'merged' });
  const classCounts: Record<string, number> = {};
  for (const m of manifests) for (const [k, v] of Object.entries(m.classCounts)) classCounts[k] = (classCounts[k] ?? 0) + v;
  await writeFileAtomic(`${outPath.replace(/\.parquet$/, '')}.json`, JSON.stringify({
    version: first.version, tool: 'ionsweep', specHash: first.specHash, spec: first.spec, total: first.total, rows: report.rows,
    mergedFrom: manifests.map((m) => m.table), engine: first.engine, device: [...new Set(manifests.map((m) => m.device))].join('; '),
    classCounts, mergedAt: new Date().toISOString(),
  }, null, 2) + '\n');
  return { rows: report.rows, path: outPath };
}
