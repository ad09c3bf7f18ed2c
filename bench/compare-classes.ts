/**
 * How far two runs of the same network sweep agree: the network class, the cells' classes and the
 * periods of networks periodic in both, joined on gridIndex. bench/h200.sh runs the sample's first
 * shard with the platform's exp and with the accurate one and compares them here, so NVIDIA's exp
 * is held to what lavapipe's gave (README, "The platform's exp"): there the two agreed on 2,011 of
 * the shard's 2,025 network classes.
 *
 *   deno run -A bench/compare-classes.ts <sweep folder or table A> <sweep folder or table B>
 *
 * Prints one JSON object.
 */
import process from 'node:process';
import { readSweepRows } from '../src/io/plot/sweep-table.ts';
import { compareClasses } from './class-agreement.ts';

/** Columns by name, each as an array. */
async function columnsOf(path: string) {
  const rows = await readSweepRows(path);
  return new Map(rows.columns.map((c) => [c.name, Array.from(c.data as ArrayLike<unknown>)]));
}

const [pathA, pathB] = process.argv.slice(2);
if (!pathA || !pathB) {
  console.error('usage: compare-classes.ts <sweep folder or table A> <sweep folder or table B>');
  process.exit(2);
}
try {
  console.log(JSON.stringify({ a: pathA, b: pathB, ...compareClasses(await columnsOf(pathA), await columnsOf(pathB)) }));
} catch (error) {
  console.error(`compare-classes: ${(error as Error).message}`);
  process.exit(2);
}
