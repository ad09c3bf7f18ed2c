/**
 * How far two runs of the same network sweep agree: the network class, the cells' classes and the
 * periods of networks periodic in both, joined on gridIndex (bench/compare-classes.ts prints it).
 */
const CELL_CLASSES = ['ABPD_class', 'LP_class', 'PY_class'];

/** Agreement of run B with run A (network class, cell classes, periods), and the class changes A → B. */
export function compareClasses(a: Map<string, unknown[]>, b: Map<string, unknown[]>) {
  for (const [run, columns] of [['first', a], ['second', b]] as const) {
    const missing = ['gridIndex', 'class', 'periodMs', ...CELL_CLASSES].filter((c) => !columns.has(c));
    if (missing.length) throw new Error(`the ${run} run has no column ${missing.join(', ')}: compare two runs of a network sweep`);
  }
  const rowOfB = new Map(b.get('gridIndex')!.map((g, i) => [g, i]));
  const flips: Record<string, number> = {};
  let networks = 0, sameClass = 0, cells = 0, sameCells = 0;
  const periodDiffs: number[] = [];
  a.get('gridIndex')!.forEach((g, i) => {
    const j = rowOfB.get(g);
    if (j === undefined) return;
    networks++;
    const [ca, cb] = [a.get('class')![i], b.get('class')![j]];
    if (ca === cb) sameClass++;
    else flips[`${ca} → ${cb}`] = (flips[`${ca} → ${cb}`] ?? 0) + 1;
    for (const c of CELL_CLASSES) {
      cells++;
      if (a.get(c)![i] === b.get(c)![j]) sameCells++;
    }
    const [pa, pb] = [a.get('periodMs')![i] as number | null, b.get('periodMs')![j] as number | null];
    if (ca !== 'non-periodic' && cb !== 'non-periodic' && Number.isFinite(pa) && Number.isFinite(pb)) periodDiffs.push(Math.abs(pb! / pa! - 1));
  });
  periodDiffs.sort((x, y) => x - y);
  return {
    networks, sameClass, cells, sameCells, flips,
    periodic: periodDiffs.length,
    periodRelativeDiff: periodDiffs.length ? { median: periodDiffs[periodDiffs.length >> 1], max: periodDiffs[periodDiffs.length - 1] } : null,
  };
}
