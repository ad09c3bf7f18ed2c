/**
 * What produced a shard's stored rows: the spec (normalised, with its hash) and the engine that
 * actually ran (what `auto` resolved to), written atomically into the parts folder before the first
 * part, so every part sits beside a record of its origin. Resume compares it with what the new run
 * would use and refuses on any difference: rows of two specs or two engines never share a shard.
 * The manifest of a complete shard carries the same fields and is compared the same way.
 *
 *     out/shard-00003-of-00007/record.json
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, environmentErrorOf } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';

export const RECORD_NAME = 'record.json';

export interface ShardRecord {
  version: 1;
  tool: 'ionsweep';
  specHash: string;
  /** the normalised spec (defaults filled in, command-line overrides applied) */
  spec: Record<string, unknown>;
  /** the engine that computed the stored rows */
  engine: 'cpu' | 'gpu';
  gpuMath: string;
  /** the devices that ran stored chunks, in the order they first did */
  devices: string[];
}

const recordSchema = z.object({
  version: z.literal(1),
  tool: z.literal('ionsweep'),
  specHash: z.string(),
  spec: z.record(z.string(), z.unknown()),
  engine: z.enum(['cpu', 'gpu']),
  gpuMath: z.string(),
  devices: z.array(z.string()),
});

export const recordPath = (partsDir: string) => join(partsDir, RECORD_NAME);

/** The record in a parts folder; undefined when there is none; InputError naming the file when it is damaged. */
export async function readRecord(partsDir: string): Promise<ShardRecord | undefined> {
  const path = recordPath(partsDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw environmentErrorOf(error) ?? error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    throw new InputError(`${path} is damaged (not the JSON record ionsweep writes), so what produced the stored chunks is unknown: remove ${partsDir} to run this shard again`);
  }
  return parsed.data as ShardRecord;
}

export async function writeRecord(partsDir: string, record: ShardRecord): Promise<void> {
  await writeFileAtomic(recordPath(partsDir), JSON.stringify(record, null, 2) + '\n');
}

/** What produced stored rows, or what a new run would use (engine: resolved, when known). */
export interface Producer {
  specHash: string;
  spec: unknown;
  engine?: string;
}

const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
};
const shown = (v: unknown) => {
  const text = v === undefined ? '(unset)' : JSON.stringify(canonical(v));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/**
 * How `current` differs from `stored`, as short "field: old → new" items (empty when the rows they
 * produce are the same). chunkSize is not compared: rows do not depend on it.
 */
export function producerDifferences(stored: Producer, current: Producer): string[] {
  const out: string[] = [];
  if (stored.specHash !== current.specHash) {
    const a = (stored.spec ?? {}) as Record<string, unknown>, b = (current.spec ?? {}) as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (key === 'chunkSize') continue;
      if (JSON.stringify(canonical(a[key])) !== JSON.stringify(canonical(b[key]))) out.push(`${key}: ${shown(a[key])} → ${shown(b[key])}`);
    }
    if (out.length === 0) out.push(`spec hash: ${stored.specHash.slice(0, 12)}… → ${current.specHash.slice(0, 12)}…`);
  }
  if (stored.engine !== undefined && current.engine !== undefined && stored.engine !== current.engine) {
    out.push(`engine used: ${stored.engine} → ${current.engine}`);
  }
  return out;
}
