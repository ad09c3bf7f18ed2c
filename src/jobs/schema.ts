/**
 * Schema building blocks for job specs (zod), with messages that name the allowed values and echo
 * what was given, so one line tells the user what to change.
 */
import { z } from 'zod';

export const got = (input: unknown) => (typeof input === 'string' ? `'${input}'` : String(input));
export const finite = () => z.number({ error: (iss) => `must be a number, got ${got(iss.input)}` }).refine(Number.isFinite, { error: (iss) => `must be a finite number, got ${got(iss.input)}` });
export const positive = (unit: string) => finite().refine((v) => v > 0, { error: (iss) => `must be > 0 (${unit}), got ${got(iss.input)}` });
export const nonNegative = (unit: string) => finite().refine((v) => v >= 0, { error: (iss) => `must be ≥ 0 (${unit}), got ${got(iss.input)}` });
export const oneOf = <T extends readonly string[]>(values: T) =>
  z.enum(values as unknown as [T[number], ...T[number][]], { error: (iss) => `must be one of ${values.join(', ')}, got ${got(iss.input)}` });

/** Formats the first problem zod found as one line naming the field. */
export function describeIssue(error: z.ZodError, fieldName: (path: string) => string = (p) => p): string {
  const issue = error.issues[0];
  const [head, ...rest] = issue.path.map(String);
  if (head === undefined) return issue.message;
  return `${[fieldName(head), ...rest].join('.')} ${issue.message}`;
}

