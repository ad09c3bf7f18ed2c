/**
 * Atomic file writes: write to a temporary name in the same folder, then rename, so a killed
 * process never leaves a half-written file under the final name.
 *
 * A target that exists and is not a regular file is not renamed over: a device, FIFO or socket
 * (/dev/stdout, /dev/full, a named pipe) is written in place, so its errors (ENOSPC on /dev/full)
 * are the ones reported and the node itself is never replaced (as root, a rename over /dev/full
 * would put a regular file there); a directory is refused (EISDIR). A parent path that is a file
 * gives ENOTDIR naming it, not mkdir's misleading EEXIST.
 */
import { mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A Node-style system error, which errors.ts (environmentErrorOf) turns into one line naming the path. */
function systemError(code: string, syscall: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

/** `data` may be produced piece by piece (an async iterable of text), for files too large for one string. */
export async function writeFileAtomic(path: string, data: Uint8Array | string | AsyncIterable<string>): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw systemError('EISDIR', 'open', path);
  if (target && !target.isFile()) {
    await writeFile(path, data).catch((error) => {
      // a write error (ENOSPC) may carry no path: name the file
      if (error && typeof error === 'object' && !('path' in error)) Object.assign(error, { path });
      throw error;
    });
    return;
  }
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    // some part of the folder path is a file
    throw systemError('ENOTDIR', 'mkdir', dir);
  }
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    // piece by piece through a handle: writeFile given an iterable may gather it all first
    if (typeof data === 'string' || data instanceof Uint8Array) await writeFile(tmp, data);
    else await writePieces(tmp, data);
  } catch (error) {
    // a full disk leaves a partial temporary file: remove it (a kill still may, see the sweep store)
    await unlink(tmp).catch(() => {});
    // name the file the user asked for, not the temporary one (Deno's writeFile errors name none)
    const e = error as { path?: unknown };
    if (e.path === tmp || e.path === undefined) e.path = path;
    throw error;
  }
  await rename(tmp, path);
}

/** Writes text given a piece at a time to a new file, holding one piece in memory at once. */
async function writePieces(path: string, pieces: AsyncIterable<string>): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for await (const piece of pieces) await handle.write(piece);
  } finally {
    await handle.close();
  }
}
