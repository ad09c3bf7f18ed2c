/**
 * Schema building blocks for job specs (zod), with messages that name the allowed values and echo
 * what was given, so one line tells the user what to change.
 */
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { MODEL_NAMES, resolveModel } from '../channels/index.ts';
import { isModelDefinition, type ModelDefinition } from '../model/model-file.ts';
import type { Model } from '../model/model.ts';
import { isReservedName } from '../model/names.ts';
import { modelProblem } from '../model/validate.ts';

export const got = (input: unknown) => (typeof input === 'string' ? `'${input}'` : String(input));
export const finite = () => z.number({ error: (iss) => `must be a number, got ${got(iss.input)}` }).refine(Number.isFinite, { error: (iss) => `must be a finite number, got ${got(iss.input)}` });
export const positive = (unit: string) => finite().refine((v) => v > 0, { error: (iss) => `must be > 0 (${unit}), got ${got(iss.input)}` });
export const nonNegative = (unit: string) => finite().refine((v) => v >= 0, { error: (iss) => `must be ≥ 0 (${unit}), got ${got(iss.input)}` });
export const oneOf = <T extends readonly string[]>(values: T) =>
  z.enum(values as unknown as [T[number], ...T[number][]], { error: (iss) => `must be one of ${values.join(', ')}, got ${got(iss.input)}` });

/**
 * A spec's model: a library model's name, a model written as data (a neuron's `channels` or a
 * network's `cells`: model-file.ts, built here once to check it and again by resolveModel), or, from
 * TypeScript, a Model made by the builders. A Model object is checked in depth (validate.ts): a spec
 * file cannot smuggle expression nodes, whose constants and names would otherwise be printed into
 * generated kernel code. The spec keeps the data, so a sweep's hash covers a model file's content.
 */
export const modelSchema = () =>
  z.union([oneOf(MODEL_NAMES), z.custom<Model | ModelDefinition>((m) => typeof m === 'object' && m !== null && !Array.isArray(m))], {
    error: (iss) => `must be one of ${MODEL_NAMES.join(', ')} or a model definition (channels, or cells and synapses), got ${got(iss.input)}`,
  }).superRefine((m, ctx) => {
    if (typeof m === 'string') return;
    if (isModelDefinition(m)) {
      try {
        resolveModel(m, '');
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        ctx.addIssue({ code: 'custom', message: `(a model definition): ${error.message}` });
      }
      return;
    }
    const problem = modelProblem(m);
    if (problem) ctx.addIssue({ code: 'custom', message: `must be one of ${MODEL_NAMES.join(', ')}, a model definition (channels, or cells and synapses), or a Model built by buildNeuron or buildNetwork: ${problem}` });
  });

/**
 * A table keyed by user names (parameters, fixed values). Keys are checked before zod copies them:
 * a plain object silently drops `__proto__` and inherits `constructor`, `toString`, ….
 */
export const nameKey = () =>
  z.string().refine((k) => !isReservedName(k), { error: (iss) => `has the reserved name ${got(iss.input)} (names of JavaScript's object prototype cannot be used)` });

export const namedRecord = <T extends z.ZodType>(value: T) =>
  z.unknown().superRefine((input, ctx) => {
    // zod's record skips an own `__proto__` key without a word, so reserved keys are caught here first
    if (typeof input !== 'object' || input === null) return;
    for (const key of Object.keys(input)) {
      if (isReservedName(key)) ctx.addIssue({ code: 'custom', path: [key], message: `has the reserved name '${key}' (names of JavaScript's object prototype cannot be used)` });
    }
  }).pipe(z.record(nameKey(), value));

/** Formats the first problem zod found as one line naming the field. */
export function describeIssue(error: z.ZodError, fieldName: (path: string) => string = (p) => p): string {
  const issue = error.issues[0];
  // a record key's own problem is nested under zod's generic 'Invalid key in record'
  const nested = issue.code === 'invalid_key' ? (issue as { issues?: { message: string }[] }).issues?.[0]?.message : undefined;
  const message = nested ?? issue.message;
  const [head, ...rest] = issue.path.map(String);
  if (head === undefined) return message;
  return `${[fieldName(head), ...rest].join('.')} ${message}`;
}

