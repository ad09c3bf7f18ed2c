/**
 * bench/class-agreement.ts (printed by bench/compare-classes.ts), which bench/h200.sh uses to hold NVIDIA's exp to lavapipe's: rows are
 * joined on gridIndex (two runs need not list them in the same order), and every difference counts.
 */
import { describe, expect, it } from 'vitest';
import { compareClasses } from '../bench/class-agreement.ts';

const run = (rows: [number, string, string, number | null][]) => new Map<string, unknown[]>([
  ['gridIndex', rows.map((r) => r[0])],
  ['class', rows.map((r) => r[1])],
  ['ABPD_class', rows.map((r) => r[2])],
  ['LP_class', rows.map(() => 'bursting')],
  ['PY_class', rows.map(() => 'bursting')],
  ['periodMs', rows.map((r) => r[3])],
]);

describe('compareClasses', () => {
  it('joins on gridIndex and counts class changes, cell-class changes and period differences', () => {
    const a = run([[7, 'pyloric', 'bursting', 1000], [3, 'non-periodic', 'silent', null], [5, 'periodic', 'bursting', 2000], [9, 'pyloric-like', 'bursting', 1500]]);
    // the same networks in another order; 3 changes class, 5's period moves by 1e-3; 11 is not in a
    const b = run([[5, 'periodic', 'bursting', 2002], [11, 'pyloric', 'bursting', 1000], [3, 'periodic', 'bursting', 900], [9, 'pyloric-like', 'bursting', 1500], [7, 'pyloric', 'bursting', 1000]]);
    const r = compareClasses(a, b);
    expect(r).toMatchObject({ networks: 4, sameClass: 3, cells: 12, sameCells: 11, flips: { 'non-periodic → periodic': 1 }, periodic: 3 });
    expect(r.periodRelativeDiff!.max).toBeCloseTo(1e-3, 12);
    expect(r.periodRelativeDiff!.median).toBe(0);
  });

  it('refuses a table that is not a network sweep\'s, naming the columns it lacks', () => {
    const cellSweep = new Map<string, unknown[]>([['gridIndex', [0]], ['class', ['bursting']]]);
    expect(() => compareClasses(run([[0, 'pyloric', 'bursting', 1000]]), cellSweep)).toThrow(/^the second run has no column periodMs, ABPD_class, LP_class, PY_class/);
  });
});
