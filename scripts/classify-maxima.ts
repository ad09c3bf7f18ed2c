/**
 * Classifies a pyloric network from voltage maxima written as JSON by another integrator
 * (scripts/independent-pyloric.py: per cell ABPD, LP and PY, `maximaTimesMs`, `maximaValuesMv` and
 * `meanVMv`, over the window 10–20 s of the connected run) by the rules ionsweep uses (docs/models.md
 * §8 and §10), so that the integration is all that differs from an ionsweep run. Prints the network's
 * class, period and reason, then per cell: spikes, mean V, class and burst period.
 *
 *   deno run -A scripts/classify-maxima.ts j.json [windowStartMs windowEndMs]
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { classifyActivity } from '../src/analysis/classify.ts';
import { classifyNetwork } from '../src/analysis/network.ts';

const [file, from = '10000', to = '20000'] = process.argv.slice(2);
if (!file) {
  console.error('usage: deno run -A scripts/classify-maxima.ts maxima.json [windowStartMs windowEndMs]');
  process.exit(2);
}
const cells = JSON.parse(readFileSync(file, 'utf8'));
const roles = ['ABPD', 'LP', 'PY'] as const;
const inputs = roles.map((name) => {
  const c = cells[name];
  if (!c) throw new Error(`${file} has no cell ${name}`);
  const activity = classifyActivity({ maximaTimesMs: c.maximaTimesMs, maximaValuesMv: c.maximaValuesMv, windowStartMs: Number(from), windowEndMs: Number(to) });
  return { name, maximaTimesMs: c.maximaTimesMs, maximaValuesMv: c.maximaValuesMv, activity };
});
const network = classifyNetwork(inputs, roles);
console.log(JSON.stringify({
  class: network.class, periodMs: network.periodMs, reason: network.reason,
  cells: Object.fromEntries(inputs.map((i) => [i.name, { spikeCount: i.activity.spikeCount, meanVMv: cells[i.name].meanVMv, class: i.activity.class, burstPeriodMs: i.activity.burstPeriodMs }])),
}));
