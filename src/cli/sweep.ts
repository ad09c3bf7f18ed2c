/** `ionsweep sweep spec.yaml`: run one shard of a population sweep, store it, print the class fractions. */
import process from 'node:process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.ts';
import { checkShardLayout, resolveSweepEngine, runSweepShard, shardRange, type ShardReport } from '../jobs/sweep/run.ts';
import { checkSweepOutput, parseSweepSpec, resolveSweep, specHash, sweepSpecSchema } from '../jobs/sweep/spec.ts';
import { lockShard } from '../io/shard-lock.ts';
import { producerDifferences } from '../io/shard-record.ts';
import { ensureOutDir, shardName, type ShardManifest } from '../io/sweep-store.ts';
import { WorkerShardStore } from '../io/worker-shard-store.ts';
import { ACTIVITY_CLASSES } from '../analysis/features.ts';
import { NETWORK_CLASSES } from '../jobs/sweep/network-rows.ts';
import { progressReporter } from './progress.ts';
import { launcherPidOf } from './signals.ts';
import { plotSweep } from './plot-sweep.ts';
import { defaultOutDir, readSpecWithFlags, specCommand, type SpecCommandFlags } from './spec-command.ts';
import { resolveShard } from './shard.ts';
import { checkOutDir, parseInteger, parseNumber, writeStdout } from './util.ts';

interface SweepFlags extends SpecCommandFlags {
  shard?: string;
  shardCount?: number;
  resume?: boolean;
  json?: boolean;
  plot?: boolean;
  hostWorkers?: number;
}

/**
 * Default --host-workers: the cores beside the thread that drives the engine and the store's own
 * thread, at most 8 (a database chunk's host work spread over 8 threads is a few µs a network).
 */
export function defaultHostWorkers(cores = navigator.hardwareConcurrency ?? 1): number {
  return Math.max(1, Math.min(8, cores - 2));
}

/** The class fractions table (and burst periods) as text. */
export function classTable(classCounts: Record<string, number>, rows: number, periods: ShardReport['burstPeriodMs']): string {
  // a network sweep's rows carry network classes (network-rows.ts)
  const network = Object.keys(classCounts).some((k) => NETWORK_CLASSES.includes(k as never));
  const known: readonly string[] = network ? NETWORK_CLASSES : ACTIVITY_CLASSES;
  const width = network ? 12 : 10;
  const lines = [`${'class'.padEnd(width)} ${(network ? 'networks' : 'models').padStart(8)}   fraction`];
  for (const c of [...known, ...Object.keys(classCounts).filter((k) => !known.includes(k))]) {
    const n = classCounts[c] ?? 0;
    lines.push(`${c.padEnd(width)} ${String(n).padStart(8)}   ${((100 * n) / Math.max(1, rows)).toFixed(1).padStart(6)} %`);
  }
  if (periods) {
    lines.push(`${network ? 'period of periodic networks' : 'burst period of bursting models'} (ms): median ${periods.p50.toFixed(0)}, quartiles ${periods.p25.toFixed(0)}–${periods.p75.toFixed(0)}, 10–90 % ${periods.p10.toFixed(0)}–${periods.p90.toFixed(0)}`);
  }
  return lines.join('\n');
}

