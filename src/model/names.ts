/**
 * Names that users choose (parameters, channels, gates, states, observed quantities, table keys) and
 * the rules they follow. Plain JavaScript objects inherit `constructor`, `toString`, `__proto__` and
 * friends, so a table keyed by user text either finds a native function under such a name or, for
 * `__proto__`, silently drops the entry. Every user-keyed table is therefore looked up with
 * `hasOwn`, and these names are refused where they enter, with one message.
 */
import { InputError } from '../errors.ts';

/** Names inherited by every object, plus the two that change prototypes when assigned. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']);

/** Model names: letters, digits, `_` and `.` (namespaces), starting with a letter or `_`. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

/** Why `name` cannot name a `kind` (e.g. 'parameter'), or null when it can. */
export function nameProblem(kind: string, name: unknown): string | null {
  if (typeof name !== 'string') return `${kind} name must be text, got ${typeof name}`;
  if (isReservedName(name)) return `${kind} name '${name}' is reserved (names of JavaScript's object prototype cannot be used)`;
  if (!NAME_PATTERN.test(name)) return `${kind} name '${name.length > 80 ? `${name.slice(0, 80)}…` : name}' must be letters, digits, _ and . (starting with a letter or _)`;
  return null;
}

/** Throws an InputError unless `name` is a valid, unreserved name for a `kind`. */
export function checkName(kind: string, name: unknown, where = ''): asserts name is string {
  const problem = nameProblem(kind, name);
  if (problem) throw new InputError(`${where}${problem}`);
}

/** Own-property lookup: a name inherited from Object.prototype is never found. */
export function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
