/** Which shard a process runs: the --shard flag, or the index a scheduler gives it. */
import { describe, expect, it } from 'vitest';
import { resolveShard } from '../src/cli/shard.ts';
import { chunkRanges, shardRange } from '../src/jobs/sweep/run.ts';

describe('resolveShard', () => {
  it('reads --shard i/n', () => expect(resolveShard('3/7', undefined, {})).toEqual({ index: 3, count: 7 }));
  it('defaults to the whole sweep', () => expect(resolveShard(undefined, undefined, {})).toEqual({ index: 0, count: 1 }));
  it('reads Slurm job arrays, whatever index they start at', () => {
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '16' })).toEqual({ index: 4, count: 16 });
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 4, count: 8 });
    // task 7 of 10 resubmitted alone (sbatch --array=7): an array of one whose MIN is 7; with --shard-count it is shard 7
    expect(resolveShard(undefined, 10, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '7', SLURM_ARRAY_TASK_COUNT: '1' })).toEqual({ index: 7, count: 10 });
  });
  it('reads Kubernetes indexed jobs with --shard-count', () => {
    expect(resolveShard(undefined, 16, { JOB_COMPLETION_INDEX: '15' })).toEqual({ index: 15, count: 16 });
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '2' })).toThrow(/--shard-count/);
  });
  it('rejects malformed and out-of-range shards', () => {
    for (const bad of ['3', '7/7', 'a/b', '-1/4', '1/0']) expect(() => resolveShard(bad, undefined, {})).toThrow(/--shard/);
    expect(() => resolveShard(undefined, 4, { JOB_COMPLETION_INDEX: '4' })).toThrow(/outside/);
  });
});

describe('shard and chunk ranges', () => {
  it('tile the index range exactly, in order, whatever the counts', () => {
    for (const [total, count] of [[10, 3], [7, 7], [1_679_616, 16], [5, 8]]) {
      const ranges = Array.from({ length: count }, (_, index) => shardRange(total, { index, count }));
      expect(ranges[0].start).toBe(0);
      expect(ranges[count - 1].end).toBe(total);
      ranges.slice(1).forEach((r, k) => expect(r.start).toBe(ranges[k].end));
      const sizes = ranges.map((r) => r.end - r.start);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(chunkRanges({ start: 5, end: 17 }, 5)).toEqual([{ start: 5, end: 10 }, { start: 10, end: 15 }, { start: 15, end: 17 }]);
  });
});
