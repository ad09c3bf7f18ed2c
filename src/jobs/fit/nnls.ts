/**
 * Non-negative least squares from normal equations: min ‖Jh − y‖² subject to h ≥ 0, given only
 * M = JᵀJ and c = Jᵀy (the engines accumulate those, never J itself). The active-set solver is
 * ml-fcnnls (Van Benthem & Keenan 2004, after Lawson & Hanson), which works on cross products too;
 * it is handed a square root X of M (XᵀX = M) and Y with XᵀY = c, so it solves the same problem.
 */
import { fcnnlsVector } from 'ml-fcnnls';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * The h ≥ 0 minimising hᵀMh − 2cᵀh (M: D×D row-major, symmetric positive semi-definite). Columns are
 * scaled to a unit diagonal and c to unit norm first, so the solver's gradient tolerance is relative;
 * a coordinate M does not see at all (zero diagonal) stays at 0.
 */
export function nnlsFromNormalEquations(M: ArrayLike<number>, c: ArrayLike<number>, D: number): Float64Array {
  const out = new Float64Array(D);
  const seen = Array.from({ length: D }, (_, i) => i).filter((i) => M[i * D + i] > 0);
  if (!seen.length) return out;
  const scale = seen.map((i) => 1 / Math.sqrt(M[i * D + i]));
  const cs = seen.map((i, a) => c[i] * scale[a]);
  const norm = Math.hypot(...cs) || 1;
  const Ms = new Matrix(seen.map((i, a) => seen.map((j, b) => M[i * D + j] * scale[a] * scale[b])));
  // the symmetric square root X = Q Λ^{1/2} Qᵀ, and Y = Q Λ^{-1/2} Qᵀ c on the directions M sees
  // (the rest of c is orthogonal to M's range for normal equations, so dropping it changes nothing)
  const eig = new EigenvalueDecomposition(Ms, { assumeSymmetric: true });
  const Q = eig.eigenvectorMatrix, values = eig.realEigenvalues;
  const largest = Math.max(...values);
  const k = seen.length;
  const sqrt = values.map((l) => Math.sqrt(Math.max(0, l)));
  const qtc = values.map((_, m) => seen.reduce((s, _i, a) => s + Q.get(a, m) * cs[a], 0) / norm);
  const X = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => values.reduce((s, _l, m) => s + Q.get(a, m) * sqrt[m] * Q.get(b, m), 0)));
  const y = Array.from({ length: k }, (_, a) => values.reduce((s, l, m) => s + (l > largest * 1e-15 ? Q.get(a, m) * qtc[m] / Math.sqrt(l) : 0), 0));
  // the solver throws at its iteration limit; an active set of k variables needs only a few passes each
  const { K } = fcnnlsVector(X, y, { maxIterations: 30 * k + 30, gradientTolerance: 1e-13 });
  K.to1DArray().forEach((h, a) => (out[seen[a]] = Math.max(0, h) * norm * scale[a]));
  return out;
}
