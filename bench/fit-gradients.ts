/**
 * How informative the fit's gradients are: the cost of a fit spec (default examples/fit-abpd.yaml)
 * and its gradient at random points of the spec's box, from the f64 CPU engine and the f32 GPU
 * engine. Prints JSON: per point the cost, both gradient norms, the cosine between the gradients and
 * the cost's relative change after steps of 1e-4 to 0.1 along −∇C (f64), and a summary. Large f64 norms mark points where the discrete map's exact derivative describes
 * only a tiny neighbourhood (a change in the burst structure nearby); there the f32 direction is noise.
 *
 *   deno run -A bench/fit-gradients.ts [examples/fit-abpd.yaml] [--points 40]
 */
import process from 'node:process';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { coordinatesOf, evaluatePoints, resolveCost } from '../src/jobs/cost/problem.ts';
import { costSetupOf } from '../src/jobs/cost/spec.ts';
import { parseFitSpec } from '../src/jobs/fit/spec.ts';

const args = process.argv.slice(2);
const k = args.indexOf('--points');
const n = k >= 0 ? Number(args[k + 1]) : 40;
const specPath = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--points') ?? 'examples/fit-abpd.yaml';
const raw = parse(await readFile(specPath, 'utf8')) as Record<string, unknown>;
/** the spec's cost problem, evaluated on one engine */
async function problemOn(engine: 'cpu' | 'gpu') {
  const spec = parseFitSpec({ ...raw, engine });
  const setup = costSetupOf(spec, 'fit spec: ');
  return { spec, problem: await resolveCost(setup, coordinatesOf(setup, Object.keys(spec.parameters).map((p) => `log:${p}`), 'fit spec: parameters: ')) };
}
const { spec, problem: onCpu } = await problemOn('cpu');
const { problem: onGpu } = await problemOn('gpu');
const names = Object.keys(spec.parameters);

// points drawn log-uniformly from the box, as the fit draws its starts (a fixed LCG: reproducible)
let seed = 12345;
const uniform = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const points = names.map((p) => {
  const [lo, hi] = spec.parameters[p].map(Math.log);
  return Float64Array.from({ length: n }, () => lo + uniform() * (hi - lo));
});
const f64 = await evaluatePoints(onCpu, points);
const f32 = await evaluatePoints(onGpu, points);

const rows = Array.from({ length: n }, (_, i) => {
  const a = f64.gradient.map((g) => g[i]), b = f32.gradient.map((g) => g[i]);
  const normF64 = Math.hypot(...a), normF32 = Math.hypot(...b);
  const cosine = a.reduce((s, v, d) => s + v * b[d], 0) / (normF64 * normF32);
  return { cost: f64.cost[i], costF32: f32.cost[i], normF64, normF32, cosine };
});
// the cost along −∇C (f64) from each point, at steps of STEPS log units (Euclidean): does the
// gradient point downhill over any distance an optimiser could take?
const STEPS = [1e-4, 1e-3, 1e-2, 1e-1];
const along = STEPS.flatMap((t) => Array.from({ length: n }, (_, i) => {
  const g = f64.gradient.map((c) => c[i]), norm = Math.hypot(...g);
  return points.map((column, d) => column[i] - (t * g[d]) / norm);
}));
const stepped = await evaluatePoints(onCpu, names.map((_, d) => Float64Array.from(along, (x) => x[d])), { gradient: false });
/** relative change of the cost after a step of STEPS[s] along −∇C from point i */
const changeAt = (s: number, i: number) => (stepped.cost[s * n + i] - f64.cost[i]) / f64.cost[i];
rows.forEach((r, i) => Object.assign(r, { costChangeAlongGradient: Object.fromEntries(STEPS.map((t, s) => [t, Number(changeAt(s, i).toPrecision(3))])) }));
const LARGE = 1e5;
const cosines = (keep: (r: (typeof rows)[number]) => boolean) => rows.filter(keep).map((r) => r.cosine).filter(Number.isFinite).sort((x, y) => x - y);
const median = (v: number[]) => (v.length ? v[Math.floor((v.length - 1) / 2)] : null);
const tame = cosines((r) => r.normF64 <= LARGE), wild = cosines((r) => r.normF64 > LARGE);
console.log(JSON.stringify({
  spec: specPath, points: n, f32Device: f32.result.device,
  summary: {
    largeNormThreshold: LARGE,
    pointsWithLargeF64Norm: rows.filter((r) => r.normF64 > LARGE).length,
    largestF64Norm: Math.max(...rows.map((r) => r.normF64)),
    medianCosineWhereNormSmall: median(tame), minCosineWhereNormSmall: tame[0] ?? null,
    medianCosineWhereNormLarge: median(wild), minCosineWhereNormLarge: wild[0] ?? null,
    nonFiniteF32Gradients: rows.filter((r) => !Number.isFinite(r.normF32)).length,
    // where the norm is moderate the cost should fall for short steps; where it is large, jump
    alongGradient: {
      steps: STEPS,
      fallsAt1e4WhereNormBelow1e3: `${rows.filter((r, i) => r.normF64 < 1e3 && changeAt(0, i) < 0).length} of ${rows.filter((r) => r.normF64 < 1e3).length}`,
      fallsAt1e3WhereNormBelow1e3: `${rows.filter((r, i) => r.normF64 < 1e3 && changeAt(1, i) < 0).length} of ${rows.filter((r) => r.normF64 < 1e3).length}`,
      changesOver10PercentAt1e4WhereNormAboveLarge: `${rows.filter((r, i) => r.normF64 > LARGE && Math.abs(changeAt(0, i)) > 0.1).length} of ${rows.filter((r) => r.normF64 > LARGE).length}`,
    },
  },
  rows,
}, null, 2));
