/** Reads a job spec from a YAML or JSON file (YAML is a superset of JSON). */
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../errors.ts';
import { SPEC_FILE_MAX_BYTES, formatBytes } from '../limits.ts';

/**
 * The file's text, read at most SPEC_FILE_MAX_BYTES (limits.ts): a device or a huge file given by
 * mistake (/dev/zero) is refused once past the limit instead of filling memory.
 */
async function readBounded(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buffer = new Uint8Array(1 << 20);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > SPEC_FILE_MAX_BYTES) throw new InputError(`spec file ${path} is larger than ${formatBytes(SPEC_FILE_MAX_BYTES)}; a spec is a few kB of YAML or JSON`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    const all = new Uint8Array(total);
    let offset = 0;
    for (const c of chunks) {
      all.set(c, offset);
      offset += c.length;
    }
    return new TextDecoder().decode(all);
  } finally {
    await file.close();
  }
}

/**
 * A model file (YAML or JSON, model-file.ts): its data, which the model builders then validate. The
 * same size bound and one-line errors as spec files, naming the model file.
 */
export async function readModelFile(path: string): Promise<unknown> {
  try {
    return await readSpecFile(path);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.message.replace(/^(cannot read )?spec file/, (m) => m.replace('spec file', 'model file')));
    throw error;
  }
}

/**
 * A spec whose `model` is `{ file: path }` gets the model file's data in its place; the path is read
 * relative to the spec file's folder, so a spec and its model travel together.
 */
export async function withModelFile(spec: unknown, specPath: string): Promise<unknown> {
  if (typeof spec !== 'object' || spec === null || !('model' in spec)) return spec;
  const model = (spec as { model: unknown }).model;
  if (typeof model !== 'object' || model === null || !('file' in model)) return spec;
  const { file, ...rest } = model as { file: unknown };
  if (typeof file !== 'string' || Object.keys(rest).length) throw new InputError(`spec file ${specPath}: model: { file: path } takes just the path of a model file (text)`);
  return { ...spec, model: await readModelFile(resolve(dirname(specPath), file)) };
}

export async function readSpecFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readBounded(path);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read spec file ${path}: ${(error as Error).message}`);
  }
  try {
    return parse(text);
  } catch (error) {
    throw new InputError(`spec file ${path} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}
