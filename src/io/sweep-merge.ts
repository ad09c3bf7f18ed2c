/**
 * Merging and verifying a sharded sweep: every shard's manifest must belong to the same spec and
 * shard layout, the shards must tile the index range, every index must appear exactly once, each
 * manifest's class counts and burst periods must be those of its table's rows, and every trace a
 * shard promises (spec traces.indices in its range) must be there, whole, with a sidecar that names
 * as many columns as it has (one more than traces.record, when the spec gives it). Temporary files (`*.tmp-*`) a
 * kill left are ignored. Merge never writes over its inputs.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { EnvironmentError, InputError, environmentErrorOf } from '../errors.ts';
import { SummaryTotal, burstPeriodQuantiles, shardRange } from '../jobs/sweep/rows.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { StreamingTable, readParquetBatches, type Table } from './parquet.ts';
import { readManifest, type ShardManifest } from './shard-manifest.ts';
import { shardName, traceName, traceSidecarName } from './sweep-store.ts';
import { writeCsvBatches } from './csv.ts';

const MANIFEST = /^shard-\d+-of-\d+\.json$/;

export async function readManifests(dir: string): Promise<ShardManifest[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const environment = environmentErrorOf(error);
    throw new InputError(`cannot read sweep folder ${dir}${environment ? `: ${environment.message}` : ''}`);
  }
  const manifests: ShardManifest[] = [];
  for (const n of names.filter((x) => MANIFEST.test(x)).sort()) manifests.push(await readManifest(join(dir, n)));
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
    if (m.shard.index < m.shard.count) {
      const expected = shardRange(m.total, m.shard);
      if (expected.start !== m.range.start || expected.end !== m.range.end) problems.push(`shard ${m.shard.index} of ${m.shard.count}: range [${m.range.start}, ${m.range.end}), expected [${expected.start}, ${expected.end})`);
      if (m.table !== `${shardName(m.shard)}.parquet`) problems.push(`shard ${m.shard.index}: its manifest names table ${m.table}, expected ${shardName(m.shard)}.parquet`);
    } else {
      problems.push(`shard ${m.shard.index} of ${m.shard.count}: index out of range`);
    }
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

/**
 * Checks an index column, given a batch of rows at a time, against the range it should hold exactly
 * once, in order (a Uint8Array over the range: a byte per index, not the rows themselves).
 */
class IndexCheck {
  private readonly seen: Uint8Array;
  private rows = 0;
  private last = -Infinity;
  private duplicates = 0;
  private outside = 0;
  private unordered = 0;

  constructor(private readonly start: number, private readonly end: number) {
    this.seen = new Uint8Array(Math.max(0, end - start));
  }

  add(index: ArrayLike<unknown>): void {
    for (let k = 0; k < index.length; k++) {
      const i = Number(index[k]);
      if (this.rows > 0 && i <= this.last) this.unordered++;
      if (i < this.start || i >= this.end) this.outside++;
      else if (this.seen[i - this.start]++) this.duplicates++;
      this.last = i;
      this.rows++;
    }
  }

  problems(label: string): string[] {
    const { start, end } = this;
    const problems: string[] = [];
    if (this.rows !== end - start) problems.push(`${label}: ${this.rows} rows, expected ${end - start}`);
    const absent = this.seen.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
    if (this.duplicates) problems.push(`${label}: ${this.duplicates} duplicated indices`);
    if (this.outside) problems.push(`${label}: ${this.outside} indices outside [${start}, ${end})`);
    if (absent) problems.push(`${label}: ${absent} indices of [${start}, ${end}) missing`);
    if (this.unordered) problems.push(`${label}: rows are not in index order`);
    return problems;
  }
}

/** Problems with a table's index column against the range it should hold exactly once, in order. */
export function indexProblems(table: Table, start: number, end: number, label: string): string[] {
  const index = table.columns.find((c) => c.name === 'index');
  if (!index) return [`${label}: no index column`];
  const check = new IndexCheck(start, end);
  check.add(index.data as ArrayLike<unknown>);
  return check.problems(label);
}

export interface VerifyReport {
  ok: boolean;
  shards: number;
  rows: number;
  problems: string[];
}

/** Problems with the class counts and burst periods a manifest gives, against its table's rows. */
function summaryProblems(m: ShardManifest, summary: SummaryTotal): string[] {
  const problems: string[] = [];
  const key = (counts: Record<string, number>) => JSON.stringify(Object.entries(counts).filter(([, v]) => v > 0).sort(([a], [b]) => a.localeCompare(b)));
  if (key(summary.classCounts) !== key(m.classCounts)) {
    problems.push(`shard ${m.shard.index}: manifest class counts ${key(m.classCounts)} differ from its table's rows ${key(summary.classCounts)}`);
  }
  if (JSON.stringify(burstPeriodQuantiles(summary.burstPeriodsMs)) !== JSON.stringify(m.burstPeriodMs)) {
    problems.push(`shard ${m.shard.index}: manifest burst periods differ from its table's rows`);
  }
  return problems;
}