export function sweepCommand(): Command {
  return specCommand('sweep', 'run a population sweep (one shard of it) from a YAML/JSON spec; rows go to Parquet', 'sweep',
    { fields: Object.keys(sweepSpecSchema.shape), examples: ['examples/small.yaml', 'examples/prinz-2003-1pct.yaml', 'examples/prinz-2003.yaml', 'examples/network-small.yaml', 'examples/prinz-2004-sample.yaml', 'examples/prinz-2004.yaml'], readme: 'Sweeps' })
    .option('--shard <i/n>', 'run shard i of n (numbered from 0); or set by SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX')
    .option('--shard-count <n>', 'number of shards, with JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID', (v) => parseNumber('--shard-count', v))
    .option('--resume', 'continue a shard that was interrupted, keeping the chunks it stored')
    .option('--json', 'print the shard manifest as JSON instead of the table')
    .option('--host-workers <n>', 'threads that classify chunks and encode their Parquet rows (an integer, 1 to 64; default: the cores less 2, at most 8; 1 does it on the store\'s own thread)', (v) => parseInteger('--host-workers', v, 1, 64))
    .option('--plot', 'also draw sweep.svg in --out from its complete shards (classes, burst periods, conductances by class; see plot-sweep)')
    .action(async (specPath: string, flags: SweepFlags) => {
      const spec = parseSweepSpec(await readSpecWithFlags(specPath, flags));
      const sweep = resolveSweep(spec);
      const shard = resolveShard(flags.shard, flags.shardCount, process.env);
      // before any file: a shard whose table would not fit is refused (limits.ts)
      checkSweepOutput(sweep, shard);
      checkShardLayout(sweep.total, shard);
      const outDir = flags.out ?? defaultOutDir(specPath);
      const hash = await specHash(spec);
      await checkOutDir('--out', outDir);
      await ensureOutDir(outDir);
      // one writer per shard: a second process on it refuses instead of mixing files
      // the launcher goes into the lock, so a resume right after a kill of the launcher waits for this process's end
      const lock = await lockShard(outDir, shardName(shard), launcherPidOf(process.env));
      const unit = sweep.cellChoices ? 'networks' : 'models';
      let manifest: ShardManifest;
      try {
        // classification and Parquet writing run in a worker, off the thread that drives the GPU
        const store = new WorkerShardStore(outDir, shard, { specHash: hash, spec, total: sweep.total, range: shardRange(sweep.total, shard) },
          { hostWorkers: flags.hostWorkers ?? defaultHostWorkers() });
        try {
          const complete = await store.prepare(Boolean(flags.resume));
          if (complete) {
            // the spec matched (prepare); the engine this run would use must match too
            const differences = producerDifferences(complete, { specHash: hash, spec, engine: await resolveSweepEngine(spec.engine) });
            if (differences.length) {
              throw new InputError(`${store.manifestPath} is a complete shard of a different sweep (${differences.join('; ')}; the spec's engine is '${spec.engine}'): choose another --out`);
            }
            manifest = complete;
            process.stderr.write(`ionsweep: ${shardName(shard)} is already complete\n`);
          } else {
            const progress = progressReporter(`sweep ${shard.index}/${shard.count}`, unit, flags.quiet);
            const report = await runSweepShard(sweep, shard, store, {
              threads: flags.threads,
              onProgress: (p) => progress.update({ done: p.done, total: p.total, rate: p.modelsPerSecond, etaSeconds: p.etaSeconds }),
            }).finally(() => progress.stop());
            manifest = await store.finish(report);
          }
        } finally {
          store.close();
        }
      } finally {
        await lock.release();
      }
      const plot = flags.plot ? await plotSweep(outDir) : undefined;
      if (flags.json) {
        await writeStdout(JSON.stringify(plot ? { ...manifest, plot } : manifest, null, 2) + '\n');
        return;
      }
      const seconds = manifest.timings.wallMs / 1000;
      await writeStdout([
        `ionsweep sweep: ${manifest.rows} ${unit} (shard ${shard.index}/${shard.count}, numbered from 0 as in its file name, indices ${manifest.range.start}–${manifest.range.end - 1} of ${manifest.total})` +
          ` in ${seconds.toFixed(1)} s on ${manifest.engine} (${manifest.device}): ${(manifest.rows / seconds).toPrecision(3)} ${unit}/s`,
        classTable(manifest.classCounts, manifest.rows, manifest.burstPeriodMs),
        `table: ${join(outDir, manifest.table)}`,
        ...(plot ? [`plot: ${plot}`] : []),
      ].join('\n') + '\n');
    });
}
