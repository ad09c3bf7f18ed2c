/** Small helpers shared by the CLI commands. */
import process from 'node:process';
import { stat } from 'node:fs/promises';
import { EnvironmentError, InputError } from '../errors.ts';
import { THREADS_MAX } from '../limits.ts';

/** Parses a finite number or throws an InputError naming the flag. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function parseNumber(flag: string, text: string): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(value)) throw new InputError(`${flag} must be a finite number, got '${text}'`);
  return value;
}

/** Parses an integer in [min, max] (a count: threads, fits to report) or throws an InputError naming the flag and the range. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) throw new InputError(`${flag} must be an integer in [${min}, ${max}], got '${text}'`);
  return value;
}

/** --threads: CPU worker threads, 1 to THREADS_MAX (limits.ts). */
export const parseThreads = (text: string): number => parseInteger('--threads', text, 1, THREADS_MAX);

/** An output path flag: not empty (`--out ''` would mean the working directory) and no NUL byte. */
export function parseOutPath(flag: string, text: string): string {
  if (text.trim() === '') throw new InputError(`${flag} must be a path, got an empty string`);
  if (text.includes('\0')) throw new InputError(`${flag} must be a path without NUL bytes`);
  return text;
}

/** Refuses an output folder that exists as something else (a file, a device): exit 2 before any work, naming it. */
export async function checkOutDir(flag: string, path: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (found && !found.isDirectory()) throw new InputError(`${flag} ${path} is not a folder (it exists as a file); give a folder for the outputs`);
}

/** Refuses an output file that exists as a folder: exit 2 before any work, naming it. */
export async function checkOutFile(flag: string, path: string): Promise<void> {
  const found = await stat(path).catch(() => undefined);
  if (found?.isDirectory()) throw new InputError(`${flag} ${path} is a folder; give a file name, e.g. ${path.replace(/\/+$/, '')}/trace.npy`);
}

/** Parses exactly `count` comma-separated finite numbers. */
export function parseNumberList(flag: string, text: string, count: number, form: string): number[] {
  const parts = text.split(',');
  if (parts.length !== count) throw new InputError(`${flag} expects ${form}, got '${text}'`);
  return parts.map((p) => parseNumber(flag, p));
}

/**
 * Writes to stdout and resolves once the data is flushed (large JSON must not be cut off at exit).
 * A reader that closed the pipe early (`ionsweep simulate ... | head -1`) is an EnvironmentError (one
 * line, exit 1), not an uncaught stream error with a stack trace.
 */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error?: Error | null) => {
      if (settled) return;
      settled = true;
      if (!error) resolve();
      else if ((error as { code?: string }).code === 'EPIPE') reject(new EnvironmentError('stdout: broken pipe (the reader closed it before all output was written)'));
      else reject(error);
    };
    // the stream also emits the error as an event, after the callback: without a listener it is
    // thrown, uncaught, so the listener stays (it ignores what comes after the first outcome)
    process.stdout.on('error', done);
    process.stdout.write(text, done);
  });
}
