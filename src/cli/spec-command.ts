/**
 * What every spec-file command shares (sweep, landscape, fit, curve): the spec argument, an output
 * folder, engine overrides, CPU threads and quiet progress, and reading the spec with those overrides.
 */
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { GPU_MATH } from '../compile/emit-wgsl.ts';
import { ENGINE_CHOICES } from '../engine/run.ts';
import { InputError } from '../errors.ts';
import { readSpecFile, withModelFile } from '../io/spec-file.ts';
import { parseOutPath, parseThreads } from './util.ts';

export interface SpecCommandFlags {
  out?: string;
  engine?: string;
  gpuMath?: string;
  threads?: number;
  quiet?: boolean;
  /** landscape, fit, curve: also write the table as CSV */
  csv?: boolean;
}

/** What `--help` says about a command's spec: its fields and the example specs to start from. */
export interface SpecHelp {
  /** the spec's top-level fields (its zod schema's keys) */
  fields: readonly string[];
  examples: readonly string[];
  /** the README section that describes the fields */
  readme: string;
}

/** A command `name <spec>` with the shared options; add its own options and action. */
export function specCommand(name: string, description: string, specLabel: string, help: SpecHelp): Command {
  return new Command(name)
    .addHelpText('after', `\nSpec fields: ${help.fields.join(', ')} (README: ${help.readme}).\nExamples: ${help.examples.join(', ')}`)
    .description(description)
    .argument('<spec>', `${specLabel} spec file (YAML or JSON)`)
    .option('--out <dir>', 'output folder (default: results/<spec name>)', (v) => parseOutPath('--out', v))
    .addOption(new Option('--engine <name>', 'override the spec: cpu, gpu or auto').choices(ENGINE_CHOICES))
    .addOption(new Option('--gpu-math <mode>', 'override the spec: accurate or fast').choices(GPU_MATH))
    .option('--threads <n>', 'CPU worker threads (an integer, 1 to 256)', parseThreads)
    .option('--quiet', 'no progress output');
}

/**
 * Default output folder: results/<spec file name without extension>. A name that is empty or only
 * dots (`.yaml`, `...yaml`) would make that results/ itself or its parent, the working directory:
 * refused, asking for --out.
 */
export function defaultOutDir(specPath: string): string {
  const name = basename(specPath).replace(/\.(ya?ml|json)$/i, '');
  if (/^\.*$/.test(name)) throw new InputError(`spec file ${specPath}: its name gives no output folder name (results/<name>); give --out`);
  return join('results', name);
}

/** Reads a spec file and applies --engine and --gpu-math over it. */
export async function readSpecWithFlags(specPath: string, flags: SpecCommandFlags): Promise<Record<string, unknown>> {
  return {
    ...((await withModelFile(await readSpecFile(specPath), specPath)) as Record<string, unknown>),
    ...(flags.engine ? { engine: flags.engine } : {}),
    ...(flags.gpuMath ? { gpuMath: flags.gpuMath } : {}),
  };
}
