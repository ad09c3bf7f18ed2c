/**
 * Test hook (not for users): IONSWEEP_TEST_KILL_AT=<operation>:<n> makes the process SIGKILL itself
 * right after the n-th (from 1) file operation of that kind by the shard store, where the operation
 * is record, trace, part, table or manifest. test/kill-resume.test.ts uses it to kill a shard at
 * every point where its files change and check that --resume gives the same rows, traces and
 * manifest as an uninterrupted run. Unset (always, outside tests), it costs one comparison.
 */
import process from 'node:process';

export type FileOperation = 'record' | 'trace' | 'part' | 'table' | 'manifest';

const counts = new Map<FileOperation, number>();

/** Called by the shard store after each file operation has completed. */
export function afterFileOperation(op: FileOperation): void {
  const at = process.env.IONSWEEP_TEST_KILL_AT;
  if (!at) return;
  const n = (counts.get(op) ?? 0) + 1;
  counts.set(op, n);
  if (at === `${op}:${n}`) process.kill(process.pid, 'SIGKILL');
}