/** The shape of an NPY trace file of ionsweep's ((samples, columns ≥ 2) float64), or why it is not one. */
function traceShape(bytes: Uint8Array): { samples: number; columns: number } | string {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0];
  if (bytes.length < 10 || magic.some((b, k) => bytes[k] !== b)) return 'not an NPY file';
  const headerLength = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!/'descr': '<f8'/.test(header) || !shape || Number(shape[2]) < 2) return 'not a (samples, columns) float64 array of time and recorded quantities';
  const [samples, columns] = [Number(shape[1]), Number(shape[2])];
  const expected = 10 + headerLength + samples * columns * 8;
  if (bytes.length !== expected) return `${bytes.length} bytes, expected ${expected} (truncated?)`;
  return samples === 0 ? 'no samples' : { samples, columns };
}

/** Why a trace's sidecar does not describe it (shape, one name and unit per column, tMs first), or undefined. */
function sidecarProblem(text: string, shape: { samples: number; columns: number }, recorded: number | undefined): string | undefined {
  let doc: { shape?: unknown; columns?: unknown; units?: unknown };
  try {
    doc = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const columns = doc.columns, units = doc.units;
  if (!Array.isArray(columns) || !Array.isArray(units) || columns[0] !== 'tMs') return 'names no columns (columns: [tMs, ...], units)';
  if (columns.length !== shape.columns || units.length !== shape.columns) return `names ${columns.length} columns and ${Array.isArray(units) ? units.length : 0} units, the trace has ${shape.columns}`;
  if (JSON.stringify(doc.shape) !== JSON.stringify([shape.samples, shape.columns])) return `gives shape ${JSON.stringify(doc.shape)}, the trace is [${shape.samples}, ${shape.columns}]`;
  if (recorded !== undefined && shape.columns !== 1 + recorded) return `names ${shape.columns - 1} recorded quantities, the spec's traces.record ${recorded}`;
  return undefined;
}

/** Problems with the traces a shard promises: each traced index in its range has a whole NPY file and a sidecar that describes it. */
async function traceProblems(dir: string, m: ShardManifest): Promise<string[]> {
  const traces = (m.spec as { traces?: { indices?: unknown; record?: unknown } }).traces;
  const indices = traces?.indices;
  const recorded = Array.isArray(traces?.record) ? traces.record.length : undefined;
  const wanted = Array.isArray(indices) ? indices.filter((i): i is number => Number.isInteger(i) && i >= m.range.start && i < m.range.end) : [];
  const problems: string[] = [];
  for (const i of wanted) {
    const path = join('traces', traceName(i)), sidecarPath = join('traces', traceSidecarName(i));
    const bytes = await readFile(join(dir, path)).catch(() => undefined);
    const shape = bytes ? traceShape(bytes) : 'missing';
    if (typeof shape === 'string') {
      problems.push(`shard ${m.shard.index}: trace ${path} ${shape}`);
      continue;
    }
    const sidecar = await readFile(join(dir, sidecarPath), 'utf8').catch(() => undefined);
    if (sidecar === undefined) {
      problems.push(`shard ${m.shard.index}: trace sidecar ${sidecarPath} missing`);
      continue;
    }
    const problem = sidecarProblem(sidecar, shape, recorded);
    if (problem) problems.push(`shard ${m.shard.index}: trace sidecar ${sidecarPath} ${problem}`);
  }
  return problems;
}

/** Rows of a sweep's tables read so far by verify or merge, of `total`; `stage` says which pass. */
export type RowProgress = (stage: 'verify' | 'merge' | 'csv', done: number, total: number) => void;

/** What a pass over the shard tables does with each batch once it is checked (merge writes it). */
type BatchSink = (batch: Table, m: ShardManifest) => void;

/** Rows and problems of a pass over a sweep's tables, and the class counts and periods of its rows. */
interface SweepCheck extends VerifyReport {
  summary: SummaryTotal;
}

/**
 * Checks the given manifests' traces and tables, reading each table a batch of row groups at a time
 * (a shard of millions of rows is never in memory at once) with every column decoded, so a damaged
 * column is found here. Each batch also goes to `sink` until a problem is found: merge writes the
 * table in the same pass that checks it.
 */
async function checkSweep(dir: string, manifests: ShardManifest[], problems: string[], options: { stage: 'verify' | 'merge'; onProgress?: RowProgress; sink?: BatchSink; rowsPerBatch?: number }): Promise<SweepCheck> {
  const total = manifests.reduce((s, m) => s + m.rows, 0);
  const summary = new SummaryTotal();
  let rows = 0;
  options.onProgress?.(options.stage, 0, total);
  for (const m of manifests) {
    problems.push(...(await traceProblems(dir, m)));
    const label = `shard ${m.shard.index} (${m.table})`;
    const check = new IndexCheck(m.range.start, m.range.end);
    const shardSummary = new SummaryTotal();
    let specHash: string | undefined, tableRows = 0, hasIndex = true;
    // only reading errors are the table's problems: the sink's (a full disk) end the pass
    const batches = readParquetBatches(join(dir, m.table), { rowsPerBatch: options.rowsPerBatch });
    let unreadable: string | undefined;
    try {
      for (;;) {
        let next: IteratorResult<Table>;
        try {
          next = await batches.next();
        } catch (e) {
          unreadable = (e as Error).message?.split('\n')[0];
          break;
        }
        if (next.done) break;
        const batch = next.value;
        specHash = batch.metadata.ionsweep_spec_hash;
        tableRows += batch.rows;
        options.onProgress?.(options.stage, rows + tableRows, total);
        const index = batch.columns.find((c) => c.name === 'index');
        if (!index) hasIndex = false;
        else check.add(index.data as ArrayLike<unknown>);
        shardSummary.add(batch.columns);
        if (options.sink && problems.length === 0) options.sink(batch, m);
      }
    } finally {
      await batches.return(undefined);
    }
    if (unreadable !== undefined) {
      problems.push(`shard ${m.shard.index}: cannot read ${m.table}: ${unreadable}`);
      continue;
    }
    rows += tableRows;
    problems.push(...(hasIndex ? check.problems(label) : [`${label}: no index column`]));
    if (specHash !== m.specHash) problems.push(`shard ${m.shard.index}: table spec hash differs from its manifest`);
    problems.push(...summaryProblems(m, shardSummary));
    summary.addTotal(shardSummary);
  }
  return { ok: problems.length === 0, shards: manifests.length, rows, problems, summary };
}

/** Checks every manifest, every shard table and every promised trace of a sweep folder. */
export async function verifySweep(dir: string, options: { onProgress?: RowProgress } = {}): Promise<VerifyReport> {
  const manifests = await readManifests(dir);
  const { ok, shards, rows, problems } = await checkSweep(dir, manifests, manifestProblems(manifests), { stage: 'verify', onProgress: options.onProgress });
  return { ok, shards, rows, problems };
}

/** The merged manifest's path beside the merged table: merged.parquet → merged.json. */
export const mergedManifestPath = (outPath: string) => `${outPath.replace(/\.parquet$/, '')}.json`;
/** The CSV copy of a merged table (merge --csv), beside it. */
export const mergedCsvPath = (outPath: string) => `${outPath.replace(/\.parquet$/, '')}.csv`;

/** The file's (device, inode), to catch the same file under another name (a link); undefined when absent. */
async function identityOf(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info ? `${info.dev}:${info.ino}` : undefined;
}

/**
 * Refuses outputs that would overwrite the sweep's inputs (a shard's table or manifest, a trace,
 * by any name or link), take a shard file's name in the sweep folder, or overwrite a file that is
 * not an earlier merge's output; an output that is a folder is an environment error.
 */
async function checkMergeOutputs(dir: string, manifests: ShardManifest[], outPath: string, csv: boolean): Promise<void> {
  const inputs: string[] = [];
  for (const m of manifests) {
    inputs.push(join(dir, `${shardName(m.shard)}.json`), join(dir, m.table));
    const indices = (m.spec as { traces?: { indices?: unknown } }).traces?.indices;
    if (Array.isArray(indices)) for (const i of indices) if (Number.isInteger(i)) inputs.push(join(dir, 'traces', traceName(i)), join(dir, 'traces', traceSidecarName(i)));
  }
  const inputPaths = new Set(inputs.map((p) => resolve(p)));
  const inputIds = new Set((await Promise.all(inputs.map(identityOf))).filter((x) => x !== undefined));
  const outputs: [string, string][] = [[outPath, 'merged table'], [mergedManifestPath(outPath), 'merged manifest']];
  if (csv) outputs.push([mergedCsvPath(outPath), 'merged CSV']);
  for (const [path, what] of outputs) {
    const id = await identityOf(path);
    if (inputPaths.has(resolve(path)) || (id && inputIds.has(id))) {
      throw new InputError(`merge --out ${outPath}: the ${what} ${path} would overwrite an input of the merge (a shard's table, manifest or trace); choose another --out`);
    }
    if (resolve(dirname(path)) === resolve(dir) && /^shard-\d+-of-\d+[./]/.test(basename(path))) {
      throw new InputError(`merge --out ${outPath}: the ${what} ${path} would take a shard file's name in the sweep folder; choose another name`);
    }
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) throw new EnvironmentError(`${path}: is a directory (merge --out names a file, e.g. ${join(path, 'merged.parquet')})`);
    if (info && !(await isMergeOutput(path))) {
      throw new InputError(`merge --out ${outPath}: ${path} exists and is not the output of an earlier merge; choose another --out, or remove it`);
    }
  }
}

