/** Small helpers shared by the CLI commands. */
import process from 'node:process';
import { InputError } from '../errors.ts';

/** Parses a finite number or throws an InputError naming the flag. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function parseNumber(flag: string, text: string): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(value)) throw new InputError(`${flag} must be a finite number, got '${text}'`);
  return value;
}

/** Parses exactly `count` comma-separated finite numbers. */
export function parseNumberList(flag: string, text: string, count: number, form: string): number[] {
  const parts = text.split(',');
  if (parts.length !== count) throw new InputError(`${flag} expects ${form}, got '${text}'`);
  return parts.map((p) => parseNumber(flag, p));
}

/** Writes to stdout and resolves once the data is flushed (large JSON must not be cut off at exit). */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
