/**
 * Which shard this process runs: --shard i/n, or the index a scheduler gives — Slurm job arrays
 * (SLURM_ARRAY_TASK_ID; with --shard-count the task IDs are the shard numbers 0..n−1, so a task
 * resubmitted alone with --array=k still runs shard k; without it the whole array is the shards,
 * offset by SLURM_ARRAY_TASK_MIN, counted by SLURM_ARRAY_TASK_COUNT) or Kubernetes
 * Indexed Jobs (JOB_COMPLETION_INDEX, count from --shard-count). Defaults to 0/1.
 */
import { InputError } from '../errors.ts';
import type { Shard } from '../jobs/sweep/run.ts';

export function resolveShard(flag: string | undefined, shardCount: number | undefined, env: Record<string, string | undefined>): Shard {
  const int = (name: string, text: string) => {
    if (!/^\d+$/.test(text.trim())) throw new InputError(`${name} must be a non-negative integer, got '${text}'`);
    return Number(text);
  };
  if (shardCount !== undefined && (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 2 ** 31 - 1)) {
    throw new InputError(`--shard-count must be an integer ≥ 1, got ${shardCount}`);
  }
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag.trim());
    if (!m) throw new InputError(`--shard expects i/n (e.g. 3/7, shards numbered from 0), got '${flag}'`);
    const shard = { index: Number(m[1]), count: Number(m[2]) };
    if (shard.count < 1 || shard.index >= shard.count) throw new InputError(`--shard ${flag}: index must be in [0, n − 1] and n ≥ 1`);
    // --shard-count with --shard is redundant at best; a different count is a contradiction
    if (shardCount !== undefined && shardCount !== shard.count) throw new InputError(`--shard ${flag} and --shard-count ${shardCount} disagree on the number of shards; give one of them`);
    return shard;
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = int('SLURM_ARRAY_TASK_ID', env.SLURM_ARRAY_TASK_ID);
    // a resubmitted task (--array=k) is an array of one, whose MIN is k: only a whole array's MIN is an offset
    const min = shardCount === undefined && env.SLURM_ARRAY_TASK_MIN !== undefined ? int('SLURM_ARRAY_TASK_MIN', env.SLURM_ARRAY_TASK_MIN) : 0;
    const count = shardCount ?? (env.SLURM_ARRAY_TASK_COUNT !== undefined ? int('SLURM_ARRAY_TASK_COUNT', env.SLURM_ARRAY_TASK_COUNT) : undefined);
    if (count === undefined) throw new InputError('SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor --shard-count gives the number of shards');
    if (id - min < 0 || id - min >= count) throw new InputError(`Slurm array task ${id} (min ${min}) is outside ${count} shards`);
    return { index: id - min, count };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (shardCount === undefined) throw new InputError('JOB_COMPLETION_INDEX is set: give the number of shards (the Job\'s completions) with --shard-count');
    const index = int('JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX);
    if (index >= shardCount) throw new InputError(`JOB_COMPLETION_INDEX ${index} is outside --shard-count ${shardCount}`);
    return { index, count: shardCount };
  }
  return { index: 0, count: shardCount ?? 1 };
}
