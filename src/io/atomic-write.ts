/**
 * Atomic file writes: write to a temporary name in the same folder, then rename, so a killed
 * process never leaves a half-written file under the final name.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
