/**
 * Statistics of a population of cells: correlations between their conductances and the slope of one
 * against another, computed over the cells given (e.g. those that did not diverge).
 */

/** Pearson correlation of x and y over the indices in `cells` (NaN with fewer than 2 cells or no spread). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, cells: ArrayLike<number>): number {
  const { cov, vx, vy } = moments(x, y, cells);
  return cov / Math.sqrt(vx * vy);
}

/**
 * Slope of the major axis of the (x, y) cloud over `cells` (total least squares: the direction of
 * largest spread, symmetric in x and y, unlike a regression slope, which shrinks towards 0 when x
 * is noisy). For conductances g_i = a_i + S/τ_i with a common S, the slope of g_y against g_x is τ_x/τ_y.
 */
export function majorAxisSlope(x: ArrayLike<number>, y: ArrayLike<number>, cells: ArrayLike<number>): number {
  const { cov, vx, vy } = moments(x, y, cells);
  const d = vy - vx;
  return (d + Math.sqrt(d * d + 4 * cov * cov)) / (2 * cov);
}

function moments(x: ArrayLike<number>, y: ArrayLike<number>, cells: ArrayLike<number>): { cov: number; vx: number; vy: number } {
  const n = cells.length;
  if (n < 2) return { cov: NaN, vx: NaN, vy: NaN };
  let mx = 0, my = 0;
  for (let k = 0; k < n; k++) {
    mx += x[cells[k]];
    my += y[cells[k]];
  }
  mx /= n;
  my /= n;
  let cov = 0, vx = 0, vy = 0;
  for (let k = 0; k < n; k++) {
    const dx = x[cells[k]] - mx, dy = y[cells[k]] - my;
    cov += dx * dy;
    vx += dx * dx;
    vy += dy * dy;
  }
  return { cov: cov / (n - 1), vx: vx / (n - 1), vy: vy / (n - 1) };
}

/** The correlation matrix of named columns over `cells`, row-major in the order of `names`. */
export function correlationMatrix(columns: Record<string, ArrayLike<number>>, names: readonly string[], cells: ArrayLike<number>): number[][] {
  return names.map((a) => names.map((b) => (a === b ? 1 : pearson(columns[a], columns[b], cells))));
}