/** Whether a file is an earlier merge's table or manifest (which a new merge may replace). */
async function isMergeOutput(path: string): Promise<boolean> {
  try {
    const bytes = await readFile(path);
    if (path.endsWith('.json')) return Array.isArray(JSON.parse(new TextDecoder().decode(bytes)).mergedFrom);
    // a CSV copy is an earlier merge's when the manifest beside it is
    if (path.endsWith('.csv')) return await isMergeOutput(path.replace(/\.csv$/, '.json'));
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    return (meta.key_value_metadata ?? []).some((kv) => kv.key === 'ionsweep_shard' && kv.value === 'merged');
  } catch {
    return false;
  }
}

/**
 * Merges a sweep's shard tables into one table (index order) and writes its manifest, with class
 * counts and burst periods counted from the merged rows. The tables are checked as verify checks
 * them in the same pass that writes them: the merged table is written under a temporary name and
 * kept only when every check passes. Rows are read, checked and written a batch of whole row groups
 * at a time (at least `rowsPerBatch`, default ROWS_PER_BATCH, rows; each a row group of the merged
 * table), so memory holds a batch, not the sweep.
 */
export async function mergeSweep(dir: string, outPath: string, options: { csv?: boolean; rowsPerBatch?: number; onProgress?: RowProgress } = {}): Promise<{ rows: number; path: string; classCounts: Record<string, number> }> {
  const manifests = (await readManifests(dir)).sort((a, b) => a.range.start - b.range.start);
  const refuse = (problems: string[]) => new InputError(`cannot merge ${dir}: ${problems.join('; ')}`);
  const problems = manifestProblems(manifests);
  if (problems.length) throw refuse(problems);
  await checkMergeOutputs(dir, manifests, outPath, Boolean(options.csv));
  const [first] = manifests;
  try {
    const table = new StreamingTable(outPath, { ionsweep_spec_hash: first.specHash, ionsweep_shard: 'merged' });
    let names: string | undefined;
    let report: SweepCheck;
    try {
      report = await checkSweep(dir, manifests, problems, {
        stage: 'merge', onProgress: options.onProgress, rowsPerBatch: options.rowsPerBatch,
        sink(batch, m) {
          const these = batch.columns.map((c) => c.name).join(', ');
          if (names !== undefined && these !== names) throw refuse([`${m.table} has other columns than the shards before it (${these} vs ${names})`]);
          names = these;
          if (batch.rows > 0) table.append(batch.columns);
        },
      });
      if (!report.ok) throw refuse(report.problems);
      await table.finish();
    } catch (error) {
      await table.discard();
      throw error;
    }
    const { rows, summary } = report;
    if (options.csv) {
      let done = 0;
      options.onProgress?.('csv', 0, rows);
      await writeCsvBatches(mergedCsvPath(outPath), (async function* () {
        for await (const batch of readParquetBatches(outPath, { rowsPerBatch: options.rowsPerBatch })) {
          yield batch.columns;
          options.onProgress?.('csv', done += batch.rows, rows);
        }
      })());
    }
    await writeFileAtomic(mergedManifestPath(outPath), JSON.stringify({
      version: first.version, tool: 'ionsweep', specHash: first.specHash, spec: first.spec, total: first.total, rows,
      mergedFrom: manifests.map((m) => m.table), engine: first.engine, device: [...new Set(manifests.map((m) => m.device))].join('; '),
      classCounts: summary.classCounts, burstPeriodMs: burstPeriodQuantiles(summary.burstPeriodsMs), mergedAt: new Date().toISOString(),
    }, null, 2) + '\n');
    return { rows, path: outPath, classCounts: summary.classCounts };
  } catch (error) {
    throw environmentErrorOf(error) ?? error;
  }
}
