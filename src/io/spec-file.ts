/** Reads a job spec from a YAML or JSON file (YAML is a superset of JSON). */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { InputError } from '../errors.ts';

export async function readSpecFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read spec file ${path}: ${(error as Error).message}`);
  }
  try {
    return parse(text);
  } catch (error) {
    throw new InputError(`spec file ${path} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}
