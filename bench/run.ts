/**
 * `npm run bench`: prints one JSON document with every benchmark measured in this run. Ratios (GPU vs
 * CPU engine, engine vs plain loop, 8 lanes vs 0) come from the same run on the same machine.
 * `npm run bench -- --quick` runs smaller sizes; `--gpu-only` / `--cpu-only` / `--sweep-host-only` /
 * `--network-only` / `--network-database-only` / `--network-host-only` / `--regulation-only` run one part.
 */
import process from 'node:process';
import { cpuBenchmark } from './cpu.ts';
import { gpuBenchmark } from './gpu.ts';
import { sweepHostBenchmark } from './sweep-host.ts';
import { networkBenchmark } from './network.ts';
import { networkDatabaseBenchmark, networkHostBenchmark } from './network-database.ts';
import { regulationBenchmark } from './regulation.ts';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const result: Record<string, unknown> = { date: new Date().toISOString(), machine: { cores: navigator.hardwareConcurrency } };
const only = ['--gpu-only', '--cpu-only', '--sweep-host-only', '--network-only', '--network-database-only', '--network-host-only', '--regulation-only'].find((a) => args.has(a));
const cpu = only && only !== '--cpu-only' ? undefined : await cpuBenchmark();
result.cpu = cpu;
// a sweep's host work (classification, Parquet) per model against the engine's time per model
if (!only || only === '--sweep-host-only') result.sweepHost = await sweepHostBenchmark();
if (!only || only === '--gpu-only') {
  const cpuRates = cpu && { lanes0: cpu.engine0Lanes.neuronStepsPerS, lanes8: cpu.engine8Lanes.neuronStepsPerS };
  result.gpu = await gpuBenchmark({
    sizes: quick ? [1024, 16384, 65536] : [1024, 16384, 65536, 262144, 1048576],
    lanes: [0, 8],
    maths: ['accurate', 'fast'],
    budget: quick ? 3e8 : 2e9,
  }, cpuRates);
}
// pyloric networks on both engines: networks/s and the cost of the synapses
if (!only || only === '--network-only') result.network = await networkBenchmark({ gpuN: quick ? 16384 : 65536, cpuN: 256, steps: quick ? 2000 : 8000 });
// the Prinz 2004 database's kernel: networks/s on both engines and the projected time on one H200
if (!only || only === '--network-database-only') result.networkDatabase = await networkDatabaseBenchmark({ gpuN: quick ? 8192 : 65536, cpuN: 256, steps: quick ? 2000 : 8000, hostN: quick ? 64 : 512 });
// the database sweep's host work alone (classification, Parquet), per network, one thread and with workers
if (only === '--network-host-only') result.networkHost = await networkHostBenchmark({ hostN: quick ? 64 : 512 });
// regulated populations: cell-hours of biology per wall second
if (!only || only === '--regulation-only') result.regulation = await regulationBenchmark({ gpuN: quick ? 16384 : 65536, cpuN: 256, simulatedMs: quick ? 2000 : 10_000 });
console.log(JSON.stringify(result, null, 2));
