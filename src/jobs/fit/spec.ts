/**
 * The fit spec: a cost (cost/spec.ts), the parameters to fit with the box their random starts are
 * drawn from (log-uniformly: the fit runs on their logarithms), and the optimiser's settings.
 *
 *     parameters: { gNa: [100, 1000], gKd: [25, 250] }
 *     starts: 1000          # random starts, run together as one ensemble (one instance each)
 *     screen: 16            # each start begins at the best of 16 random points (cost only)
 *     iterations: 100       # at most, per start
 *     adam: { learningRate: 0.05, clipNorm: 1 }
 *     optimizer: adam       # or levenberg-marquardt (levenbergMarquardt: { damping, maxStep }), or cma-es
 *     stopping: { patience: 10, minImprovement: 0.001, costBelow: 1e-6 }
 *     randomSearch: true    # baseline: as many random evaluations of the same box, same run
 *
 * The default optimiser depends on the cost: with features only (means and rates, no `trace` term)
 * it is cma-es, whose population needs no gradient (the gradients of features of a spiking run are
 * rough at every scale a step takes), and the random search runs beside it unless `randomSearch:
 * false`; with a trace term it is adam, without the baseline unless asked.
 */
import { z } from 'zod';
import { InputError } from '../../errors.ts';
import { describeIssue, finite, got, nonNegative, oneOf, positive, namedRecord } from '../schema.ts';
import { costSettingsShape } from '../cost/spec.ts';
import { ADAM_DEFAULTS } from './adam.ts';
import { LM_DEFAULTS } from './levenberg-marquardt.ts';
import { FIT_SCREEN_EVALUATIONS_MAX } from '../../limits.ts';

/** The fit's optimisers (the default: defaultOptimizer). */
export const OPTIMIZERS = ['adam', 'levenberg-marquardt', 'cma-es'] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];

/** An integer in [lo, hi], with one message naming the range. */
export const int = (lo: number, hi: number) => z.number({ error: `must be an integer in [${lo}, ${hi}]` })
  .int({ error: `must be an integer in [${lo}, ${hi}]` }).min(lo, { error: `must be an integer in [${lo}, ${hi}]` }).max(hi, { error: `must be an integer in [${lo}, ${hi}]` });

/** A fitted parameter's box [low, high], 0 < low < high (fits run on logarithms). */
export const box = z.tuple([finite(), finite()], { error: (iss) => `must be [low, high] with 0 < low < high, got ${got(JSON.stringify(iss.input))}` })
  .refine(([lo, hi]) => lo > 0 && hi > lo, { error: 'must be [low, high] with 0 < low < high' });

/** The fit spec: cost settings, the fitted parameters' boxes, the optimiser and the baseline. */
export const fitSpecSchema = z.object({
  ...costSettingsShape,
  /** fitted parameters and the box [low, high] of each (> 0: the fit runs on logarithms) */
  parameters: namedRecord(box).refine((p) => Object.keys(p).length > 0, { error: 'needs at least one parameter' }),
  starts: int(1, 1_000_000).default(100),
  seed: int(0, 2 ** 31 - 1).default(1),
  /**
   * candidates per start: each start begins at the lowest-cost of this many random points of the box
   * (cost only, counted in the evaluations); 1: at one random point
   */
  screen: int(1, 100_000).default(1),
  /** Adam steps per start, at most */
  iterations: int(1, 100_000).default(100),
  adam: z.object({
    learningRate: positive('log units per step').default(ADAM_DEFAULTS.learningRate),
    beta1: finite().refine((b) => b >= 0 && b < 1, { error: 'must be in [0, 1)' }).default(ADAM_DEFAULTS.beta1),
    beta2: finite().refine((b) => b >= 0 && b < 1, { error: 'must be in [0, 1)' }).default(ADAM_DEFAULTS.beta2),
    epsilon: positive('').default(ADAM_DEFAULTS.epsilon),
    clipNorm: positive('').default(ADAM_DEFAULTS.clipNorm),
    /** take back steps that raise the cost and retry them shorter (adam.ts, AdamOptions.backtrack) */
    backtrack: z.object({
      shrink: finite().refine((f) => f > 0 && f < 1, { error: 'must be in (0, 1)' }).default(0.5),
      grow: finite().refine((f) => f >= 1, { error: 'must be ≥ 1' }).default(1.2),
    }).strict().optional(),
  }).strict().default({ ...ADAM_DEFAULTS }),
  /**
   * adam (first order), levenberg-marquardt (Gauss–Newton steps from the residuals' tangents), or
   * cma-es (population search on costs alone, λ instances per start and generation: for costs of
   * features, whose gradients mean little; `iterations` counts generations)
   */
  optimizer: oneOf(OPTIMIZERS).optional(),
  cmaEs: z.object({
    /** candidates per generation and start (default 4 + ⌊3 ln D⌋) */
    populationSize: int(2, 10_000).optional(),
    /** initial step size as a fraction of the box's width (log units) */
    initialStep: positive('fraction of the box width').default(0.3),
  }).strict().default({ initialStep: 0.3 }),
  levenbergMarquardt: z.object({
    damping: positive('relative to diag(JᵀJ)').default(LM_DEFAULTS.damping),
    maxStep: positive('coordinate units per step').default(LM_DEFAULTS.maxStep),
  }).strict().default({ ...LM_DEFAULTS }),
  stopping: z.object({
    /** a start stops after this many iterations without a relative improvement of minImprovement */
    patience: int(1, 100_000).default(10),
    minImprovement: nonNegative('').default(1e-3),
    /** a start stops once its cost is at or below this */
    costBelow: nonNegative('').default(0),
  }).strict().default({ patience: 10, minImprovement: 1e-3, costBelow: 0 }),
  /** also run a random search with as many model evaluations, as a zero-order baseline (default: with cma-es) */
  randomSearch: z.boolean({ error: 'must be true or false' }).optional(),
  /** points per ensemble run of the random search */
  chunkSize: int(1, 1 << 22).default(4096),
}).strict();

export type FitSpecInput = z.input<typeof fitSpecSchema>;
/** A parsed fit spec, the optimiser and the baseline decided (parseFitSpec). */
export type FitSpec = Omit<z.output<typeof fitSpecSchema>, 'optimizer' | 'randomSearch'> & { optimizer: Optimizer; randomSearch: boolean };

/** The optimiser a spec gets when it names none: cma-es for a cost of features only (no trace term), else adam. */
export function defaultOptimizer(cost: readonly Record<string, unknown>[]): Optimizer {
  return cost.some((term) => Object.hasOwn(term, 'trace')) ? 'adam' : 'cma-es';
}

/** Parses a fit spec; throws InputError naming the first problem. */
export function parseFitSpec(input: unknown): FitSpec {
  const parsed = fitSpecSchema.safeParse(input);
  if (!parsed.success) throw new InputError(`fit spec: ${describeIssue(parsed.error)}`);
  const optimizer = parsed.data.optimizer ?? defaultOptimizer(parsed.data.cost);
  const spec: FitSpec = { ...parsed.data, optimizer, randomSearch: parsed.data.randomSearch ?? optimizer === 'cma-es' };
  // each count is in range alone; their product is the screen's evaluations (limits.ts)
  if (spec.starts * spec.screen > FIT_SCREEN_EVALUATIONS_MAX) {
    throw new InputError(`fit spec: starts × screen = ${spec.starts} × ${spec.screen} = ${spec.starts * spec.screen} screen evaluations, over the limit of ${FIT_SCREEN_EVALUATIONS_MAX}: fewer starts or a smaller screen`);
  }
  return spec;
}
