/**
 * A shard's manifest (shard-00003-of-00007.json): what the shard holds and what produced it. Written
 * last, atomically: a shard is complete exactly when its manifest exists. Read back by resume, verify
 * and merge, which check its shape first, so a truncated, empty or foreign file is one line naming it.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError, environmentErrorOf } from '../errors.ts';
import type { IndexRange, Shard, ShardReport } from '../jobs/sweep/run.ts';

export const MANIFEST_VERSION = 1;

export interface ShardManifest {
  version: number;
  tool: string;
  specHash: string;
  spec: unknown;
  total: number;
  shard: Shard;
  range: IndexRange;
  rows: number;
  table: string;
  /** the engine that computed every row: 'cpu' or 'gpu' (what `auto` resolved to) */
  engine: string;
  /** the devices that ran the shard's chunks (more than one when resumed elsewhere), '; '-separated */
  device: string;
  gpuMath: string;
  timings: ShardReport['timings'];
  /** class counts of all the shard's rows (read from the stored rows, resumed chunks included) */
  classCounts: Record<string, number>;
  /** burst period quantiles (ms) of all the shard's periodic bursters, likewise */
  burstPeriodMs: ShardReport['burstPeriodMs'];
  chunks: number;
  chunksResumed: number;
  /** time to turn the parts into the shard's table (ms): host work after the last chunk */
  finishMs: number;
  completedAt: string;
}

const count = z.number().int().min(0);
const quantiles = z.object({ p10: z.number(), p25: z.number(), p50: z.number(), p75: z.number(), p90: z.number() });

const manifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  tool: z.literal('ionsweep'),
  specHash: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be a SHA-256 hex digest' }),
  spec: z.record(z.string(), z.unknown()),
  total: count,
  shard: z.object({ index: count, count: z.number().int().min(1) }),
  range: z.object({ start: count, end: count }),
  rows: count,
  table: z.string().regex(/^shard-\d+-of-\d+\.parquet$/, { error: 'must name the shard\'s table, shard-<i>-of-<n>.parquet' }),
  engine: z.enum(['cpu', 'gpu'], { error: 'must be cpu or gpu (the engine that computed the rows)' }),
  device: z.string(),
  gpuMath: z.string(),
  timings: z.object({ wallMs: z.number() }).loose(),
  classCounts: z.record(z.string(), count),
  burstPeriodMs: quantiles.nullable(),
  chunks: count,
  chunksResumed: count,
}).loose();

/** Reads and checks a shard manifest; InputError (exit 2) naming the file when it is not one. */
export async function readManifest(path: string): Promise<ShardManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw environmentErrorOf(error) ?? error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // the parser's message quotes the file, which may be binary: say only where it stopped
    const at = /position (\d+)/.exec((error as Error).message);
    const what = text.trim() === '' ? 'is empty' : `is not valid JSON${at ? ` (at character ${at[1]} of ${text.length}: truncated?)` : ''}`;
    throw new InputError(`shard manifest ${path} ${what}: the shard is not complete; remove the file and run the shard again with --resume`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`shard manifest ${path}: ${issue.path.join('.') || '(top level)'} ${issue.message}: not a manifest written by this version of ionsweep`);
  }
  return parsed.data as unknown as ShardManifest;
}
