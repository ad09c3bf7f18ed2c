/**
 * The landscape job: a cost and its gradient on a 2-D grid over two parameters (the others fixed),
 * every grid point one instance of a single ensemble run.
 *
 *     x: { parameter: log:gCaS, from: 1, to: 20, count: 41 }    # a log: axis is evenly spaced in log
 *     y: { parameter: gKd, from: 20, to: 200, count: 41 }
 *
 * Gradients are with respect to the axis coordinates (d cost / d log gCaS on a log axis).
 */
import { z } from 'zod';
import { termColumn } from '../analysis/costs.ts';
import { gradientColumn, statusColumns, type Column } from '../analysis/features.ts';
import type { DivergenceResult } from '../engine/ensemble.ts';
import type { Lane } from '../compile/program.ts';
import { InputError } from '../errors.ts';
import { checkParamValue, requireParam } from '../model/model.ts';
import { baseValues, coordinateValue, coordinatesOf, evaluatePoints, resolveCost, type CostProblem, type EvaluateOptions } from './cost/problem.ts';
import { costSettingsShape, costSetupOf } from './cost/spec.ts';
import { gradientConditioning, type PointConditioning } from './cost/conditioning.ts';
import { describeIssue, finite } from './schema.ts';

const axisSchema = z.object({
  /** a parameter name, or log:name for an axis evenly spaced in the logarithm */
  parameter: z.string({ error: 'must be a parameter name such as gCaS or log:gCaS' }),
  from: finite(),
  to: finite(),
  count: z.number({ error: 'must be an integer in [2, 1000]' }).int({ error: 'must be an integer in [2, 1000]' })
    .min(2, { error: 'must be an integer in [2, 1000]' }).max(1000, { error: 'must be an integer in [2, 1000]' }),
}).strict().refine((a) => a.to !== a.from, { error: 'needs to ≠ from' });

/** The landscape spec: cost settings plus the two axes. */
export const landscapeSpecSchema = z.object({
  ...costSettingsShape,
  x: axisSchema,
  y: axisSchema,
}).strict();

export type LandscapeSpecInput = z.input<typeof landscapeSpecSchema>;
export type LandscapeSpec = z.output<typeof landscapeSpecSchema>;

