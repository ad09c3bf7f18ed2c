/**
 * Re-simulates every point of a curve (a `ionsweep curve` table) on its own with the f64 CPU engine
 * and reports how far each mean term moved from its target (the start) and the largest cost: the
 * independent check that the curve kept the behaviour it was asked to keep. Prints JSON.
 *
 *   deno run -A bench/curve-check.ts examples/curve-abpd.yaml results/curve-abpd/curve.parquet
 */
import process from 'node:process';
import { readSpecFile } from '../src/io/spec-file.ts';
import { readParquet } from '../src/io/parquet.ts';
import { parseCurveSpec } from '../src/jobs/curve/spec.ts';
import { costSetupOf } from '../src/jobs/cost/spec.ts';
import { baseValues, coordinateValue, coordinatesOf, evaluatePoints, resolveCost } from '../src/jobs/cost/problem.ts';

const [specPath, tablePath] = process.argv.slice(2);
const spec = parseCurveSpec({ ...(await readSpecFile(specPath) as object), engine: 'cpu' });
const setup = costSetupOf(spec);
const lanes = coordinatesOf(setup, spec.parameters);
const start = { ...baseValues(setup), ...spec.start };
const problem = await resolveCost(setup, lanes, setup.target ?? start);
const table = await readParquet(tablePath);
const column = (name: string) => table.columns.find((c) => c.name === name)!.data as ArrayLike<number>;
const points = lanes.map((l) => Float64Array.from(column(l.param), (v) => coordinateValue(l, v)));
const r = await evaluatePoints(problem, points, { gradient: false });
const stored = column('cost');
const s = column('s');
const result = {
  points: table.rows,
  arcLength: [Math.min(...Array.from(s)), Math.max(...Array.from(s))],
  maxCost: Math.max(...r.cost),
  largestDifferenceFromStoredCost: Math.max(...Array.from(r.cost, (c, i) => Math.abs(c - stored[i]))),
  terms: problem.terms.map((t, k) => ({
    term: t.label,
    // for a mean term, √(cost/weight)·scale/|target| is the relative deviation from the target
    maxRelativeDeviation: t.kind === 'mean' ? Math.max(...Array.from(r.terms[k].value, (v) => (Math.sqrt(v / t.weight) * t.scale) / Math.abs(t.target))) : undefined,
  })),
  changes: lanes.map((l) => {
    const v = Array.from(column(l.param));
    return { parameter: l.param, factor: Math.max(...v) / Math.min(...v) };
  }).sort((a, b) => b.factor - a.factor),
};
console.log(JSON.stringify(result, null, 2));
