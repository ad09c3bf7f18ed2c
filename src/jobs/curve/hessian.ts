/**
 * The Hessian of a cost from its gradients (central differences of exact gradients, one ensemble
 * run of 2D points) and the eigen-decomposition of a small symmetric matrix (cyclic Jacobi), used to
 * start a minimally disruptive curve along the direction the cost constrains least.
 */

/** Points θ0 ± h·e_d for d = 0..D−1, as coordinate columns [d][2D]: point 2d is +, 2d+1 is −. */
export function hessianStencil(theta0: ArrayLike<number>, h: number): Float64Array[] {
  const D = theta0.length;
  return Array.from({ length: D }, (_, e) => Float64Array.from({ length: 2 * D }, (_, k) => theta0[e] + (e === Math.floor(k / 2) ? (k % 2 === 0 ? h : -h) : 0)));
}

/** Symmetrised Hessian from the gradients at the stencil points: gradient[j][k] = d cost/d θ_j at point k. */
export function hessianFromGradients(gradient: readonly ArrayLike<number>[], h: number): Float64Array[] {
  const D = gradient.length;
  const H = Array.from({ length: D }, () => new Float64Array(D));
  for (let d = 0; d < D; d++) for (let j = 0; j < D; j++) H[d][j] = (gradient[j][2 * d] - gradient[j][2 * d + 1]) / (2 * h);
  for (let a = 0; a < D; a++) {
    for (let b = a + 1; b < D; b++) H[a][b] = H[b][a] = (H[a][b] + H[b][a]) / 2;
  }
  return H;
}

/** Eigenvalues (ascending) and unit eigenvectors (vectors[k] belongs to values[k]) of a symmetric matrix. */
export function symmetricEigen(matrix: readonly ArrayLike<number>[]): { values: number[]; vectors: Float64Array[] } {
  const n = matrix.length;
  const a = matrix.map((row) => Float64Array.from(row));
  const v = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    let scale = 0;
    for (let p = 0; p < n; p++) scale += a[p][p] * a[p][p];
    if (off <= 1e-30 * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        // rotation that zeroes a[p][q] (Golub & Van Loan, symmetric Schur decomposition)
        const tau = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i][i] - a[j][j]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => Float64Array.from({ length: n }, (_, k) => v[k][i])) };
}