/** Parses a landscape spec; throws InputError naming the first problem. */
export function parseLandscapeSpec(input: unknown): LandscapeSpec {
  const parsed = landscapeSpecSchema.safeParse(input);
  if (!parsed.success) throw new InputError(`landscape spec: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

export interface LandscapeAxis {
  lane: Lane;
  /** parameter values along the axis */
  values: Float64Array;
  /** coordinate values (the logarithm on a log axis) */
  coords: Float64Array;
}

export interface LandscapeResult {
  x: LandscapeAxis;
  y: LandscapeAxis;
  /** cost at grid point (ix, iy), stored at iy·nx + ix */
  cost: Float64Array;
  /** [d cost/d x-coordinate, d cost/d y-coordinate], same layout */
  gradient: [Float64Array, Float64Array];
  terms: { label: string; value: Float64Array }[];
  problem: CostProblem;
  /** which grid points diverged (their cost, terms and gradient are NaN), same layout as cost */
  divergence: DivergenceResult;
  engine: string;
  device: string;
  note?: string;
  /** with options.conditioning: each point's gradient spread under f32-level perturbation (cost/conditioning.ts) */
  conditioning?: PointConditioning;
  wallMs: number;
}

function axisOf(lane: Lane, from: number, to: number, count: number): LandscapeAxis {
  const [a, b] = [coordinateValue(lane, from), coordinateValue(lane, to)];
  const coords = Float64Array.from({ length: count }, (_, k) => a + ((b - a) * k) / (count - 1));
  return { lane, coords, values: coords.map((c) => (lane.log ? Math.exp(c) : c)) };
}

export interface LandscapeOptions extends Pick<EvaluateOptions, 'run'> {
  onProgress?: (fraction: number) => void;
  /**
   * also measure how far each point's gradient can be trusted (two more runs of the grid, so three
   * times the time; cost/conditioning.ts). Default false.
   */
  conditioning?: boolean;
}

/** Runs a landscape: one ensemble of x.count × y.count instances. */
export async function runLandscape(input: LandscapeSpecInput | LandscapeSpec, options: LandscapeOptions = {}): Promise<LandscapeResult> {
  const started = performance.now();
  const spec = parseLandscapeSpec(input);
  const setup = costSetupOf(spec, 'landscape spec: ');
  const lanes = coordinatesOf(setup, [spec.x.parameter, spec.y.parameter], 'landscape spec: x, y: ');
  const axis = (lane: Lane, a: typeof spec.x, name: string) => {
    // the axis ends must be values the parameter may take (a conductance is ≥ 0); a log: axis needs > 0 (axisOf)
    const def = requireParam(setup.model, lane.param);
    for (const end of ['from', 'to'] as const) {
      const problem = checkParamValue(lane.param, def, a[end]);
      if (problem) throw new InputError(`landscape spec: ${name}.${end}: ${problem}`);
    }
    try {
      return axisOf(lane, a.from, a.to, a.count);
    } catch (error) {
      throw new InputError(`landscape spec: ${name}: ${(error as Error).message}`);
    }
  };
  const x = axis(lanes[0], spec.x, 'x'), y = axis(lanes[1], spec.y, 'y');
  // targets not given come from the model at its fixed and default values
  const problem = await resolveCost(setup, lanes, setup.target ?? baseValues(setup));
  const nx = x.coords.length, ny = y.coords.length;
  const px = new Float64Array(nx * ny), py = new Float64Array(nx * ny);
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      px[iy * nx + ix] = x.coords[ix];
      py[iy * nx + ix] = y.coords[iy];
    }
  }
  const parts = options.conditioning ? 3 : 1;
  const r = await evaluatePoints(problem, [px, py], { run: options.run, onProgress: options.onProgress && ((f) => options.onProgress!(f / parts)) });
  const conditioning = options.conditioning
    ? await gradientConditioning(problem, [px, py], r, { run: options.run, onProgress: options.onProgress && ((f) => options.onProgress!((1 + 2 * f) / parts)) })
    : undefined;
  return {
    conditioning,
    x, y, cost: r.cost, gradient: [r.gradient[0], r.gradient[1]], terms: r.terms.map((t) => ({ label: t.label, value: t.value })),
    problem, divergence: r.result.divergence, engine: r.result.engine, device: r.result.device, note: r.note, wallMs: performance.now() - started,
  };
}

/**
 * Index of the smallest finite cost, or −1 when there is none: diverged points (NaN cost) never
 * count as a minimum. Ties go to the first.
 */
export function finiteMinimum(cost: ArrayLike<number>): number {
  let best = -1;
  for (let k = 0; k < cost.length; k++) if (Number.isFinite(cost[k]) && (best < 0 || cost[k] < cost[best])) best = k;
  return best;
}

/** The landscape as table columns, one row per grid point (x fastest), with each point's status (features.ts, statusColumns). */
export function landscapeColumns(r: LandscapeResult): Column[] {
  const nx = r.x.coords.length, n = r.cost.length;
  const ix = Int32Array.from({ length: n }, (_, k) => k % nx), iy = Int32Array.from({ length: n }, (_, k) => Math.floor(k / nx));
  return [
    { name: 'ix', type: 'INT32', data: ix },
    { name: 'iy', type: 'INT32', data: iy },
    { name: r.x.lane.param, type: 'DOUBLE', data: Float64Array.from(ix, (i) => r.x.values[i]) },
    { name: r.y.lane.param, type: 'DOUBLE', data: Float64Array.from(iy, (i) => r.y.values[i]) },
    { name: 'cost', type: 'DOUBLE', data: r.cost },
    ...statusColumns(r.divergence, n),
    { name: gradientColumn('cost', r.x.lane.key), type: 'DOUBLE', data: r.gradient[0] },
    { name: gradientColumn('cost', r.y.lane.key), type: 'DOUBLE', data: r.gradient[1] },
    ...(r.conditioning ? [
      { name: 'gradientSpread', type: 'DOUBLE' as const, data: r.conditioning.relative },
      { name: 'gradientTrusted', type: 'BOOLEAN' as const, data: Array.from(r.conditioning.trusted, (t) => t === 1) },
    ] : []),
    ...r.terms.map((t): Column => ({ name: termColumn(t.label), type: 'DOUBLE', data: t.value })),
  ];
}
