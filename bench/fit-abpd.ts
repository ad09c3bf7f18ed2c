/**
 * The synthetic-fit experiment: a fit spec (examples/fit-abpd.yaml) run from many random starts,
 * its random-search baseline with the same number of model evaluations, and the check that decides
 * success: every start's best parameters and every random-search group's best point re-simulated for
 * 20 s from the cold start and classified over the last 10 s; a success is a bursting cell whose
 * burst period and duty cycle are both within 2 % of the target's (computed the same way). Prints one
 * JSON document; progress goes to stderr.
 *
 *   deno run -A bench/fit-abpd.ts examples/fit-abpd.yaml [--starts N] [--iterations K] [--screen M] [--seed S] [--optimizer adam|levenberg-marquardt] [--engine cpu|gpu|auto]
 */
import process from 'node:process';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';
import { activityAt, matchesBursting, type Activity } from '../src/jobs/fit/activity.ts';
import { runFit } from '../src/jobs/fit/run.ts';
import { coordinateValue } from '../src/jobs/cost/problem.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
};
const specPath = args.find((a) => !a.startsWith('--') && !args[args.indexOf(a) - 1]?.startsWith('--')) ?? 'examples/fit-abpd.yaml';
const raw = parse(await readFile(specPath, 'utf8')) as Record<string, unknown>;
for (const key of ['starts', 'iterations', 'screen', 'seed']) if (flag(`--${key}`)) raw[key] = Number(flag(`--${key}`));
for (const key of ['engine', 'optimizer']) if (flag(`--${key}`)) raw[key] = flag(`--${key}`);
const CHECK = { durationMs: 20_000, discardMs: 10_000 };
const TOLERANCE = 0.02;

const log = (o: Record<string, unknown>) => process.stderr.write(JSON.stringify({ ...o, time: new Date().toISOString() }) + '\n');
let lastLog = 0;
const fit = await runFit(raw as never, {
  onProgress: (p) => {
    if (p.fraction < 1 && performance.now() - lastLog < 10_000) return;
    lastLog = performance.now();
    log({ event: 'progress', ...p });
  },
});
log({ event: 'fit done', evaluations: fit.evaluations, wallSeconds: fit.wallMs.fit / 1000, randomSearchSeconds: fit.wallMs.randomSearch / 1000 });

const { problem } = fit;
const checkStarted = performance.now();
const targetParams = problem.setup.target!;
const targetPoint = problem.coords.map((c) => [coordinateValue(c, targetParams[c.param])]);
const target = await activityAt(problem, targetPoint, CHECK);
if (target.class[0] !== 'bursting') throw new Error(`the target is not bursting (${target.class[0]})`);
const targetFeatures = { burstPeriodMs: target.burstPeriodMs[0]!, dutyCycle: target.dutyCycle[0]! };

const columns = (rows: ArrayLike<number>[]) => problem.coords.map((_, d) => Float64Array.from(rows, (r) => r[d]));
const fitActivity = await activityAt(problem, columns(fit.starts.map((s) => s.best)), CHECK);
// the baseline is optional (randomSearch: false in the spec runs the fit alone)
const groups = fit.randomSearch?.groups;
const searchActivity = groups && await activityAt(problem, columns(groups.map((g) => g.best)), CHECK);
const checkMs = performance.now() - checkStarted;

function summary(activity: Activity, costs: number[]) {
  const n = costs.length;
  const hits = Array.from({ length: n }, (_, i) => matchesBursting(activity, i, targetFeatures, TOLERANCE));
  const order = costs.map((c, i) => [c, i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const sorted = [...costs].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * (n - 1)))];
  return {
    count: n,
    within2Percent: hits.filter(Boolean).length,
    fraction: hits.filter(Boolean).length / n,
    bursting: activity.class.filter((c) => c === 'bursting').length,
    cost: { min: q(0), p10: q(0.1), median: q(0.5) },
    best: order.slice(0, 5).map((i) => ({ index: i, cost: costs[i], class: activity.class[i], burstPeriodMs: activity.burstPeriodMs[i], dutyCycle: activity.dutyCycle[i], within: hits[i] })),
  };
}

const stops: Record<string, number> = {};
for (const s of fit.starts) stops[s.stopped] = (stops[s.stopped] ?? 0) + 1;
console.log(JSON.stringify({
  spec: specPath,
  engine: fit.engine, device: fit.device,
  starts: fit.starts.length, iterations: fit.spec.iterations,
  target: { params: targetParams, ...targetFeatures, class: target.class[0] },
  check: { ...CHECK, tolerance: TOLERANCE, wallSeconds: checkMs / 1000 },
  fit: {
    evaluations: fit.evaluations, screen: { candidatesPerStart: fit.spec.screen, evaluations: fit.screenEvaluations, wallSeconds: fit.wallMs.screen / 1000 },
    wallSeconds: fit.wallMs.fit / 1000, stopped: stops,
    ...summary(fitActivity, fit.starts.map((s) => s.bestCost)),
    history: fit.history.filter((_h, k) => k % 5 === 0 || k === fit.history.length - 1),
  },
  randomSearch: groups && searchActivity && {
    evaluations: fit.randomSearch!.evaluations, wallSeconds: fit.wallMs.randomSearch / 1000,
    ...summary(searchActivity, groups.map((g) => g.bestCost)),
  },
}, null, 2));
