/**
 * `npm run bench`: prints one JSON document with every benchmark measured in this run.
 * Ratios (engine vs plain loop, 8 lanes vs 0) come from the same run on the same machine.
 */
import { cpuBenchmark } from './cpu.ts';

const result = { date: new Date().toISOString(), cpu: await cpuBenchmark() };
console.log(JSON.stringify(result, null, 2));
