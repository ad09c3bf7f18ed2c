/**
 * The curve spec: a cost (cost/spec.ts; targets default to the start point, so the cost starts at
 * 0), where the curve starts, the coordinates it moves in, its initial direction and how far it may
 * go.
 *
 *     start: { gCaS: 6, gKd: 100 }          # default: the model at its fixed and default values
 *     parameters: [log:gNa, log:gCaT, ...]  # coordinates (log: recommended for conductances)
 *     direction: hessian                    # least-constrained Hessian eigenvector, or {log:gCaS: 1, ...}
 *     momentum: 5.0e-5                      # the cost may rise at most this much above its start value
 *     length: 2                             # arc length per direction (coordinate units)
 */
import { z } from 'zod';
import { InputError } from '../../errors.ts';
import { costSettingsShape } from '../cost/spec.ts';
import { CURVE_STEPS_MAX } from '../../limits.ts';
import { describeIssue, finite, got, positive, namedRecord } from '../schema.ts';

/** The curve spec: cost settings, start, coordinates, initial direction and how far to go. */
export const curveSpecSchema = z.object({
  ...costSettingsShape,
  /** parameter values where the curve starts (over fixed and defaults) */
  start: namedRecord(finite()).default({}),
  parameters: z.array(z.string(), { error: 'must be a list of parameter names, e.g. [log:gNa, log:gKd]' })
    .min(2, { error: 'needs at least two parameters (a curve in one dimension is a line)' }),
  /** 'hessian': the eigenvector of the smallest Hessian eigenvalue; or a vector by coordinate key */
  direction: z.union([z.literal('hessian'), namedRecord(finite())], {
    error: (iss) => `must be 'hessian' or a vector such as {log:gCaS: 1, log:gKd: -1}, got ${got(JSON.stringify(iss.input))}`,
  }).default('hessian'),
  /** the curve stops where the cost would exceed its start value by more than this */
  momentum: positive('cost units'),
  /** arc length to travel in each direction (coordinate units; log units for log: coordinates) */
  length: positive('coordinate units').default(1),
  /** evolve in both directions from the start (as two instances of one ensemble) */
  bothDirections: z.boolean({ error: 'must be true or false' }).default(true),
  maxSteps: z.number({ error: `must be an integer in [1, ${CURVE_STEPS_MAX}]` }).int({ error: `must be an integer in [1, ${CURVE_STEPS_MAX}]` })
    .min(1, { error: `must be an integer in [1, ${CURVE_STEPS_MAX}]` }).max(CURVE_STEPS_MAX, { error: `must be an integer in [1, ${CURVE_STEPS_MAX}]` }).default(1000),
  step: z.object({
    initial: positive('coordinate units').default(0.01),
    min: positive('coordinate units').default(1e-4),
    max: positive('coordinate units').default(0.1),
  }).strict().default({ initial: 0.01, min: 1e-4, max: 0.1 }),
  /** largest change of direction per step (radians), for the plain dynamics (levelSet: false) */
  maxTurn: positive('radians').default(0.3),
  /** follow the level set of the start's cost (predictor–corrector, mdc.ts); false: the plain MDC dynamics */
  levelSet: z.boolean({ error: 'must be true or false' }).default(true),
  /** central-difference step for the Hessian (coordinate units; 0.01 is a 1 % change of a log: coordinate, wide enough to average over the small wrinkles of a spiking cell's cost) */
  hessianStep: positive('coordinate units').default(0.01),
}).strict();

export type CurveSpecInput = z.input<typeof curveSpecSchema>;
export type CurveSpec = z.output<typeof curveSpecSchema>;

/** Parses a curve spec; throws InputError naming the first problem. */
export function parseCurveSpec(input: unknown): CurveSpec {
  const parsed = curveSpecSchema.safeParse(input);
  if (!parsed.success) throw new InputError(`curve spec: ${describeIssue(parsed.error)}`);
  const spec = parsed.data;
  if (!(spec.step.min <= spec.step.initial && spec.step.initial <= spec.step.max)) {
    throw new InputError(`curve spec: step must satisfy min ≤ initial ≤ max, got ${JSON.stringify(spec.step)}`);
  }
  return spec;
}
