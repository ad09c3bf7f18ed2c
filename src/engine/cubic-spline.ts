/**
 * Natural cubic spline through equally spaced samples (the interpolation a recording of a continuous
 * signal needs when a run steps between its samples: straight lines between samples taken every
 * 0.05 ms cut the corners of a spike by up to 2 mV, and teacher forcing fitted through them is biased
 * by several per cent; the spline's error there is about a tenth).
 */

/**
 * Second derivatives (per sample interval², i.e. in units of the values) of the natural cubic spline
 * through `samples` values starting at values[first]: M[0] = M[n−1] = 0 and
 * M[k−1] + 4·M[k] + M[k+1] = 6·(y[k+1] − 2·y[k] + y[k−1]), solved by the Thomas algorithm.
 */
export function splineCurvatures(values: ArrayLike<number>, first: number, samples: number): Float64Array {
  const m = new Float64Array(samples);
  if (samples < 3) return m;
  const inner = samples - 2;
  const c = new Float64Array(inner); // the eliminated super-diagonal
  const d = new Float64Array(inner);
  for (let j = 0; j < inner; j++) {
    const k = j + 1;
    const rhs = 6 * (values[first + k + 1] - 2 * values[first + k] + values[first + k - 1]);
    const pivot = 4 - (j > 0 ? c[j - 1] : 0);
    c[j] = 1 / pivot;
    d[j] = (rhs - (j > 0 ? d[j - 1] : 0)) / pivot;
  }
  m[inner] = d[inner - 1];
  for (let j = inner - 2; j >= 0; j--) m[j + 1] = d[j] - c[j] * m[j + 2];
  return m;
}

/** The spline between samples k and k+1 at fraction u ∈ [0, 1] of the interval. */
export function splineAt(values: ArrayLike<number>, first: number, curvatures: Float64Array, k: number, u: number): number {
  const a = values[first + k], b = values[first + k + 1];
  const v = 1 - u;
  return v * a + u * b + ((v * v * v - v) * curvatures[k] + (u * u * u - u) * curvatures[k + 1]) / 6;
}
