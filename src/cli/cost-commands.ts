/** The cost-based commands (landscape, fit, curve), registered in main.ts with one line. */
import type { Command } from 'commander';
import { curveCommand } from './curve.ts';
import { fitCommand } from './fit.ts';
import { landscapeCommand } from './landscape.ts';

/** landscape, fit and curve, in the order `ionsweep --help` lists them. */
export function costCommands(): Command[] {
  return [landscapeCommand(), fitCommand(), curveCommand()];
}
