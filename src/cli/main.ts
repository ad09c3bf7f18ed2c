/**
 * The `ionsweep` command. Thin: each subcommand parses its flags, runs a job and writes the result.
 * Input problems exit with status 2 and one line naming the problem; problems of the environment
 * (disk full or read-only, a path of the wrong kind) exit with status 1 and one line naming the file;
 * anything else is a bug and exits with status 1 and a stack trace.
 */
import process from 'node:process';
import { Command, CommanderError } from 'commander';
import { InputError, environmentErrorOf } from '../errors.ts';
import { simulateCommand } from './simulate.ts';
import { sweepCommand } from './sweep.ts';
import { plotSweepCommand } from './plot-sweep.ts';
import { networkReportCommand } from './network-report.ts';
import { mergeCommand, verifyCommand } from './merge.ts';
import { costCommands } from './cost-commands.ts';
import { describeCommand, exportNeuroMLCommand, modelsCommand } from './models.ts';
import { installSignalExits, launcherPidOf, startWatchdog, watchdogPollMsOf } from './signals.ts';

export const VERSION = '0.1.0';

/** Commander's own errors (unknown option, missing argument) in the CLI's one-line form, 'ionsweep: …' (they read 'error: …'). */
const OUTPUT = {
  outputError: (text: string, write: (s: string) => void) => write(`ionsweep: ${oneLine(text.replace(/^error: /, '').trimEnd())}\n`),
};

export function buildCli(): Command {
  const program = new Command('ionsweep')
    .description('populations of conductance-based neurons on the GPU, with gradients')
    .version(VERSION)
    .showHelpAfterError(false)
    .configureOutput(OUTPUT)
    .exitOverride();
  // addCommand copies no settings from the program: each command gets the output form too
  for (const command of [simulateCommand(), sweepCommand(), plotSweepCommand(), networkReportCommand(), mergeCommand(), verifyCommand(), ...costCommands(), modelsCommand(), describeCommand(), exportNeuroMLCommand()]) program.addCommand(command.configureOutput(OUTPUT).exitOverride());
  return program;
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with status 0 and their text already printed
      if (error.exitCode === 0) return 0;
      return 2;
    }
    if (error instanceof InputError) {
      process.stderr.write(`ionsweep: ${oneLine(error.message)}\n`);
      return 2;
    }
    const environment = environmentErrorOf(error);
    if (environment) {
      process.stderr.write(`ionsweep: ${oneLine(environment.message)}\n`);
      return 1;
    }
    process.stderr.write(`ionsweep: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    return 1;
  }
}

/** Messages are one line by contract; a newline from an echoed input must not break that. */
function oneLine(message: string): string {
  const flat = message.replace(/\s*\n\s*/g, ' ');
  return flat.length > 2000 ? `${flat.slice(0, 2000)}… (${flat.length} characters)` : flat;
}

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  // SIGINT/SIGTERM/SIGHUP stop the run with 130/143/129; no orphan outlives the launcher (signals.ts)
  installSignalExits();
  startWatchdog(launcherPidOf(process.env), undefined, watchdogPollMsOf(process.env));
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
