/**
 * The two kinds of failure the CLI reports in one line, as opposed to bugs:
 * - InputError: a problem with what the user asked for (an unknown name, a value out of range, a
 *   spec that does not match stored results). Exit status 2.
 * - EnvironmentError: the machine refused (a read-only or full disk, a missing or unreadable file, a
 *   path that is a file where a directory is expected). Exit status 1.
 * Both messages are one line that names the field or the file and what is allowed.
 */
export class InputError extends Error {
  override name = 'InputError';
}

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** Node's system error codes that mean the environment refused an operation on a path. */
const ENVIRONMENT_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'resource busy',
};

/**
 * Turns a system error from a file operation (anything with an errno `code` Node or Deno sets) into an
 * EnvironmentError naming the path and what went wrong; returns undefined for anything else.
 */
export function environmentErrorOf(error: unknown): EnvironmentError | undefined {
  if (error instanceof EnvironmentError) return error;
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { code?: unknown; path?: unknown; dest?: unknown; syscall?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const deno = denoErrorKind(error);
  const reason = code ? ENVIRONMENT_CODES[code] : deno;
  if (!reason) return undefined;
  const path = typeof e.path === 'string' ? e.path : pathFromMessage(error.message);
  const op = typeof e.syscall === 'string' ? `${e.syscall} ` : '';
  return new EnvironmentError(`${op}${path ? `${path}: ` : ''}${reason}`.trim());
}

/** Deno's own fs errors (Deno.errors.*) carry no `code`; their class names say the same things. */
function denoErrorKind(error: Error): string | undefined {
  const kinds: Record<string, string> = {
    PermissionDenied: 'permission denied', NotFound: 'no such file or directory', AlreadyExists: 'already exists',
    IsADirectory: 'is a directory', NotADirectory: 'not a directory', ReadOnly: 'read-only file system', StorageFull: 'no space left on device',
  };
  return kinds[error.name];
}

function pathFromMessage(message: string): string | undefined {
  const m = /'([^']+)'/.exec(message);
  return m ? m[1] : undefined;
}
