/**
 * The compiled engine against an independent, hand-written implementation of the same scheme
 * (bench/reference/prinz-plain.ts: docs/models.md §3 and §5 written out as a plain loop). Both compute
 * exponential Euler, gates first, in f64; they differ only in how floating-point operations are
 * grouped (the engine writes the V update through exprel), so the means agree to ~1e-13.
 *
 * The window is 280 ms from the cold start. Some cells then sit on a slowly drifting plateau from
 * which they escape with a sensitivity of ~e^(t/4 ms) (LP 5 near 300 ms): there any rounding
 * difference, 1e-15 to begin with, grows to order one within 100 ms, in any pair of implementations.
 * So the bound is 1e-9 relative on means over windows that end before such escapes amplify rounding
 * past it, and exact spike counts.
 */
import { describe, expect, it } from 'vitest';
import { runPlainPrinz, type Conductances } from '../bench/reference/prinz-plain.ts';
import { libraryModel } from '../src/channels/index.ts';
import { CONDUCTANCE_NAMES, PRINZ_2004_CELLS } from '../src/channels/prinz2004-cells.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';

describe('compiled prinz model = hand-written loop (16 model neurons, 280 ms)', async () => {
  const model = libraryModel('prinz');
  const program = compile(model, { dtMs: 0.025, instanceParams: [...CONDUCTANCE_NAMES] });
  const N = PRINZ_2004_CELLS.length;
  const params = Object.fromEntries(CONDUCTANCE_NAMES.map((g) => [g, PRINZ_2004_CELLS.map((c) => c.conductances[g])]));
  const engine = await runCpu({ program, N, params, durationMs: 280, discardMs: 20 });
  PRINZ_2004_CELLS.forEach((cell, i) => {
    it(cell.name, () => {
      const plain = runPlainPrinz(CONDUCTANCE_NAMES.map((g) => cell.conductances[g]) as Conductances, 280, 20, 0.025);
      expect(engine.spikes[0].count[i]).toBe(plain.spikes);
      expect(Math.abs(engine.observed[0].mean[i] / plain.meanV - 1)).toBeLessThan(1e-9);
      expect(Math.abs(engine.observed[1].mean[i] / plain.meanCa - 1)).toBeLessThan(1e-9);
    });
  });
});
